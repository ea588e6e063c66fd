/* watch statistics: rounds of a hand-made trace in, mtr-style figures out;
 * the loss a rate-limiting router causes kept apart from packet loss. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/result.h"
#include "watch/report.h"
#include "watch/stats.h"
#include "watch/watch.h"

#define DST "198.19.0.5"

static void add_trace(rg_run *run)
{
    rg_addr a;
    assert_true(rg_addr_parse(DST, &a));
    run->traces = calloc(1, sizeof *run->traces);
    assert_non_null(run->traces);
    assert_true(rg_trace_init(&run->traces[0], DST, &a, 80, 1, 4, 1));
    run->traces[0].sport = 40000;
    run->ntraces = 1;
}

/* One probe at ttl; from NULL: unanswered. */
static void probe(rg_trace *t, unsigned ttl, const char *from, enum rg_reply_kind kind,
                  uint32_t rtt_us)
{
    rg_probe *p = rg_trace_probe(t, ttl, 0);
    p->sent.tv_sec = 1795618200;
    rg_trace_set_sent(t, ttl, 1);
    if (!from)
        return;
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->icmp_type = kind == RG_REPLY_TIME_EXCEEDED ? 11 : 0;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : 0;
    p->rtt_us = rtt_us;
    p->reply_ttl = 60;
    p->received = p->sent;
}

/* A round: hop 1, hop 2 (from hop2, or silent), the destination at 3 (or
 * silent), with the RTTs given. */
static void round_of(rg_run *run, uint32_t rtt1, const char *hop2, bool reached, uint32_t rtt3)
{
    rg_watch_reset_round(run);
    rg_trace *t = &run->traces[0];
    assert_int_equal(t->sport, 40000); /* the flow, so the ECMP branch, is kept */
    probe(t, 1, "198.18.0.1", RG_REPLY_TIME_EXCEEDED, rtt1);
    probe(t, 2, hop2, RG_REPLY_TIME_EXCEEDED, 2000);
    probe(t, 3, reached ? DST : NULL, RG_REPLY_SYNACK, rtt3);
    rg_trace_conclude(t);
}

static void four_rounds(rg_run *run, rg_watch_stats *s)
{
    add_trace(run);
    assert_true(rg_watch_stats_init(s, run));
    round_of(run, 1000, "198.18.16.2", true, 3000);
    rg_watch_stats_add(s, run);
    round_of(run, 3000, "198.18.17.2", true, 5000);
    rg_watch_stats_add(s, run);
    /* Hop 2 silent, the destination answered: the probe got through, the
     * router did not answer it (rate limiting), not packet loss. */
    round_of(run, 2000, NULL, true, 4000);
    rg_watch_stats_add(s, run);
    /* Nothing past hop 1: loss at hop 2 and at the destination. */
    round_of(run, 2000, NULL, false, 0);
    rg_watch_stats_add(s, run);
    /* A round a signal cut short is not counted. */
    round_of(run, 9000, "198.18.16.2", true, 9000);
    run->interrupted = true;
    rg_watch_stats_add(s, run);
}

static void test_figures(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_watch_stats s;
    four_rounds(&run, &s);
    assert_int_equal(s.rounds, 4);
    assert_int_equal(s.interrupted, 1);
    const rg_watch_trace *w = &s.traces[0];
    assert_int_equal(w->reached, 3);
    assert_int_equal(w->state[RG_PORT_OPEN], 3);
    assert_int_equal(w->state[RG_PORT_FILTERED], 1);

    const rg_watch_hop *h1 = &w->hops[0];
    assert_int_equal(h1->probed, 4);
    assert_int_equal(h1->answered, 4);
    assert_int_equal(h1->rtt.last, 2000);
    assert_int_equal(h1->rtt.best, 1000);
    assert_int_equal(h1->rtt.worst, 3000);
    assert_true(fabs(h1->rtt.mean - 2000) < 1e-9);
    assert_true(fabs(rg_watch_rtt_stddev(&h1->rtt) - sqrt(2e6 / 3)) < 1e-6);
    assert_true(rg_watch_loss_pct(h1) == 0);

    const rg_watch_hop *h2 = &w->hops[1];
    assert_int_equal(h2->probed, 4);
    assert_int_equal(h2->answered, 2);
    assert_int_equal(h2->limited, 1);
    assert_int_equal(h2->silent, 0);
    assert_true(fabs(rg_watch_loss_pct(h2) - 25) < 1e-9);
    assert_int_equal(h2->nresp, 2);
    assert_int_equal(h2->resp[0].rounds, 1);
    assert_int_equal(h2->resp[1].rounds, 1);

    const rg_watch_hop *h3 = &w->hops[2];
    assert_int_equal(h3->probed, 4);
    assert_int_equal(h3->answered, 3);
    assert_true(fabs(rg_watch_loss_pct(h3) - 25) < 1e-9);
    assert_int_equal(h3->rtt.worst, 5000);
    assert_int_equal(w->hops[3].probed, 0); /* TTL 4 never sent */
    rg_watch_stats_free(&s);
    rg_run_free(&run);
}

/* A router that answers nobody (rg_run_infer's "silent") while the hops
 * past it answer: counted silent, not as loss. */
static void test_silent_router(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_watch_stats s;
    add_trace(&run);
    assert_true(rg_watch_stats_init(&s, &run));
    for (int i = 0; i < 3; i++) {
        round_of(&run, 1000, NULL, true, 3000);
        run.traces[0].silence[1] = RG_SILENCE_SILENT;
        rg_watch_stats_add(&s, &run);
    }
    const rg_watch_hop *h2 = &s.traces[0].hops[1];
    assert_int_equal(h2->silent, 3);
    assert_int_equal(h2->limited, 0);
    assert_true(rg_watch_loss_pct(h2) == 0);
    rg_watch_stats_free(&s);
    rg_run_free(&run);
}

static void test_report_text(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_watch_stats s;
    four_rounds(&run, &s);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_true(rg_watch_report_write(f, &s, &run));
    fclose(f);
    const char *want =
        "198.19.0.5:tcp80  4 rounds, destination reached in 3, port open in 3, port filtered in 1\n"
        " TTL  Host                                    Loss%  Snt  Rcv  Lim   Last    Avg   Best   Wrst  StDev\n"
        "   1  198.18.0.1                                0.0%    4    4    0    2.0    2.0    1.0    3.0    0.8\n"
        "   2  198.18.16.2                              25.0%    4    2    1    2.0    2.0    2.0    2.0    0.0  rate-limited in 1 round, not loss\n"
        "      198.18.16.2                             1/4 rounds\n"
        "      198.18.17.2                             1/4 rounds\n"
        "   3  198.19.0.5                               25.0%    4    3    0    4.0    4.0    3.0    5.0    1.0\n"
        "\n"
        "1 round cut short by a signal not counted\n";
    assert_string_equal(buf, want);
    free(buf);
    rg_watch_stats_free(&s);
    rg_run_free(&run);
}

static void test_report_json(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_watch_stats s;
    four_rounds(&run, &s);
    json_t *w = rg_watch_report_json(&s, &run, 0.5);
    assert_non_null(w);
    assert_string_equal(json_string_value(json_object_get(w, "schema")), "routegraph-watch/1");
    assert_int_equal(json_integer_value(json_object_get(w, "rounds")), 4);
    assert_int_equal(json_integer_value(json_object_get(w, "interrupted_rounds")), 1);
    json_t *t = json_array_get(json_object_get(w, "traces"), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "reached")), 3);
    json_t *hops = json_object_get(t, "hops");
    assert_int_equal(json_array_size(hops), 3);
    json_t *h2 = json_array_get(hops, 1);
    assert_int_equal(json_integer_value(json_object_get(h2, "limited")), 1);
    assert_true(json_real_value(json_object_get(h2, "loss_pct")) == 25.0);
    json_t *rtt = json_object_get(json_array_get(hops, 0), "rtt");
    assert_int_equal(json_integer_value(json_object_get(rtt, "stddev_us")), 816);
    assert_int_equal(json_integer_value(json_object_get(rtt, "mean_us")), 2000);
    assert_int_equal(json_array_size(json_object_get(h2, "responders")), 2);
    json_decref(w);
    rg_watch_stats_free(&s);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_silent_router),
        cmocka_unit_test(test_report_text),
        cmocka_unit_test(test_report_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
