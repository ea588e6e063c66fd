/* asdb.c: lookups in the AS database's tables, loading files, the data
 * directory (see asdb.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asdb_int.h"

/* ---------------------------------------------------------------------------
 * The database: lookups over the tables of one image.
 * ------------------------------------------------------------------------- */

#define NBUCKET 65536u
#ifndef RG_ASDB_MIN_BUCKETED /* a fuzz build sets 1 to reach the bucket code */
#define RG_ASDB_MIN_BUCKETED 4096u
#endif
#define MIN_BUCKETED RG_ASDB_MIN_BUCKETED

bool rg_asdb_attach(rg_asdb *db, const uint8_t *image, size_t len)
{
    const idx_header *h = (const idx_header *)image;
    layout l;
    if (!rg_asdb_layout_of(h->n4, h->n6, h->norgs, h->strings_len, &l))
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
 * Loading files.
 * ------------------------------------------------------------------------- */

rg_asdb *rg_asdb_load(const char *const *paths, size_t n, char *err, size_t errlen)
{
    return rg_asdb_load_kind(RG_ASDB_AS, paths, n, err, errlen);
}

rg_asdb *rg_asdb_load_kind(enum rg_asdb_kind kind, const char *const *paths, size_t n,
                           char *err, size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "%s: no files given", rg_asdb_kind_what(kind));
        return NULL;
    }
    if (n == 1) {
        int fd = open(paths[0], O_RDONLY | O_CLOEXEC);
        char head[RG_ASDB_IDX_MAGIC_LEN];
        ssize_t r = fd >= 0 ? read(fd, head, sizeof head) : -1;
        if (fd >= 0)
            close(fd);
        if (r == (ssize_t)sizeof head && rg_asdb_has_index_magic(head, sizeof head))
            return rg_asdb_open_index_kind(kind, paths[0], err, errlen);
    }
    rg_asdb_builder *b = rg_asdb_builder_new_kind(kind);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", rg_asdb_kind_what(kind));
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
