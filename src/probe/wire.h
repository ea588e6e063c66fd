/* wire: bounds-checked reading and writing of packet bytes.
 *
 * Every read of a received packet goes through an rg_cur, a (position, end)
 * window in the style of tcpdump's GET_BE_U_2(): a read that would pass the
 * end fails and leaves the value untouched, so a short packet is an ordinary,
 * handled case. Values are assembled byte by byte, so byte order and
 * alignment never matter and no struct is ever cast onto a buffer. */
#ifndef RG_WIRE_H
#define RG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rg_cur {
    const uint8_t *p;
    const uint8_t *end;
} rg_cur;

static inline rg_cur rg_cur_make(const void *buf, size_t len)
{
    rg_cur c = {(const uint8_t *)buf, (const uint8_t *)buf + len};
    return c;
}

static inline size_t rg_cur_left(const rg_cur *c)
{
    return (size_t)(c->end - c->p);
}

/* The one bounds check: no pointer arithmetic past end, no overflow. */
static inline bool rg_cur_has(const rg_cur *c, size_t n)
{
    return rg_cur_left(c) >= n;
}

static inline bool rg_cur_skip(rg_cur *c, size_t n)
{
    if (!rg_cur_has(c, n))
        return false;
    c->p += n;
    return true;
}

/* Narrows the window to the next n bytes (e.g. a declared length), which
 * must all be present. */
static inline bool rg_cur_narrow(rg_cur *c, size_t n)
{
    if (!rg_cur_has(c, n))
        return false;
    c->end = c->p + n;
    return true;
}

static inline bool rg_get_u8(rg_cur *c, uint8_t *v)
{
    if (!rg_cur_has(c, 1))
        return false;
    *v = c->p[0];
    c->p += 1;
    return true;
}

static inline bool rg_get_be16(rg_cur *c, uint16_t *v)
{
    if (!rg_cur_has(c, 2))
        return false;
    *v = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    return true;
}

static inline bool rg_get_be32(rg_cur *c, uint32_t *v)
{
    if (!rg_cur_has(c, 4))
        return false;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
         (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return true;
}

static inline bool rg_get_bytes(rg_cur *c, void *out, size_t n)
{
    if (!rg_cur_has(c, n))
        return false;
    memcpy(out, c->p, n);
    c->p += n;
    return true;
}

/* Writing into our own fixed-size buffers; the caller sized them. */
static inline void rg_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void rg_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
