/* Rematching: an ICMP error whose quote a middlebox rewrote reaches the one
 * probe the untouched fields and the secret name, or no probe at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/match.h"
#include "engine/rematch.h"
#include "model/result.h"
#include "probe/probe.h"
#include "probe/reply.h"
#include "probe/wire.h"
#include "trace_fixture.h"

#define NTRACES 400

typedef struct fixture {
    rg_trace traces[NTRACES];
    rg_match_table m;
    rg_rematch rm;
} fixture;

static fixture fx;

/* 200 destinations x ports 80 and 8080, sharing source ports between
 * traces (so every partial key has several traces), TTL 1..10 sent once,
 * TTL 3 twice; the last two traces are IPv6 and UDP. */
static int setup(void **state)
{
    char buf[64];
    for (size_t i = 0; i < NTRACES; i++) {
        tfx_dest_name(buf, sizeof buf, i);
        if (i == NTRACES - 2)
            snprintf(buf, sizeof buf, "2001:db8:1d0::5");
        /* Both ports of a destination share its source port. */
        tfx_trace(&fx.traces[i], buf, i % 2 ? 8080 : 80, (uint16_t)(40000 + i / 2 % 5),
                  (uint32_t)(i * 2654435761u + 12345));
        if (i == NTRACES - 1)
            fx.traces[i].method = RG_METHOD_UDP;
    }
    assert_true(rg_match_init(&fx.m, fx.traces, NTRACES));
    rg_rematch_init(&fx.rm, fx.traces, NTRACES);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rg_match_free(&fx.m);
    rg_rematch_free(&fx.rm);
    for (size_t i = 0; i < NTRACES; i++)
        rg_trace_free(&fx.traces[i]);
    return 0;
}

/* A time exceeded for (ttl, attempt) of t quoting the whole probe as
 * sent; q (RG_PROBE_MAXLEN bytes) holds the quote. */
static rg_reply reply_for(const rg_trace *t, unsigned ttl, unsigned attempt, uint8_t *q)
{
    rg_probe_spec s = rg_trace_probe_spec(t, ttl, attempt);
    s.ttl = 1;
    rg_reply r;
    memset(&r, 0, sizeof r);
    r.kind = RG_REPLY_TIME_EXCEEDED;
    r.from = tfx_addr(t->dst.family == 4 ? "198.18.13.2" : "2001:db8:1c1::2");
    r.probe_src = t->src;
    r.probe_dst = t->dst;
    r.sport = t->sport;
    r.dport = t->dport;
    r.seq = s.seq;
    r.has_seq = true;
    r.probe_proto = rg_method_proto(t->method, t->dst.family);
    r.quote = q;
    r.quote_len = rg_probe_build(&s, q, RG_PROBE_MAXLEN);
    assert_true(r.quote_len > 0);
    return r;
}

static bool find(const rg_reply *r, rg_rematch_result *x)
{
    rg_match m;
    /* Only what match.h refused comes here. */
    assert_false(rg_match_reply(&fx.m, r, &m));
    return rg_rematch_find(&fx.rm, r, x);
}

static void port_rewritten_names_its_probe(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    for (size_t i = 0; i < NTRACES - 2; i++) {
        const rg_trace *t = &fx.traces[i];
        rg_reply r = reply_for(t, 3, 1, q);
        r.dport = t->dport == 80 ? 8080 : 80; /* the other trace's port, even */
        assert_true(find(&r, &x));
        assert_int_equal(x.kind, RG_REMATCH_PORTS);
        assert_int_equal(x.trace, i);
        assert_int_equal(x.ttl, 3);
        assert_int_equal(x.attempt, 1);
        r = reply_for(t, 7, 0, q);
        r.sport ^= 0x4000;
        assert_true(find(&r, &x));
        assert_int_equal(x.kind, RG_REMATCH_PORTS);
        assert_int_equal(x.trace, i);
        assert_int_equal(x.ttl, 7);
        r.dport = 1;                        /* both ports (a NAPT): the destination keys it */
        assert_true(find(&r, &x));
        assert_int_equal(x.kind, RG_REMATCH_PORTS);
        assert_int_equal(x.trace, i);
    }
}

static void port_rewritten_without_proof_refused(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    const rg_trace *t = &fx.traces[20];
    rg_reply r = reply_for(t, 4, 0, q);
    r.dport = 8443;
    r.seq += 0x10000;                       /* a guessed sequence number */
    assert_false(find(&r, &x));
    r = reply_for(t, 4, 1, q);              /* a retry never sent */
    r.dport = 8443;
    assert_false(find(&r, &x));
    r = reply_for(t, 11, 0, q);             /* a TTL never sent */
    r.sport = 1;
    assert_false(find(&r, &x));
    r = reply_for(t, 4, 0, q);
    r.dport = 8443;
    r.probe_src = tfx_addr("198.18.0.3");   /* someone else's probe */
    assert_false(find(&r, &x));
    r = reply_for(t, 4, 0, q);
    r.dport = 8443;
    r.sport = 1;                            /* both ports, and no secret */
    r.seq ^= 0x5a5a5000u;
    assert_false(find(&r, &x));
    r = reply_for(t, 4, 0, q);
    r.dport = 8443;
    r.seq = rg_probe_seq(fx.traces[22].seq_base, 4, 0); /* another trace's secret */
    assert_false(find(&r, &x));
    r = reply_for(t, 4, 0, q);
    r.dport = 8443;
    r.kind = RG_REPLY_RST;                  /* not an ICMP error */
    r.quote = NULL;
    assert_false(find(&r, &x));
    r = reply_for(&fx.traces[NTRACES - 1], 4, 0, q); /* UDP: never rematched */
    r.dport = 8443;
    assert_false(rg_rematch_find(&fx.rm, &r, &x));
}

static void two_fitting_probes_name_neither(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    /* Traces 30 and 31 share destination and source port; with one
     * secret, a quote with the port rewritten fits both. */
    uint32_t keep = fx.traces[31].seq_base;
    fx.traces[31].seq_base = fx.traces[30].seq_base;
    rg_reply r = reply_for(&fx.traces[30], 5, 0, q);
    r.dport = 9999;
    assert_false(rg_rematch_find(&fx.rm, &r, &x));
    fx.traces[31].seq_base = keep;
    assert_true(rg_rematch_find(&fx.rm, &r, &x));
    assert_int_equal(x.trace, 30);
}

static void destination_rewritten_is_evidence(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    const rg_trace *t = &fx.traces[41];
    rg_reply r = reply_for(t, 6, 0, q);
    r.probe_dst = tfx_addr("198.18.14.2");
    assert_true(find(&r, &x));
    assert_int_equal(x.kind, RG_REMATCH_DST);
    assert_int_equal(x.trace, 41);
    assert_int_equal(x.ttl, 6);
    r.dport = 8080;                         /* port forwarding: its port too */
    assert_true(find(&r, &x));
    assert_int_equal(x.kind, RG_REMATCH_DST);
    assert_int_equal(x.trace, 41);
    r.probe_dst = tfx_addr("2001:db8:1c2::2");  /* another family: not ours */
    assert_false(find(&r, &x));
    r = reply_for(t, 6, 0, q);
    r.probe_dst = tfx_addr("198.18.14.2");
    r.seq ^= 0x5a5a5000;                    /* and no secret */
    assert_false(find(&r, &x));
}

static void sequence_shift_named_by_the_ip_id(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    const rg_trace *t = &fx.traces[57];
    rg_reply r = reply_for(t, 3, 1, q);
    r.seq ^= 0x80000000u;                   /* the lab's shifter */
    assert_true(find(&r, &x));
    assert_int_equal(x.kind, RG_REMATCH_SEQ);
    assert_int_equal(x.trace, 57);
    assert_int_equal(x.ttl, 3);
    assert_int_equal(x.attempt, 1);
    assert_int_equal(x.shift, INT32_MIN);
    r = reply_for(t, 9, 0, q);
    r.seq += 1000;
    assert_true(find(&r, &x));
    assert_int_equal(x.ttl, 9);
    assert_int_equal(x.shift, 1000);
    r = reply_for(t, 9, 0, q);
    r.seq += 1000;
    rg_put_be16(q + 4, rg_probe_ip_id(t->seq_base, 9, 1)); /* a probe never sent */
    assert_false(find(&r, &x));
    r = reply_for(t, 9, 0, q);
    r.seq += 1000;
    r.probe_src = tfx_addr("198.18.0.3");
    assert_false(find(&r, &x));
    /* IPv6 carries no IP ID: nothing names the probe. */
    r = reply_for(&fx.traces[NTRACES - 2], 4, 0, q);
    r.seq += 1000;
    assert_false(find(&r, &x));
}

/* A key most traces share (a fixed source port over 1,100 destinations):
 * a lookup gives up past RG_REMATCH_SCAN traces of its chain instead of
 * scanning them all; a key few share still works. */
static void crowded_keys_are_not_scanned(void **state)
{
    (void)state;
    enum { N = RG_REMATCH_SCAN + 76 };
    static rg_trace t[N];
    char buf[64];
    for (size_t i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "198.19.%zu.%zu", i / 250, i % 250 + 1);
        rg_addr dst = tfx_addr(buf);
        assert_true(rg_trace_init(&t[i], buf, &dst, 80, 1, 8, 1));
        t[i].src = tfx_addr("198.18.0.2");
        t[i].sport = 33000; /* --sport */
        t[i].seq_base = (uint32_t)(i * 2654435761u + 99);
        rg_trace_set_sent(&t[i], 2, 1);
    }
    rg_rematch rm;
    rg_rematch_init(&rm, t, N);
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    rg_reply r = reply_for(&t[N - 1], 2, 0, q);
    r.probe_dst = tfx_addr("198.18.14.2");  /* the source port keys it: 1,100 share it */
    assert_false(rg_rematch_find(&rm, &r, &x));
    r = reply_for(&t[N - 1], 2, 0, q);
    r.dport = 8080;                         /* (destination, source port): one trace */
    assert_true(rg_rematch_find(&rm, &r, &x));
    assert_int_equal(x.trace, N - 1);
    rg_rematch_free(&rm);
    for (size_t i = 0; i < N; i++)
        rg_trace_free(&t[i]);
}

/* Lazy targets: traces appended after the indexes were built are found,
 * whether the indexes take them in or are built again. */
static void traces_fed_later_are_found(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    rg_rematch rm;
    rg_rematch_init(&rm, fx.traces, 100);
    rg_reply r = reply_for(&fx.traces[10], 2, 0, q);
    r.dport = 9;
    assert_true(rg_rematch_find(&rm, &r, &x) && x.trace == 10); /* built for 100 */
    rg_rematch_add(&rm, fx.traces, 100, 120);                   /* taken in */
    r = reply_for(&fx.traces[110], 2, 0, q);
    r.dport = 9;
    assert_true(rg_rematch_find(&rm, &r, &x) && x.trace == 110);
    rg_rematch_add(&rm, fx.traces, 120, NTRACES);               /* built again */
    r = reply_for(&fx.traces[300], 5, 0, q);
    r.sport ^= 0x4000;
    assert_true(rg_rematch_find(&rm, &r, &x) && x.trace == 300);
    rg_rematch_free(&rm);
}

static void ordinary_replies_are_not_rematched(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    for (size_t i = 0; i < NTRACES - 1; i++) {
        rg_reply r = reply_for(&fx.traces[i], 2, 0, q);
        rg_match m;
        assert_true(rg_match_reply(&fx.m, &r, &m));
        assert_false(rg_rematch_find(&fx.rm, &r, &x));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(port_rewritten_names_its_probe),
        cmocka_unit_test(port_rewritten_without_proof_refused),
        cmocka_unit_test(two_fitting_probes_name_neither),
        cmocka_unit_test(destination_rewritten_is_evidence),
        cmocka_unit_test(sequence_shift_named_by_the_ip_id),
        cmocka_unit_test(crowded_keys_are_not_scanned),
        cmocka_unit_test(traces_fed_later_are_found),
        cmocka_unit_test(ordinary_replies_are_not_rematched),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
