/* Command-line tests: one table of valid command lines with the config they
 * must produce, one of invalid ones with the exact error line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/config.h"
#include "cli/options.h"

#define MAXARGS 16

/* "routegraph" is prepended; args end at the first NULL. */
struct valid_case {
    const char *args[MAXARGS];
    /* Space-separated key=value changes from the documented defaults:
     * ports=80,443 nports=N min= max= sport= timeout= retries= rate= gap=
     * family=4|6 output= formats=table|json|table,json given=0|1 n=1 q=1
     * file= targets=a,b */
    const char *expect;
};

struct invalid_case {
    const char *args[MAXARGS];
    const char *err;
};

#define N10 "9999999999"

static const struct valid_case VALID[] = {
    {{"h"}, "targets=h"},
    {{NULL}, ""},
    {{"-p", "80,443,8000-8010", "h"},
     "ports=80,443,8000,8001,8002,8003,8004,8005,8006,8007,8008,8009,8010 targets=h"},
    {{"--ports=443,80,443,80-81", "h"}, "ports=443,80,81 targets=h"},
    {{"--ports", "81-81", "h"}, "ports=81 targets=h"},
    {{"-p", "1-1024", "h"}, "nports=1024 targets=h"},
    {{"-p", "1-1024,1024,512", "h"}, "nports=1024 targets=h"},
    {{"-p", "65535,1", "h"}, "ports=65535,1 targets=h"},
    {{"-p", "1", "-p", "2", "h"}, "ports=2 targets=h"},
    {{"-p080", "h"}, "ports=80 targets=h"},
    {{"--min-ttl", "5", "--max-ttl", "5", "h"}, "min=5 max=5 targets=h"},
    {{"--min-ttl=1", "--max-ttl=64", "h"}, "min=1 max=64 targets=h"},
    {{"--min-ttl", "30", "h"}, "min=30 targets=h"},
    {{"--max-ttl", "1", "h"}, "max=1 targets=h"},
    {{"--port", "443", "h"}, "ports=443 targets=h"},
    {{"--port=22", "h"}, "ports=22 targets=h"},
    {{"--quiet", "--numeric", "h"}, "q=1 n=1 targets=h"},
    {{"--ipv6", "h"}, "family=6 targets=h"},
    {{"--ipv4", "--file", "t.txt"}, "family=4 file=t.txt"},
    {{"--sport", "1", "h"}, "sport=1 targets=h"},
    {{"-P", "udp", "h"}, "method=1 targets=h"},
    {{"--protocol=icmp", "h"}, "method=2 targets=h"},
    {{"-Ptcp", "-P", "udp", "h"}, "method=1 targets=h"},
    {{"--protocol", "tcp", "h"}, "method=0 targets=h"},
    {{"--sport=65535", "h"}, "sport=65535 targets=h"},
    {{"-w", "0.01", "h"}, "timeout=0.01 targets=h"},
    {{"-w", "60", "h"}, "timeout=60 targets=h"},
    {{"--timeout=1.5", "h"}, "timeout=1.5 targets=h"},
    {{"-w", "1e1", "h"}, "timeout=10 targets=h"},
    {{"-w", ".5", "h"}, "timeout=0.5 targets=h"},
    {{"-w3", "h"}, "timeout=3 targets=h"},
    {{"-r", "0", "h"}, "retries=0 targets=h"},
    {{"--retries=5", "h"}, "retries=5 targets=h"},
    {{"--rate", "1", "h"}, "rate=1 targets=h"},
    {{"--rate", "1000000", "h"}, "rate=1000000 targets=h"},
    {{"--gap", "1", "h"}, "gap=1 targets=h"},
    {{"--stop-set", "h"}, "stopset=3 targets=h"},
    {{"--stop-set=7", "h"}, "stopset=7 targets=h"},
    {{"--multipath", "h"}, "multipath=95 targets=h"},
    {{"--multipath=95", "h"}, "multipath=95 targets=h"},
    {{"--multipath=99", "h"}, "multipath=99 targets=h"},
    {{"--asn-source", "none", "h"}, "asnsrc=0 targets=h"},
    {{"--asn-source", "offline,cymru", "h"}, "asnsrc=3 targets=h"},
    {{"--asn-source=cymru", "h"}, "asnsrc=2 targets=h"},
    {{"--gap", "64", "h"}, "gap=64 targets=h"},
    {{"-4", "h"}, "family=4 targets=h"},
    {{"-6", "h"}, "family=6 targets=h"},
    {{"-4", "-4", "h"}, "family=4 targets=h"},
    {{"-46", "h"}, "family=46 targets=h"},
    {{"-6", "h", "-4"}, "family=46 targets=h"},
    {{"--both-families", "h"}, "family=46 targets=h"},
    {{"-o", "out", "h"}, "output=out formats=table,json targets=h"},
    {{"--output=out", "--format", "json", "h"},
     "output=out formats=json given=1 targets=h"},
    {{"-o", "x", "--format=json,table", "h"},
     "output=x formats=table,json given=1 targets=h"},
    {{"--format", "json", "h"}, "formats=json given=1 targets=h"},
    {{"--format", "table,table", "h"}, "formats=table given=1 targets=h"},
    {{"-f", "list.txt"}, "file=list.txt"},
    {{"-f", "-"}, "file=-"},
    {{"-nq", "a", "b"}, "n=1 q=1 targets=a,b"},
    {{"-n", "-q", "a"}, "n=1 q=1 targets=a"},
    {{"a", "-p", "443", "b"}, "ports=443 targets=a,b"},
    {{"--", "-x", "--bogus"}, "targets=-x,--bogus"},
    {{"-p", "443", "--rate=10", "--gap=3", "-r2", "-w", "0.25", "-6", "-n",
      "--min-ttl=2", "--max-ttl=9", "--sport=4000", "a", "b", "c"},
     "ports=443 rate=10 gap=3 retries=2 timeout=0.25 family=6 n=1 min=2 max=9 "
     "sport=4000 targets=a,b,c"},
};

static const struct invalid_case INVALID[] = {
    {{"--bogus"}, "unknown option '--bogus'"},
    {{"--bogus=1", "h"}, "unknown option '--bogus'"},
    {{"-x"}, "unknown option '-x'"},
    {{"-\x01"}, "unknown option '-\\x01'"},
    {{"--m", "1"}, "unknown option '--m' (did you mean --min-ttl or --max-ttl or "
                   "--max-inflight or --multipath or --mmdb or --metrics? long options are not abbreviated)"},
    {{"--multipath=90", "h"}, "--multipath: confidence must be 95 or 99, not '90'"},
    {{"--multipath=", "h"}, "--multipath: confidence must be 95 or 99, not ''"},
    {{"--multipath=95x", "h"}, "--multipath: confidence must be 95 or 99, not '95x'"},
    {{"--max-inflight", "0"}, "--max-inflight: '0' is out of range (1-65536)"},
    {{"--max-inflight", "65537"}, "--max-inflight: '65537' is out of range (1-65536)"},
    {{"--graph-level", "ases", "h"},
     "--graph-level: unknown level 'ases' (accepted: router, as, auto)"},
    {{"--graph-level", "", "h"}, "--graph-level: unknown level '' (accepted: router, as, auto)"},
    {{"--help=1"}, "--help: does not take a value"},
    {{"-w"}, "-w: missing value"},
    {{"h", "--timeout"}, "--timeout: missing value"},
    {{"--max-ttl"}, "--max-ttl: missing value"},
    {{"-p"}, "-p: missing value"},
    {{"-nqp"}, "-p: missing value"},
    {{"--max-ttl", "99"}, "--max-ttl: '99' is out of range (1-64)"},
    {{"--max-ttl", "0"}, "--max-ttl: '0' is out of range (1-64)"},
    {{"--min-ttl", "65"}, "--min-ttl: '65' is out of range (1-64)"},
    {{"--min-ttl", "10", "--max-ttl", "5"},
     "--min-ttl (10) is greater than --max-ttl (5)"},
    {{"--min-ttl", "31", "h"}, "--min-ttl (31) is greater than --max-ttl (30)"},
    {{"--max-ttl", "12abc"}, "--max-ttl: '12abc' is not a number (1-64)"},
    {{"--max-ttl", ""}, "--max-ttl: '' is not a number (1-64)"},
    {{"--max-ttl", "+5"}, "--max-ttl: '+5' is not a number (1-64)"},
    {{"--max-ttl", "-5"}, "--max-ttl: '-5' is not a number (1-64)"},
    {{"--max-ttl", " 5"}, "--max-ttl: ' 5' is not a number (1-64)"},
    {{"--max-ttl", "5 "}, "--max-ttl: '5 ' is not a number (1-64)"},
    {{"--max-ttl", "0x10"}, "--max-ttl: '0x10' is not a number (1-64)"},
    {{"--max-ttl", "a\nb"}, "--max-ttl: 'a\\x0ab' is not a number (1-64)"},
    {{"--rate", "0"}, "--rate: '0' is out of range (1-1000000)"},
    {{"--rate", "1000001"}, "--rate: '1000001' is out of range (1-1000000)"},
    {{"--rate", "18446744073709551617"},
     "--rate: '18446744073709551617' is out of range (1-1000000)"},
    {{"--rate", N10 N10 N10 N10 N10 N10},
     "--rate: '" N10 N10 N10 N10 "...' is out of range (1-1000000)"},
    {{"--sport", "0"}, "--sport: '0' is out of range (1-65535)"},
    {{"-P", "sctp", "h"}, "-P: unknown protocol 'sctp' (tcp, udp or icmp)"},
    {{"--protocol=UDP", "h"}, "--protocol: unknown protocol 'UDP' (tcp, udp or icmp)"},
    {{"-P", "", "h"}, "-P: unknown protocol '' (tcp, udp or icmp)"},
    {{"--sport", "65536"}, "--sport: '65536' is out of range (1-65535)"},
    {{"-r", "6"}, "-r: '6' is out of range (0-5)"},
    {{"--retries", "-1"}, "--retries: '-1' is not a number (0-5)"},
    {{"--gap", "0"}, "--gap: '0' is out of range (1-64)"},
    {{"--gap", "65"}, "--gap: '65' is out of range (1-64)"},
    {{"-w", "0"}, "-w: '0' is out of range (0.01-60)"},
    {{"-w", "0.009"}, "-w: '0.009' is out of range (0.01-60)"},
    {{"-w", "60.001"}, "-w: '60.001' is out of range (0.01-60)"},
    {{"-w", "1e999"}, "-w: '1e999' is out of range (0.01-60)"},
    {{"-w", "1e-999"}, "-w: '1e-999' is out of range (0.01-60)"},
    {{"--timeout", "nan"}, "--timeout: 'nan' is not a number of seconds (0.01-60)"},
    {{"-w", "inf"}, "-w: 'inf' is not a number of seconds (0.01-60)"},
    {{"-w", "0x10"}, "-w: '0x10' is not a number of seconds (0.01-60)"},
    {{"-w", "-1"}, "-w: '-1' is not a number of seconds (0.01-60)"},
    {{"-w", "2s"}, "-w: '2s' is not a number of seconds (0.01-60)"},
    {{"-w", ""}, "-w: '' is not a number of seconds (0.01-60)"},
    {{"-w", " 2"}, "-w: ' 2' is not a number of seconds (0.01-60)"},
    {{"-w", "."}, "-w: '.' is not a number of seconds (0.01-60)"},
    {{"-p", "0"}, "-p: '0' is not a port (1-65535)"},
    {{"--ports", "0"}, "--ports: '0' is not a port (1-65535)"},
    {{"-p", "65536"}, "-p: '65536' is not a port (1-65535)"},
    {{"-p", "90-80"}, "-p: range '90-80' is reversed"},
    {{"--ports=90-80"}, "--ports: range '90-80' is reversed"},
    {{"-p", "80,,443"}, "-p: empty entry in port list '80,,443'"},
    {{"-p", "80,"}, "-p: empty entry in port list '80,'"},
    {{"-p", ",80"}, "-p: empty entry in port list ',80'"},
    {{"-p", ""}, "-p: empty port list"},
    {{"-p", "-80"}, "-p: range '-80' is incomplete"},
    {{"-p", "80-"}, "-p: range '80-' is incomplete"},
    {{"-p", "1-2-3"}, "-p: '2-3' is not a port (1-65535)"},
    {{"-p", "http"}, "-p: 'http' is not a port (1-65535)"},
    {{"-p", "80,0-5"}, "-p: '0' is not a port (1-65535)"},
    {{"-p", "+80"}, "-p: '+80' is not a port (1-65535)"},
    {{"-p", "\xff"}, "-p: '\\xff' is not a port (1-65535)"},
    {{"-p", "1-1025"}, "-p: too many ports (at most 1024)"},
    {{"-p", "1-1024,2000"}, "-p: too many ports (at most 1024)"},
    {{"--max", "10", "h"}, "unknown option '--max' (did you mean --max-ttl or --max-inflight? "
                           "long options are not abbreviated)"},
    {{"--po=80", "h"}, "unknown option '--po' (did you mean --ports? long options are not "
                       "abbreviated)"},
    {{"--quie", "h"}, "unknown option '--quie' (did you mean --quiet? long options are not "
                      "abbreviated)"},
    {{"--format", "xml"}, "--format: unknown format 'xml' (accepted: table, json, jsonl, dot, svg, png, html, all)"},
    {{"--format", "table,,json"},
     "--format: empty name in 'table,,json' (accepted: table, json, jsonl, dot, svg, png, html, all)"},
    {{"--format", ""}, "--format: empty name in '' (accepted: table, json, jsonl, dot, svg, png, html, all)"},
    {{"--format", "Table"}, "--format: unknown format 'Table' (accepted: table, json, jsonl, dot, svg, png, html, all)"},
    {{"--format", "table,json", "h"},
     "--format: only one format can go to standard output; add -o PREFIX to write several"},
    {{"-o", ""}, "-o: empty prefix"},
    {{"--output="}, "--output: empty prefix"},
    {{"-f", ""}, "-f: empty file name"},
    {{"--format", "png", "h"}, "--format: png needs -o PREFIX (it is not text)"},
    {{"--stop-set=1", "h"}, "--stop-set: '1' is out of range (2-64)"},
    {{"--stop-set=x", "h"}, "--stop-set: 'x' is not a number (2-64)"},
    {{"--asn-source", "whois"},
     "--asn-source: unknown source 'whois' (accepted: offline, cymru, offline,cymru, none)"},
    {{"--dns-server", "resolver.lab"},
     "--dns-server: bad DNS server 'resolver.lab': want ADDR, ADDR:PORT or [IPV6]:PORT"},
    {{"--asn-db", ""}, "--asn-db: empty file name"},
    {{"--mmdb=a", "--mmdb=b", "--mmdb=c", "--mmdb=d", "--mmdb=e", "--mmdb=f",
      "--mmdb=g", "--mmdb=h", "--mmdb=i"},
     "--mmdb: at most 8 files"},
    {{"--dns-timeout", "0"}, "--dns-timeout: '0' is out of range (0.01-60)"},
    /* The first error wins, read left to right. */
    {{"--rate", "0", "--gap", "0"}, "--rate: '0' is out of range (1-1000000)"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Builds a mutable argv (getopt permutes the pointer array). */
static int make_argv(const char *const *args, char **av)
{
    int ac = 0;
    av[ac++] = (char *)"routegraph";
    for (size_t i = 0; i < MAXARGS && args[i]; i++)
        av[ac++] = (char *)args[i];
    av[ac] = NULL;
    return ac;
}

/* The documented defaults, written out independently of options.c. */
static void documented_defaults(rg_config *c)
{
    memset(c, 0, sizeof *c);
    c->ports[0] = 80;
    c->nports = 1;
    c->min_ttl = 1;
    c->max_ttl = 30;
    c->timeout = 2.0;
    c->retries = 1;
    c->rate = RG_DEFAULT_RATE;
    c->gap = RG_DEFAULT_GAP;
    c->formats = RG_FMT_TABLE;
    c->as_lookups = RG_ASLOOKUP_OFFLINE;
    c->dns_timeout = RG_DEFAULT_DNS_TIMEOUT;
}

struct expected {
    rg_config cfg;
    bool check_ports;   /* false when only nports was given */
    char targets[256];  /* comma-joined */
    char output[64], file[64];
};

static unsigned parse_formats_expect(const char *v)
{
    unsigned bits = 0;
    if (strstr(v, "table"))
        bits |= RG_FMT_TABLE;
    if (strstr(v, "json"))
        bits |= RG_FMT_JSON;
    return bits;
}

static void apply_expect(struct expected *e, const char *key, const char *v)
{
    rg_config *c = &e->cfg;
    if (strcmp(key, "ports") == 0) {
        c->nports = 0;
        for (char *end; *v; v = *end ? end + 1 : end)
            c->ports[c->nports++] = (uint16_t)strtoul(v, &end, 10);
    } else if (strcmp(key, "nports") == 0) {
        c->nports = strtoul(v, NULL, 10);
        e->check_ports = false;
    } else if (strcmp(key, "min") == 0) {
        c->min_ttl = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "max") == 0) {
        c->max_ttl = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "sport") == 0) {
        c->sport = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "method") == 0) {
        c->method = (uint8_t)strtoul(v, NULL, 10);
    } else if (strcmp(key, "timeout") == 0) {
        c->timeout = strtod(v, NULL);
    } else if (strcmp(key, "retries") == 0) {
        c->retries = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "rate") == 0) {
        c->rate = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "gap") == 0) {
        c->gap = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "multipath") == 0) {
        c->multipath = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "stopset") == 0) {
        c->stop_set = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "asnsrc") == 0) {
        c->as_lookups = (unsigned)strtoul(v, NULL, 10);
    } else if (strcmp(key, "family") == 0) {
        c->family = strcmp(v, "4") == 0 ? RG_FAMILY_4 : strcmp(v, "6") == 0 ? RG_FAMILY_6
                                                                        : RG_FAMILY_BOTH;
    } else if (strcmp(key, "output") == 0) {
        snprintf(e->output, sizeof e->output, "%s", v);
    } else if (strcmp(key, "formats") == 0) {
        c->formats = parse_formats_expect(v);
    } else if (strcmp(key, "given") == 0) {
        c->formats_given = strcmp(v, "1") == 0;
    } else if (strcmp(key, "n") == 0) {
        c->no_dns = true;
    } else if (strcmp(key, "q") == 0) {
        c->quiet = true;
    } else if (strcmp(key, "file") == 0) {
        snprintf(e->file, sizeof e->file, "%s", v);
    } else if (strcmp(key, "targets") == 0) {
        snprintf(e->targets, sizeof e->targets, "%s", v);
    } else {
        fail_msg("bad key '%s' in the test table", key);
    }
}

static void build_expected(struct expected *e, const char *spec)
{
    memset(e, 0, sizeof *e);
    documented_defaults(&e->cfg);
    e->check_ports = true;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        apply_expect(e, tok, eq + 1);
    }
}

static void join_targets(const rg_config *c, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < c->ntargets; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", i ? "," : "", c->targets[i]);
    }
}

/* Names the case and the field on failure, which plain asserts would not. */
#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond))                                                          \
            fail_msg("valid case %zu ('%s'): %s", idx, spec, #cond);         \
    } while (0)

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void check_config(size_t idx, const char *spec, const rg_config *got,
                         const struct expected *e)
{
    const rg_config *want = &e->cfg;
    CHECK(got->nports == want->nports);
    if (e->check_ports)
        CHECK(memcmp(got->ports, want->ports, want->nports * sizeof got->ports[0]) == 0);
    CHECK(got->min_ttl == want->min_ttl);
    CHECK(got->max_ttl == want->max_ttl);
    CHECK(got->sport == want->sport);
    CHECK(got->method == want->method);
    CHECK(got->timeout == want->timeout);
    CHECK(got->retries == want->retries);
    CHECK(got->rate == want->rate);
    CHECK(got->gap == want->gap);
    CHECK(got->stop_set == want->stop_set);
    CHECK(got->as_lookups == want->as_lookups);
    CHECK(got->dns_timeout == want->dns_timeout);
    CHECK(got->family == want->family);
    CHECK(got->formats == want->formats);
    CHECK(got->formats_given == want->formats_given);
    CHECK(got->no_dns == want->no_dns);
    CHECK(got->quiet == want->quiet);
    CHECK((got->output == NULL) == (e->output[0] == '\0'));
    CHECK(strcmp(or_empty(got->output), e->output) == 0);
    CHECK((got->target_file == NULL) == (e->file[0] == '\0'));
    CHECK(strcmp(or_empty(got->target_file), e->file) == 0);
    char joined[256];
    join_targets(got, joined, sizeof joined);
    CHECK(strcmp(joined, e->targets) == 0);
    CHECK(got->ntargets > 0 || got->targets == NULL);
}

static void test_valid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(VALID); i++) {
        char *av[MAXARGS + 2];
        int ac = make_argv(VALID[i].args, av);
        rg_config cfg;
        char err[256] = "untouched";
        enum rg_opt_result r = rg_options_parse(ac, av, &cfg, err, sizeof err);
        if (r != RG_OPT_RUN)
            fail_msg("case %zu: result %d, err '%s'", i, (int)r, err);
        assert_string_equal(err, "");
        struct expected e;
        build_expected(&e, VALID[i].expect);
        check_config(i, VALID[i].expect, &cfg, &e);
    }
}

static void test_invalid_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(INVALID); i++) {
        char *av[MAXARGS + 2];
        int ac = make_argv(INVALID[i].args, av);
        rg_config cfg;
        char err[512] = "";
        enum rg_opt_result r = rg_options_parse(ac, av, &cfg, err, sizeof err);
        if (r != RG_OPT_ERROR || strcmp(err, INVALID[i].err) != 0)
            fail_msg("invalid case %zu: result %d, err '%s', want '%s'", i,
                     (int)r, err, INVALID[i].err);
        assert_null(strchr(err, '\n'));
    }
}

/* A short buffer must truncate, not overflow, and a NULL one is allowed. */
static void test_error_buffer_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(INVALID); i++) {
        char *av[MAXARGS + 2];
        int ac = make_argv(INVALID[i].args, av);
        rg_config cfg;
        char err[12];
        memset(err, 'Z', sizeof err);
        assert_int_equal(rg_options_parse(ac, av, &cfg, err, 8), RG_OPT_ERROR);
        assert_true(strlen(err) < 8);
        assert_int_equal(err[8], 'Z');
        ac = make_argv(INVALID[i].args, av);
        assert_int_equal(rg_options_parse(ac, av, &cfg, NULL, 0), RG_OPT_ERROR);
    }
}

static enum rg_opt_result parse_args(const char *const *args, rg_config *cfg,
                                     char *err, size_t len)
{
    /* Static: cfg->targets points into argv and must outlive this call. */
    static char *av[MAXARGS + 2];
    int ac = make_argv(args, av);
    return rg_options_parse(ac, av, cfg, err, len);
}

static void test_help_and_version(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    const char *h1[MAXARGS] = {"-h"};
    const char *h2[MAXARGS] = {"--help", "h"};
    const char *h3[MAXARGS] = {"-p", "80", "-h", "--bogus"};
    const char *v1[MAXARGS] = {"-V"};
    const char *v2[MAXARGS] = {"h", "--version"};
    const char *bad_first[MAXARGS] = {"--bogus", "-h"};
    assert_int_equal(parse_args(h1, &cfg, err, sizeof err), RG_OPT_HELP);
    assert_int_equal(parse_args(h2, &cfg, err, sizeof err), RG_OPT_HELP);
    assert_int_equal(parse_args(h3, &cfg, err, sizeof err), RG_OPT_HELP);
    assert_int_equal(parse_args(v1, &cfg, err, sizeof err), RG_OPT_VERSION);
    assert_int_equal(parse_args(v2, &cfg, err, sizeof err), RG_OPT_VERSION);
    assert_int_equal(parse_args(bad_first, &cfg, err, sizeof err), RG_OPT_ERROR);
    assert_string_equal(err, "unknown option '--bogus'");
}

/* render refuses what only a trace uses: the first such option is kept. */
static void test_trace_only_options(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    const char *render_ok[MAXARGS] = {"r.json", "-o", "p", "--format", "svg,png", "-q",
                                      "--graph-level", "as"};
    assert_int_equal(parse_args(render_ok, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_string_equal(cfg.trace_only, "");
    const char *asn[MAXARGS] = {"r.json", "-o", "p", "--asn-db", "/nonexistent", "-p", "80"};
    assert_int_equal(parse_args(asn, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_string_equal(cfg.trace_only, "--asn-db");
    static const char *const each[][2] = {
        {"-p", "80"}, {"--min-ttl", "2"}, {"--max-ttl", "9"}, {"-w", "1"}, {"-r", "0"},
        {"--rate", "5"}, {"--gap", "2"}, {"--sport", "4000"}, {"-4", NULL}, {"-6", NULL},
        {"--mmdb", "x"}, {"--asn-source", "none"}, {"-n", NULL}, {"--dns-server", "198.18.3.2"},
        {"--dns-timeout", "1"}, {"--stop-set", NULL}, {"--country-db", "c.csv"},
        {"--multipath", NULL},
    };
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        const char *args[MAXARGS] = {"r.json", each[i][0], each[i][1]};
        assert_int_equal(parse_args(args, &cfg, err, sizeof err), RG_OPT_RUN);
        assert_string_equal(cfg.trace_only, each[i][0]);
    }
}

/* lookup takes the annotation options; probe_only names the first other
 * option a trace alone uses. */
static void test_probe_only_options(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    const char *lookup_ok[MAXARGS] = {"198.18.0.1", "-n", "--asn-db=a.csv", "--country-db=c.csv",
                                      "--country-db=d.csv", "--mmdb=m.mmdb",
                                      "--asn-source=cymru", "--dns-server=198.18.3.2",
                                      "--dns-timeout=1", "-flist", "--format=json", "-q"};
    assert_int_equal(parse_args(lookup_ok, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_string_equal(cfg.probe_only, "");
    assert_string_equal(cfg.trace_only, "-n");
    assert_int_equal(cfg.ncountry_db, 2);
    assert_string_equal(cfg.country_db[0], "c.csv");
    assert_string_equal(cfg.country_db[1], "d.csv");
    static const char *const each[][2] = {
        {"-p", "80"}, {"--min-ttl", "2"}, {"--max-ttl", "9"}, {"-w", "1"}, {"-r", "0"},
        {"--rate", "5"}, {"--gap", "2"}, {"--sport", "4000"}, {"-4", NULL}, {"-6", NULL},
        {"--stop-set", NULL},
    };
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        const char *args[MAXARGS] = {"198.18.0.1", "--country-db", "c.csv", each[i][0],
                                     each[i][1]};
        assert_int_equal(parse_args(args, &cfg, err, sizeof err), RG_OPT_RUN);
        assert_string_equal(cfg.probe_only, each[i][0]);
    }
    const char *empty[MAXARGS] = {"--country-db", ""};
    assert_int_equal(parse_args(empty, &cfg, err, sizeof err), RG_OPT_ERROR);
    assert_string_equal(err, "--country-db: empty file name");
}

/* 65,536 targets x 1,024 ports was accepted and ended in an OOM kill. */
static void test_run_size_limits(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    const char *all_ports[MAXARGS] = {"-p", "1-1024", "x"};
    assert_int_equal(parse_args(all_ports, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_true(rg_options_check_size(&cfg, 128, err, sizeof err)); /* 131,072 traces */
    assert_false(rg_options_check_size(&cfg, 65536, err, sizeof err));
    assert_string_equal(err, "65536 targets x 1024 ports make 67108864 traces, more than the "
                             "131072 one run may hold; split the targets or the ports over "
                             "several runs");
    assert_false(rg_options_check_size(&cfg, 129, err, sizeof err));
    const char *deep[MAXARGS] = {"--max-ttl", "64", "-r", "5", "x"};
    assert_int_equal(parse_args(deep, &cfg, err, sizeof err), RG_OPT_RUN);
    /* 64 TTLs and the port probes' row, 5 + 1 + 2 attempts (rg_attempts_for) */
    assert_true(rg_options_check_size(&cfg, 32263, err, sizeof err)); /* 16,776,760 slots */
    assert_false(rg_options_check_size(&cfg, 32264, err, sizeof err));
    assert_non_null(strstr(err, "32264 traces x 65 TTL rows x 8 attempts make 16777280 probe slots"));
    const char *plain[MAXARGS] = {"x"};
    assert_int_equal(parse_args(plain, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_true(rg_options_check_size(&cfg, RG_MAX_TARGETS, err, sizeof err));
    /* Issue 14's run: every target on two ports at the default TTLs. */
    const char *two[MAXARGS] = {"-p", "80,443", "x"};
    assert_int_equal(parse_args(two, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_true(rg_options_check_size(&cfg, RG_MAX_TARGETS, err, sizeof err));
}

/* getopt keeps global state; an error midway must not leak into the next parse. */
static void test_reparse(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    const char *bad[MAXARGS] = {"-p", "443", "--gap", "0", "x"};
    const char *good[MAXARGS] = {"-p", "443", "x"};
    for (int round = 0; round < 3; round++) {
        assert_int_equal(parse_args(bad, &cfg, err, sizeof err), RG_OPT_ERROR);
        assert_int_equal(parse_args(good, &cfg, err, sizeof err), RG_OPT_RUN);
        assert_int_equal(cfg.nports, 1);
        assert_int_equal(cfg.ports[0], 443);
        assert_int_equal(cfg.gap, RG_DEFAULT_GAP);
        assert_int_equal(cfg.ntargets, 1);
        assert_string_equal(cfg.targets[0], "x");
    }
}

static void test_no_argv(void **state)
{
    (void)state;
    rg_config cfg;
    char err[64];
    assert_int_equal(rg_options_parse(0, NULL, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.ntargets, 0);
    assert_int_equal(cfg.max_ttl, 30);
}

static void test_parse_ports_direct(void **state)
{
    (void)state;
    static uint16_t ports[65535];
    char err[128];
    size_t n = 7;
    assert_int_equal(rg_parse_ports("1-65535", ports, 65535, &n, err, sizeof err), 0);
    assert_int_equal(n, 65535);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ports[i], i + 1);

    assert_int_equal(rg_parse_ports("3,1-3", ports, 3, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ports[0], 3);
    assert_int_equal(ports[1], 1);
    assert_int_equal(ports[2], 2);

    n = 99;
    assert_int_equal(rg_parse_ports("1-4", ports, 3, &n, err, sizeof err), -1);
    assert_string_equal(err, "too many ports (at most 3)");
    assert_int_equal(n, 99);
    assert_int_equal(rg_parse_ports(NULL, ports, 3, &n, err, sizeof err), -1);
    assert_string_equal(err, "empty port list");
}

/* render has its own help, naming only what render takes. */
static void test_render_usage(void **state)
{
    (void)state;
    const char *u = rg_options_render_usage();
    assert_non_null(strstr(u, "Usage: routegraph render RESULTS.json [-o PREFIX] [--format LIST]"));
    assert_non_null(strstr(u, "the table on a\n                       terminal, SVG into a pipe"));
    assert_null(strstr(u, "--max-ttl N"));
}

/* --max-inflight: the default, a value, and jsonl as a format of its own
 * that goes to standard output alone or to PREFIX.jsonl with others. */
static void test_inflight_and_jsonl(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    char *a1[] = {"routegraph", "h", NULL};
    assert_int_equal(rg_options_parse(2, a1, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.max_inflight, RG_DEFAULT_MAX_INFLIGHT);
    char *a2[] = {"routegraph", "--max-inflight", "100", "--format", "jsonl", "h", NULL};
    assert_int_equal(rg_options_parse(6, a2, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.max_inflight, 100);
    assert_int_equal(cfg.formats, RG_FMT_JSONL);
    char *a3[] = {"routegraph", "--format", "json,jsonl", "h", NULL};
    assert_int_equal(rg_options_parse(4, a3, &cfg, err, sizeof err), RG_OPT_ERROR);
    assert_string_equal(err, "--format: only one format can go to standard output; "
                             "add -o PREFIX to write several");
    char *a4[] = {"routegraph", "-o", "p", "--format", "json,jsonl", "h", NULL};
    assert_int_equal(rg_options_parse(6, a4, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.formats, RG_FMT_JSON | RG_FMT_JSONL);
    char *a5[] = {"routegraph", "--format", "all", "-o", "p", "h", NULL};
    assert_int_equal(rg_options_parse(6, a5, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.formats & RG_FMT_JSONL, 0); /* all: the whole-run formats */
}

/* --graph-level: auto by default, each level by name; render takes it. */
static void test_graph_level(void **state)
{
    (void)state;
    rg_config cfg;
    char err[256];
    char *a1[] = {"routegraph", "h", NULL};
    assert_int_equal(rg_options_parse(2, a1, &cfg, err, sizeof err), RG_OPT_RUN);
    assert_int_equal(cfg.graph_level, RG_GLEVEL_AUTO);
    static const struct {
        const char *arg;
        enum rg_graph_level level;
    } levels[] = {{"as", RG_GLEVEL_AS}, {"router", RG_GLEVEL_ROUTER}, {"auto", RG_GLEVEL_AUTO}};
    for (size_t i = 0; i < COUNT(levels); i++) {
        char *a[] = {"routegraph", "--graph-level", (char *)levels[i].arg, "h", NULL};
        assert_int_equal(rg_options_parse(4, a, &cfg, err, sizeof err), RG_OPT_RUN);
        assert_int_equal(cfg.graph_level, levels[i].level);
        assert_string_equal(cfg.trace_only, "");
    }
    assert_non_null(strstr(rg_options_render_usage(), "--graph-level L"));
}

static void test_usage_documents_everything(void **state)
{
    (void)state;
    const char *u = rg_options_usage();
    static const char *const must[] = {
        "TARGET...", "-p, --ports LIST", "--min-ttl N", "--max-ttl N", "--sport N",
        "-w, --timeout SECS", "-r, --retries N", "--rate N", "--gap N", "-4, --ipv4",
        "-6, --ipv6", "-46, --both-families", "--port also", "--strict", "--wide",
        "routegraph render RESULTS.json", "render --help",
        "-o, --output PREFIX", "--format LIST", "-f, --file FILE", "-n, --numeric",
        "-q, --quiet",
        "--max-inflight N", "(default 2048)", "jsonl", "--graph-level L", "above 200 traces",
        "-h, --help", "-V, --version",
        "(default 80)", "1-64 (default 1)", "1-64 (default 30)", "0.01-60",
        "(default 2)", "0-5 (default 1)", "1-1000000", "(default 2000)",
        "1-64 (default 5)", "at most 1024",
        "0  every trace ran", "1  runtime error", "2  bad command line",
        "3  partial", "CAP_NET_RAW", "--country-db FILE", "routegraph lookup",
    };
    for (size_t i = 0; i < COUNT(must); i++)
        if (!strstr(u, must[i]))
            fail_msg("usage lacks '%s'", must[i]);
    /* Stays readable on an 80-column terminal. */
    for (const char *line = u; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len > 79)
            fail_msg("usage line too long: %.*s", (int)len, line);
        line += len + (nl ? 1 : 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_table),
        cmocka_unit_test(test_invalid_table),
        cmocka_unit_test(test_error_buffer_bounds),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_reparse),
        cmocka_unit_test(test_no_argv),
        cmocka_unit_test(test_parse_ports_direct),
        cmocka_unit_test(test_usage_documents_everything),
        cmocka_unit_test(test_render_usage),
        cmocka_unit_test(test_graph_level),
        cmocka_unit_test(test_inflight_and_jsonl),
        cmocka_unit_test(test_trace_only_options),
        cmocka_unit_test(test_probe_only_options),
        cmocka_unit_test(test_run_size_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
