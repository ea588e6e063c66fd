/* atomic_stream: a file written a piece at a time that appears under its
 * name only when finished. Lines go to a temporary file beside the target
 * (PATH.XXXXXX) as they come, so a reader of PATH never sees half a run;
 * rg_stream_commit flushes, syncs and renames it over PATH, rg_stream_abort
 * removes it. Used by the streamed JSONL output (--format jsonl -o PREFIX). */
#ifndef RG_ATOMIC_STREAM_H
#define RG_ATOMIC_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct rg_stream_file {
    FILE *f;      /* write here between begin and commit/abort */
    char *path;   /* owned copy of the final name */
    char *tmp;    /* owned name of the temporary file */
} rg_stream_file;

/* Creates the temporary file. False with one line in err naming path. */
bool rg_stream_begin(rg_stream_file *s, const char *path, char *err, size_t errlen);
/* Flushes, syncs and renames the file into place; on failure the temporary
 * file is removed. Either way s is released. */
bool rg_stream_commit(rg_stream_file *s, char *err, size_t errlen);
/* Closes and removes the temporary file (nothing appears at path). */
void rg_stream_abort(rg_stream_file *s);

#endif
