/* options: argv -> rg_config. Every value is checked here, once, so the
 * engine can trust the config; every error is one line naming the option. */
#include "options.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/result.h"
#include "../util/addr.h"
#include "../util/errbuf.h"
#include "targets.h"

#define DEFAULT_PORT 80
#define DEFAULT_MIN_TTL 1
#define DEFAULT_MAX_TTL 30
#define DEFAULT_TIMEOUT 2.0
#define DEFAULT_RETRIES 1
#define MIN_TIMEOUT 0.01
#define MAX_TIMEOUT 60.0
#define MAX_RATE 1000000
#define MAX_GAP 64

/* Bytes of a bad argument echoed back: enough to spot the typo. */
#define SHOWN 40
#define QUOTED_MAX (SHOWN * 4 + 4)

#define STR_(x) #x
#define STR(x) STR_(x)

/* Long-only options get values past any char so they cannot clash. */
enum {
    OPT_MIN_TTL = 256,
    OPT_MAX_TTL,
    OPT_SPORT,
    OPT_RATE,
    OPT_GAP,
    OPT_FORMAT,
    OPT_STOP_SET,
    OPT_MULTIPATH,
    OPT_ASN_DB,
    OPT_MMDB,
    OPT_ASN_SOURCE,
    OPT_DNS_SERVER,
    OPT_DNS_TIMEOUT,
    OPT_STRICT,
    OPT_WIDE,
    OPT_GRAPH_LEVEL,
    OPT_BOTH,
    OPT_INTERVAL,   /* routegraph watch */
    OPT_ROUNDS,
    OPT_BASELINE,
    OPT_HISTORY,
    OPT_ROUND,
    OPT_METRICS,
    OPT_CHECK,
    OPT_COUNTRY_DB,
    OPT_MAX_INFLIGHT,
};

/* ':' first: a missing value comes back as ':' rather than '?'. */
static const char SHORTOPTS[] = ":p:P:w:r:46o:f:nqhV";

static const struct option LONGOPTS[] = {
    {"ports", required_argument, NULL, 'p'},
    {"port", required_argument, NULL, 'p'},
    {"min-ttl", required_argument, NULL, OPT_MIN_TTL},
    {"max-ttl", required_argument, NULL, OPT_MAX_TTL},
    {"sport", required_argument, NULL, OPT_SPORT},
    {"protocol", required_argument, NULL, 'P'},
    {"timeout", required_argument, NULL, 'w'},
    {"retries", required_argument, NULL, 'r'},
    {"rate", required_argument, NULL, OPT_RATE},
    {"gap", required_argument, NULL, OPT_GAP},
    {"max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT},
    {"stop-set", optional_argument, NULL, OPT_STOP_SET},
    {"multipath", optional_argument, NULL, OPT_MULTIPATH},
    {"asn-db", required_argument, NULL, OPT_ASN_DB},
    {"mmdb", required_argument, NULL, OPT_MMDB},
    {"country-db", required_argument, NULL, OPT_COUNTRY_DB},
    {"asn-source", required_argument, NULL, OPT_ASN_SOURCE},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"both-families", no_argument, NULL, OPT_BOTH},
    {"file", required_argument, NULL, 'f'},
    {"numeric", no_argument, NULL, 'n'},
    {"quiet", no_argument, NULL, 'q'},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"wide", no_argument, NULL, OPT_WIDE},
    {"graph-level", required_argument, NULL, OPT_GRAPH_LEVEL},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"baseline", required_argument, NULL, OPT_BASELINE},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"round", required_argument, NULL, OPT_ROUND},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"check", optional_argument, NULL, OPT_CHECK},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const struct {
    const char *name;
    unsigned bit;
} FORMATS[] = {
    {"table", RG_FMT_TABLE},
    {"json", RG_FMT_JSON},
    {"dot", RG_FMT_DOT},
    {"svg", RG_FMT_SVG},
    {"png", RG_FMT_PNG},
    {"html", RG_FMT_HTML},
    {"jsonl", RG_FMT_JSONL},
    {"all", RG_FMT_ALL},
};
#define FORMAT_NAMES "table, json, jsonl, dot, svg, png, html, all"

static const char USAGE[] =
    "Usage: routegraph [OPTIONS] TARGET...\n"
    "       routegraph render RESULTS.json [-o PREFIX] [--format LIST] [-q] [--wide]\n"
    "       routegraph lookup [OPTIONS] ADDRESS...   (no probing; see below)\n"
    "Trace the routes to many targets and ports at once with TCP SYN probes of\n"
    "rising TTL (IPv4 and IPv6), and print a scapy-style table of the hops.\n"
    "TARGET is a host name or an IPv4/IPv6 address, optionally with its own\n"
    "port (host:port, 192.0.2.1:443, [2001:db8::1]:80), which joins -p for it;\n"
    "more can come from -f. 'render' draws a saved JSON run again, without\n"
    "probing (routegraph render --help).\n"
    "\n"
    "Probing:\n"
    "  -p, --ports LIST     destination ports (--port also), e.g. 80,443,8000-8010;\n"
    "                       each 1-65535, at most " STR(RG_MAX_PORTS) " in all (default " STR(DEFAULT_PORT) ")\n"
    "      --min-ttl N      first TTL probed, 1-" STR(RG_MAX_TTL) " (default " STR(DEFAULT_MIN_TTL) ")\n"
    "      --max-ttl N      last TTL probed, 1-" STR(RG_MAX_TTL) " (default " STR(DEFAULT_MAX_TTL) ")\n"
    "  -P, --protocol P     probe with tcp (SYN, the default), udp (fixed ports,\n"
    "                       Paris-style checksum) or icmp (echo; no port: one\n"
    "                       trace per address)\n"
    "      --sport N        TCP/UDP source port (ICMP: echo identifier), 1-65535\n"
    "                       (default: random per trace)\n"
    "  -w, --timeout SECS   longest wait for a reply, 0.01-60, fractions allowed\n"
    "                       (default 2); once a trace shows its RTTs, a probe\n"
    "                       is lost after 10x the largest (at least 100 ms)\n"
    "  -r, --retries N      extra probes for a silent hop, 0-" STR(RG_MAX_RETRIES) " (default " STR(DEFAULT_RETRIES) ");\n"
    "                       up to 4 x (1 + N) port checks settle an RST in doubt\n"
    "      --rate N         probes per second for the whole run, 1-" STR(MAX_RATE) "\n"
    "                       (default " STR(RG_DEFAULT_RATE) "); each router is also paced\n"
    "                       by its own answers, so ICMP rate limits are respected\n"
    "      --gap N          silent TTLs past the last answer that end a trace,\n"
    "                       1-" STR(MAX_GAP) " (default " STR(RG_DEFAULT_GAP) ")\n"
    "      --max-inflight N  traces probed at once, 1-65536\n"
    "                       (default " STR(RG_DEFAULT_MAX_INFLIGHT) "); the next starts when one ends\n"
    "      --stop-set[=N]   Doubletree mode: start each trace at TTL N (2-" STR(RG_MAX_TTL) ",\n"
    "                       default " STR(RG_DEFAULT_STOP_SET) "), probe to the destination, then back\n"
    "                       towards us until a hop another trace already found;\n"
    "                       fewer probes, hops below that point not re-probed\n"
    "  -4, --ipv4           IPv4 only\n"
    "  -6, --ipv6           IPv6 only\n"
    "  -46, --both-families  a name's IPv4 and its IPv6 address, side by side\n"
    "\n";

/* Split: C11 promises string literals of 4095 bytes only. */
static const char USAGE2[] =
    "Targets and output:\n"
    "  -f, --file FILE      read targets from FILE ('-' = standard input): names\n"
    "                       separated by blanks or newlines, '#' starts a comment;\n"
    "                       bad entries are reported with their line and skipped\n"
    "      --strict         stop at the first bad entry of FILE instead\n"
    "  -o, --output PREFIX  write each format to a file, PREFIX.txt (table) and\n"
    "                       PREFIX.json; the table still goes to standard output\n"
    "                       unless -q\n"
    "      --format LIST    comma list of table, json, jsonl, dot, svg, png,\n"
    "                       html, all (all but jsonl)\n"
    "                       (default: table; table,json with -o); without -o\n"
    "                       only one text format may be chosen; jsonl writes\n"
    "                       one line per trace as it ends (PREFIX.jsonl with -o,\n"
    "                       renamed into place at the end)\n"
    "  -n, --numeric        no DNS lookups of hop addresses (no PTR, no Team Cymru)\n"
    "      --wide           the table at full width; by default it is wrapped into\n"
    "                       blocks of columns that fit the terminal (COLUMNS)\n"
    "      --graph-level L  router, as (one node per AS, edges weighted by traces)\n"
    "                       or auto (default: as above " STR(RG_GRAPH_AS_TRACES) " traces)\n"
    "\n"
    "Annotation (AS number and name, reverse DNS, country and city of each hop):\n"
    "      --asn-db FILE    AS database in ip-location-db CSV form, repeatable\n"
    "                       (default: the data installed by\n"
    "                       scripts/fetch-asn-data.sh)\n"
    "      --mmdb FILE      MaxMind-format .mmdb (ASN or City), repeatable; its\n"
    "                       country wins over the country database\n"
    "      --country-db FILE  country database in ip-location-db CSV form\n"
    "                       (start,end,country_code) or its index, repeatable\n"
    "                       (default: the data installed by\n"
    "                       scripts/fetch-asn-data.sh)\n"
    "      --asn-source S   offline (default), cymru, offline,cymru (Cymru DNS for\n"
    "                       what the offline data does not know) or none\n"
    "      --dns-server ADDR  resolver for PTR and Cymru lookups (default: the\n"
    "                       system's)\n"
    "      --dns-timeout SECS  all lookups together end by then, 0.01-60\n"
    "                       (default 3)\n"
    "  -q, --quiet          no progress display, and with -o no table on\n"
    "                       standard output\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n";

/* Apart: one string literal this long is more than C promises to take. */
static const char USAGE_LOOKUP[] =
    "\n"
    "routegraph lookup ADDRESS... (or -f FILE): AS number and name, country,\n"
    "city and reverse-DNS name of each address, one line each (--format json:\n"
    "a JSON document); no probe is sent and no privilege kept. Takes -f, -n,\n"
    "-q, --format, --asn-db, --country-db, --mmdb, --asn-source, --dns-server,\n"
    "--dns-timeout. Exit status 2 when no address was given or none parsed,\n"
    "3 when some did not parse (each named on standard error).\n"
    "\n"
    "Exit status:\n"
    "  0  every trace ran\n"
    "  1  runtime error, such as no CAP_NET_RAW or a socket failure\n"
    "  2  bad command line, target list or output path; or nothing was traced\n"
    "  3  partial: some target could not be resolved or used, or a bad entry of\n"
    "     FILE was skipped; the rest were traced\n"
    "  130/143  stopped by SIGINT/SIGTERM: what was measured is written, marked\n"
    "       incomplete\n"
    "\n"
    "Needs CAP_NET_RAW (root, or setcap cap_net_raw+ep); every capability is\n"
    "dropped once the raw sockets are open.\n";

static const char RENDER_USAGE[] =
    "Usage: routegraph render RESULTS.json [-o PREFIX] [--format LIST] [-q] [--wide]\n"
    "Write the outputs of a saved run (routegraph/1 or routegraph/2 JSON, '-' =\n"
    "standard input) again, without probing, without name lookups and without\n"
    "any privilege. Verdicts are derived again from the saved probes.\n"
    "\n"
    "  -o, --output PREFIX  write each format to PREFIX.<ext>\n"
    "      --format LIST    comma list of " FORMAT_NAMES "\n"
    "                       (default: dot,svg,png,html with -o; else the table on a\n"
    "                       terminal, SVG into a pipe or file)\n"
    "      --wide           the table at full width, never wrapped\n"
    "      --graph-level L  router, as or auto (as above " STR(RG_GRAPH_AS_TRACES) " traces)\n"
    "  -q, --quiet          nothing on standard output with -o\n"
    "  -h, --help           show this help and exit\n"
    "\n"
    "Options that only a trace uses (-p, --max-ttl, ...) are refused.\n"
    "Exit status: 0 written; 1 an output could not be written; 2 bad command\n"
    "line or unreadable results file.\n";

/* Apart from USAGE: one string literal may not pass 4095 bytes (C11). */
static const char WATCH_USAGE[] =
    "\n"
    "Watching (routegraph watch [OPTIONS] TARGET...: trace every interval,\n"
    "report per-hop loss and RTT over the rounds like mtr --report):\n"
    "      --interval SECS  seconds from one round's start to the next, 0-" STR(RG_MAX_INTERVAL) "\n"
    "                       (default " STR(RG_DEFAULT_INTERVAL) "; 0: back to back)\n"
    "      --rounds N       stop after N rounds, 1-" STR(RG_MAX_ROUNDS) " (default: until\n"
    "                       SIGINT or SIGTERM)\n"
    "      --baseline FILE  compare each trace (each round) with a saved JSON run:\n"
    "                       route, AS-path, ECMP-branch, port and reachability\n"
    "                       changes, each reported once (also for a single run)\n"
    "      --history FILE   keep every round in an SQLite database (WAL)\n"
    "      --metrics ADDR:PORT  serve OpenMetrics at http://ADDR:PORT/metrics\n"
    "      --check[=KIND:LEVEL,...]  one run as a monitoring plugin: one status\n"
    "                       line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;\n"
    "                       KIND not-open, unreached, path, as-path; LEVEL ok,\n"
    "                       warn, crit (default not-open:crit,unreached:crit,\n"
    "                       path:warn,as-path:crit; path kinds need --baseline)\n"
    "routegraph history FILE [TARGET[:PORT]] lists the rounds and changes kept;\n"
    "  --round N -o PREFIX --format LIST draws a stored round again.\n"
    "routegraph diff OLD.json NEW.json compares two saved runs (exit 0 same,\n"
    "1 changed, 2 trouble).\n";

const char *rg_options_usage(void)
{
    static char text[sizeof USAGE + sizeof USAGE2 + sizeof USAGE_LOOKUP + sizeof WATCH_USAGE];
    if (!text[0])
        snprintf(text, sizeof text, "%s%s%s%s", USAGE, USAGE2, USAGE_LOOKUP, WATCH_USAGE);
    return text;
}

const char *rg_options_render_usage(void)
{
    return RENDER_USAGE;
}

/* The parsers here answer 0 or -1 (rg_parse_ports' contract): a failure
 * writes its one line through rg_err and is -1. */
#define fail(...) (rg_err(__VA_ARGS__), -1)

static void quote(char *out, const char *s, size_t len)
{
    rg_targets_escape(out, QUOTED_MAX, s, len, SHOWN);
}

/* Strict decimal: digits only, no sign, no blanks. Saturates instead of
 * wrapping, so an overflowing number reads as out of range, not as garbage. */
static bool parse_decimal(const char *s, size_t len, unsigned long long *v)
{
    if (len == 0)
        return false;
    unsigned long long x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (x < 10000000000000ull)
            x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return true;
}

/* ---- ports ---- */

/* One list entry, "N" or "LO-HI"; s[0..len) is not NUL-terminated. */
static int parse_port_entry(const char *s, size_t len, unsigned *lo, unsigned *hi,
                            char *err, size_t errlen)
{
    char q[QUOTED_MAX];
    const char *dash = memchr(s, '-', len);
    size_t llen = dash ? (size_t)(dash - s) : len;
    const char *h = dash ? dash + 1 : s;
    size_t hlen = dash ? len - llen - 1 : len;
    if (dash && (llen == 0 || hlen == 0)) {
        quote(q, s, len);
        return fail(err, errlen, "range '%s' is incomplete", q);
    }
    unsigned long long a, b;
    if (!parse_decimal(s, llen, &a) || a < 1 || a > 65535) {
        quote(q, s, llen);
        return fail(err, errlen, "'%s' is not a port (1-65535)", q);
    }
    if (!parse_decimal(h, hlen, &b) || b < 1 || b > 65535) {
        quote(q, h, hlen);
        return fail(err, errlen, "'%s' is not a port (1-65535)", q);
    }
    if (a > b) {
        quote(q, s, len);
        return fail(err, errlen, "range '%s' is reversed", q);
    }
    *lo = (unsigned)a;
    *hi = (unsigned)b;
    return 0;
}

int rg_parse_ports(const char *text, uint16_t *ports, size_t max, size_t *n,
                   char *err, size_t errlen)
{
    if (!text || *text == '\0')
        return fail(err, errlen, "empty port list");
    uint8_t seen[65536 / 8] = {0};
    size_t count = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        unsigned lo = 1, hi = 0;
        if (len == 0) {
            char q[QUOTED_MAX];
            quote(q, text, strlen(text));
            return fail(err, errlen, "empty entry in port list '%s'", q);
        }
        if (parse_port_entry(p, len, &lo, &hi, err, errlen) < 0)
            return -1;
        for (unsigned v = lo; v <= hi; v++) {
            if (seen[v / 8] & (1u << (v % 8)))
                continue;
            if (count == max)
                return fail(err, errlen, "too many ports (at most %zu)", max);
            seen[v / 8] |= (uint8_t)(1u << (v % 8));
            ports[count++] = (uint16_t)v;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *n = count;
    return 0;
}

/* ---- single values ---- */

static int opt_uint(const char *opt, const char *arg, unsigned lo, unsigned hi,
                    unsigned *out, char *err, size_t errlen)
{
    char q[QUOTED_MAX];
    unsigned long long v;
    size_t len = strlen(arg);
    quote(q, arg, len);
    if (!parse_decimal(arg, len, &v))
        return fail(err, errlen, "%s: '%s' is not a number (%u-%u)", opt, q, lo, hi);
    if (v < lo || v > hi)
        return fail(err, errlen, "%s: '%s' is out of range (%u-%u)", opt, q, lo, hi);
    *out = (unsigned)v;
    return 0;
}

/* A number of seconds from lo to hi (range: how messages write them).
 * Decimal only: strtod would also take "inf", "nan", hex and leading
 * blanks, none of which a user means as a time. */
static int opt_seconds_in(const char *opt, const char *arg, double lo, double hi,
                          const char *range, double *out, char *err, size_t errlen)
{
    char q[QUOTED_MAX];
    quote(q, arg, strlen(arg));
    bool lead_ok = (arg[0] >= '0' && arg[0] <= '9') || arg[0] == '.';
    char *end = NULL;
    double v = lead_ok && !strpbrk(arg, "xX") ? strtod(arg, &end) : 0.0;
    if (!end || end == arg || *end != '\0')
        return fail(err, errlen, "%s: '%s' is not a number of seconds (%s)", opt, q, range);
    if (!isfinite(v) || v < lo || v > hi)
        return fail(err, errlen, "%s: '%s' is out of range (%s)", opt, q, range);
    *out = v;
    return 0;
}

/* --timeout, --dns-timeout. */
static int opt_seconds(const char *opt, const char *arg, double *out, char *err,
                       size_t errlen)
{
    return opt_seconds_in(opt, arg, MIN_TIMEOUT, MAX_TIMEOUT, "0.01-60", out, err, errlen);
}

/* routegraph watch --interval: 0 (rounds back to back) to a day. */
static int opt_interval(const char *opt, const char *arg, double *out, char *err,
                        size_t errlen)
{
    return opt_seconds_in(opt, arg, 0, RG_MAX_INTERVAL, "0-" STR(RG_MAX_INTERVAL), out, err,
                          errlen);
}

/* --graph-level router|as|auto. */
static int opt_graph_level(const char *opt, const char *arg, enum rg_graph_level *out,
                           char *err, size_t errlen)
{
    static const char *const names[] = {"auto", "router", "as"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(arg, names[i]) == 0) {
            *out = (enum rg_graph_level)i;
            return 0;
        }
    char q[QUOTED_MAX];
    quote(q, arg, strlen(arg));
    return fail(err, errlen, "%s: unknown level '%s' (accepted: router, as, auto)", opt, q);
}

static int opt_formats(const char *opt, const char *arg, unsigned *out,
                       char *err, size_t errlen)
{
    char q[QUOTED_MAX];
    unsigned bits = 0;
    const char *p = arg;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
            if (strlen(FORMATS[i].name) == len && memcmp(FORMATS[i].name, p, len) == 0)
                bit = FORMATS[i].bit;
        if (len == 0) {
            quote(q, arg, strlen(arg));
            return fail(err, errlen, "%s: empty name in '%s' (accepted: " FORMAT_NAMES ")",
                        opt, q);
        }
        if (!bit) {
            quote(q, p, len);
            return fail(err, errlen, "%s: unknown format '%s' (accepted: " FORMAT_NAMES ")",
                        opt, q);
        }
        bits |= bit;
        if (!comma)
            break;
        p = comma + 1;
    }
    *out = bits;
    return 0;
}

static int opt_file(const char *opt, const char *arg, const char **files,
                    size_t *n, char *err, size_t errlen)
{
    if (*arg == '\0')
        return fail(err, errlen, "%s: empty file name", opt);
    if (*n >= RG_MAX_DBFILES)
        return fail(err, errlen, "%s: at most %d files", opt, RG_MAX_DBFILES);
    files[(*n)++] = arg;
    return 0;
}

static int opt_asn_source(const char *opt, const char *arg, unsigned *out,
                          char *err, size_t errlen)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {
        {"offline", RG_ASLOOKUP_OFFLINE},
        {"cymru", RG_ASLOOKUP_CYMRU},
        {"offline,cymru", RG_ASLOOKUP_OFFLINE | RG_ASLOOKUP_CYMRU},
        {"none", 0},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(arg, names[i].name) == 0) {
            *out = names[i].bits;
            return 0;
        }
    char q[QUOTED_MAX];
    quote(q, arg, strlen(arg));
    return fail(err, errlen,
                "%s: unknown source '%s' (accepted: offline, cymru, offline,cymru, none)",
                opt, q);
}

/* ---- option names for messages ---- */

static const struct option *long_by_val(int val)
{
    for (const struct option *o = LONGOPTS; o->name; o++)
        if (o->val == val)
            return o;
    return NULL;
}

static bool is_known(int c)
{
    if (c >= 256)
        return long_by_val(c) != NULL;
    return c > 0 && c != ':' && strchr(SHORTOPTS, c) != NULL;
}

/* The option as the user spelled it: -p when they typed -p, --ports when
 * they typed --ports or an abbreviation of it. */
static void opt_name(char *buf, size_t len, int c, int longindex, bool typed_long)
{
    const struct option *o = longindex >= 0 ? &LONGOPTS[longindex] : NULL;
    if (!o && (typed_long || c >= 256))
        o = long_by_val(c);
    if (o)
        snprintf(buf, len, "--%s", o->name);
    else
        snprintf(buf, len, "-%c", c);
}

static int unknown_option(int argc, char **argv, char *err, size_t errlen)
{
    char q[QUOTED_MAX];
    if (optopt != 0) {
        char c = (char)optopt;
        if (is_known(optopt)) {
            /* Only a no-value long option can get here: --help=x. */
            char name[32];
            opt_name(name, sizeof name, optopt, -1, true);
            return fail(err, errlen, "%s: does not take a value", name);
        }
        quote(q, &c, 1);
        return fail(err, errlen, "unknown option '-%s'", q);
    }
    /* A long option: unknown or an ambiguous abbreviation. */
    const char *tok = optind - 1 < argc ? argv[optind - 1] : "";
    size_t len = strcspn(tok, "=");
    quote(q, tok, len);
    /* Several options begin so (getopt_long calls it ambiguous): name
     * them, as an abbreviation of one of them is refused anyway. */
    char names[160] = "";
    size_t matches = 0, used = 0;
    if (len > 2 && strncmp(tok, "--", 2) == 0)
        for (const struct option *o = LONGOPTS; o->name; o++)
            if (strncmp(o->name, tok + 2, len - 2) == 0 && used < sizeof names) {
                int n = snprintf(names + used, sizeof names - used, "%s--%s",
                                 matches++ ? " or " : "", o->name);
                used += n > 0 ? (size_t)n : 0;
            }
    if (matches > 1)
        return fail(err, errlen, "unknown option '%s' (did you mean %s? long options are "
                    "not abbreviated)", q, names);
    return fail(err, errlen, "unknown option '%s'", q);
}

/* The long option as typed (up to '='), so that an abbreviation is refused:
 * getopt_long would take --port for --ports, --q for --quiet, silently. */
static int check_exact(int argc, char **argv, const struct option *o, char *err,
                       size_t errlen)
{
    int k = o->has_arg == required_argument && optind >= 2 && optarg == argv[optind - 1] ? 2 : 1;
    if (optind - k < 1 || optind - k >= argc)
        return 0;
    const char *tok = argv[optind - k];
    if (strncmp(tok, "--", 2) != 0)
        return 0;
    size_t len = strcspn(tok + 2, "=");
    if (len == strlen(o->name))
        return 0;
    char q[QUOTED_MAX];
    quote(q, tok, len + 2);
    return fail(err, errlen, "unknown option '%s' (did you mean --%s? long options are "
                "not abbreviated)", q, o->name);
}

static void set_defaults(rg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ports[0] = DEFAULT_PORT;
    cfg->nports = 1;
    cfg->min_ttl = DEFAULT_MIN_TTL;
    cfg->max_ttl = DEFAULT_MAX_TTL;
    cfg->timeout = DEFAULT_TIMEOUT;
    cfg->retries = DEFAULT_RETRIES;
    cfg->rate = RG_DEFAULT_RATE;
    cfg->gap = RG_DEFAULT_GAP;
    cfg->max_inflight = RG_DEFAULT_MAX_INFLIGHT;
    cfg->as_lookups = RG_ASLOOKUP_OFFLINE;
    cfg->dns_timeout = RG_DEFAULT_DNS_TIMEOUT;
    cfg->family = RG_FAMILY_ANY;
    cfg->interval = RG_DEFAULT_INTERVAL;
}

/* Options that choose annotation sources: a lookup takes them too. */
static bool is_annotation(int c)
{
    return c == 'n' || c == OPT_ASN_DB || c == OPT_MMDB || c == OPT_COUNTRY_DB ||
           c == OPT_ASN_SOURCE || c == OPT_DNS_SERVER || c == OPT_DNS_TIMEOUT;
}

/* State that is only checked once every option has been read. */
struct seen {
    bool v4, v6;
};

/* Applies one option with a value or flag; <0 with err set on failure. */
static int apply(int c, const char *name, const char *arg, rg_config *cfg,
                 struct seen *seen, char *err, size_t errlen)
{
    char why[160];
    switch (c) {
    case 'p':
        cfg->ports_given = true;
        if (rg_parse_ports(arg, cfg->ports, RG_MAX_PORTS, &cfg->nports, why,
                           sizeof why) < 0)
            return fail(err, errlen, "%s: %s", name, why);
        return 0;
    case OPT_MIN_TTL:
        return opt_uint(name, arg, 1, RG_MAX_TTL, &cfg->min_ttl, err, errlen);
    case OPT_MAX_TTL:
        return opt_uint(name, arg, 1, RG_MAX_TTL, &cfg->max_ttl, err, errlen);
    case OPT_SPORT:
        return opt_uint(name, arg, 1, 65535, &cfg->sport, err, errlen);
    case 'P':
        if (!rg_method_parse(arg, &cfg->method))
            return fail(err, errlen, "%s: unknown protocol '%s' (tcp, udp or icmp)", name, arg);
        return 0;
    case 'w':
        return opt_seconds(name, arg, &cfg->timeout, err, errlen);
    case 'r':
        return opt_uint(name, arg, 0, RG_MAX_RETRIES, &cfg->retries, err, errlen);
    case OPT_RATE:
        return opt_uint(name, arg, 1, MAX_RATE, &cfg->rate, err, errlen);
    case OPT_GAP:
        return opt_uint(name, arg, 1, MAX_GAP, &cfg->gap, err, errlen);
    case OPT_MAX_INFLIGHT:
        return opt_uint(name, arg, 1, RG_MAX_INFLIGHT, &cfg->max_inflight, err, errlen);
    case OPT_ASN_DB:
        return opt_file(name, arg, cfg->asn_db, &cfg->nasn_db, err, errlen);
    case OPT_MMDB:
        return opt_file(name, arg, cfg->mmdb, &cfg->nmmdb, err, errlen);
    case OPT_COUNTRY_DB:
        return opt_file(name, arg, cfg->country_db, &cfg->ncountry_db, err, errlen);
    case OPT_ASN_SOURCE:
        return opt_asn_source(name, arg, &cfg->as_lookups, err, errlen);
    case OPT_DNS_SERVER: {
        rg_addr a;
        uint16_t port;
        if (!rg_addr_parse_endpoint(arg, 53, &a, &port))
            return fail(err, errlen,
                        "%s: bad DNS server '%.64s': want ADDR, ADDR:PORT or [IPV6]:PORT", name,
                        arg);
        cfg->dns_server = arg;
        return 0;
    }
    case OPT_DNS_TIMEOUT:
        return opt_seconds(name, arg, &cfg->dns_timeout, err, errlen);
    case OPT_STOP_SET:
        cfg->stop_set = RG_DEFAULT_STOP_SET;
        return arg ? opt_uint(name, arg, 2, RG_MAX_TTL, &cfg->stop_set, err, errlen) : 0;
    case OPT_MULTIPATH:
        cfg->multipath = 95;
        if (arg && strcmp(arg, "95") != 0 && strcmp(arg, "99") != 0)
            return fail(err, errlen, "%s: confidence must be 95 or 99, not '%.32s'", name, arg);
        if (arg)
            cfg->multipath = (unsigned)atoi(arg);
        return 0;
    case '4':
        seen->v4 = true;
        cfg->family = RG_FAMILY_4;
        return 0;
    case '6':
        seen->v6 = true;
        cfg->family = RG_FAMILY_6;
        return 0;
    case OPT_BOTH:
        seen->v4 = seen->v6 = true;
        return 0;
    case OPT_STRICT:
        cfg->strict = true;
        return 0;
    case OPT_WIDE:
        cfg->wide = true;
        return 0;
    case OPT_GRAPH_LEVEL:
        return opt_graph_level(name, arg, &cfg->graph_level, err, errlen);
    case 'o':
        if (*arg == '\0')
            return fail(err, errlen, "%s: empty prefix", name);
        cfg->output = arg;
        return 0;
    case OPT_FORMAT:
        cfg->formats_given = true;
        return opt_formats(name, arg, &cfg->formats, err, errlen);
    case 'f':
        if (*arg == '\0')
            return fail(err, errlen, "%s: empty file name", name);
        cfg->target_file = arg;
        return 0;
    case 'n':
        cfg->no_dns = true;
        return 0;
    case 'q':
        cfg->quiet = true;
        return 0;
    case OPT_BASELINE:
        if (*arg == '\0')
            return fail(err, errlen, "%s: empty file name", name);
        cfg->baseline = arg;
        return 0;
    case OPT_HISTORY:
        if (*arg == '\0')
            return fail(err, errlen, "%s: empty file name", name);
        cfg->history = arg;
        snprintf(cfg->watch_only, sizeof cfg->watch_only, "%s", name);
        return 0;
    case OPT_CHECK: /* its rules are checked by main (watch/check.h) */
        cfg->check = true;
        cfg->check_spec = arg;
        return 0;
    case OPT_METRICS: /* its address is checked by main (watch/metrics_http.h) */
        cfg->metrics = arg;
        snprintf(cfg->watch_only, sizeof cfg->watch_only, "%s", name);
        return 0;
    case OPT_ROUND:
        return opt_uint(name, arg, 1, RG_MAX_ROUNDS, &cfg->round, err, errlen);
    case OPT_INTERVAL:
    case OPT_ROUNDS:
        if (!cfg->watch_only[0])
            snprintf(cfg->watch_only, sizeof cfg->watch_only, "%s", name);
        return c == OPT_INTERVAL ? opt_interval(name, arg, &cfg->interval, err, errlen)
                                 : opt_uint(name, arg, 1, RG_MAX_ROUNDS, &cfg->rounds, err, errlen);
    default:
        /* Reachable only if SHORTOPTS and this switch disagree. */
        return fail(err, errlen, "%s: not handled", name);
    }
}

static int check_combination(rg_config *cfg, const struct seen *seen, char *err,
                             size_t errlen)
{
    if (seen->v4 && seen->v6)
        cfg->family = RG_FAMILY_BOTH; /* -46, -4 -6, --both-families */
    if (cfg->min_ttl > cfg->max_ttl)
        return fail(err, errlen, "--min-ttl (%u) is greater than --max-ttl (%u)",
                    cfg->min_ttl, cfg->max_ttl);
    if (!cfg->formats_given) {
        cfg->formats = cfg->output ? RG_FMT_TABLE | RG_FMT_JSON : RG_FMT_TABLE;
        return 0;
    }
    if (!cfg->output && (cfg->formats & (cfg->formats - 1)) != 0)
        return fail(err, errlen,
                    "--format: only one format can go to standard output; "
                    "add -o PREFIX to write several");
    if (!cfg->output && cfg->formats == RG_FMT_PNG)
        return fail(err, errlen, "--format: png needs -o PREFIX (it is not text)");
    return 0;
}

enum rg_opt_result rg_options_parse(int argc, char **argv, rg_config *cfg,
                                    char *err, size_t errlen)
{
    set_defaults(cfg);
    if (err && errlen > 0)
        err[0] = '\0';
    if (argc < 1 || !argv)
        return RG_OPT_RUN;

    struct seen seen = {false, false};
    opterr = 0;
    optind = 0; /* full reinitialisation, so tests can parse again */
    for (;;) {
        int longindex = -1;
        int c = getopt_long(argc, argv, SHORTOPTS, LONGOPTS, &longindex);
        if (c == -1)
            break;
        if (c == '?') {
            unknown_option(argc, argv, err, errlen);
            return RG_OPT_ERROR;
        }
        char name[32];
        if (c == ':') {
            const char *tok = optind - 1 < argc ? argv[optind - 1] : "";
            opt_name(name, sizeof name, optopt, -1, strncmp(tok, "--", 2) == 0);
            rg_err(err, errlen, "%s: missing value", name);
            return RG_OPT_ERROR;
        }
        if (c == 'h')
            return RG_OPT_HELP;
        if (c == 'V')
            return RG_OPT_VERSION;
        if (longindex >= 0 && check_exact(argc, argv, &LONGOPTS[longindex], err, errlen) < 0)
            return RG_OPT_ERROR;
        opt_name(name, sizeof name, c, longindex, false);
        if (apply(c, name, optarg, cfg, &seen, err, errlen) < 0)
            return RG_OPT_ERROR;
        if (c != 'o' && c != OPT_FORMAT && c != 'q' && c != 'f' && c != OPT_WIDE &&
            c != OPT_GRAPH_LEVEL && !cfg->trace_only[0])
            snprintf(cfg->trace_only, sizeof cfg->trace_only, "%s", name);
        if (c != 'o' && c != OPT_FORMAT && c != 'q' && c != 'f' && !is_annotation(c) &&
            !cfg->probe_only[0])
            snprintf(cfg->probe_only, sizeof cfg->probe_only, "%s", name);
    }
    if (check_combination(cfg, &seen, err, errlen) < 0)
        return RG_OPT_ERROR;
    cfg->ntargets = (size_t)(argc - optind);
    cfg->targets = cfg->ntargets ? argv + optind : NULL;
    return RG_OPT_RUN;
}

bool rg_options_check_size(const rg_config *cfg, size_t ntargets, char *err, size_t errlen)
{
    /* Both factors are bounded (65536 targets, 1024 ports, 64 TTLs, 8
     * attempts): no product overflows 64 bits. */
    unsigned long long traces = (unsigned long long)ntargets * cfg->nports;
    /* As rg_trace_init allocates them: a row per TTL and one for the port
     * probes, rg_attempts_for() slots each. */
    unsigned rows = cfg->max_ttl - cfg->min_ttl + 2, attempts = rg_attempts_for(cfg->retries);
    unsigned long long slots = traces * rows * attempts;
    if (traces > RG_MAX_TRACES)
        return rg_err(err, errlen, "%zu targets x %zu ports make %llu traces, more than the %u "
                      "one run may hold; split the targets or the ports over several runs",
                      ntargets, cfg->nports, traces, RG_MAX_TRACES);
    if (slots > RG_MAX_PROBE_SLOTS)
        return rg_err(err, errlen, "%llu traces x %u TTL rows x %u attempts make %llu probe "
                      "slots, more than the %u one run may hold; narrow the TTL range, lower "
                      "-r or split the run", traces, rows, attempts, slots, RG_MAX_PROBE_SLOTS);
    return true;
}
