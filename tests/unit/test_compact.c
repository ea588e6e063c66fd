/* Compact traces (rg_trace_compact): a run whose traces were compacted
 * writes every whole-run output (table, JSON, DOT, the AS-level DOT, the
 * HTML report, AS paths, middleboxes) byte for byte as the same run with
 * full traces, on the saved runs of tests/data; expanding gives back the
 * very same probe slots; and a compacted trace holds only the slots used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/asgraph.h"
#include "graph/graph.h"
#include "input/json_read.h"
#include "model/result.h"
#include "output/asdot.h"
#include "output/dot.h"
#include "output/html.h"
#include "output/json.h"
#include "output/json_stream.h"
#include "output/middlebox.h"
#include "output/paths.h"
#include "output/table.h"

#define DATA RG_SOURCE_ROOT "/tests/data/"

typedef bool (*writer)(FILE *, const rg_run *);

static char *capture(writer w, const rg_run *run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(w(f, run));
    assert_int_equal(fclose(f), 0);
    return buf;
}

static bool json_out(FILE *f, const rg_run *run)
{
    json_t *doc = rg_json_build(run, NULL);
    bool ok = doc && json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    json_decref(doc);
    return ok;
}

static bool dot_out(FILE *f, const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    bool ok = g && rg_dot_write(f, g);
    rg_graph_free(g);
    return ok;
}

static bool asdot_out(FILE *f, const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    rg_asgraph *ag = g ? rg_asgraph_build(g) : NULL;
    bool ok = ag && rg_asdot_write(f, ag);
    rg_asgraph_free(ag);
    rg_graph_free(g);
    return ok;
}

/* The report without its picture (the SVG is the DOT's, compared above). */
static bool html_out(FILE *f, const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    json_t *doc = g ? rg_json_build(run, NULL) : NULL;
    bool ok = doc && rg_html_write(f, run, g, NULL, 0, doc);
    json_decref(doc);
    rg_graph_free(g);
    return ok;
}

/* The document as outputs.c writes it: the head, traces streamed. */
static bool json_streamed(FILE *f, const rg_run *run)
{
    json_t *head = rg_json_build_head(run, NULL);
    bool ok = head && rg_json_stream(head, run, 0, JSON_INDENT(2) | JSON_PRESERVE_ORDER,
                                     rg_json_emit_file, f);
    json_decref(head);
    return ok;
}

static bool json_compact(FILE *f, const rg_run *run)
{
    json_t *doc = rg_json_build(run, NULL);
    bool ok = doc && json_dumpf(doc, f, JSON_COMPACT) == 0;
    json_decref(doc);
    return ok;
}

static bool json_compact_streamed(FILE *f, const rg_run *run)
{
    json_t *head = rg_json_build_head(run, NULL);
    bool ok = head && rg_json_stream(head, run, 0, JSON_COMPACT, rg_json_emit_file, f);
    json_decref(head);
    return ok;
}

/* The report as outputs.c writes it: the head, the traces embedded one at
 * a time. */
static bool html_streamed(FILE *f, const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    json_t *head = g ? rg_json_build_head(run, NULL) : NULL;
    rg_html_report rep = {run, g, NULL, 0, head, true, 0};
    bool ok = head && rg_html_writer(f, &rep);
    json_decref(head);
    rg_graph_free(g);
    return ok;
}

static bool paths_out(FILE *f, const rg_run *run)
{
    return rg_paths_write(f, run);
}

static bool middlebox_out(FILE *f, const rg_run *run)
{
    return rg_middlebox_write(f, run);
}

/* Each report has its own random script nonce: B gets A's before comparing. */
static void same_nonce(const char *a, char *b)
{
    const char *na = strstr(a, "nonce-"), *nb = strstr(b, "nonce-");
    if (!na || !nb)
        return;
    na += 6;
    nb += 6;
    size_t n = strspn(na, "0123456789abcdef");
    assert_int_equal(strspn(nb, "0123456789abcdef"), n);
    char old[128];
    assert_true(n < sizeof old);
    memcpy(old, nb, n);
    old[n] = '\0';
    for (char *p = b; (p = strstr(p, old)); p += n)
        memcpy(p, na, n);
}

static const struct {
    const char *name;
    writer w;
} writers[] = {
    {"table", rg_table_write}, {"json", json_out},   {"dot", dot_out},
    {"asdot", asdot_out},      {"html", html_out},   {"paths", paths_out},
    {"middlebox", middlebox_out},
};
#define NWRITERS (sizeof writers / sizeof writers[0])

static void load(const char *file, rg_run *run)
{
    char err[512];
    if (!rg_json_read_file(file, run, err, sizeof err))
        fail_msg("%s: %s", file, err);
}

static size_t all_slots(const rg_run *run)
{
    size_t n = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        n += rg_trace_slots(&run->traces[i]);
    return n;
}

/* The streamed document and report against the whole ones, byte for
 * byte, both full and compacted. */
static void same_streamed(const char *file)
{
    static const struct {
        writer whole, streamed;
    } pairs[] = {
        {json_out, json_streamed},
        {json_compact, json_compact_streamed},
        {html_out, html_streamed},
    };
    rg_run run;
    load(file, &run);
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
            char *want = capture(pairs[k].whole, &run);
            char *got = capture(pairs[k].streamed, &run);
            same_nonce(want, got);
            if (strcmp(want, got) != 0)
                print_error("%s: streamed pair %zu differs\n", file, k);
            assert_string_equal(want, got);
            free(want);
            free(got);
        }
        for (size_t i = 0; i < run.ntraces; i++)
            assert_true(rg_trace_compact(&run.traces[i]));
    }
    rg_run_free(&run);
}

/* Every output of the saved run, full and then compacted, byte for byte. */
static void same_outputs(const char *file)
{
    rg_run run;
    load(file, &run);
    char *full[NWRITERS];
    for (size_t k = 0; k < NWRITERS; k++)
        full[k] = capture(writers[k].w, &run);
    size_t before = all_slots(&run);
    for (size_t i = 0; i < run.ntraces; i++)
        assert_true(rg_trace_compact(&run.traces[i]));
    assert_true(all_slots(&run) < before); /* the saved runs all left slots unused */
    for (size_t k = 0; k < NWRITERS; k++) {
        char *got = capture(writers[k].w, &run);
        if (k == 4)
            same_nonce(full[k], got);
        if (strcmp(full[k], got) != 0)
            print_error("%s: %s differs once compacted\n", file, writers[k].name);
        assert_string_equal(full[k], got);
        free(got);
        free(full[k]);
    }
    rg_run_free(&run);
}

static void test_outputs_lab(void **state)
{
    (void)state;
    same_outputs(DATA "graph-lab.json");
}

static void test_outputs_64(void **state)
{
    (void)state;
    same_outputs(DATA "graph-64.json");
}

static void test_outputs_hostile(void **state)
{
    (void)state;
    same_outputs(DATA "graph-hostile.json");
}

static void test_outputs_icmpext(void **state)
{
    (void)state;
    same_outputs(DATA "icmpext-lab.json");
}

static void test_streamed(void **state)
{
    (void)state;
    same_streamed(DATA "graph-lab.json");
    same_streamed(DATA "graph-64.json");
    same_streamed(DATA "graph-hostile.json");
    same_streamed(DATA "icmpext-lab.json");
}

/* No traces at all: an empty array, as jansson writes it. */
static void test_streamed_empty(void **state)
{
    (void)state;
    rg_run run = {0};
    for (int k = 0; k < 2; k++) {
        char *want = capture(k ? json_compact : json_out, &run);
        char *got = capture(k ? json_compact_streamed : json_streamed, &run);
        assert_string_equal(want, got);
        assert_non_null(strstr(got, k ? "\"traces\":[]" : "\"traces\": []"));
        free(want);
        free(got);
    }
}

/* Compact then expand gives every slot back byte for byte, extensions
 * on the same probes. */
static void test_round_trip(void **state)
{
    (void)state;
    rg_run a, b;
    load(DATA "icmpext-lab.json", &a);
    load(DATA "icmpext-lab.json", &b);
    size_t with_ext = 0;
    for (size_t i = 0; i < b.ntraces; i++) {
        rg_trace *t = &b.traces[i];
        assert_true(rg_trace_compact(t));
        assert_true(rg_trace_is_compact(t));
        assert_true(rg_trace_compact(t)); /* twice: nothing more */
        with_ext += t->nexts > 0;
        assert_true(rg_trace_expand(t));
        assert_false(rg_trace_is_compact(t));
        const rg_trace *u = &a.traces[i];
        assert_int_equal(rg_trace_slots(t), rg_trace_slots(u));
        assert_memory_equal(t->probes, u->probes, rg_trace_slots(u) * sizeof *u->probes);
        assert_int_equal(t->nexts, u->nexts);
        for (uint32_t k = 0; k < u->nexts; k++) {
            assert_int_equal(t->exts[k].slot, u->exts[k].slot);
            assert_memory_equal(&t->exts[k].ext, &u->exts[k].ext, sizeof u->exts[k].ext);
        }
    }
    assert_true(with_ext > 0); /* the fixture has extensions to move */
    rg_run_free(&a);
    rg_run_free(&b);
}

static rg_trace make_trace(void)
{
    rg_trace t;
    rg_addr dst;
    assert_true(rg_addr_parse("192.0.2.9", &dst));
    assert_true(rg_trace_init(&t, "x", &dst, 80, 1, 8, 4));
    return t;
}

static void send_at(rg_trace *t, unsigned ttl, unsigned n, uint32_t rtt)
{
    for (unsigned a = 0; a < n; a++) {
        rg_probe *p = rg_trace_probe(t, ttl, a);
        p->sent.tv_sec = 1000 + ttl;
        p->rtt_us = rtt ? rtt + a : 0;
        p->kind = rtt ? RG_REPLY_TIME_EXCEEDED : RG_REPLY_NONE;
    }
    rg_trace_set_sent(t, ttl, n);
}

/* The packed layout: only the attempts used, in order, each where
 * rg_trace_probe finds it; nothing beyond; the full slot number unchanged. */
static void test_layout(void **state)
{
    (void)state;
    rg_trace t = make_trace();
    send_at(&t, RG_PORT_PROBE_TTL, 2, 0);
    send_at(&t, 1, 1, 100);
    send_at(&t, 2, 3, 200);
    /* A slot past what nsent says, holding something: kept too. */
    rg_trace_probe(&t, 4, 2)->port_check = true;
    size_t n4 = rg_trace_slot_number(&t, 4, 2);
    assert_int_equal(rg_trace_slots(&t), 9 * 4);
    assert_true(rg_trace_compact(&t));
    assert_int_equal(rg_trace_slots(&t), 2 + 1 + 3 + 3);
    assert_int_equal(rg_trace_slot_number(&t, 4, 2), n4);
    assert_ptr_equal(rg_trace_probe(&t, RG_PORT_PROBE_TTL, 0), &t.probes[0]);
    assert_ptr_equal(rg_trace_probe(&t, 1, 0), &t.probes[2]);
    assert_null(rg_trace_probe(&t, 1, 1));
    assert_null(rg_trace_probe(&t, 3, 0));
    assert_int_equal(rg_trace_probe(&t, 2, 2)->rtt_us, 202);
    assert_true(rg_trace_probe(&t, 4, 2)->port_check);
    assert_ptr_equal(rg_trace_answer(&t, 2), rg_trace_probe(&t, 2, 0));
    assert_int_equal(rg_trace_answer_attempt(&t, 2), 0);
    assert_int_equal(rg_trace_sent(&t, 2), 3);
    rg_trace_free(&t);
}

/* A late answer written into a compacted trace, with extensions, is found
 * again after expanding it. */
static void test_write_after_compact(void **state)
{
    (void)state;
    rg_trace t = make_trace();
    send_at(&t, 1, 1, 100);
    send_at(&t, 3, 2, 0);
    assert_true(rg_trace_compact(&t));
    rg_probe *late = rg_trace_probe(&t, 3, 1);
    assert_non_null(late);
    late->kind = RG_REPLY_TIME_EXCEEDED;
    late->rtt_us = 777;
    rg_icmpext e = {0};
    e.nlabels = 1;
    e.labels[0].label = 4242;
    assert_true(rg_trace_set_ext(&t, late, &e));
    assert_non_null(rg_trace_ext(&t, late));
    assert_true(rg_trace_expand(&t));
    const rg_probe *p = rg_trace_probe(&t, 3, 1);
    assert_int_equal(p->rtt_us, 777);
    assert_ptr_equal(rg_trace_answer(&t, 3), p);
    const rg_icmpext *got = rg_trace_ext(&t, p);
    assert_non_null(got);
    assert_int_equal(got->labels[0].label, 4242);
    assert_null(rg_trace_ext(&t, rg_trace_probe(&t, 1, 0)));
    rg_trace_free(&t);
}

/* Released and unallocated traces: nothing to compact, and no harm. */
static void test_without_slots(void **state)
{
    (void)state;
    rg_trace t = make_trace();
    rg_trace_release(&t);
    assert_true(rg_trace_compact(&t));
    assert_false(rg_trace_is_compact(&t));
    assert_int_equal(rg_trace_slots(&t), 0);
    rg_trace_free(&t);
    rg_trace u = make_trace(); /* nothing sent: one placeholder slot at most */
    assert_true(rg_trace_compact(&u));
    assert_int_equal(rg_trace_slots(&u), 0);
    assert_non_null(u.probes);
    assert_null(rg_trace_probe(&u, 1, 0));
    assert_null(rg_trace_answer(&u, 1));
    rg_trace_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_write_after_compact),
        cmocka_unit_test(test_without_slots),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_outputs_lab),
        cmocka_unit_test(test_outputs_64),
        cmocka_unit_test(test_outputs_hostile),
        cmocka_unit_test(test_outputs_icmpext),
        cmocka_unit_test(test_streamed),
        cmocka_unit_test(test_streamed_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
