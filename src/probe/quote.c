#include "quote.h"

#include "wire.h"

#define PROTO_TCP 6
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_MAX_OPTIONS 40

/* One packet's fields as far as its bytes go. */
typedef struct view {
    uint8_t family;
    uint8_t tos, ttl;
    uint16_t ip_id;
    uint32_t flow;
    rg_addr src, dst;
    rg_cur tcp;               /* the TCP bytes present */
} view;

static bool ipv4_view(rg_cur c, view *v)
{
    rg_cur h = c;
    uint8_t vihl, proto;
    uint16_t tot, frag, sum;
    if (!rg_get_u8(&h, &vihl) || !rg_get_u8(&h, &v->tos) || !rg_get_be16(&h, &tot) ||
        !rg_get_be16(&h, &v->ip_id) || !rg_get_be16(&h, &frag) ||
        !rg_get_u8(&h, &v->ttl) || !rg_get_u8(&h, &proto) || !rg_get_be16(&h, &sum) ||
        !rg_get_bytes(&h, v->src.bytes, 4) || !rg_get_bytes(&h, v->dst.bytes, 4))
        return false;
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (vihl >> 4 != 4 || ihl < 20 || tot < ihl || proto != PROTO_TCP ||
        (frag & 0x1fff) != 0)
        return false;
    /* The quote may be longer (padding, RFC 4884 extensions) or shorter
     * than the datagram it copies: keep what is both. */
    if (rg_cur_left(&c) > tot)
        rg_cur_narrow(&c, tot);
    if (!rg_cur_skip(&c, ihl))
        return false;
    v->family = v->src.family = v->dst.family = 4;
    v->tcp = c;
    return true;
}

static bool ipv6_view(rg_cur c, view *v)
{
    rg_cur h = c;
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh;
    if (!rg_get_be32(&h, &vtf) || !rg_get_be16(&h, &plen) || !rg_get_u8(&h, &nh) ||
        !rg_get_u8(&h, &v->ttl) || !rg_get_bytes(&h, v->src.bytes, 16) ||
        !rg_get_bytes(&h, v->dst.bytes, 16))
        return false;
    /* Our probes carry no extension header: one added on the way is not a
     * probe we can compare field by field. */
    if (vtf >> 28 != 6 || nh != PROTO_TCP || !rg_cur_skip(&c, 40))
        return false;
    if (rg_cur_left(&c) > plen)
        rg_cur_narrow(&c, plen);
    v->tos = (uint8_t)(vtf >> 20);
    v->flow = vtf & 0xfffff;
    v->family = v->src.family = v->dst.family = 6;
    v->tcp = c;
    return true;
}

static bool view_of(const uint8_t *pkt, size_t len, view *v)
{
    *v = (view){0};
    rg_cur c = rg_cur_make(pkt, len);
    uint8_t first;
    rg_cur peek = c;
    if (!rg_get_u8(&peek, &first))
        return false;
    if (first >> 4 == 4)
        return ipv4_view(c, v);
    if (first >> 4 == 6)
        return ipv6_view(c, v);
    return false;
}

/* The TCP fields a quote may hold, each only if its bytes are there. */
typedef struct tcp_fields {
    size_t len;               /* TCP bytes present */
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t flags;
    uint16_t window;
    bool has_options;         /* the whole header is present */
    uint16_t mss;             /* 0: none */
    /* The options as a comparable string: every option with the MSS
     * value left out, so a clamp alone is not an options change. */
    uint8_t shape[TCP_MAX_OPTIONS];
    size_t shape_len;
} tcp_fields;

/* Walks the options, bounded by their length; false when malformed. */
static bool options_shape(rg_cur c, tcp_fields *f)
{
    uint8_t kind, olen;
    while (rg_get_u8(&c, &kind)) {
        if (f->shape_len >= sizeof f->shape)
            return false;
        f->shape[f->shape_len++] = kind;
        if (kind == TCP_OPT_EOL)
            return true;
        if (kind == TCP_OPT_NOP)
            continue;
        if (!rg_get_u8(&c, &olen) || olen < 2 || !rg_cur_has(&c, (size_t)olen - 2))
            return false;
        if (kind == TCP_OPT_MSS && olen == 4) {
            rg_get_be16(&c, &f->mss);
            continue;
        }
        size_t n = (size_t)olen - 2;
        if (f->shape_len + 1 + n > sizeof f->shape)
            return false;
        f->shape[f->shape_len++] = olen;
        rg_get_bytes(&c, f->shape + f->shape_len, n);
        f->shape_len += n;
    }
    return true;
}

static void tcp_read(rg_cur c, tcp_fields *f)
{
    *f = (tcp_fields){.len = rg_cur_left(&c)};
    uint32_t ack;
    uint8_t off;
    uint16_t sum, urg;
    if (!rg_get_be16(&c, &f->sport) || !rg_get_be16(&c, &f->dport) ||
        !rg_get_be32(&c, &f->seq) || !rg_get_be32(&c, &ack) || !rg_get_u8(&c, &off) ||
        !rg_get_u8(&c, &f->flags) || !rg_get_be16(&c, &f->window) ||
        !rg_get_be16(&c, &sum) || !rg_get_be16(&c, &urg))
        return;
    size_t hl = (size_t)(off >> 4) * 4;
    if (hl < 20 || !rg_cur_narrow(&c, hl - 20))
        return;
    f->has_options = options_shape(c, f);
}

static uint16_t tcp_changes(const tcp_fields *s, const tcp_fields *q)
{
    uint16_t ch = 0;
    if (q->len >= 2 && q->sport != s->sport)
        ch |= RG_QC_SPORT;
    if (q->len >= 4 && q->dport != s->dport)
        ch |= RG_QC_DPORT;
    if (q->len >= 8 && q->seq != s->seq)
        ch |= RG_QC_SEQ;
    if (q->len >= 16 && (q->flags != s->flags || q->window != s->window))
        ch |= RG_QC_TCP;
    if (!q->has_options || !s->has_options)
        return ch;
    if (q->mss != s->mss)
        ch |= RG_QC_MSS;
    if (q->shape_len != s->shape_len || memcmp(q->shape, s->shape, s->shape_len) != 0)
        ch |= RG_QC_OPTIONS;
    return ch;
}

static uint16_t ip_changes(const view *s, const view *q, bool time_exceeded)
{
    uint16_t ch = 0;
    if ((q->tos ^ s->tos) & 0xfc)
        ch |= RG_QC_DSCP;
    if ((q->tos ^ s->tos) & 0x03)
        ch |= RG_QC_ECN;
    if (time_exceeded && q->ttl > 1)
        ch |= RG_QC_TTL;
    if (s->family == 4 && q->ip_id != s->ip_id)
        ch |= RG_QC_IPID;
    if (s->family == 6 && q->flow != s->flow)
        ch |= RG_QC_FLOW;
    if (!rg_addr_equal(&q->src, &s->src))
        ch |= RG_QC_SRC;
    if (!rg_addr_equal(&q->dst, &s->dst))
        ch |= RG_QC_DST;
    return ch;
}

bool rg_quote_compare(const uint8_t *sent, size_t sent_len, const uint8_t *quote,
                      size_t quote_len, bool time_exceeded, rg_quote_diff *out)
{
    *out = (rg_quote_diff){0};
    view s, q;
    if (!view_of(sent, sent_len, &s) || !view_of(quote, quote_len, &q) ||
        q.family != s.family)
        return false;
    tcp_fields st, qt;
    tcp_read(s.tcp, &st);
    tcp_read(q.tcp, &qt);
    if (qt.len < 4)
        return false; /* not even the ports: nothing names the probe */
    out->changes = (uint16_t)(ip_changes(&s, &q, time_exceeded) | tcp_changes(&st, &qt));
    out->tcp_quoted = (uint8_t)(qt.len < 255 ? qt.len : 255);
    out->tos = q.tos;
    out->ttl = q.ttl;
    out->tcp_flags = qt.flags;
    out->mss = qt.has_options ? qt.mss : 0;
    out->ip_id = q.ip_id;
    out->sport = qt.sport;
    out->dport = qt.dport;
    out->seq = qt.seq;
    out->flow = q.flow;
    out->options = qt.has_options;
    return true;
}

bool rg_quote_addrs(const uint8_t *quote, size_t quote_len, rg_addr *src, rg_addr *dst)
{
    view q;
    if (!view_of(quote, quote_len, &q))
        return false;
    *src = q.src;
    *dst = q.dst;
    return true;
}

rg_quote_brief rg_quote_brief_of(const rg_quote_diff *d)
{
    return (rg_quote_brief){.changes = d->changes, .tcp_quoted = d->tcp_quoted,
                            .tos = d->tos, .ttl = d->ttl, .options = d->options,
                            .mss = d->mss};
}

const char *rg_quote_change_name(unsigned bit)
{
    static const char *const names[RG_QC_KINDS] = {
        "dscp", "ecn", "ttl", "ip-id", "src", "dst", "sport", "dport", "seq",
        "mss", "tcp-options", "flow-label", "tcp-header",
    };
    for (unsigned i = 0; i < RG_QC_KINDS; i++)
        if (bit == 1u << i)
            return names[i];
    return NULL;
}
