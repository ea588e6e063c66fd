/* reply: one received packet parsed, once, into a protocol-neutral record.
 *
 * The record names the probe it claims to answer (our source and destination
 * addresses, ports, sequence number) so that matching never touches raw bytes.
 * Parsing trusts nothing: outer and quoted IPv4 headers honour IHL and their
 * total length, quoted IPv6 headers are walked through their extension
 * headers (bounded), ICMPv4 checksums are verified. */
#ifndef RG_REPLY_H
#define RG_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"
#include "icmpext.h"

enum rg_parse_status {
    RG_PARSE_OK = 0,
    RG_PARSE_IGNORE,    /* well-formed but not a reply kind we look for */
    RG_PARSE_MALFORMED, /* truncated or inconsistent */
};

/* What a reply says about its probe; the result model records it as is. */
enum rg_reply_kind {
    RG_REPLY_NONE = 0,
    RG_REPLY_TIME_EXCEEDED,
    RG_REPLY_UNREACHABLE,
    RG_REPLY_SYNACK,
    RG_REPLY_RST,
};

typedef struct rg_reply {
    uint8_t kind;        /* enum rg_reply_kind */
    rg_addr from;        /* who sent the reply */
    uint8_t reply_ttl;   /* TTL / hop limit it arrived with (0 if unknown) */
    uint8_t icmp_type, icmp_code;
    uint8_t tcp_flags;
    /* The probe this reply is about, in the probe's direction. */
    rg_addr probe_src, probe_dst;
    uint16_t sport, dport;
    uint32_t seq;
    /* An ICMP error's RFC 4884 extensions (icmpext.h), parsed once a
     * reply is otherwise good; ext_status RG_ICMPEXT_NONE: none. ext stays
     * the last member: the parsers zero everything before it, and of it
     * only its counts. */
    uint8_t ext_status;  /* enum rg_icmpext_status */
    rg_icmpext ext;
} rg_reply;

/* A whole IP packet, IPv4 or IPv6 (as an IPv4 raw socket delivers it, and
 * as tests and fuzzers feed it). */
enum rg_parse_status rg_reply_parse_packet(const uint8_t *pkt, size_t len,
                                           rg_reply *out);

/* An IPv6 payload as an IPv6 raw socket delivers it (no IPv6 header): proto
 * is 58 (ICMPv6) or 6 (TCP); src/dst/hlim come from recvmsg. */
enum rg_parse_status rg_reply_parse_l4(uint8_t proto, const uint8_t *payload,
                                       size_t len, const rg_addr *src,
                                       const rg_addr *dst, uint8_t hlim,
                                       rg_reply *out);

#endif
