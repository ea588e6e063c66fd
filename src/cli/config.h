/* config: everything the command line decides, in one plain struct that
 * cli/options.c fills once; every later stage (engine, annotation, outputs)
 * only reads it (render adjusts a copy of its own). */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_MAX_PORTS 1024
#define RG_MAX_TTL 64
#define RG_MAX_RETRIES 5
#define RG_MAX_TARGETS 65536
/* targets x ports, one run: every target on two ports (issue 14's run) */
#define RG_MAX_TRACES (2u * RG_MAX_TARGETS)
#define RG_MAX_INFLIGHT 65536u /* --max-inflight */
/* 1 GiB of rg_probe if a whole-run output keeps them all; enough for
 * RG_MAX_TRACES at the default TTL range and retries (31 rows x 4). */
#define RG_MAX_PROBE_SLOTS (16u * 1024 * 1024)

enum rg_format {
    RG_FMT_TABLE = 1u << 0,
    RG_FMT_JSON = 1u << 1,
    RG_FMT_DOT = 1u << 2,
    RG_FMT_SVG = 1u << 3,
    RG_FMT_PNG = 1u << 4,
    RG_FMT_HTML = 1u << 5,
    RG_FMT_JSONL = 1u << 6,  /* streamed while the run goes (output/jsonl.h) */
};
/* "all": every format of the whole run (jsonl repeats json, line by line). */
#define RG_FMT_ALL 0x3fu
#define RG_FMT_GRAPH (RG_FMT_DOT | RG_FMT_SVG | RG_FMT_PNG | RG_FMT_HTML)

/* --graph-level: what the graph outputs draw. */
enum rg_graph_level {
    RG_GLEVEL_AUTO = 0, /* AS level above RG_GRAPH_AS_TRACES traces (graph/asgraph.h) */
    RG_GLEVEL_ROUTER,
    RG_GLEVEL_AS,
};
/* auto draws the AS level above this many traces, when any address has an
 * AS: past about 200 traces the router-level picture is a wall of parallel
 * edges and hundreds of boxes. */
#define RG_GRAPH_AS_TRACES 200

/* Which AS lookups a run makes (bits; 0 = none). Not to be confused with
 * enum rg_as_source (model/result.h): where a host's AS data did come from. */
enum rg_as_lookups {
    RG_ASLOOKUP_OFFLINE = 1u << 0, /* --asn-db CSVs / default data, --mmdb */
    RG_ASLOOKUP_CYMRU = 1u << 1,   /* Team Cymru DNS, for what offline did not know */
};

#define RG_MAX_DBFILES 8

/* BOTH (-46): a name's IPv4 and IPv6 address, traced side by side. */
enum rg_family_pref { RG_FAMILY_ANY = 0, RG_FAMILY_4 = 4, RG_FAMILY_6 = 6, RG_FAMILY_BOTH = 46 };

typedef struct rg_config {
    uint16_t ports[RG_MAX_PORTS];
    size_t nports;
    unsigned min_ttl, max_ttl;
    unsigned sport;          /* 0 = one random source port per trace */
    uint8_t method;          /* -P: enum rg_method (probe/probe.h), default tcp */
    double timeout;          /* seconds to wait for one reply */
    unsigned retries;        /* extra probes for a silent hop */
    unsigned rate;           /* probes per second, whole run */
    unsigned gap;            /* silent TTLs past the last answer that end a trace */
    unsigned stop_set;       /* 0 = off; else Doubletree mode starting at this TTL */
    unsigned multipath;      /* 0 = off; else MDA's confidence, 95 or 99 */
    unsigned max_inflight;   /* traces started and not done at once */
    enum rg_family_pref family;
    const char *output;      /* -o PREFIX, NULL = stdout for the table */
    unsigned formats;        /* enum rg_format bits */
    bool formats_given;
    bool no_dns;             /* -n: no reverse DNS (and no Cymru lookups) */
    const char *asn_db[RG_MAX_DBFILES]; /* --asn-db, repeatable */
    size_t nasn_db;
    const char *mmdb[RG_MAX_DBFILES];   /* --mmdb, repeatable */
    size_t nmmdb;
    const char *country_db[RG_MAX_DBFILES]; /* --country-db, repeatable */
    size_t ncountry_db;
    unsigned as_lookups;    /* enum rg_as_lookups bits */
    const char *dns_server;  /* --dns-server ADDR, NULL = system resolver */
    double dns_timeout;      /* seconds for all lookups together */
    bool quiet;              /* -q */
    bool ports_given;        /* -p: a target's own port joins these, else replaces the default */
    bool strict;             /* --strict: a target file stops at its first bad entry */
    bool wide;               /* --wide: the table at full width, never wrapped */
    enum rg_graph_level graph_level;
    /* Targets from the command line (argv pointers, not owned). */
    char **targets;
    size_t ntargets;
    const char *target_file; /* -f FILE, "-" = stdin */
    char trace_only[32];     /* the first option given that only a trace uses, or "" */
    /* routegraph watch */
    double interval;         /* seconds from one round's start to the next */
    unsigned rounds;         /* 0 = until stopped by a signal */
    char watch_only[32];     /* the first watch-only option given, or "" */
    const char *baseline;    /* --baseline FILE.json, NULL = none */
    const char *history;     /* --history FILE (SQLite), NULL = none */
    unsigned round;          /* routegraph history --round N; 0 = list */
    const char *metrics;     /* --metrics ADDR:PORT, NULL = no server */
    bool check;              /* --check: a monitoring plugin's one line and status */
    const char *check_spec;  /* its rules, NULL = the defaults */
    char probe_only[32];     /* the same, annotation options (lookup takes them) left out */
} rg_config;

/* The global cap. Each router is paced by its own answers (engine/pace.h),
 * so this bounds only what the probe host sends in all: 2000 probes of 60
 * bytes a second is under 1 Mbit/s, which no access link or first router
 * notices, while 64 targets x 2 ports x 8 hops still go out in half a
 * second. */
#define RG_DEFAULT_RATE 2000
#define RG_DEFAULT_GAP 5
#define RG_DEFAULT_STOP_SET 3
/* Traces in flight at once: 2048 traces of about a dozen probes, each
 * living under a second, keep 50,000 probes/s busy (65,536 targets x 2
 * ports streamed took 23 s at 2048, 25 s at 1024 and 36 s at 4096, whose
 * passes over the window cost more than they gain; docs/benchmarks.md),
 * and a streamed run (--format jsonl) holds the slots of no more than
 * these: about 9 KB each. */
#define RG_DEFAULT_MAX_INFLIGHT 2048
#define RG_DEFAULT_DNS_TIMEOUT 3.0
#define RG_DEFAULT_INTERVAL 60
#define RG_MAX_INTERVAL 86400
#define RG_MAX_ROUNDS 1000000000

#endif
