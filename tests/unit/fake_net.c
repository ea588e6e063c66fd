#include "fake_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe.h"
#include "probe/wire.h"

#define NS 1000000000ull
#define INITIAL_TTL 64 /* what every simulated host starts its answers with */

static fn_net *current;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

bool fn_net_init(fn_net *net, const char *self)
{
    memset(net, 0, sizeof *net);
    net->q[0].fd = net->q[1].fd = -1;
    if (!rg_addr_parse(self, &net->self) || net->self.family != 4)
        return false;
    net->limit_rate = 1.0;
    net->limit_burst = 6.0;
    for (int i = 0; i < 2; i++) {
        net->q[i].fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (net->q[i].fd < 0)
            return false;
    }
    current = net;
    return true;
}

void fn_net_free(fn_net *net)
{
    for (int i = 0; i < 2; i++) {
        if (net->q[i].fd >= 0)
            close(net->q[i].fd);
        free(net->q[i].p);
    }
    free(net->log);
    if (current == net)
        current = NULL;
}

int fn_router_add(fn_net *net, const char *addr, bool silent, bool limited)
{
    if (net->nrouters == FN_MAX_ROUTERS)
        return FN_NONE;
    fn_router *r = &net->routers[net->nrouters];
    memset(r, 0, sizeof *r);
    if (!rg_addr_parse(addr, &r->addr))
        return FN_NONE;
    r->silent = silent;
    r->limited = limited;
    r->tokens = net->limit_burst;
    return (int)net->nrouters++;
}

fn_dest *fn_dest_add(fn_net *net, const char *addr, const int *hops,
                     const int *twin, unsigned n)
{
    if (net->ndests == FN_MAX_DESTS || n > FN_MAX_HOPS)
        return NULL;
    fn_dest *d = &net->dests[net->ndests];
    memset(d, 0, sizeof *d);
    if (!rg_addr_parse(addr, &d->addr))
        return NULL;
    d->nhops = n;
    for (unsigned k = 0; k < n; k++) {
        d->hop[k][0] = hops[k];
        d->hop[k][1] = twin ? twin[k] : FN_NONE;
        for (int b = 0; b < 2; b++)
            if (d->hop[k][b] >= 0 && (size_t)d->hop[k][b] < net->nrouters)
                d->limited |= net->routers[d->hop[k][b]].limited;
    }
    d->tokens = net->limit_burst;
    net->ndests++;
    return d;
}

void fn_dest_port(fn_dest *d, uint16_t port, enum fn_port_state s)
{
    if (d->nports == FN_MAX_PORTS)
        return;
    d->port[d->nports] = port;
    d->state[d->nports++] = (uint8_t)s;
}

void fn_net_sockets(const fn_net *net, rg_sockets *s)
{
    s->send4 = net->q[0].fd; /* never written to: rg_sockets_send is ours */
    s->send6 = -1;
    s->rx[RG_RX_ICMP4] = net->q[0].fd;
    s->rx[RG_RX_ICMP6] = s->rx[RG_RX_L4_6] = -1;
    /* As sockets.c's answer_proto: echo replies arrive on the ICMP socket,
     * so an ICMP run has no transport answer socket. */
    s->l4proto = rg_method_proto(net->method, 4);
    if (net->method == RG_METHOD_ICMP)
        s->l4proto = 0;
    s->rx[RG_RX_L4_4] = s->l4proto ? net->q[1].fd : -1;
}

const fn_dest *fn_find_dest(const fn_net *net, const rg_addr *dst)
{
    for (size_t i = 0; i < net->ndests; i++)
        if (rg_addr_equal(&net->dests[i].addr, dst))
            return &net->dests[i];
    return NULL;
}

int fn_route(const fn_net *net, const rg_addr *dst, uint16_t sport,
             uint16_t dport, unsigned ttl)
{
    const fn_dest *d = fn_find_dest(net, dst);
    if (!d || ttl == 0)
        return FN_NONE;
    if (ttl > d->nhops)
        return FN_DEST;
    const int *h = d->hop[ttl - 1];
    /* Per-flow ECMP: the 5-tuple picks the branch, the same at every TTL. */
    bool other = h[1] != FN_NONE && (rg_addr_hash(dst, (uint64_t)sport << 16 | dport) >> 7) & 1;
    return other ? h[1] : h[0];
}

static bool log_add(fn_net *net, const fn_log *e)
{
    if (net->nlog == net->caplog) {
        size_t cap = net->caplog ? 2 * net->caplog : 1024;
        fn_log *l = realloc(net->log, cap * sizeof *l);
        if (!l)
            return false;
        net->log = l;
        net->caplog = cap;
    }
    net->log[net->nlog++] = *e;
    return true;
}

/* Arms q's timer for its earliest packet (disarms when empty). Re-arming
 * clears a pending expiry, so the fd is readable exactly while an answer
 * is due. */
static void arm(fn_queue *q)
{
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i < q->n; i++)
        if (q->p[i].due < due)
            due = q->p[i].due;
    struct itimerspec it = {0};
    if (q->n) {
        it.it_value.tv_sec = (time_t)(due / NS);
        it.it_value.tv_nsec = (long)(due % NS);
        if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
            it.it_value.tv_nsec = 1;
    }
    timerfd_settime(q->fd, TFD_TIMER_ABSTIME, &it, NULL);
}

static fn_packet *queue_slot(fn_queue *q)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 256;
        fn_packet *p = realloc(q->p, cap * sizeof *p);
        if (!p)
            return NULL;
        q->p = p;
        q->cap = cap;
    }
    return &q->p[q->n++];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* An IPv4 header from src to dst; checksum filled in. */
static void ip_header(uint8_t *p, size_t total, uint8_t ttl, uint8_t proto,
                      const rg_addr *src, const rg_addr *dst)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)total);
    p[8] = ttl;
    p[9] = proto;
    memcpy(p + 12, src->bytes, 4);
    memcpy(p + 16, dst->bytes, 4);
    put16(p + 10, rg_inet_checksum(p, 20));
}

/* An ICMP error (time exceeded from a router, port unreachable from a
 * destination) quoting the whole probe, as Linux does. */
static size_t icmp_error(uint8_t *out, uint8_t type, uint8_t code, const rg_addr *r,
                         const rg_addr *to, unsigned hops, const uint8_t *probe, size_t len)
{
    size_t total = 20 + 8 + len;
    ip_header(out, total, (uint8_t)(INITIAL_TTL + 1 - hops), 1, r, to);
    uint8_t *icmp = out + 20;
    memset(icmp, 0, 8);
    icmp[0] = type;
    icmp[1] = code;
    memcpy(icmp + 8, probe, len);
    put16(icmp + 2, rg_inet_checksum(icmp, 8 + len));
    return total;
}

/* The destination's SYN-ACK or RST to a SYN (ack = its seq + 1). */
static size_t tcp_answer(uint8_t *out, const rg_addr *from, const rg_addr *to,
                         unsigned hops, uint16_t sport, uint16_t dport,
                         uint32_t seq, bool open)
{
    ip_header(out, 40, (uint8_t)(INITIAL_TTL + 1 - hops), 6, from, to);
    uint8_t *tcp = out + 20;
    memset(tcp, 0, 20);
    put16(tcp, dport);
    put16(tcp + 2, sport);
    put32(tcp + 4, open ? 0x5eed0000u : 0);
    put32(tcp + 8, seq + 1);
    tcp[12] = 5 << 4;
    tcp[13] = open ? 0x12 : 0x14;
    put16(tcp + 14, open ? 64240 : 0);
    put16(tcp + 16, rg_tcp_checksum(from, to, tcp, 20));
    return 40;
}

/* What an echo service sends back: the probe's payload, ports swapped. */
static size_t udp_answer(uint8_t *out, const rg_addr *from, const rg_addr *to,
                         unsigned hops, uint16_t sport, uint16_t dport,
                         const uint8_t *payload, size_t plen)
{
    size_t total = 20 + 8 + plen;
    ip_header(out, total, (uint8_t)(INITIAL_TTL + 1 - hops), 17, from, to);
    uint8_t *udp = out + 20;
    put16(udp, dport);
    put16(udp + 2, sport);
    put16(udp + 4, (uint16_t)(8 + plen));
    put16(udp + 6, 0);
    memcpy(udp + 8, payload, plen);
    uint16_t sum = rg_l4_checksum(from, to, 17, udp, 8 + plen);
    put16(udp + 6, sum ? sum : 0xffff);
    return total;
}

/* The echo reply to an echo request: its identifier, sequence number and
 * payload, type 0. */
static size_t echo_reply(uint8_t *out, const rg_addr *from, const rg_addr *to,
                         unsigned hops, const uint8_t *request, size_t len)
{
    ip_header(out, 20 + len, (uint8_t)(INITIAL_TTL + 1 - hops), 1, from, to);
    uint8_t *icmp = out + 20;
    memcpy(icmp, request, len);
    icmp[0] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 2, rg_inet_checksum(icmp, len));
    return 20 + len;
}

/* Linux's icmp_global/peer limiter, for one prober: a bucket of burst
 * tokens, refilled at rate per second, one per error sent. */
static bool bucket_allows(const fn_net *net, double *tokens, uint64_t *at, uint64_t now)
{
    if (*at)
        *tokens += (double)(now - *at) * net->limit_rate / (double)NS;
    if (*tokens > net->limit_burst)
        *tokens = net->limit_burst;
    *at = now;
    if (*tokens < 1.0)
        return false;
    *tokens -= 1.0;
    return true;
}

static bool limiter_allows(fn_net *net, fn_router *r, uint64_t now)
{
    return !r->limited || bucket_allows(net, &r->tokens, &r->at, now);
}

/* A probe as the network sees it: the routing fields (in the log entry)
 * and its transport segment, for the destination's answer. */
typedef struct probe_view {
    fn_log e;
    const uint8_t *l4;
    size_t l4len;
} probe_view;

static bool read_tcp(rg_cur c, probe_view *v)
{
    uint32_t ack;
    uint8_t off, flags;
    return rg_get_be16(&c, &v->e.sport) && rg_get_be16(&c, &v->e.dport) &&
           rg_get_be32(&c, &v->e.seq) && rg_get_be32(&c, &ack) && rg_get_u8(&c, &off) &&
           rg_get_u8(&c, &flags) && flags == 0x02;
}

/* UDP: the ports, the checksum (the probe's identity) and the payload's
 * leading seq; the length must be the datagram's. */
static bool read_udp(rg_cur c, probe_view *v)
{
    uint16_t ulen;
    return rg_get_be16(&c, &v->e.sport) && rg_get_be16(&c, &v->e.dport) &&
           rg_get_be16(&c, &ulen) && rg_get_be16(&c, &v->e.ident) &&
           ulen == v->l4len && rg_get_be32(&c, &v->e.seq);
}

/* ICMP: an echo request only; identifier and sequence, the payload's seq. */
static bool read_echo(rg_cur c, probe_view *v)
{
    uint8_t type, code;
    uint16_t sum;
    v->e.dport = 0;
    return rg_get_u8(&c, &type) && rg_get_u8(&c, &code) && rg_get_be16(&c, &sum) &&
           type == 8 && code == 0 && rg_get_be16(&c, &v->e.sport) &&
           rg_get_be16(&c, &v->e.ident) && rg_get_be32(&c, &v->e.seq);
}

/* The probe's fields the network routes on, read as any router would:
 * through the bounds-checked cursor, honouring IHL. */
static bool read_probe(const uint8_t *pkt, size_t len, probe_view *v)
{
    rg_cur c = rg_cur_make(pkt, len);
    uint8_t vihl, tos, ttl, proto;
    uint16_t tot, id, frag, sum;
    rg_cur h = c;
    if (!rg_get_u8(&h, &vihl) || !rg_get_u8(&h, &tos) || !rg_get_be16(&h, &tot) ||
        !rg_get_be16(&h, &id) || !rg_get_be16(&h, &frag) || !rg_get_u8(&h, &ttl) ||
        !rg_get_u8(&h, &proto) || !rg_get_be16(&h, &sum) || vihl >> 4 != 4 ||
        tot != len)
        return false;
    rg_addr src = {.family = 4};
    v->e.dst.family = 4;
    if (!rg_get_bytes(&h, src.bytes, 4) || !rg_get_bytes(&h, v->e.dst.bytes, 4) ||
        !rg_cur_skip(&c, (size_t)(vihl & 0x0f) * 4))
        return false;
    v->e.ttl = ttl;
    v->e.proto = proto;
    v->l4 = c.p;
    v->l4len = rg_cur_left(&c);
    if (proto == 6)
        return read_tcp(c, v);
    if (proto == 17)
        return read_udp(c, v);
    if (proto == 1)
        return read_echo(c, v);
    return false;
}

static void queue_answer(fn_net *net, int which, const fn_log *about, uint64_t now,
                         unsigned hops, const uint8_t *bytes, size_t len)
{
    fn_packet *p = queue_slot(&net->q[which]);
    if (!p)
        return;
    p->due = now + net->delay_ns + net->per_hop_ns * hops;
    p->len = len < sizeof p->bytes ? len : sizeof p->bytes;
    memcpy(p->bytes, bytes, p->len);
    p->about = *about;
    arm(&net->q[which]);
}

static enum fn_port_state port_state(const fn_dest *d, uint16_t port)
{
    for (size_t i = 0; i < d->nports; i++)
        if (d->port[i] == port)
            return (enum fn_port_state)d->state[i];
    return FN_FILTERED;
}

/* A destination's kernel drops a UDP datagram or an echo request whose
 * checksum does not verify (probe.c keeps them valid while steering them). */
static bool checksum_ok(fn_net *net, const fn_dest *d, const probe_view *v)
{
    bool ok = v->e.proto == 17
                  ? rg_l4_checksum(&net->self, &d->addr, 17, v->l4, v->l4len) == 0
                  : rg_inet_checksum(v->l4, v->l4len) == 0;
    if (!ok)
        net->bad_checksums++;
    return ok;
}

/* UDP at the destination: the payload echoed from an open port, a port
 * unreachable (through its own limiter) from a closed one. */
static void udp_at_dest(fn_net *net, fn_dest *d, const probe_view *v,
                        const uint8_t *pkt, size_t len)
{
    uint8_t out[128];
    unsigned hops = d->nhops + 1;
    enum fn_port_state st = port_state(d, v->e.dport);
    if (st == FN_OPEN && v->l4len - 8 <= sizeof out - 28) {
        size_t n = udp_answer(out, &d->addr, &net->self, hops, v->e.sport, v->e.dport,
                              v->l4 + 8, v->l4len - 8);
        queue_answer(net, 1, &v->e, v->e.at, hops, out, n);
        return;
    }
    if (st != FN_CLOSED || len > sizeof out - 28)
        return;
    if (d->limited && !bucket_allows(net, &d->tokens, &d->at, v->e.at)) {
        d->unreach_held++;
        return;
    }
    d->unreach_sent++;
    size_t n = icmp_error(out, 3, 3, &d->addr, &net->self, hops, pkt, len);
    queue_answer(net, 0, &v->e, v->e.at, hops, out, n);
}

/* What the destination d answers to the probe that reached it. */
static void at_dest(fn_net *net, fn_dest *d, const probe_view *v, const uint8_t *pkt,
                    size_t len)
{
    uint8_t out[128];
    unsigned hops = d->nhops + 1;
    d->reached++;
    if (v->e.proto == 6) {
        enum fn_port_state st = port_state(d, v->e.dport);
        if (st == FN_FILTERED)
            return;
        size_t n = tcp_answer(out, &d->addr, &net->self, hops, v->e.sport, v->e.dport,
                              v->e.seq, st == FN_OPEN);
        queue_answer(net, 1, &v->e, v->e.at, hops, out, n);
        return;
    }
    if (!checksum_ok(net, d, v))
        return;
    if (v->e.proto == 17) {
        udp_at_dest(net, d, v, pkt, len);
        return;
    }
    if (port_state(d, 0) != FN_OPEN || v->l4len > sizeof out - 20)
        return;
    size_t n = echo_reply(out, &d->addr, &net->self, hops, v->l4, v->l4len);
    queue_answer(net, 0, &v->e, v->e.at, hops, out, n);
}

/* What the network does with one probe. */
static void route_probe(fn_net *net, const uint8_t *pkt, size_t len)
{
    probe_view v = {.e = {.event = FN_SENT, .at = mono_ns()}};
    if (!read_probe(pkt, len, &v)) {
        net->unknown_sends++;
        return;
    }
    fn_log *e = &v.e;
    e->reached = fn_route(net, &e->dst, e->sport, e->dport, e->ttl);
    log_add(net, e);
    if (e->reached >= 0) {
        uint8_t out[128];
        fn_router *r = &net->routers[e->reached];
        r->reached++;
        if (r->silent || !limiter_allows(net, r, e->at) || len > sizeof out - 28)
            return;
        r->answered++;
        size_t n = icmp_error(out, 11, 0, &r->addr, &net->self, e->ttl, pkt, len);
        queue_answer(net, 0, e, e->at, e->ttl, out, n);
        return;
    }
    fn_dest *d = (fn_dest *)fn_find_dest(net, &e->dst);
    if (e->reached == FN_DEST && d)
        at_dest(net, d, &v, pkt, len);
}

int rg_sockets_send(const rg_sockets *s, const rg_addr *dst, const uint8_t *pkt,
                    size_t len)
{
    (void)s;
    if (!current || dst->family != 4)
        return EAFNOSUPPORT;
    route_probe(current, pkt, len);
    return 0;
}

long rg_sockets_recv(const rg_sockets *s, enum rg_rx which, uint8_t *buf,
                     size_t len, rg_rx_meta *meta)
{
    (void)s;
    memset(meta, 0, sizeof *meta);
    if (!current || (which != RG_RX_ICMP4 && which != RG_RX_L4_4))
        return 0;
    fn_queue *q = &current->q[which == RG_RX_ICMP4 ? 0 : 1];
    uint64_t now = mono_ns();
    size_t best = q->n;
    for (size_t i = 0; i < q->n; i++)
        if (q->p[i].due <= now && (best == q->n || q->p[i].due < q->p[best].due))
            best = i;
    if (best == q->n) {
        arm(q);
        return 0;
    }
    fn_packet p = q->p[best];
    q->p[best] = q->p[--q->n];
    arm(q);
    size_t n = p.len < len ? p.len : len;
    memcpy(buf, p.bytes, n);
    clock_gettime(CLOCK_REALTIME, &meta->when);
    p.about.event = FN_DELIVERED;
    p.about.at = now;
    log_add(current, &p.about);
    return (long)n;
}
