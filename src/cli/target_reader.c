/* target_reader: one entry at a time from a chunked input; nothing but
 * the current chunk and the entry being read is held. The scan is a
 * state machine kept in the reader, so a read that must wait (a pipe not
 * written yet) resumes where it stopped, mid-entry or mid-comment. */
#include "target_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "../util/errbuf.h"
#include "../util/utf8.h"

#define SHOWN_NAME 40
enum { BYTE_END = -1, BYTE_ERROR = -2, BYTE_WAIT = -3 };

/* read(2), after a poll that does not wait when the reader must not block. */
static ssize_t read_fd(void *ctx, char *buf, size_t cap)
{
    const rg_target_reader *r = ctx;
    if (r->nonblocking) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        int rc = poll(&p, 1, 0);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            errno = EAGAIN;
            return -1;
        }
    }
    return read(r->fd, buf, cap);
}

void rg_reader_init(rg_target_reader *r, rg_reader_read_fn read, void *ctx,
                    const char *origin, size_t limit)
{
    memset(r, 0, offsetof(rg_target_reader, tok));
    r->read = read;
    r->ctx = ctx;
    r->fd = -1;
    const char *o = origin ? origin : "<input>";
    rg_targets_escape(r->origin, sizeof r->origin, o, strlen(o), sizeof r->origin / 4 - 4);
    r->limit = limit && limit < RG_MAX_TARGETS ? limit : RG_MAX_TARGETS;
    r->line = 1;
    r->ended = false;
}

bool rg_reader_open(rg_target_reader *r, const char *path, size_t limit, char *err,
                    size_t errlen)
{
    bool use_stdin = strcmp(path, "-") == 0;
    rg_reader_init(r, read_fd, r, use_stdin ? "stdin" : path, limit);
    r->fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return rg_err(err, errlen, "%s: %s", r->origin, strerror(errno));
    r->own_fd = !use_stdin;
    /* A directory opens but cannot be read: say so now, not mid-run. */
    struct stat st;
    if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rg_err(err, errlen, "%s: %s", r->origin, strerror(EISDIR));
        rg_reader_close(r);
        return false;
    }
    return true;
}

bool rg_reader_rereadable(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

void rg_reader_close(rg_target_reader *r)
{
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->own_fd = false;
}

/* The next byte, refilling the chunk; or BYTE_END, BYTE_ERROR, BYTE_WAIT. */
static int next_byte(rg_target_reader *r, int *errnum)
{
    if (r->pos == r->len) {
        ssize_t got;
        do {
            errno = 0;
            got = r->read(r->ctx, r->buf, sizeof r->buf);
        } while (got < 0 && errno == EINTR);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return BYTE_WAIT;
        if (got < 0) {
            *errnum = errno ? errno : EIO;
            return BYTE_ERROR;
        }
        if (got == 0)
            return BYTE_END;
        r->len = (size_t)got;
        r->pos = 0;
    }
    r->offset++;
    return (unsigned char)r->buf[r->pos++];
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static enum rg_read_status fail(rg_target_reader *r, char *err, size_t errlen, int errnum)
{
    r->ended = true;
    rg_err(err, errlen, "%s: %s", r->origin, strerror(errnum));
    return RG_READ_FAIL;
}

/* One entry's verdict: good (out filled), bad, or over the limit. */
static enum rg_read_status judge(rg_target_reader *r, const char *tok, size_t n, size_t line,
                                 rg_target_entry *out, char *err, size_t errlen)
{
    char why[SHOWN_NAME * 4 + 160], shown[SHOWN_NAME * 4 + 4];
    if (n > RG_READER_ENTRY_CAP) {
        rg_targets_escape(shown, sizeof shown, tok, RG_READER_ENTRY_CAP, SHOWN_NAME);
        snprintf(why, sizeof why, "target '%s' is too long (%zu bytes, at most %d)", shown,
                 n, RG_TARGET_MAXLEN);
    } else if (rg_targets_entry(tok, n, out->host, &out->port, why, sizeof why)) {
        if (r->entries >= r->limit) {
            r->ended = true;
            rg_err(err, errlen, "%s:%zu: too many targets (at most %zu)", r->origin, line,
                   r->limit);
            return RG_READ_FAIL;
        }
        out->line = line;
        r->entries++;
        return RG_READ_ENTRY;
    }
    r->bad++;
    rg_err(err, errlen, "%s:%zu: %s", r->origin, line, why);
    return RG_READ_BAD;
}

/* The entry just ended; a BOM opening the input is not part of it. True
 * with *status set when there is something to return. */
static bool finish_entry(rg_target_reader *r, rg_target_entry *out, char *err, size_t errlen,
                         enum rg_read_status *status)
{
    const char *s = r->tok;
    size_t n = r->toklen;
    r->in_entry = false;
    size_t bom = r->entry_at_start ? rg_utf8_bom_len(s, n) : 0;
    if (bom > 0) {
        s += bom;
        n -= bom;
        if (n == 0)
            return false;
    }
    *status = judge(r, s, n, r->tokline, out, err, errlen);
    return true;
}

/* One byte outside an entry: a space, a comment's, or an entry's first. */
static void between_entries(rg_target_reader *r, int c)
{
    if (c == '\n') {
        r->line++;
        r->in_comment = false;
    } else if (r->in_comment || is_space(c)) {
        return;
    } else if (c == '#') {
        r->in_comment = true;
    } else {
        r->in_entry = true;
        r->entry_at_start = r->offset == 1;
        r->tokline = r->line;
        r->tok[0] = (char)c;
        r->toklen = 1;
    }
}

enum rg_read_status rg_reader_next(rg_target_reader *r, rg_target_entry *out, char *err,
                                   size_t errlen)
{
    enum rg_read_status status;
    while (!r->ended) {
        int errnum = 0;
        int c = next_byte(r, &errnum);
        if (c == BYTE_WAIT)
            return RG_READ_WAIT;
        if (c == BYTE_ERROR)
            return fail(r, err, errlen, errnum);
        if (c == BYTE_END) {
            r->ended = true;
            if (r->in_entry && finish_entry(r, out, err, errlen, &status))
                return status;
            return RG_READ_END;
        }
        if (!r->in_entry) {
            between_entries(r, c);
            continue;
        }
        if (!is_space(c) && c != '#') {
            if (r->toklen < RG_READER_ENTRY_CAP)
                r->tok[r->toklen] = (char)c;
            if (r->toklen < SIZE_MAX)
                r->toklen++;
            continue;
        }
        between_entries(r, c); /* the delimiter: a newline counts, '#' opens a comment */
        if (finish_entry(r, out, err, errlen, &status))
            return status;
    }
    return RG_READ_END;
}
