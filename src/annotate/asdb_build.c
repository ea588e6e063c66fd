/* asdb_build.c: the AS database builder: organisations interned once,
 * overlaps resolved (the smaller range wins), the image laid out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "asdb_int.h"

/* ---------------------------------------------------------------------------
 * Builder: raw ranges as read, organisations interned as they come.
 * ------------------------------------------------------------------------- */

/* Range vectors live in their own mappings: they grow by mremap without
 * copying, and a known size can be prefaulted in one call. */
bool rg_asdb_rawvec_reserve(rawvec *v, size_t need, bool populate)
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

void rg_asdb_rawvec_free(rawvec *v)
{
    if (v->v)
        munmap(v->v, v->cap * sizeof *v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

bool rg_asdb_grow(void **p, size_t *cap, size_t need, size_t elem)
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
    rg_asdb_rawvec_free(&b->fam[0]);
    rg_asdb_rawvec_free(&b->fam[1]);
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
bool rg_asdb_intern(rg_asdb_builder *b, const char *p, size_t n, uint32_t *id)
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
    if (!rg_asdb_grow((void **)&b->str, &b->scap, b->slen + n + 1, 1))
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

void rg_asdb_set_msg(char *dst, const char *name, uint32_t line, const char *why)
{
    snprintf(dst, RG_ASDB_MSGLEN, "%.100s:%lu: %.140s", name, (unsigned long)line, why);
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
    if (!rg_asdb_rawvec_reserve(out, out->n + 1, false))
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
    if (!rg_asdb_grow((void **)&sb->pts, &sb->cap, 2 * m, sizeof *sb->pts))
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
    rg_asdb_set_msg(b->info.first_overlap, b->names[x->src], x->line, why);
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
            ok = rg_asdb_rawvec_reserve(&sep, out.n + pieces.n + (v->n - j), false);
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
    rg_asdb_rawvec_free(&pieces);
    if (!in_place) {
        if (!ok) {
            rg_asdb_rawvec_free(&out);
            return false;
        }
        rg_asdb_rawvec_free(v);
        *v = out;
    }
    v->n = out.n;
    return ok;
}

rg_asdb *rg_asdb_builder_finish(rg_asdb_builder *b, char *err, size_t errlen)
{
    if (!b) {
        snprintf(err, errlen, "database: out of memory");
        return NULL;
    }
    rg_asdb *db = NULL;
    layout l;
    const char *what = rg_asdb_kind_what(b->kind);
    if (b->fam[0].n + b->fam[1].n == 0) {
        snprintf(err, errlen, "%s: no address ranges loaded", what);
        goto done;
    }
    if (!resolve(&b->fam[0], b) || !resolve(&b->fam[1], b) ||
        !rg_asdb_layout_of(b->fam[0].n, b->fam[1].n, b->norgs, b->slen, &l) ||
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
    rg_asdb_fill_image(img, &l, &b->fam[0], &b->fam[1], b);
    db->owned = img;
    db->info = b->info;
    if (!rg_asdb_attach(db, img, (size_t)l.total)) {
        snprintf(err, errlen, "%s: out of memory", what);
        rg_asdb_free(db);
        db = NULL;
    }
done:
    rg_asdb_builder_free(b);
    return db;
}
