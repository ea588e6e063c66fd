/* asdb_int.h: what the files of the AS database share, and nothing outside
 * them includes: 128-bit keys, the table layout (one layout serves the
 * memory image and the index file), the database and builder structures.
 *
 *   asdb.c        lookups, loading, the data directory
 *   asdb_build.c  the builder: organisations interned, overlaps resolved, the image laid out
 *   asdb_csv.c    the CSV parser (ip-location-db format), feeding the builder
 *   asdb_index.c  the index file format: layout, checksum, validation, open, write */
#ifndef RG_ASDB_INT_H
#define RG_ASDB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asdb.h"

/* ---------------------------------------------------------------------------
 * 128-bit keys: IPv4 addresses are keys with hi == 0, so one code path sorts
 * and resolves both families.
 * ------------------------------------------------------------------------- */

typedef struct key {
    uint64_t hi, lo;
} key;

static inline int key_cmp(key a, key b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* False when k was the largest key (it wraps to zero). */
static inline bool key_inc(key *k)
{
    if (++k->lo != 0)
        return true;
    return ++k->hi != 0;
}

static inline key key_dec(key k)
{
    if (k.lo-- == 0)
        k.hi--;
    return k;
}

static inline key key_sub(key a, key b)
{
    key r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
    return r;
}

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---------------------------------------------------------------------------
 * The table layout, shared by the in-memory database and the index file, so
 * an index is the memory image of a loaded database behind a header.
 * ------------------------------------------------------------------------- */

#define IDX_VERSION 1u
#define IDX_ORDER 0x01020304u
#define IDX_MAX_COUNT (1u << 28)
#define IDX_MAX_STRINGS ((uint64_t)1 << 31)
#define RG_ASDB_IDX_MAGIC_LEN 8
extern const char rg_asdb_idx_magic[RG_ASDB_IDX_MAGIC_LEN];

typedef struct idx_header {
    char magic[8];
    uint32_t version, byte_order;
    uint32_t n4, n6, norgs, kind; /* kind: enum rg_asdb_kind (0 in old AS indexes) */
    uint64_t strings_len, file_size;
    uint64_t fingerprint; /* of the CSVs it was compiled from; 0 = none */
    uint64_t checksum;    /* of everything after the header */
    uint64_t reserved[4];
} idx_header;

_Static_assert(sizeof(idx_header) == 96, "index header layout");

typedef struct layout {
    uint64_t s4, e4, asn4, org4, s6, e6, asn6, org6, off, str, total;
} layout;

/* ---------------------------------------------------------------------------
 * The database and the builder.
 * ------------------------------------------------------------------------- */

struct rg_asdb {
    uint8_t *owned;       /* the image when built here (writable), else NULL */
    const uint8_t *image; /* header + tables, mapped: freed with munmap */
    size_t image_len;
    uint32_t n4, n6, norgs;
    const uint32_t *s4, *e4, *asn4, *org4;
    const uint64_t *s6h, *s6l, *e6h, *e6l; /* high and low halves, apart: the
                                              * search mostly reads only s6h */
    const uint32_t *asn6, *org6;
    const uint32_t *org_off;
    const char *strings;
    uint32_t *bucket4, *bucket6; /* NBUCKET+1: first range whose top 16 bits >= k;
                                  * NULL for small tables */
    enum rg_asdb_kind kind;
    rg_asdb_info info;
};

typedef struct raw {
    key s, e;
    uint32_t asn, org;
    uint32_t src, line; /* load order, and where to point messages */
} raw;

typedef struct rawvec {
    raw *v;
    size_t n, cap;
} rawvec;

struct rg_asdb_builder {
    rawvec fam[2]; /* IPv4, IPv6 */
    char **names;
    size_t nnames;
    char *str; /* "\0" then each organisation, NUL-terminated */
    size_t slen, scap;
    uint32_t *off, *hash; /* per organisation */
    size_t norgs, ocap;
    uint64_t *table; /* open addressing: hash << 32 | org id; 0 = empty slot */
    size_t tcap;
    uint32_t last_org; /* neighbouring lines usually share their organisation */
    enum rg_asdb_kind kind;
    rg_asdb_info info;
};

/* What to call a kind's database and index in messages. */
static inline const char *rg_asdb_kind_what(enum rg_asdb_kind kind)
{
    return kind == RG_ASDB_COUNTRY ? "country database" : "AS database";
}

static inline const char *rg_asdb_kind_index(enum rg_asdb_kind kind)
{
    return kind == RG_ASDB_COUNTRY ? "country index" : "AS index";
}

/* asdb_index.c */
bool rg_asdb_layout_of(uint64_t n4, uint64_t n6, uint64_t norgs, uint64_t slen, layout *l);
bool rg_asdb_has_index_magic(const char *buf, size_t len);
/* Writes header and tables of the resolved ranges into img (l->total bytes). */
void rg_asdb_fill_image(uint8_t *img, const layout *l, const rawvec *v4, const rawvec *v6,
                        const rg_asdb_builder *b);

/* asdb.c: points db's tables into image (header first); false on no memory. */
bool rg_asdb_attach(rg_asdb *db, const uint8_t *image, size_t len);

/* asdb_build.c */
bool rg_asdb_rawvec_reserve(rawvec *v, size_t need, bool populate);
void rg_asdb_rawvec_free(rawvec *v);
bool rg_asdb_grow(void **p, size_t *cap, size_t need, size_t elem);
/* The id of organisation p[0..n); 0 for "". False on no memory. */
bool rg_asdb_intern(rg_asdb_builder *b, const char *p, size_t n, uint32_t *id);
/* dst (RG_ASDB_MSGLEN bytes) = "NAME:LINE: why". */
void rg_asdb_set_msg(char *dst, const char *name, uint32_t line, const char *why);

#endif
