/* config: everything the command line decides, in one plain struct that the
 * engine and the output formats read and never change. */
#ifndef RG_CONFIG_H
#define RG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_MAX_PORTS 1024
#define RG_MAX_TTL 64
#define RG_MAX_RETRIES 5
#define RG_MAX_TARGETS 65536

enum rg_format {
    RG_FMT_TABLE = 1u << 0,
    RG_FMT_JSON = 1u << 1,
};

enum rg_family_pref { RG_FAMILY_ANY = 0, RG_FAMILY_4 = 4, RG_FAMILY_6 = 6 };

typedef struct rg_config {
    uint16_t ports[RG_MAX_PORTS];
    size_t nports;
    unsigned min_ttl, max_ttl;
    unsigned sport;          /* 0 = one random source port per trace */
    double timeout;          /* seconds to wait for one reply */
    unsigned retries;        /* extra probes for a silent hop */
    unsigned rate;           /* probes per second, whole run */
    unsigned gap;            /* silent TTLs past the last answer that end a trace */
    unsigned stop_set;       /* 0 = off; else Doubletree mode starting at this TTL */
    enum rg_family_pref family;
    const char *output;      /* -o PREFIX, NULL = stdout for the table */
    unsigned formats;        /* enum rg_format bits */
    bool formats_given;
    bool no_dns;             /* -n */
    bool quiet;              /* -q */
    /* Targets from the command line (argv pointers, not owned). */
    char **targets;
    size_t ntargets;
    const char *target_file; /* -f FILE, "-" = stdin */
} rg_config;

#define RG_DEFAULT_RATE 100
#define RG_DEFAULT_GAP 5
#define RG_DEFAULT_STOP_SET 3

#endif
