/* fake_net: an in-process IPv4 network for the engine's unit tests, in place
 * of engine/sockets.c (the test links engine.c against this file instead).
 *
 * rg_sockets_send hands each probe (TCP SYN, UDP datagram or ICMP echo
 * request, as probe/probe.c builds them) to the fake network, which reads it
 * with the project's bounds-checked cursor (probe/wire.h), walks the
 * simulated path of the probe's flow (routers per TTL, an equal-cost pair
 * chosen by a hash of the flow, as a router would: TCP and UDP by their
 * ports, ICMP by the echo identifier with port 0), and queues what would
 * come back as real packets: an ICMP time-exceeded quoting the probe from the
 * router where the TTL ran out (any method), or the destination's answer:
 * TCP SYN-ACK / RST; UDP: the probe's payload echoed back from an open port
 * (an echo service), an ICMP port unreachable quoting the probe from a closed
 * one; ICMP: the echo reply; nothing for a filtered port or a silent router.
 * Each router may run a Linux-like ICMP limiter (a bucket of `burst` tokens
 * refilled at `rate` per second, one per error), and so may each destination
 * for its port unreachables (echo replies and TCP answers are not limited,
 * as in Linux). The destination checks its UDP and ICMP checksums as a
 * kernel does and drops a bad one (counted). Answers are delivered by
 * rg_sockets_recv after a configurable delay; the rx "sockets" the engine
 * polls are timerfds armed for the earliest answer due, so its poll() wakes
 * as it would on a real socket.
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
    uint8_t state[FN_MAX_PORTS];    /* enum fn_port_state; ICMP: port 0's */
    size_t nports;
    /* Its ICMP errors (UDP port unreachable) go through its own limiter;
     * fn_dest_add sets it when a router on its path is limited (a network
     * with Linux's limits has them on every host). */
    bool limited;
    double tokens;
    uint64_t at;
    unsigned reached;               /* probes that arrived (any method) */
    unsigned unreach_sent;          /* port unreachables it sent */
    unsigned unreach_held;          /* port unreachables its limiter held back */
} fn_dest;

enum fn_event { FN_SENT, FN_DELIVERED };

typedef struct fn_log {
    uint8_t event;        /* enum fn_event */
    uint64_t at;          /* CLOCK_MONOTONIC ns */
    rg_addr dst;          /* the probe's destination */
    uint8_t proto;        /* the probe's IP protocol: 6, 17 or 1 */
    uint16_t sport, dport; /* ICMP: the echo identifier, 0 */
    uint8_t ttl;          /* the probe's IP TTL */
    uint32_t seq;         /* TCP: the sequence number; UDP/ICMP: the payload's */
    uint16_t ident;       /* UDP: the checksum; ICMP: the echo sequence; TCP: 0 */
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
    uint8_t method;                  /* enum rg_method the engine runs: fn_net_sockets */
    fn_queue q[2];                   /* [0] ICMP, [1] TCP or UDP */
    fn_log *log;
    size_t nlog, caplog;
    uint64_t unknown_sends;          /* probes the network could not read */
    uint64_t bad_checksums;          /* UDP/ICMP probes a destination dropped */
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

/* The sockets the engine is given: IPv4 only, rx fds are the timerfds; as
 * engine/sockets.c for net->method: the transport answer socket and its
 * l4proto for TCP and UDP, none for ICMP (echo replies come as ICMP). */
void fn_net_sockets(const fn_net *net, rg_sockets *s);

/* The router a probe of flow (dst, sport, dport) meets at TTL ttl (ICMP:
 * sport the echo identifier, dport 0): its
 * index, FN_DEST at or past the destination, FN_NONE for an unknown dst. */
int fn_route(const fn_net *net, const rg_addr *dst, uint16_t sport,
             uint16_t dport, unsigned ttl);
const fn_dest *fn_find_dest(const fn_net *net, const rg_addr *dst);

#endif
