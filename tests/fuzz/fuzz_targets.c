/* libFuzzer harness: the target-list parser (-f FILE, stdin, the prompt).
 * Checks its promise too: every name kept is non-empty, at most
 * RG_TARGET_MAXLEN bytes, and made only of host-name/literal characters.
 *
 *   tests/fuzz/run.sh targets    (or by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_targets.c src/cli/targets.c src/util/errbuf.c src/util/utf8.c \
 *     -o fuzz_targets
 *   ./fuzz_targets -max_total_time=60 tests/fuzz/corpus/targets
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_target_list l = {0};
    l.limit = 64; /* small, so the limit path is reached too */
    /* Both modes: --strict's stop-at-first and the default skip-and-count. */
    l.strict = size > 0 && (data[0] & 1);
    char err[256];
    (void)rg_targets_parse(&l, (const char *)data, size, "fuzz", err, sizeof err);
    for (size_t i = 0; i < l.n; i++) {
        size_t n = strlen(l.names[i]);
        if (n == 0 || n > RG_TARGET_MAXLEN ||
            strspn(l.names[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789.:_-") != n)
            abort();
    }
    if (l.nskipped_shown > RG_TARGETS_SHOWN_SKIPS || l.nskipped_shown > l.nskipped)
        abort();
    rg_targets_free(&l);
    return 0;
}
