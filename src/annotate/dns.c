#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define DNS_CLASS_IN 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_TXT 16
#define DNS_WIRE_NAME_MAX 255 /* RFC 1035 3.1, root label included */
#define DNS_MAX_JUMPS 32      /* compression pointers followed per name */
#define MAX_TRIES 16
#define MAX_INFLIGHT 4096
#define MAX_TIMEOUT_MS 600000

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------
 * Query names
 * ------------------------------------------------------------------------ */

bool rg_dns_reverse_name(const rg_addr *a, const char *suffix, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int w = -1;
    if (!a || !suffix || !buf || len == 0)
        return false;
    const uint8_t *b = a->bytes;
    if (a->family == 4) {
        w = snprintf(buf, len, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], suffix);
    } else if (a->family == 6) {
        char nib[16 * 4 + 1];
        size_t n = 0;
        for (int i = 15; i >= 0; i--) {
            nib[n++] = hex[b[i] & 0x0f];
            nib[n++] = '.';
            nib[n++] = hex[b[i] >> 4];
            nib[n++] = '.';
        }
        nib[n] = '\0';
        w = snprintf(buf, len, "%s%s", nib, suffix);
    }
    if (w < 0 || (size_t)w >= len) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

bool rg_dns_ptr_name(const rg_addr *a, char *buf, size_t len)
{
    return rg_dns_reverse_name(a, a && a->family == 6 ? "ip6.arpa" : "in-addr.arpa",
                               buf, len);
}

bool rg_cymru_origin_name(const rg_addr *a, char *buf, size_t len)
{
    return rg_dns_reverse_name(a, a && a->family == 6 ? "origin6.asn.cymru.com"
                                                      : "origin.asn.cymru.com",
                               buf, len);
}

bool rg_cymru_as_name(uint32_t asn, char *buf, size_t len)
{
    if (asn == 0 || !buf || len == 0)
        return false;
    int w = snprintf(buf, len, "AS%" PRIu32 ".asn.cymru.com", asn);
    if (w < 0 || (size_t)w >= len) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

static bool prefix_match(const uint8_t *bytes, const uint8_t *p, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(bytes, p, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (bytes[full] & mask) == (p[full] & mask);
}

typedef struct special_net {
    uint8_t bytes[16];
    unsigned bits;
} special_net;

bool rg_cymru_wanted(const rg_addr *a)
{
    /* Only what no BGP table carries; the documentation and benchmarking
     * ranges stay wanted, since the lab's Cymru zone answers for them. */
    static const special_net v4[] = {
        {{0}, 8},             {{10}, 8},      {{100, 64}, 10}, {{127}, 8},
        {{169, 254}, 16},     {{172, 16}, 12}, {{192, 168}, 16}, {{224}, 4},
        {{240}, 4},
    };
    static const special_net v6[] = {
        {{0}, 128},                            /* unspecified */
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, /* v4-mapped */
        {{0xfe, 0x80}, 10},   {{0xfc}, 7},     {{0xff}, 8},
    };
    const special_net *tab = a->family == 4 ? v4 : v6;
    size_t n = a->family == 4 ? sizeof v4 / sizeof v4[0] : sizeof v6 / sizeof v6[0];
    if (a->family != 4 && a->family != 6)
        return false;
    for (size_t i = 0; i < n; i++)
        if (prefix_match(a->bytes, tab[i].bytes, tab[i].bits))
            return false;
    return true;
}

/* ------------------------------------------------------------------------
 * Text checks shared by the parsers
 * ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (shortest form, no surrogates,
 * at most U+10FFFF) and its code point; 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

static bool utf8_ok(const char *s, size_t n, bool allow_controls)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_seq(u + i, n - i, &cp);
        if (k == 0 || cp == 0)
            return false;
        if (cp >= 0x7f && cp < 0xa0) /* DEL and C1: never in a name */
            return false;
        if (!allow_controls && cp < 0x20)
            return false;
        i += k;
    }
    return true;
}

/* ------------------------------------------------------------------------
 * Cymru TXT formats
 * ------------------------------------------------------------------------ */

typedef struct span {
    const char *p;
    size_t n;
} span;

static span trim(span s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t'))
        s.p++, s.n--;
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Splits txt at '|' into at most max fields; the last one keeps the rest
 * of the text, '|' included. Returns the number of fields. */
static size_t split_fields(const char *txt, size_t len, span *f, size_t max)
{
    size_t nf = 0, start = 0;
    for (size_t i = 0; i < len && nf + 1 < max; i++) {
        if (txt[i] != '|')
            continue;
        f[nf++] = trim((span){txt + start, i - start});
        start = i + 1;
    }
    f[nf++] = trim((span){txt + start, len - start});
    return nf;
}

static bool parse_asn(span s, uint32_t *asn)
{
    uint64_t v = 0;
    if (s.n == 0 || s.n > 10)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *asn = (uint32_t)v;
    return true;
}

/* One or more ASNs separated by blanks; the first is kept. */
static bool parse_asn_list(span s, uint32_t *first, unsigned *count)
{
    size_t i = 0;
    *count = 0;
    while (i < s.n) {
        while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        size_t start = i;
        while (i < s.n && s.p[i] != ' ' && s.p[i] != '\t')
            i++;
        if (i == start)
            break;
        uint32_t asn;
        if (!parse_asn((span){s.p + start, i - start}, &asn))
            return false;
        if (*count == 0)
            *first = asn;
        if (*count < UINT_MAX)
            (*count)++;
    }
    return *count > 0;
}

static bool parse_prefix(span s, rg_addr *addr, unsigned *plen)
{
    char buf[RG_ADDR_STRLEN + 1];
    const char *slash = memchr(s.p, '/', s.n);
    if (!slash)
        return false;
    size_t alen = (size_t)(slash - s.p), llen = s.n - alen - 1;
    if (alen == 0 || alen >= sizeof buf || llen == 0 || llen > 3)
        return false;
    memcpy(buf, s.p, alen);
    buf[alen] = '\0';
    if (!rg_addr_parse(buf, addr))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < llen; i++) {
        char c = slash[1 + i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    if (v > (addr->family == 4 ? 32u : 128u))
        return false;
    for (unsigned bit = v; bit < 128; bit++)
        addr->bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
    *plen = v;
    return true;
}

/* Two letters become the upper-case code; anything else leaves "". */
static void parse_country(span s, char out[3])
{
    char cc[3] = "";
    out[0] = '\0';
    if (s.n != 2)
        return;
    for (size_t i = 0; i < 2; i++) {
        char c = s.p[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return;
        cc[i] = c;
    }
    memcpy(out, cc, 3);
}

static bool txt_sane(const char *txt, size_t len)
{
    return txt && len > 0 && len <= RG_DNS_TXT_MAX && !memchr(txt, '\0', len);
}

bool rg_cymru_parse_origin(const char *txt, size_t len, rg_cymru_origin *out)
{
    span f[5];
    memset(out, 0, sizeof *out);
    if (!txt_sane(txt, len))
        return false;
    size_t nf = split_fields(txt, len, f, 5);
    if (nf < 2 || !parse_asn_list(f[0], &out->asn, &out->nasn) ||
        !parse_prefix(f[1], &out->prefix, &out->prefix_len)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    if (nf >= 3)
        parse_country(f[2], out->country);
    return true;
}

/* Cymru appends ", CC" to the AS name; the offline databases do not. */
static span strip_country_suffix(span s)
{
    if (s.n >= 4 && s.p[s.n - 4] == ',' && s.p[s.n - 3] == ' ' &&
        s.p[s.n - 2] >= 'A' && s.p[s.n - 2] <= 'Z' &&
        s.p[s.n - 1] >= 'A' && s.p[s.n - 1] <= 'Z')
        return trim((span){s.p, s.n - 4});
    return s;
}

bool rg_cymru_parse_as(const char *txt, size_t len, rg_cymru_as *out)
{
    span f[5];
    memset(out, 0, sizeof *out);
    if (!txt_sane(txt, len))
        return false;
    size_t nf = split_fields(txt, len, f, 5);
    if (!parse_asn(f[0], &out->asn)) {
        memset(out, 0, sizeof *out);
        return false;
    }
    if (nf >= 2)
        parse_country(f[1], out->country);
    if (nf < 5)
        return true;
    span name = strip_country_suffix(f[4]);
    if (name.n > 0 && name.n <= RG_CYMRU_ORG_MAX && utf8_ok(name.p, name.n, false)) {
        memcpy(out->name, name.p, name.n);
        out->name[name.n] = '\0';
    }
    return true;
}

bool rg_cymru_origin_covers(const rg_cymru_origin *o, const rg_addr *a)
{
    return o->prefix.family != 0 && o->prefix.family == a->family &&
           prefix_match(a->bytes, o->prefix.bytes, o->prefix_len);
}

/* ------------------------------------------------------------------------
 * DNS responses
 * ------------------------------------------------------------------------ */

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Moves *pos past the (possibly compressed) name there. */
static bool skip_name(const unsigned char *m, size_t len, size_t *pos)
{
    size_t p = *pos;
    for (unsigned labels = 0; labels <= DNS_WIRE_NAME_MAX / 2; labels++) {
        if (p >= len)
            return false;
        unsigned c = m[p];
        if (c == 0) {
            *pos = p + 1;
            return true;
        }
        if ((c & 0xc0) == 0xc0) {
            if (p + 2 > len)
                return false;
            *pos = p + 2;
            return true;
        }
        if (c & 0xc0)
            return false; /* the reserved label types */
        p += 1 + c;
    }
    return false;
}

/* Decodes the name at pos into out as raw label bytes joined by '.'.
 * Compression pointers must point backwards, so they cannot loop. */
static int read_name(const unsigned char *m, size_t len, size_t pos,
                     char *out, size_t outlen)
{
    size_t o = 0, wire = 0;
    unsigned jumps = 0;
    for (;;) {
        if (pos >= len)
            return RG_DNS_BAD;
        unsigned c = m[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 2 > len || ++jumps > DNS_MAX_JUMPS)
                return RG_DNS_BAD;
            size_t target = (size_t)(c & 0x3f) << 8 | m[pos + 1];
            if (target >= pos)
                return RG_DNS_BAD;
            pos = target;
            continue;
        }
        if (c & 0xc0)
            return RG_DNS_BAD;
        wire += 1 + c;
        if (wire > DNS_WIRE_NAME_MAX)
            return RG_DNS_BAD;
        if (c == 0)
            break;
        if (pos + 1 + c > len || o + (o > 0) + c >= outlen)
            return RG_DNS_BAD;
        if (memchr(m + pos + 1, '\0', c))
            return RG_DNS_BAD;
        if (o > 0)
            out[o++] = '.';
        memcpy(out + o, m + pos + 1, c);
        o += c;
        pos += 1 + c;
    }
    if (o == 0 || !utf8_ok(out, o, true))
        return RG_DNS_BAD; /* the root, or bytes no output could print */
    out[o] = '\0';
    return RG_DNS_FOUND;
}

/* Per matching record: > 0 stop, 0 go on, < 0 the record is bad. */
typedef int (*rr_fn)(const unsigned char *m, size_t len, size_t rd, size_t rdlen, void *arg);

/* Walks the answer section; returns records handed to fn that did not say
 * "bad", or RG_DNS_BAD when the message is malformed or every matching
 * record was bad. */
static int walk_answers(const unsigned char *m, size_t len, uint16_t type,
                        rr_fn fn, void *arg)
{
    if (!m || len < 12 || !(m[2] & 0x80))
        return RG_DNS_BAD;
    if ((m[3] & 0x0f) != 0)
        return RG_DNS_NODATA; /* an error rcode carries no answer */
    unsigned qd = be16(m + 4), an = be16(m + 6);
    size_t pos = 12;
    for (unsigned i = 0; i < qd; i++) {
        if (!skip_name(m, len, &pos) || pos + 4 > len)
            return RG_DNS_BAD;
        pos += 4;
    }
    int good = 0, bad = 0;
    for (unsigned i = 0; i < an; i++) {
        if (!skip_name(m, len, &pos) || pos + 10 > len)
            return RG_DNS_BAD;
        uint16_t rtype = be16(m + pos), rclass = be16(m + pos + 2);
        size_t rdlen = be16(m + pos + 8), rd = pos + 10;
        if (rd + rdlen > len)
            return RG_DNS_BAD;
        pos = rd + rdlen;
        if (rtype != type || rclass != DNS_CLASS_IN)
            continue;
        int r = fn(m, len, rd, rdlen, arg);
        if (r < 0) {
            bad++;
            continue;
        }
        good++;
        if (r > 0)
            break;
    }
    return good == 0 && bad > 0 ? RG_DNS_BAD : good;
}

typedef struct ptr_arg {
    char *out;
    size_t outlen;
} ptr_arg;

static int ptr_record(const unsigned char *m, size_t len, size_t rd, size_t rdlen, void *arg)
{
    ptr_arg *pa = arg;
    size_t end = rd;
    /* The name must end inside its own rdata (pointers may leave it). */
    if (!skip_name(m, rd + rdlen, &end) || end != rd + rdlen)
        return -1;
    return read_name(m, len, rd, pa->out, pa->outlen) == RG_DNS_FOUND ? 1 : -1;
}

int rg_dns_parse_ptr(const unsigned char *msg, size_t len, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return RG_DNS_BAD;
    out[0] = '\0';
    ptr_arg pa = {out, outlen};
    int r = walk_answers(msg, len, DNS_TYPE_PTR, ptr_record, &pa);
    if (r <= 0)
        out[0] = '\0';
    return r < 0 ? RG_DNS_BAD : r > 0 ? RG_DNS_FOUND : RG_DNS_NODATA;
}

typedef struct txt_arg {
    rg_dns_txt_fn fn;
    void *arg;
} txt_arg;

static int txt_record(const unsigned char *m, size_t len, size_t rd, size_t rdlen, void *arg)
{
    txt_arg *ta = arg;
    char buf[RG_DNS_TXT_MAX];
    size_t n = 0, p = rd, end = rd + rdlen;
    bool fits = true;
    (void)len;
    if (rdlen == 0)
        return -1;
    while (p < end) {
        size_t sl = m[p++];
        if (p + sl > end)
            return -1;
        if (n + sl > sizeof buf)
            fits = false;
        else
            memcpy(buf + n, m + p, sl);
        n += sl;
        p += sl;
    }
    if (!fits)
        return -1;
    ta->fn(buf, n, ta->arg);
    return 0;
}

int rg_dns_parse_txt(const unsigned char *msg, size_t len, rg_dns_txt_fn fn, void *arg)
{
    if (!fn)
        return RG_DNS_BAD;
    txt_arg ta = {fn, arg};
    return walk_answers(msg, len, DNS_TYPE_TXT, txt_record, &ta);
}

/* ------------------------------------------------------------------------
 * Server option
 * ------------------------------------------------------------------------ */

static bool parse_port(const char *s, uint16_t *port)
{
    unsigned v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

bool rg_dns_parse_server(const char *text, rg_addr *addr, uint16_t *port,
                         char *err, size_t errlen)
{
    char buf[64];
    const char *host = buf, *portstr = NULL;
    size_t n = text ? strlen(text) : 0;
    *port = 53;
    if (n == 0 || n >= sizeof buf)
        goto bad;
    memcpy(buf, text, n + 1);
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            goto bad;
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            portstr = close + 2;
    } else {
        char *colon = strchr(buf, ':');
        if (colon && !strchr(colon + 1, ':')) {
            *colon = '\0'; /* one colon: IPv4:PORT; more: a bare IPv6 address */
            portstr = colon + 1;
        }
    }
    if (!rg_addr_parse(host, addr) || (buf[0] == '[' && addr->family != 6))
        goto bad;
    if (portstr && !parse_port(portstr, port))
        goto bad;
    return true;
bad:
    memset(addr, 0, sizeof *addr);
    set_err(err, errlen, "bad DNS server '%.64s': want ADDR, ADDR:PORT or [IPV6]:PORT",
            text ? text : "");
    return false;
}

/* ------------------------------------------------------------------------
 * The lookups
 * ------------------------------------------------------------------------ */

enum job_kind { JOB_PTR, JOB_ORIGIN, JOB_ASNAME };

struct dns_ctx;

typedef struct dns_job {
    struct dns_ctx *ctx;
    size_t idx; /* host index (PTR, ORIGIN) or AS table index (ASNAME) */
    uint8_t kind;
} dns_job;

typedef struct job_list {
    dns_job *v;
    size_t n, next; /* v[0..next) were sent */
} job_list;

typedef struct as_entry {
    uint32_t asn;
    char *name; /* owned; NULL = unknown */
} as_entry;

typedef struct host_cymru {
    rg_cymru_origin origin;
    bool have;
} host_cymru;

typedef struct dns_ctx {
    rg_run *run;
    ares_channel ch;
    job_list main;  /* PTR and origin queries, interleaved per host */
    job_list asq;   /* AS-name queries; sent before the rest of main */
    host_cymru *hc; /* [nhosts] */
    as_entry *as;   /* [nhosts]: at most one AS per host */
    size_t nas;
    struct pollfd *fds, *ready;
    size_t nfds, capfds;
    size_t inflight, window;
    rg_dns_stats st;
    bool oom;
} dns_ctx;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* c-ares tells which sockets to watch; a socket with neither interest is
 * closed and leaves the set. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    dns_ctx *c = data;
    size_t i = 0;
    while (i < c->nfds && c->fds[i].fd != fd)
        i++;
    if (!readable && !writable) {
        if (i < c->nfds)
            c->fds[i] = c->fds[--c->nfds];
        return;
    }
    if (i == c->nfds) {
        if (c->nfds == c->capfds) {
            size_t cap = c->capfds ? c->capfds * 2 : 8;
            struct pollfd *f = realloc(c->fds, cap * sizeof *f);
            struct pollfd *r = f ? realloc(c->ready, cap * sizeof *r) : NULL;
            if (f)
                c->fds = f;
            if (!r) {
                c->oom = true;
                return;
            }
            c->ready = r;
            c->capfds = cap;
        }
        c->nfds++;
    }
    c->fds[i].fd = fd;
    c->fds[i].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    c->fds[i].revents = 0;
}

static as_entry *find_as(dns_ctx *c, uint32_t asn)
{
    /* Linear: a run crosses tens of ASes, rarely more. */
    for (size_t i = 0; i < c->nas; i++)
        if (c->as[i].asn == asn)
            return &c->as[i];
    return NULL;
}

static void on_ptr(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    char name[RG_DNS_NAME_MAX];
    int r = rg_dns_parse_ptr(abuf, alen, name, sizeof name);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (r != RG_DNS_FOUND) {
        c->st.malformed++;
        return;
    }
    if (!rg_host_set(&c->run->hosts[idx].ptr, name)) {
        c->oom = true;
        return;
    }
    c->st.answered++;
    c->st.ptr_found++;
}

typedef struct origin_pick {
    const rg_addr *addr;
    rg_cymru_origin best;
    bool have;
} origin_pick;

/* Several records: the most specific prefix that holds the address wins. */
static void origin_txt(const char *txt, size_t len, void *arg)
{
    origin_pick *op = arg;
    rg_cymru_origin o;
    if (!rg_cymru_parse_origin(txt, len, &o) || !rg_cymru_origin_covers(&o, op->addr))
        return;
    if (!op->have || o.prefix_len > op->best.prefix_len) {
        op->best = o;
        op->have = true;
    }
}

static void on_origin(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    origin_pick op = {.addr = &c->run->hosts[idx].addr};
    int r = rg_dns_parse_txt(abuf, alen, origin_txt, &op);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (!op.have) {
        c->st.malformed++;
        return;
    }
    c->st.answered++;
    c->hc[idx].origin = op.best;
    c->hc[idx].have = true;
    if (find_as(c, op.best.asn))
        return;
    /* Distinct ASes never outnumber hosts, so both tables have room. */
    c->as[c->nas] = (as_entry){.asn = op.best.asn};
    c->asq.v[c->asq.n++] = (dns_job){.ctx = c, .idx = c->nas, .kind = JOB_ASNAME};
    c->nas++;
}

typedef struct as_pick {
    uint32_t want;
    rg_cymru_as got;
    bool have;
} as_pick;

static void as_txt(const char *txt, size_t len, void *arg)
{
    as_pick *ap = arg;
    rg_cymru_as a;
    if (ap->have || !rg_cymru_parse_as(txt, len, &a) || a.asn != ap->want || !a.name[0])
        return;
    ap->got = a;
    ap->have = true;
}

static void on_asname(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    as_entry *e = &c->as[idx];
    as_pick ap = {.want = e->asn};
    int r = rg_dns_parse_txt(abuf, alen, as_txt, &ap);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (!ap.have) {
        c->st.malformed++;
        return;
    }
    if (!(e->name = strdup(ap.got.name))) {
        c->oom = true;
        return;
    }
    c->st.answered++;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    dns_job *j = arg;
    dns_ctx *c = j->ctx;
    (void)timeouts;
    c->inflight--;
    switch (status) {
    case ARES_SUCCESS:
        break;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
        c->st.unfinished++;
        return;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
        c->st.nodata++;
        return;
    case ARES_EBADRESP:
        c->st.malformed++;
        return;
    default:
        c->st.failed++;
        return;
    }
    if (!abuf || alen <= 0) {
        c->st.malformed++;
        return;
    }
    if (j->kind == JOB_PTR)
        on_ptr(c, j->idx, abuf, (size_t)alen);
    else if (j->kind == JOB_ORIGIN)
        on_origin(c, j->idx, abuf, (size_t)alen);
    else
        on_asname(c, j->idx, abuf, (size_t)alen);
}

static void send_job(dns_ctx *c, dns_job *j)
{
    char name[RG_DNS_NAME_MAX];
    const rg_addr *a = j->kind == JOB_ASNAME ? NULL : &c->run->hosts[j->idx].addr;
    bool ok = j->kind == JOB_PTR      ? rg_dns_ptr_name(a, name, sizeof name)
              : j->kind == JOB_ORIGIN ? rg_cymru_origin_name(a, name, sizeof name)
                                      : rg_cymru_as_name(c->as[j->idx].asn, name, sizeof name);
    if (!ok) {
        c->st.malformed++;
        return;
    }
    c->inflight++;
    c->st.queries++;
    /* May call on_answer at once (e.g. no memory); that is fine. */
    ares_query(c->ch, name, DNS_CLASS_IN, j->kind == JOB_PTR ? DNS_TYPE_PTR : DNS_TYPE_TXT,
               on_answer, j);
}

static void top_up(dns_ctx *c)
{
    while (c->inflight < c->window && !c->oom) {
        job_list *l = c->asq.next < c->asq.n ? &c->asq : &c->main;
        if (l->next >= l->n)
            return;
        send_job(c, &l->v[l->next++]);
    }
}

static bool pending(const dns_ctx *c)
{
    return c->inflight > 0 || c->asq.next < c->asq.n || c->main.next < c->main.n;
}

static int wait_ms(dns_ctx *c, uint64_t left)
{
    struct timeval max = {.tv_sec = (time_t)(left / 1000),
                          .tv_usec = (suseconds_t)(left % 1000) * 1000};
    struct timeval tv;
    struct timeval *t = ares_timeout(c->ch, &max, &tv);
    uint64_t ms = (uint64_t)t->tv_sec * 1000u + ((uint64_t)t->tv_usec + 999u) / 1000u;
    if (ms > left)
        ms = left;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Runs until every query is answered or given up, or the deadline. */
static bool event_loop(dns_ctx *c, uint64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        top_up(c);
        if (c->oom || !pending(c))
            return true;
        uint64_t now = now_ms();
        if (now >= deadline) {
            c->st.deadline_hit = true;
            return true;
        }
        int r = poll(c->fds, (nfds_t)c->nfds, wait_ms(c, deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(err, errlen, "DNS: poll: %s", strerror(errno));
            return false;
        }
        if (r == 0) {
            ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        /* Processing may change the socket set; work from a copy. */
        size_t nready = 0;
        for (size_t i = 0; i < c->nfds; i++)
            if (c->fds[i].revents)
                c->ready[nready++] = c->fds[i];
        for (size_t i = 0; i < nready; i++) {
            short ev = c->ready[i].revents;
            ares_socket_t fd = c->ready[i].fd;
            ares_process_fd(c->ch, (ev & (POLLIN | POLLERR | POLLHUP)) ? fd : ARES_SOCKET_BAD,
                            (ev & POLLOUT) ? fd : ARES_SOCKET_BAD);
        }
    }
}

static bool server_allowed(const rg_addr *a)
{
    static const uint8_t lo6[16] = {[15] = 1};
    if (rg_addr_is_lab(a))
        return true;
    /* Loopback never leaves the machine. */
    return (a->family == 4 && a->bytes[0] == 127) ||
           (a->family == 6 && memcmp(a->bytes, lo6, 16) == 0);
}

static bool check_servers(dns_ctx *c, char *err, size_t errlen)
{
    struct ares_addr_port_node *list = NULL;
    if (ares_get_servers_ports(c->ch, &list) != ARES_SUCCESS) {
        set_err(err, errlen, "DNS: cannot read the server list");
        return false;
    }
    bool ok = true;
    for (struct ares_addr_port_node *s = list; s && ok; s = s->next) {
        rg_addr a = {0};
        if (s->family == AF_INET) {
            a.family = 4;
            memcpy(a.bytes, &s->addr.addr4, 4);
        } else if (s->family == AF_INET6) {
            a.family = 6;
            memcpy(a.bytes, &s->addr.addr6, 16);
        }
        if (!server_allowed(&a)) {
            char buf[RG_ADDR_STRLEN];
            set_err(err, errlen, "DNS server %s is outside the lab address ranges",
                    rg_addr_format(&a, buf, sizeof buf));
            ok = false;
        }
    }
    ares_free_data(list);
    return ok;
}

static bool set_server(dns_ctx *c, const rg_addr *a, uint16_t port, char *err, size_t errlen)
{
    struct ares_addr_port_node node;
    memset(&node, 0, sizeof node);
    node.family = a->family == 6 ? AF_INET6 : AF_INET;
    memcpy(a->family == 6 ? (void *)&node.addr.addr6 : (void *)&node.addr.addr4, a->bytes,
           rg_addr_len(a));
    node.udp_port = node.tcp_port = port;
    int rc = ares_set_servers_ports(c->ch, &node);
    if (rc != ARES_SUCCESS) {
        set_err(err, errlen, "DNS: cannot set the server: %s", ares_strerror(rc));
        return false;
    }
    return true;
}

static bool open_channel(dns_ctx *c, const rg_dns_opts *o, const rg_addr *server,
                         uint16_t port, char *err, size_t errlen)
{
    struct ares_options ao;
    memset(&ao, 0, sizeof ao);
    ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    unsigned timeout = o->timeout_ms ? o->timeout_ms : RG_DNS_DEFAULT_TIMEOUT_MS;
    ao.timeout = (int)(timeout > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeout);
    ao.tries = (int)(o->tries ? o->tries : RG_DNS_DEFAULT_TRIES);
    if (ao.tries > MAX_TRIES)
        ao.tries = MAX_TRIES;
    ao.sock_state_cb = sock_state;
    ao.sock_state_cb_data = c;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    int rc = ares_init_options(&c->ch, &ao, mask);
    if (rc != ARES_SUCCESS) {
        c->ch = NULL;
        set_err(err, errlen, "DNS: cannot start c-ares: %s", ares_strerror(rc));
        return false;
    }
    if (server && !set_server(c, server, port, err, errlen))
        return false;
    return !o->lab_only || check_servers(c, err, errlen);
}

/* Queues PTR and origin queries, interleaved so a deadline that cuts the
 * list short still leaves whole hosts done. */
static void plan_jobs(dns_ctx *c, const rg_dns_opts *o)
{
    for (size_t i = 0; i < c->run->nhosts; i++) {
        const rg_host *h = &c->run->hosts[i];
        if (o->do_ptr && !h->ptr)
            c->main.v[c->main.n++] = (dns_job){.ctx = c, .idx = i, .kind = JOB_PTR};
        bool want = o->cymru == RG_CYMRU_ALL || (o->cymru == RG_CYMRU_MISSING && h->asn == 0);
        if (want && rg_cymru_wanted(&h->addr))
            c->main.v[c->main.n++] = (dns_job){.ctx = c, .idx = i, .kind = JOB_ORIGIN};
    }
}

static bool apply_cymru(dns_ctx *c)
{
    for (size_t i = 0; i < c->run->nhosts; i++) {
        if (!c->hc[i].have)
            continue;
        rg_host *h = &c->run->hosts[i];
        const rg_cymru_origin *org = &c->hc[i].origin;
        const as_entry *e = find_as(c, org->asn);
        const char *name = e ? e->name : NULL;
        /* Keep another source's name for the same AS when Cymru gave none. */
        if ((name || h->asn != org->asn) && !rg_host_set(&h->as_org, name))
            return false;
        h->asn = org->asn;
        h->as_source = RG_AS_CYMRU;
        if (!h->country[0] && org->country[0]) {
            memcpy(h->country, org->country, sizeof h->country);
            h->geo_source = RG_AS_CYMRU;
        }
        c->st.cymru_found++;
    }
    return true;
}

static void ctx_free(dns_ctx *c)
{
    for (size_t i = 0; i < c->nas; i++)
        free(c->as[i].name);
    free(c->as);
    free(c->hc);
    free(c->main.v);
    free(c->asq.v);
    free(c->fds);
    free(c->ready);
}

static bool ctx_alloc(dns_ctx *c, size_t nhosts)
{
    size_t n = nhosts ? nhosts : 1;
    c->main.v = calloc(2 * n, sizeof *c->main.v);
    c->asq.v = calloc(n, sizeof *c->asq.v);
    c->hc = calloc(n, sizeof *c->hc);
    c->as = calloc(n, sizeof *c->as);
    return c->main.v && c->asq.v && c->hc && c->as;
}

static bool run_queries(dns_ctx *c, const rg_dns_opts *o, const rg_addr *server,
                        uint16_t port, uint64_t start, char *err, size_t errlen)
{
    unsigned deadline_ms = o->deadline_ms ? o->deadline_ms : RG_DNS_DEFAULT_DEADLINE_MS;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
        set_err(err, errlen, "DNS: cannot initialise c-ares");
        return false;
    }
    bool ok = open_channel(c, o, server, port, err, errlen) &&
              event_loop(c, start + deadline_ms, err, errlen);
    size_t unsent = (c->main.n - c->main.next) + (c->asq.n - c->asq.next);
    if (c->ch)
        ares_destroy(c->ch); /* calls back every open query: ARES_EDESTRUCTION */
    c->ch = NULL;
    ares_library_cleanup();
    c->st.unfinished += unsent;
    return ok;
}

bool rg_dns_annotate(rg_run *run, const rg_dns_opts *o, char *err, size_t errlen)
{
    uint64_t start = now_ms();
    rg_addr server;
    uint16_t port = 53;
    dns_ctx c;
    memset(&c, 0, sizeof c);
    if (err && errlen)
        err[0] = '\0';
    if (o->server && !rg_dns_parse_server(o->server, &server, &port, err, errlen))
        return false;
    if (run->nhosts == 0 && !rg_run_collect_hosts(run)) {
        set_err(err, errlen, "DNS: out of memory");
        return false;
    }
    c.run = run;
    c.window = o->max_inflight ? o->max_inflight : RG_DNS_DEFAULT_INFLIGHT;
    if (c.window > MAX_INFLIGHT)
        c.window = MAX_INFLIGHT;
    bool ok = ctx_alloc(&c, run->nhosts);
    if (ok) {
        plan_jobs(&c, o);
        if (c.main.n > 0)
            ok = run_queries(&c, o, o->server ? &server : NULL, port, start, err, errlen);
        if (ok && !c.oom && !apply_cymru(&c))
            c.oom = true;
    }
    if (!ok && err && !err[0])
        set_err(err, errlen, "DNS: out of memory");
    if (ok && c.oom) {
        set_err(err, errlen, "DNS: out of memory");
        ok = false;
    }
    c.st.elapsed_ms = (unsigned)(now_ms() - start);
    if (o->stats)
        *o->stats = c.st;
    ctx_free(&c);
    return ok;
}
