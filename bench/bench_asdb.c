/* bench_asdb: how fast the offline AS database loads and answers, on the
 * real ip-location-db data (scripts/fetch-asn-data.sh puts it in place).
 *
 *   meson setup build && ninja -C build bench_asdb
 *   build/bench_asdb                  # data from ${RG_DATA_DIR:-/usr/local/share/routegraph}/asn
 *   build/bench_asdb --dir DIR        # data from DIR
 *   build/bench_asdb --compile [--dir DIR]   # (re)writes DIR/asn.rgidx and exits
 *   build/bench_asdb --country ...    # the country data (DIR/country.rgidx;
 *                                     # default directory .../country)
 *
 * Prints: CSV parse time (first load in this process, then the best of
 * three), index write and open times, the time rg_asdb_open_dir takes (what
 * routegraph pays at startup), and IPv4/IPv6 lookups per second over
 * random addresses. A benchmark, not a test: figures depend on the machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annotate/annotate.h"
#include "annotate/asdb.h"
#include "annotate/country.h"

/* The AS data unless --country. */
static const rg_asdb_files *files = &rg_asdb_as_files;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static void print_info(const char *what, const rg_asdb_info *i)
{
    printf("%s: %zu IPv4 + %zu IPv6 ranges, %zu organisations, %zu lines skipped, "
           "%zu overlaps%s%s\n",
           what, i->ranges4, i->ranges6, i->orgs, i->skipped, i->overlaps,
           i->first_overlap[0] ? "; first: " : "", i->first_overlap);
    if (i->first_skip[0])
        printf("  first skipped line: %s\n", i->first_skip);
    if (i->note[0])
        printf("  note: %s\n", i->note);
}

/* Range starts from an IPv6 CSV, so IPv6 test addresses can land where the
 * data is (random IPv6 addresses almost all fall in unallocated space). */
static rg_addr *v6_starts(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    rg_addr *v = NULL;
    size_t cap = 0;
    char line[1024];
    *n = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *comma = strchr(line, ',');
        if (!comma)
            continue;
        *comma = '\0';
        if (*n == cap) {
            cap = cap ? 2 * cap : 4096;
            rg_addr *nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        if (rg_addr_parse(line, &v[*n]) && v[*n].family == 6)
            (*n)++;
    }
    if (f)
        fclose(f);
    return v;
}

/* Lookups per second over 2^20 random addresses, repeated for ~2 s. IPv4:
 * uniform over the whole space; IPv6: a random range start from the data
 * with random low 64 bits (most ranges are /48 or larger). */
static void bench_lookups(const rg_asdb *db, int family, const rg_addr *starts, size_t nstarts)
{
    enum { N = 1 << 20 };
    rg_addr *a = calloc(N, sizeof *a);
    if (!a)
        return;
    for (size_t i = 0; i < N; i++) {
        a[i].family = (uint8_t)family;
        uint64_t r = rng(), r2 = rng();
        if (family == 4) {
            memcpy(a[i].bytes, &r, 4);
        } else if (nstarts > 0) {
            a[i] = starts[r % nstarts];
            memcpy(a[i].bytes + 8, &r2, 8);
        } else {
            memcpy(a[i].bytes, &r, 8);
            memcpy(a[i].bytes + 8, &r2, 8);
            a[i].bytes[0] = (uint8_t)(0x20 | (a[i].bytes[0] & 0x1f)); /* 2000::/3 */
        }
    }
    size_t hits = 0, done = 0;
    double t0 = now_ms(), t1 = t0;
    while (t1 - t0 < 2000) {
        for (size_t i = 0; i < N; i++) {
            uint32_t asn;
            hits += rg_asdb_lookup(db, &a[i], &asn, NULL);
        }
        done += N;
        t1 = now_ms();
    }
    printf("IPv%d lookups: %.1f million/s (%zu lookups in %.0f ms, %.1f%% found; %s)\n",
           family, (double)done / (t1 - t0) / 1e3, done, t1 - t0,
           100.0 * (double)hits / (double)done,
           family == 4      ? "uniformly random IPv4 addresses"
           : nstarts > 0    ? "random range starts + random low 64 bits"
                            : "random addresses in 2000::/3");
    free(a);
}

static int compile(const char *dir)
{
    char err[512];
    rg_asdb_info info;
    double t0 = now_ms();
    if (!rg_asdb_compile_files(dir, files, &info, err, sizeof err)) {
        fprintf(stderr, "bench_asdb: %s\n", err);
        return 1;
    }
    printf("compiled %s/%s in %.0f ms\n", dir, files->index, now_ms() - t0);
    print_info("index", &info);
    return 0;
}

int main(int argc, char **argv)
{
    char dirbuf[4096];
    const char *dir = NULL;
    bool do_compile = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--compile") == 0) {
            do_compile = true;
        } else if (strcmp(argv[i], "--country") == 0) {
            files = &rg_country_files;
        } else {
            fprintf(stderr, "usage: bench_asdb [--dir DIR] [--compile] [--country]\n");
            return 2;
        }
    }
    if (!dir)
        dir = files == &rg_country_files ? rg_annotate_country_dir(dirbuf, sizeof dirbuf)
                                         : rg_annotate_asn_dir(dirbuf, sizeof dirbuf);
    if (!dir) {
        fprintf(stderr, "bench_asdb: RG_DATA_DIR too long\n");
        return 2;
    }
    if (do_compile)
        return compile(dir);

    char p4[4200], p6[4200], idx[64];
    snprintf(p4, sizeof p4, "%s/%s", dir, files->csv4);
    snprintf(p6, sizeof p6, "%s/%s", dir, files->csv6);
    if (access(p4, R_OK) != 0 || access(p6, R_OK) != 0) {
        printf("bench_asdb: no %s in %s (run scripts/fetch-asn-data.sh); nothing measured\n",
               files->what, dir);
        return 1;
    }
    const char *paths[] = {p4, p6};
    char err[512];
    rg_asdb *db = NULL;
    double first = 0, best = 1e99;
    for (int run = 0; run < 3; run++) {
        rg_asdb_free(db);
        double t0 = now_ms();
        db = rg_asdb_load_kind(files->kind, paths, 2, err, sizeof err);
        double t = now_ms() - t0;
        if (!db) {
            fprintf(stderr, "bench_asdb: %s\n", err);
            return 1;
        }
        if (run == 0)
            first = t;
        if (t < best)
            best = t;
    }
    print_info("CSV", rg_asdb_get_info(db));
    printf("CSV parse (both files): %.1f ms first load, %.1f ms best of 3\n", first, best);

    snprintf(idx, sizeof idx, "/tmp/bench_asdb.%ld.rgidx", (long)getpid());
    double t0 = now_ms();
    if (!rg_asdb_write_index(db, idx, err, sizeof err)) {
        fprintf(stderr, "bench_asdb: %s\n", err);
        return 1;
    }
    printf("index write: %.1f ms (%s)\n", now_ms() - t0, idx);
    rg_asdb_free(db);
    db = NULL;
    best = 1e99;
    for (int run = 0; run < 5; run++) {
        rg_asdb_free(db);
        t0 = now_ms();
        db = rg_asdb_open_index_kind(files->kind, idx, err, sizeof err);
        double t = now_ms() - t0;
        if (!db) {
            fprintf(stderr, "bench_asdb: %s\n", err);
            unlink(idx);
            return 1;
        }
        if (run == 0)
            first = t;
        if (t < best)
            best = t;
    }
    unlink(idx);
    printf("index open (mmap + full validation): %.2f ms first, %.2f ms best of 5\n", first, best);

    t0 = now_ms();
    rg_asdb *dflt = rg_asdb_open_files(dir, files, err, sizeof err);
    double t = now_ms() - t0;
    if (dflt) {
        const rg_asdb_info *i = rg_asdb_get_info(dflt);
        printf("open_dir %s (what routegraph does): %.2f ms, %s\n", dir, t,
               i->from_index ? "from its compiled index"
                             : "parsed the CSVs (no valid index: run bench_asdb --compile)");
        if (i->note[0])
            printf("  note: %s\n", i->note);
        rg_asdb_free(dflt);
    } else {
        printf("open_dir %s: %s\n", dir, err);
    }

    size_t nstarts;
    rg_addr *starts = v6_starts(p6, &nstarts);
    bench_lookups(db, 4, NULL, 0);
    bench_lookups(db, 6, starts, nstarts);
    free(starts);
    rg_asdb_free(db);
    return 0;
}
