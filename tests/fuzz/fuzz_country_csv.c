/* libFuzzer harness for the country database CSV reader (src/annotate/country.c
 * over the AS database's reader in src/annotate/asdb.c, kind RG_ASDB_COUNTRY).
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Isrc tests/fuzz/fuzz_country_csv.c src/annotate/country.c src/annotate/asdb*.c \
 *     src/util/atomic.c src/util/addr.c src/util/utf8.c -o /tmp/fuzz_country_csv
 *   /tmp/fuzz_country_csv -max_total_time=60 -max_len=8192 /tmp/cc-corpus \
 *     tests/fuzz/corpus/country_csv
 *
 * Input: byte 0 picks the source's name and so its family hint (none, ipv4,
 * ipv6), then the CSV text. Every finished database is checked: lookups of
 * addresses taken from the input and of the extremes never crash and only
 * ever answer two upper-case ASCII letters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/country.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const rg_country_db *db, const rg_addr *a)
{
    char cc[3] = "xx";
    bool found = rg_country_lookup(db, a, cc);
    if (cc[2] != '\0')
        abort();
    if (!found) {
        if (cc[0] || cc[1])
            abort();
        return;
    }
    for (int i = 0; i < 2; i++)
        if (cc[i] < 'A' || cc[i] > 'Z')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const names[3] = {"c.csv", "c-ipv4.csv", "c-ipv6.csv"};
    char err[256];
    rg_country_db *db = rg_country_from_buffer((const char *)data + 1, size - 1,
                                               names[data[0] % 3], err, sizeof err);
    if (!db) {
        if (!err[0])
            abort(); /* a refusal always says why */
        return 0;
    }
    const rg_asdb_info *info = rg_country_info(db);
    if (info->orgs != 0 || info->ranges4 + info->ranges6 == 0)
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
    rg_country_free(db);
    return 0;
}
