/* The streamed JSONL output: each line parsed back and checked against
 * docs/json-schema.md ("routegraph-jsonl/1"); the file appears only when
 * the stream is closed, and a released trace keeps its conclusions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "input/json_read.h"
#include "model/result.h"
#include "output/jsonl.h"

static rg_trace *add_trace(rg_run *run, const char *dst, uint16_t port)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces];
    assert_true(rg_trace_init(t, dst, &a, port, 1, 8, 4));
    run->ntraces++;
    return t;
}

static rg_probe *sent(rg_trace *t, unsigned ttl)
{
    unsigned a = rg_trace_sent(t, ttl);
    rg_probe *p = rg_trace_probe(t, ttl, a);
    assert_non_null(p);
    p->sent.tv_sec = 1795618200 + ttl;
    rg_trace_set_sent(t, ttl, a + 1);
    return p;
}

static void answer(rg_probe *p, const char *from, enum rg_reply_kind kind)
{
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->reply_ttl = 61;
    p->rtt_us = 500;
    p->received = p->sent;
}

/* 198.51.100.7:80: TTL 1 answered, TTL 2 left to inference (no probe), TTL
 * 3 probed and silent (rate-limited), TTL 4 the destination's SYN-ACK. */
static void build(rg_run *run)
{
    memset(run, 0, sizeof *run);
    rg_trace *t = add_trace(run, "198.51.100.7", 80);
    answer(sent(t, 1), "192.0.2.1", RG_REPLY_TIME_EXCEEDED);
    assert_true(rg_addr_parse("192.0.2.2", &t->inferred[1]));
    sent(t, 3);
    t->silence[2] = RG_SILENCE_RATE_LIMITED;
    answer(sent(t, 4), "198.51.100.7", RG_REPLY_SYNACK);
    rg_trace_conclude(t);
}

static void test_trace_line_marks_inference_provisional(void **state)
{
    (void)state;
    rg_run run;
    build(&run);
    json_t *o = rg_jsonl_trace_json(&run, &run.traces[0], 5, false);
    assert_non_null(o);
    assert_null(json_object_get(o, "as_path"));
    assert_string_equal(json_string_value(json_object_get(o, "state")), "open");
    assert_int_equal(json_integer_value(json_object_get(o, "reached_ttl")), 4);
    json_t *hops = json_object_get(o, "hops");
    assert_int_equal(json_array_size(hops), 4);
    static const struct { unsigned ttl; bool provisional; const char *key; } want[] = {
        {1, false, "responder"}, {2, true, "inferred_responder"},
        {3, true, "silence"}, {4, false, "responder"},
    };
    for (size_t i = 0; i < 4; i++) {
        json_t *h = json_array_get(hops, i);
        assert_int_equal(json_integer_value(json_object_get(h, "ttl")), want[i].ttl);
        assert_true(json_is_string(json_object_get(h, want[i].key)));
        assert_int_equal(json_object_get(h, "provisional") != NULL, want[i].provisional);
        if (want[i].provisional)
            assert_true(json_is_true(json_object_get(h, "provisional")));
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(hops, 1),
                                                          "inferred_responder")), "192.0.2.2");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hops, 2), "silence")),
                        "rate-limited");
    json_decref(o);
    rg_run_free(&run);
}

static json_t *line(FILE *f)
{
    char buf[65536];
    assert_non_null(fgets(buf, sizeof buf, f));
    size_t n = strlen(buf);
    assert_true(n > 0 && buf[n - 1] == '\n');
    assert_null(memchr(buf, '\n', n - 1)); /* one object, one line */
    json_error_t e;
    json_t *o = json_loads(buf, 0, &e);
    assert_non_null(o);
    return o;
}

static const char *type_of(json_t *o)
{
    return json_string_value(json_object_get(o, "type"));
}

static void test_file_appears_whole_on_close(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-jsonl-XXXXXX", prefix[64], path[80];
    assert_non_null(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    snprintf(path, sizeof path, "%s.jsonl", prefix);
    rg_config cfg = {.output = prefix, .gap = 5, .nports = 1, .ports = {80}};
    rg_run run;
    build(&run);
    rg_jsonl w;
    char err[256];
    assert_true(rg_jsonl_open(&w, &cfg, true, err, sizeof err));
    assert_true(rg_jsonl_head(&w, &run));
    rg_jsonl_trace_done(&w, &run, 0);
    assert_int_equal(access(path, F_OK), -1); /* not before the end */
    /* Released once written: the conclusions stay, the slots go. */
    assert_null(run.traces[0].probes);
    assert_int_equal(run.traces[0].state, RG_PORT_OPEN);
    assert_int_equal(rg_trace_sent(&run.traces[0], 1), 0);
    assert_true(rg_jsonl_close(&w, &run, err, sizeof err));

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t *head = line(f), *tr = line(f), *end = line(f);
    char extra[8];
    assert_null(fgets(extra, sizeof extra, f));
    fclose(f);
    assert_string_equal(type_of(head), "run");
    assert_string_equal(json_string_value(json_object_get(head, "schema")), RG_JSONL_SCHEMA);
    assert_int_equal(json_integer_value(json_object_get(head, "traces_planned")), 1);
    assert_true(json_is_array(json_object_get(head, "unresolved")));
    assert_string_equal(type_of(tr), "trace");
    assert_string_equal(json_string_value(json_object_get(tr, "address")), "198.51.100.7");
    assert_string_equal(type_of(end), "end");
    assert_int_equal(json_integer_value(json_object_get(end, "traces_written")), 1);
    assert_true(json_is_true(json_object_get(end, "complete")));
    assert_true(json_is_object(json_object_get(end, "stats")));
    json_decref(head);
    json_decref(tr);
    json_decref(end);
    unlink(path);
    rmdir(dir);
    rg_run_free(&run);
}

/* A stand-in for the local databases: 192.0.2.1 in AS64500, the
 * destination in AS64502 (country NL); counts its calls. */
static int annotate_calls;

static bool fake_annotate(void *ctx, rg_run *view)
{
    (void)ctx;
    annotate_calls++;
    assert_int_equal(view->ntraces, 1);
    if (!rg_run_collect_hosts(view))
        return false;
    for (size_t i = 0; i < view->nhosts; i++) {
        char text[64];
        rg_addr_format(&view->hosts[i].addr, text, sizeof text);
        view->hosts[i].asn = strcmp(text, "192.0.2.1") == 0 ? 64500 : 64502;
        assert_true(rg_host_set(&view->hosts[i].as_org, "Org <x>"));
        memcpy(view->hosts[i].country, strcmp(text, "192.0.2.1") ? "NL" : "DE", 3);
    }
    return true;
}

/* With an annotate hook, the line carries each hop's AS and the trace's
 * AS path, as the document would, from hosts of its own: the run's stay
 * empty. */
static void test_annotated_line(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    rg_config cfg = {.gap = 5, .nports = 1, .ports = {80}};
    rg_run run;
    build(&run);
    rg_jsonl w = {.cfg = &cfg, .annotate = fake_annotate};
    w.out = open_memstream(&text, &len);
    assert_non_null(w.out);
    annotate_calls = 0;
    rg_jsonl_trace_done(&w, &run, 0);
    assert_int_equal(fclose(w.out), 0);
    assert_int_equal(annotate_calls, 1);
    assert_int_equal(w.written, 1);
    assert_null(run.hosts);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    json_t *path = json_object_get(o, "as_path");
    assert_int_equal(json_array_size(path), 2);
    assert_int_equal(json_integer_value(json_array_get(path, 0)), 64500);
    assert_int_equal(json_integer_value(json_array_get(path, 1)), 64502);
    json_t *hop1 = json_array_get(json_object_get(o, "hops"), 0);
    assert_int_equal(json_integer_value(json_object_get(hop1, "asn")), 64500);
    assert_string_equal(json_string_value(json_object_get(hop1, "as_org")), "Org <x>");
    json_decref(o);
    free(text);
    rg_run_free(&run);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-jsonl-XXXXXX", prefix[64];
    assert_non_null(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    rg_config cfg = {.output = prefix, .gap = 5, .nports = 1, .ports = {80}};
    rg_run run;
    build(&run);
    rg_jsonl w;
    char err[256];
    assert_true(rg_jsonl_open(&w, &cfg, false, err, sizeof err));
    assert_true(rg_jsonl_head(&w, &run));
    rg_jsonl_trace_done(&w, &run, 0);
    assert_non_null(run.traces[0].probes); /* not released: kept for other outputs */
    rg_jsonl_abort(&w);
    assert_int_equal(rmdir(dir), 0); /* empty: no file, no temporary file */
    rg_run_free(&run);
}

static void test_unfinished_run_says_incomplete(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-jsonl-XXXXXX", prefix[64], path[80];
    assert_non_null(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    snprintf(path, sizeof path, "%s.jsonl", prefix);
    rg_config cfg = {.output = prefix, .gap = 5, .nports = 1, .ports = {80}};
    rg_run run;
    build(&run);
    add_trace(&run, "198.51.100.8", 80); /* never finished */
    rg_jsonl w;
    char err[256];
    assert_true(rg_jsonl_open(&w, &cfg, true, err, sizeof err));
    assert_true(rg_jsonl_head(&w, &run));
    rg_jsonl_trace_done(&w, &run, 0);
    assert_true(rg_jsonl_close(&w, &run, err, sizeof err));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json_t *head = line(f), *tr = line(f), *end = line(f);
    fclose(f);
    assert_int_equal(json_integer_value(json_object_get(head, "traces_planned")), 2);
    assert_int_equal(json_integer_value(json_object_get(end, "traces_written")), 1);
    assert_true(json_is_false(json_object_get(end, "complete")));
    json_decref(head);
    json_decref(tr);
    json_decref(end);
    unlink(path);
    rmdir(dir);
    rg_run_free(&run);
}

/* A line longer than the writer's buffer (a 200-hop trace, every hop with
 * four answers: tens of KB) is written whole, on one line, and parses. */
static void test_long_line_written_whole(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    rg_config cfg = {.gap = 5, .nports = 1, .ports = {80}};
    rg_run run;
    memset(&run, 0, sizeof run);
    rg_addr a;
    assert_true(rg_addr_parse("198.51.100.9", &a));
    rg_trace *t = realloc(NULL, sizeof *t);
    assert_non_null(t);
    run.traces = t;
    run.ntraces = 1;
    assert_true(rg_trace_init(t, "198.51.100.9", &a, 80, 1, 200, 4));
    for (unsigned ttl = 1; ttl <= 200; ttl++)
        for (int k = 0; k < 4; k++)
            answer(sent(t, ttl), "192.0.2.77", RG_REPLY_TIME_EXCEEDED);
    rg_trace_conclude(t);
    rg_jsonl w = {.cfg = &cfg};
    w.out = open_memstream(&text, &len);
    assert_non_null(w.out);
    rg_jsonl_trace_done(&w, &run, 0);
    assert_int_equal(fclose(w.out), 0);
    assert_int_equal(w.written, 1);
    assert_true(len > 16384);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1)); /* one line */
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "hops")), 200);
    json_decref(o);
    free(text);
    rg_run_free(&run);
}

static void test_unwritable_prefix_is_one_error(void **state)
{
    (void)state;
    rg_config cfg = {.output = "/nonexistent-dir/run", .gap = 5};
    rg_jsonl w;
    char err[256] = "";
    assert_false(rg_jsonl_open(&w, &cfg, true, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/run.jsonl: cannot write"));
    assert_null(strchr(err, '\n'));
}

/* A streamed trace line carries its answers' ICMP extensions as the
 * document does. */
static void test_trace_line_keeps_extensions(void **state)
{
    (void)state;
    rg_run run;
    char err[512];
    assert_true(rg_json_read_file(RG_SOURCE_ROOT "/tests/data/icmpext-lab.json", &run, err,
                                  sizeof err));
    json_t *o = rg_jsonl_trace_json(&run, &run.traces[1], 5, false);
    assert_non_null(o);
    json_t *hop = json_array_get(json_object_get(o, "hops"), 3); /* TTL 4 */
    json_t *ext = json_object_get(
        json_object_get(json_array_get(json_object_get(hop, "probes"), 0), "reply"),
        "extensions");
    json_t *in = json_array_get(json_object_get(ext, "interfaces"), 0);
    assert_string_equal(json_string_value(json_object_get(in, "address")), "2001:db8:fa0::4");
    assert_string_equal(json_string_value(json_object_get(in, "name")), "ge-0/0/1.0");
    assert_int_equal(json_integer_value(json_object_get(in, "mtu")), 1500);
    json_decref(o);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_line_marks_inference_provisional),
        cmocka_unit_test(test_file_appears_whole_on_close),
        cmocka_unit_test(test_annotated_line),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_unfinished_run_says_incomplete),
        cmocka_unit_test(test_long_line_written_whole),
        cmocka_unit_test(test_unwritable_prefix_is_one_error),
        cmocka_unit_test(test_trace_line_keeps_extensions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
