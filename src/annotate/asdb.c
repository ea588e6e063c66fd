#include "asdb.h"

#include "../output/atomic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * 128-bit keys: IPv4 addresses are keys with hi == 0, so one code path sorts
 * and resolves both families.
 * ------------------------------------------------------------------------- */

typedef struct key {
    uint64_t hi, lo;
} key;

static int key_cmp(key a, key b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* False when k was the largest key (it wraps to zero). */
static bool key_inc(key *k)
{
    if (++k->lo != 0)
        return true;
    return ++k->hi != 0;
}

static key key_dec(key k)
{
    if (k.lo-- == 0)
        k.hi--;
    return k;
}

static key key_sub(key a, key b)
{
    key r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
    return r;
}

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---------------------------------------------------------------------------
 * Text checks shared with the other annotation sources.
 * ------------------------------------------------------------------------- */

bool rg_asdb_text_ok(const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        /* C1 controls are control characters too: keep them off terminals. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            (cp >= 0x80 && cp <= 0x9f))
            return false;
        i += len;
    }
    return true;
}

/* ---------------------------------------------------------------------------
 * The table layout, shared by the in-memory database and the index file, so
 * an index is the memory image of a loaded database behind a header.
 * ------------------------------------------------------------------------- */

#define IDX_VERSION 1u
#define IDX_ORDER 0x01020304u
#define IDX_MAX_COUNT (1u << 28)
#define IDX_MAX_STRINGS ((uint64_t)1 << 31)
static const char idx_magic[8] = {'R', 'G', 'A', 'S', 'I', 'D', 'X', '\n'};

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

static uint64_t align8(uint64_t x)
{
    return (x + 7) & ~(uint64_t)7;
}

static bool layout_of(uint64_t n4, uint64_t n6, uint64_t norgs, uint64_t slen, layout *l)
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

/* ---------------------------------------------------------------------------
 * The database.
 * ------------------------------------------------------------------------- */

#define NBUCKET 65536u
#ifndef RG_ASDB_MIN_BUCKETED /* a fuzz build sets 1 to reach the bucket code */
#define RG_ASDB_MIN_BUCKETED 4096u
#endif
#define MIN_BUCKETED RG_ASDB_MIN_BUCKETED

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

static bool db_attach(rg_asdb *db, const uint8_t *image, size_t len)
{
    const idx_header *h = (const idx_header *)image;
    layout l;
    if (!layout_of(h->n4, h->n6, h->norgs, h->strings_len, &l))
        return false;
    db->image = image;
    db->image_len = len;
    db->n4 = h->n4, db->n6 = h->n6, db->norgs = h->norgs;
    db->kind = (enum rg_asdb_kind)h->kind;
    db->s4 = (const uint32_t *)(image + l.s4);
    db->e4 = (const uint32_t *)(image + l.e4);
    db->asn4 = (const uint32_t *)(image + l.asn4);
    db->org4 = (const uint32_t *)(image + l.org4);
    db->s6h = (const uint64_t *)(image + l.s6);
    db->s6l = db->s6h + db->n6;
    db->e6h = (const uint64_t *)(image + l.e6);
    db->e6l = db->e6h + db->n6;
    db->asn6 = (const uint32_t *)(image + l.asn6);
    db->org6 = (const uint32_t *)(image + l.org6);
    db->org_off = (const uint32_t *)(image + l.off);
    db->strings = (const char *)(image + l.str);
    /* Small tables (the lab's, a test's) are searched whole: building the
     * buckets would cost more than it saves. */
    if (db->n4 >= MIN_BUCKETED && !(db->bucket4 = malloc((NBUCKET + 1) * sizeof *db->bucket4)))
        return false;
    if (db->n6 >= MIN_BUCKETED && !(db->bucket6 = malloc((NBUCKET + 1) * sizeof *db->bucket6)))
        return false;
    size_t i = 0, j = 0;
    for (uint32_t k = 0; k <= NBUCKET && (db->bucket4 || db->bucket6); k++) {
        while (db->bucket4 && i < db->n4 && (db->s4[i] >> 16) < k)
            i++;
        while (db->bucket6 && j < db->n6 && (db->s6h[j] >> 48) < k)
            j++;
        if (db->bucket4)
            db->bucket4[k] = (uint32_t)i;
        if (db->bucket6)
            db->bucket6[k] = (uint32_t)j;
    }
    db->info.ranges4 = db->n4;
    db->info.ranges6 = db->n6;
    db->info.orgs = db->norgs > 0 ? db->norgs - 1 : 0; /* id 0 is "no organisation" */
    return true;
}

void rg_asdb_free(rg_asdb *db)
{
    if (!db)
        return;
    if (db->image)
        munmap((void *)(uintptr_t)db->image, db->image_len);
    free(db->bucket4);
    free(db->bucket6);
    free(db);
}

const rg_asdb_info *rg_asdb_get_info(const rg_asdb *db)
{
    return &db->info;
}

enum rg_asdb_kind rg_asdb_get_kind(const rg_asdb *db)
{
    return db->kind;
}

static const char *kind_what(enum rg_asdb_kind kind)
{
    return kind == RG_ASDB_COUNTRY ? "country database" : "AS database";
}

static const char *kind_index(enum rg_asdb_kind kind)
{
    return kind == RG_ASDB_COUNTRY ? "country index" : "AS index";
}

const rg_asdb_files rg_asdb_as_files = {
    RG_ASDB_AS, RG_ASDB_CSV4_NAME, RG_ASDB_CSV6_NAME, RG_ASDB_INDEX_NAME, "AS database",
    "run scripts/fetch-asn-data.sh or give --asn-db FILE",
};

static bool answer(const rg_asdb *db, uint32_t asn_v, uint32_t org_id,
                   uint32_t *asn, const char **org)
{
    if (asn)
        *asn = asn_v;
    if (org)
        *org = org_id ? db->strings + db->org_off[org_id] : NULL;
    return true;
}

static bool lookup4(const rg_asdb *db, uint32_t x, uint32_t *asn, const char **org)
{
    uint32_t lo = 0, hi = db->n4;
    if (db->bucket4)
        lo = db->bucket4[x >> 16], hi = db->bucket4[(x >> 16) + 1];
    while (lo < hi) { /* first range in the bucket starting after x */
        uint32_t mid = lo + (hi - lo) / 2;
        if (db->s4[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* The range holding x, if any, is the last one starting at or before x,
     * which may sit in an earlier bucket. */
    if (lo == 0 || db->e4[lo - 1] < x)
        return false;
    return answer(db, db->asn4[lo - 1], db->org4[lo - 1], asn, org);
}

static bool lookup6(const rg_asdb *db, key x, uint32_t *asn, const char **org)
{
    uint32_t lo = 0, hi = db->n6;
    if (db->bucket6)
        lo = db->bucket6[x.hi >> 48], hi = db->bucket6[(x.hi >> 48) + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (db->s6h[mid] < x.hi || (db->s6h[mid] == x.hi && db->s6l[mid] <= x.lo))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    key e = {db->e6h[lo - 1], db->e6l[lo - 1]};
    if (key_cmp(e, x) < 0)
        return false;
    return answer(db, db->asn6[lo - 1], db->org6[lo - 1], asn, org);
}

bool rg_asdb_lookup(const rg_asdb *db, const rg_addr *a, uint32_t *asn, const char **org)
{
    if (asn)
        *asn = 0;
    if (org)
        *org = NULL;
    if (!db || !a)
        return false;
    if (a->family == 4) {
        uint32_t x = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
                     (uint32_t)a->bytes[2] << 8 | a->bytes[3];
        return lookup4(db, x, asn, org);
    }
    if (a->family == 6) {
        key x = {load_be64(a->bytes), load_be64(a->bytes + 8)};
        return lookup6(db, x, asn, org);
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * Builder: raw ranges as read, organisations interned as they come.
 * ------------------------------------------------------------------------- */

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

/* Range vectors live in their own mappings: they grow by mremap without
 * copying, and a known size can be prefaulted in one call. */
static bool rawvec_reserve(rawvec *v, size_t need, bool populate)
{
    if (need <= v->cap)
        return true;
    size_t nc = v->cap ? v->cap : populate ? need : 1024;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / sizeof *v->v)
            return false;
        nc *= 2;
    }
    void *p = v->v ? mremap(v->v, v->cap * sizeof *v->v, nc * sizeof *v->v, MREMAP_MAYMOVE)
                   : mmap(NULL, nc * sizeof *v->v, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    if (p == MAP_FAILED)
        return false;
    v->v = p;
    v->cap = nc;
    return true;
}

static void rawvec_free(rawvec *v)
{
    if (v->v)
        munmap(v->v, v->cap * sizeof *v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem)
            return false;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q)
        return false;
    *p = q;
    *cap = nc;
    return true;
}

rg_asdb_builder *rg_asdb_builder_new(void)
{
    return rg_asdb_builder_new_kind(RG_ASDB_AS);
}

rg_asdb_builder *rg_asdb_builder_new_kind(enum rg_asdb_kind kind)
{
    rg_asdb_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->kind = kind;
    /* Organisation id 0 is the empty string: "no organisation". */
    b->str = malloc(64);
    b->off = malloc(64 * sizeof *b->off);
    b->hash = malloc(64 * sizeof *b->hash);
    b->table = calloc(128, sizeof *b->table);
    if (!b->str || !b->off || !b->hash || !b->table) {
        rg_asdb_builder_free(b);
        return NULL;
    }
    b->scap = 64, b->ocap = 64, b->tcap = 128;
    b->str[0] = '\0';
    b->slen = 1;
    b->off[0] = 0;
    b->hash[0] = 0;
    b->norgs = 1;
    return b;
}

void rg_asdb_builder_free(rg_asdb_builder *b)
{
    if (!b)
        return;
    rawvec_free(&b->fam[0]);
    rawvec_free(&b->fam[1]);
    for (size_t i = 0; i < b->nnames; i++)
        free(b->names[i]);
    free(b->names);
    free(b->str);
    free(b->off);
    free(b->hash);
    free(b->table);
    free(b);
}

static uint32_t hash_text(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h ? h : 1;
}

static size_t org_len(const rg_asdb_builder *b, uint32_t id)
{
    size_t end = id + 1 < b->norgs ? b->off[id + 1] : b->slen;
    return end - b->off[id] - 1;
}

static bool org_is(const rg_asdb_builder *b, uint32_t id, const char *p, size_t n)
{
    return org_len(b, id) == n && memcmp(b->str + b->off[id], p, n) == 0;
}

static bool table_grow(rg_asdb_builder *b)
{
    size_t nc = b->tcap * 2;
    uint64_t *t = calloc(nc, sizeof *t);
    if (!t)
        return false;
    for (uint32_t id = 1; id < b->norgs; id++) {
        size_t i = b->hash[id] & (nc - 1);
        while (t[i])
            i = (i + 1) & (nc - 1);
        t[i] = (uint64_t)b->hash[id] << 32 | id;
    }
    free(b->table);
    b->table = t;
    b->tcap = nc;
    return true;
}

/* The id of organisation p[0..n); 0 for "". False on no memory. */
static bool intern(rg_asdb_builder *b, const char *p, size_t n, uint32_t *id)
{
    if (n == 0) {
        *id = 0;
        return true;
    }
    if (b->last_org && org_is(b, b->last_org, p, n)) {
        *id = b->last_org;
        return true;
    }
    uint32_t h = hash_text(p, n);
    size_t i = h & (b->tcap - 1);
    for (; b->table[i]; i = (i + 1) & (b->tcap - 1)) {
        uint32_t c = (uint32_t)b->table[i];
        if (b->table[i] >> 32 == h && org_is(b, c, p, n)) {
            *id = b->last_org = c;
            return true;
        }
    }
    if (b->norgs >= IDX_MAX_COUNT || b->slen + n + 1 > IDX_MAX_STRINGS)
        return false;
    if (!grow((void **)&b->str, &b->scap, b->slen + n + 1, 1))
        return false;
    if (b->norgs == b->ocap) {
        uint32_t *no = realloc(b->off, 2 * b->ocap * sizeof *no);
        if (!no)
            return false;
        b->off = no;
        uint32_t *nh = realloc(b->hash, 2 * b->ocap * sizeof *nh);
        if (!nh)
            return false;
        b->hash = nh;
        b->ocap *= 2;
    }
    uint32_t nid = (uint32_t)b->norgs++;
    b->off[nid] = (uint32_t)b->slen;
    b->hash[nid] = h;
    memcpy(b->str + b->slen, p, n);
    b->str[b->slen + n] = '\0';
    b->slen += n + 1;
    b->table[i] = (uint64_t)h << 32 | nid;
    if (b->norgs * 2 > b->tcap && !table_grow(b))
        return false;
    *id = b->last_org = nid;
    return true;
}

/* ---------------------------------------------------------------------------
 * CSV line parsing. Every read is bounded by the line length; nothing
 * assumes NUL termination.
 * ------------------------------------------------------------------------- */

typedef struct slice {
    const char *p;
    size_t n;
} slice;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits a line into at most maxf fields; quoted fields are unescaped into
 * scratch (at least n bytes). -1 with *why on a malformed line. */
static int split_fields(const char *p, size_t n, slice *f, int maxf, char *scratch,
                        const char **why)
{
    size_t i = 0, sc = 0;
    int nf = 0;
    for (;;) {
        if (nf == maxf) {
            *why = maxf == 4 ? "too many fields (an unquoted comma in the organisation?)"
                             : "too many fields";
            return -1;
        }
        while (i < n && is_blank(p[i]))
            i++;
        if (i < n && p[i] == '"') {
            size_t start = sc;
            for (i++;; i++) {
                if (i >= n) {
                    *why = "unterminated quote";
                    return -1;
                }
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        scratch[sc++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                scratch[sc++] = p[i];
            }
            f[nf++] = (slice){scratch + start, sc - start};
            while (i < n && is_blank(p[i]))
                i++;
            if (i < n && p[i] != ',') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            size_t start = i;
            for (; i < n && p[i] != ','; i++) {
                if (p[i] == '"') {
                    *why = "quote inside an unquoted field";
                    return -1;
                }
            }
            size_t end = i;
            while (end > start && is_blank(p[end - 1]))
                end--;
            f[nf++] = (slice){p + start, end - start};
        }
        if (i >= n)
            return nf;
        i++; /* the comma */
    }
}

static bool all_digits(slice f)
{
    if (f.n == 0)
        return false;
    for (size_t i = 0; i < f.n; i++)
        if (f.p[i] < '0' || f.p[i] > '9')
            return false;
    return true;
}

static bool parse_v4_text(slice f, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= f.n || f.p[i] != '.')
                return false;
            i++;
        }
        uint32_t x = 0;
        size_t d = 0;
        for (; i < f.n && d < 3 && f.p[i] >= '0' && f.p[i] <= '9'; i++, d++)
            x = x * 10 + (uint32_t)(f.p[i] - '0');
        if (d == 0 || x > 255)
            return false;
        v = v << 8 | x;
    }
    *out = v;
    return i == f.n;
}

/* Decimal up to 2^128 - 1. */
static bool parse_dec128(slice f, key *out)
{
    if (!all_digits(f) || f.n > 39)
        return false;
    key k = {0, 0};
    for (size_t i = 0; i < f.n; i++) {
        uint64_t a = (k.lo & 0xffffffffu) * 10;
        uint64_t b = (k.lo >> 32) * 10 + (a >> 32);
        uint64_t carry = b >> 32;
        if (k.hi > (UINT64_MAX - carry) / 10)
            return false;
        k.hi = k.hi * 10 + carry;
        k.lo = (b << 32) | (a & 0xffffffffu);
        uint64_t d = (uint64_t)(f.p[i] - '0');
        k.lo += d;
        if (k.lo < d && ++k.hi == 0)
            return false;
    }
    *out = k;
    return true;
}

enum addr_form { FORM_BAD, FORM_V4, FORM_V6, FORM_NUM };

static enum addr_form parse_addr(slice f, key *k)
{
    if (f.n == 0)
        return FORM_BAD;
    if (memchr(f.p, ':', f.n)) {
        char buf[64];
        uint8_t bytes[16];
        if (f.n >= sizeof buf || memchr(f.p, '\0', f.n))
            return FORM_BAD;
        memcpy(buf, f.p, f.n);
        buf[f.n] = '\0';
        if (inet_pton(AF_INET6, buf, bytes) != 1)
            return FORM_BAD;
        k->hi = load_be64(bytes);
        k->lo = load_be64(bytes + 8);
        return FORM_V6;
    }
    if (memchr(f.p, '.', f.n)) {
        uint32_t v;
        if (!parse_v4_text(f, &v))
            return FORM_BAD;
        k->hi = 0, k->lo = v;
        return FORM_V4;
    }
    return parse_dec128(f, k) ? FORM_NUM : FORM_BAD;
}

static bool parse_asn(slice f, uint32_t *asn)
{
    if (!all_digits(f) || f.n > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < f.n; i++)
        v = v * 10 + (uint64_t)(f.p[i] - '0');
    if (v > UINT32_MAX)
        return false;
    *asn = (uint32_t)v;
    return true;
}

/* Two ASCII letters, either case, as RG_ASDB_CC of the upper case. */
static bool parse_cc(slice f, uint32_t *cc)
{
    char u[2];
    if (f.n != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = f.p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return false;
        u[i] = c;
    }
    *cc = RG_ASDB_CC(u[0], u[1]);
    return true;
}

/* The third field as the kind reads it; false with *why. */
static bool parse_value(enum rg_asdb_kind kind, slice f, uint32_t *v, const char **why)
{
    if (kind == RG_ASDB_COUNTRY) {
        *why = "country code is not two letters (ISO 3166-1 alpha-2)";
        return parse_cc(f, v);
    }
    *why = "AS number is not a decimal number up to 4294967295";
    return parse_asn(f, v);
}

/* Which family a start/end pair is, or 0 with *why. */
static int pair_family(enum addr_form fs, enum addr_form fe, key e, int hint, const char **why)
{
    if (fs == FORM_BAD || fe == FORM_BAD) {
        *why = fs == FORM_BAD ? "range start is not an IPv4/IPv6 address or number"
                              : "range end is not an IPv4/IPv6 address or number";
        return 0;
    }
    if (fs != fe) {
        *why = "range start and end are of different kinds";
        return 0;
    }
    if (fs == FORM_V4)
        return 4;
    if (fs == FORM_V6)
        return 6;
    bool big = e.hi != 0 || e.lo > UINT32_MAX; /* start <= end is checked later */
    if (hint == 4 && big) {
        *why = "number too large for an IPv4 address";
        return 0;
    }
    return hint == 6 || big ? 6 : 4;
}

enum line_result { LINE_IGNORED, LINE_ADDED, LINE_SKIPPED, LINE_NOMEM };

typedef struct line_ctx {
    rg_asdb_builder *b;
    uint32_t src;
    uint32_t line;
    int hint;
    bool first_record; /* a header line is only allowed first */
    char *scratch;
    const char *why;
} line_ctx;

static enum line_result parse_line(line_ctx *c, const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && is_blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return LINE_IGNORED;
    bool first = c->first_record;
    c->first_record = false;
    if (n > RG_ASDB_MAX_LINE) {
        c->why = "line longer than 4096 bytes";
        return LINE_SKIPPED;
    }
    slice f[4];
    bool cc = c->b->kind == RG_ASDB_COUNTRY;
    int nf = split_fields(p, n, f, cc ? 3 : 4, c->scratch, &c->why);
    if (nf < 0)
        return LINE_SKIPPED;
    if (nf < 3) {
        c->why = cc ? "expected range_start,range_end,country_code"
                    : "expected range_start,range_end,asn,organisation";
        return LINE_SKIPPED;
    }
    key s, e;
    enum addr_form fs = parse_addr(f[0], &s), fe = parse_addr(f[1], &e);
    /* A first line of words ("ip_range_start,...") is a header, not data. */
    if (first && fs == FORM_BAD && !all_digits(f[2]))
        return LINE_IGNORED;
    int fam = pair_family(fs, fe, e, c->hint, &c->why);
    if (fam == 0)
        return LINE_SKIPPED;
    uint32_t asn;
    if (!parse_value(c->b->kind, f[2], &asn, &c->why))
        return LINE_SKIPPED;
    if (key_cmp(e, s) < 0) {
        c->why = "range end lies before its start";
        return LINE_SKIPPED;
    }
    slice org = nf == 4 ? f[3] : (slice){"", 0};
    if (org.n > RG_ASDB_MAX_ORG) {
        c->why = "organisation longer than 1023 bytes";
        return LINE_SKIPPED;
    }
    if (!rg_asdb_text_ok(org.p, org.n)) {
        c->why = "organisation is not valid UTF-8 or holds a control character";
        return LINE_SKIPPED;
    }
    raw r = {.s = s, .e = e, .asn = asn, .src = c->src, .line = c->line};
    if (!intern(c->b, org.p, org.n, &r.org))
        return LINE_NOMEM;
    rawvec *v = &c->b->fam[fam == 6];
    if (v->n >= IDX_MAX_COUNT || !rawvec_reserve(v, v->n + 1, false))
        return LINE_NOMEM;
    v->v[v->n++] = r;
    return LINE_ADDED;
}

static void set_msg(char *dst, const char *name, uint32_t line, const char *why)
{
    snprintf(dst, RG_ASDB_MSGLEN, "%.100s:%lu: %.140s", name, (unsigned long)line, why);
}

static bool add_name(rg_asdb_builder *b, const char *name, uint32_t *src)
{
    char **nn = realloc(b->names, (b->nnames + 1) * sizeof *nn);
    if (!nn)
        return false;
    b->names = nn;
    if (!(nn[b->nnames] = strdup(name)))
        return false;
    *src = (uint32_t)b->nnames++;
    return true;
}

/* Line-by-line state of one source, fed from a buffer or from read(2)
 * chunks, so a file is never held whole in memory. */
typedef struct feed {
    line_ctx c;
    const char *name;
    size_t added, skipped;
    bool started; /* past a possible byte order mark */
    char first_skip[RG_ASDB_MSGLEN];
} feed;

static bool feed_begin(feed *f, rg_asdb_builder *b, const char *name, int hint,
                       size_t size_guess, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->c.b = b;
    f->c.hint = hint;
    f->c.first_record = true;
    if (!add_name(b, name, &f->c.src) || !(f->c.scratch = malloc(RG_ASDB_MAX_LINE + 1))) {
        snprintf(err, errlen, "%s: out of memory", name);
        return false;
    }
    /* Reserving (prefaulted) for the expected line count, real lines being
     * 58 (IPv4) to 85 (IPv6) bytes, saves copies and page faults. */
    if (hint == 4 || hint == 6) {
        rawvec *v = &b->fam[hint == 6];
        size_t want = v->n + size_guess / 56 + 1;
        if (want < IDX_MAX_COUNT)
            (void)rawvec_reserve(v, want, true);
    }
    return true;
}

static void feed_skip(feed *f, const char *why)
{
    if (f->skipped++ == 0)
        set_msg(f->first_skip, f->name, f->c.line, why);
}

/* One line without its '\n'; false on no memory. */
static bool feed_line(feed *f, const char *p, size_t n, char *err, size_t errlen)
{
    if (f->c.line < UINT32_MAX)
        f->c.line++;
    if (!f->started) {
        f->started = true;
        if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
            p += 3, n -= 3;
    }
    switch (parse_line(&f->c, p, n)) {
    case LINE_NOMEM:
        snprintf(err, errlen, "%s:%lu: out of memory", f->name, (unsigned long)f->c.line);
        return false;
    case LINE_ADDED:
        f->added++;
        break;
    case LINE_SKIPPED:
        feed_skip(f, f->c.why);
        break;
    case LINE_IGNORED:
        break;
    }
    return true;
}

/* A line too long to buffer, reported when its end arrives. */
static void feed_long_line(feed *f)
{
    if (f->c.line < UINT32_MAX)
        f->c.line++;
    f->started = true;
    f->c.first_record = false;
    feed_skip(f, "line longer than 4096 bytes");
}

static bool feed_end(feed *f, char *err, size_t errlen)
{
    rg_asdb_builder *b = f->c.b;
    free(f->c.scratch);
    f->c.scratch = NULL;
    b->info.records += f->added;
    b->info.skipped += f->skipped;
    if (f->skipped && !b->info.first_skip[0])
        memcpy(b->info.first_skip, f->first_skip, sizeof f->first_skip);
    if (f->added > 0)
        return true;
    if (f->skipped)
        snprintf(err, errlen, "%s: no valid address range (%zu lines skipped; first: %s)",
                 f->name, f->skipped, f->first_skip);
    else
        snprintf(err, errlen, "%s: no address ranges", f->name);
    return false;
}

bool rg_asdb_builder_add_buffer(rg_asdb_builder *b, const char *buf, size_t len,
                                const char *name, int family_hint,
                                char *err, size_t errlen)
{
    if (!name)
        name = "(buffer)";
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", name);
        return false;
    }
    feed f;
    if (!feed_begin(&f, b, name, family_hint, len, err, errlen)) {
        free(f.c.scratch);
        return false;
    }
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!feed_line(&f, p, n, err, errlen)) {
            free(f.c.scratch);
            return false;
        }
        p += n + (nl != NULL);
    }
    return feed_end(&f, err, errlen);
}

static int name_hint(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, "ipv6"))
        return 6;
    if (strstr(base, "ipv4"))
        return 4;
    return 0;
}

static bool has_index_magic(const char *buf, size_t len)
{
    return len >= sizeof idx_magic && memcmp(buf, idx_magic, sizeof idx_magic) == 0;
}

#define CHUNK ((size_t)1 << 20)

/* Feeds every complete line in buf[0..*have) and keeps the unfinished tail.
 * A tail longer than any valid line is dropped and its line reported once
 * its end arrives (*skipping). */
static bool feed_chunk(feed *f, char *buf, size_t *have, bool eof, bool *skipping,
                       char *err, size_t errlen)
{
    char *p = buf, *end = buf + *have;
    char *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        if (*skipping) {
            *skipping = false;
            feed_long_line(f);
        } else if (!feed_line(f, p, (size_t)(nl - p), err, errlen)) {
            return false;
        }
        p = nl + 1;
    }
    size_t tail = (size_t)(end - p);
    if (eof) {
        if (*skipping) {
            feed_long_line(f);
        } else if (tail > 0 && !feed_line(f, p, tail, err, errlen)) {
            return false;
        }
        tail = 0;
    } else if (*skipping || tail > RG_ASDB_MAX_LINE + 1) {
        *skipping = true;
        tail = 0;
    }
    memmove(buf, p, tail);
    *have = tail;
    return true;
}

bool rg_asdb_builder_add_file(rg_asdb_builder *b, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return false;
    }
    char *buf = malloc(CHUNK);
    feed f;
    bool ok = buf && b && feed_begin(&f, b, path, name_hint(path),
                                      S_ISREG(st.st_mode) ? (size_t)st.st_size : 0,
                                      err, errlen);
    if (!ok) {
        if (!buf || !b)
            snprintf(err, errlen, "%s: out of memory", path);
        else
            free(f.c.scratch);
        free(buf);
        close(fd);
        return false;
    }
    size_t have = 0;
    bool skipping = false, first = true;
    for (;;) {
        ssize_t r = read(fd, buf + have, CHUNK - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            ok = false;
            break;
        }
        have += (size_t)r;
        if (first && have >= sizeof idx_magic) {
            first = false;
            if (has_index_magic(buf, have)) {
                snprintf(err, errlen, "%s: a compiled %s can only be used alone", path,
                         kind_index(b->kind));
                ok = false;
                break;
            }
        }
        if (!feed_chunk(&f, buf, &have, r == 0, &skipping, err, errlen)) {
            ok = false;
            break;
        }
        if (r == 0)
            break;
    }
    free(buf);
    close(fd);
    if (!ok) {
        free(f.c.scratch);
        return false;
    }
    return feed_end(&f, err, errlen);
}

/* ---------------------------------------------------------------------------
 * Finishing: sort, resolve overlaps (smaller range wins, then load order),
 * merge neighbours with the same answer, lay out the tables.
 * ------------------------------------------------------------------------- */

static int raw_order(const raw *a, const raw *b)
{
    int c = key_cmp(a->s, b->s);
    if (c)
        return c;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

static int raw_cmp(const void *a, const void *b)
{
    return raw_order(a, b);
}

/* True when a should answer rather than b where both hold an address. */
static bool raw_better(const raw *a, const raw *b)
{
    int c = key_cmp(key_sub(a->e, a->s), key_sub(b->e, b->s));
    if (c)
        return c < 0;
    if (a->src != b->src)
        return a->src < b->src;
    return a->line < b->line;
}

static bool emit(rawvec *out, key s, key e, const raw *from)
{
    if (from->asn == 0)
        return true; /* AS 0: not announced, answers nothing */
    if (out->n > 0) {
        raw *last = &out->v[out->n - 1];
        key next = last->e;
        if (last->asn == from->asn && last->org == from->org && key_inc(&next) &&
            key_cmp(next, s) == 0) {
            last->e = e;
            return true;
        }
    }
    if (!rawvec_reserve(out, out->n + 1, false))
        return false;
    raw r = *from;
    r.s = s, r.e = e;
    out->v[out->n++] = r;
    return true;
}

static int key_qcmp(const void *a, const void *b)
{
    return key_cmp(*(const key *)a, *(const key *)b);
}

typedef struct sweep_buf {
    key *pts;
    size_t *heap;
    size_t cap;
} sweep_buf;

static void heap_push(size_t *h, size_t *n, size_t x, const raw *r)
{
    size_t i = (*n)++;
    h[i] = x;
    while (i > 0 && raw_better(&r[h[i]], &r[h[(i - 1) / 2]])) {
        size_t p = (i - 1) / 2, t = h[p];
        h[p] = h[i], h[i] = t, i = p;
    }
}

static void heap_pop(size_t *h, size_t *n, const raw *r)
{
    h[0] = h[--*n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, best = i;
        if (l < *n && raw_better(&r[h[l]], &r[h[best]]))
            best = l;
        if (l + 1 < *n && raw_better(&r[h[l + 1]], &r[h[best]]))
            best = l + 1;
        if (best == i)
            return;
        size_t t = h[best];
        h[best] = h[i], h[i] = t, i = best;
    }
}

/* One cluster of mutually overlapping ranges (sorted by start): cut it at
 * every start and end+1, give each piece to the best range holding it. A
 * heap keeps this O(m log m) however the ranges nest. */
static bool sweep(const raw *r, size_t m, rawvec *out, sweep_buf *sb)
{
    if (!grow((void **)&sb->pts, &sb->cap, 2 * m, sizeof *sb->pts))
        return false;
    size_t *nh = realloc(sb->heap, sb->cap * sizeof *nh);
    if (!nh)
        return false;
    sb->heap = nh;
    size_t np = 0;
    for (size_t i = 0; i < m; i++) {
        key e1 = r[i].e;
        sb->pts[np++] = r[i].s;
        if (key_inc(&e1))
            sb->pts[np++] = e1;
    }
    qsort(sb->pts, np, sizeof *sb->pts, key_qcmp);
    size_t u = 0;
    for (size_t i = 0; i < np; i++)
        if (u == 0 || key_cmp(sb->pts[u - 1], sb->pts[i]) != 0)
            sb->pts[u++] = sb->pts[i];
    np = u;
    size_t nheap = 0, j = 0;
    for (size_t k = 0; k < np; k++) {
        key p = sb->pts[k];
        while (j < m && key_cmp(r[j].s, p) == 0)
            heap_push(sb->heap, &nheap, j++, r);
        while (nheap > 0 && key_cmp(r[sb->heap[0]].e, p) < 0)
            heap_pop(sb->heap, &nheap, r);
        if (nheap == 0)
            continue;
        const raw *top = &r[sb->heap[0]];
        key last = k + 1 < np ? key_dec(sb->pts[k + 1]) : top->e;
        if (!emit(out, p, last, top))
            return false;
    }
    return true;
}

static void note_overlap(rg_asdb_builder *b, const raw *x, const raw *y)
{
    char why[RG_ASDB_MSGLEN];
    snprintf(why, sizeof why, "overlaps %.80s:%lu; the smaller range wins",
             b->names[y->src], (unsigned long)y->line);
    set_msg(b->info.first_overlap, b->names[x->src], x->line, why);
}

/* Replaces v's ranges by disjoint ones. The output is written over the input
 * as it is consumed (fresh memory is slow to touch on small VMs), moving to a
 * separate vector only if an overlap cuts more pieces than there is room for. */
static bool resolve(rawvec *v, rg_asdb_builder *b)
{
    bool sorted = true;
    for (size_t i = 1; i < v->n && sorted; i++)
        sorted = raw_order(&v->v[i - 1], &v->v[i]) <= 0;
    if (!sorted)
        qsort(v->v, v->n, sizeof *v->v, raw_cmp);
    sweep_buf sb = {0};
    rawvec pieces = {0};
    rawvec out = {v->v, 0, v->cap};
    bool in_place = true, ok = true;
    for (size_t i = 0; i < v->n && ok;) {
        key maxe = v->v[i].e;
        size_t j = i + 1;
        for (; j < v->n && key_cmp(v->v[j].s, maxe) <= 0; j++)
            if (key_cmp(v->v[j].e, maxe) > 0)
                maxe = v->v[j].e;
        if (j - i == 1) {
            raw r = v->v[i];
            ok = emit(&out, r.s, r.e, &r);
            i = j;
            continue;
        }
        if (b->info.overlaps == 0)
            note_overlap(b, &v->v[i + 1], &v->v[i]);
        b->info.overlaps += j - i - 1;
        pieces.n = 0;
        ok = sweep(v->v + i, j - i, &pieces, &sb);
        if (ok && in_place && out.n + pieces.n > j) {
            rawvec sep = {0};
            ok = rawvec_reserve(&sep, out.n + pieces.n + (v->n - j), false);
            if (ok) {
                memcpy(sep.v, out.v, out.n * sizeof *out.v);
                sep.n = out.n;
                out = sep;
                in_place = false;
            }
        }
        for (size_t k = 0; k < pieces.n && ok; k++)
            ok = emit(&out, pieces.v[k].s, pieces.v[k].e, &pieces.v[k]);
        i = j;
    }
    free(sb.pts);
    free(sb.heap);
    rawvec_free(&pieces);
    if (!in_place) {
        if (!ok) {
            rawvec_free(&out);
            return false;
        }
        rawvec_free(v);
        *v = out;
    }
    v->n = out.n;
    return ok;
}

static void fill_image(uint8_t *img, const layout *l, const rawvec *v4, const rawvec *v6,
                       const rg_asdb_builder *b)
{
    idx_header *h = (idx_header *)img;
    memcpy(h->magic, idx_magic, sizeof idx_magic);
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

rg_asdb *rg_asdb_builder_finish(rg_asdb_builder *b, char *err, size_t errlen)
{
    if (!b) {
        snprintf(err, errlen, "database: out of memory");
        return NULL;
    }
    rg_asdb *db = NULL;
    layout l;
    const char *what = kind_what(b->kind);
    if (b->fam[0].n + b->fam[1].n == 0) {
        snprintf(err, errlen, "%s: no address ranges loaded", what);
        goto done;
    }
    if (!resolve(&b->fam[0], b) || !resolve(&b->fam[1], b) ||
        !layout_of(b->fam[0].n, b->fam[1].n, b->norgs, b->slen, &l) ||
        !(db = calloc(1, sizeof *db))) {
        snprintf(err, errlen, "%s: out of memory", what);
        goto done;
    }
    /* Prefaulted in one go: page by page costs more than filling it. */
    void *img = mmap(NULL, (size_t)l.total, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (img == MAP_FAILED) {
        snprintf(err, errlen, "%s: out of memory", what);
        free(db);
        db = NULL;
        goto done;
    }
    fill_image(img, &l, &b->fam[0], &b->fam[1], b);
    db->owned = img;
    db->info = b->info;
    if (!db_attach(db, img, (size_t)l.total)) {
        snprintf(err, errlen, "%s: out of memory", what);
        rg_asdb_free(db);
        db = NULL;
    }
done:
    rg_asdb_builder_free(b);
    return db;
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
    if (len < sizeof(idx_header) || !has_index_magic((const char *)img, len))
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
    if (!layout_of(h->n4, h->n6, h->norgs, h->strings_len, &l) ||
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
            !rg_asdb_text_ok(str + off[i], strlen(str + off[i])))
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
        snprintf(err, errlen, "%s: damaged %s: %s", path, kind_index(kind), why);
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
        snprintf(err, errlen, "%s: damaged %s: %s", path, kind_index(kind),
                 why ? why : "out of memory");
        munmap(map, len);
        return NULL;
    }
    if (!db_attach(db, map, len)) {
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

rg_asdb *rg_asdb_load(const char *const *paths, size_t n, char *err, size_t errlen)
{
    return rg_asdb_load_kind(RG_ASDB_AS, paths, n, err, errlen);
}

rg_asdb *rg_asdb_load_kind(enum rg_asdb_kind kind, const char *const *paths, size_t n,
                           char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "%s: no files given", kind_what(kind));
        return NULL;
    }
    if (n == 1) {
        int fd = open(paths[0], O_RDONLY | O_CLOEXEC);
        char head[sizeof idx_magic];
        ssize_t r = fd >= 0 ? read(fd, head, sizeof head) : -1;
        if (fd >= 0)
            close(fd);
        if (r == (ssize_t)sizeof head && has_index_magic(head, sizeof head))
            return rg_asdb_open_index_kind(kind, paths[0], err, errlen);
    }
    rg_asdb_builder *b = rg_asdb_builder_new_kind(kind);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", kind_what(kind));
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rg_asdb_builder_add_file(b, paths[i], err, errlen)) {
            rg_asdb_builder_free(b);
            return NULL;
        }
    }
    return rg_asdb_builder_finish(b, err, errlen);
}

/* ---------------------------------------------------------------------------
 * The data directory.
 * ------------------------------------------------------------------------- */

typedef struct dir_files {
    char csv[2][4096];
    char idx[4096];
    bool present[2];
    uint64_t fingerprint; /* names, sizes and mtimes of the present CSVs */
} dir_files;

static void fnv(uint64_t *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3u;
}

static bool dir_scan(const char *dir, const rg_asdb_files *f, dir_files *d, char *err,
                     size_t errlen)
{
    const char *const names[2] = {f->csv4, f->csv6};
    memset(d, 0, sizeof *d);
    uint64_t h = 0xcbf29ce484222325u;
    for (int i = 0; i < 2; i++) {
        int w = snprintf(d->csv[i], sizeof d->csv[i], "%s/%s", dir, names[i]);
        if (w < 0 || (size_t)w >= sizeof d->csv[i]) {
            snprintf(err, errlen, "%.200s...: path too long", dir);
            return false;
        }
        struct stat st;
        if (stat(d->csv[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        d->present[i] = true;
        int64_t v[3] = {st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
        fnv(&h, names[i], strlen(names[i]));
        fnv(&h, v, sizeof v);
    }
    d->fingerprint = h;
    snprintf(d->idx, sizeof d->idx, "%s/%s", dir, f->index);
    return true;
}

static rg_asdb *load_dir_csv(const char *dir, const rg_asdb_files *f, const dir_files *d,
                             char *err, size_t errlen)
{
    if (!d->present[0] && !d->present[1]) {
        snprintf(err, errlen, "%s: no %s (no %s or %s there; %s)", dir, f->what, f->csv4,
                 f->csv6, f->fetch);
        return NULL;
    }
    const char *paths[2];
    size_t n = 0;
    for (int i = 0; i < 2; i++)
        if (d->present[i])
            paths[n++] = d->csv[i];
    rg_asdb *db = rg_asdb_load_kind(f->kind, paths, n, err, errlen);
    if (db) /* only ever a freshly built image: ours to stamp */
        ((idx_header *)db->owned)->fingerprint = d->fingerprint;
    return db;
}

rg_asdb *rg_asdb_open_dir(const char *dir, char *err, size_t errlen)
{
    return rg_asdb_open_files(dir, &rg_asdb_as_files, err, errlen);
}

rg_asdb *rg_asdb_open_files(const char *dir, const rg_asdb_files *f, char *err,
                            size_t errlen)
{
    dir_files d;
    if (!dir_scan(dir, f, &d, err, errlen))
        return NULL;
    char note[RG_ASDB_MSGLEN] = "";
    struct stat st;
    if (stat(d.idx, &st) == 0) {
        char ierr[RG_ASDB_MSGLEN];
        rg_asdb *db = rg_asdb_open_index_kind(f->kind, d.idx, ierr, sizeof ierr);
        if (db) {
            const idx_header *h = (const idx_header *)db->image;
            if ((!d.present[0] && !d.present[1]) || h->fingerprint == d.fingerprint)
                return db;
            rg_asdb_free(db);
            snprintf(note, sizeof note,
                     "%.200s: older than the CSVs beside it; parsed the CSVs", d.idx);
        } else if (!d.present[0] && !d.present[1]) {
            snprintf(err, errlen, "%s", ierr); /* nothing else to fall back on */
            return NULL;
        } else {
            snprintf(note, sizeof note, "%.230s; parsed the CSVs", ierr);
        }
    }
    rg_asdb *db = load_dir_csv(dir, f, &d, err, errlen);
    if (db)
        memcpy(db->info.note, note, sizeof note);
    return db;
}

bool rg_asdb_compile_dir(const char *dir, rg_asdb_info *info, char *err, size_t errlen)
{
    return rg_asdb_compile_files(dir, &rg_asdb_as_files, info, err, errlen);
}

bool rg_asdb_compile_files(const char *dir, const rg_asdb_files *f, rg_asdb_info *info,
                           char *err, size_t errlen)
{
    dir_files d;
    if (!dir_scan(dir, f, &d, err, errlen))
        return false;
    rg_asdb *db = load_dir_csv(dir, f, &d, err, errlen);
    if (!db)
        return false;
    if (info)
        *info = db->info;
    bool ok = rg_asdb_write_index(db, d.idx, err, errlen);
    rg_asdb_free(db);
    return ok;
}
