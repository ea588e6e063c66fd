/* utf8: the one strict UTF-8 decoder (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and the one test of a name from outside, for
 * every module that reads or writes outside text (annotation sources, the
 * JSON reader, DOT, HTML, JSON, text). */
#ifndef RG_UTF8_H
#define RG_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s and its code point (cp may be
 * NULL); 0 if there is none. s must be NUL-terminated: a NUL fails the
 * continuation checks, so it never reads past the end. */
size_t rg_utf8_char(const unsigned char *s, uint32_t *cp);

/* The same for s[0..n): never reads s[n] or beyond. */
size_t rg_utf8_char_n(const unsigned char *s, size_t n, uint32_t *cp);

/* True when s[0..n) is valid UTF-8 without a control character: C0
 * (U+0000-U+001F, NUL and newline included), DEL (U+007F) or C1
 * (U+0080-U+009F, which some terminals act on). Every name from outside
 * (PTR, AS and city names from CSV, mmdb, Cymru or a saved JSON document,
 * target names read back) must pass it before it is kept; one that fails
 * counts as no name. Still untrusted text: outputs escape it. */
bool rg_utf8_name_ok(const char *s, size_t n);

/* 3 when s[0..n) opens with the UTF-8 byte order mark (EF BB BF, which
 * some editors write at the top of a text file), else 0: the bytes to
 * skip. s may be NULL when n is 0. */
size_t rg_utf8_bom_len(const char *s, size_t n);

#endif
