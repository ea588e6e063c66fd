/* Inference from other traces: which hops may be filled in, which must
 * not (too few witnesses, disagreement under ECMP, another prefix), and
 * the rate-limited / silent labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/infer.h"

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static rg_run run_of(size_t n)
{
    rg_run run = {0};
    run.traces = calloc(n, sizeof *run.traces);
    assert_non_null(run.traces);
    return run;
}

/* Trace i of run to dst; hops[k] answers TTL k+1 ("" silent, NULL not
 * sent); the destination answers at TTL nhops+1 unless !reached. */
static void trace(rg_run *run, const char *dst, const char *const *hops, unsigned nhops,
                  bool reached)
{
    rg_trace *t = &run->traces[run->ntraces++];
    rg_addr d = addr(dst);
    assert_true(rg_trace_init(t, dst, &d, 80, 1, 30, 2));
    for (unsigned k = 0; k < nhops; k++) {
        if (!hops[k])
            continue;
        rg_trace_set_sent(t, k + 1, 1);
        rg_probe *p = rg_trace_probe(t, k + 1, 0);
        p->sent.tv_sec = 1;
        if (!hops[k][0])
            continue;
        p->from = addr(hops[k]);
        p->kind = RG_REPLY_TIME_EXCEEDED;
    }
    if (reached) {
        rg_trace_set_sent(t, nhops + 1, 1);
        rg_probe *p = rg_trace_probe(t, nhops + 1, 0);
        p->sent.tv_sec = 1;
        p->from = d;
        p->kind = RG_REPLY_SYNACK;
    }
    rg_trace_conclude(t);
}

static void expect_inferred(const rg_trace *t, unsigned ttl, const char *want)
{
    const rg_addr *got = rg_trace_inferred(t, ttl);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    rg_addr w = addr(want);
    assert_true(rg_addr_equal(got, &w));
}

static const char *const PATH[] = {"198.18.0.1", "198.18.1.2", "198.18.16.2"};

static void test_chain_from_enough_witnesses(void **state)
{
    (void)state;
    rg_run run = run_of(RG_INFER_WITNESSES + 1);
    char dst[32];
    for (unsigned i = 0; i < RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, PATH, 3, true);
    }
    /* Only hop 3 measured (1 and 2 rate-limited), another destination. */
    const char *const mine[] = {"", "", "198.18.16.2"};
    trace(&run, "198.19.0.99", mine, 3, true);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    const rg_trace *t = &run.traces[RG_INFER_WITNESSES];
    expect_inferred(t, 2, "198.18.1.2");
    expect_inferred(t, 1, "198.18.0.1");
    expect_inferred(t, 3, NULL); /* measured: never replaced */
    assert_int_equal(rg_trace_silence(t, 1), RG_SILENCE_RATE_LIMITED);
    /* Witnesses themselves measured everything: nothing inferred there. */
    for (unsigned ttl = 1; ttl <= 3; ttl++)
        expect_inferred(&run.traces[0], ttl, NULL);
    rg_run_free(&run);
}

static void test_too_few_witnesses(void **state)
{
    (void)state;
    rg_run run = run_of(RG_INFER_WITNESSES);
    char dst[32];
    for (unsigned i = 0; i + 1 < RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, PATH, 3, true);
    }
    const char *const mine[] = {"", "", "198.18.16.2"};
    trace(&run, "198.19.0.99", mine, 3, true);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    expect_inferred(&run.traces[RG_INFER_WITNESSES - 1], 2, NULL);
    expect_inferred(&run.traces[RG_INFER_WITNESSES - 1], 1, NULL);
    rg_run_free(&run);
}

/* Two branches converging on a router that answers from one address: the
 * hop before it differs per flow, so it is never inferred. */
static void test_converging_ecmp_stops_inference(void **state)
{
    (void)state;
    rg_run run = run_of(2 * RG_INFER_WITNESSES + 1);
    const char *const a[] = {"198.18.0.1", "198.18.16.2", "198.18.32.2"};
    const char *const b[] = {"198.18.0.1", "198.18.17.2", "198.18.32.2"};
    char dst[32];
    for (unsigned i = 0; i < 2 * RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, i == 0 ? b : a, 3, true); /* one flow of many on b */
    }
    const char *const mine[] = {"198.18.0.1", "", "198.18.32.2"};
    trace(&run, "198.19.0.99", mine, 3, true);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    const rg_trace *t = &run.traces[2 * RG_INFER_WITNESSES];
    expect_inferred(t, 2, NULL);
    assert_int_equal(rg_trace_silence(t, 2), RG_SILENCE_RATE_LIMITED);
    rg_run_free(&run);
}

/* Too few flows took the other branch to show disagreement, but this
 * trace measured that branch's router: the hop after it is not inferred
 * from the first branch's witnesses (the bench saw that happen). */
static void test_inference_fits_the_own_neighbours(void **state)
{
    (void)state;
    rg_run run = run_of(RG_INFER_WITNESSES + 1);
    const char *const a[] = {"198.18.0.1", "198.18.16.2", "198.18.18.2", "198.18.32.2"};
    char dst[32];
    for (unsigned i = 0; i < RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, a, 4, true);
    }
    /* Branch b: 198.18.17.2 then 198.18.19.2 (rate-limited), then r5. */
    const char *const mine[] = {"198.18.0.1", "198.18.17.2", "", "198.18.32.2"};
    trace(&run, "198.19.0.99", mine, 4, true);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    expect_inferred(&run.traces[RG_INFER_WITNESSES], 3, NULL);
    assert_int_equal(rg_trace_silence(&run.traces[RG_INFER_WITNESSES], 3),
                     RG_SILENCE_RATE_LIMITED);
    rg_run_free(&run);
}

/* Forward inference holds only within the destination prefix it was
 * learnt for; the last router before a prefix is learnt from every
 * destination in it. */
static void test_forward_within_prefix(void **state)
{
    (void)state;
    rg_run run = run_of(RG_INFER_WITNESSES + 2);
    char dst[32];
    for (unsigned i = 0; i < RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, PATH, 3, true);
    }
    const char *const mine[] = {"198.18.0.1", "198.18.1.2", ""};
    trace(&run, "198.19.0.99", mine, 3, true);
    trace(&run, "198.19.9.99", mine, 3, true); /* another /24 */
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    expect_inferred(&run.traces[RG_INFER_WITNESSES], 3, "198.18.16.2");
    expect_inferred(&run.traces[RG_INFER_WITNESSES + 1], 3, NULL);
    rg_run_free(&run);
}

/* A router that never answers is silent; a filtered port's silence at the
 * destination's distance is not a rate-limited router either. */
static void test_silent_and_filtered(void **state)
{
    (void)state;
    rg_run run = run_of(3);
    const char *const through_silent[] = {"198.18.0.1", "", "198.18.48.2"};
    trace(&run, "198.19.16.5", through_silent, 3, true);
    trace(&run, "198.19.16.6", through_silent, 3, true);
    const char *const filtered[] = {"198.18.0.1", "", "198.18.48.2", ""};
    trace(&run, "198.19.16.5", filtered, 4, false); /* port 443: dropped */
    assert_true(rg_run_infer(&run, 2));
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rg_trace_silence(&run.traces[i], 2), RG_SILENCE_SILENT);
    assert_int_equal(rg_trace_silence(&run.traces[2], 4), RG_SILENCE_SILENT);
    expect_inferred(&run.traces[2], 2, NULL);
    rg_run_free(&run);
}

/* A port that stayed silent (filtered) has no distance of its own: it
 * takes its address's, shown by another port's answer, and its path is
 * filled up to the destination from the witnesses. (The engine shares
 * the distance while probing; without it here, the trace it had left to
 * inference was requeued and skipped in turn until the run gave up.) */
static void test_filtered_port_takes_its_address_distance(void **state)
{
    (void)state;
    rg_run run = run_of(RG_INFER_WITNESSES + 2);
    char dst[32];
    for (unsigned i = 0; i < RG_INFER_WITNESSES; i++) {
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        trace(&run, dst, PATH, 3, true);
    }
    const char *const first[] = {"198.18.0.1"};
    trace(&run, "198.19.0.99", first, 1, false); /* port 80: SYN-ACK below */
    rg_trace *open = &run.traces[RG_INFER_WITNESSES];
    rg_trace_set_sent(open, RG_PORT_PROBE_TTL, 1);
    rg_probe *p = rg_trace_probe(open, RG_PORT_PROBE_TTL, 0);
    p->sent.tv_sec = 1;
    p->from = addr("198.19.0.99");
    p->kind = RG_REPLY_SYNACK;
    p->reply_ttl = 61; /* sent at 64: four hops away */
    rg_trace_conclude(open);
    assert_int_equal(open->est_distance, 4);
    trace(&run, "198.19.0.99", first, 1, false); /* port 443: nothing answers */
    rg_trace *filtered = &run.traces[RG_INFER_WITNESSES + 1];
    assert_int_equal(filtered->est_distance, 0);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    assert_int_equal(filtered->est_distance, 4);
    expect_inferred(filtered, 2, "198.18.1.2");
    expect_inferred(filtered, 3, "198.18.16.2");
    expect_inferred(filtered, 4, NULL); /* the destination's TTL: no router */
    rg_run_free(&run);
}

static void test_links_table(void **state)
{
    (void)state;
    rg_links l;
    assert_true(rg_links_init(&l, 8));
    rg_addr a = addr("198.18.0.1"), b = addr("198.18.1.2"), c = addr("198.18.1.3");
    uint32_t s = rg_links_scope(&b);
    assert_int_equal(s, rg_links_scope(&c)); /* same /24 */
    rg_links_add(&l, &a, 1, &b, s);
    rg_links_add(&l, &a, 1, &b, s);
    assert_non_null(rg_links_pred(&l, &b, 2, 2));
    assert_null(rg_links_pred(&l, &b, 2, 3));
    assert_null(rg_links_pred(&l, &b, 3, 1)); /* another TTL */
    assert_non_null(rg_links_succ(&l, &a, 1, s, 2));
    rg_links_add(&l, &a, 1, &c, s);
    assert_null(rg_links_succ(&l, &a, 1, s, 1)); /* disagreement */
    assert_non_null(rg_links_guess_succ(&l, &a, 1, s));
    rg_links_add(&l, &a, 5, &a, s); /* a router twice: no witness */
    assert_null(rg_links_guess_succ(&l, &a, 5, s));
    rg_links_free(&l);
}

/* The table starts at 64 entries and doubles past 3/4 full: 300 links
 * (614 entries: backward and pair ones per link, forward ones per TTL and
 * /24) all kept, with their witness counts. */
static void test_links_table_grows(void **state)
{
    (void)state;
    rg_links l;
    assert_true(rg_links_init(&l, 1));
    assert_int_equal(l.mask + 1, 64);
    rg_addr a = addr("198.18.0.1");
    for (unsigned i = 0; i < 300; i++) {
        char text[32];
        snprintf(text, sizeof text, "198.19.%u.%u", i / 200, 1 + i % 200);
        rg_addr b = addr(text);
        for (unsigned w = 0; w <= i % 3; w++)
            rg_links_add(&l, &a, 1 + i % 7, &b, rg_links_scope(&b));
    }
    assert_int_equal(l.mask + 1, 1024);
    for (unsigned i = 0; i < 300; i++) {
        char text[32];
        snprintf(text, sizeof text, "198.19.%u.%u", i / 200, 1 + i % 200);
        rg_addr b = addr(text);
        unsigned ttl = 1 + i % 7;
        const rg_addr *p = rg_links_pred(&l, &b, ttl + 1, 1 + i % 3);
        assert_non_null(p);
        assert_true(rg_addr_equal(p, &a));
        assert_null(rg_links_pred(&l, &b, ttl + 1, 2 + i % 3));
        assert_true(rg_links_seen(&l, &a, ttl, &b));
    }
    rg_links_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_from_enough_witnesses),
        cmocka_unit_test(test_too_few_witnesses),
        cmocka_unit_test(test_converging_ecmp_stops_inference),
        cmocka_unit_test(test_inference_fits_the_own_neighbours),
        cmocka_unit_test(test_forward_within_prefix),
        cmocka_unit_test(test_silent_and_filtered),
        cmocka_unit_test(test_filtered_port_takes_its_address_distance),
        cmocka_unit_test(test_links_table),
        cmocka_unit_test(test_links_table_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
