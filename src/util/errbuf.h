/* errbuf: the one way a module writes its one-line error into the buffer
 * its caller passed (`char *err, size_t errlen`). */
#ifndef RG_ERRBUF_H
#define RG_ERRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the message into err (truncated to errlen - 1 bytes, always
 * NUL-terminated); writes nothing when err is NULL or errlen is 0, so a
 * caller that does not want the text may pass neither. Always returns
 * false, so a function that fails with a message reads
 * `return rg_err(err, errlen, "...", ...);`. */
bool rg_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
