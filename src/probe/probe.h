/* probe: the bytes of one TCP SYN probe, IP header included, and the
 * encoding of a probe's identity into fields that replies carry back.
 *
 * Paris-style: the 5-tuple (and the IPv6 flow label) is constant for a trace,
 * so ECMP routers keep every TTL of it on one path. What differs between the
 * probes of a trace is the TCP sequence number, seq = base + ttl * 8 + attempt,
 * which ICMP errors quote (it lies in the first 8 bytes of the TCP header) and
 * SYN-ACK / RST answer with ack = seq + 1. base is a per-trace secret, so a
 * blind forger has to guess 32 bits. For IPv4 the IP ID repeats the identity.
 * Identity TTL 0 names a trace's port probes, whatever IP TTL they carry. */
#ifndef RG_PROBE_H
#define RG_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_PROBE_MAXLEN 64   /* 40 (IPv6) + 24 (TCP with MSS option) */
#define RG_PROBE_ATTEMPT_BITS 3
#define RG_PROBE_TTL_MAX 255

typedef struct rg_probe_spec {
    rg_addr src, dst;        /* same family */
    uint16_t sport, dport;
    uint8_t ttl;
    uint32_t seq;
    uint16_t ip_id;          /* IPv4 only */
    uint32_t flow_label;     /* IPv6 only, 20 bits */
} rg_probe_spec;

/* Writes IP + TCP SYN into buf; returns the length, or 0 if buf is too small
 * or the spec is inconsistent. Checksums are computed here (the kernel does
 * not touch a header-included TCP checksum). */
size_t rg_probe_build(const rg_probe_spec *s, uint8_t *buf, size_t len);

uint32_t rg_probe_seq(uint32_t base, unsigned ttl, unsigned attempt);
uint16_t rg_probe_ip_id(uint32_t base, unsigned ttl, unsigned attempt);
/* Inverse of rg_probe_seq; false if seq is not base + a valid identity. */
bool rg_probe_identity(uint32_t base, uint32_t seq, unsigned *ttl,
                       unsigned *attempt);

/* Internet checksum of a transport segment (proto: 6 TCP, 58 ICMPv6) with
 * the IPv4 or IPv6 pseudo-header. */
uint16_t rg_l4_checksum(const rg_addr *src, const rg_addr *dst, uint8_t proto,
                        const uint8_t *seg, size_t len);
/* Internet checksum of the TCP segment with its pseudo-header. */
uint16_t rg_tcp_checksum(const rg_addr *src, const rg_addr *dst,
                         const uint8_t *seg, size_t len);
/* Plain one's-complement sum folded to 16 bits (IPv4 header, ICMP). */
uint16_t rg_inet_checksum(const uint8_t *p, size_t len);

#endif
