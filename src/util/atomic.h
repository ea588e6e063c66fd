/* atomic: write an output file completely or not at all.
 * The content goes to a temporary file beside the target, is flushed and
 * synced, then renamed over it; on any error the temporary file is removed,
 * so an operator never finds a half-written report. */
#ifndef RG_ATOMIC_H
#define RG_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef bool (*rg_writer_fn)(FILE *out, const void *ctx);

/* False with one line in err (naming the path) on failure. */
bool rg_write_atomic(const char *path, rg_writer_fn fn, const void *ctx,
                     char *err, size_t errlen);

#endif
