#include "say.h"

#include <stdarg.h>
#include <stdio.h>

#include "output/text.h"

void rg_say(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, line);
    fputc('\n', stderr);
}
