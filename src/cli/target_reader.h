/* target_reader: target entries read lazily, one at a time, from a file or
 * standard input, in the format of targets.h (names or literals separated
 * by spaces or newlines, '#' to the end of a line a comment, a leading
 * UTF-8 BOM skipped, `host:port` / `[v6]:port`). A streamed run asks for
 * entries only as its in-flight window has room, so memory holds one
 * chunk of input, not the list: RG_READER_CHUNK bytes whatever the file's
 * size, an entry split between two reads is put together.
 *
 * Each entry is checked as rg_targets_entry checks it; a bad one is
 * returned as RG_READ_BAD with "ORIGIN:LINE: why" and reading may go on.
 * The bytes come through a read function, so the reader is pure given it
 * (unit tests feed it chunks of any size). */
#ifndef RG_TARGET_READER_H
#define RG_TARGET_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "targets.h"

#define RG_READER_CHUNK (64u * 1024)
#define RG_READER_ORIGIN 256 /* bytes of the escaped origin kept for messages */

/* Up to cap bytes into buf: the count, 0 at the end of input, -1 on an
 * error (errno set; EAGAIN: nothing to read yet, more may come). */
typedef ssize_t (*rg_reader_read_fn)(void *ctx, char *buf, size_t cap);

typedef struct rg_target_entry {
    char host[RG_TARGET_MAXLEN + 1];
    uint16_t port; /* its own port; 0 = none */
    size_t line;   /* 1-based line of the input it starts on */
} rg_target_entry;

enum rg_read_status {
    RG_READ_ENTRY, /* *out holds the next good entry */
    RG_READ_BAD,   /* a bad entry: err says "ORIGIN:LINE: why"; call again for the next */
    RG_READ_WAIT,  /* nothing to read now (a pipe not written yet): call again later */
    RG_READ_END,   /* the input ended */
    RG_READ_FAIL,  /* a read error or more than the limit: err says which; nothing more */
};

/* An entry longer than this cannot be a name with its port (253 bytes,
 * brackets and ":65535"); the rest of it is counted, not kept. */
#define RG_READER_ENTRY_CAP (RG_TARGET_MAXLEN + 16)

typedef struct rg_target_reader {
    rg_reader_read_fn read;
    void *ctx;
    int fd;             /* rg_reader_open's descriptor; -1 otherwise */
    bool own_fd;        /* opened here (not standard input): closed by rg_reader_close */
    bool nonblocking;   /* rg_reader_open's reads: RG_READ_WAIT rather than block */
    char origin[RG_READER_ORIGIN];
    size_t limit;       /* good entries allowed; 0 = RG_MAX_TARGETS */
    size_t entries;     /* good entries returned so far */
    size_t bad;         /* bad entries returned so far */
    size_t line;        /* line of the next byte */
    uint64_t offset;    /* bytes of the input read (a BOM counts at 0 only) */
    size_t len, pos;    /* buf[pos..len) not read yet */
    /* Where the scan stands between calls (a read may have to wait). */
    bool in_comment, in_entry, entry_at_start;
    size_t toklen, tokline;
    char tok[RG_READER_ENTRY_CAP];
    bool ended;         /* RG_READ_END or RG_READ_FAIL was returned */
    char buf[RG_READER_CHUNK];
} rg_target_reader;

/* A reader over read(ctx, ...); origin names the input in messages
 * (escaped, cut to RG_READER_ORIGIN). */
void rg_reader_init(rg_target_reader *r, rg_reader_read_fn read, void *ctx,
                    const char *origin, size_t limit);
/* A reader over path ("-": standard input, named "stdin"), read with
 * read(2) a chunk at a time (a pipe's lines come as they are written).
 * False with "PATH: why" in err when it cannot be opened. */
bool rg_reader_open(rg_target_reader *r, const char *path, size_t limit, char *err,
                    size_t errlen);
/* Whether path is a regular file that can be read twice (a first pass
 * checking every entry before the first probe); "-" and pipes cannot. */
bool rg_reader_rereadable(const char *path);
enum rg_read_status rg_reader_next(rg_target_reader *r, rg_target_entry *out, char *err,
                                   size_t errlen);
/* Closes a file rg_reader_open opened; safe on a reader never opened. */
void rg_reader_close(rg_target_reader *r);

#endif
