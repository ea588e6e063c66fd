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
#include "probe/reply.h"
#include "probe/wire.h"
#include "trace_fixture.h"

#define NTRACES 600

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
        tfx_dest_name(buf, sizeof buf, i);
        /* Shared source ports: the keys still differ. */
        tfx_trace(&fx.traces[i], buf, i % 2 ? 443 : 80, (uint16_t)(40000 + i % 7),
                  (uint32_t)(i * 2654435761u));
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
    r.from = tfx_addr("198.18.1.2");
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
    r.probe_src = tfx_addr("198.18.0.3");  /* quotes someone else's probe */
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.probe_dst = tfx_addr("198.19.200.1");
    assert_false(rg_match_reply(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.seq = rg_probe_seq(fx.traces[11].seq_base, 4, 0); /* another trace's seq */
    assert_false(rg_match_reply(&fx.m, &r, &m) && m.trace != 10);
}

/* A NAT that does not restore quotes: the router past it quotes our probe
 * with its source rewritten. Never a hop's answer (a forger on the path
 * can do the same), but found for the middlebox report. */
static void test_quote_with_rewritten_source(void **state)
{
    (void)state;
    rg_match m;
    const rg_trace *t = &fx.traces[10];
    rg_reply r = reply_for(t, 4, 0);
    assert_false(rg_match_rewritten_source(&fx.m, &r, &m)); /* our own source */
    r.probe_src = tfx_addr("198.18.13.1");
    assert_false(rg_match_reply(&fx.m, &r, &m));
    assert_true(rg_match_rewritten_source(&fx.m, &r, &m));
    assert_int_equal(m.trace, 10);
    assert_int_equal(m.ttl, 4);
    r.seq += 0x10000; /* not our secret */
    assert_false(rg_match_rewritten_source(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.probe_src = tfx_addr("2001:db8::3");
    assert_false(rg_match_rewritten_source(&fx.m, &r, &m));
    r = reply_for(t, 4, 0);
    r.kind = RG_REPLY_SYNACK; /* a TCP answer to someone else is not ours */
    r.probe_src = tfx_addr("198.18.13.1");
    assert_false(rg_match_rewritten_source(&fx.m, &r, &m));
}

static void test_duplicate_signature_refused(void **state)
{
    (void)state;
    rg_trace two[2];
    rg_addr dst = tfx_addr("198.19.0.1");
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

/* UDP and ICMP traces: real probe bytes, quoted by a router or answered,
 * parsed and matched; what a forger cannot know is refused. */
static size_t error_quoting(uint8_t *pkt, const uint8_t *probe, size_t quote)
{
    uint8_t *m = pkt + 20;
    memset(pkt, 0, 28);
    pkt[0] = 0x45;
    rg_put_be16(pkt + 2, (uint16_t)(28 + quote));
    pkt[8] = 60;
    pkt[9] = 1;
    rg_addr from = tfx_addr("198.18.1.2"), to = tfx_addr("198.18.0.2");
    memcpy(pkt + 12, from.bytes, 4);
    memcpy(pkt + 16, to.bytes, 4);
    rg_put_be16(pkt + 10, rg_inet_checksum(pkt, 20));
    m[0] = 11;
    memcpy(m + 8, probe, quote);
    rg_put_be16(m + 2, rg_inet_checksum(m, 8 + quote));
    return 28 + quote;
}

static void test_udp_and_icmp_identity_round_trip(void **state)
{
    (void)state;
    rg_trace tr[2];
    rg_addr dst = tfx_addr("198.19.9.9");
    for (int i = 0; i < 2; i++) {
        assert_true(rg_trace_init(&tr[i], "m", &dst, i ? 0 : 33434, 1, 30, 6));
        tr[i].src = tfx_addr("198.18.0.2");
        tr[i].sport = 40000;
        tr[i].method = i ? RG_METHOD_ICMP : RG_METHOD_UDP;
        tr[i].seq_base = 0x5eed0000u + (uint32_t)i * 77777u;
        for (unsigned ttl = 0; ttl <= 30; ttl++)
            rg_trace_set_sent(&tr[i], ttl, 6);
    }
    rg_match_table m;
    assert_true(rg_match_init(&m, tr, 2));
    for (int i = 0; i < 2; i++)
        for (unsigned ttl = 0; ttl <= 30; ttl++)
            for (unsigned att = 0; att < 6; att++) {
                rg_probe_spec s = {.src = tr[i].src, .dst = dst, .method = tr[i].method,
                                   .flow = 40000, .dport = tr[i].dport, .ttl = 9,
                                   .seq = rg_probe_seq(tr[i].seq_base, ttl, att),
                                   .ident = rg_probe_ident(tr[i].seq_base, ttl, att)};
                uint8_t probe[RG_PROBE_MAXLEN], pkt[128];
                size_t pl = rg_probe_build(&s, probe, sizeof probe);
                for (size_t quote = 28; quote <= pl; quote += pl - 28) {
                    rg_reply r;
                    rg_match got;
                    size_t n = error_quoting(pkt, probe, quote);
                    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
                    assert_true(rg_match_reply(&m, &r, &got));
                    assert_int_equal(got.trace, i);
                    assert_int_equal(got.ttl, ttl);
                    assert_int_equal(got.attempt, att);
                    /* The other method's trace never takes it. */
                    r.probe_proto = i ? 17 : 1;
                    assert_false(rg_match_reply(&m, &r, &got));
                }
            }
    /* A quote whose payload seq disagrees with its ident: forged. */
    rg_reply r;
    memset(&r, 0, sizeof r);
    r.probe_proto = 17;
    r.probe_src = tr[0].src;
    r.probe_dst = dst;
    r.sport = 40000;
    r.dport = 33434;
    r.has_ident = true;
    r.ident = rg_probe_ident(tr[0].seq_base, 3, 0);
    rg_match got;
    assert_true(rg_match_reply(&m, &r, &got));
    r.has_seq = true;
    r.seq = rg_probe_seq(tr[0].seq_base, 3, 0) ^ 0x100000;
    assert_false(rg_match_reply(&m, &r, &got));
    /* A UDP answer names its probe only through the seq it returns. */
    r.has_ident = false;
    r.seq = rg_probe_seq(tr[0].seq_base, 3, 0);
    assert_true(rg_match_reply(&m, &r, &got));
    assert_int_equal(got.ttl, 3);
    r.has_seq = false;
    assert_false(rg_match_reply(&m, &r, &got));
    rg_match_free(&m);
    rg_trace_free(&tr[0]);
    rg_trace_free(&tr[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_probe_matches_itself),
        cmocka_unit_test(test_unsent_and_foreign_replies_rejected),
        cmocka_unit_test(test_quote_with_rewritten_source),
        cmocka_unit_test(test_duplicate_signature_refused),
        cmocka_unit_test(test_udp_and_icmp_identity_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
