#include "utf8.h"

#include <string.h>

size_t rg_utf8_char_n(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    uint32_t v;
    size_t len;
    if (c < 0x80) {
        len = 1;
        v = c;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0fu;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* overlong */
        hi = c == 0xed ? 0x9f : 0xbf; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07u;
        lo = c == 0xf0 ? 0x90 : 0x80; /* overlong */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* above U+10FFFF */
    } else {
        return 0;
    }
    /* Each byte is read only after the one before it passed, so a NUL (or
     * the end n) stops the reading. */
    for (size_t i = 1; i < len; i++) {
        if (i >= n)
            return 0;
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
        if (s[i] < min || s[i] > max)
            return 0;
        v = (v << 6) | (s[i] & 0x3fu);
    }
    if (cp)
        *cp = v;
    return len;
}

size_t rg_utf8_char(const unsigned char *s, uint32_t *cp)
{
    return rg_utf8_char_n(s, 4, cp);
}

bool rg_utf8_name_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = rg_utf8_char_n(p + i, n - i, &cp);
        if (k == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return false;
        i += k;
    }
    return true;
}

size_t rg_utf8_bom_len(const char *s, size_t n)
{
    static const char BOM[] = "\xef\xbb\xbf";
    if (n < 3 || memcmp(s, BOM, 3) != 0)
        return 0;
    return 3;
}
