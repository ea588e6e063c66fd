/* graph: the route graph of a run as plain data, built once from an rg_run
 * and then written by any renderer (DOT text, libgvc layouts).
 *
 * Promises:
 * - One node per address that answered on a trace's path (the first answer
 *   at each TTL, as the table shows it) or that a trace was sent to; every
 *   trace passing an address shares its node. Node 0 is the prober.
 * - A hop inferred from other traces (rg_run_infer) is drawn on its node,
 *   the edge into it marked inferred.
 * - A silent TTL between two known nodes A and B becomes an `unk` node,
 *   shared by every trace with the same A, the same B and the same number of
 *   silent TTLs between them. Silence after the last answer is not drawn as
 *   unk nodes: a trace that never reached its destination ends in an `end`
 *   node hung off the node that answered last (the prober if none did).
 * - A trace's edges follow its path; where consecutive TTLs answered from
 *   the same address the trace simply stays on that node (no self-loop).
 *   TTLs a trace never probed before its first probe (Doubletree's start
 *   TTL) are left out, not drawn as silent hops.
 * - Destination nodes carry one port cell per trace sent to them.
 * - A hop where a trace's quotes first show a change a middlebox made (DSCP,
 *   MSS, NAT ...) carries the kinds of change (rewrites), every trace's.
 * - Host nodes with a known AS belong to one cluster per AS; an unk node
 *   whose two known neighbours share a cluster joins it.
 * - Where traces to the same address but different ports take different
 *   paths, a split records the last node they shared. Paths are compared
 *   by their known hosts, TTL by TTL; a router's final unreachable is a
 *   filter, not a route, and does not count as a different path.
 * - With --multipath, every branch MDA found is a HOST node and every edge
 *   between branches an edge marked multipath (once, under the first trace
 *   to that destination), so diamonds are drawn side by side inside their
 *   AS clusters; an edge the trace's own path already has is not repeated.
 * - Everything is deterministic for a given run: host nodes in address order,
 *   unk and end nodes in the order the traces first need them, edges in trace
 *   then TTL order, clusters by AS number.
 * - Strings (targets, PTR names, AS organisations, cities) are copied as
 *   they came: untrusted, unescaped. Every renderer escapes them.
 *
 * The graph owns all its memory and does not point into the run. */
#ifndef RG_GRAPH_H
#define RG_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"

#define RG_GRAPH_NONE ((size_t)-1)
#define RG_GRAPH_MAX_NAMES 3     /* target names kept per destination node */
#define RG_GRAPH_MAX_SOURCES 4   /* prober source addresses kept */
#define RG_GRAPH_MAX_COUNTRIES 4 /* countries named in a cluster label */

enum rg_gnode_kind {
    RG_GNODE_ROOT, /* the prober */
    RG_GNODE_HOST, /* an address: a responder, a destination, or both */
    RG_GNODE_UNK,  /* one or more merged silent hops */
    RG_GNODE_END,  /* where unreached traces stopped */
};

enum rg_gend_reason {
    RG_GEND_SILENCE,     /* nothing answered past the previous node */
    RG_GEND_UNREACHABLE, /* the previous node sent an ICMP unreachable */
};

/* One probed port of a destination. */
typedef struct rg_gport {
    uint16_t port;
    bool tcp;                 /* a TCP port: service names apply */
    char port_text[16];       /* rg_trace_port_text: "80", "53/udp", "icmp" */
    enum rg_port_state state; /* RG_PORT_UNKNOWN when nothing was sent */
    char code[4];             /* "SA", "RA", "3" (unreachable), "-" */
    size_t trace;             /* index into rg_graph.traces */
} rg_gport;

typedef struct rg_gnode {
    enum rg_gnode_kind kind;
    unsigned id;              /* per kind: unk<id>, end<id> */
    rg_addr addr;             /* HOST */
    /* HOST annotation, copied from rg_run.hosts; NULL / "" / 0 = unknown. */
    uint32_t asn;
    char country[3];
    char *as_org, *ptr, *city;
    /* Median over every reply this address sent (all traces, all
     * attempts); valid when nrtt > 0. */
    uint32_t median_rtt_us;
    size_t nrtt;
    /* HOST: the ICMP extensions (MPLS labels, interfaces) of the first of
     * its answers that had any, traces and slots in order; owned copy,
     * NULL = none. Names in it are outside text. */
    rg_icmpext *ext;
    /* Destination (HOST that traces were sent to): its ports sorted by
     * (port, trace), and target names that differ from the address text. */
    rg_gport *ports;
    size_t nports;
    char *names[RG_GRAPH_MAX_NAMES];
    size_t nnames, more_names;
    bool reached;             /* at least one trace reached this destination */
    size_t cluster;           /* index into clusters, or RG_GRAPH_NONE */
    size_t nsplits;           /* splits happening at this node */
    uint16_t rewrites;        /* HOST: enum rg_quote_change bits some trace's
                                 quote first showed at this hop (model/middlebox.h) */
    uint16_t rewritten_after; /* HOST or ROOT: RG_QC_SRC / DST / SEQ bits that only
                                 errors which are not hop answers showed, rewritten
                                 between this hop (the last that quoted the probe
                                 as sent) and the next */
    bool rate_limited;        /* UNK: every trace's silence there was a router's
                                 rate limit (it answered other probes) */
    /* END: the destination it stood for and why it ended. */
    size_t dest;
    enum rg_gend_reason reason;
} rg_gnode;

typedef struct rg_gedge {
    size_t from, to;          /* node indices */
    size_t trace;             /* index into traces: colour and legend entry */
    unsigned ttl;             /* TTL of `to`; 0 for the edge into an END */
    bool inferred;            /* `to` was inferred from other traces, not measured */
    bool split;               /* leaves a split node for a representative trace */
    /* --multipath: a branch MDA found (model/mpath.h), drawn beside the
     * trace's own path; the confidence and whether the stopping rule was
     * met at `to`'s TTL (false: the probe budget ended it). */
    bool multipath, mp_rule_met;
    unsigned mp_confidence;
} rg_gedge;

typedef struct rg_gtrace {
    char *target;             /* as given */
    rg_addr dst;
    uint16_t port;
    char port_text[16];       /* rg_trace_port_text */
    enum rg_port_state state;
    uint8_t unknown_why;      /* enum rg_unknown_why, when state is unknown */
    bool reached;
    size_t dest;              /* destination node */
    size_t last;              /* node that answered last (0 = prober) */
    size_t end;               /* END node, or RG_GRAPH_NONE when reached */
} rg_gtrace;

typedef struct rg_gcluster {
    uint32_t asn;
    char *org;                /* from the first member that names it; may be NULL */
    char countries[RG_GRAPH_MAX_COUNTRIES][3]; /* distinct, sorted */
    size_t ncountries;
    bool more_countries;      /* members in further countries, not listed */
} rg_gcluster;

/* Traces `other` (and every trace in its path class) leave the path of
 * trace `first` after node `at` (the prober when they share no hop). */
typedef struct rg_gsplit {
    size_t dest;              /* destination node */
    size_t at;                /* last shared node */
    unsigned ttl;             /* first TTL where they differ */
    size_t first, other;      /* representative traces */
    size_t *other_traces;     /* every trace in other's path class */
    size_t nother;
    size_t *first_traces;     /* every trace in first's path class */
    size_t nfirst;
} rg_gsplit;

typedef struct rg_graph {
    rg_gnode *nodes;
    size_t nnodes;
    size_t nhosts;            /* nodes[1 .. nhosts] are HOST, sorted by address */
    rg_gedge *edges;
    size_t nedges;
    rg_gtrace *traces;        /* same order as rg_run.traces */
    size_t ntraces;
    rg_gcluster *clusters;
    size_t nclusters;
    rg_gsplit *splits;
    size_t nsplits;
    rg_addr sources[RG_GRAPH_MAX_SOURCES]; /* prober addresses, sorted */
    size_t nsources;
    char *credit;             /* attribution the AS data asks for; NULL = none */
} rg_graph;

/* Builds the graph; NULL on allocation failure. The run is only read. */
rg_graph *rg_graph_build(const rg_run *run);
void rg_graph_free(rg_graph *g);

/* The HOST node for an address, or RG_GRAPH_NONE. */
size_t rg_graph_host(const rg_graph *g, const rg_addr *a);

#endif
