/* multipath: MDA (Multipath Detection Algorithm) after the ordinary run.
 *
 * For each destination (traces to one address share the work), flows that
 * differ only in their flow identifier (rg_mp_probe_spec, the one place it
 * is varied: the TCP or UDP source port, the ICMP echo identifier and with
 * it the checksum) are sent hop by hop. At TTL h, for every branch v found
 * at h - 1, flows known to pass v are probed at h until the stopping rule
 * (mda_rule.h) is met for the next hops seen behind v. A flow's route to v
 * is known when it was probed at h - 1, or when h - 1 has a single branch
 * (every flow passes it: no probe needed). Flow 0 is the trace's own, so
 * the ordinary run's answers count.
 *
 * Two cases need fewer flows than the rule's: a branch through which a
 * flow reached the destination is done with that answer (a router hands an
 * address of its own link to that link; where the destination may answer,
 * one flow is sent first), and the first TTL needs one answer when the
 * prober's routing table has a single next hop for the destination
 * (opts.route_paths, route.h; RG_MP_HOP_ROUTE).
 *
 * Sharing: the traces to one address share one discovery. The addresses of
 * one /24 or /48 follow the first of them one TTL behind: where it proved
 * a branch's single next hop and a flow of the follower met that router
 * and no other, the follower's flows through that branch take it without
 * a probe (RG_MP_HOP_SHARED); load-balanced hops are always probed.
 *
 * Probes go in rounds: every destination contributes the probes its next
 * step needs, they leave under the global --rate and a per-router pacer
 * (pace.h: keyed by the next hop when a branch has only one, else by the
 * TTL position), and the round ends when all answered or were given up (a
 * lost probe is sent once more; a branch whose every flow stays silent has
 * a silent next hop). Each branch has a probe budget (twice its rule's count
 * plus a margin) so a lossy hop cannot keep the run alive; a TTL reached
 * that way is marked RG_MP_HOP_LIMIT instead of RG_MP_HOP_RULE.
 *
 * The probe's identity is its index in the run's probe list, carried in
 * the sequence number (base + index; ack - 1 for TCP answers; the first 4
 * payload bytes of UDP and ICMP probes) and in the 16-bit ident (the UDP
 * checksum, the echo sequence number: 1 + index mod 65534), so a reply is
 * matched in O(1) (UDP/ICMP: O(probes / 65534)) and checked against the
 * flow's id, ports and addresses.
 *
 * Memory: allocates run->mpaths (one per destination) and, for the run's
 * length, per destination a flow x TTL table and the list of probes sent. */
#ifndef RG_MULTIPATH_H
#define RG_MULTIPATH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "../model/result.h"
#include "../probe/probe.h"
#include "route.h"
#include "sockets.h"

typedef struct rg_mp_opts {
    unsigned confidence; /* 95 or 99 */
    unsigned rate;       /* probes per second, all destinations together */
    double timeout;      /* seconds: the longest a probe is waited for */
    /* How many next hops the prober's routing table gives a destination
     * (route.h's rg_route_paths); NULL: the first TTL is probed like any. */
    enum rg_route_paths (*route_paths)(const rg_addr *src, const rg_addr *dst);
} rg_mp_opts;

/* The one place a flow is varied (pure, for tests): probe number idx of
 * the run, flow `flow` of trace t at ttl. The flow id is the trace's own
 * plus flow: the TCP or UDP source port, or the ICMP echo identifier (and
 * with it the echo checksum, which the probe keeps equal to the flow id).
 * The identity: the TCP sequence number, or the payload's first 4 bytes,
 * is seq_base + idx; the UDP checksum or echo sequence number is
 * rg_mp_ident(idx). */
rg_probe_spec rg_mp_probe_spec(const rg_trace *t, unsigned flow, unsigned ttl,
                               uint32_t seq_base, uint32_t idx);
/* The 16-bit identity of probe idx: 1 + idx mod 65534 (never 0 or 0xffff,
 * which a UDP checksum cannot carry). */
uint16_t rg_mp_ident(uint32_t idx);

/* Runs MDA towards every destination of the concluded run whose traces
 * still hold their probe slots, and points each such trace at its
 * destination's rg_mpath. False (err set) when out of memory. */
bool rg_multipath_run(rg_run *run, const rg_sockets *socks, const rg_mp_opts *o,
                      volatile sig_atomic_t *stop, char *err, size_t errlen);

#endif
