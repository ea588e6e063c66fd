/* Matching: a reply reaches exactly its probe, and nothing else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/match.h"
#include "model/result.h"
#include "probe/probe.h"

#define NTRACES 600

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

typedef struct fixture {
    rg_trace traces[NTRACES];
    rg_match_table m;
} fixture;

static fixture fx;

/* 300 destinations x 2 ports, every TTL 1..10 sent once, TTL 3 twice. */
static int setup(void **state)
{
    char buf[64];
    for (size_t i = 0; i < NTRACES; i++) {
        rg_trace *t = &fx.traces[i];
        snprintf(buf, sizeof buf, "198.19.%zu.%zu", i / 2 / 250, i / 2 % 250 + 1);
        rg_addr dst = addr(buf);
        assert_true(rg_trace_init(t, buf, &dst, i % 2 ? 443 : 80, 1, 30, 2));
        t->src = addr("198.18.0.2");
        t->sport = (uint16_t)(40000 + i % 7); /* shared ports: keys still differ */
        t->seq_base = (uint32_t)(i * 2654435761u);
        for (unsigned ttl = 1; ttl <= 10; ttl++)
            rg_trace_set_sent(t, ttl, ttl == 3 ? 2 : 1);
    }
    assert_true(rg_match_init(&fx.m, fx.traces, NTRACES));
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rg_match_free(&fx.m);
    for (size_t i = 0; i < NTRACES; i++)
        rg_trace_free(&fx.traces[i]);
    return 0;
}

static rg_reply reply_for(const rg_trace *t, unsigned ttl, unsigned attempt)
{
    rg_reply r;
    memset(&r, 0, sizeof r);
    r.kind = RG_REPLY_TIME_EXCEEDED;
    r.from = addr("198.18.1.2");
    r.probe_src = t->src;
    r.probe_dst = t->dst;
    r.sport = t->sport;
    r.dport = t->dport;
    r.seq = rg_probe_seq(t->seq_base, ttl, attempt);
    r.has_seq = true;
    r.probe_proto = 6;
    return r;
}

static void test_every_probe_matches_itself(void **state)
{
    (void)state;
    for (size_t i = 0; i < NTRACES; i++)
        for (unsigned ttl = 1; ttl <= 10; ttl++) {
            rg_reply r = reply_for(&fx.traces[i], ttl, 0);
            rg_match m;
            assert_true(rg_match_reply(&fx.m, &r, &m));
            assert_int_equal(m.trace, i);
            assert_int_equal(m.ttl, ttl);
            assert_int_equal(m.attempt, 0);
        }
    rg_reply r = reply_for(&fx.traces[5], 3, 1);
    rg_match m;
    assert_true(rg_match_reply(&fx.m, &r, &m));
    assert_int_equal(m.attempt, 1);
}

static void test_unsent_and_foreign_replies_rejected(void **state)
{
    (void)state;
    rg_match m;
    const rg_trace *t = &fx.traces[10];
    rg_reply r = reply_for(t, 11, 0);  /* TTL never sent */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 1);            /* retry never sent */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.seq += 0x10000;                  /* guessed sequence number */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.sport++;                         /* wrong source port */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.probe_src = addr("198.18.0.3");  /* quotes someone else's probe */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.probe_dst = addr("198.19.200.1");
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.seq = rg_probe_seq(fx.traces[11].seq_base, 4, 0); /* another trace's seq */
    assert_false(rg_match_reply(&fx.m, &r, &m) && m.trace != 10);
}

static void test_duplicate_signature_refused(void **state)
{
    (void)state;
    rg_trace two[2];
    rg_addr dst = addr("198.19.0.1");
    assert_true(rg_trace_init(&two[0], "a", &dst, 80, 1, 5, 1));
    assert_true(rg_trace_init(&two[1], "b", &dst, 80, 1, 5, 1));
    two[0].sport = two[1].sport = 40000;
    rg_match_table m;
    assert_false(rg_match_init(&m, two, 2));
    two[1].sport = 40001;
    assert_true(rg_match_init(&m, two, 2));
    rg_match_free(&m);
    rg_trace_free(&two[0]);
    rg_trace_free(&two[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_probe_matches_itself),
        cmocka_unit_test(test_unsent_and_foreign_replies_rejected),
        cmocka_unit_test(test_duplicate_signature_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
