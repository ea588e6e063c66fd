/* libFuzzer harness: the lazy target reader (streamed runs' -f FILE and
 * stdin), its input handed over in chunks whose size the first byte picks
 * (split mid-entry, mid-comment, mid-BOM), with reads that must wait.
 * Checks its promise against the whole-buffer parser (targets.c): the
 * same good entries in the same order (the parser drops exact duplicates,
 * the reader leaves that to the planner), the same number of bad ones,
 * every entry a valid host.
 *
 *   tests/fuzz/run.sh target_reader    (or by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_target_reader.c src/cli/target_reader.c src/cli/targets.c \
 *     src/util/errbuf.c src/util/utf8.c -o fuzz_target_reader
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "cli/target_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct feed {
    const uint8_t *data;
    size_t len, pos, chunk;
    unsigned reads;
} feed;

static ssize_t feed_read(void *ctx, char *buf, size_t cap)
{
    feed *f = ctx;
    if (++f->reads % 3 == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t n = f->len - f->pos;
    n = n < f->chunk ? n : f->chunk;
    n = n < cap ? n : cap;
    memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

static bool kept_before(const rg_target_list *l, size_t upto, const rg_target_entry *e)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(l->names[i], e->host) == 0 && l->ports[i] == e->port)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static rg_target_reader r;
    feed f = {.data = data + 1, .len = size - 1, .chunk = (size_t)data[0] % 17 + 1};
    rg_reader_init(&r, feed_read, &f, "fuzz", 0);
    rg_target_list l = {0};
    char err[512];
    (void)rg_targets_parse(&l, (const char *)data + 1, size - 1, "fuzz", err, sizeof err);
    size_t kept = 0, bad = 0, entries = 0;
    bool compare = l.n <= 2000; /* the duplicate check is quadratic */
    for (size_t calls = 0; calls < 4 * size + 16; calls++) {
        rg_target_entry e;
        enum rg_read_status st = rg_reader_next(&r, &e, err, sizeof err);
        if (st == RG_READ_END || st == RG_READ_FAIL)
            break;
        if (st == RG_READ_WAIT)
            continue;
        if (st == RG_READ_BAD) {
            bad++;
            continue;
        }
        entries++;
        size_t n = strlen(e.host);
        if (n == 0 || n > RG_TARGET_MAXLEN || e.line == 0 ||
            strspn(e.host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789.:_-") != n)
            abort();
        if (!compare)
            continue;
        if (kept < l.n && strcmp(l.names[kept], e.host) == 0 && l.ports[kept] == e.port &&
            l.lines[kept] == e.line)
            kept++;
        else if (!kept_before(&l, kept, &e))
            abort(); /* an entry the parser did not keep, and no duplicate */
    }
    if (!r.ended)
        abort(); /* the reader must end within its bounded calls */
    if (compare && entries <= RG_MAX_TARGETS && (kept != l.n || bad != l.nskipped))
        abort();
    rg_targets_free(&l);
    return 0;
}
