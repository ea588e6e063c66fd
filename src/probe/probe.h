/* probe: the bytes of one probe (TCP SYN, UDP datagram or ICMP echo
 * request), IP header included, and the encoding of a probe's identity into
 * fields that replies carry back.
 *
 * Paris-style: everything ECMP routers hash on is constant for a trace (the
 * addresses, the flow id, the IPv6 flow label, and for ICMP the checksum),
 * so every TTL of it stays on one path. The identity of a probe is
 * ttl * 8 + attempt (identity TTL 0 names a trace's port probes, whatever IP
 * TTL they carry), added to a per-trace secret:
 * - TCP: the sequence number, seq = base + identity, which ICMP errors quote
 *   (it lies in the first 8 bytes of the TCP header) and SYN-ACK / RST
 *   answer with ack = seq + 1; a blind forger has to guess 32 bits.
 * - UDP: the checksum carries the 16-bit identity (ident = base16 +
 *   identity, never 0 or 0xffff), kept right by two payload bytes, as Paris
 *   traceroute does; the ports stay fixed. The payload starts with the 32-bit
 *   seq, which quotes of the whole probe and echoing services bring back.
 * - ICMP echo: the sequence number is the 16-bit ident, the identifier is the
 *   flow id, and two payload bytes keep the checksum constant per trace (it
 *   is the flow id too); the payload starts with the 32-bit seq, which echo
 *   replies return and which is checked whenever a reply carries it.
 * For IPv4 the IP ID repeats the identity. */
#ifndef RG_PROBE_H
#define RG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_PROBE_MAXLEN 64   /* 40 (IPv6) + 24 (TCP with MSS option, the longest) */
#define RG_PROBE_ATTEMPT_BITS 3
#define RG_PROBE_TTL_MAX 255

/* How a run probes (-P); a trace keeps its method from start to end. */
enum rg_method { RG_METHOD_TCP = 0, RG_METHOD_UDP, RG_METHOD_ICMP };

typedef struct rg_probe_spec {
    rg_addr src, dst;        /* same family */
    uint8_t method;          /* enum rg_method */
    /* The flow id: what a load balancer sees change between flows, the one
     * field to vary for another path. TCP/UDP: the source port; ICMP: the
     * echo identifier and the (constant) checksum. */
    uint16_t flow;
    uint16_t dport;          /* TCP/UDP; unused for ICMP */
    uint8_t ttl;
    uint32_t seq;            /* TCP sequence number; UDP/ICMP: first payload bytes */
    uint16_t ident;          /* UDP checksum / ICMP sequence number: rg_probe_ident */
    uint16_t ip_id;          /* IPv4 only */
    uint32_t flow_label;     /* IPv6 only, 20 bits */
} rg_probe_spec;

/* Writes the IP header and the method's probe into buf; returns the length,
 * or 0 if buf is too small or the spec is inconsistent. Checksums are
 * computed here (the kernel does not touch a header-included checksum). */
size_t rg_probe_build(const rg_probe_spec *s, uint8_t *buf, size_t len);

uint32_t rg_probe_seq(uint32_t base, unsigned ttl, unsigned attempt);
/* The 16-bit identity of UDP and ICMP probes, from the same secret base. */
uint16_t rg_probe_ident(uint32_t base, unsigned ttl, unsigned attempt);
/* Inverse of rg_probe_ident. */
bool rg_probe_identity16(uint32_t base, uint16_t ident, unsigned *ttl,
                         unsigned *attempt);
/* The IP protocol number of a method's probes for a family (6, 17, 1, 58). */
uint8_t rg_method_proto(uint8_t method, uint8_t family);
/* "tcp", "udp", "icmp"; and back (false if unknown). */
const char *rg_method_name(uint8_t method);
bool rg_method_parse(const char *name, uint8_t *method);
uint16_t rg_probe_ip_id(uint32_t base, unsigned ttl, unsigned attempt);
/* Inverse of rg_probe_seq; false if seq is not base + a valid identity. */
bool rg_probe_identity(uint32_t base, uint32_t seq, unsigned *ttl,
                       unsigned *attempt);

/* Internet checksum of a transport segment (proto: 6 TCP, 17 UDP, 58 ICMPv6) with
 * the IPv4 or IPv6 pseudo-header. */
uint16_t rg_l4_checksum(const rg_addr *src, const rg_addr *dst, uint8_t proto,
                        const uint8_t *seg, size_t len);
/* Internet checksum of the TCP segment with its pseudo-header. */
uint16_t rg_tcp_checksum(const rg_addr *src, const rg_addr *dst,
                         const uint8_t *seg, size_t len);
/* Plain one's-complement sum folded to 16 bits (IPv4 header, ICMP). */
uint16_t rg_inet_checksum(const uint8_t *p, size_t len);

#endif
