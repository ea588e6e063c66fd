/* The multipath record's views (branches, flows, edges) and its JSON, on a
 * hand-built diamond: TTL 1 one router, TTL 2 two branches, TTL 3 where
 * they meet, TTL 4 the destination. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/mpath.h"
#include "output/mpath_json.h"
#include "probe/reply.h"

static rg_addr A(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static void add(rg_mpath *m, uint16_t flow, unsigned ttl, const char *from)
{
    /* the destination's address answers as a destination (a SYN-ACK) */
    rg_mp_obs o = {.from = A(from), .flow = flow, .ttl = (uint8_t)ttl,
                   .kind = strcmp(from, "198.18.9.9") ? RG_REPLY_TIME_EXCEEDED
                                                      : RG_REPLY_SYNACK};
    assert_true(rg_mpath_add(m, &o));
}

/* Flows 1000-1003; 1000/1002 take .2.1, 1001/1003 take .3.1; 1002 and
 * 1003 were not probed at TTL 1 (one router there: they passed it). */
static void diamond(rg_mpath *m)
{
    rg_addr dst = A("198.18.9.9");
    rg_mpath_init(m, &dst, 80, 95);
    m->first_ttl = 1;
    m->last_ttl = 4;
    add(m, 1000, 1, "198.18.1.1");
    add(m, 1001, 1, "198.18.1.1");
    add(m, 1000, 2, "198.18.2.1");
    add(m, 1001, 2, "198.18.3.1");
    add(m, 1002, 2, "198.18.2.1");
    add(m, 1003, 2, "198.18.3.1");
    add(m, 1000, 3, "198.18.4.1");
    add(m, 1001, 3, "198.18.4.2");
    add(m, 1000, 4, "198.18.9.9");
    m->hop_state[1] = m->hop_state[2] = m->hop_state[3] = RG_MP_HOP_RULE;
    m->hop_state[4] = RG_MP_HOP_LIMIT;
}

static void test_branches_and_flows(void **state)
{
    (void)state;
    rg_mpath m;
    diamond(&m);
    rg_addr b[4];
    assert_int_equal(rg_mpath_branches(&m, 2, b, 4), 2);
    assert_true(rg_addr_equal(&b[0], &(rg_addr){0}) == false);
    rg_addr x = A("198.18.2.1"), y = A("198.18.3.1");
    assert_true(rg_addr_equal(&b[0], &x) && rg_addr_equal(&b[1], &y));
    assert_int_equal(rg_mpath_branches(&m, 2, b, 1), 2); /* counted past max */
    uint16_t f[4];
    assert_int_equal(rg_mpath_flows(&m, 2, &y, f, 4), 2);
    assert_int_equal(f[0], 1001);
    assert_int_equal(f[1], 1003);
    assert_int_equal(rg_mpath_flows(&m, 2, &y, NULL, 0), 2);
    assert_true(rg_mpath_reached(&m, 4));
    assert_false(rg_mpath_reached(&m, 3));
    rg_mpath_free(&m);
}

/* Which answers are the destination's: by their kind, a port unreachable
 * from any address (the host's link address), the others only from the
 * destination's own; a time exceeded never. */
static void test_destination_answers(void **state)
{
    (void)state;
    rg_mpath m;
    rg_addr dst = A("198.18.9.9"), link = A("198.18.9.1");
    rg_mpath_init(&m, &dst, 33434, 95);
    rg_mp_obs o = {.from = link, .flow = 7, .ttl = 5, .kind = RG_REPLY_PORT_UNREACH};
    assert_true(rg_mp_obs_final(&m, &o));
    o.kind = RG_REPLY_ECHO;
    assert_false(rg_mp_obs_final(&m, &o));
    o.kind = RG_REPLY_TIME_EXCEEDED;
    o.from = dst;
    assert_false(rg_mp_obs_final(&m, &o));
    const uint8_t finals[] = {RG_REPLY_SYNACK, RG_REPLY_RST, RG_REPLY_UDP, RG_REPLY_ECHO};
    for (size_t i = 0; i < sizeof finals; i++) {
        o.kind = finals[i];
        assert_true(rg_mp_obs_final(&m, &o));
    }
    o = (rg_mp_obs){.from = link, .flow = 7, .ttl = 5, .kind = RG_REPLY_PORT_UNREACH};
    assert_true(rg_mpath_add(&m, &o));
    o = (rg_mp_obs){.from = A("198.18.8.1"), .flow = 7, .ttl = 4,
                    .kind = RG_REPLY_TIME_EXCEEDED};
    assert_true(rg_mpath_add(&m, &o));
    assert_true(rg_mpath_is_destination(&m, 5, &link));
    assert_false(rg_mpath_is_destination(&m, 4, &o.from));
    assert_false(rg_mpath_is_destination(&m, 5, &dst));
    assert_true(rg_mpath_reached(&m, 5));
    assert_false(rg_mpath_reached(&m, 4));
    rg_mpath_free(&m);
}

static void test_edges(void **state)
{
    (void)state;
    rg_mpath m;
    diamond(&m);
    rg_addr p[4];
    /* TTL 2: from the single router at TTL 1, also for flows not probed there */
    rg_addr y = A("198.18.3.1"), r1 = A("198.18.1.1");
    assert_int_equal(rg_mpath_preds(&m, 2, &y, p, 4), 1);
    assert_true(rg_addr_equal(&p[0], &r1));
    /* TTL 3: .4.2 was reached by flow 1001 only, through .3.1 */
    rg_addr z = A("198.18.4.2");
    assert_int_equal(rg_mpath_preds(&m, 3, &z, p, 4), 1);
    assert_true(rg_addr_equal(&p[0], &y));
    /* TTL 1 has no branch before it */
    assert_int_equal(rg_mpath_preds(&m, 1, &r1, p, 4), 0);
    rg_mpath_free(&m);
}

static void test_json(void **state)
{
    (void)state;
    rg_mpath m;
    diamond(&m);
    m.probes = 9;
    json_t *j = rg_json_mpath(&m);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(s);
    const char *hop2 =
        "{\"branches\":[{\"address\":\"198.18.2.1\",\"destination\":false,\"flows\":[1000,1002],"
        "\"from\":[\"198.18.1.1\"]},{\"address\":\"198.18.3.1\",\"destination\":false,"
        "\"flows\":[1001,1003],\"from\":[\"198.18.1.1\"]}],\"stopping_rule\":\"met\",\"ttl\":2}";
    assert_non_null(strstr(s, hop2));
    assert_non_null(strstr(s, "\"confidence\":95,\"flow_field\":\"tcp-source-port\""));
    assert_non_null(strstr(s, "\"port\":80,\"probes\":9}"));
    assert_non_null(strstr(s, "{\"address\":\"198.18.9.9\",\"destination\":true,\"flows\":[1000],"
                              "\"from\":[\"198.18.4.1\"]}],\"stopping_rule\":\"probe-budget\",\"ttl\":4}"));
    free(s);
    json_decref(j);
    rg_mpath_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branches_and_flows),
        cmocka_unit_test(test_destination_answers),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
