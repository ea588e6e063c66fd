#include "forge_ext.h"

#include <string.h>

#include "../src/probe/probe.h"
#include "../src/probe/wire.h"

/* Appends an object header for a payload of len bytes. */
static uint8_t *object(uint8_t *p, uint8_t cls, uint8_t ctype, size_t len)
{
    rg_put_be16(p, (uint16_t)(4 + len));
    p[2] = cls;
    p[3] = ctype;
    return p + 4;
}

/* One RFC 4950 stack entry: label 20 bits, TC 3, S 1, TTL 8. */
static uint8_t *lse(uint8_t *p, uint32_t label, unsigned tc, unsigned s, unsigned ttl)
{
    rg_put_be32(p, label << 12 | tc << 9 | s << 8 | ttl);
    return p + 4;
}

/* RFC 5837 name sub-object: length byte (itself included) rounded up to 4. */
static size_t name_len(const char *name)
{
    return (1 + strlen(name) + 3) / 4 * 4;
}

static uint8_t *name_sub(uint8_t *p, const char *name)
{
    size_t n = name_len(name);
    memset(p, 0, n);
    p[0] = (uint8_t)n;
    memcpy(p + 1, name, strlen(name));
    return p + n;
}

/* ctype bits: role << 6 | ifIndex 0x08 | address 0x04 | name 0x02 | MTU 0x01. */
static uint8_t *ifinfo(uint8_t *p, unsigned role, const uint32_t *ifindex, int family,
                       const uint8_t *addr, const char *name, const uint32_t *mtu)
{
    size_t alen = family == 4 ? 4 : 16;
    size_t len = (ifindex ? 4 : 0) + (addr ? 4 + alen : 0) + (name ? name_len(name) : 0) +
                 (mtu ? 4 : 0);
    uint8_t ctype = (uint8_t)(role << 6 | (ifindex ? 0x08 : 0) | (addr ? 0x04 : 0) |
                              (name ? 0x02 : 0) | (mtu ? 0x01 : 0));
    p = object(p, 2, ctype, len);
    if (ifindex) {
        rg_put_be32(p, *ifindex);
        p += 4;
    }
    if (addr) {
        rg_put_be16(p, family == 4 ? 1 : 2);
        rg_put_be16(p + 2, 0);
        memcpy(p + 4, addr, alen);
        p += 4 + alen;
    }
    if (name)
        p = name_sub(p, name);
    if (mtu) {
        rg_put_be32(p, *mtu);
        p += 4;
    }
    return p;
}

/* The version 2 header with the checksum of the whole structure. */
static size_t finish(uint8_t *out, const uint8_t *end)
{
    size_t len = (size_t)(end - out);
    out[0] = 0x20; /* version 2 */
    out[1] = 0;
    rg_put_be16(out + 2, 0);
    rg_put_be16(out + 2, rg_inet_checksum(out, len));
    return len;
}

size_t rg_forge_ext_unreach(int family, const uint8_t *router, uint8_t *out)
{
    static const uint32_t if3 = 3, mtu1400 = 1400;
    uint8_t *p = out + 4;
    p = object(p, 1, 1, 4);
    p = lse(p, 4242, 0, 1, 1);
    p = ifinfo(p, 0, &if3, family, router, "fw-in<0>", &mtu1400);
    return finish(out, p);
}

size_t rg_forge_ext_hop(int family, unsigned ttl, const uint8_t *router, uint8_t *out,
                        bool *compliant)
{
    static const uint32_t if7 = 7, if12 = 12, mtu1500 = 1500, mtu9000 = 9000;
    uint8_t *p = out + 4;
    *compliant = true;
    switch (ttl) {
    case 2: /* an LSR: two labels, the bottom one with TC 5 */
        p = object(p, 1, 1, 8);
        p = lse(p, 24005, 0, 0, 1);
        p = lse(p, 16, 5, 1, 1);
        break;
    case 3: /* an older LSR: the pre-RFC 4884 layout */
        *compliant = false;
        p = object(p, 1, 1, 4);
        p = lse(p, 299776, 0, 1, 254);
        break;
    case 4: /* RFC 5837: the incoming interface in full, the outgoing one
             * with a name no output may show (ESC), so only its ifIndex */
        p = ifinfo(p, 0, &if7, family, router, "ge-0/0/1.0", &mtu1500);
        p = ifinfo(p, 2, &if12, family, NULL, "xe-1/2/0\x1b[31m", NULL);
        break;
    case 5: /* both: a label and a name every output must escape */
        p = object(p, 1, 1, 4);
        p = lse(p, 17, 2, 1, 64);
        p = ifinfo(p, 0, NULL, family, NULL, "ae1.0 \"core\" <&>", &mtu9000);
        break;
    default:
        return 0;
    }
    return finish(out, p);
}
