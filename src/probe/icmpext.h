/* icmpext: the RFC 4884 extension structure of an ICMP time exceeded or
 * destination unreachable, IPv4 and ICMPv6, parsed once into a fixed-size
 * record: the MPLS label stack a router saw (RFC 4950) and the interface
 * information it gave (RFC 5837: role, ifIndex, address, name, MTU).
 *
 * Pure and bounded: every byte is read through wire.h's cursor, the
 * structure's checksum is verified, at most RG_ICMPEXT_MAX_OBJECTS objects
 * are walked and at most RG_ICMPEXT_MAX_LABELS labels and
 * RG_ICMPEXT_MAX_IFS interface objects are kept (the rest is counted as
 * dropped). A name that is not valid UTF-8 without control characters is
 * not kept (util/utf8's rg_utf8_name_ok); a kept name is still untrusted
 * text that every output escapes.
 *
 * Where the structure starts: RFC 4884's length field gives the length of
 * the quoted datagram (32-bit words for IPv4, 64-bit words for ICMPv6),
 * at least 128 bytes when an extension follows. A length of 0 is the
 * layout routers used before RFC 4884 (and still send): a valid header
 * (version 2, checksum right) after a fixed 128-byte quote is taken as an
 * extension, as Linux traceroute and mtr do. */
#ifndef RG_ICMPEXT_H
#define RG_ICMPEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_ICMPEXT_MAX_LABELS 8
#define RG_ICMPEXT_MAX_IFS 4
#define RG_ICMPEXT_MAX_OBJECTS 16
#define RG_ICMPEXT_NAME_MAX 63 /* RFC 5837: 64-byte sub-object, 1 length byte */

enum rg_icmpext_status {
    RG_ICMPEXT_NONE = 0,       /* no extension structure (not an error) */
    RG_ICMPEXT_OK,
    RG_ICMPEXT_BAD_CHECKSUM,   /* the length field says one is there; its checksum is wrong */
    RG_ICMPEXT_BAD_VERSION,    /* the same, with a version other than 2 */
    RG_ICMPEXT_MALFORMED,      /* a length pointing past the end, a short object ... */
};

/* One MPLS label stack entry (RFC 4950 / RFC 3032). */
typedef struct rg_mpls_lse {
    uint32_t label;            /* 20 bits */
    uint8_t tc;                /* traffic class (was EXP), 3 bits */
    uint8_t s;                 /* bottom of stack, 1 bit */
    uint8_t ttl;
} rg_mpls_lse;

/* RFC 5837 interface roles (the c-type's two high bits). */
enum rg_if_role {
    RG_IF_INCOMING = 0,        /* the interface the probe arrived on */
    RG_IF_SUB_IP = 1,          /* a sub-IP component of it */
    RG_IF_OUTGOING = 2,        /* the interface it would have left by */
    RG_IF_NEXT_HOP = 3,        /* the next hop it would have gone to */
};

/* What an interface object carries (the c-type's low bits, RFC 5837). */
#define RG_IF_HAS_IFINDEX 0x08u
#define RG_IF_HAS_ADDR 0x04u
#define RG_IF_HAS_NAME 0x02u
#define RG_IF_HAS_MTU 0x01u

typedef struct rg_ifinfo {
    uint8_t role;              /* enum rg_if_role */
    uint8_t has;               /* RG_IF_HAS_*: what was sent and kept */
    uint32_t ifindex;
    rg_addr addr;
    uint32_t mtu;
    char name[RG_ICMPEXT_NAME_MAX + 1]; /* NUL-terminated; untrusted */
} rg_ifinfo;

typedef struct rg_icmpext {
    uint8_t nlabels;
    uint8_t nifs;
    bool compliant;            /* placed by the length field; false: pre-RFC 4884 layout */
    uint8_t dropped;           /* labels and interface objects past the bounds, plus
                                * 1 when objects past the 16th went unread; saturates */
    rg_mpls_lse labels[RG_ICMPEXT_MAX_LABELS]; /* top of the stack first */
    rg_ifinfo ifs[RG_ICMPEXT_MAX_IFS];
} rg_icmpext;

/* icmp[0..len): a whole ICMP message, type byte first, of family 4
 * (ICMPv4) or 6 (ICMPv6). Fills *out on RG_ICMPEXT_OK; any other status
 * leaves it empty (rg_icmpext_clear). Messages other than time exceeded
 * and destination unreachable have no extension: RG_ICMPEXT_NONE. Only
 * the entries below nlabels / nifs are written: readers go no further. */
enum rg_icmpext_status rg_icmpext_parse(uint8_t family, const uint8_t *icmp,
                                        size_t len, rg_icmpext *out);

/* Empties the record without touching its 450 bytes of entries: every
 * received ICMP error passes here, most with no extension at all. */
static inline void rg_icmpext_clear(rg_icmpext *e)
{
    e->nlabels = e->nifs = e->dropped = 0;
    e->compliant = false;
}

/* Whether the record holds anything to show. */
static inline bool rg_icmpext_any(const rg_icmpext *e)
{
    return e->nlabels > 0 || e->nifs > 0;
}

/* "incoming", "sub-ip", "outgoing", "next-hop". */
const char *rg_if_role_name(enum rg_if_role r);

#endif
