#include "reply.h"

#include "probe.h"
#include "wire.h"

#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP 1
#define PROTO_ICMPV6 58
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define MAX_EXT_HEADERS 8

typedef enum rg_parse_status status;

/* The outer header's facts that the L4 parsers need. */
typedef struct outer {
    rg_addr src, dst;
    uint8_t ttl;
    const uint8_t *l4;    /* whole L4 message, for checksums */
    size_t l4len;
} outer;

/* IPv4 header: checks version, IHL and total length, narrows c to the
 * datagram and leaves it at the payload. quoted: the header comes from an
 * ICMP error, whose total length describes the original, longer packet. */
static status ipv4_header(rg_cur *c, outer *o, uint8_t *proto, bool quoted)
{
    rg_cur h = *c;
    uint8_t vihl, tos, ttl;
    uint16_t tot, id, frag, sum;
    if (!rg_get_u8(&h, &vihl) || !rg_get_u8(&h, &tos) || !rg_get_be16(&h, &tot) ||
        !rg_get_be16(&h, &id) || !rg_get_be16(&h, &frag) || !rg_get_u8(&h, &ttl) ||
        !rg_get_u8(&h, proto) || !rg_get_be16(&h, &sum))
        return RG_PARSE_MALFORMED;
    size_t ihl = (size_t)(vihl & 0x0f) * 4;
    if (vihl >> 4 != 4 || ihl < 20 || tot < ihl)
        return RG_PARSE_MALFORMED;
    o->src.family = o->dst.family = 4;
    if (!rg_get_bytes(&h, o->src.bytes, 4) || !rg_get_bytes(&h, o->dst.bytes, 4))
        return RG_PARSE_MALFORMED;
    o->ttl = ttl;
    if (quoted) {
        if (rg_cur_left(c) > tot)
            rg_cur_narrow(c, tot);
    } else if (!rg_cur_narrow(c, tot)) {
        return RG_PARSE_MALFORMED;
    }
    if (!rg_cur_skip(c, ihl))
        return RG_PARSE_MALFORMED;
    /* A later fragment carries no TCP header to match on. */
    if ((frag & 0x1fff) != 0)
        return RG_PARSE_IGNORE;
    return RG_PARSE_OK;
}

static bool is_ext_header(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

/* Walks IPv6 extension headers, bounded, leaving c at the upper layer. */
static status ipv6_skip_ext(rg_cur *c, uint8_t *nh)
{
    for (int i = 0; i < MAX_EXT_HEADERS && is_ext_header(*nh); i++) {
        rg_cur h = *c;
        uint8_t next, hlen;
        if (!rg_get_u8(&h, &next) || !rg_get_u8(&h, &hlen))
            return RG_PARSE_MALFORMED;
        size_t len;
        if (*nh == 44) {
            uint16_t off;
            if (!rg_get_be16(&h, &off))
                return RG_PARSE_MALFORMED;
            if ((off & 0xfff8) != 0)
                return RG_PARSE_IGNORE; /* not the first fragment */
            len = 8;
        } else if (*nh == 51) {
            len = ((size_t)hlen + 2) * 4; /* AH counts 4-byte units */
        } else {
            len = ((size_t)hlen + 1) * 8;
        }
        if (!rg_cur_skip(c, len))
            return RG_PARSE_MALFORMED;
        *nh = next;
    }
    return is_ext_header(*nh) ? RG_PARSE_MALFORMED : RG_PARSE_OK;
}

static status ipv6_header(rg_cur *c, outer *o, uint8_t *proto, bool quoted)
{
    rg_cur h = *c;
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh, hlim;
    if (!rg_get_be32(&h, &vtf) || !rg_get_be16(&h, &plen) || !rg_get_u8(&h, &nh) ||
        !rg_get_u8(&h, &hlim))
        return RG_PARSE_MALFORMED;
    if (vtf >> 28 != 6)
        return RG_PARSE_MALFORMED;
    o->src.family = o->dst.family = 6;
    if (!rg_get_bytes(&h, o->src.bytes, 16) || !rg_get_bytes(&h, o->dst.bytes, 16))
        return RG_PARSE_MALFORMED;
    o->ttl = hlim;
    if (!rg_cur_skip(c, 40))
        return RG_PARSE_MALFORMED;
    if (quoted) {
        if (rg_cur_left(c) > plen)
            rg_cur_narrow(c, plen);
    } else if (!rg_cur_narrow(c, plen)) {
        return RG_PARSE_MALFORMED;
    }
    *proto = nh;
    return ipv6_skip_ext(c, proto);
}

/* A UDP or ICMP probe's payload starts with its 32-bit seq: read it when
 * the quote or the answer carries it (RFC 792 promises only 8 bytes). */
static void payload_seq(rg_cur *c, rg_reply *r)
{
    r->has_seq = rg_get_be32(c, &r->seq);
}

static status quoted_tcp(rg_cur *c, rg_reply *r)
{
    if (!rg_get_be16(c, &r->sport) || !rg_get_be16(c, &r->dport) ||
        !rg_get_be32(c, &r->seq))
        return RG_PARSE_MALFORMED;
    r->has_seq = true;
    return RG_PARSE_OK;
}

static status quoted_udp(rg_cur *c, rg_reply *r)
{
    uint16_t len;
    if (!rg_get_be16(c, &r->sport) || !rg_get_be16(c, &r->dport) ||
        !rg_get_be16(c, &len) || !rg_get_be16(c, &r->ident))
        return RG_PARSE_MALFORMED;
    r->has_ident = true;
    payload_seq(c, r);
    return RG_PARSE_OK;
}

/* Only our echo requests are probes; any other quoted ICMP is not ours. */
static status quoted_echo(rg_cur *c, uint8_t family, rg_reply *r)
{
    uint8_t type, code;
    uint16_t sum;
    if (!rg_get_u8(c, &type) || !rg_get_u8(c, &code) || !rg_get_be16(c, &sum) ||
        !rg_get_be16(c, &r->sport) || !rg_get_be16(c, &r->ident))
        return RG_PARSE_MALFORMED;
    if (type != (family == 6 ? 128 : 8) || code != 0)
        return RG_PARSE_IGNORE;
    r->dport = 0;
    r->has_ident = true;
    payload_seq(c, r);
    return RG_PARSE_OK;
}

/* The quoted probe inside an ICMP error: its IP header and the first 8
 * bytes of its TCP, UDP or ICMP header (ports and sequence number, ports and
 * checksum, identifier and sequence number), which is all RFC 792 promises;
 * a UDP or ICMP probe's seq when more was quoted. */
static status quoted_probe(rg_cur *c, uint8_t family, rg_reply *r)
{
    outer q = {0};
    uint8_t proto = 0;
    const uint8_t *start = c->p;
    status st = family == 4 ? ipv4_header(c, &q, &proto, true)
                            : ipv6_header(c, &q, &proto, true);
    if (st != RG_PARSE_OK)
        return st;
    r->quote = start;
    r->quote_len = (size_t)(c->end - start);
    if (proto == PROTO_TCP)
        st = quoted_tcp(c, r);
    else if (proto == PROTO_UDP)
        st = quoted_udp(c, r);
    else if (proto == (family == 6 ? PROTO_ICMPV6 : PROTO_ICMP))
        st = quoted_echo(c, family, r);
    else
        return RG_PARSE_IGNORE;
    if (st != RG_PARSE_OK)
        return st;
    r->probe_proto = proto;
    r->probe_src = q.src;
    r->probe_dst = q.dst;
    return RG_PARSE_OK;
}

static status icmp_kind(uint8_t family, uint8_t type, uint8_t *kind)
{
    if ((family == 4 && type == 11) || (family == 6 && type == 3))
        *kind = RG_REPLY_TIME_EXCEEDED;
    else if ((family == 4 && type == 3) || (family == 6 && type == 1))
        *kind = RG_REPLY_UNREACHABLE;
    else
        return RG_PARSE_IGNORE;
    return RG_PARSE_OK;
}

static bool is_echo_reply(uint8_t family, uint8_t type)
{
    return type == (family == 6 ? 129 : 0);
}

/* An echo reply names its request by identifier and sequence number and
 * returns its payload, the seq with them. */
static status parse_echo_reply(rg_cur *c, const outer *o, rg_reply *r)
{
    if (!rg_get_be16(c, &r->sport) || !rg_get_be16(c, &r->ident))
        return RG_PARSE_MALFORMED;
    r->kind = RG_REPLY_ECHO;
    r->has_ident = true;
    payload_seq(c, r);
    r->probe_proto = o->src.family == 6 ? PROTO_ICMPV6 : PROTO_ICMP;
    r->probe_src = o->dst;
    r->probe_dst = o->src;
    r->dport = 0;
    return RG_PARSE_OK;
}

/* Port unreachable for a UDP probe is that port's answer; for the other
 * methods it stays an unreachable like any other. */
static void port_unreach(uint8_t family, rg_reply *r)
{
    uint8_t port_code = family == 6 ? 4 : 3;
    if (r->kind == RG_REPLY_UNREACHABLE && r->probe_proto == PROTO_UDP &&
        r->icmp_code == port_code)
        r->kind = RG_REPLY_PORT_UNREACH;
}

static status parse_icmp(rg_cur c, const outer *o, rg_reply *r)
{
    uint8_t type, code;
    uint16_t sum;
    if (!rg_get_u8(&c, &type) || !rg_get_u8(&c, &code) || !rg_get_be16(&c, &sum))
        return RG_PARSE_MALFORMED;
    uint8_t family = o->src.family;
    bool echo = is_echo_reply(family, type);
    if (!echo) {
        status st = icmp_kind(family, type, &r->kind);
        if (st != RG_PARSE_OK)
            return st;
    }
    /* The kernel verifies ICMPv6 checksums before raw delivery, not ICMPv4. */
    if (family == 4 && rg_inet_checksum(o->l4, o->l4len) != 0)
        return RG_PARSE_MALFORMED;
    r->from = o->src;
    r->reply_ttl = o->ttl;
    r->icmp_type = type;
    r->icmp_code = code;
    if (echo)
        return parse_echo_reply(&c, o, r);
    if (!rg_cur_skip(&c, 4)) /* unused / pointer / MTU */
        return RG_PARSE_MALFORMED;
    status st = quoted_probe(&c, family, r);
    if (st == RG_PARSE_OK) {
        port_unreach(family, r);
        r->ext_status = (uint8_t)rg_icmpext_parse(family, o->l4, o->l4len, &r->ext);
    }
    return st;
}

/* A UDP or TCP answer from the destination itself, with the ports of its
 * header (sport, dport): the probe it answers went the other way. */
static void from_destination(const outer *o, uint16_t sport, uint16_t dport, rg_reply *r)
{
    r->from = o->src;
    r->reply_ttl = o->ttl;
    r->probe_src = o->dst;
    r->probe_dst = o->src;
    r->sport = dport;
    r->dport = sport;
}

/* A UDP answer from the port a probe went to; it names the probe only if it
 * brings the probe's seq back (an echoing service): match decides. No
 * checksum check, for the reason parse_tcp gives. */
static status parse_udp(rg_cur c, const outer *o, rg_reply *r)
{
    uint16_t sport, dport, len, sum;
    if (!rg_get_be16(&c, &sport) || !rg_get_be16(&c, &dport) ||
        !rg_get_be16(&c, &len) || !rg_get_be16(&c, &sum))
        return RG_PARSE_MALFORMED;
    if (len < 8 || len > o->l4len)
        return RG_PARSE_MALFORMED;
    rg_cur_narrow(&c, len - 8u);
    r->kind = RG_REPLY_UDP;
    r->probe_proto = PROTO_UDP;
    from_destination(o, sport, dport, r);
    payload_seq(&c, r);
    return RG_PARSE_OK;
}

static status parse_tcp(rg_cur c, const outer *o, rg_reply *r)
{
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t off, flags;
    if (!rg_get_be16(&c, &sport) || !rg_get_be16(&c, &dport) ||
        !rg_get_be32(&c, &seq) || !rg_get_be32(&c, &ack) || !rg_get_u8(&c, &off) ||
        !rg_get_u8(&c, &flags))
        return RG_PARSE_MALFORMED;
    if ((size_t)(off >> 4) * 4 < 20 || o->l4len < (size_t)(off >> 4) * 4)
        return RG_PARSE_MALFORMED;
    bool synack = (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    bool rst = (flags & TCP_RST) != 0;
    /* Only an ACK names our sequence number; a bare RST cannot be matched. */
    if (!(flags & TCP_ACK) || !(synack || rst) || (flags & TCP_FIN))
        return RG_PARSE_IGNORE;
    /* No TCP checksum check: a segment that crossed a virtual link (veth,
     * loopback) reaches raw sockets with a partial checksum still to be
     * filled in, so valid answers would fail it. The 32-bit secret in the
     * acknowledgement number is the real test of a reply. */
    r->kind = rst ? RG_REPLY_RST : RG_REPLY_SYNACK;
    r->probe_proto = PROTO_TCP;
    r->has_seq = true;
    r->tcp_flags = flags;
    from_destination(o, sport, dport, r);
    r->seq = ack - 1;
    return RG_PARSE_OK;
}

static status parse_l4(uint8_t proto, rg_cur c, outer *o, rg_reply *r)
{
    o->l4 = c.p;
    o->l4len = rg_cur_left(&c);
    if (proto == PROTO_TCP)
        return parse_tcp(c, o, r);
    if (proto == PROTO_UDP)
        return parse_udp(c, o, r);
    if ((o->src.family == 4 && proto == PROTO_ICMP) ||
        (o->src.family == 6 && proto == PROTO_ICMPV6))
        return parse_icmp(c, o, r);
    return RG_PARSE_IGNORE;
}

/* All but the extension record's entries, which only its counts make
 * readable: zeroing them for every packet would cost more than the parse. */
_Static_assert(offsetof(rg_reply, ext) + sizeof(rg_icmpext) == sizeof(rg_reply),
               "rg_reply.ext must stay the last member (reply_clear)");

static void reply_clear(rg_reply *r)
{
    memset(r, 0, offsetof(rg_reply, ext));
    rg_icmpext_clear(&r->ext);
}

enum rg_parse_status rg_reply_parse_packet(const uint8_t *pkt, size_t len,
                                           rg_reply *out)
{
    reply_clear(out);
    rg_cur c = rg_cur_make(pkt, len);
    uint8_t first, proto = 0;
    rg_cur peek = c;
    if (!rg_get_u8(&peek, &first))
        return RG_PARSE_MALFORMED;
    outer o = {0};
    status st = first >> 4 == 4 ? ipv4_header(&c, &o, &proto, false)
              : first >> 4 == 6 ? ipv6_header(&c, &o, &proto, false)
                                : RG_PARSE_MALFORMED;
    if (st != RG_PARSE_OK)
        return st;
    return parse_l4(proto, c, &o, out);
}

enum rg_parse_status rg_reply_parse_l4(uint8_t proto, const uint8_t *payload,
                                       size_t len, const rg_addr *src,
                                       const rg_addr *dst, uint8_t hlim,
                                       rg_reply *out)
{
    reply_clear(out);
    if (src->family != 6 || dst->family != 6)
        return RG_PARSE_MALFORMED;
    outer o = {.src = *src, .dst = *dst, .ttl = hlim};
    return parse_l4(proto, rg_cur_make(payload, len), &o, out);
}
