/* addr: one IPv4 or IPv6 address as plain bytes, so traces, replies and
 * lookup keys compare and hash without sockaddr juggling. */
#ifndef RG_ADDR_H
#define RG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* family of a lookup key that stands for something other than an address
 * (the prober, a destination prefix, a TTL position); never formatted or
 * sent to, it compares and hashes on all 16 bytes. */
#define RG_ADDR_KEY 255

typedef struct rg_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t bytes[16]; /* IPv4 uses the first 4 */
} rg_addr;

/* Parses a numeric IPv4 or IPv6 literal; false if it is neither. */
bool rg_addr_parse(const char *text, rg_addr *out);
/* "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT" (a bare IPv6 address
 * is taken whole, without a port); *port is default_port when none is
 * given. False (addr unset) for anything else, port 0 included. */
bool rg_addr_parse_endpoint(const char *text, uint16_t default_port, rg_addr *addr,
                            uint16_t *port);
/* Writes the canonical text form into buf (RG_ADDR_STRLEN bytes). */
const char *rg_addr_format(const rg_addr *a, char *buf, size_t len);
/* rg_addr_parse_endpoint's counterpart, the one way every output writes a
 * service: "ADDR:PORT" for IPv4, "[V6ADDR]:PORT" for IPv6, into buf
 * (RG_ENDPOINT_STRLEN bytes). */
#define RG_ENDPOINT_STRLEN (RG_ADDR_STRLEN + 8)
const char *rg_addr_format_endpoint(const rg_addr *a, uint16_t port, char *buf, size_t len);
bool rg_addr_equal(const rg_addr *a, const rg_addr *b);
size_t rg_addr_len(const rg_addr *a);
/* Byte-wise order: IPv4 before IPv6, then numeric. */
int rg_addr_compare(const rg_addr *a, const rg_addr *b);
/* A well-mixed hash of the address and seed, for hash tables. */
uint64_t rg_addr_hash(const rg_addr *a, uint64_t seed);
/* True for addresses inside the documentation/benchmark ranges the lab uses. */
bool rg_addr_is_lab(const rg_addr *a);
/* True for special-purpose addresses no registry places anywhere (RFC 6890
 * and friends): unspecified, loopback, private and shared, link-local,
 * documentation, benchmarking, unique-local, multicast, reserved. */
bool rg_addr_is_special(const rg_addr *a);

#endif
