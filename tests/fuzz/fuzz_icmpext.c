/* libFuzzer harness: the RFC 4884 extension parser on any ICMP message.
 * The first input byte picks the family (even: IPv4, odd: ICMPv6), the
 * rest is the message. Besides memory errors it checks what the parser
 * promises: bounds kept, kept names NUL-terminated and passing the
 * outside-text test, and nothing kept unless the structure was accepted.
 *
 *   tests/fuzz/run.sh icmpext      (or by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_icmpext.c src/probe/icmpext.c src/probe/probe.c \
 *     src/util/utf8.c src/util/addr.c -o fuzz_icmpext
 *   ./fuzz_icmpext -max_total_time=60 tests/fuzz/corpus/icmpext
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/icmpext.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ifinfo(const rg_ifinfo *f)
{
    size_t n = strnlen(f->name, sizeof f->name);
    if (n == sizeof f->name || f->role > RG_IF_NEXT_HOP)
        abort();
    if ((f->has & RG_IF_HAS_NAME) ? n == 0 || !rg_utf8_name_ok(f->name, n) : n != 0)
        abort();
    if ((f->has & RG_IF_HAS_ADDR) && f->addr.family != 4 && f->addr.family != 6)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    rg_icmpext e;
    enum rg_icmpext_status st = rg_icmpext_parse(data[0] & 1 ? 6 : 4, data + 1, size - 1, &e);
    if (st != RG_ICMPEXT_OK) {
        if (e.nlabels || e.nifs || e.dropped)
            abort();
        return 0;
    }
    if (e.nlabels > RG_ICMPEXT_MAX_LABELS || e.nifs > RG_ICMPEXT_MAX_IFS)
        abort();
    for (unsigned i = 0; i < e.nlabels; i++)
        if (e.labels[i].label > 0xfffff || e.labels[i].tc > 7 || e.labels[i].s > 1)
            abort();
    for (unsigned i = 0; i < e.nifs; i++)
        check_ifinfo(&e.ifs[i]);
    return 0;
}
