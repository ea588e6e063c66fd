#include "text.h"

#include <langinfo.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include "../util/utf8.h"

static bool utf8_terminal;

void rg_text_set_utf8(bool on)
{
    utf8_terminal = on;
}

bool rg_text_locale_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && strcmp(cs, "UTF-8") == 0;
}

/* A character a terminal shows as itself, and the columns it takes; 0
 * columns when it must be escaped: C1 controls, the bidirectional overrides
 * and isolates (text that reads other than it is stored), and what
 * wcwidth does not know. */
static int shown_width(uint32_t cp)
{
    if (cp < 0xa0 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
        cp == 0x200e || cp == 0x200f || cp == 0x061c || cp == 0xfeff)
        return 0;
    int w = wcwidth((wchar_t)cp);
    return w > 0 ? w : 0;
}

size_t rg_text_clean(FILE *out, const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p >= 0x20 && *p < 0x7f) {
            if (*p == '\\') { /* so that \x1b text and an escaped ESC differ */
                if (out)
                    fputs("\\\\", out);
                n += 2;
            } else {
                if (out)
                    fputc(*p, out);
                n++;
            }
            p++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_terminal ? rg_utf8_char(p, &cp) : 0;
        int w = len ? shown_width(cp) : 0;
        if (w > 0) {
            if (out)
                fwrite(p, 1, len, out);
            n += (size_t)w;
            p += len;
            continue;
        }
        if (out)
            fprintf(out, "\\x%02x", (unsigned)*p);
        n += 4;
        p++;
    }
    return n;
}

void rg_text_line(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        size_t len = *p >= 0x80 ? rg_utf8_char(p, &cp) : 0;
        if ((*p >= 0x20 && *p < 0x7f) || (len && utf8_terminal && shown_width(cp) > 0)) {
            size_t k = len ? len : 1;
            fwrite(p, 1, k, out);
            p += k;
            continue;
        }
        fprintf(out, "\\x%02x", (unsigned)*p);
        p++;
    }
}

size_t rg_text_put(FILE *out, const char *s)
{
    if (out)
        fputs(s, out);
    return strlen(s);
}

size_t rg_text_label(FILE *out, const rg_trace *t)
{
    /* As a target is written, so it can be pasted back: host:port, and
     * [v6]:port; a name's address follows in parentheses. */
    char a[RG_ADDR_STRLEN], port[24], text[16];
    rg_addr_format(&t->dst, a, sizeof a);
    snprintf(port, sizeof port, ":%s", rg_trace_port_text(t, text, sizeof text));
    bool v6 = t->dst.family == 6;
    if (t->target && strcmp(t->target, a) != 0)
        return rg_text_clean(out, t->target) + rg_text_put(out, port) + rg_text_put(out, " (") +
               rg_text_put(out, a) + rg_text_put(out, ")");
    return rg_text_put(out, v6 ? "[" : "") + rg_text_put(out, a) + rg_text_put(out, v6 ? "]" : "") +
           rg_text_put(out, port);
}
