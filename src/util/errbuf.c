#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

bool rg_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}
