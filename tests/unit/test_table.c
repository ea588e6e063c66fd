/* The table against golden files written from the rules in output/table.h's
 * brief (scapy's make_table), plus the edges a golden file would hide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <locale.h>
#include <string.h>

#include "input/json_read.h"
#include "model/infer.h"
#include "model/result.h"
#include "output/table.h"
#include "output/text.h"

#ifndef RG_SOURCE_ROOT
#define RG_SOURCE_ROOT "."
#endif

#define T0 1795618200 /* 2026-11-25T14:50:00Z */

static rg_trace *add_trace(rg_run *run, const char *target, const char *dst,
                           uint16_t port, unsigned min_ttl, unsigned attempts)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces];
    assert_true(rg_trace_init(t, target, &a, port, min_ttl, 30, attempts));
    run->ntraces++;
    t->sport = 40000;
    return t;
}

/* Records one more attempt sent at ttl; the caller may then answer it. */
static rg_probe *sent(rg_trace *t, unsigned ttl)
{
    unsigned a = rg_trace_sent(t, ttl);
    rg_probe *p = rg_trace_probe(t, ttl, a);
    assert_non_null(p);
    p->sent.tv_sec = T0 + ttl;
    p->sent.tv_nsec = 123456789;
    rg_trace_set_sent(t, ttl, rg_trace_sent(t, ttl) + 1);
    return p;
}

static void silent(rg_trace *t, unsigned ttl, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sent(t, ttl);
}

static void answer(rg_probe *p, const char *from, enum rg_reply_kind kind,
                   uint8_t type, uint8_t code, uint32_t rtt_us)
{
    assert_true(rg_addr_parse(from, &p->from));
    p->kind = (uint8_t)kind;
    p->icmp_type = type;
    p->icmp_code = code;
    p->tcp_flags = kind == RG_REPLY_SYNACK ? 0x12 : kind == RG_REPLY_RST ? 0x14 : 0;
    p->rtt_us = rtt_us;
    p->reply_ttl = 64;
    p->received = p->sent;
}

static void te(rg_trace *t, unsigned ttl, const char *from)
{
    answer(sent(t, ttl), from, RG_REPLY_TIME_EXCEEDED, 11, 0, 100 * ttl);
}

/* Two traces as in the brief: one open, one closed, three hops. */
static void build_two(rg_run *run)
{
    rg_trace *t = add_trace(run, "198.19.32.5", "198.19.32.5", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.32.5", RG_REPLY_SYNACK, 0, 0, 412);
    rg_trace_conclude(t);
    t = add_trace(run, "198.19.32.5", "198.19.32.5", 443, 1, 2);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.32.5", RG_REPLY_RST, 0, 0, 388);
    rg_trace_conclude(t);
}

static void build_mixed(rg_run *run)
{
    rg_trace *t = add_trace(run, "198.19.0.5", "198.19.0.5", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.5", RG_REPLY_SYNACK, 0, 0, 412);

    t = add_trace(run, "198.19.0.5", "198.19.0.5", 443, 1, 2);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.5", RG_REPLY_RST, 0, 0, 1500);

    /* Filtered: a silent router at 2, an answer only on the retry at 3,
     * then five silent TTLs (the gap) and the trace gives up. */
    t = add_trace(run, "198.19.0.7", "198.19.0.7", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    silent(t, 2, 2);
    sent(t, 3);
    answer(sent(t, 3), "198.18.2.3", RG_REPLY_TIME_EXCEEDED, 11, 0, 900);
    for (unsigned ttl = 4; ttl <= 8; ttl++)
        silent(t, ttl, 2);

    t = add_trace(run, "web1.h1.lab", "198.19.0.1", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    answer(sent(t, 2), "198.19.0.1", RG_REPLY_SYNACK, 0, 0, 250);

    t = add_trace(run, "198.19.0.9", "198.19.0.9", 22, 1, 2);
    te(t, 1, "198.18.0.1");
    answer(sent(t, 2), "198.18.1.2", RG_REPLY_UNREACHABLE, 3, 13, 300);

    t = add_trace(run, "198.19.0.11", "198.19.0.11", 80, 1, 2);
    for (unsigned ttl = 1; ttl <= 5; ttl++)
        silent(t, ttl, 2);

    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    assert_true(rg_run_add_unresolved(run, "nosuch.lab", "Name or service not known"));
    run->stats.unmatched = 3;
}

static void build_v6(rg_run *run)
{
    rg_trace *t = add_trace(run, "2001:db8:310::15", "2001:db8:310::15", 443, 1, 3);
    te(t, 1, "2001:db8:ffff:1::1");
    sent(t, 2);
    answer(sent(t, 2), "2001:db8:200::2", RG_REPLY_TIME_EXCEEDED, 3, 0, 700);
    answer(sent(t, 3), "2001:db8:310::15", RG_REPLY_SYNACK, 0, 0, 1234);

    /* The destination itself refuses: ICMPv6 type 1 code 1. */
    t = add_trace(run, "2001:db8:310::6", "2001:db8:310::6", 80, 1, 3);
    te(t, 1, "2001:db8:ffff:1::1");
    te(t, 2, "2001:db8:200::2");
    answer(sent(t, 3), "2001:db8:310::6", RG_REPLY_UNREACHABLE, 1, 1, 800);

    t = add_trace(run, "db.h6.lab", "2001:db8:310::7", 5432, 2, 3);
    te(t, 2, "2001:db8:200::2");
    answer(sent(t, 3), "2001:db8:310::7", RG_REPLY_RST, 0, 0, 999);

    for (size_t i = 0; i < run->ntraces; i++)
        rg_trace_conclude(&run->traces[i]);
    run->stats.unmatched = 1;
}

/* noinline: GCC 12 at -O3 otherwise takes the returned text for a pointer
 * into this frame (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *render(const rg_run *run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_table_write(f, run));
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *read_golden(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/%s", RG_SOURCE_ROOT, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    assert_true(feof(f));
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void check_golden(void (*build)(rg_run *), const char *golden)
{
    rg_run run = {0};
    build(&run);
    char *got = render(&run);
    if (getenv("RG_UPDATE_GOLDEN")) { /* as test_dot: review the diff it makes */
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/golden/%s", RG_SOURCE_ROOT, golden);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(got, f);
        assert_int_equal(fclose(f), 0);
    }
    char *want = read_golden(golden);
    if (strcmp(got, want) != 0)
        print_error("--- want %s\n%s--- got\n%s---\n", golden, want, got);
    assert_string_equal(got, want);
    free(got);
    /* The same table from the traces' compact form (the slots used). */
    for (size_t i = 0; i < run.ntraces; i++)
        assert_true(rg_trace_compact(&run.traces[i]));
    got = render(&run);
    assert_string_equal(got, want);
    free(got);
    free(want);
    rg_run_free(&run);
}

static void test_golden_two(void **state)
{
    (void)state;
    check_golden(build_two, "table-two.txt");
}

static void test_golden_mixed(void **state)
{
    (void)state;
    check_golden(build_mixed, "table-mixed.txt");
}

static void test_golden_v6(void **state)
{
    (void)state;
    check_golden(build_v6, "table-v6.txt");
}

/* Independent of the golden files: no line may end in a space. */
static void test_no_trailing_space(void **state)
{
    (void)state;
    rg_run run = {0};
    build_mixed(&run);
    char *got = render(&run);
    for (char *nl = strchr(got, '\n'); nl; nl = strchr(nl + 1, '\n'))
        assert_true(nl == got || nl[-1] != ' ');
    free(got);
    rg_run_free(&run);
}

static void test_unresolved_only(void **state)
{
    (void)state;
    rg_run run = {0};
    assert_true(rg_run_add_unresolved(&run, "nosuch.lab", "Name or service not known"));
    assert_true(rg_run_add_unresolved(&run, "v6only.lab", "no IPv4 address"));
    char *got = render(&run);
    assert_string_equal(got, "nosuch.lab: not traced: Name or service not known\n"
                             "v6only.lab: not traced: no IPv4 address\n");
    free(got);
    rg_run_free(&run);
}

/* Names come from untrusted target files: no escape sequence may reach the
 * terminal, and the escaped form keeps the summary columns aligned. */
static void test_control_chars_escaped(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "evil\x1b[2J\n", "198.19.0.5", 80, 1, 1);
    answer(sent(t, 1), "198.19.0.5", RG_REPLY_SYNACK, 0, 0, 5);
    t = add_trace(&run, "198.19.0.6", "198.19.0.6", 80, 1, 1);
    answer(sent(t, 1), "198.19.0.6", RG_REPLY_RST, 0, 0, 7);
    rg_trace_conclude(&run.traces[0]);
    rg_trace_conclude(&run.traces[1]);
    assert_true(rg_run_add_unresolved(&run, "x\ty", "bad\x07"));
    char *got = render(&run);
    assert_null(strchr(got, '\x1b'));
    assert_null(strchr(got, '\t'));
    assert_null(strchr(got, '\x07'));
    assert_string_equal(got,
        "  198.19.0.5:80      198.19.0.6:80\n"
        "1 198.19.0.5      SA 198.19.0.6      RA\n"
        "\n"
        "evil\\x1b[2J\\x0a:80 (198.19.0.5)  reached at hop 1, port open (SA), rtt 0.005 ms\n"
        "198.19.0.6:80" "                    " /* 31 - 13 + 2 */ "reached at hop 1, port closed (RA), rtt 0.007 ms\n"
        "x\\x09y: not traced: bad\\x07\n");
    free(got);
    rg_run_free(&run);
}

/* A trace that never sent (e.g. the run was cut short) has a column header
 * but no rows (so an empty label column of width 0), and says so. */
/* A table wider than the terminal wraps into blocks of columns that fit,
 * each with its header and the TTL column; width 0 keeps it whole. */
static void test_wraps_to_width(void **state)
{
    (void)state;
    rg_run run = {0};
    build_two(&run);
    char *whole = render(&run);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_table_write_width(f, &run, 30));
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, "  198.19.32.5:80\n"
                             "1 198.18.0.1      11\n"
                             "2 198.18.1.2      11\n"
                             "3 198.19.32.5     SA\n"
                             "\n"
                             "  198.19.32.5:443\n"
                             "1 198.18.0.1      11\n"
                             "2 198.18.1.2      11\n"
                             "3 198.19.32.5     RA\n"
                             "\n"
                             "198.19.32.5:80   reached at hop 3, port open (SA), rtt 0.412 ms\n"
                             "198.19.32.5:443  reached at hop 3, port closed (RA), rtt 0.388 ms\n");
    free(buf);
    /* Wide enough: the same as unwrapped. */
    buf = NULL;
    f = open_memstream(&buf, &len);
    assert_true(rg_table_write_width(f, &run, 41));
    assert_int_equal(fclose(f), 0);
    assert_string_equal(buf, whole);
    free(buf);
    free(whole);
    rg_run_free(&run);
}

static void test_nothing_sent(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80, 1, 1);
    rg_trace_conclude(t);
    run.stats.unmatched = 1;
    char *got = render(&run);
    assert_string_equal(got, " 198.19.0.5:80\n"
                             "\n"
                             "198.19.0.5:80  not reached, port unknown: nothing was sent\n"
                             "1 reply matched no probe and was ignored\n");
    free(got);
    run.stats.malformed = 2; /* e.g. forged ICMP errors with their quote cut short */
    got = render(&run);
    assert_non_null(strstr(got, "was ignored\n2 malformed packets were ignored\n"));
    free(got);
    rg_run_free(&run);
}

/* A trace a signal cut short says so on its summary line. */
static void test_incomplete_marked(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80, 1, 1);
    rg_trace_conclude(t);
    t->incomplete = true;
    run.interrupted = true;
    char *got = render(&run);
    assert_string_equal(got, " 198.19.0.5:80\n"
                             "\n"
                             "198.19.0.5:80  not reached, port unknown: nothing was sent "
                             "[incomplete: run interrupted]\n");
    free(got);
    rg_run_free(&run);
}

/* An unreachable code without a name, and a type that is not "destination
 * unreachable" for the family, still say what arrived. */
static void test_unreachable_unnamed(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_trace *t = add_trace(&run, "198.19.0.5", "198.19.0.5", 80, 1, 1);
    answer(sent(t, 1), "198.18.0.1", RG_REPLY_UNREACHABLE, 3, 99, 5);
    t = add_trace(&run, "2001:db8::5", "2001:db8::5", 80, 1, 1);
    answer(sent(t, 1), "2001:db8::1", RG_REPLY_UNREACHABLE, 1, 3, 5);
    t = add_trace(&run, "2001:db8::6", "2001:db8::6", 80, 1, 1);
    answer(sent(t, 1), "2001:db8::1", RG_REPLY_UNREACHABLE, 3, 13, 5);
    t = add_trace(&run, "2001:db8::7", "2001:db8::7", 80, 1, 1);
    answer(sent(t, 1), "2001:db8::1", RG_REPLY_UNREACHABLE, 1, 8, 5);
    t = add_trace(&run, "198.19.0.8", "198.19.0.8", 80, 1, 1);
    answer(sent(t, 1), "198.18.0.1", RG_REPLY_UNREACHABLE, 3, 15, 5);
    for (size_t i = 0; i < run.ntraces; i++)
        rg_trace_conclude(&run.traces[i]);
    char *got = render(&run);
    /* The last entry of each code table. */
    assert_non_null(strstr(got, "[2001:db8::7]:80  not reached, port unreachable "
                                "(!F, ICMPv6 1/8 headers too long) from 2001:db8::1 at hop 1\n"));
    assert_non_null(strstr(got, "198.19.0.8:80     not reached, port unreachable "
                                "(!C, ICMP 3/15 precedence cutoff in effect) from 198.18.0.1 at hop 1\n"));
    assert_non_null(strstr(got, "198.19.0.5:80     not reached, port unreachable "
                                "(!99, ICMP 3/99) from 198.18.0.1 at hop 1\n"));
    assert_non_null(strstr(got, "[2001:db8::5]:80  not reached, port unreachable "
                                "(!H, ICMPv6 1/3 address unreachable) from 2001:db8::1 at hop 1\n"));
    assert_non_null(strstr(got, "[2001:db8::6]:80  not reached, port unreachable "
                                "(!13, ICMPv6 3/13) from 2001:db8::1 at hop 1\n"));
    /* The cells carry traceroute's marks, and the footer says what they mean. */
    assert_non_null(strstr(got, "\n1 198.18.0.1      !99 "));
    assert_non_null(strstr(got, "\n5 hops answered destination unreachable (marked as traceroute does: "
                                "!N network, !H host, !P protocol or port, !A/!X administratively "
                                "prohibited, !<code> other)\n"));
    free(got);
    rg_run_free(&run);
}

/* A lost SYN-ACK: the retry's RST may be the reset of our own half-open
 * connection (marked ?), the port check above it finds the port open; a
 * port whose RST stayed in doubt is unknown. */
/* Rate-limited routers: a hop other traces showed is printed with its
 * address and (11), never as this trace's own answer; a hop whose router
 * answered others is ~; one nothing answered at is -. The port probe alone
 * settles a port whose hops never got that far. */
static void test_inferred_rate_limited_and_port_probe(void **state)
{
    (void)state;
    rg_run run = {0};
    char dst[32];
    for (unsigned i = 0; i < RG_INFER_WITNESSES; i++) { /* witnesses */
        snprintf(dst, sizeof dst, "198.19.0.%u", 10 + i);
        rg_trace *t = add_trace(&run, dst, dst, 80, 1, 2);
        te(t, 1, "198.18.0.1");
        te(t, 2, "198.18.1.2");
        answer(sent(t, 3), dst, RG_REPLY_SYNACK, 0, 0, 300);
        rg_trace_conclude(t);
    }
    rg_trace *t = add_trace(&run, "198.19.0.99", "198.19.0.99", 80, 1, 2);
    silent(t, 1, 2); /* rationed by r1: inferred */
    te(t, 2, "198.18.1.2");
    answer(sent(t, 3), "198.19.0.99", RG_REPLY_SYNACK, 0, 0, 300);
    rg_trace_conclude(t);
    /* A flow on another branch after r1: r1's successor is no longer
     * inferable, but some router there answers. */
    t = add_trace(&run, "198.19.0.50", "198.19.0.50", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    te(t, 2, "198.18.1.3");
    answer(sent(t, 3), "198.19.0.50", RG_REPLY_SYNACK, 0, 0, 300);
    rg_trace_conclude(t);
    /* So this trace's hop 2 is rate-limited (~), its hop 3 silent (-);
     * the port probe alone says the port is open. */
    t = add_trace(&run, "198.19.0.77", "198.19.0.77", 80, 1, 2);
    te(t, 1, "198.18.0.1");
    silent(t, 2, 2);
    silent(t, 3, 2);
    rg_probe *pp = rg_trace_probe(t, RG_PORT_PROBE_TTL, 0);
    pp->sent.tv_sec = T0;
    rg_trace_set_sent(t, RG_PORT_PROBE_TTL, 1);
    answer(pp, "198.19.0.77", RG_REPLY_SYNACK, 0, 0, 500);
    pp->reply_ttl = 60;
    rg_trace_conclude(t);
    assert_true(rg_run_infer(&run, RG_INFER_WITNESSES));
    char *got = render(&run);
    static const char *const want[] = {
        " 198.18.0.1      (11) 198.18.0.1      11 198.18.0.1      11\n",
        " 198.18.1.2      11   198.18.1.3      11 ~\n",
        "\n3 ", " -\n",
        ("\n198.19.0.77:80  not reached by the hops, port open (SA) on the port probe, "
         "about 5 hops away, rtt 0.500 ms\n"),
        "\n1 hop inferred from other traces, not measured on its own flow (marked (11))\n",
        "\n1 hop unanswered where the router answered other probes: rate-limited (marked ~)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("missing %s in:\n%s", want[i], got);
    free(got);
    rg_run_free(&run);
}

static void test_port_checks_and_doubtful_rst(void **state)
{
    (void)state;
    rg_run run = {0};
    const char *dst = "198.19.0.201";
    for (uint16_t port = 80; port <= 81; port++) {
        rg_trace *t = add_trace(&run, dst, dst, port, 1, 2);
        for (unsigned ttl = 1; ttl <= 5; ttl++)
            te(t, ttl, "198.18.0.1");
        silent(t, 6, 1);
        rg_probe *retry = sent(t, 6);
        retry->sent.tv_sec++; /* after the first, which stays silent */
        answer(retry, dst, RG_REPLY_RST, 0, 0, 90);
        if (port == 80) {
            rg_probe *check = sent(t, 7);
            check->sent.tv_sec++;
            check->port_check = true;
            answer(check, dst, RG_REPLY_SYNACK, 0, 0, 95);
        }
        rg_trace_conclude(t);
    }
    assert_int_equal(run.traces[0].state, RG_PORT_OPEN);
    assert_int_equal(run.traces[1].state, RG_PORT_UNKNOWN);
    char *got = render(&run);
    static const char *const want[] = {
        "\n6 198.19.0.201    RA?* 198.19.0.201    RA?*\n",
        "\n7 198.19.0.201    SA\n",
        "\n198.19.0.201:80  reached at hop 6, port open (SA), rtt 0.090 ms\n",
        "\n198.19.0.201:81  reached at hop 6, port unknown (RA, maybe resetting a half-open "
        "connection of ours), rtt 0.090 ms\n",
        "\n2 hops answered only a retry (marked *)\n",
        "\n2 RSTs may be the reset of a half-open connection left by a lost SYN-ACK "
        "(marked ?)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("missing %s in:\n%s", want[i], got);
    free(got);
    rg_run_free(&run);
}

/* Many traces over many TTLs: the grid would be tens of MB (issue 12: a
 * 7 MB document made a 90 MB table); it is left out with one line, and the
 * summary keeps one line per trace. */
static void test_grid_size_capped(void **state)
{
    (void)state;
    rg_run run = {0};
    enum { N = 9000 }; /* x TTL 1-30: 270,000 cells */
    for (unsigned i = 0; i < N; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "198.18.%u.%u", i / 250, i % 250 + 1);
        rg_trace *t = add_trace(&run, dst, dst, 80, 1, 1);
        silent(t, 30, 1);
        rg_trace_conclude(t);
    }
    char *got = render(&run);
    size_t len = strlen(got), lines = 0;
    for (char *p = got; (p = strchr(p, '\n')); p++)
        lines++;
    assert_true(len < 1024 * 1024);
    static const char want[] = "(TTL-by-trace grid left out: 9000 traces over 30 TTLs is "
                               "more than 262144 cells;";
    assert_memory_equal(got, want, sizeof want - 1);
    assert_int_equal(lines, 2 + N);
    assert_non_null(strstr(got, "\n198.18.35.250:80  not reached, port unknown: no answer "
                                "at all to 1 probe\n"));
    free(got);
    rg_run_free(&run);
}

/* A literal backslash is doubled, so "\x1b" text and an escaped ESC differ;
 * valid UTF-8 shows as itself when the terminal is UTF-8 (columns counted
 * as the terminal shows them), escaped otherwise; C1 controls, bidi
 * overrides and invalid UTF-8 never show raw. */
static void test_backslash_and_utf8(void **state)
{
    (void)state;
    char buf[256];
    FILE *f;
    static const char name[] = "a\\x1b\x1b K\xc3\xb6ln \xe4\xb8\xad \xc2\x85 \xe2\x80\xae \xff";
    rg_text_set_utf8(false);
    f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(rg_text_clean(f, name), 62);
    fclose(f);
    assert_string_equal(buf, "a\\\\x1b\\x1b K\\xc3\\xb6ln \\xe4\\xb8\\xad \\xc2\\x85 "
                             "\\xe2\\x80\\xae \\xff");
    assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
    rg_text_set_utf8(true);
    f = fmemopen(buf, sizeof buf, "w");
    /* 11 for a, the backslash, x1b, ESC and a space; 5 for "Köln "; 3 for the CJK
     * character (two columns) and a space; 9 for C1; 13 for RLO; 4 for 0xff */
    assert_int_equal(rg_text_clean(f, name), 11 + 5 + 3 + 9 + 13 + 4);
    fclose(f);
    assert_string_equal(buf, "a\\\\x1b\\x1b K\xc3\xb6ln \xe4\xb8\xad \\xc2\\x85 "
                             "\\xe2\\x80\\xae \\xff");
    f = fmemopen(buf, sizeof buf, "w");
    rg_text_line(f, "/tmp/a\x1b]0;x\x07 K\xc3\xb6ln \\x1b \xc2\x9b \xff");
    fclose(f);
    assert_string_equal(buf, "/tmp/a\\x1b]0;x\\x07 K\xc3\xb6ln \\x1b \\xc2\\x9b \\xff");
    rg_text_set_utf8(false);
    setlocale(LC_CTYPE, "C");
}

/* ICMP extensions mark the code: M an MPLS stack, I interfaces, MI both;
 * the footer says how many and where to read them. */
static void test_extension_marks(void **state)
{
    (void)state;
    rg_run run;
    char err[512];
    assert_true(rg_json_read_file(RG_SOURCE_ROOT "/tests/data/icmpext-lab.json", &run, err,
                                  sizeof err));
    char *got = render(&run);
    static const char *const want[] = {
        "\n1 198.18.100.1    11   2001:db8:fa0::1 11\n"
        "2 198.18.100.2    11M  2001:db8:fa0::2 11M\n"
        "3 198.18.100.3    11M  2001:db8:fa0::3 11M\n"
        "4 198.18.100.4    11I  2001:db8:fa0::4 11I\n"
        "5 198.18.100.5    11MI 2001:db8:fa0::5 11MI\n"
        "6 198.18.101.6    SA   2001:db8:fa1::6 SA\n",
        "\n6 hops answered with an MPLS label stack (RFC 4950, marked M; the labels are in the "
        "AS-path view and the JSON)\n4 hops named their interface (RFC 5837, marked I)\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(got, want[i]))
            fail_msg("missing %s in\n%s", want[i], got);
    free(got);
    rg_run_free(&run);
}

static void test_write_error(void **state)
{
    (void)state;
    rg_run run = {0};
    build_two(&run);
    FILE *f = fopen("/dev/null", "r");
    assert_non_null(f);
    assert_false(rg_table_write(f, &run));
    fclose(f);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_two),
        cmocka_unit_test(test_golden_mixed),
        cmocka_unit_test(test_port_checks_and_doubtful_rst),
        cmocka_unit_test(test_inferred_rate_limited_and_port_probe),
        cmocka_unit_test(test_golden_v6),
        cmocka_unit_test(test_no_trailing_space),
        cmocka_unit_test(test_unresolved_only),
        cmocka_unit_test(test_control_chars_escaped),
        cmocka_unit_test(test_nothing_sent),
        cmocka_unit_test(test_wraps_to_width),
        cmocka_unit_test(test_incomplete_marked),
        cmocka_unit_test(test_unreachable_unnamed),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_extension_marks),
        cmocka_unit_test(test_grid_size_capped),
        cmocka_unit_test(test_backslash_and_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
