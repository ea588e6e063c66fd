/* diff: one verdict per service against a known state, ECMP understood;
 * each change reported once. Hand-made traces over a small topology:
 * prober - 198.18.0.1 - 198.18.1.2 - {A: 198.18.16.2 | B: 198.18.17.2}
 *        - 198.18.32.2 - destination 198.19.0.5 at TTL 5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/result.h"
#include "watch/changes.h"
#include "watch/diff.h"

#define DST "198.19.0.5"

static rg_trace *add(rg_run *run, uint16_t port)
{
    rg_addr a;
    assert_true(rg_addr_parse(DST, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces++];
    assert_true(rg_trace_init(t, DST, &a, port, 1, 8, 1));
    return t;
}

static void hop(rg_trace *t, unsigned ttl, const char *from, enum rg_reply_kind kind)
{
    rg_probe *p = rg_trace_probe(t, ttl, 0);
    p->sent.tv_sec = 1795618200;
    rg_trace_set_sent(t, ttl, 1);
    if (!from)
        return;
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->icmp_type = kind == RG_REPLY_TIME_EXCEEDED ? 11 : 0;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : kind == RG_REPLY_RST ? 0x14 : 0;
    p->rtt_us = 100;
    p->reply_ttl = 60;
    p->received = p->sent;
}

/* hops[0..3] answer TTLs 1-4 (NULL: silent); dst answers at 5 with kind
 * (RG_REPLY_NONE: silent). */
static void path(rg_run *run, uint16_t port, const char *h3, const char *h4,
                 enum rg_reply_kind dst)
{
    rg_trace *t = add(run, port);
    hop(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED);
    hop(t, 2, "198.18.1.2", RG_REPLY_TIME_EXCEEDED);
    hop(t, 3, h3, RG_REPLY_TIME_EXCEEDED);
    hop(t, 4, h4, RG_REPLY_TIME_EXCEEDED);
    hop(t, 5, dst == RG_REPLY_NONE ? NULL : DST, dst);
    rg_trace_conclude(t);
}

#define A "198.18.16.2"
#define B "198.18.17.2"
#define C "198.18.18.2"
#define R5 "198.18.32.2"

/* The baseline: port 80 took branch A, port 443 (another flow) branch B. */
static void baseline(rg_run *run)
{
    path(run, 80, A, R5, RG_REPLY_SYNACK);
    path(run, 443, B, R5, RG_REPLY_SYNACK);
}

static enum rg_change one(const rg_run *base, rg_run *now, rg_change_event *ev)
{
    rg_service s;
    rg_service_init(&s, base, &now->traces[0]);
    assert_true(s.have_ref);
    rg_path p;
    rg_path_of(now, &now->traces[0], &p);
    return rg_service_update(&s, now, &p, ev);
}

static void test_known_branch_is_no_change(void **state)
{
    (void)state;
    rg_run base = {0}, now = {0};
    rg_change_event ev;
    baseline(&base);
    path(&now, 80, B, R5, RG_REPLY_SYNACK); /* the other port's branch */
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_NONE);
    rg_run_free(&now);
    path(&now, 80, NULL, R5, RG_REPLY_SYNACK); /* a silent hop matches anything */
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_NONE);
    rg_run_free(&now);
    rg_run_free(&base);
}

static void test_new_branch_and_hops(void **state)
{
    (void)state;
    rg_run base = {0}, now = {0};
    rg_change_event ev;
    baseline(&base);
    /* Leaves at TTL 3, joins again at 4: a branch never seen. */
    path(&now, 80, C, R5, RG_REPLY_SYNACK);
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_NEW_BRANCH);
    assert_int_equal(ev.part_ttl, 3);
    char buf[RG_ADDR_STRLEN];
    assert_string_equal(rg_addr_format(&ev.after, buf, sizeof buf), "198.18.1.2");
    assert_string_equal(rg_addr_format(&ev.old_hop, buf, sizeof buf), A);
    assert_string_equal(rg_addr_format(&ev.new_hop, buf, sizeof buf), C);
    rg_run_free(&now);
    /* Does not join again before the destination: the route changed. */
    path(&now, 80, C, "198.18.33.1", RG_REPLY_SYNACK);
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_HOPS);
    assert_int_equal(ev.part_ttl, 3);
    rg_run_free(&now);
    rg_run_free(&base);
}

static void set_as(rg_run *run, const char *addr, uint32_t asn)
{
    rg_addr a;
    assert_true(rg_addr_parse(addr, &a));
    rg_host *h = rg_run_host(run, &a);
    assert_non_null(h);
    h->asn = asn;
}

static void test_as_path_change(void **state)
{
    (void)state;
    rg_run base = {0}, now = {0};
    rg_change_event ev;
    baseline(&base);
    assert_true(rg_run_collect_hosts(&base));
    set_as(&base, "198.18.1.2", 64500);
    set_as(&base, A, 64501);
    set_as(&base, B, 64501);
    set_as(&base, R5, 64502);
    path(&now, 80, C, "198.18.33.1", RG_REPLY_SYNACK);
    assert_true(rg_run_collect_hosts(&now));
    set_as(&now, "198.18.1.2", 64500);
    set_as(&now, C, 64503);
    set_as(&now, "198.18.33.1", 64502);
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_AS_PATH);
    assert_int_equal(ev.part_ttl, 3);
    assert_int_equal(ev.after_as, 64500);
    rg_run_free(&now);
    rg_run_free(&base);
}

static void test_port_and_reachability(void **state)
{
    (void)state;
    rg_run base = {0}, now = {0};
    rg_change_event ev;
    baseline(&base);
    path(&now, 80, A, R5, RG_REPLY_RST);
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_PORT);
    assert_int_equal(ev.old_state, RG_PORT_OPEN);
    assert_int_equal(ev.new_state, RG_PORT_CLOSED);
    rg_run_free(&now);
    path(&now, 80, A, R5, RG_REPLY_NONE);
    assert_int_equal(one(&base, &now, &ev), RG_CHANGE_LOST);
    rg_run_free(&now);
    rg_run_free(&base);
}

/* Round after round: a change is reported once, then is the known state;
 * going back to the baseline's path is a known branch, its port state
 * change is reported again. */
static void test_reported_once(void **state)
{
    (void)state;
    rg_run base = {0}, r1 = {0}, r2 = {0};
    baseline(&base);
    path(&r1, 80, A, R5, RG_REPLY_RST);
    path(&r1, 443, B, R5, RG_REPLY_SYNACK);
    path(&r2, 80, A, R5, RG_REPLY_SYNACK);
    path(&r2, 443, B, R5, RG_REPLY_SYNACK);
    rg_changes c;
    assert_true(rg_changes_init(&c, &base, &r1));
    json_t *ev = json_array();
    assert_int_equal(rg_changes_compare(&c, &r1, NULL, ev, false, 1), 1);
    assert_int_equal(rg_changes_compare(&c, &r1, NULL, ev, false, 2), 0);
    assert_int_equal(rg_changes_compare(&c, &r1, NULL, ev, false, 3), 0);
    assert_int_equal(rg_changes_compare(&c, &r2, NULL, ev, false, 4), 1);
    assert_int_equal(json_array_size(ev), 2);
    json_t *e = json_array_get(ev, 0);
    assert_string_equal(json_string_value(json_object_get(e, "change")), "port-state");
    assert_int_equal(json_integer_value(json_object_get(e, "round")), 1);
    assert_int_equal(json_integer_value(json_object_get(e, "port")), 80);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "old"), "state")),
                        "open");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "new"), "state")),
                        "closed");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 1), "round")), 4);
    json_decref(ev);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    rg_changes_free(&c);
    assert_true(rg_changes_init(&c, &base, &r1));
    rg_changes_compare(&c, &r1, f, NULL, true, 0);
    fclose(f);
    assert_string_equal(buf, "198.19.0.5:tcp80  port state changed: port open -> closed\n"
                             "198.19.0.5:tcp443  unchanged\n");
    free(buf);
    rg_changes_free(&c);
    rg_run_free(&r1);
    rg_run_free(&r2);
    rg_run_free(&base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_branch_is_no_change),
        cmocka_unit_test(test_new_branch_and_hops),
        cmocka_unit_test(test_as_path_change),
        cmocka_unit_test(test_port_and_reachability),
        cmocka_unit_test(test_reported_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
