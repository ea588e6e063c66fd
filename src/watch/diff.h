/* diff: what changed for one service (target address and port) between a
 * known state and a new trace, in one verdict, understanding ECMP.
 *
 * A service's path is the responder per TTL below the destination (measured,
 * else inferred; a silent hop matches anything, so a router that rations
 * its answers is no change) and its AS path (hosts' AS numbers, each stretch
 * once). The known state is the reference trace (the baseline's, then the
 * latest change's) plus every path already seen for the service: all
 * traces to the same address in the baseline (other ports' flows hash onto
 * other ECMP branches) and every later round. A new trace that matches a
 * known path is unchanged, so traces that vary between known branches never
 * count; one that matches none is a change, classified in this order:
 * destination lost / regained, port state changed, AS path changed, new
 * ECMP branch (it leaves a known path and joins it again before the
 * destination, at the same TTL), hops changed within the same AS path.
 *
 * Pure code over rg_run/rg_trace: no I/O, no clock. */
#ifndef RG_WATCH_DIFF_H
#define RG_WATCH_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../cli/config.h"
#include "../model/result.h"

enum rg_change {
    RG_CHANGE_NONE = 0,
    RG_CHANGE_HOPS,       /* hops changed, same AS path */
    RG_CHANGE_AS_PATH,
    RG_CHANGE_NEW_BRANCH, /* an ECMP branch never seen for the service */
    RG_CHANGE_PORT,       /* port state changed */
    RG_CHANGE_LOST,       /* destination no longer reached */
    RG_CHANGE_REGAINED,   /* destination reached again */
    RG_CHANGE_ADDED,      /* the service was not in the baseline */
};

/* Known paths kept per service; the oldest goes first past this. */
#define RG_DIFF_MAX_PATHS 16

typedef struct rg_path {
    rg_addr hop[RG_MAX_TTL]; /* [ttl - 1]; family 0: silent or not probed */
    unsigned len;            /* TTLs below the destination (or to the last answer) */
    uint32_t as[RG_MAX_TTL];
    unsigned nas;
    bool reached;
    uint8_t state;           /* enum rg_port_state */
} rg_path;

typedef struct rg_change_event {
    enum rg_change kind;
    uint8_t old_state, new_state;   /* enum rg_port_state */
    unsigned part_ttl;              /* first TTL where the paths part; 0: none */
    rg_addr after;                  /* last common hop before it (family 0: the prober) */
    uint32_t after_as;              /* its AS, 0 unknown */
    rg_addr old_hop, new_hop;       /* at part_ttl */
} rg_change_event;

/* The known state of one service. */
typedef struct rg_service {
    rg_addr dst;
    uint16_t port;
    rg_path ref;                    /* the reference: baseline, then latest change */
    bool have_ref;
    rg_path known[RG_DIFF_MAX_PATHS];
    unsigned nknown, next;          /* ring of known paths */
} rg_service;

/* The path of trace t of run (AS numbers from run->hosts). */
void rg_path_of(const rg_run *run, const rg_trace *t, rg_path *p);

/* Sets up s for t's service from the old run: its own trace as the
 * reference (have_ref false when old has no such service) and every path
 * to the same address as known. */
void rg_service_init(rg_service *s, const rg_run *old, const rg_trace *t);

/* Compares the new trace's path with the service's known state, fills ev
 * (the AS where the paths part from run->hosts) and returns its kind; a
 * change becomes the new reference and its path a known one, so each
 * change is reported once. A service with no reference yet (not in the
 * baseline) takes now as its reference: RG_CHANGE_ADDED. */
enum rg_change rg_service_update(rg_service *s, const rg_run *run, const rg_path *now,
                                 rg_change_event *ev);

/* "unchanged", "hops changed", "AS path changed", "new ECMP branch", "port
 * state changed", "destination lost", "destination regained", "not in the
 * baseline". */
const char *rg_change_name(enum rg_change c);
/* The JSON form: "unchanged", "hops", "as-path", "new-branch", "port-state",
 * "lost", "regained", "added". */
const char *rg_change_key(enum rg_change c);

#endif
