/* asdb_index.c: the AS index file format: table layout, checksum, every
 * field validated on open, atomic write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asdb_int.h"
#include "../util/utf8.h"
#include "../util/atomic.h"

const char rg_asdb_idx_magic[RG_ASDB_IDX_MAGIC_LEN] = {'R', 'G', 'A', 'S', 'I', 'D', 'X', '\n'};

/* ---------------------------------------------------------------------------
 * The table layout, shared by the in-memory database and the index file, so
 * an index is the memory image of a loaded database behind a header.
 * ------------------------------------------------------------------------- */

static uint64_t align8(uint64_t x)
{
    return (x + 7) & ~(uint64_t)7;
}

bool rg_asdb_layout_of(uint64_t n4, uint64_t n6, uint64_t norgs, uint64_t slen, layout *l)
{
    if (n4 > IDX_MAX_COUNT || n6 > IDX_MAX_COUNT || norgs > IDX_MAX_COUNT ||
        slen > IDX_MAX_STRINGS)
        return false;
    uint64_t p = sizeof(idx_header);
    l->s4 = p, p += 4 * n4;
    l->e4 = p, p += 4 * n4;
    l->asn4 = p, p += 4 * n4;
    l->org4 = p, p += 4 * n4;
    p = align8(p);
    l->s6 = p, p += 16 * n6;
    l->e6 = p, p += 16 * n6;
    l->asn6 = p, p += 4 * n6;
    l->org6 = p, p += 4 * n6;
    l->off = p, p += 4 * norgs;
    l->str = p, p += slen;
    l->total = align8(p);
    return l->total <= SIZE_MAX;
}

/* Four independent lanes keep the multiplies pipelined: a full index
 * checksums in a few milliseconds. */
static uint64_t checksum(const uint8_t *p, size_t n)
{
    uint64_t h[4] = {0x243f6a8885a308d3u, 0x13198a2e03707344u,
                     0xa4093822299f31d0u, 0x082efa98ec4e6c89u};
    size_t words = n / 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        uint64_t *x = &h[i & 3];
        *x = (*x ^ w) * 0x9e3779b97f4a7c15u;
        *x ^= *x >> 31;
    }
    uint64_t r = n;
    for (int i = 0; i < 4; i++)
        r = (r ^ h[i]) * 0xff51afd7ed558ccdu, r ^= r >> 33;
    return r;
}

bool rg_asdb_has_index_magic(const char *buf, size_t len)
{
    return len >= RG_ASDB_IDX_MAGIC_LEN && memcmp(buf, rg_asdb_idx_magic, RG_ASDB_IDX_MAGIC_LEN) == 0;
}

void rg_asdb_fill_image(uint8_t *img, const layout *l, const rawvec *v4, const rawvec *v6,
                       const rg_asdb_builder *b)
{
    idx_header *h = (idx_header *)img;
    memcpy(h->magic, rg_asdb_idx_magic, RG_ASDB_IDX_MAGIC_LEN);
    h->version = IDX_VERSION;
    h->byte_order = IDX_ORDER;
    h->n4 = (uint32_t)v4->n;
    h->n6 = (uint32_t)v6->n;
    h->norgs = (uint32_t)b->norgs;
    h->kind = (uint32_t)b->kind;
    h->strings_len = b->slen;
    h->file_size = l->total;
    uint32_t *s4 = (uint32_t *)(img + l->s4), *e4 = (uint32_t *)(img + l->e4);
    uint32_t *a4 = (uint32_t *)(img + l->asn4), *o4 = (uint32_t *)(img + l->org4);
    for (size_t i = 0; i < v4->n; i++) {
        s4[i] = (uint32_t)v4->v[i].s.lo;
        e4[i] = (uint32_t)v4->v[i].e.lo;
        a4[i] = v4->v[i].asn;
        o4[i] = v4->v[i].org;
    }
    uint64_t *s6 = (uint64_t *)(img + l->s6), *e6 = (uint64_t *)(img + l->e6);
    uint32_t *a6 = (uint32_t *)(img + l->asn6), *o6 = (uint32_t *)(img + l->org6);
    for (size_t i = 0; i < v6->n; i++) {
        s6[i] = v6->v[i].s.hi, s6[v6->n + i] = v6->v[i].s.lo;
        e6[i] = v6->v[i].e.hi, e6[v6->n + i] = v6->v[i].e.lo;
        a6[i] = v6->v[i].asn;
        o6[i] = v6->v[i].org;
    }
    memcpy(img + l->off, b->off, b->norgs * sizeof *b->off);
    memcpy(img + l->str, b->str, b->slen);
    h->checksum = checksum(img + sizeof *h, l->total - sizeof *h);
}

/* ---------------------------------------------------------------------------
 * Index files.
 * ------------------------------------------------------------------------- */

/* s and e hold n high halves, then n low halves. */
static bool keys_ascending(const uint64_t *s, const uint64_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        key si = {s[i], s[n + i]}, ei = {e[i], e[n + i]};
        if (key_cmp(si, ei) > 0)
            return false;
        if (i > 0) {
            key prev = {e[i - 1], e[n + i - 1]};
            if (key_cmp(si, prev) <= 0)
                return false;
        }
    }
    return true;
}

/* A country index's values are two upper-case letters, and it names no
 * organisation (its organisation table holds only the empty one). */
static bool value_ok(enum rg_asdb_kind kind, uint32_t v)
{
    if (kind == RG_ASDB_AS)
        return v != 0;
    uint32_t a = v >> 8, b = v & 0xff;
    return v <= 0xffff && a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z';
}

/* Everything a lookup relies on, checked once, so lookups need no checks. */
static const char *validate_image(const uint8_t *img, size_t len, enum rg_asdb_kind kind)
{
    if (len < sizeof(idx_header) || !rg_asdb_has_index_magic((const char *)img, len))
        return kind == RG_ASDB_COUNTRY ? "not a routegraph country index"
                                       : "not a routegraph AS index";
    const idx_header *h = (const idx_header *)img;
    if (h->byte_order != IDX_ORDER)
        return "written on a machine of another byte order";
    if (h->version != IDX_VERSION)
        return "unsupported index version (recompile it)";
    if (h->kind != (uint32_t)kind)
        return kind == RG_ASDB_AS ? "a country index, not an AS index"
                                  : "an AS index, not a country index";
    if (kind == RG_ASDB_COUNTRY && h->norgs != 1)
        return "bad organisation table";
    layout l;
    if (!rg_asdb_layout_of(h->n4, h->n6, h->norgs, h->strings_len, &l) ||
        h->file_size != l.total || l.total != len)
        return "size does not match its header (truncated?)";
    if (checksum(img + sizeof *h, len - sizeof *h) != h->checksum)
        return "checksum mismatch";
    const uint32_t *s4 = (const uint32_t *)(img + l.s4), *e4 = (const uint32_t *)(img + l.e4);
    const uint32_t *a4 = (const uint32_t *)(img + l.asn4), *o4 = (const uint32_t *)(img + l.org4);
    const uint32_t *a6 = (const uint32_t *)(img + l.asn6), *o6 = (const uint32_t *)(img + l.org6);
    const uint32_t *off = (const uint32_t *)(img + l.off);
    const char *str = (const char *)(img + l.str);
    uint64_t slen = h->strings_len;
    if (h->norgs == 0 || slen == 0 || str[0] != '\0' || str[slen - 1] != '\0' || off[0] != 0)
        return "bad organisation table";
    for (uint32_t i = 1; i < h->norgs; i++) {
        if (off[i] == 0 || off[i] >= slen || str[off[i] - 1] != '\0' ||
            !rg_utf8_name_ok(str + off[i], strlen(str + off[i])))
            return "bad organisation string";
    }
    for (uint32_t i = 0; i < h->n4; i++) {
        if (s4[i] > e4[i] || (i > 0 && s4[i] <= e4[i - 1]) || !value_ok(kind, a4[i]) ||
            o4[i] >= h->norgs)
            return "bad IPv4 range table";
    }
    if (!keys_ascending((const uint64_t *)(img + l.s6), (const uint64_t *)(img + l.e6), h->n6))
        return "bad IPv6 range table";
    for (uint32_t i = 0; i < h->n6; i++)
        if (!value_ok(kind, a6[i]) || o6[i] >= h->norgs)
            return "bad IPv6 range table";
    return NULL;
}

rg_asdb *rg_asdb_open_index(const char *path, char *err, size_t errlen)
{
    return rg_asdb_open_index_kind(RG_ASDB_AS, path, err, errlen);
}

rg_asdb *rg_asdb_open_index_kind(enum rg_asdb_kind kind, const char *path, char *err,
                                 size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size < (off_t)sizeof(idx_header) || (uint64_t)st.st_size > SIZE_MAX)
        why = "size does not match its header (truncated?)";
    if (why) {
        snprintf(err, errlen, "%s: damaged %s: %s", path, rg_asdb_kind_index(kind), why);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return NULL;
    }
    why = validate_image(map, len, kind);
    rg_asdb *db = why ? NULL : calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "%s: damaged %s: %s", path, rg_asdb_kind_index(kind),
                 why ? why : "out of memory");
        munmap(map, len);
        return NULL;
    }
    if (!rg_asdb_attach(db, map, len)) {
        db->image = map, db->image_len = len;
        rg_asdb_free(db);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    db->info.from_index = true;
    return db;
}

static bool write_image(FILE *f, const void *ctx)
{
    const rg_asdb *db = ctx;
    return fwrite(db->image, 1, db->image_len, f) == db->image_len;
}

bool rg_asdb_write_index(const rg_asdb *db, const char *path, char *err, size_t errlen)
{
    return rg_write_atomic(path, write_image, db, err, errlen);
}
