#include "text.h"

#include <string.h>

size_t rg_text_clean(FILE *out, const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f) {
            if (out)
                fputc(*p, out);
            n++;
            continue;
        }
        if (out)
            fprintf(out, "\\x%02x", (unsigned)*p);
        n += 4;
    }
    return n;
}

size_t rg_text_put(FILE *out, const char *s)
{
    if (out)
        fputs(s, out);
    return strlen(s);
}

size_t rg_text_label(FILE *out, const rg_trace *t)
{
    char a[RG_ADDR_STRLEN], port[16];
    rg_addr_format(&t->dst, a, sizeof a);
    snprintf(port, sizeof port, ":tcp%u", (unsigned)t->dport);
    size_t n = 0;
    if (t->target && strcmp(t->target, a) != 0) {
        n += rg_text_clean(out, t->target);
        n += rg_text_put(out, " (");
        n += rg_text_put(out, a);
        n += rg_text_put(out, ")");
    } else {
        n += rg_text_put(out, a);
    }
    return n + rg_text_put(out, port);
}
