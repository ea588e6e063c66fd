/* fake_net: an in-process IPv4 network for the engine's unit tests, in place
 * of engine/sockets.c (the test links engine.c against this file instead).
 *
 * rg_sockets_send hands each probe to the fake network, which reads it with
 * the project's bounds-checked cursor (probe/wire.h), walks the simulated
 * path of the probe's flow (routers per TTL, an equal-cost pair chosen by a
 * hash of the flow, as a router would), and queues what would come back as
 * real packets: an ICMP time-exceeded quoting the probe from the router where
 * the TTL ran out, or the destination's SYN-ACK / RST (nothing for a filtered
 * port or a silent router). Each router may run a Linux-like ICMP limiter (a
 * bucket of `burst` tokens refilled at `rate` per second, one per error).
 * Answers are delivered by rg_sockets_recv after a configurable delay; the
 * rx "sockets" the engine polls are timerfds armed for the earliest answer
 * due, so its poll() wakes as it would on a real socket.
 *
 * Every send and every delivery is logged in order, with the router or
 * destination the probe reached, so tests can check what went out when and
 * what each router was asked. One network at a time (the sockets functions
 * have no context argument): fn_net_init makes it the current one. */
#ifndef FAKE_NET_H
#define FAKE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sockets.h"
#include "util/addr.h"

#define FN_MAX_ROUTERS 32
#define FN_MAX_DESTS 32
#define FN_MAX_HOPS 16
#define FN_MAX_PORTS 4
#define FN_NONE (-1)
#define FN_DEST (-2) /* a log entry's probe reached the destination */

enum fn_port_state { FN_FILTERED = 0, FN_OPEN, FN_CLOSED };

typedef struct fn_router {
    rg_addr addr;
    bool silent;          /* never answers */
    bool limited;         /* answers through the ICMP limiter */
    double tokens;
    uint64_t at;          /* ns of the limiter's last refill */
    unsigned reached;     /* probes whose TTL ran out here */
    unsigned answered;    /* time-exceeded errors it sent */
} fn_router;

typedef struct fn_dest {
    rg_addr addr;
    unsigned nhops;                 /* routers before it: its distance is nhops + 1 */
    int hop[FN_MAX_HOPS][2];        /* router index per TTL-1; [1] FN_NONE or the ECMP twin */
    uint16_t port[FN_MAX_PORTS];
    uint8_t state[FN_MAX_PORTS];    /* enum fn_port_state */
    size_t nports;
} fn_dest;

enum fn_event { FN_SENT, FN_DELIVERED };

typedef struct fn_log {
    uint8_t event;        /* enum fn_event */
    uint64_t at;          /* CLOCK_MONOTONIC ns */
    rg_addr dst;          /* the probe's destination */
    uint16_t sport, dport;
    uint8_t ttl;          /* the probe's IP TTL */
    uint32_t seq;
    int reached;          /* router index, FN_DEST, or FN_NONE (past no one) */
} fn_log;

typedef struct fn_packet {
    uint64_t due;
    size_t len;
    uint8_t bytes[128];
    fn_log about;         /* the probe it answers */
} fn_packet;

typedef struct fn_queue {
    fn_packet *p;
    size_t n, cap;
    int fd;               /* timerfd armed for the earliest due packet */
} fn_queue;

typedef struct fn_net {
    rg_addr self;
    fn_router routers[FN_MAX_ROUTERS];
    size_t nrouters;
    fn_dest dests[FN_MAX_DESTS];
    size_t ndests;
    double limit_rate, limit_burst;  /* every limited router's bucket */
    uint64_t delay_ns, per_hop_ns;   /* answer delay: delay + per_hop * hops */
    fn_queue q[2];                   /* [0] ICMP, [1] TCP */
    fn_log *log;
    size_t nlog, caplog;
    uint64_t unknown_sends;          /* probes the network could not read */
} fn_net;

/* Zeroes net, opens its timerfds and makes it current; false on failure. */
bool fn_net_init(fn_net *net, const char *self);
void fn_net_free(fn_net *net);

/* Adds a router; returns its index (FN_NONE when full or addr is bad). */
int fn_router_add(fn_net *net, const char *addr, bool silent, bool limited);
/* Adds a destination behind the routers hops[0..n) (TTL 1 first); twin[k]
 * FN_NONE or the router sharing TTL k+1 with hops[k] by flow hash. */
fn_dest *fn_dest_add(fn_net *net, const char *addr, const int *hops,
                     const int *twin, unsigned n);
void fn_dest_port(fn_dest *d, uint16_t port, enum fn_port_state s);

/* The sockets the engine is given: IPv4 only, rx fds are the timerfds. */
void fn_net_sockets(const fn_net *net, rg_sockets *s);

/* The router a probe of flow (dst, sport, dport) meets at TTL ttl: its
 * index, FN_DEST at or past the destination, FN_NONE for an unknown dst. */
int fn_route(const fn_net *net, const rg_addr *dst, uint16_t sport,
             uint16_t dport, unsigned ttl);
const fn_dest *fn_find_dest(const fn_net *net, const rg_addr *dst);

#endif
