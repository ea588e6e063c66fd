/* cymru.c: Team Cymru's IP-to-ASN service as DNS names and TXT texts: the
 * query names, which addresses are worth asking, and the checks on what an
 * answer says (pure; fuzzed by tests/fuzz/fuzz_cymru_txt.c). */
#include "cymru.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../util/utf8.h"
#include "dns_parse.h"

/* ------------------------------------------------------------------------
 * Query names
 * ------------------------------------------------------------------------ */

bool rg_cymru_origin_name(const rg_addr *a, char *buf, size_t len)
{
    return rg_dns_reverse_name(a, a && a->family == 6 ? "origin6.asn.cymru.com"
                                                      : "origin.asn.cymru.com",
                               buf, len);
}

bool rg_cymru_as_name(uint32_t asn, char *buf, size_t len)
{
    if (asn == 0 || !buf || len == 0)
        return false;
    int w = snprintf(buf, len, "AS%" PRIu32 ".asn.cymru.com", asn);
    if (w < 0 || (size_t)w >= len) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

static bool prefix_match(const uint8_t *bytes, const uint8_t *p, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(bytes, p, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (bytes[full] & mask) == (p[full] & mask);
}

typedef struct special_net {
    uint8_t bytes[16];
    unsigned bits;
} special_net;

bool rg_cymru_wanted(const rg_addr *a)
{
    /* Only what no BGP table carries; the documentation and benchmarking
     * ranges stay wanted, since the lab's Cymru zone answers for them. */
    static const special_net v4[] = {
        {{0}, 8},             {{10}, 8},      {{100, 64}, 10}, {{127}, 8},
        {{169, 254}, 16},     {{172, 16}, 12}, {{192, 168}, 16}, {{224}, 4},
        {{240}, 4},
    };
    static const special_net v6[] = {
        {{0}, 128},                            /* unspecified */
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, /* v4-mapped */
        {{0xfe, 0x80}, 10},   {{0xfc}, 7},     {{0xff}, 8},
    };
    const special_net *tab = a->family == 4 ? v4 : v6;
    size_t n = a->family == 4 ? sizeof v4 / sizeof v4[0] : sizeof v6 / sizeof v6[0];
    if (a->family != 4 && a->family != 6)
        return false;
    for (size_t i = 0; i < n; i++)
        if (prefix_match(a->bytes, tab[i].bytes, tab[i].bits))
            return false;
    return true;
}

/* ------------------------------------------------------------------------
 * Cymru TXT formats
 * ------------------------------------------------------------------------ */

typedef struct span {
    const char *p;
    size_t n;
} span;

static span trim(span s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Splits txt at '|' into at most max fields; the last one keeps the rest
 * of the text, '|' included. Returns the number of fields. */
static size_t split_fields(const char *txt, size_t len, span *f, size_t max)
{
    size_t nf = 0, start = 0;
    for (size_t i = 0; i < len && nf + 1 < max; i++) {
        if (txt[i] != '|')
            continue;
        f[nf++] = trim((span){txt + start, i - start});
        start = i + 1;
    }
    f[nf++] = trim((span){txt + start, len - start});
    return nf;
}

static bool parse_asn(span s, uint32_t *asn)
{
    uint64_t v = 0;
    if (s.n == 0 || s.n > 10)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *asn = (uint32_t)v;
    return true;
}

/* One or more ASNs separated by blanks; the first is kept. */
static bool parse_asn_list(span s, uint32_t *first, unsigned *count)
{
    size_t i = 0;
    *count = 0;
    while (i < s.n) {
        while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        size_t start = i;
        while (i < s.n && s.p[i] != ' ' && s.p[i] != '\t')
            i++;
        if (i == start)
            break;
        uint32_t asn;
        if (!parse_asn((span){s.p + start, i - start}, &asn))
            return false;
        if (*count == 0)
            *first = asn;
        if (*count < UINT_MAX)
            (*count)++;
    }
    return *count > 0;
}

static bool parse_prefix(span s, rg_addr *addr, unsigned *plen)
{
    char buf[RG_ADDR_STRLEN + 1];
    const char *slash = memchr(s.p, '/', s.n);
    if (!slash)
        return false;
    size_t alen = (size_t)(slash - s.p), llen = s.n - alen - 1;
    if (alen == 0 || alen >= sizeof buf || llen == 0 || llen > 3)
        return false;
    memcpy(buf, s.p, alen);
    buf[alen] = '\0';
    if (!rg_addr_parse(buf, addr))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < llen; i++) {
        char c = slash[1 + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    if (v > (addr->family == 4 ? 32u : 128u))
        return false;
    for (unsigned bit = v; bit < 128; bit++)
        addr->bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    *plen = v;
    return true;
}

/* Two letters become the upper-case code; anything else leaves "". */
static void parse_country(span s, char out[3])
{
    char cc[3] = "";
    out[0] = '\0';
    if (s.n != 2)
        return;
    for (size_t i = 0; i < 2; i++) {
        char c = s.p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return;
        cc[i] = c;
    }
    memcpy(out, cc, 3);
}

static bool txt_sane(const char *txt, size_t len)
{
    return txt && len > 0 && len <= RG_DNS_TXT_MAX && !memchr(txt, '\0', len);
}

bool rg_cymru_parse_origin(const char *txt, size_t len, rg_cymru_origin *out)
{
    span f[5];
    memset(out, 0, sizeof *out);
    if (!txt_sane(txt, len))
        return false;
    size_t nf = split_fields(txt, len, f, 5);
    if (nf < 2 || !parse_asn_list(f[0], &out->asn, &out->nasn) ||
        !parse_prefix(f[1], &out->prefix, &out->prefix_len)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    if (nf >= 3)
        parse_country(f[2], out->country);
    return true;
}

/* Cymru appends ", CC" to the AS name; the offline databases do not. */
static span strip_country_suffix(span s)
{
    if (s.n >= 4 && s.p[s.n - 4] == ',' && s.p[s.n - 3] == ' ' &&
        s.p[s.n - 2] >= 'A' && s.p[s.n - 2] <= 'Z' &&
        s.p[s.n - 1] >= 'A' && s.p[s.n - 1] <= 'Z')
        return trim((span){s.p, s.n - 4});
    return s;
}

bool rg_cymru_parse_as(const char *txt, size_t len, rg_cymru_as *out)
{
    span f[5];
    memset(out, 0, sizeof *out);
    if (!txt_sane(txt, len))
        return false;
    size_t nf = split_fields(txt, len, f, 5);
    if (!parse_asn(f[0], &out->asn)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    if (nf >= 2)
        parse_country(f[1], out->country);
    if (nf < 5)
        return true;
    span name = strip_country_suffix(f[4]);
    if (name.n > 0 && name.n <= RG_CYMRU_ORG_MAX && rg_utf8_name_ok(name.p, name.n)) {
        memcpy(out->name, name.p, name.n);
        out->name[name.n] = '\0';
    }
    return true;
}

bool rg_cymru_origin_covers(const rg_cymru_origin *o, const rg_addr *a)
{
    return o->prefix.family != 0 && o->prefix.family == a->family &&
           prefix_match(a->bytes, o->prefix.bytes, o->prefix_len);
}
