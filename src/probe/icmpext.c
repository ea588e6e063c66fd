#include "icmpext.h"

#include "../util/utf8.h"
#include "probe.h"
#include "wire.h"

#define QUOTE_MIN 128u         /* RFC 4884: the padded original datagram */
#define HDR_LEN 8u             /* type, code, checksum, 4 bytes of the rest */
#define EXT_VERSION 2u
#define CLASS_MPLS 1u          /* RFC 4950 */
#define CTYPE_MPLS_STACK 1u
#define CLASS_IFINFO 2u        /* RFC 5837 */
#define AFI_IPV4 1u
#define AFI_IPV6 2u

typedef enum rg_icmpext_status status;

/* Only these two kinds may carry an extension (RFC 4884 §4, §5). */
static bool may_extend(uint8_t family, uint8_t type)
{
    if (family == 4)
        return type == 3 || type == 11;
    return family == 6 && (type == 1 || type == 3);
}

/* Counts what the bounds left out, saturating: a stack may hold 16,383. */
static void drop(rg_icmpext *e)
{
    if (e->dropped < UINT8_MAX)
        e->dropped++;
}

/* RFC 4950: each entry label 20 bits, TC 3, S 1, TTL 8. */
static status mpls_object(rg_cur c, rg_icmpext *e)
{
    if (rg_cur_left(&c) % 4 != 0)
        return RG_ICMPEXT_MALFORMED;
    uint32_t w;
    while (rg_get_be32(&c, &w)) {
        if (e->nlabels == RG_ICMPEXT_MAX_LABELS) {
            drop(e);
            continue;
        }
        rg_mpls_lse *l = &e->labels[e->nlabels++];
        l->label = w >> 12;
        l->tc = (uint8_t)(w >> 9 & 7);
        l->s = (uint8_t)(w >> 8 & 1);
        l->ttl = (uint8_t)w;
    }
    return RG_ICMPEXT_OK;
}

/* RFC 5837 IP address sub-object: AFI, reserved, the address. */
static status if_addr(rg_cur *c, rg_ifinfo *f)
{
    uint16_t afi, reserved;
    if (!rg_get_be16(c, &afi) || !rg_get_be16(c, &reserved))
        return RG_ICMPEXT_MALFORMED;
    if (afi != AFI_IPV4 && afi != AFI_IPV6)
        return RG_ICMPEXT_MALFORMED;
    f->addr.family = afi == AFI_IPV4 ? 4 : 6;
    if (!rg_get_bytes(c, f->addr.bytes, afi == AFI_IPV4 ? 4 : 16))
        return RG_ICMPEXT_MALFORMED;
    return RG_ICMPEXT_OK;
}

/* RFC 5837 name sub-object: a length byte counting itself, a multiple of
 * 4 up to 64, then the name padded with NULs. A name that fails the
 * outside-text test is skipped, not an error: the rest is still good. */
static status if_name(rg_cur *c, rg_ifinfo *f)
{
    uint8_t len;
    if (!rg_get_u8(c, &len) || len < 4 || len > 64 || len % 4 != 0)
        return RG_ICMPEXT_MALFORMED;
    char raw[64];
    size_t n = (size_t)len - 1;
    if (!rg_get_bytes(c, raw, n))
        return RG_ICMPEXT_MALFORMED;
    size_t used = 0;
    while (used < n && raw[used] != '\0')
        used++;
    if (used == 0 || !rg_utf8_name_ok(raw, used))
        return RG_ICMPEXT_OK;
    memcpy(f->name, raw, used);
    f->name[used] = '\0';
    f->has |= RG_IF_HAS_NAME;
    return RG_ICMPEXT_OK;
}

/* RFC 5837 interface information object: the c-type says which
 * sub-objects follow, in the order ifIndex, address, name, MTU. */
static status ifinfo_object(rg_cur c, uint8_t ctype, rg_icmpext *e)
{
    rg_ifinfo tmp = {0};
    rg_ifinfo *f = e->nifs < RG_ICMPEXT_MAX_IFS ? &e->ifs[e->nifs] : &tmp;
    memset(f, 0, sizeof *f);
    f->role = (uint8_t)(ctype >> 6);
    status st = RG_ICMPEXT_OK;
    if (ctype & RG_IF_HAS_IFINDEX) {
        if (!rg_get_be32(&c, &f->ifindex))
            return RG_ICMPEXT_MALFORMED;
        f->has |= RG_IF_HAS_IFINDEX;
    }
    if (ctype & RG_IF_HAS_ADDR) {
        if ((st = if_addr(&c, f)) != RG_ICMPEXT_OK)
            return st;
        f->has |= RG_IF_HAS_ADDR;
    }
    if ((ctype & RG_IF_HAS_NAME) && (st = if_name(&c, f)) != RG_ICMPEXT_OK)
        return st;
    if (ctype & RG_IF_HAS_MTU) {
        if (!rg_get_be32(&c, &f->mtu))
            return RG_ICMPEXT_MALFORMED;
        f->has |= RG_IF_HAS_MTU;
    }
    if (f == &tmp)
        drop(e);
    else
        e->nifs++;
    return RG_ICMPEXT_OK;
}

static status object(uint8_t cls, uint8_t ctype, rg_cur body, rg_icmpext *e)
{
    if (cls == CLASS_MPLS && ctype == CTYPE_MPLS_STACK)
        return mpls_object(body, e);
    if (cls == CLASS_IFINFO)
        return ifinfo_object(body, ctype, e);
    return RG_ICMPEXT_OK; /* a class we do not show */
}

/* The objects after the 4-byte extension header, each a length (with its
 * own 4-byte header), a class and a c-type. */
static status objects(rg_cur c, rg_icmpext *e)
{
    for (unsigned i = 0; rg_cur_left(&c) > 0; i++) {
        if (i == RG_ICMPEXT_MAX_OBJECTS) {
            drop(e); /* more objects than we walk: the rest unread */
            return RG_ICMPEXT_OK;
        }
        uint16_t olen;
        uint8_t cls, ctype;
        if (!rg_get_be16(&c, &olen) || !rg_get_u8(&c, &cls) || !rg_get_u8(&c, &ctype))
            return RG_ICMPEXT_MALFORMED;
        if (olen < 4)
            return RG_ICMPEXT_MALFORMED; /* would never advance */
        rg_cur body = c;
        if (!rg_cur_narrow(&body, (size_t)olen - 4) || !rg_cur_skip(&c, (size_t)olen - 4))
            return RG_ICMPEXT_MALFORMED;
        status st = object(cls, ctype, body, e);
        if (st != RG_ICMPEXT_OK)
            return st;
    }
    return RG_ICMPEXT_OK;
}

/* The structure at ext[0..len): header, checksum over all of it, objects.
 * A zero checksum means none was sent (RFC 4884 §7); only a message whose
 * length field places the structure may rely on that. */
static status structure(const uint8_t *ext, size_t len, bool compliant, rg_icmpext *e)
{
    rg_cur c = rg_cur_make(ext, len);
    uint8_t vers;
    uint16_t sum;
    if (!rg_get_u8(&c, &vers) || !rg_cur_skip(&c, 1) || !rg_get_be16(&c, &sum))
        return RG_ICMPEXT_MALFORMED;
    if (vers >> 4 != EXT_VERSION)
        return RG_ICMPEXT_BAD_VERSION;
    if ((sum != 0 || !compliant) && rg_inet_checksum(ext, len) != 0)
        return RG_ICMPEXT_BAD_CHECKSUM;
    e->compliant = compliant;
    return objects(c, e);
}

enum rg_icmpext_status rg_icmpext_parse(uint8_t family, const uint8_t *icmp,
                                        size_t len, rg_icmpext *out)
{
    rg_icmpext_clear(out);
    rg_cur c = rg_cur_make(icmp, len);
    uint8_t type, b4, b5;
    if (!rg_get_u8(&c, &type) || !rg_cur_skip(&c, 3) || !rg_get_u8(&c, &b4) ||
        !rg_get_u8(&c, &b5) || !rg_cur_skip(&c, 2))
        return RG_ICMPEXT_NONE;
    if (!may_extend(family, type))
        return RG_ICMPEXT_NONE;
    /* IPv4 keeps the length in the sixth byte, in 32-bit words; ICMPv6 in
     * the fifth, in 64-bit words. */
    size_t quote = family == 4 ? (size_t)b5 * 4 : (size_t)b4 * 8;
    size_t body = rg_cur_left(&c);
    status st;
    if (quote == 0) {
        /* Pre-RFC 4884 layout: only a header that checks out counts. */
        if (body < QUOTE_MIN + 4)
            return RG_ICMPEXT_NONE;
        st = structure(c.p + QUOTE_MIN, body - QUOTE_MIN, false, out);
        if (st != RG_ICMPEXT_OK && st != RG_ICMPEXT_MALFORMED)
            st = RG_ICMPEXT_NONE; /* the quote's own bytes, not an extension */
    } else if (quote > body) {
        st = RG_ICMPEXT_MALFORMED;
    } else if (quote == body) {
        return RG_ICMPEXT_NONE;
    } else if (quote < QUOTE_MIN) {
        st = RG_ICMPEXT_MALFORMED;
    } else {
        st = structure(c.p + quote, body - quote, true, out);
    }
    if (st != RG_ICMPEXT_OK)
        rg_icmpext_clear(out);
    return st;
}

const char *rg_if_role_name(enum rg_if_role r)
{
    switch (r) {
    case RG_IF_INCOMING: return "incoming";
    case RG_IF_SUB_IP: return "sub-ip";
    case RG_IF_OUTGOING: return "outgoing";
    case RG_IF_NEXT_HOP: return "next-hop";
    }
    return "unknown";
}
