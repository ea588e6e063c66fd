/* result: the outcome of a run, independent of how it was measured.
 * The engine fills it, annotation adds what it learns about each address,
 * the output formats read it, and input/json_read rebuilds it from a saved
 * document; nothing here touches a socket or the clock.
 *
 * Memory: an rg_run owns its traces; a trace owns its target name, its probe
 * slots and its per-TTL counters, all allocated once by rg_trace_init so the
 * engine never allocates per probe. A finished trace kept for the outputs
 * that need the whole run is compacted (rg_trace_compact): its slots that
 * were never sent go, the rest stay packed row after row, and every reader
 * below sees the same probes as before. */
#ifndef RG_RESULT_H
#define RG_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../probe/quote.h" /* rg_quote_diff */
#include "../probe/probe.h" /* enum rg_method */
#include "../probe/reply.h" /* enum rg_reply_kind, the codec's */
#include "../util/addr.h"
#include "mpath.h"

/* Each outcome its own word (docs/routegraph.1, OUTPUT). */
enum rg_port_state {
    RG_PORT_UNKNOWN = 0,  /* not settled: see enum rg_unknown_why */
    RG_PORT_OPEN,         /* SYN-ACK; UDP: an answer; ICMP: an echo reply (the address answers) */
    RG_PORT_CLOSED,       /* a trusted RST; UDP: port unreachable from the destination */
    RG_PORT_FILTERED,     /* silence where probes must have arrived */
    RG_PORT_UNREACHABLE,  /* an ICMP destination unreachable and no TCP answer */
};

/* Why a port came out unknown. */
enum rg_unknown_why {
    RG_WHY_NONE = 0,
    RG_WHY_RST_DOUBT,     /* only RSTs, each maybe the reset of a half-open connection of ours */
    RG_WHY_NO_ANSWER,     /* nothing answered at all: nothing shows the probes got anywhere */
    RG_WHY_LOSS,          /* silence, but probes to the same address were lost on the way */
    RG_WHY_MAX_TTL,       /* the probes expired before the destination (--max-ttl) */
    RG_WHY_NOT_PROBED,    /* nothing was sent */
    RG_WHY_OPEN_FILTERED, /* UDP: silence where probes must have arrived; an open
                           * port that does not answer our payload looks the same */
};

/* One probe sent and what came back for it. */
typedef struct rg_probe {
    struct timespec sent;     /* CLOCK_REALTIME; tv_sec == 0: never sent */
    struct timespec received; /* CLOCK_REALTIME of the first matching reply */
    rg_addr from;             /* responder of the first matching reply */
    uint32_t rtt_us;
    uint8_t kind;             /* enum rg_reply_kind */
    uint8_t icmp_type;        /* as received (ICMPv6 types for IPv6) */
    uint8_t icmp_code;
    uint8_t tcp_flags;
    uint8_t reply_ttl;        /* TTL / hop limit the reply arrived with */
    uint8_t duplicates;       /* further replies to the same probe, ignored */
    bool port_check;          /* sent to test a doubtful RST, not to find a hop */
    /* An ICMP error's quote against the probe sent (model/middlebox.h);
     * quote.tcp_quoted 0: none compared. */
    rg_quote_brief quote;
} rg_probe;

/* The RFC 4884 extensions (MPLS labels, interface information) of one
 * answer, kept beside the probe slots: few answers carry any, so the
 * slots stay small and only a trace that got some allocates. */
typedef struct rg_probe_ext {
    uint32_t slot;            /* index into rg_trace.probes */
    rg_icmpext ext;
} rg_probe_ext;

/* Why a hop has no measured responder (rg_run_infer). */
enum rg_silence {
    RG_SILENCE_NONE = 0,      /* answered, or never probed */
    RG_SILENCE_SILENT,        /* no probe at this position answered, in any trace */
    RG_SILENCE_RATE_LIMITED,  /* the router here answered other probes, not these */
};

/* TTL 0 names a trace's port probes: TCP SYNs sent at port_ttl before the
 * hops, so the port's state and the destination's distance come from TCP
 * answers, which routers do not rate-limit as they do ICMP errors. */
#define RG_PORT_PROBE_TTL 0u

/* Extra tries a hop gets when its router is known to rate-limit (it
 * answered other probes and lost some): its probes were lost to the
 * limiter, not to the path, and go again once its budget has refilled. */
#define RG_THROTTLED_RETRIES 2u

/* Probe slots per TTL for a run with --retries retries. */
static inline unsigned rg_attempts_for(unsigned retries)
{
    return retries + 1 + RG_THROTTLED_RETRIES;
}

/* One kind of rewrite seen only through ICMP errors that are not hop
 * answers: how many showed it and, from the lowest TTL, who sent it and
 * what it quoted. */
typedef struct rg_rewrite_seen {
    uint32_t errors;
    unsigned ttl;             /* 0: none */
    rg_addr by;
    rg_addr dst;              /* the destination rewritten: the quoted one */
    uint16_t dport;           /* and the quoted destination port */
    int32_t shift;            /* the sequence number: quoted - sent */
    bool mixed;               /* the sequence number: errors disagreed on the shift */
} rg_rewrite_seen;

typedef struct rg_rewrite_evidence {
    rg_rewrite_seen dst, seq;
} rg_rewrite_evidence;

typedef struct rg_trace {
    char *target;             /* the name or literal as given; owned */
    rg_addr dst;
    unsigned addresses;       /* the target name had this many (0/1: just dst) */
    rg_addr src;              /* our source address towards dst */
    uint16_t dport, sport;    /* sport: the flow id (ICMP: the echo identifier; dport 0) */
    uint8_t method;           /* enum rg_method (probe.h): how it is probed */
    uint32_t seq_base;        /* secret per trace: seq = base + identity */
    uint32_t flow_label;      /* IPv6, constant per trace */
    unsigned min_ttl, max_ttl;
    unsigned attempts;        /* probe slots per TTL: rg_attempts_for(retries) */
    unsigned port_ttl;        /* IP TTL of the port probes (TTL 0 slots) */
    rg_probe *probes;         /* [row(ttl) * attempts + attempt]; row 0: port probes */
    /* Compact form (rg_trace_compact): row r's probes are
     * probes[row_start[r] .. row_start[r + 1]), the attempts it used,
     * packed; NULL: the full layout above. */
    uint16_t *row_start;
    uint8_t *nsent;           /* [row(ttl)]: attempts sent at that TTL */
    /* Per TTL [ttl - min_ttl], set by rg_run_infer: a hop not measured on
     * this trace's own flow but known from other traces (family 0: none),
     * and why a hop without responder has none. */
    rg_addr *inferred;
    uint8_t *silence;         /* enum rg_silence */
    /* Owned, sorted by slot, at most one per slot: the answers that
     * carried ICMP extensions (rg_trace_set_ext). */
    rg_probe_ext *exts;
    uint32_t nexts, exts_cap;

    /* Conclusions, set by rg_trace_conclude(). */
    unsigned reached_ttl;     /* TTL whose probe the destination answered; 0 = not */
    unsigned last_ttl;        /* highest TTL probed */
    unsigned last_answer_ttl; /* highest TTL with any reply; 0 = none */
    enum rg_port_state state;
    uint32_t rtt_us;          /* RTT of the reply that reached the destination */
    bool stopped_by_unreachable; /* an ICMP unreachable ended it */
    unsigned est_distance;    /* from the port probes' reply TTL; 0 = unknown */
    unsigned port_probes_sent, port_probes_lost;
    uint8_t unknown_why;      /* enum rg_unknown_why; RG_WHY_NONE unless unknown */
    /* No TCP answer: the probes past the last answer (port probes
     * included) that got none. With a TCP answer: the probes that may have
     * reached the destination (port probes, hops at or past it) and got no
     * answer, which is loss on the path (routers do not rate-limit TCP). */
    unsigned unanswered;
    /* Filtered, or unknown for RG_WHY_LOSS: the TCP probes to the other
     * ports of the address that must have reached it, and how many were
     * lost (sent 0: no other port answered, loss could not be checked). */
    unsigned sibling_lost, sibling_sent;
    /* The run was stopped (a signal) before this trace ended: what it shows
     * is what was measured until then. Set by the engine, not by conclude. */
    bool incomplete;
    /* The whole comparison of the lowest TTL whose quote showed one of the
     * rarer changes (RG_QC_RARE: NAT, IDs, sequence; its seq field holds
     * the shift), with the addresses it quoted; rare_ttl 0: none
     * (model/middlebox.h). */
    rg_quote_diff rare;
    rg_addr quoted_src, quoted_dst;
    unsigned rare_ttl, rare_attempt;
    /* ICMP errors whose quote named a probe of this trace by its secret but
     * with our source address rewritten (a NAT that leaves quotes alone, or
     * a forgery): never hop answers. How many, and the lowest TTL's
     * responder and quoted source; nat_ttl 0: none. */
    uint32_t nat_errors;
    unsigned nat_ttl;
    rg_addr nat_by, nat_source;
    /* Owned; NULL: none. ICMP errors attributed by their secret whose
     * quote shows our destination rewritten or the sequence number shifted
     * (engine/rematch.h): evidence, never hop answers (model/middlebox.h). */
    struct rg_rewrite_evidence *evidence;
    /* --multipath: every branch found towards dst (shared by the traces
     * to that address; owned by the run's mpaths); NULL when not run. */
    const rg_mpath *mpath;
} rg_trace;

typedef struct rg_run_stats {
    uint64_t probes_sent;
    uint64_t replies;         /* packets read that parsed as a candidate reply */
    uint64_t matched;
    uint64_t unmatched;       /* parsed but belonged to no probe of ours */
    uint64_t duplicates;
    uint64_t malformed;       /* too short or inconsistent to parse */
    uint64_t send_errors;     /* probes the kernel refused to send */
    uint64_t retries_sent;    /* probes sent again to a silent TTL */
    uint64_t port_checks_sent; /* probes sent to test a doubtful RST */
    uint64_t port_probes_sent; /* TCP probes at a high TTL for port state and distance */
    uint64_t hops_inferred;   /* probes not sent: the hop was known from other traces */
    int last_send_error;      /* errno of the last refusal */
    bool idle_stop;           /* the engine's idle safety net ended the run, not
                               * its traces: some trace waited for what never came */
} rg_run_stats;

enum rg_as_source {
    RG_AS_NONE = 0,
    RG_AS_CSV,    /* offline ip-location-db style CSV */
    RG_AS_MMDB,   /* MaxMind-format .mmdb */
    RG_AS_CYMRU,  /* Team Cymru DNS */
};

/* What is known about one address seen in the run (a responder or a
 * destination), filled by the annotation stage; every string is untrusted
 * outside text (DNS, databases) and must be escaped by each output format. */
typedef struct rg_host {
    rg_addr addr;
    uint32_t asn;             /* 0 = unknown */
    uint8_t as_source;        /* enum rg_as_source */
    uint8_t geo_source;       /* enum rg_as_source of the country (CSV: the country database) */
    char country[3];          /* ISO 3166 alpha-2; "" = unknown */
    char *as_org;             /* owned; NULL = unknown */
    char *ptr;                /* owned reverse-DNS name; NULL = none */
    char *city;               /* owned; NULL = unknown */
} rg_host;

typedef struct rg_unresolved {
    char *name;               /* owned */
    char *why;                /* owned */
} rg_unresolved;

typedef struct rg_run {
    rg_trace *traces;         /* owned array; see store */
    size_t ntraces;
    /* Owned; NULL: traces is one malloc'd array. Set: traces lie in a
     * trace store (trace_store.h), and the traces it dropped read as zeros. */
    struct rg_trace_store *store;
    rg_unresolved *unresolved; /* owned array */
    size_t nunresolved;
    struct timespec start, end; /* CLOCK_REALTIME */
    rg_run_stats stats;
    rg_host *hosts;           /* owned, sorted by addr, unique; see below */
    size_t nhosts;
    const char *as_credit;    /* static text the AS data's licence asks to show; NULL = none */
    bool interrupted;         /* stopped by a signal; unfinished traces are incomplete */
    const char *country_credit; /* the same for the country data */
    rg_mpath *mpaths;         /* owned: --multipath, one per destination */
    size_t nmpaths;
} rg_run;

/* Allocates the probe slots; false on allocation failure. Takes a copy of target. */
bool rg_trace_init(rg_trace *t, const char *target, const rg_addr *dst,
                   uint16_t dport, unsigned min_ttl, unsigned max_ttl,
                   unsigned attempts);
void rg_trace_free(rg_trace *t);
/* As rg_trace_init, but the probe slots, counters and inference stay
 * unallocated until rg_trace_alloc: a planned trace costs its name and this
 * struct until the engine starts it. */
bool rg_trace_init_deferred(rg_trace *t, const char *target, const rg_addr *dst,
                            uint16_t dport, unsigned min_ttl, unsigned max_ttl,
                            unsigned attempts);
/* Allocates what rg_trace_init_deferred left out (nothing when present). */
bool rg_trace_alloc(rg_trace *t);
/* The probe slots the trace has, or will have once allocated. */
size_t rg_trace_planned_slots(const rg_trace *t);
/* Frees the probe slots, counters and inference of a trace already
 * written (streamed output), keeping its identity and conclusions (target,
 * addresses, ports, state, reached_ttl ...). Afterwards the trace has no
 * slots: rg_trace_sent is 0 and rg_trace_probe NULL everywhere. */
void rg_trace_release(rg_trace *t);

/* Keeps of the probe slots only those used (sent or answered), packed row
 * by row, and frees the rest: a finished trace kept for the whole-run
 * outputs costs the probes it sent, not every slot it might have used.
 * Everything read through the functions below is unchanged. Nothing when
 * already compact or without slots; false (trace unchanged) on no memory. */
bool rg_trace_compact(rg_trace *t);
/* Back to the full layout, every slot present again (a compacted trace
 * probed once more); false (trace unchanged) on no memory. */
bool rg_trace_expand(rg_trace *t);
static inline bool rg_trace_is_compact(const rg_trace *t)
{
    return t->row_start != NULL;
}
/* The number of slot (ttl, attempt) in the full layout, whatever the form
 * the trace is in: for per-slot arrays kept beside the trace (the engine's). */
size_t rg_trace_slot_number(const rg_trace *t, unsigned ttl, unsigned attempt);

/* NULL when ttl/attempt are outside the trace's slots (compact: outside the
 * used ones); ttl 0: port probes. */
rg_probe *rg_trace_probe(const rg_trace *t, unsigned ttl, unsigned attempt);
/* Number of probe slots, port probes included (t->probes[0 .. n));
 * compact: the used ones. */
size_t rg_trace_slots(const rg_trace *t);
/* The IP TTL a probe in slot (ttl, .) was sent with. */
unsigned rg_trace_wire_ttl(const rg_trace *t, unsigned ttl);
/* What probe (ttl, attempt) of t is made of: a pure function of the trace
 * and the probe's identity, so the engine builds it from this and the
 * middlebox comparison rebuilds the same bytes without keeping them. */
rg_probe_spec rg_trace_probe_spec(const rg_trace *t, unsigned ttl, unsigned attempt);
/* The responder inferred at ttl (NULL: none) and the silence label. */
const rg_addr *rg_trace_inferred(const rg_trace *t, unsigned ttl);
enum rg_silence rg_trace_silence(const rg_trace *t, unsigned ttl);
unsigned rg_trace_sent(const rg_trace *t, unsigned ttl);
/* Records that n attempts went out at ttl (0: the port probes); ignored
 * outside the trace's slots. */
void rg_trace_set_sent(rg_trace *t, unsigned ttl, unsigned n);
/* Keeps a copy of the extensions of the answer in slot p (a probe of t);
 * false when p is not one of t's slots or memory ran out. Allocates only
 * for answers that have extensions. */
bool rg_trace_set_ext(rg_trace *t, const rg_probe *p, const rg_icmpext *e);
/* The extensions kept for the answer in slot p, or NULL (O(log n)). */
const rg_icmpext *rg_trace_ext(const rg_trace *t, const rg_probe *p);
/* Forgets every kept extension (a watch round starting afresh). */
void rg_trace_clear_ext(rg_trace *t);

/* The first answered probe at this TTL, or NULL. */
const rg_probe *rg_trace_answer(const rg_trace *t, unsigned ttl);

/* The answer a one-line view shows for a TTL: its SYN-ACK if it has one (a
 * port check may have settled what an RST left in doubt), else the first
 * answer; NULL when silent. */
const rg_probe *rg_trace_shown(const rg_trace *t, unsigned ttl);

/* The attempt of rg_trace_answer (above 0: the TTL answered only a retry;
 * port checks follow an answer, so never decide it); -1 when silent. */
int rg_trace_answer_attempt(const rg_trace *t, unsigned ttl);

/* Whether the reply opens the port: a SYN-ACK, a UDP answer, an echo reply. */
bool rg_probe_opens(const rg_probe *p);

/* Whether any probe of the trace got a SYN-ACK (from anyone), or for the
 * other methods an answer that opens (rg_probe_opens). */
bool rg_trace_has_synack(const rg_trace *t);

/* After rg_trace_conclude: the reply the port's verdict rests on, the
 * SYN-ACK when open (a port check may have got it at a higher TTL), else
 * the destination's first answer at reached_ttl; NULL when not reached. */
const rg_probe *rg_trace_deciding(const rg_trace *t);

/* Whether the RST answering probe p proves the port closed. It does not when
 * an earlier probe of the trace may have reached the destination and lost
 * its SYN-ACK on the way back: the destination then holds a half-open
 * connection for the trace's 5-tuple and resets it on our next SYN, open
 * port or not. Such an earlier probe is harmless once an RST to a probe sent
 * after it came back before p left (that RST ended the half-open state). */
bool rg_trace_rst_trusted(const rg_trace *t, const rg_probe *p);
/* The same, adding to *visits (when not NULL) the probe slots it read: at
 * most three times the trace's slots (rg_trace_slots), so a table asking
 * about every RST stays quadratic per trace at worst, never cubic. Tests
 * prove the bound by counting, not by timing. */
bool rg_trace_rst_trusted_counted(const rg_trace *t, const rg_probe *p, uint64_t *visits);

/* Whether the trace's TCP answers are RSTs that are all in doubt (no
 * SYN-ACK, no trusted RST): the port would come out unknown. */
bool rg_trace_port_in_doubt(const rg_trace *t);

/* Derives reached_ttl, state, rtt and friends from the probe slots. The
 * state is open on any SYN-ACK, closed on a trusted RST, unknown when every
 * RST was in doubt. */
void rg_trace_conclude(rg_trace *t);

/* rg_trace_conclude on every trace that still has its probe slots (one
 * released after streaming keeps the verdict it was written with and
 * takes no part below), then the run-wide part of the verdict:
 * silence on a port is `filtered` only when the TCP probes to the other
 * ports of the same address lost nothing; else `unknown` (RG_WHY_LOSS). */
void rg_run_conclude(rg_run *run);

/* The run-wide part of rg_run_conclude for the concluded traces of one
 * address (all its ports): for a caller that settles an address as soon
 * as its last port ends (the streamed output). False if out of memory. */
bool rg_traces_settle(rg_trace *const *traces, size_t n);

/* The ICMP unreachable that stopped the trace (NULL when none). */
const rg_probe *rg_trace_unreachable(const rg_trace *t);

/* (Re)builds run->hosts: every responder and destination address once,
 * sorted, with empty annotations. False on allocation failure. */
bool rg_run_collect_hosts(rg_run *run);
/* (Re)builds run->hosts from the n addresses given (a lookup's): sorted,
 * each once, with empty annotations. False on allocation failure. */
bool rg_run_set_hosts(rg_run *run, const rg_addr *addrs, size_t n);
/* Frees run->hosts alone (a one-trace view's, the streamed output's). */
void rg_run_free_hosts(rg_run *run);
/* The host entry for a (binary search), or NULL. */
rg_host *rg_run_host(const rg_run *run, const rg_addr *a);
/* Replaces *field with a copy of value (NULL clears); false on no memory. */
bool rg_host_set(char **field, const char *value);

/* Drops every trace whose (destination, port) an earlier trace already has
 * (two names for one address), keeping the first; O(n log n). False on no
 * memory (the run is then unchanged). */
bool rg_run_dedupe(rg_run *run);

bool rg_run_add_unresolved(rg_run *run, const char *name, const char *why);
void rg_run_free(rg_run *run);

const char *rg_reply_kind_name(enum rg_reply_kind k);
const char *rg_silence_name(enum rg_silence s); /* NULL for NONE */
/* Hops from a destination's reply TTL: the hops its answer took to come
 * back, assuming the usual initial TTLs (64, 128, 255); 0 when implausible. */
unsigned rg_distance_from_reply_ttl(unsigned reply_ttl);
const char *rg_port_state_name(enum rg_port_state s);
/* "rst-in-doubt", "no-answer", "probes-lost", "max-ttl", "not-probed"; NULL for NONE. */
const char *rg_unknown_why_name(enum rg_unknown_why w);
/* The port as labels show it: "80" (TCP), "53/udp", "icmp" (no port). */
const char *rg_trace_port_text(const rg_trace *t, char *buf, size_t len);
/* Short code for tables: "11", "SA", "RA", traceroute's "!N", "!H", "!X" ...
 * for an unreachable, "-" (none). */
const char *rg_probe_code(const rg_probe *p, char *buf, size_t len);

#endif
