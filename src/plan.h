/* plan: targets into traces. A target name or literal is resolved (after
 * the privilege drop, like everything read from outside), checked (a raw
 * socket of its family, a route, the lab ranges when ROUTEGRAPH_LAB_ONLY
 * is set) and becomes one trace per port; one that cannot be traced is
 * named on standard error with where it came from and listed in the run's
 * `unresolved`, and the run goes on.
 *
 * Two ways: a whole run plans every target before the first probe
 * (rg_plan_all); a streamed run plans them lazily (rg_feeder, the engine's
 * feed hook), the command line's first, then the target file's or standard
 * input's as the engine's window has room, so the run never holds the
 * list, only the traces it has reached. Two names for one address and
 * port are traced once, under the first name, either way. */
#ifndef RG_PLAN_H
#define RG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/config.h"
#include "cli/target_reader.h"
#include "cli/targets.h"
#include "engine/sockets.h"
#include "model/result.h"

/* Every target of l; false only when out of memory. */
bool rg_plan_all(rg_run *run, const rg_config *cfg, const rg_target_list *l,
                 const rg_sockets *socks);

/* The most targets a run of cfg's ports, TTLs and retries may hold
 * (rg_options_check_size's bounds). */
size_t rg_plan_max_targets(const rg_config *cfg);

typedef struct rg_feed_key {
    rg_addr dst;
    uint16_t dport;
} rg_feed_key;

typedef struct rg_feeder {
    const rg_config *cfg;
    const rg_sockets *socks;
    const rg_target_list *list;   /* the command line's (or the prompt's), first */
    size_t next;                  /* list entries fed so far */
    rg_target_reader *reader;     /* the target file or stdin; NULL: none */
    bool checked;                 /* a first pass reported the file's bad entries */
    size_t skipped;               /* bad entries met while feeding */
    bool failed;                  /* the input stopped the run's intake (failure says why) */
    char failure[512];
    bool nomem;
    size_t traces_cap;            /* run->traces' room (it grows by doubling) */
    /* The (address, port) set, keys held here: a trace written and
     * dropped (trace_store.h) is still a duplicate's first. Empty: family 0. */
    rg_feed_key *seen;
    size_t seen_mask, nseen;
} rg_feeder;

/* f borrows list and reader (NULL: none). */
bool rg_feeder_init(rg_feeder *f, const rg_config *cfg, const rg_sockets *socks,
                    const rg_target_list *list, rg_target_reader *reader, bool checked);
void rg_feeder_free(rg_feeder *f);
/* The engine's feed hook (engine.h, rg_trace_feed_fn): ctx is the feeder.
 * A bad entry is named on standard error (unless the first pass did) and
 * skipped, or with --strict stops the intake, as a read error or too many
 * targets do (f->failed). */
bool rg_feed(void *ctx, rg_run *run, size_t room);

/* The first pass over a target file that can be read twice: every bad
 * entry named before the first probe (at most RG_TARGETS_SHOWN_SKIPS, then
 * counted), --strict failing at the first; the good entries counted into
 * *entries. False with one line in err when the run must not start. */
bool rg_plan_check_file(const rg_config *cfg, const char *path, size_t limit,
                        size_t *entries, size_t *skipped, char *err, size_t errlen);

/* A streamed run's intake: the first pass over a target file that can be
 * read twice (its bad entries named, a run with nothing to trace or too
 * many targets refused, all before the first probe), then the reader the
 * feeder reads lazily (standard input and pipes without waiting: what has
 * not been written yet is asked for again later). */
typedef struct rg_lazy {
    rg_feeder feeder;
    rg_target_reader *reader;
    size_t checked_skipped; /* bad entries the first pass named */
    size_t max_traces;      /* the most the feed may add (engine sizing) */
    bool open;
} rg_lazy;

/* False with one line in err when the run must not start. */
bool rg_lazy_open(rg_lazy *z, const rg_config *cfg, const rg_sockets *socks,
                  const rg_target_list *list, char *err, size_t errlen);
/* After the run: the bad entries met while feeding counted (and how many
 * were not shown), *skipped set to all of them; false when the intake
 * stopped the run's input (the line says why: --strict, too many targets,
 * a read error, no memory). */
bool rg_lazy_report(const rg_lazy *z, size_t *skipped);
/* Safe on a zeroed rg_lazy. */
void rg_lazy_close(rg_lazy *z);

#endif
