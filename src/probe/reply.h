/* reply: one received packet parsed, once, into a protocol-neutral record.
 *
 * The record names the probe it claims to answer (our source and destination
 * addresses, protocol, ports or ICMP identifier, sequence number and 16-bit
 * ident) so that matching never touches raw bytes. Quoted probes may be TCP,
 * UDP or ICMP echo requests; direct answers are SYN-ACK / RST, a UDP
 * datagram, an ICMP echo reply.
 * Parsing trusts nothing: outer and quoted IPv4 headers honour IHL and their
 * total length, quoted IPv6 headers are walked through their extension
 * headers (bounded), ICMPv4 checksums are verified. */
#ifndef RG_REPLY_H
#define RG_REPLY_H

#include <stdbool.h>
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
    RG_REPLY_UDP,          /* a UDP datagram answering a UDP probe */
    RG_REPLY_ECHO,         /* an ICMP / ICMPv6 echo reply */
    RG_REPLY_PORT_UNREACH, /* port unreachable quoting a UDP probe */
};

typedef struct rg_reply {
    uint8_t kind;        /* enum rg_reply_kind */
    rg_addr from;        /* who sent the reply */
    uint8_t reply_ttl;   /* TTL / hop limit it arrived with (0 if unknown) */
    uint8_t icmp_type, icmp_code;
    uint8_t tcp_flags;
    /* The probe this reply is about, in the probe's direction. */
    uint8_t probe_proto; /* 6, 17, 1 or 58 */
    rg_addr probe_src, probe_dst;
    uint16_t sport, dport; /* ICMP: sport is the echo identifier, dport 0 */
    bool has_seq, has_ident;
    uint32_t seq;          /* TCP seq, or a UDP/ICMP payload's first 4 bytes */
    uint16_t ident;        /* UDP checksum / ICMP echo sequence number */
    /* An ICMP error's copy of the probe, from its IP header to the end of
     * what was quoted (narrowed to the quoted datagram's length), for
     * probe/quote.h; it points into the packet parsed and lives as long as
     * that buffer. NULL for TCP answers. */
    const uint8_t *quote;
    size_t quote_len;
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
 * is 58 (ICMPv6), 6 (TCP) or 17 (UDP); src/dst/hlim come from recvmsg. */
enum rg_parse_status rg_reply_parse_l4(uint8_t proto, const uint8_t *payload,
                                       size_t len, const rg_addr *src,
                                       const rg_addr *dst, uint8_t hlim,
                                       rg_reply *out);

#endif
