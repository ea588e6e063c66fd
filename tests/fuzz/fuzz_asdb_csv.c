/* libFuzzer harness for the AS database CSV reader (src/annotate/asdb*.c).
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Isrc tests/fuzz/fuzz_asdb_csv.c src/annotate/asdb.c src/annotate/asdb_build.c \
 *     src/annotate/asdb_csv.c src/annotate/asdb_index.c src/util/atomic.c \
 *     src/util/addr.c -o /tmp/fuzz_asdb_csv
 *   /tmp/fuzz_asdb_csv -max_total_time=60 -max_len=8192 /tmp/asdb-corpus tests/fuzz/corpus/asdb_csv
 *
 * Add -DRG_ASDB_MIN_BUCKETED=1 to build the bucket index for every table
 * (big tables only otherwise; slower per input).
 *
 * Input: byte 0 picks the family hint (0, 4, 6), byte 1 where the rest is
 * cut into two sources (so overlaps between sources and the load-order tie
 * rule are exercised), then the CSV text. Every finished database is
 * checked: lookups of addresses taken from the input and of the extremes
 * never crash, answer AS 0 never, and hand out only clean organisation text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/asdb.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const rg_asdb *db, const rg_addr *a)
{
    uint32_t asn = 1;
    const char *org = "x";
    if (rg_asdb_lookup(db, a, &asn, &org)) {
        if (asn == 0)
            abort();
        if (org && (!org[0] || !rg_utf8_name_ok(org, strlen(org))))
            abort();
    } else if (asn != 0 || org != NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const int hints[3] = {0, 4, 6};
    int hint = hints[data[0] % 3];
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    size_t cut = len ? (size_t)data[1] * len / 255 : 0;
    char err[256];
    rg_asdb_builder *b = rg_asdb_builder_new();
    if (!b)
        return 0;
    bool any = rg_asdb_builder_add_buffer(b, text, cut, "a.csv", hint, err, sizeof err);
    any |= rg_asdb_builder_add_buffer(b, text + cut, len - cut, "b.csv", 0, err, sizeof err);
    rg_asdb *db = rg_asdb_builder_finish(b, err, sizeof err);
    if (!db != !any)
        abort(); /* finish fails exactly when no source gave a range */
    if (!db)
        return 0;
    const rg_asdb_info *info = rg_asdb_get_info(db);
    if (info->overlaps == 0 && info->ranges4 + info->ranges6 > info->records)
        abort();
    rg_addr a;
    memset(&a, 0, sizeof a);
    for (int fam = 4; fam <= 6; fam += 2) {
        a.family = (uint8_t)fam;
        memset(a.bytes, 0, sizeof a.bytes);
        check(db, &a);
        memset(a.bytes, 0xff, sizeof a.bytes);
        check(db, &a);
        for (size_t off = 0; off + 16 <= size && off < 512; off += 7) {
            memcpy(a.bytes, data + off, 16);
            check(db, &a);
        }
    }
    rg_asdb_free(db);
    return 0;
}
