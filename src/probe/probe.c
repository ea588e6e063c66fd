#include "probe.h"

#include "wire.h"

#define TCP_LEN 24 /* 20 + MSS option, like a real SYN */
#define TCP_MSS 1460
#define TCP_WINDOW 64240
#define TCP_FLAG_SYN 0x02
#define PAYLOAD_LEN 6 /* UDP/ICMP: the 32-bit seq, then the two adjusting bytes */
#define UDP_LEN (8 + PAYLOAD_LEN)
#define ICMP_LEN (8 + PAYLOAD_LEN)
#define IDENT_SPAN ((uint32_t)(RG_PROBE_TTL_MAX + 1) << RG_PROBE_ATTEMPT_BITS)

static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t rg_inet_checksum(const uint8_t *p, size_t len)
{
    return fold(sum_bytes(0, p, len));
}

uint16_t rg_l4_checksum(const rg_addr *src, const rg_addr *dst, uint8_t proto,
                        const uint8_t *seg, size_t len)
{
    size_t alen = rg_addr_len(src);
    uint32_t sum = sum_bytes(0, src->bytes, alen);
    sum = sum_bytes(sum, dst->bytes, alen);
    sum += proto;
    sum += (uint32_t)(len & 0xffff) + (uint32_t)(len >> 16);
    return fold(sum_bytes(sum, seg, len));
}

uint16_t rg_tcp_checksum(const rg_addr *src, const rg_addr *dst,
                         const uint8_t *seg, size_t len)
{
    return rg_l4_checksum(src, dst, 6, seg, len);
}

uint32_t rg_probe_seq(uint32_t base, unsigned ttl, unsigned attempt)
{
    return base + ((uint32_t)ttl << RG_PROBE_ATTEMPT_BITS) + attempt;
}

uint16_t rg_probe_ip_id(uint32_t base, unsigned ttl, unsigned attempt)
{
    return (uint16_t)((base >> 16) + (ttl << RG_PROBE_ATTEMPT_BITS) + attempt);
}

/* base16 lies in [1, 0xffff - IDENT_SPAN - 1], so base16 + identity is
 * never 0 (a UDP checksum of 0 means "none") nor 0xffff (its other form). */
static uint16_t ident_base(uint32_t base)
{
    return (uint16_t)(1 + (base >> 16) % (0xffffu - IDENT_SPAN - 1));
}

uint16_t rg_probe_ident(uint32_t base, unsigned ttl, unsigned attempt)
{
    return (uint16_t)(ident_base(base) + (ttl << RG_PROBE_ATTEMPT_BITS) + attempt);
}

bool rg_probe_identity16(uint32_t base, uint16_t ident, unsigned *ttl,
                         unsigned *attempt)
{
    uint32_t off = (uint32_t)(uint16_t)(ident - ident_base(base));
    if (off >= IDENT_SPAN)
        return false;
    *ttl = off >> RG_PROBE_ATTEMPT_BITS;
    *attempt = off & ((1u << RG_PROBE_ATTEMPT_BITS) - 1);
    return true;
}

uint8_t rg_method_proto(uint8_t method, uint8_t family)
{
    if (method == RG_METHOD_UDP)
        return 17;
    if (method == RG_METHOD_ICMP)
        return family == 6 ? 58 : 1;
    return 6;
}

static const char *const method_names[] = {"tcp", "udp", "icmp"};

const char *rg_method_name(uint8_t method)
{
    return method < 3 ? method_names[method] : "tcp";
}

bool rg_method_parse(const char *name, uint8_t *method)
{
    for (uint8_t m = 0; m < 3; m++)
        if (strcmp(name, method_names[m]) == 0) {
            *method = m;
            return true;
        }
    return false;
}

bool rg_probe_identity(uint32_t base, uint32_t seq, unsigned *ttl,
                       unsigned *attempt)
{
    uint32_t off = seq - base;
    if (off >= ((uint32_t)(RG_PROBE_TTL_MAX + 1) << RG_PROBE_ATTEMPT_BITS))
        return false;
    *ttl = off >> RG_PROBE_ATTEMPT_BITS;
    *attempt = off & ((1u << RG_PROBE_ATTEMPT_BITS) - 1);
    return true; /* ttl 0: the port probes */
}

static void build_tcp(const rg_probe_spec *s, uint8_t *t)
{
    rg_put_be16(t, s->flow);
    rg_put_be16(t + 2, s->dport);
    rg_put_be32(t + 4, s->seq);
    rg_put_be32(t + 8, 0);
    t[12] = (TCP_LEN / 4) << 4;
    t[13] = TCP_FLAG_SYN;
    rg_put_be16(t + 14, TCP_WINDOW);
    rg_put_be16(t + 16, 0);
    rg_put_be16(t + 18, 0);
    t[20] = 2; /* MSS */
    t[21] = 4;
    rg_put_be16(t + 22, TCP_MSS);
    rg_put_be16(t + 16, rg_tcp_checksum(&s->src, &s->dst, t, TCP_LEN));
}

/* One's-complement addition of two 16-bit words. */
static uint16_t oc_add(uint16_t a, uint16_t b)
{
    uint32_t s = (uint32_t)a + b;
    return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* Makes the checksum field at seg[ck] read target while the segment stays
 * valid: the word at seg[adj] (even offset, zero on entry, as is the
 * checksum field) takes what target leaves over. cs0 is the checksum the
 * segment has with both zero. With S0 its sum, S0 + W = ~target makes the
 * sum with the checksum field ~target + target = 0xffff, a valid segment. */
static void steer_checksum(uint8_t *seg, size_t ck, size_t adj, uint16_t cs0,
                           uint16_t target)
{
    rg_put_be16(seg + adj, oc_add((uint16_t)~target, cs0));
    rg_put_be16(seg + ck, target);
}

static void build_udp(const rg_probe_spec *s, uint8_t *u)
{
    rg_put_be16(u, s->flow);
    rg_put_be16(u + 2, s->dport);
    rg_put_be16(u + 4, UDP_LEN);
    rg_put_be16(u + 6, 0);
    rg_put_be32(u + 8, s->seq);
    rg_put_be16(u + 12, 0);
    uint16_t cs0 = rg_l4_checksum(&s->src, &s->dst, 17, u, UDP_LEN);
    steer_checksum(u, 6, 12, cs0, s->ident);
}

static void build_icmp(const rg_probe_spec *s, uint8_t *m)
{
    bool v6 = s->dst.family == 6;
    m[0] = v6 ? 128 : 8; /* echo request */
    m[1] = 0;
    rg_put_be16(m + 2, 0);
    rg_put_be16(m + 4, s->flow);
    rg_put_be16(m + 6, s->ident);
    rg_put_be32(m + 8, s->seq);
    rg_put_be16(m + 12, 0);
    /* ICMPv6 sums a pseudo-header too; it is constant for the trace. */
    uint16_t cs0 = v6 ? rg_l4_checksum(&s->src, &s->dst, 58, m, ICMP_LEN)
                      : rg_inet_checksum(m, ICMP_LEN);
    steer_checksum(m, 2, 12, cs0, s->flow);
}

static size_t l4_len(uint8_t method)
{
    return method == RG_METHOD_UDP ? UDP_LEN : method == RG_METHOD_ICMP ? ICMP_LEN : TCP_LEN;
}

static void build_l4(const rg_probe_spec *s, uint8_t *p)
{
    if (s->method == RG_METHOD_UDP)
        build_udp(s, p);
    else if (s->method == RG_METHOD_ICMP)
        build_icmp(s, p);
    else
        build_tcp(s, p);
}

static size_t build_v4(const rg_probe_spec *s, uint8_t *b)
{
    size_t l4 = l4_len(s->method);
    b[0] = 0x45;
    b[1] = 0;
    rg_put_be16(b + 2, (uint16_t)(20 + l4));
    rg_put_be16(b + 4, s->ip_id);
    rg_put_be16(b + 6, 0x4000); /* DF: no fragments to confuse matching */
    b[8] = s->ttl;
    b[9] = rg_method_proto(s->method, 4);
    rg_put_be16(b + 10, 0);
    memcpy(b + 12, s->src.bytes, 4);
    memcpy(b + 16, s->dst.bytes, 4);
    rg_put_be16(b + 10, rg_inet_checksum(b, 20));
    build_l4(s, b + 20);
    return 20 + l4;
}

static size_t build_v6(const rg_probe_spec *s, uint8_t *b)
{
    uint32_t flow = s->flow_label & 0xfffff;
    size_t l4 = l4_len(s->method);
    rg_put_be32(b, 6u << 28 | flow);
    rg_put_be16(b + 4, (uint16_t)l4);
    b[6] = rg_method_proto(s->method, 6);
    b[7] = s->ttl;
    memcpy(b + 8, s->src.bytes, 16);
    memcpy(b + 24, s->dst.bytes, 16);
    build_l4(s, b + 40);
    return 40 + l4;
}

size_t rg_probe_build(const rg_probe_spec *s, uint8_t *buf, size_t len)
{
    if (s->src.family != s->dst.family || s->ttl == 0 || s->method > RG_METHOD_ICMP)
        return 0;
    size_t l4 = l4_len(s->method);
    if (s->dst.family == 4 && len >= 20 + l4)
        return build_v4(s, buf);
    if (s->dst.family == 6 && len >= 40 + l4)
        return build_v6(s, buf);
    return 0;
}
