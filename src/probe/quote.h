/* quote: what a middlebox changed in our probe, from the copy of it an ICMP
 * error quotes.
 *
 * A router that sends time exceeded or unreachable quotes the probe as it
 * received it: the IP header and at least the first 8 bytes of TCP (RFC 792),
 * often the whole probe (RFC 1812 routers quote as much as fits; Linux quotes
 * up to 576 / 1280 bytes). Comparing that copy with the bytes we sent tells
 * what something on the way rewrote (as tracebox does): DSCP/ECN, the TCP
 * options and MSS (only when the quote reaches them), addresses and ports
 * (NAT), the sequence number, the IPv4 ID, the IPv6 flow label. The quoted
 * TTL of a time exceeded should be 1 (0 from a router that decrements before
 * quoting): anything else is reported too.
 *
 * Pure: both packets are read through wire.h's bounds-checked readers, the
 * quote as hostile input; fields the quote does not hold are never called
 * changed. The caller rebuilds the sent bytes from the probe's spec
 * (rg_probe_build), so nothing is kept per probe in flight. */
#ifndef RG_QUOTE_H
#define RG_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

/* One bit per field that can change on the way. */
enum rg_quote_change {
    RG_QC_DSCP = 1u << 0,
    RG_QC_ECN = 1u << 1,
    RG_QC_TTL = 1u << 2,      /* time exceeded quoting a TTL other than 0 or 1 */
    RG_QC_IPID = 1u << 3,     /* IPv4 identification */
    RG_QC_SRC = 1u << 4,      /* source address (NAT) */
    RG_QC_DST = 1u << 5,      /* destination address (NAT) */
    RG_QC_SPORT = 1u << 6,    /* source port (NAT) */
    RG_QC_DPORT = 1u << 7,    /* destination port (NAT) */
    RG_QC_SEQ = 1u << 8,      /* sequence number shifted */
    RG_QC_MSS = 1u << 9,      /* MSS option value */
    RG_QC_OPTIONS = 1u << 10, /* TCP options other than the MSS value (added, removed, changed) */
    RG_QC_FLOW = 1u << 11,    /* IPv6 flow label */
    RG_QC_TCP = 1u << 12,     /* TCP flags or window */
};
#define RG_QC_KINDS 13

/* The comparison of one quote with the probe sent. Values are the quoted
 * ones; the sent ones are rebuilt from the probe's spec when needed. */
typedef struct rg_quote_diff {
    uint16_t changes;         /* enum rg_quote_change bits */
    uint8_t tcp_quoted;       /* TCP bytes the quote holds (capped at 255); 0: no quote compared */
    uint8_t tos;              /* quoted DSCP << 2 | ECN (IPv6: traffic class) */
    uint8_t ttl;              /* quoted TTL / hop limit */
    uint8_t tcp_flags;        /* quoted, when tcp_quoted >= 14 */
    bool options;             /* the quote holds the whole TCP header: options compared */
    uint16_t mss;             /* quoted MSS option; 0: none in the quote or not quoted */
    uint16_t ip_id;           /* quoted (IPv4) */
    uint16_t sport, dport;    /* quoted */
    uint32_t seq;             /* quoted */
    uint32_t flow;            /* quoted (IPv6) */
} rg_quote_diff;

/* The changes whose values a probe slot does not keep (model/middlebox.h
 * keeps them once per trace): addresses, ports, IDs, sequence, TCP header. */
#define RG_QC_RARE (RG_QC_IPID | RG_QC_SRC | RG_QC_DST | RG_QC_SPORT | RG_QC_DPORT | \
                    RG_QC_SEQ | RG_QC_FLOW | RG_QC_TCP)

/* What a probe slot keeps of a comparison (8 bytes): which fields changed,
 * how much was quoted, and the values of the common changes. */
typedef struct rg_quote_brief {
    uint16_t changes;         /* enum rg_quote_change bits */
    uint8_t tcp_quoted;       /* as rg_quote_diff; 0: no quote compared */
    uint8_t tos;
    uint8_t ttl;
    bool options;
    uint16_t mss;
} rg_quote_brief;

rg_quote_brief rg_quote_brief_of(const rg_quote_diff *d);

/* Compares the quote (starting at the quoted IP header, as long as the
 * ICMP error carried it) with the probe sent (sent, from rg_probe_build).
 * time_exceeded: whether the quoted TTL has an expected value (1, or 0).
 * The quoted addresses are not stored: the caller reads them from the
 * quote if RG_QC_SRC / RG_QC_DST is set (rg_quote_addrs). False when the
 * quote is not an IPv4/IPv6 + TCP header of the sent family (nothing
 * compared; *out zeroed). */
bool rg_quote_compare(const uint8_t *sent, size_t sent_len, const uint8_t *quote,
                      size_t quote_len, bool time_exceeded, rg_quote_diff *out);

/* The quoted source and destination addresses (family-tagged as rg_addr
 * is: 4 or 16 bytes into bytes[16]); false when the quote is too short. */
bool rg_quote_addrs(const uint8_t *quote, size_t quote_len, rg_addr *src,
                    rg_addr *dst);

/* Short name of one change bit, for JSON and text: "dscp", "ecn", "ttl",
 * "ip-id", "src", "dst", "sport", "dport", "seq", "mss", "tcp-options",
 * "flow-label", "tcp-header"; NULL for anything else. */
const char *rg_quote_change_name(unsigned bit);

#endif
