/* The middlebox changes in every output: the text lines after the table
 * (exact text), the JSON per hop (parsed fields), the graph's mark on the
 * hop (DOT text); and nothing in any of them for a run where nothing
 * changed. The run is hand-built: quotes fed through rg_middlebox_note as
 * the engine does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "graph/graph.h"
#include "input/json_read.h"
#include "model/middlebox.h"
#include "model/result.h"
#include "output/dot.h"
#include "output/html.h"
#include "output/json.h"
#include "output/middlebox.h"
#include "probe/probe.h"
#include "probe/wire.h"

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static size_t quote_cut; /* 0: whole quotes; else the bytes each quote holds */

static void set_dscp(uint8_t *q) { q[1] = 46 << 2; }
static void set_dscp_mss(uint8_t *q) { q[1] = 46 << 2; rg_put_be16(q + 42, 1300); }

/* Hop ttl of t answers time exceeded from 198.18.9.<ttl>, quoting the
 * probe edited by edit (NULL: as sent). */
static void answer(rg_trace *t, unsigned ttl, void (*edit)(uint8_t *))
{
    rg_probe_spec s = {.src = t->src, .dst = t->dst, .flow = t->sport, .dport = t->dport,
                       .ttl = 1, .seq = rg_probe_seq(t->seq_base, ttl, 0),
                       .ip_id = rg_probe_ip_id(t->seq_base, ttl, 0)};
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = rg_probe_build(&s, q, sizeof q);
    if (edit)
        edit(q);
    rg_trace_set_sent(t, ttl, 1);
    rg_probe *p = rg_trace_probe(t, ttl, 0);
    p->sent.tv_sec = 1;
    p->received.tv_sec = 1;
    p->kind = RG_REPLY_TIME_EXCEEDED;
    p->icmp_type = 11;
    p->from = addr("198.18.9.0");
    p->from.bytes[3] = (uint8_t)ttl;
    rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .quote = q,
                  .quote_len = quote_cut ? quote_cut : n};
    rg_middlebox_note(t, ttl, 0, &r);
}

/* One trace to 198.19.0.5:port, hops 1-4 answering, then silence
 * (filtered); edits[i] for hop i + 1. */
static void build_run(rg_run *run, uint16_t port, void (*const edits[4])(uint8_t *))
{
    memset(run, 0, sizeof *run);
    run->traces = calloc(1, sizeof *run->traces);
    assert_non_null(run->traces);
    run->ntraces = 1;
    rg_trace *t = &run->traces[0];
    rg_addr d = addr("198.19.0.5");
    assert_true(rg_trace_init(t, "198.19.0.5", &d, port, 1, 8, 3));
    t->src = addr("198.18.0.2");
    t->sport = 40000;
    t->seq_base = 0x10203040u;
    for (unsigned ttl = 1; ttl <= 4; ttl++)
        answer(t, ttl, edits[ttl - 1]);
    rg_trace_set_sent(t, 5, 2);
    rg_trace_set_sent(t, 6, 2);
    rg_trace_conclude(t);
    t->state = RG_PORT_FILTERED; /* as rg_run_conclude would settle it */
    assert_true(rg_run_collect_hosts(run));
}

static char *text_of(const rg_run *run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_middlebox_write(f, run));
    fclose(f);
    return buf;
}

static char *dot_of(const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    assert_non_null(g);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_dot_write(f, g));
    fclose(f);
    rg_graph_free(g);
    return buf;
}

/* The HTML report (no SVG) as a string. */
static char *html_of(const rg_run *run)
{
    rg_graph *g = rg_graph_build(run);
    json_t *doc = rg_json_build(run, NULL);
    assert_non_null(g);
    assert_non_null(doc);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_html_write(f, run, g, NULL, 0, doc));
    fclose(f);
    json_decref(doc);
    rg_graph_free(g);
    return buf;
}

/* The DOT line of the node named address. */
static const char *node_line(const char *dot, const char *address, char *buf, size_t len)
{
    char key[80];
    snprintf(key, sizeof key, "  \"%s\" [label=", address);
    const char *p = strstr(dot, key);
    assert_non_null(p);
    const char *end = strchr(p, '\n');
    assert_non_null(end);
    snprintf(buf, len, "%.*s", (int)(end - p), p);
    return buf;
}

static void changes_in_every_output(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, set_dscp, set_dscp_mss, set_dscp_mss};
    rg_run run;
    build_run(&run, 443, edits);

    char *text = text_of(&run);
    assert_string_equal(text,
        "\nWhat the path changed in the probes (from the routers' quotes):\n"
        "198.19.0.5:443 hop 2 198.18.9.2: DSCP 0 -> 46 (rewritten between TTL 1 and 2)\n"
        "198.19.0.5:443 hop 3 198.18.9.3: MSS 1460 -> 1300 (rewritten between TTL 2 and 3)\n"
        "198.19.0.5:443 filtered: SYN last seen at hop 4 198.18.9.4\n");
    free(text);

    json_t *doc = rg_json_build(&run, NULL);
    assert_non_null(doc);
    json_t *t = json_array_get(json_object_get(doc, "traces"), 0);
    assert_int_equal(json_integer_value(json_object_get(t, "syn_last_seen_ttl")), 4);
    json_t *hops = json_object_get(t, "hops");
    assert_null(json_object_get(json_array_get(hops, 0), "middlebox"));
    json_t *m2 = json_object_get(json_array_get(hops, 1), "middlebox");
    assert_int_equal(json_array_size(m2), 1);
    json_t *c = json_array_get(m2, 0);
    assert_string_equal(json_string_value(json_object_get(c, "field")), "dscp");
    assert_int_equal(json_integer_value(json_object_get(c, "from")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "to")), 46);
    assert_int_equal(json_integer_value(json_object_get(c, "after_ttl")), 1);
    json_t *m3 = json_object_get(json_array_get(hops, 2), "middlebox");
    assert_int_equal(json_array_size(m3), 1);
    c = json_array_get(m3, 0);
    assert_string_equal(json_string_value(json_object_get(c, "field")), "mss");
    assert_int_equal(json_integer_value(json_object_get(c, "to")), 1300);
    assert_null(json_object_get(json_array_get(hops, 3), "middlebox"));
    json_t *reply = json_object_get(json_array_get(json_object_get(json_array_get(hops, 3),
                                                                   "probes"), 0), "reply");
    assert_int_equal(json_integer_value(json_object_get(reply, "quoted_tcp_bytes")), 24);
    json_decref(doc);

    char *dot = dot_of(&run);
    assert_non_null(strstr(dot, "\\nrewritten: dscp\""));
    assert_non_null(strstr(dot, "\\nrewritten: mss\""));
    /* Marked where the change first shows, not on every later hop. */
    char line[512];
    assert_string_equal(node_line(dot, "198.18.9.2", line, sizeof line),
                        "  \"198.18.9.2\" [label=\"198.18.9.2\\n0.00 ms\\nrewritten: dscp\", "
                        "color=\"#ff7f0e\", penwidth=2.5];");
    assert_null(strstr(node_line(dot, "198.18.9.4", line, sizeof line), "rewritten"));
    assert_null(strstr(node_line(dot, "198.18.9.1", line, sizeof line), "rewritten"));
    assert_non_null(strstr(dot, "<b>rewritten</b> <font color=\"#ff7f0e\">(orange border)"));
    free(dot);
    rg_run_free(&run);
}

static void nothing_when_nothing_changed(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, NULL, NULL, NULL};
    rg_run run;
    build_run(&run, 80, edits);
    run.traces[0].state = RG_PORT_OPEN;
    char *text = text_of(&run);
    assert_string_equal(text, "");
    free(text);
    char *dot = dot_of(&run);
    assert_null(strstr(dot, "rewritten"));
    free(dot);
    json_t *doc = rg_json_build(&run, NULL);
    json_t *t = json_array_get(json_object_get(doc, "traces"), 0);
    assert_null(json_object_get(t, "syn_last_seen_ttl"));
    json_t *hops = json_object_get(t, "hops");
    for (size_t i = 0; i < json_array_size(hops); i++)
        assert_null(json_object_get(json_array_get(hops, i), "middlebox"));
    json_decref(doc);
    rg_run_free(&run);
}

/* Errors quoting our source rewritten (a NAT that leaves quotes alone):
 * never hop answers, reported with the hop that sent the lowest one. */
static void nat_evidence(rg_run *run)
{
    rg_trace *t = &run->traces[0];
    for (unsigned ttl = 6; ttl >= 5; ttl--) {
        rg_probe_spec s = {.src = addr("198.18.13.1"), .dst = t->dst, .flow = t->sport,
                           .dport = t->dport, .ttl = 1,
                           .seq = rg_probe_seq(t->seq_base, ttl, 0)};
        uint8_t q[RG_PROBE_MAXLEN];
        size_t n = rg_probe_build(&s, q, sizeof q);
        rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .from = addr("198.18.9.0"),
                      .quote = q, .quote_len = n};
        r.from.bytes[3] = (uint8_t)ttl;
        rg_middlebox_note_rewritten_source(t, ttl, &r);
    }
}

static void nat_in_every_output(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, NULL, NULL, NULL};
    rg_run run, back = {0};
    build_run(&run, 80, edits);
    run.traces[0].state = RG_PORT_OPEN;
    nat_evidence(&run);
    assert_null(rg_trace_answer(&run.traces[0], 5)); /* not an answer */
    /* The graph marks the hop after which it happened (hop 5 has no node). */
    char *dot = dot_of(&run);
    char line[512];
    assert_non_null(strstr(node_line(dot, "198.18.9.4", line, sizeof line),
                           "\\nrewritten after it: src\", color=\"#ff7f0e\""));
    assert_null(strstr(dot, "\"198.18.9.5\""));
    free(dot);
    char *text = text_of(&run);
    assert_string_equal(text,
        "\nWhat the path changed in the probes (from the routers' quotes):\n"
        "198.19.0.5:80 hop 5 198.18.9.5: source address 198.18.0.2 -> 198.18.13.1 "
        "(rewritten between TTL 4 and 5; 2 errors quoting it, not used as hop answers)\n");
    json_t *doc = rg_json_build(&run, NULL);
    json_t *sr = json_object_get(json_array_get(json_object_get(doc, "traces"), 0),
                                 "source_rewritten");
    assert_int_equal(json_integer_value(json_object_get(sr, "ttl")), 5);
    assert_int_equal(json_integer_value(json_object_get(sr, "after_ttl")), 4);
    assert_string_equal(json_string_value(json_object_get(sr, "by")), "198.18.9.5");
    assert_string_equal(json_string_value(json_object_get(sr, "quoted_source")), "198.18.13.1");
    assert_int_equal(json_integer_value(json_object_get(sr, "errors")), 2);
    char *saved = json_dumps(doc, 0);
    char err[256];
    assert_true(rg_json_read_buffer(saved, strlen(saved), &back, err, sizeof err));
    /* (Read back, the trace is concluded again from its probes: silent
     * past hop 4, filtered; the NAT line is the same.) */
    char *again = text_of(&back);
    assert_non_null(strstr(again, "198.19.0.5:80 hop 5 198.18.9.5: source address 198.18.0.2 "
                                  "-> 198.18.13.1 (rewritten between TTL 4 and 5; 2 errors "
                                  "quoting it, not used as hop answers)\n"));
    free(again);
    free(saved);
    free(text);
    json_decref(doc);
    rg_run_free(&back);
    rg_run_free(&run);
}

/* A saved document read back (routegraph render) gives the same lines,
 * the same marks and the same middlebox lists. */
static void saved_run_read_back(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, set_dscp, set_dscp_mss, set_dscp_mss};
    rg_run run, back = {0};
    build_run(&run, 443, edits);
    json_t *doc = rg_json_build(&run, NULL);
    char *saved = json_dumps(doc, 0);
    assert_non_null(saved);
    char err[256];
    assert_true(rg_json_read_buffer(saved, strlen(saved), &back, err, sizeof err));
    char *a = text_of(&run), *b = text_of(&back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    a = dot_of(&run);
    b = dot_of(&back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_t *again = rg_json_build(&back, NULL);
    json_t *h1 = json_object_get(json_array_get(json_object_get(doc, "traces"), 0), "hops");
    json_t *h2 = json_object_get(json_array_get(json_object_get(again, "traces"), 0), "hops");
    /* (The read-back run also has silence labels: rg_run_infer.) */
    assert_int_equal(json_array_size(h1), json_array_size(h2));
    for (size_t i = 0; i < json_array_size(h1); i++) {
        json_t *a1 = json_array_get(h1, i), *a2 = json_array_get(h2, i);
        json_t *m1 = json_object_get(a1, "middlebox"), *m2 = json_object_get(a2, "middlebox");
        assert_true(m1 == m2 || json_equal(m1, m2));
        assert_true(json_equal(json_object_get(a1, "probes"), json_object_get(a2, "probes")));
    }
    assert_int_equal(json_array_size(json_object_get(json_array_get(h2, 1), "middlebox")), 1);
    json_decref(again);
    json_decref(doc);
    free(saved);
    rg_run_free(&back);
    rg_run_free(&run);
}

/* Hostile middlebox lists are refused with the path of what is wrong. */
static void saved_run_bad_lists(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, set_dscp, NULL, NULL};
    rg_run run, back = {0};
    build_run(&run, 80, edits);
    run.traces[0].state = RG_PORT_OPEN;
    json_t *doc = rg_json_build(&run, NULL);
    json_t *c = json_array_get(json_object_get(json_array_get(json_object_get(
        json_array_get(json_object_get(doc, "traces"), 0), "hops"), 1), "middlebox"), 0);
    assert_non_null(c);
    struct { const char *key; json_t *value; const char *says; } bad[] = {
        {"to", json_integer(64), "traces[0].hops[1].middlebox[0].to: expected an integer from 0 to 63"},
        {"after_ttl", json_integer(2), "traces[0].hops[1].middlebox[0].after_ttl: expected an integer from 0 to 1"},
        {"field", json_integer(1), "traces[0].hops[1].middlebox[0].field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *copy = json_deep_copy(doc);
        json_t *cc = json_array_get(json_object_get(json_array_get(json_object_get(
            json_array_get(json_object_get(copy, "traces"), 0), "hops"), 1), "middlebox"), 0);
        json_object_set_new(cc, bad[i].key, bad[i].value);
        char *text = json_dumps(copy, 0);
        char err[256] = "";
        memset(&back, 0, sizeof back);
        assert_false(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
        rg_run_free(&back);
        assert_non_null(strstr(err, bad[i].says));
        free(text);
        json_decref(copy);
    }
    /* An unknown field (an open enumeration) is passed over. */
    json_object_set_new(c, "field", json_string("from-the-future"));
    char *text = json_dumps(doc, 0);
    char err[256];
    memset(&back, 0, sizeof back);
    assert_true(rg_json_read_buffer(text, strlen(text), &back, err, sizeof err));
    char *lines = text_of(&back);
    assert_null(strstr(lines, "rewritten"));
    free(lines);
    free(text);
    rg_run_free(&back);
    json_decref(doc);
    rg_run_free(&run);
}

/* RFC 792 quotes (IP header and 8 bytes of TCP) hold no options: no MSS
 * verdict, and the text says so once. */
static void short_quotes_say_options_not_quoted(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, set_dscp, set_dscp_mss, NULL};
    rg_run run;
    quote_cut = 28;
    build_run(&run, 80, edits);
    quote_cut = 0;
    run.traces[0].state = RG_PORT_OPEN;
    char *text = text_of(&run);
    assert_string_equal(text,
        "\nWhat the path changed in the probes (from the routers' quotes):\n"
        "198.19.0.5:80 hop 2 198.18.9.2: DSCP 0 -> 46 (rewritten between TTL 1 and 2)\n"
        "198.19.0.5:80 hop 4 198.18.9.4: DSCP 46 -> 0 (rewritten between TTL 3 and 4)\n"
        "TCP options not quoted by any hop (8-byte quotes): MSS and option changes "
        "cannot be seen\n");
    free(text);
    json_t *doc = rg_json_build(&run, NULL);
    json_t *hops = json_object_get(json_array_get(json_object_get(doc, "traces"), 0), "hops");
    json_t *reply = json_object_get(json_array_get(json_object_get(json_array_get(hops, 2),
                                                                   "probes"), 0), "reply");
    assert_int_equal(json_integer_value(json_object_get(reply, "quoted_tcp_bytes")), 8);
    json_decref(doc);
    rg_run_free(&run);
}

static void set_dport(uint8_t *q) { rg_put_be16(q + 22, 8080); }
static void set_sport_dport(uint8_t *q) { rg_put_be16(q + 20, 40000 ^ 0x4000); set_dport(q); }

/* Ports rewritten on the way leave the hop's own answers (engine/rematch.h
 * attributes them): one line per change, at the hop it first shows. */
static void ports_rewritten_in_the_text(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, set_dport, set_sport_dport, set_sport_dport};
    rg_run run;
    build_run(&run, 80, edits);
    run.traces[0].state = RG_PORT_OPEN;
    char *text = text_of(&run);
    assert_string_equal(text,
        "\nWhat the path changed in the probes (from the routers' quotes):\n"
        "198.19.0.5:80 hop 2 198.18.9.2: destination port 80 -> 8080 (rewritten between TTL 1 and 2)\n"
        "198.19.0.5:80 hop 3 198.18.9.3: source port 40000 -> 56384 (rewritten between TTL 2 and 3)\n");
    free(text);
    char *dot = dot_of(&run);
    char buf[512];
    assert_non_null(strstr(node_line(dot, "198.18.9.2", buf, sizeof buf), "\\nrewritten: dport\""));
    assert_non_null(strstr(node_line(dot, "198.18.9.3", buf, sizeof buf), "\\nrewritten: sport\""));
    free(dot);
    /* The report's hop rows say it on the row of the hop that showed it. */
    char *html = html_of(&run);
    assert_non_null(strstr(html, "<br/><span class=\"rewrite\">rewritten before this hop: "
                                 "destination port 80 -&gt; 8080</span></td>"));
    assert_non_null(strstr(html, "<br/><span class=\"rewrite\">rewritten before this hop: "
                                 "source port 40000 -&gt; 56384</span></td>"));
    assert_null(strstr(html, "->"));
    free(html);
    rg_run_free(&run);
}

/* Errors from hops 6 and 5 quoting our destination rewritten and the
 * sequence number shifted, as the engine notes them (rematch.h). */
static void rewrite_evidence(rg_run *run, int32_t second_shift)
{
    rg_trace *t = &run->traces[0];
    for (unsigned ttl = 6; ttl >= 5; ttl--) {
        rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .from = addr("198.18.9.0"),
                      .probe_dst = addr("198.18.14.2"), .dport = t->dport};
        r.from.bytes[3] = (uint8_t)ttl;
        assert_true(rg_middlebox_note_evidence(t, RG_QC_DST, ttl, &r, 0));
        assert_true(rg_middlebox_note_evidence(t, RG_QC_SEQ, ttl, &r,
                                               ttl == 6 ? INT32_MIN : second_shift));
    }
}

static void evidence_in_every_output(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, NULL, NULL, NULL};
    rg_run run, back = {0};
    build_run(&run, 80, edits);
    rewrite_evidence(&run, INT32_MIN);
    assert_null(rg_trace_answer(&run.traces[0], 5)); /* not answers */
    const char *want =
        "\nWhat the path changed in the probes (from the routers' quotes):\n"
        "198.19.0.5:80 hop 5 198.18.9.5: destination address 198.19.0.5 -> 198.18.14.2 "
        "(rewritten between TTL 4 and 5; 2 errors quoting it, not used as hop answers)\n"
        "198.19.0.5:80 hop 5 198.18.9.5: sequence number shifted by -2147483648 "
        "(shifted between TTL 4 and 5; 2 errors quoting it, not used as hop answers)\n";
    char *dot = dot_of(&run);
    char line[512];
    assert_non_null(strstr(node_line(dot, "198.18.9.4", line, sizeof line),
                           "\\nrewritten after it: dst, seq\""));
    assert_non_null(strstr(dot, "<b>rewritten after it</b>"));
    free(dot);
    char *html = html_of(&run);
    assert_non_null(strstr(html, "no reply: silent<br/><span class=\"rewrite\">destination "
                                 "address 198.19.0.5 -&gt; 198.18.14.2 before this hop: 2 errors "
                                 "from 198.18.9.5 quoting it, not used as answers</span>"));
    assert_non_null(strstr(html, "<br/><span class=\"rewrite\">sequence number shifted by "
                                 "-2147483648 before this hop: 2 errors from "));
    free(html);
    char *text = text_of(&run);
    assert_non_null(strstr(text, want + 1 + strlen("What the path changed in the probes "
                                                   "(from the routers' quotes):\n")));
    json_t *doc = rg_json_build(&run, NULL);
    json_t *t0 = json_array_get(json_object_get(doc, "traces"), 0);
    json_t *d = json_object_get(t0, "destination_rewritten");
    json_t *q = json_object_get(t0, "sequence_shifted");
    assert_int_equal(json_integer_value(json_object_get(d, "ttl")), 5);
    assert_int_equal(json_integer_value(json_object_get(d, "after_ttl")), 4);
    assert_string_equal(json_string_value(json_object_get(d, "by")), "198.18.9.5");
    assert_string_equal(json_string_value(json_object_get(d, "quoted_destination")), "198.18.14.2");
    assert_int_equal(json_integer_value(json_object_get(d, "errors")), 2);
    assert_int_equal(json_integer_value(json_object_get(q, "shift")), INT32_MIN);
    assert_int_equal(json_integer_value(json_object_get(q, "errors")), 2);
    char *saved = json_dumps(doc, 0);
    char err[256];
    assert_true(rg_json_read_buffer(saved, strlen(saved), &back, err, sizeof err));
    char *again = text_of(&back);
    assert_string_equal(text, again);
    free(again);
    free(saved);
    free(text);
    json_decref(doc);
    rg_run_free(&back);
    rg_run_free(&run);
}

/* What a forger that saw the probe can send is set aside: a shift that
 * differs between errors, or any evidence below a hop that answered with
 * the probe quoted as sent. */
static void evidence_set_aside(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, NULL, NULL, NULL};
    rg_run run;
    build_run(&run, 80, edits);
    rewrite_evidence(&run, 512);
    rg_trace *t = &run.traces[0];
    assert_null(rg_middlebox_evidence(t, RG_QC_SEQ));
    assert_non_null(rg_middlebox_evidence(t, RG_QC_DST));
    rg_probe *p = rg_trace_probe(t, 6, 1);
    p->kind = RG_REPLY_SYNACK;
    p->from = t->dst;
    assert_non_null(rg_middlebox_evidence(t, RG_QC_DST)); /* a NAT restores answers */
    rg_run_free(&run);
    build_run(&run, 80, edits);
    rewrite_evidence(&run, INT32_MIN);
    t = &run.traces[0];
    answer(t, 6, NULL); /* hop 6 quoted the probe as sent */
    assert_null(rg_middlebox_evidence(t, RG_QC_SEQ));
    assert_null(rg_middlebox_evidence(t, RG_QC_DST));
    char *text = text_of(&run);
    assert_null(strstr(text, "not used as hop answers"));
    free(text);
    rg_run_free(&run);
}

/* Port forwarding: the destination and its port rewritten together. */
static void evidence_of_port_forwarding(void **state)
{
    (void)state;
    void (*const edits[4])(uint8_t *) = {NULL, NULL, NULL, NULL};
    rg_run run;
    build_run(&run, 8080, edits);
    rg_trace *t = &run.traces[0];
    rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .from = addr("198.18.9.5"),
                  .probe_dst = addr("198.18.14.2"), .dport = 80};
    assert_true(rg_middlebox_note_evidence(t, RG_QC_DST, 5, &r, 0));
    char *text = text_of(&run);
    assert_non_null(strstr(text, "198.19.0.5:8080 hop 5 198.18.9.5: destination address "
                                 "198.19.0.5 -> 198.18.14.2, port 8080 -> 80 (rewritten between "
                                 "TTL 4 and 5; 1 error quoting it, not used as hop answers)\n"));
    free(text);
    json_t *doc = rg_json_build(&run, NULL);
    json_t *d = json_object_get(json_array_get(json_object_get(doc, "traces"), 0),
                                "destination_rewritten");
    assert_int_equal(json_integer_value(json_object_get(d, "quoted_port")), 80);
    json_decref(doc);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(changes_in_every_output),
        cmocka_unit_test(nothing_when_nothing_changed),
        cmocka_unit_test(saved_run_read_back),
        cmocka_unit_test(nat_in_every_output),
        cmocka_unit_test(short_quotes_say_options_not_quoted),
        cmocka_unit_test(saved_run_bad_lists),
        cmocka_unit_test(ports_rewritten_in_the_text),
        cmocka_unit_test(evidence_in_every_output),
        cmocka_unit_test(evidence_set_aside),
        cmocka_unit_test(evidence_of_port_forwarding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
