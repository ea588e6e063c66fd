/* utf8: one strict UTF-8 decoder for every output that must check outside
 * text (DOT, HTML, JSON): no overlong forms, no surrogates, nothing above
 * U+10FFFF. */
#ifndef RG_UTF8_H
#define RG_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s and its code point (cp may be
 * NULL); 0 if there is none. s must be NUL-terminated: a NUL fails the
 * continuation checks, so it never reads past the end. */
size_t rg_utf8_char(const unsigned char *s, uint32_t *cp);

#endif
