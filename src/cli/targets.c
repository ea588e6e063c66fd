/* targets: names from argv, a file or stdin, validated byte by byte so that
 * nothing a hostile file holds can reach the resolver or the terminal. */
#include "targets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "../util/errbuf.h"
#include "../util/utf8.h"

/* Bytes of a bad name or path echoed in a message: enough to recognise it,
 * short enough to keep the message on one terminal line. */
#define SHOWN_NAME 40
#define SHOWN_PATH 200
#define READ_CHUNK (64u * 1024)

void rg_targets_escape(char *out, size_t outlen, const char *s, size_t len,
                       size_t max_shown)
{
    if (!out || outlen == 0)
        return;
    size_t o = 0;
    size_t shown = len < max_shown ? len : max_shown;
    bool full = false;
    for (size_t i = 0; i < shown && !full; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5] = {(char)c, '\0'};
        if (c == '\\')
            memcpy(tmp, "\\\\", 3);
        else if (c < 0x20 || c >= 0x7f)
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
        size_t tl = strlen(tmp);
        full = o + tl >= outlen;
        if (!full) {
            memcpy(out + o, tmp, tl);
            o += tl;
        }
    }
    /* A full buffer has no room for "..." either. */
    if (!full && shown < len && o + 3 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* A host name, an IPv4 literal or an IPv6 literal needs nothing else;
 * ASCII ranges rather than isalnum() so the locale cannot widen the set. */
static bool name_byte_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '_' ||
           c == '-';
}

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The slot holding (s, port), or the empty slot where it would go. */
static size_t slot_of(const rg_target_list *l, const char *s, size_t len, uint16_t port)
{
    size_t mask = l->nslots - 1;
    size_t i = (size_t)((hash_bytes(s, len) ^ port) & mask);
    for (;;) {
        uint32_t v = l->slots[i];
        if (v == 0)
            return i;
        const char *name = l->names[v - 1];
        if (strncmp(name, s, len) == 0 && name[len] == '\0' && l->ports[v - 1] == port)
            return i;
        i = (i + 1) & mask;
    }
}

/* Keeps the set at most half full so probing stays short and always ends. */
static bool reserve_slots(rg_target_list *l)
{
    if ((l->n + 1) * 2 <= l->nslots)
        return true;
    size_t nslots = l->nslots ? l->nslots * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    free(l->slots);
    l->slots = slots;
    l->nslots = nslots;
    for (size_t k = 0; k < l->n; k++)
        l->slots[slot_of(l, l->names[k], strlen(l->names[k]), l->ports[k])] = (uint32_t)(k + 1);
    return true;
}

static bool reserve_names(rg_target_list *l)
{
    if (l->n < l->cap)
        return true;
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **names = realloc(l->names, cap * sizeof *names);
    if (names)
        l->names = names;
    uint16_t *ports = names ? realloc(l->ports, cap * sizeof *ports) : NULL;
    if (ports)
        l->ports = ports;
    size_t *lines = ports ? realloc(l->lines, cap * sizeof *lines) : NULL;
    if (!lines)
        return false;
    l->lines = lines;
    l->cap = cap;
    return true;
}

static size_t effective_limit(const rg_target_list *l)
{
    return l->limit && l->limit < RG_MAX_TARGETS ? l->limit : RG_MAX_TARGETS;
}

static bool check_name(const char *s, size_t len, char *err, size_t errlen)
{
    char shown[SHOWN_NAME * 4 + 4];
    if (len == 0)
        return rg_err(err, errlen, "empty target name");
    rg_targets_escape(shown, sizeof shown, s, len, SHOWN_NAME);
    if (len > RG_TARGET_MAXLEN)
        return rg_err(err, errlen, "target '%s' is too long (%zu bytes, at most %d)",
                      shown, len, RG_TARGET_MAXLEN);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (name_byte_ok(c))
            continue;
        if (c > 0x20 && c < 0x7f)
            return rg_err(err, errlen, "'%s' is not a host name or address: '%c' cannot be "
                          "in one (allowed: A-Z a-z 0-9 . : _ -)", shown, c);
        return rg_err(err, errlen, "'%s' is not a host name or address: byte 0x%02x cannot be "
                      "in one (allowed: A-Z a-z 0-9 . : _ -)", shown, c);
    }
    return true;
}

static size_t count_char(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned long v = 0;
    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Splits "[v6]:port", "[v6]", "host:port" or a plain name into the host
 * part and its port (0: none); a plain reason when it cannot be a target. */
static bool split_target(const char *s, size_t len, const char **host, size_t *hlen,
                         uint16_t *port, char *err, size_t errlen)
{
    char shown[SHOWN_NAME * 4 + 4];
    rg_targets_escape(shown, sizeof shown, s, len, SHOWN_NAME);
    *host = s;
    *hlen = len;
    *port = 0;
    for (size_t i = 0; i + 2 < len; i++)
        if (memcmp(s + i, "://", 3) == 0)
            return rg_err(err, errlen, "'%s' looks like a URL: give the host alone "
                          "(and its port as host:port or -p)", shown);
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return rg_err(err, errlen, "'%s': '[' without ']'", shown);
        *host = s + 1;
        *hlen = (size_t)(close - s) - 1;
        size_t rest = len - (size_t)(close - s) - 1;
        if (count_char(*host, *hlen, ':') == 0)
            return rg_err(err, errlen, "'%s': brackets are for IPv6 addresses", shown);
        if (rest == 0)
            return true;
        if (close[1] != ':' || !parse_port(close + 2, rest - 1, port))
            return rg_err(err, errlen, "'%s': after [address] give :port (1-65535)", shown);
        return true;
    }
    if (count_char(s, len, ':') != 1)
        return true; /* a name, an IPv4 or an IPv6 literal */
    const char *colon = memchr(s, ':', len);
    *hlen = (size_t)(colon - s);
    if (!parse_port(colon + 1, len - *hlen - 1, port))
        return rg_err(err, errlen, "'%s' looks like host:port, but '%.*s' is not a port "
                      "(1-65535)", shown, (int)(len - *hlen - 1 > 8 ? 8 : len - *hlen - 1),
                      colon + 1);
    return true;
}

bool rg_targets_entry(const char *s, size_t len, char host[RG_TARGET_MAXLEN + 1],
                      uint16_t *port, char *err, size_t errlen)
{
    const char *h;
    size_t hlen;
    if (!split_target(s, len, &h, &hlen, port, err, errlen) ||
        !check_name(h, hlen, err, errlen))
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    return true;
}

/* s[0..len) need not be NUL-terminated. */
static bool add_span(rg_target_list *l, const char *s, size_t len, size_t line,
                     char *err, size_t errlen)
{
    const char *host;
    size_t hlen;
    uint16_t port;
    if (!split_target(s, len, &host, &hlen, &port, err, errlen) ||
        !check_name(host, hlen, err, errlen))
        return false;
    if (l->nslots > 0 && l->slots[slot_of(l, host, hlen, port)] != 0)
        return true; /* exact duplicate */
    size_t limit = effective_limit(l);
    if (l->n >= limit)
        return rg_err(err, errlen, "too many targets (at most %zu)", limit);
    if (!reserve_names(l) || !reserve_slots(l))
        return rg_err(err, errlen, "out of memory");
    char *copy = malloc(hlen + 1);
    if (!copy)
        return rg_err(err, errlen, "out of memory");
    memcpy(copy, host, hlen);
    copy[hlen] = '\0';
    l->names[l->n] = copy;
    l->ports[l->n] = port;
    l->lines[l->n] = line;
    l->slots[slot_of(l, copy, hlen, port)] = (uint32_t)(l->n + 1);
    l->n++;
    return true;
}

bool rg_targets_add(rg_target_list *l, const char *name, char *err, size_t errlen)
{
    if (!name)
        return rg_err(err, errlen, "empty target name");
    return add_span(l, name, strlen(name), 0, err, errlen);
}

/* What a lenient parse skips: a bad entry, not a full list or no memory. */
static bool skippable(const char *why)
{
    return strncmp(why, "too many targets", 16) != 0 && strcmp(why, "out of memory") != 0;
}

static bool record_skip(rg_target_list *l, const char *msg)
{
    l->nskipped++;
    if (l->nskipped_shown >= RG_TARGETS_SHOWN_SKIPS)
        return true;
    char **s = realloc(l->skipped, (l->nskipped_shown + 1) * sizeof *s);
    if (!s)
        return false;
    l->skipped = s;
    if (!(s[l->nskipped_shown] = strdup(msg)))
        return false;
    l->nskipped_shown++;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool rg_targets_parse(rg_target_list *l, const char *buf, size_t len,
                      const char *origin, char *err, size_t errlen)
{
    if (!buf)
        len = 0;
    size_t i = rg_utf8_bom_len(buf, len), line = 1;
    while (i < len) {
        char c = buf[i];
        if (c == '\n')
            line++;
        if (is_space(c)) {
            i++;
            continue;
        }
        if (c == '#') {
            while (i < len && buf[i] != '\n')
                i++;
            continue;
        }
        size_t start = i;
        while (i < len && !is_space(buf[i]) && buf[i] != '#')
            i++;
        char why[SHOWN_NAME * 4 + 128];
        if (add_span(l, buf + start, i - start, line, why, sizeof why))
            continue;
        char where[SHOWN_PATH * 4 + 4];
        const char *o = origin ? origin : "<input>";
        rg_targets_escape(where, sizeof where, o, strlen(o), SHOWN_PATH);
        rg_err(err, errlen, "%s:%zu: %s", where, line, why);
        if (l->strict || !skippable(why))
            return false;
        if (!record_skip(l, err))
            return rg_err(err, errlen, "out of memory");
    }
    return true;
}

enum slurp_fail { SLURP_OK = 0, SLURP_TOO_BIG, SLURP_NOMEM, SLURP_READ };

/* Reads all of f, up to RG_TARGETS_MAX_FILE bytes. */
static char *slurp(FILE *f, size_t *len, enum slurp_fail *why, int *errnum)
{
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            /* One byte past the limit tells "exactly at" from "over". */
            size_t ncap = cap ? cap * 2 : READ_CHUNK;
            if (ncap > RG_TARGETS_MAX_FILE + 1)
                ncap = RG_TARGETS_MAX_FILE + 1;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                *why = SLURP_NOMEM;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > RG_TARGETS_MAX_FILE) {
            *why = SLURP_TOO_BIG;
            break;
        }
        if (got > 0)
            continue;
        if (ferror(f)) {
            *why = SLURP_READ;
            *errnum = errno ? errno : EIO;
            break;
        }
        *len = n;
        *why = SLURP_OK;
        return buf;
    }
    free(buf);
    return NULL;
}

bool rg_targets_read_file(rg_target_list *l, const char *path, char *err,
                          size_t errlen)
{
    if (!path)
        return rg_err(err, errlen, "no target file given");
    bool use_stdin = strcmp(path, "-") == 0;
    const char *origin = use_stdin ? "stdin" : path;
    char where[SHOWN_PATH * 4 + 4];
    rg_targets_escape(where, sizeof where, origin, strlen(origin), SHOWN_PATH);

    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return rg_err(err, errlen, "%s: %s", where, strerror(errno));
    size_t len = 0;
    enum slurp_fail why = SLURP_OK;
    int errnum = 0;
    errno = 0;
    char *buf = slurp(f, &len, &why, &errnum);
    if (use_stdin)
        clearerr(f);
    else
        fclose(f);
    switch (why) {
    case SLURP_OK:
        break;
    case SLURP_TOO_BIG:
        return rg_err(err, errlen, "%s: larger than %u MiB", where,
                      RG_TARGETS_MAX_FILE >> 20);
    case SLURP_NOMEM:
        return rg_err(err, errlen, "%s: out of memory", where);
    case SLURP_READ:
        return rg_err(err, errlen, "%s: %s", where, strerror(errnum));
    }
    /* An empty file leaves buf NULL; parse treats that as no bytes. */
    bool ok = rg_targets_parse(l, buf, len, origin, err, errlen);
    free(buf);
    return ok;
}

void rg_targets_free(rg_target_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    for (size_t i = 0; i < l->nskipped_shown; i++)
        free(l->skipped[i]);
    free(l->skipped);
    free(l->names);
    free(l->ports);
    free(l->lines);
    free(l->slots);
    memset(l, 0, sizeof *l);
}
