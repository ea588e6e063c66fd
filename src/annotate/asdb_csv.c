/* asdb_csv.c: the ip-location-db CSV parser feeding the AS database builder;
 * every read bounded by the line. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asdb_int.h"
#include "../util/utf8.h"

/* ---------------------------------------------------------------------------
 * CSV line parsing. Every read is bounded by the line length; nothing
 * assumes NUL termination.
 * ------------------------------------------------------------------------- */

typedef struct slice {
    const char *p;
    size_t n;
} slice;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits a line into at most maxf fields; quoted fields are unescaped into
 * scratch (at least n bytes). -1 with *why on a malformed line. */
static int split_fields(const char *p, size_t n, slice *f, int maxf, char *scratch,
                        const char **why)
{
    size_t i = 0, sc = 0;
    int nf = 0;
    for (;;) {
        if (nf == maxf) {
            *why = maxf == 4 ? "too many fields (an unquoted comma in the organisation?)"
                             : "too many fields";
            return -1;
        }
        while (i < n && is_blank(p[i]))
            i++;
        if (i < n && p[i] == '"') {
            size_t start = sc;
            for (i++;; i++) {
                if (i >= n) {
                    *why = "unterminated quote";
                    return -1;
                }
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        scratch[sc++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                scratch[sc++] = p[i];
            }
            f[nf++] = (slice){scratch + start, sc - start};
            while (i < n && is_blank(p[i]))
                i++;
            if (i < n && p[i] != ',') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            size_t start = i;
            for (; i < n && p[i] != ','; i++) {
                if (p[i] == '"') {
                    *why = "quote inside an unquoted field";
                    return -1;
                }
            }
            size_t end = i;
            while (end > start && is_blank(p[end - 1]))
                end--;
            f[nf++] = (slice){p + start, end - start};
        }
        if (i >= n)
            return nf;
        i++; /* the comma */
    }
}

static bool all_digits(slice f)
{
    if (f.n == 0)
        return false;
    for (size_t i = 0; i < f.n; i++)
        if (f.p[i] < '0' || f.p[i] > '9')
            return false;
    return true;
}

static bool parse_v4_text(slice f, uint32_t *out)
{
    uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= f.n || f.p[i] != '.')
                return false;
            i++;
        }
        uint32_t x = 0;
        size_t d = 0;
        for (; i < f.n && d < 3 && f.p[i] >= '0' && f.p[i] <= '9'; i++, d++)
            x = x * 10 + (uint32_t)(f.p[i] - '0');
        if (d == 0 || x > 255)
            return false;
        v = v << 8 | x;
    }
    *out = v;
    return i == f.n;
}

/* Decimal up to 2^128 - 1. */
static bool parse_dec128(slice f, key *out)
{
    if (!all_digits(f) || f.n > 39)
        return false;
    key k = {0, 0};
    for (size_t i = 0; i < f.n; i++) {
        uint64_t a = (k.lo & 0xffffffffu) * 10;
        uint64_t b = (k.lo >> 32) * 10 + (a >> 32);
        uint64_t carry = b >> 32;
        if (k.hi > (UINT64_MAX - carry) / 10)
            return false;
        k.hi = k.hi * 10 + carry;
        k.lo = (b << 32) | (a & 0xffffffffu);
        uint64_t d = (uint64_t)(f.p[i] - '0');
        k.lo += d;
        if (k.lo < d && ++k.hi == 0)
            return false;
    }
    *out = k;
    return true;
}

enum addr_form { FORM_BAD, FORM_V4, FORM_V6, FORM_NUM };

static enum addr_form parse_addr(slice f, key *k)
{
    if (f.n == 0)
        return FORM_BAD;
    if (memchr(f.p, ':', f.n)) {
        char buf[64];
        uint8_t bytes[16];
        if (f.n >= sizeof buf || memchr(f.p, '\0', f.n))
            return FORM_BAD;
        memcpy(buf, f.p, f.n);
        buf[f.n] = '\0';
        if (inet_pton(AF_INET6, buf, bytes) != 1)
            return FORM_BAD;
        k->hi = load_be64(bytes);
        k->lo = load_be64(bytes + 8);
        return FORM_V6;
    }
    if (memchr(f.p, '.', f.n)) {
        uint32_t v;
        if (!parse_v4_text(f, &v))
            return FORM_BAD;
        k->hi = 0, k->lo = v;
        return FORM_V4;
    }
    return parse_dec128(f, k) ? FORM_NUM : FORM_BAD;
}

static bool parse_asn(slice f, uint32_t *asn)
{
    if (!all_digits(f) || f.n > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < f.n; i++)
        v = v * 10 + (uint64_t)(f.p[i] - '0');
    if (v > UINT32_MAX)
        return false;
    *asn = (uint32_t)v;
    return true;
}

/* Two ASCII letters, either case, as RG_ASDB_CC of the upper case. */
static bool parse_cc(slice f, uint32_t *cc)
{
    char u[2];
    if (f.n != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = f.p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return false;
        u[i] = c;
    }
    *cc = RG_ASDB_CC(u[0], u[1]);
    return true;
}

/* The third field as the kind reads it; false with *why. */
static bool parse_value(enum rg_asdb_kind kind, slice f, uint32_t *v, const char **why)
{
    if (kind == RG_ASDB_COUNTRY) {
        *why = "country code is not two letters (ISO 3166-1 alpha-2)";
        return parse_cc(f, v);
    }
    *why = "AS number is not a decimal number up to 4294967295";
    return parse_asn(f, v);
}

/* Which family a start/end pair is, or 0 with *why. */
static int pair_family(enum addr_form fs, enum addr_form fe, key e, int hint, const char **why)
{
    if (fs == FORM_BAD || fe == FORM_BAD) {
        *why = fs == FORM_BAD ? "range start is not an IPv4/IPv6 address or number"
                              : "range end is not an IPv4/IPv6 address or number";
        return 0;
    }
    if (fs != fe) {
        *why = "range start and end are of different kinds";
        return 0;
    }
    if (fs == FORM_V4)
        return 4;
    if (fs == FORM_V6)
        return 6;
    bool big = e.hi != 0 || e.lo > UINT32_MAX; /* start <= end is checked later */
    if (hint == 4 && big) {
        *why = "number too large for an IPv4 address";
        return 0;
    }
    return hint == 6 || big ? 6 : 4;
}

enum line_result { LINE_IGNORED, LINE_ADDED, LINE_SKIPPED, LINE_NOMEM };

typedef struct line_ctx {
    rg_asdb_builder *b;
    uint32_t src;
    uint32_t line;
    int hint;
    bool first_record; /* a header line is only allowed first */
    char *scratch;
    const char *why;
} line_ctx;

static enum line_result parse_line(line_ctx *c, const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && is_blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return LINE_IGNORED;
    bool first = c->first_record;
    c->first_record = false;
    if (n > RG_ASDB_MAX_LINE) {
        c->why = "line longer than 4096 bytes";
        return LINE_SKIPPED;
    }
    slice f[4];
    bool cc = c->b->kind == RG_ASDB_COUNTRY;
    int nf = split_fields(p, n, f, cc ? 3 : 4, c->scratch, &c->why);
    if (nf < 0)
        return LINE_SKIPPED;
    if (nf < 3) {
        c->why = cc ? "expected range_start,range_end,country_code"
                    : "expected range_start,range_end,asn,organisation";
        return LINE_SKIPPED;
    }
    key s, e;
    enum addr_form fs = parse_addr(f[0], &s), fe = parse_addr(f[1], &e);
    /* A first line of words ("ip_range_start,...") is a header, not data. */
    if (first && fs == FORM_BAD && !all_digits(f[2]))
        return LINE_IGNORED;
    int fam = pair_family(fs, fe, e, c->hint, &c->why);
    if (fam == 0)
        return LINE_SKIPPED;
    uint32_t asn;
    if (!parse_value(c->b->kind, f[2], &asn, &c->why))
        return LINE_SKIPPED;
    if (key_cmp(e, s) < 0) {
        c->why = "range end lies before its start";
        return LINE_SKIPPED;
    }
    slice org = nf == 4 ? f[3] : (slice){"", 0};
    if (org.n > RG_ASDB_MAX_ORG) {
        c->why = "organisation longer than 1023 bytes";
        return LINE_SKIPPED;
    }
    if (!rg_utf8_name_ok(org.p, org.n)) {
        c->why = "organisation is not valid UTF-8 or holds a control character";
        return LINE_SKIPPED;
    }
    raw r = {.s = s, .e = e, .asn = asn, .src = c->src, .line = c->line};
    if (!rg_asdb_intern(c->b, org.p, org.n, &r.org))
        return LINE_NOMEM;
    rawvec *v = &c->b->fam[fam == 6];
    if (v->n >= IDX_MAX_COUNT || !rg_asdb_rawvec_reserve(v, v->n + 1, false))
        return LINE_NOMEM;
    v->v[v->n++] = r;
    return LINE_ADDED;
}

static bool add_name(rg_asdb_builder *b, const char *name, uint32_t *src)
{
    char **nn = realloc(b->names, (b->nnames + 1) * sizeof *nn);
    if (!nn)
        return false;
    b->names = nn;
    if (!(nn[b->nnames] = strdup(name)))
        return false;
    *src = (uint32_t)b->nnames++;
    return true;
}

/* Line-by-line state of one source, fed from a buffer or from read(2)
 * chunks, so a file is never held whole in memory. */
typedef struct feed {
    line_ctx c;
    const char *name;
    size_t added, skipped;
    bool started; /* past a possible byte order mark */
    char first_skip[RG_ASDB_MSGLEN];
} feed;

static bool feed_begin(feed *f, rg_asdb_builder *b, const char *name, int hint,
                       size_t size_guess, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->c.b = b;
    f->c.hint = hint;
    f->c.first_record = true;
    if (!add_name(b, name, &f->c.src) || !(f->c.scratch = malloc(RG_ASDB_MAX_LINE + 1))) {
        snprintf(err, errlen, "%s: out of memory", name);
        return false;
    }
    /* Reserving (prefaulted) for the expected line count, real lines being
     * 58 (IPv4) to 85 (IPv6) bytes, saves copies and page faults. */
    if (hint == 4 || hint == 6) {
        rawvec *v = &b->fam[hint == 6];
        size_t want = v->n + size_guess / 56 + 1;
        if (want < IDX_MAX_COUNT)
            (void)rg_asdb_rawvec_reserve(v, want, true);
    }
    return true;
}

static void feed_skip(feed *f, const char *why)
{
    if (f->skipped++ == 0)
        rg_asdb_set_msg(f->first_skip, f->name, f->c.line, why);
}

/* One line without its '\n'; false on no memory. */
static bool feed_line(feed *f, const char *p, size_t n, char *err, size_t errlen)
{
    if (f->c.line < UINT32_MAX)
        f->c.line++;
    if (!f->started) {
        f->started = true;
        if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
            p += 3, n -= 3;
    }
    switch (parse_line(&f->c, p, n)) {
    case LINE_NOMEM:
        snprintf(err, errlen, "%s:%lu: out of memory", f->name, (unsigned long)f->c.line);
        return false;
    case LINE_ADDED:
        f->added++;
        break;
    case LINE_SKIPPED:
        feed_skip(f, f->c.why);
        break;
    case LINE_IGNORED:
        break;
    }
    return true;
}

/* A line too long to buffer, reported when its end arrives. */
static void feed_long_line(feed *f)
{
    if (f->c.line < UINT32_MAX)
        f->c.line++;
    f->started = true;
    f->c.first_record = false;
    feed_skip(f, "line longer than 4096 bytes");
}

static bool feed_end(feed *f, char *err, size_t errlen)
{
    rg_asdb_builder *b = f->c.b;
    free(f->c.scratch);
    f->c.scratch = NULL;
    b->info.records += f->added;
    b->info.skipped += f->skipped;
    if (f->skipped && !b->info.first_skip[0])
        memcpy(b->info.first_skip, f->first_skip, sizeof f->first_skip);
    if (f->added > 0)
        return true;
    if (f->skipped)
        snprintf(err, errlen, "%s: no valid address range (%zu lines skipped; first: %s)",
                 f->name, f->skipped, f->first_skip);
    else
        snprintf(err, errlen, "%s: no address ranges", f->name);
    return false;
}

bool rg_asdb_builder_add_buffer(rg_asdb_builder *b, const char *buf, size_t len,
                                const char *name, int family_hint,
                                char *err, size_t errlen)
{
    if (!name)
        name = "(buffer)";
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", name);
        return false;
    }
    feed f;
    if (!feed_begin(&f, b, name, family_hint, len, err, errlen)) {
        free(f.c.scratch);
        return false;
    }
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!feed_line(&f, p, n, err, errlen)) {
            free(f.c.scratch);
            return false;
        }
        p += n + (nl != NULL);
    }
    return feed_end(&f, err, errlen);
}

static int name_hint(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, "ipv6"))
        return 6;
    if (strstr(base, "ipv4"))
        return 4;
    return 0;
}

#define CHUNK ((size_t)1 << 20)

/* Feeds every complete line in buf[0..*have) and keeps the unfinished tail.
 * A tail longer than any valid line is dropped and its line reported once
 * its end arrives (*skipping). */
static bool feed_chunk(feed *f, char *buf, size_t *have, bool eof, bool *skipping,
                       char *err, size_t errlen)
{
    char *p = buf, *end = buf + *have;
    char *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        if (*skipping) {
            *skipping = false;
            feed_long_line(f);
        } else if (!feed_line(f, p, (size_t)(nl - p), err, errlen)) {
            return false;
        }
        p = nl + 1;
    }
    size_t tail = (size_t)(end - p);
    if (eof) {
        if (*skipping) {
            feed_long_line(f);
        } else if (tail > 0 && !feed_line(f, p, tail, err, errlen)) {
            return false;
        }
        tail = 0;
    } else if (*skipping || tail > RG_ASDB_MAX_LINE + 1) {
        *skipping = true;
        tail = 0;
    }
    memmove(buf, p, tail);
    *have = tail;
    return true;
}

bool rg_asdb_builder_add_file(rg_asdb_builder *b, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return false;
    }
    char *buf = malloc(CHUNK);
    feed f;
    bool ok = buf && b && feed_begin(&f, b, path, name_hint(path),
                                      S_ISREG(st.st_mode) ? (size_t)st.st_size : 0,
                                      err, errlen);
    if (!ok) {
        if (!buf || !b)
            snprintf(err, errlen, "%s: out of memory", path);
        else
            free(f.c.scratch);
        free(buf);
        close(fd);
        return false;
    }
    size_t have = 0;
    bool skipping = false, first = true;
    for (;;) {
        ssize_t r = read(fd, buf + have, CHUNK - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            ok = false;
            break;
        }
        have += (size_t)r;
        if (first && have >= RG_ASDB_IDX_MAGIC_LEN) {
            first = false;
            if (rg_asdb_has_index_magic(buf, have)) {
                snprintf(err, errlen, "%s: a compiled %s can only be used alone", path,
                         rg_asdb_kind_index(b->kind));
                ok = false;
                break;
            }
        }
        if (!feed_chunk(&f, buf, &have, r == 0, &skipping, err, errlen)) {
            ok = false;
            break;
        }
        if (r == 0)
            break;
    }
    free(buf);
    close(fd);
    if (!ok) {
        free(f.c.scratch);
        return false;
    }
    return feed_end(&f, err, errlen);
}
