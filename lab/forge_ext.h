/* forge_ext: the extension path of rg-lab-forge (-x): what each of its
 * fictitious routers appends to its ICMP time exceeded (and the last one
 * to its destination unreachable), as RFC 4884
 * extension structures (RFC 4950 MPLS label stacks, RFC 5837 interface
 * information), one of them in the pre-RFC 4884 layout. lab/topology.json
 * ("forger" / "extension_path") states the same per hop; the integration
 * test compares routegraph's output with it. */
#ifndef RG_FORGE_EXT_H
#define RG_FORGE_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hops 1 .. RG_FORGE_EXT_DEPTH - 1 answer time exceeded; the destination
 * is RG_FORGE_EXT_DEPTH hops away. */
#define RG_FORGE_EXT_DEPTH 6
#define RG_FORGE_EXT_MAX 256 /* bytes of one structure, at most */

/* Writes hop ttl's extension structure (header with its checksum and the
 * objects) into out; returns its length, 0 when the hop sends none.
 * *compliant: placed by the length field (true) or after a fixed 128-byte
 * quote with length 0 (false). router: the hop's own address (4 or 16
 * bytes, by family 4 or 6), which its interface object names. */
size_t rg_forge_ext_hop(int family, unsigned ttl, const uint8_t *router, uint8_t *out,
                        bool *compliant);

/* -x: a SYN to an address whose last byte is this, reaching the depth, is
 * refused by router RG_FORGE_EXT_DEPTH with a destination unreachable,
 * administratively prohibited (ICMP code 13, ICMPv6 code 1). */
#define RG_FORGE_EXT_UNREACH_HOST 7
#define RG_FORGE_UNREACH_CODE4 13
#define RG_FORGE_UNREACH_CODE6 1

/* The extension structure of that unreachable (RFC 4884 layout): one MPLS
 * label and the incoming interface, as rg_forge_ext_hop writes them. */
size_t rg_forge_ext_unreach(int family, const uint8_t *router, uint8_t *out);

#endif
