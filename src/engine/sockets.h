/* sockets: the raw sockets, the only privileged resource routegraph holds.
 *
 * Opened once, before privileges are dropped (engine/privs.h); after that
 * only send and receive happen on them. One sending socket per family with
 * the IP header included, and receiving sockets for ICMP / ICMPv6 (errors,
 * echo replies) and for the method's transport answers (TCP for -P tcp, UDP
 * for -P udp, none for -P icmp: echo replies come on the ICMP sockets), each
 * delivering a kernel receive timestamp. */
#ifndef RG_SOCKETS_H
#define RG_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../util/addr.h"

/* RG_RX_L4_*: the method's transport answers, protocol l4proto. */
enum rg_rx { RG_RX_ICMP4, RG_RX_L4_4, RG_RX_ICMP6, RG_RX_L4_6, RG_RX_COUNT };

/* Packets one receiving socket read at once (recvmmsg), handed out one by
 * one; owned by the sockets, NULL when it could not be allocated (then each
 * packet is one recvmsg). */
typedef struct rg_rx_batch rg_rx_batch;

typedef struct rg_sockets {
    int send4, send6;
    int rx[RG_RX_COUNT];
    rg_rx_batch *batch[RG_RX_COUNT];
    uint8_t l4proto;      /* 6 or 17 on the RG_RX_L4_* sockets; 0: none */
} rg_sockets;

#define RG_SOCKETS_NONE {.send4 = -1, .send6 = -1, .rx = {-1, -1, -1, -1}, .l4proto = 0}

enum rg_sockets_status {
    RG_SOCK_OK = 0,
    RG_SOCK_NO_PRIVILEGE, /* EPERM/EACCES: no CAP_NET_RAW */
    RG_SOCK_ERROR,
};

/* Opens what the host supports for probing with method (enum rg_method); a
 * family the host lacks stays -1. err gets one line on failure. */
enum rg_sockets_status rg_sockets_open(rg_sockets *s, uint8_t method, char *err,
                                       size_t errlen);
void rg_sockets_close(rg_sockets *s);
/* Gives every open receiving socket without one its batch (rg_sockets_open
 * does); false when memory for one was missing: that socket reads one
 * packet per recvmsg. Batches are freed by rg_sockets_close. */
bool rg_sockets_batch_rx(rg_sockets *s);
bool rg_sockets_have(const rg_sockets *s, uint8_t family);

/* 0 on success, else an errno value. */
int rg_sockets_send(const rg_sockets *s, const rg_addr *dst, const uint8_t *pkt,
                    size_t len);

#define RG_RX_MMSG 64   /* packets per recvmmsg */
#define RG_RX_SLOT 4096 /* bytes kept of each */

typedef struct rg_rx_meta {
    struct timespec when; /* kernel receive time, CLOCK_REALTIME */
    rg_addr src, dst;     /* IPv6 only: from recvmsg; IPv4 has them in the packet */
    uint8_t hlim;         /* IPv6 hop limit */
} rg_rx_meta;

/* Non-blocking read of one packet from socket rx[which]; returns its length,
 * 0 when nothing is waiting, -1 on error. Packets are taken from the
 * kernel up to RG_RX_MMSG at a time (one recvmmsg), so a burst of answers
 * costs one system call per batch, not per packet; a packet longer than
 * len (or than RG_RX_SLOT) is cut, and parsers treat it as truncated. */
long rg_sockets_recv(const rg_sockets *s, enum rg_rx which, uint8_t *buf,
                     size_t len, rg_rx_meta *meta);

/* Our source address towards dst (no packet is sent); false if no route. */
bool rg_source_for(const rg_addr *dst, uint16_t dport, rg_addr *src, int *err);

#endif
