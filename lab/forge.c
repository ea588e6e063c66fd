/* rg-lab-forge: forged answers to TCP SYN probes, for the hostile-network
 * integration tests (tests/integration/test_hostile.py).
 *
 * Runs in a lab router's namespace and reads every frame arriving on one
 * interface (an AF_PACKET socket). For each TCP SYN whose destination lies in
 * one of the PREFIXes given, it sends the probe's sender a burst of packets
 * that look like answers but name no probe that was sent (see rg_kinds):
 * ICMP time exceeded quoting the probe with a wrong sequence number, a wrong
 * quoted destination or source, or a quote cut short; SYN-ACK and RST from
 * the destination's address with a guessed acknowledgement number; SYN-ACK
 * and RST with the right acknowledgement number but from another address.
 * The wrong numbers are chosen so that they can never be those of another
 * probe of the same trace (a tracer that encodes TTL and attempt in the
 * sequence number has at most 256 TTLs of 8 attempts in its window).
 *
 * Bounded: it exits after -n forged packets, after -t seconds, or on
 * SIGTERM / SIGINT, and then prints how many packets of each kind it sent
 * (and how many frames the kernel dropped before it could read them).
 * It prints "ready" once it is reading, so a caller knows when to start. It
 * sends only to lab addresses (198.18.0.0/15, 2001:db8::/32), only out of
 * the interface the probe came in on, only answers to what it saw.
 *
 * With -x it is instead a path of fictitious routers in front of the
 * PREFIXes (for tests/integration/test_icmpext.py): a SYN sent with TTL t
 * below RG_FORGE_EXT_DEPTH gets one ICMP time exceeded from router t (the
 * -r / -R address with t as its last byte) quoting the probe and carrying
 * that hop's RFC 4884 extensions (lab/forge_ext.c); a SYN with a TTL that
 * reaches the depth gets a SYN-ACK from the destination (ack = seq + 1),
 * except a SYN to an address ending in RG_FORGE_EXT_UNREACH_HOST: router
 * RG_FORGE_EXT_DEPTH refuses it with a destination unreachable
 * (administratively prohibited) carrying extensions (RFC 4884 for
 * unreachables too).
 * The lab drops those probes at the router so nothing else answers them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../src/probe/probe.h"
#include "forge_ext.h"

#define RG_FORGE_MAX_PREFIXES 64
#define RG_FORGE_MAX_SECONDS 600
#define RG_FORGE_FRAME 1600
#define RG_FORGE_ETH 14
#define RG_FORGE_RCVBUF (16 << 20)
/* One TTL more than the 255 a tracer can use, times its 8 attempts: adding
 * this to a sequence number leaves every window a probe identity can name. */
#define RG_FORGE_TTL_AHEAD (64u * 8u)
/* Flips only bits 12 and up, so the forged number differs from the real one
 * by a non-zero multiple of 4096: outside a window of 256 TTLs x 8 attempts
 * around any of the trace's probes. */
#define RG_FORGE_GUESS 0x5a5a5000u

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_ICMPV6 58
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

enum rg_kind {
    TE_SEQ_GUESS,    /* time exceeded, quoted seq far from every probe's */
    TE_SEQ_TTL,      /* quoted seq of a TTL 64 higher: never sent */
    TE_SEQ_ATTEMPT,  /* quoted seq of the next attempt: not sent yet */
    TE_DST,          /* quoted destination changed (to an untraced address) */
    TE_SRC,          /* quoted source changed */
    TE_SHORT,        /* only 4 bytes of TCP quoted: no sequence number */
    SA_ACK_GUESS,    /* SYN-ACK from the destination, ack guessed */
    SA_ACK_TTL,      /* SYN-ACK from the destination, ack of a TTL 64 higher */
    RA_ACK_GUESS,    /* RST-ACK from the destination, ack guessed */
    RA_ACK_ATTEMPT,  /* RST-ACK from the destination, ack of the next attempt */
    SA_OTHER,        /* SYN-ACK, right ack, from another address */
    RA_OTHER,        /* RST-ACK, right ack, from another address */
    EXT_TE,          /* -x: a fictitious router's time exceeded, with extensions or not */
    EXT_SA,          /* -x: the destination's SYN-ACK, right ack */
    EXT_UNREACH,     /* -x: the last router's destination unreachable, with extensions */
    RG_KIND_COUNT
};

static const char *const rg_kind_names[RG_KIND_COUNT] = {
    "te-seq-guess", "te-seq-ttl", "te-seq-attempt", "te-dst", "te-src",
    "te-short", "sa-ack-guess", "sa-ack-ttl", "ra-ack-guess", "ra-ack-attempt",
    "sa-other", "ra-other", "ext-te", "ext-sa", "ext-unreach",
};

typedef struct rg_prefix {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
} rg_prefix;

/* What one probe frame says, with pointers into the received frame. */
typedef struct rg_probe_view {
    int family;
    const uint8_t *eth;  /* the frame */
    const uint8_t *ip;   /* its IP header */
    size_t iplen;        /* IP header length (20.., or 40) */
    const uint8_t *tcp;
    size_t tcplen;
    const uint8_t *src, *dst; /* 4 or 16 bytes, inside ip */
    uint32_t seq;
} rg_probe_view;

typedef struct rg_forger {
    int fd;
    int ifindex;
    rg_prefix prefixes[RG_FORGE_MAX_PREFIXES];
    int nprefixes;
    uint8_t other4[4], other6[16];
    unsigned long max_packets, sent, probes;
    unsigned long per_kind[RG_KIND_COUNT];
    uint16_t ip_id;
    uint8_t out_ttl;               /* IP TTL / hop limit of what it sends */
    bool ext_path;                 /* -x */
    uint8_t router4[4], router6[16]; /* -r / -R: hop t is this with last byte t */
} rg_forger;

static volatile sig_atomic_t rg_stop;

static void rg_on_signal(int sig)
{
    (void)sig;
    rg_stop = 1;
}

static void rg_usage(void)
{
    fprintf(stderr,
            "usage: rg-lab-forge -i IFACE [-n PACKETS] [-t SECONDS] [-a OTHER4] [-A OTHER6]\n"
            "                    [-x [-r ROUTER4] [-R ROUTER6]] [-p PIDFILE] PREFIX...\n"
            "  -i IFACE    read probes arriving on IFACE, send the forgeries out of it\n"
            "  -n PACKETS  exit after sending this many packets (default 100000)\n"
            "  -t SECONDS  exit after this long (default 60, at most %d)\n"
            "  -a, -A      the \"other\" IPv4 / IPv6 source address (default 198.18.0.66,\n"
            "              2001:db8:100::66)\n"
            "  -x          be a path of %d fictitious routers answering with RFC 4884\n"
            "              extensions, then the destination's SYN-ACK (see lab/forge_ext.c)\n"
            "  -r, -R      the routers' IPv4 / IPv6 addresses, hop t with last byte t\n"
            "              (default 198.18.100.0, 2001:db8:fa0::)\n"
            "  -p PIDFILE  write the process id to PIDFILE\n"
            "  PREFIX      only probes to these (ADDR or ADDR/BITS, inside 198.18.0.0/15\n"
            "              or 2001:db8::/32) are answered\n",
            RG_FORGE_MAX_SECONDS, RG_FORGE_EXT_DEPTH - 1);
}

/* ---- addresses ---------------------------------------------------------- */

static bool rg_in_prefix(const uint8_t *addr, const uint8_t *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(addr, net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (net[full] & mask);
}

/* The project's network-safety rule: lab addresses only. */
static bool rg_is_lab(int family, const uint8_t *addr)
{
    static const uint8_t lab4[4] = {198, 18, 0, 0};
    static const uint8_t lab6[16] = {0x20, 0x01, 0x0d, 0xb8};
    return family == AF_INET ? rg_in_prefix(addr, lab4, 15) : rg_in_prefix(addr, lab6, 32);
}

static bool rg_parse_prefix(const char *arg, rg_prefix *p)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (strlen(arg) >= sizeof buf)
        return false;
    strcpy(buf, arg);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash != NULL) {
        char *end = NULL;
        *slash = '\0';
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end != '\0')
            return false;
    }
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, buf, p->addr) == 1)
        p->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, p->addr) == 1)
        p->family = AF_INET6;
    else
        return false;
    long max = p->family == AF_INET ? 32 : 128;
    if (bits < 0)
        bits = max;
    if (bits > max)
        return false;
    p->bits = (unsigned)bits;
    /* The whole prefix must be lab space: a short one could cover anything. */
    return p->bits >= (p->family == AF_INET ? 15u : 32u) && rg_is_lab(p->family, p->addr);
}

static bool rg_wanted(const rg_forger *f, int family, const uint8_t *dst)
{
    for (int i = 0; i < f->nprefixes; i++)
        if (f->prefixes[i].family == family &&
            rg_in_prefix(dst, f->prefixes[i].addr, f->prefixes[i].bits))
            return true;
    return false;
}

/* ---- bytes and checksums ------------------------------------------------ */

static uint16_t rg_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rg_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rg_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void rg_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The pseudo-header checksum of src/probe, from the raw addresses in a frame. */
static uint16_t rg_l4_sum(int family, const uint8_t *src, const uint8_t *dst,
                          uint8_t proto, const uint8_t *l4, size_t len)
{
    rg_addr s = {.family = family == AF_INET ? 4 : 6}, d = s;
    memcpy(s.bytes, src, rg_addr_len(&s));
    memcpy(d.bytes, dst, rg_addr_len(&d));
    return rg_l4_checksum(&s, &d, proto, l4, len);
}

/* ---- building and sending ----------------------------------------------- */

/* Writes the Ethernet and IP headers for an L4 payload of l4len bytes that
 * goes back to the probe's sender; returns the offset of the payload. */
static size_t rg_put_headers(rg_forger *f, uint8_t *fr, const rg_probe_view *v,
                             const uint8_t *src, uint8_t proto, size_t l4len)
{
    memcpy(fr, v->eth + 6, 6);     /* to the prober's MAC */
    memcpy(fr + 6, v->eth, 6);     /* from ours */
    uint8_t *ip = fr + RG_FORGE_ETH;
    if (v->family == AF_INET) {
        rg_put16(fr + 12, ETH_P_IP);
        memset(ip, 0, 20);
        ip[0] = 0x45;
        rg_put16(ip + 2, (uint16_t)(20 + l4len));
        rg_put16(ip + 4, f->ip_id++);
        ip[8] = f->out_ttl;
        ip[9] = proto;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, v->src, 4);
        rg_put16(ip + 10, rg_inet_checksum(ip, 20));
        return RG_FORGE_ETH + 20;
    }
    rg_put16(fr + 12, ETH_P_IPV6);
    memset(ip, 0, 40);
    ip[0] = 0x60;
    rg_put16(ip + 4, (uint16_t)l4len);
    ip[6] = proto;
    ip[7] = f->out_ttl;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, v->src, 16);
    return RG_FORGE_ETH + 40;
}

static void rg_send(rg_forger *f, const rg_probe_view *v, const uint8_t *fr,
                    size_t len, enum rg_kind kind)
{
    if (f->sent >= f->max_packets || !rg_is_lab(v->family, v->src))
        return;
    struct sockaddr_ll to = {
        .sll_family = AF_PACKET,
        .sll_ifindex = f->ifindex,
        .sll_halen = 6,
        .sll_protocol = htons(v->family == AF_INET ? ETH_P_IP : ETH_P_IPV6),
    };
    memcpy(to.sll_addr, v->eth + 6, 6);
    if (sendto(f->fd, fr, len, 0, (const struct sockaddr *)&to, sizeof to) < 0) {
        perror("rg-lab-forge: sendto");
        return;
    }
    f->sent++;
    f->per_kind[kind]++;
}

/* ICMP time exceeded from `from`, quoting the probe's IP header and
 * `quote_tcp` bytes of its TCP header, with the given changes. */
static void rg_time_exceeded(rg_forger *f, const rg_probe_view *v, enum rg_kind kind,
                             const uint8_t *from, uint32_t seq, size_t quote_tcp)
{
    uint8_t fr[RG_FORGE_FRAME];
    size_t qlen = v->iplen + quote_tcp;
    size_t l4len = 8 + qlen;
    bool v4 = v->family == AF_INET;
    size_t off = rg_put_headers(f, fr, v, from, v4 ? PROTO_ICMP : PROTO_ICMPV6, l4len);
    uint8_t *icmp = fr + off, *q = icmp + 8;
    memset(icmp, 0, 8);
    icmp[0] = v4 ? 11 : 3; /* time exceeded, code 0: TTL / hop limit */
    memcpy(q, v->ip, qlen);
    uint8_t *qsrc = q + (v4 ? 12 : 8), *qdst = q + (v4 ? 16 : 24);
    size_t alen = v4 ? 4 : 16;
    if (quote_tcp >= 8)
        rg_put32(q + v->iplen + 4, seq);
    /* Another lab address, but in no target network (198.19 -> 198.18,
     * 2001:db8:X10:: -> 2001:db8:X10 ^ 0x800::): nobody traces it. */
    if (kind == TE_DST)
        qdst[v4 ? 1 : 4] ^= v4 ? 0x01 : 0x08;
    if (kind == TE_SRC)
        qsrc[alen - 1] ^= 0x01;
    if (v4) {
        rg_put16(q + 10, 0);
        rg_put16(q + 10, rg_inet_checksum(q, 20));
        rg_put16(icmp + 2, rg_inet_checksum(icmp, l4len));
    } else {
        const uint8_t *dst = fr + RG_FORGE_ETH + 24;
        rg_put16(icmp + 2, rg_l4_sum(AF_INET6, from, dst, PROTO_ICMPV6, icmp, l4len));
    }
    rg_send(f, v, fr, off + l4len, kind);
}

/* A TCP segment from `from` (port: the probe's destination port) with the
 * given flags and acknowledgement number. */
static void rg_tcp_answer(rg_forger *f, const rg_probe_view *v, enum rg_kind kind,
                          const uint8_t *from, uint8_t flags, uint32_t ack)
{
    uint8_t fr[RG_FORGE_FRAME];
    size_t off = rg_put_headers(f, fr, v, from, PROTO_TCP, 20);
    uint8_t *t = fr + off;
    memset(t, 0, 20);
    memcpy(t, v->tcp + 2, 2);   /* from the probed port */
    memcpy(t + 2, v->tcp, 2);   /* to the probe's source port */
    rg_put32(t + 4, (uint32_t)random());
    rg_put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    rg_put16(t + 14, flags & TCP_RST ? 0 : 64240);
    const uint8_t *dst = fr + RG_FORGE_ETH + (v->family == AF_INET ? 16 : 24);
    rg_put16(t + 16, rg_l4_sum(v->family, from, dst, PROTO_TCP, t, 20));
    rg_send(f, v, fr, off + 20, kind);
}

static void rg_forge_all(rg_forger *f, const rg_probe_view *v)
{
    const uint8_t *other = v->family == AF_INET ? f->other4 : f->other6;
    uint32_t s = v->seq;
    size_t all = v->tcplen; /* what Linux routers quote */
    f->probes++;
    rg_time_exceeded(f, v, TE_SEQ_GUESS, other, s ^ RG_FORGE_GUESS, all);
    rg_time_exceeded(f, v, TE_SEQ_TTL, other, s + RG_FORGE_TTL_AHEAD, all);
    rg_time_exceeded(f, v, TE_SEQ_ATTEMPT, other, s + 1, all);
    rg_time_exceeded(f, v, TE_DST, other, s, all);
    rg_time_exceeded(f, v, TE_SRC, other, s, all);
    rg_time_exceeded(f, v, TE_SHORT, other, s, 4);
    rg_tcp_answer(f, v, SA_ACK_GUESS, v->dst, TCP_SYN | TCP_ACK, (s ^ RG_FORGE_GUESS) + 1);
    rg_tcp_answer(f, v, SA_ACK_TTL, v->dst, TCP_SYN | TCP_ACK, s + RG_FORGE_TTL_AHEAD + 1);
    rg_tcp_answer(f, v, RA_ACK_GUESS, v->dst, TCP_RST | TCP_ACK, (s ^ RG_FORGE_GUESS) + 1);
    rg_tcp_answer(f, v, RA_ACK_ATTEMPT, v->dst, TCP_RST | TCP_ACK, s + 2);
    rg_tcp_answer(f, v, SA_OTHER, other, TCP_SYN | TCP_ACK, s + 1);
    rg_tcp_answer(f, v, RA_OTHER, other, TCP_RST | TCP_ACK, s + 1);
}

/* -x: router hop's ICMP error (time exceeded, or with unreach the
 * administratively prohibited destination unreachable), the probe quoted
 * and padded to the 128 bytes RFC 4884 asks for, then the hop's extension
 * structure (if any); the length field (32-bit words for IPv4, 64-bit for
 * ICMPv6, in the same byte for both types) set unless the hop uses the
 * pre-RFC 4884 layout. */
static void rg_ext_error(rg_forger *f, const rg_probe_view *v, unsigned hop, bool unreach)
{
    uint8_t fr[RG_FORGE_FRAME], from[16];
    bool v4 = v->family == AF_INET, compliant = true;
    size_t alen = v4 ? 4 : 16, qlen = v->iplen + v->tcplen;
    memcpy(from, v4 ? f->router4 : f->router6, alen);
    from[alen - 1] = (uint8_t)hop;
    uint8_t ext[RG_FORGE_EXT_MAX];
    size_t elen = unreach ? rg_forge_ext_unreach(v4 ? 4 : 6, from, ext)
                          : rg_forge_ext_hop(v4 ? 4 : 6, hop, from, ext, &compliant);
    size_t quote = elen ? 128 : qlen; /* qlen <= 120 (rg_parse_probe) */
    size_t l4len = 8 + quote + elen;
    f->out_ttl = (uint8_t)(65 - hop); /* as if sent hop hops away */
    size_t off = rg_put_headers(f, fr, v, from, v4 ? PROTO_ICMP : PROTO_ICMPV6, l4len);
    f->out_ttl = 64;
    uint8_t *icmp = fr + off;
    memset(icmp, 0, 8 + quote);
    if (unreach) {
        icmp[0] = v4 ? 3 : 1;
        icmp[1] = v4 ? RG_FORGE_UNREACH_CODE4 : RG_FORGE_UNREACH_CODE6;
    } else {
        icmp[0] = v4 ? 11 : 3;
    }
    if (elen && compliant)
        icmp[v4 ? 5 : 4] = (uint8_t)(v4 ? 128 / 4 : 128 / 8);
    memcpy(icmp + 8, v->ip, qlen);
    memcpy(icmp + 8 + quote, ext, elen);
    if (v4) {
        rg_put16(icmp + 2, rg_inet_checksum(icmp, l4len));
    } else {
        const uint8_t *dst = fr + RG_FORGE_ETH + 24;
        rg_put16(icmp + 2, rg_l4_sum(AF_INET6, from, dst, PROTO_ICMPV6, icmp, l4len));
    }
    rg_send(f, v, fr, off + l4len, unreach ? EXT_UNREACH : EXT_TE);
}

/* Whether the probe goes to the address the path refuses (its last byte
 * RG_FORGE_EXT_UNREACH_HOST). */
static bool rg_refused(const rg_probe_view *v)
{
    return v->dst[v->family == AF_INET ? 3 : 15] == RG_FORGE_EXT_UNREACH_HOST;
}

static void rg_forge_path(rg_forger *f, const rg_probe_view *v)
{
    unsigned ttl = v->ip[v->family == AF_INET ? 8 : 7];
    f->probes++;
    if (ttl == 0)
        return;
    if (ttl < RG_FORGE_EXT_DEPTH) {
        rg_ext_error(f, v, ttl, false);
        return;
    }
    if (rg_refused(v)) {
        rg_ext_error(f, v, RG_FORGE_EXT_DEPTH, true);
        return;
    }
    f->out_ttl = 65 - RG_FORGE_EXT_DEPTH;
    rg_tcp_answer(f, v, EXT_SA, v->dst, TCP_SYN | TCP_ACK, v->seq + 1);
    f->out_ttl = 64;
}

/* ---- reading probes ----------------------------------------------------- */

/* True when the frame is a TCP SYN (no ACK) to a wanted destination. */
static bool rg_parse_probe(const rg_forger *f, const uint8_t *fr, size_t len,
                           rg_probe_view *v)
{
    if (len < RG_FORGE_ETH + 40)
        return false;
    uint16_t type = rg_be16(fr + 12);
    const uint8_t *ip = fr + RG_FORGE_ETH;
    size_t left = len - RG_FORGE_ETH;
    memset(v, 0, sizeof *v);
    v->eth = fr;
    v->ip = ip;
    uint8_t proto;
    if (type == ETH_P_IP && ip[0] >> 4 == 4) {
        v->family = AF_INET;
        v->iplen = (size_t)(ip[0] & 0x0f) * 4;
        size_t tot = rg_be16(ip + 2);
        if (v->iplen < 20 || tot > left || tot < v->iplen + 20 || (rg_be16(ip + 6) & 0x1fff))
            return false;
        proto = ip[9];
        v->src = ip + 12;
        v->dst = ip + 16;
        v->tcplen = tot - v->iplen;
    } else if (type == ETH_P_IPV6 && ip[0] >> 4 == 6) {
        v->family = AF_INET6;
        v->iplen = 40;
        size_t plen = rg_be16(ip + 4);
        if (plen < 20 || 40 + plen > left)
            return false;
        proto = ip[6]; /* probes carry no extension headers */
        v->src = ip + 8;
        v->dst = ip + 24;
        v->tcplen = plen;
    } else {
        return false;
    }
    v->tcp = ip + v->iplen;
    if (proto != PROTO_TCP || (v->tcp[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    /* A quote never exceeds the probe; forged frames stay well under the MTU. */
    if (v->iplen + v->tcplen > 120)
        return false;
    v->seq = rg_be32(v->tcp + 4);
    return rg_is_lab(v->family, v->src) && rg_wanted(f, v->family, v->dst);
}

static double rg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rg_run(rg_forger *f, double seconds)
{
    uint8_t fr[RG_FORGE_FRAME];
    double end = rg_now() + seconds;
    while (!rg_stop && f->sent < f->max_packets) {
        double left = end - rg_now();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = f->fd, .events = POLLIN};
        int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
        if (poll(&p, 1, ms) <= 0)
            continue;
        struct sockaddr_ll from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(f->fd, fr, sizeof fr, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
            continue;
        rg_probe_view v;
        if (rg_parse_probe(f, fr, (size_t)n, &v)) {
            if (f->ext_path)
                rg_forge_path(f, &v);
            else
                rg_forge_all(f, &v);
        }
    }
}

static int rg_open(rg_forger *f, const char *ifname)
{
    f->ifindex = (int)if_nametoindex(ifname);
    if (f->ifindex == 0) {
        fprintf(stderr, "rg-lab-forge: no interface '%s'\n", ifname);
        return -1;
    }
    f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (f->fd < 0) {
        perror("rg-lab-forge: AF_PACKET socket");
        return -1;
    }
    struct sockaddr_ll at = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = f->ifindex,
    };
    if (bind(f->fd, (struct sockaddr *)&at, sizeof at) < 0) {
        perror("rg-lab-forge: bind");
        return -1;
    }
    /* Other traffic in the lab must not crowd out a probe: a large buffer,
     * and our own (and the router's) frames never queued. */
    int big = RG_FORGE_RCVBUF, one = 1;
    if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        (void)setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    (void)setsockopt(f->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    return 0;
}

/* Frames the kernel had to drop for want of buffer space. */
static unsigned rg_drops(const rg_forger *f)
{
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(f->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
        return 0;
    return st.tp_drops;
}

static bool rg_parse_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max || s[0] == '-')
        return false;
    *out = v;
    return true;
}

static int rg_write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    fprintf(fp, "%ld\n", (long)getpid());
    return fclose(fp) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static rg_forger f = {.fd = -1, .max_packets = 100000, .out_ttl = 64};
    const char *ifname = NULL, *pidfile = NULL;
    unsigned long seconds = 60;
    const char *other4 = "198.18.0.66", *other6 = "2001:db8:100::66";
    const char *router4 = "198.18.100.0", *router6 = "2001:db8:fa0::";
    int opt;

    while ((opt = getopt(argc, argv, "i:n:t:a:A:xr:R:p:h")) != -1) {
        switch (opt) {
        case 'i':
            ifname = optarg;
            break;
        case 'n':
            if (!rg_parse_count(optarg, 100000000, &f.max_packets)) {
                fprintf(stderr, "rg-lab-forge: bad -n '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (!rg_parse_count(optarg, RG_FORGE_MAX_SECONDS, &seconds)) {
                fprintf(stderr, "rg-lab-forge: bad -t '%s' (1-%d)\n", optarg, RG_FORGE_MAX_SECONDS);
                return 2;
            }
            break;
        case 'a':
            other4 = optarg;
            break;
        case 'A':
            other6 = optarg;
            break;
        case 'x':
            f.ext_path = true;
            break;
        case 'r':
            router4 = optarg;
            break;
        case 'R':
            router6 = optarg;
            break;
        case 'p':
            pidfile = optarg;
            break;
        default:
            rg_usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (ifname == NULL || optind >= argc || argc - optind > RG_FORGE_MAX_PREFIXES) {
        rg_usage();
        return 2;
    }
    if (inet_pton(AF_INET, other4, f.other4) != 1 || !rg_is_lab(AF_INET, f.other4) ||
        inet_pton(AF_INET6, other6, f.other6) != 1 || !rg_is_lab(AF_INET6, f.other6)) {
        fprintf(stderr, "rg-lab-forge: -a / -A must be lab addresses\n");
        return 2;
    }
    if (inet_pton(AF_INET, router4, f.router4) != 1 || !rg_is_lab(AF_INET, f.router4) ||
        inet_pton(AF_INET6, router6, f.router6) != 1 || !rg_is_lab(AF_INET6, f.router6)) {
        fprintf(stderr, "rg-lab-forge: -r / -R must be lab addresses\n");
        return 2;
    }
    for (int i = optind; i < argc; i++) {
        if (!rg_parse_prefix(argv[i], &f.prefixes[f.nprefixes++])) {
            fprintf(stderr, "rg-lab-forge: bad prefix '%s' (lab space only)\n", argv[i]);
            return 2;
        }
    }
    if (rg_open(&f, ifname) < 0)
        return 1;
    if (pidfile != NULL && rg_write_pidfile(pidfile) < 0) {
        perror("rg-lab-forge: pidfile");
        return 1;
    }
    struct sigaction sa = {.sa_handler = rg_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    f.ip_id = (uint16_t)random();

    printf("ready\n");
    fflush(stdout);
    rg_run(&f, (double)seconds);
    printf("probes %lu\n", f.probes);
    printf("dropped %u\n", rg_drops(&f));
    for (int k = 0; k < RG_KIND_COUNT; k++)
        printf("%s %lu\n", rg_kind_names[k], f.per_kind[k]);
    printf("total %lu\n", f.sent);
    close(f.fd);
    return 0;
}
