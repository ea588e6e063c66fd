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

typedef struct rg_sockets {
    int send4, send6;
    int rx[RG_RX_COUNT];
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
bool rg_sockets_have(const rg_sockets *s, uint8_t family);

/* 0 on success, else an errno value. */
int rg_sockets_send(const rg_sockets *s, const rg_addr *dst, const uint8_t *pkt,
                    size_t len);

typedef struct rg_rx_meta {
    struct timespec when; /* kernel receive time, CLOCK_REALTIME */
    rg_addr src, dst;     /* IPv6 only: from recvmsg; IPv4 has them in the packet */
    uint8_t hlim;         /* IPv6 hop limit */
} rg_rx_meta;

/* Non-blocking read of one packet from socket rx[which]; returns its length,
 * 0 when nothing is waiting, -1 on error. */
long rg_sockets_recv(const rg_sockets *s, enum rg_rx which, uint8_t *buf,
                     size_t len, rg_rx_meta *meta);

/* Our source address towards dst (no packet is sent); false if no route. */
bool rg_source_for(const rg_addr *dst, uint16_t dport, rg_addr *src, int *err);

#endif
