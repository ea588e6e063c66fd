/* libFuzzer harness for the Cymru TXT parsers and the DNS response parsers
 * that feed them: the input is tried as one TXT record's text (both Cymru
 * formats) and as a whole DNS response (TXT records, then PTR), which
 * c-ares's parsers read. Besides the sanitizers, it checks what cymru.h and
 * dns_parse.h promise about anything accepted.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_cymru_txt.c src/annotate/dns_parse.c src/annotate/cymru.c \
 *     src/util/addr.c -lcares -o fuzz_cymru_txt
 *   ./fuzz_cymru_txt -max_total_time=60 tests/fuzz/corpus/cymru_txt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/cymru.h"
#include "annotate/dns_parse.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_country(const char *cc)
{
    if (cc[0] == '\0')
        return;
    if (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
        abort();
}

static void check_origin(const char *txt, size_t len)
{
    rg_cymru_origin o;
    if (!rg_cymru_parse_origin(txt, len, &o)) {
        if (o.asn != 0)
            abort();
        return;
    }
    if (o.asn == 0 || o.nasn == 0 || len > RG_DNS_TXT_MAX)
        abort();
    if (o.prefix.family != 4 && o.prefix.family != 6)
        abort();
    if (o.prefix_len > (o.prefix.family == 4 ? 32u : 128u))
        abort();
    /* The prefix's own network address must be covered by it. */
    if (!rg_cymru_origin_covers(&o, &o.prefix))
        abort();
    check_country(o.country);
}

static void check_as(const char *txt, size_t len)
{
    rg_cymru_as a;
    if (!rg_cymru_parse_as(txt, len, &a))
        return;
    if (a.asn == 0)
        abort();
    check_country(a.country);
    size_t n = strlen(a.name);
    if (n > RG_CYMRU_ORG_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a.name[i];
        if (c < 0x20 || c == 0x7f)
            abort();
    }
}

static void on_txt(const char *txt, size_t len, void *arg)
{
    (void)arg;
    if (len > RG_DNS_TXT_MAX)
        abort();
    check_origin(txt, len);
    check_as(txt, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so reading past it is caught. */
    char *txt = malloc(size ? size : 1);
    if (!txt)
        return 0;
    memcpy(txt, data, size);
    check_origin(txt, size);
    check_as(txt, size);
    free(txt);

    rg_dns_parse_txt(data, size, on_txt, NULL);

    char name[RG_DNS_NAME_MAX];
    int r = rg_dns_parse_ptr(data, size, name, sizeof name);
    if (r == RG_DNS_FOUND && (name[0] == '\0' || strlen(name) > 253))
        abort();
    if (r == RG_DNS_FOUND && !rg_utf8_name_ok(name, strlen(name)))
        abort();
    if (r != RG_DNS_FOUND && name[0] != '\0')
        abort();
    return 0;
}
