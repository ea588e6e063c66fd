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

/* Whether rg_write_atomic could write path: its temporary file can be made
 * beside it (then removed), and path is not a directory. Checked before the
 * first probe, so a run never probes for output it cannot keep. */
bool rg_check_writable(const char *path, char *err, size_t errlen);

/* What the atomic writers share (atomic_stream too): a new empty file
 * beside path, named PATH.XXXXXX, its name in *tmp for the caller to
 * free. Its descriptor; or -1 with *tmp NULL and one line in err:
 * "PATH: out of memory" or "PATH: <lead><why>" (lead as the caller words
 * it: "" or "cannot write: "). */
int rg_atomic_temp(const char *path, char **tmp, const char *lead, char *err, size_t errlen);

/* Gives fd the mode any file the user makes gets (mkstemp makes 0600), so
 * an output is as readable as the user's other files. */
void rg_atomic_usual_mode(int fd);

#endif
