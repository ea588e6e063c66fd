#include "probe.h"

#include "wire.h"

#define TCP_LEN 24 /* 20 + MSS option, like a real SYN */
#define TCP_MSS 1460
#define TCP_WINDOW 64240
#define TCP_FLAG_SYN 0x02

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
    rg_put_be16(t, s->sport);
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

static size_t build_v4(const rg_probe_spec *s, uint8_t *b)
{
    b[0] = 0x45;
    b[1] = 0;
    rg_put_be16(b + 2, 20 + TCP_LEN);
    rg_put_be16(b + 4, s->ip_id);
    rg_put_be16(b + 6, 0x4000); /* DF: no fragments to confuse matching */
    b[8] = s->ttl;
    b[9] = 6;
    rg_put_be16(b + 10, 0);
    memcpy(b + 12, s->src.bytes, 4);
    memcpy(b + 16, s->dst.bytes, 4);
    rg_put_be16(b + 10, rg_inet_checksum(b, 20));
    build_tcp(s, b + 20);
    return 20 + TCP_LEN;
}

static size_t build_v6(const rg_probe_spec *s, uint8_t *b)
{
    uint32_t flow = s->flow_label & 0xfffff;
    rg_put_be32(b, 6u << 28 | flow);
    rg_put_be16(b + 4, TCP_LEN);
    b[6] = 6;
    b[7] = s->ttl;
    memcpy(b + 8, s->src.bytes, 16);
    memcpy(b + 24, s->dst.bytes, 16);
    build_tcp(s, b + 40);
    return 40 + TCP_LEN;
}

size_t rg_probe_build(const rg_probe_spec *s, uint8_t *buf, size_t len)
{
    if (s->src.family != s->dst.family || s->ttl == 0)
        return 0;
    if (s->dst.family == 4 && len >= 20 + TCP_LEN)
        return build_v4(s, buf);
    if (s->dst.family == 6 && len >= 40 + TCP_LEN)
        return build_v6(s, buf);
    return 0;
}
