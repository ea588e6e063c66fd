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
 * SIGINT/SIGTERM (stop.h) end the watch: a round in progress is abandoned
 * (not counted), and the statistics of the finished rounds are written. */
#ifndef RG_WATCH_H
#define RG_WATCH_H

#include "../annotate/sources.h"
#include "../cli/config.h"
#include "../engine/sockets.h"
#include "../model/result.h"

/* Runs the rounds on run's planned traces, then writes the report and the
 * formats asked for (the latest round's graph, JSON with the "watch"
 * member). Returns the exit status: 0 after --rounds rounds or a signal, 1
 * on a runtime error. */
int rg_watch_run(rg_run *run, const rg_config *cfg, const rg_sockets *socks,
                 rg_sources *sources);

/* Clears everything a round measured from run's traces and gives each a
 * fresh sequence secret, keeping its addresses and source port. */
void rg_watch_reset_round(rg_run *run);

#endif
