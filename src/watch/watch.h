/* watch: `routegraph watch` traces the same targets round after round and
 * reports per-hop statistics over the rounds (stats.h, report.h).
 *
 * The raw sockets stay open for the whole watch: they were opened before the
 * privilege drop, and an unprivileged process cannot open them again, so
 * keeping the descriptors is the only way a dropped process can go on
 * probing. Nothing else privileged is kept. Each round re-uses the same
 * traces (same source ports, so each keeps its ECMP branch; a fresh sequence
 * secret, so a late reply to the previous round matches nothing), reset in
 * place: the memory of a watch does not grow with its rounds.
 *
 * SIGINT/SIGTERM (stop.h) end the watch in two stages: the first lets the
 * round in progress end (bounded by its own timeouts) and keeps it, like
 * any other, in the statistics, the history and the metrics, then starts
 * no other; a second abandons the round in progress at once (counted as
 * interrupted, not stored in the history). Either way the outputs are
 * written, the history closed and the metrics server stopped. */
#ifndef RG_WATCH_H
#define RG_WATCH_H

#include "../annotate/sources.h"
#include "../cli/config.h"
#include "../engine/sockets.h"
#include "../model/result.h"

/* Runs the rounds on run's planned traces, then writes the report and the
 * formats asked for (the latest round's graph, JSON with the "watch"
 * member). Returns the exit status: 0 after --rounds rounds or a first
 * signal (the round in progress finished), 128 + the signal's number after
 * a second one (130 SIGINT, 143 SIGTERM), 1 on a runtime error, 2 when
 * --baseline, --metrics or --history cannot be set up. */
int rg_watch_run(rg_run *run, const rg_config *cfg, const rg_sockets *socks,
                 rg_sources *sources);

/* Clears everything a round measured from run's traces and gives each a
 * fresh sequence secret, keeping its addresses and source port. */
void rg_watch_reset_round(rg_run *run);

#endif
