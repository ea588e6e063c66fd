#include "json_read.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../annotate/annotate.h"
#include "../cli/config.h"
#include "../model/infer.h"
#include "../model/middlebox.h"
#include "../output/json.h"
#include "../util/utf8.h"

enum need {
    REQUIRED, /* present and not null */
    NULLABLE, /* present, may be null */
    OPTIONAL, /* may be absent or null */
};

/* The JSON path of the value being read, for the one error line. */
typedef struct reader {
    char path[192];
    size_t plen;
    char *err;
    size_t errlen;
    bool failed;
    size_t slots;         /* probe slots allocated so far */
    size_t max_slots;     /* rg_json_read_max_slots of the document */
    bool have_options;
    unsigned min_ttl, max_ttl, attempts;
} reader;

/* ---- path and errors ---- */

/* Appends ".key" or "[index]" to the path; returns the mark to pop back to. */
static size_t push(reader *r, const char *key, size_t index)
{
    size_t mark = r->plen, room = sizeof r->path - r->plen;
    int n = key ? snprintf(r->path + r->plen, room, ".%s", key)
                : snprintf(r->path + r->plen, room, "[%zu]", index);
    if (n > 0)
        r->plen += (size_t)n < room ? (size_t)n : room - 1;
    return mark;
}

static size_t push_key(reader *r, const char *key)
{
    return push(r, key, 0);
}

static size_t push_index(reader *r, size_t i)
{
    return push(r, NULL, i);
}

static void pop(reader *r, size_t mark)
{
    r->plen = mark;
    r->path[mark] = '\0';
}

__attribute__((format(printf, 2, 3))) static bool fail(reader *r, const char *fmt, ...)
{
    if (r->failed)
        return false;
    r->failed = true;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s: %s", r->path, msg);
    return false;
}

/* ---- typed members ---- */

/* The member's value, NULL when it is absent or null; false when that is
 * not allowed. The path is left pointing at the member. */
static bool lookup(reader *r, json_t *obj, const char *key, enum need need, json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out)
        return need == OPTIONAL || fail(r, "missing");
    if (json_is_null(*out)) {
        *out = NULL;
        return need != REQUIRED || fail(r, "must not be null");
    }
    return true;
}

static const char *or_null(enum need need)
{
    return need == REQUIRED ? "" : " or null";
}

static bool get_int(reader *r, json_t *obj, const char *key, enum need need, long long min,
                    long long max, long long *out, bool *present)
{
    size_t mark = push_key(r, key);
    json_t *v;
    bool ok = lookup(r, obj, key, need, &v);
    *out = 0;
    if (present)
        *present = ok && v;
    if (ok && v) {
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
        if ((!json_is_integer(v) || x < min || x > max) && min == max)
            ok = fail(r, "expected %lld%s", min, or_null(need));
        else if (!json_is_integer(v) || x < min || x > max)
            ok = fail(r, "expected an integer from %lld to %lld%s", min, max, or_null(need));
        else
            *out = x;
    }
    pop(r, mark);
    return ok;
}

/* DEL or a C1 control character: U+007F, U+0080-U+009F (C2 80 to C2 9F;
 * jansson hands over valid UTF-8 only). No member of the schema may hold
 * one, and JSON writers pass them on unescaped. */
static bool has_c1(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (p[0] == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return true;
    return false;
}

static bool get_str(reader *r, json_t *obj, const char *key, enum need need, const char **out)
{
    size_t mark = push_key(r, key);
    json_t *v;
    bool ok = lookup(r, obj, key, need, &v);
    *out = NULL;
    if (ok && v) {
        if (!json_is_string(v))
            ok = fail(r, "expected a string%s", or_null(need));
        else if (json_string_length(v) > RG_JSON_READ_MAX_STRING)
            ok = fail(r, "longer than %u bytes", RG_JSON_READ_MAX_STRING);
        else if (has_c1(json_string_value(v)))
            ok = fail(r, "holds a DEL or C1 control character (U+007F-U+009F)");
        else
            *out = json_string_value(v);
    }
    pop(r, mark);
    return ok;
}

/* A name from outside (a target, PTR, AS or city name): a string that also
 * passes util/utf8.h's one test, so no C0 control character either; the
 * live run keeps no other (a refused name is no name there). */
static bool get_name(reader *r, json_t *obj, const char *key, enum need need, const char **out)
{
    if (!get_str(r, obj, key, need, out))
        return false;
    if (!*out || rg_utf8_name_ok(*out, strlen(*out)))
        return true;
    size_t mark = push_key(r, key);
    fail(r, "holds a control character (U+0000-U+001F, U+007F-U+009F)");
    pop(r, mark);
    *out = NULL;
    return false;
}

static bool get_bool(reader *r, json_t *obj, const char *key, enum need need, bool *out)
{
    size_t mark = push_key(r, key);
    json_t *v = NULL;
    bool ok = lookup(r, obj, key, need, &v);
    if (ok && v && !json_is_boolean(v))
        ok = fail(r, "expected true or false");
    *out = ok && json_is_true(v);
    pop(r, mark);
    return ok;
}

/* family 0 accepts either; *out stays zeroed when null. */
static bool get_addr(reader *r, json_t *obj, const char *key, enum need need, uint8_t family,
                     rg_addr *out)
{
    size_t mark = push_key(r, key);
    json_t *v;
    bool ok = lookup(r, obj, key, need, &v);
    memset(out, 0, sizeof *out);
    if (ok && v) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        if (!s || json_string_length(v) >= RG_ADDR_STRLEN || !rg_addr_parse(s, out))
            ok = fail(r, "expected an IPv4 or IPv6 address%s", or_null(need));
        else if (family && out->family != family)
            ok = fail(r, "expected an IPv%u address", family);
    }
    pop(r, mark);
    return ok;
}

static bool get_container(reader *r, json_t *obj, const char *key, enum need need,
                          bool array, json_t **out)
{
    size_t mark = push_key(r, key);
    bool ok = lookup(r, obj, key, need, out);
    if (ok && *out && (array ? !json_is_array(*out) : !json_is_object(*out)))
        ok = fail(r, "expected an %s%s", array ? "array" : "object", or_null(need));
    pop(r, mark);
    return ok;
}

/* One of names[], as its index. */
static bool get_enum(reader *r, json_t *obj, const char *key, const char *const *names,
                     size_t n, size_t *out)
{
    const char *s;
    if (!get_str(r, obj, key, REQUIRED, &s))
        return false;
    for (*out = 0; *out < n; (*out)++)
        if (strcmp(s, names[*out]) == 0)
            return true;
    size_t mark = push_key(r, key);
    fail(r, "unknown value");
    pop(r, mark);
    return false;
}

/* ---- times: "YYYY-MM-DDTHH:MM:SS.ffffffZ" ---- */

static bool digits(const char *s, size_t n, unsigned *out)
{
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *out = *out * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil). */
static long long days_from_civil(unsigned y, unsigned m, unsigned d)
{
    long long yy = (long long)y - (m <= 2);
    long long era = yy / 400;
    long long yoe = yy - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool parse_time(const char *s, struct timespec *ts)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h, mi, sec, us;
    if (strlen(s) != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[26] != 'Z')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) ||
        !digits(s + 20, 6, &us))
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        return false;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
    ts->tv_sec = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
    ts->tv_nsec = (long)us * 1000;
    return true;
}

static bool get_time(reader *r, json_t *obj, const char *key, struct timespec *out)
{
    const char *s;
    memset(out, 0, sizeof *out);
    if (!get_str(r, obj, key, NULLABLE, &s))
        return false;
    if (!s || parse_time(s, out))
        return true;
    size_t mark = push_key(r, key);
    fail(r, "expected a time like 2026-11-25T14:50:00.000000Z or null");
    pop(r, mark);
    return false;
}

/* ---- top-level parts ---- */

static bool read_options(reader *r, json_t *doc)
{
    json_t *o, *ports;
    long long min = 1, max = 1, retries = 0, x = 0;
    size_t family;
    static const char *const families[] = {"any", "ipv4", "ipv6", "both"};
    if (!get_container(r, doc, "options", OPTIONAL, false, &o) || !o)
        return !r->failed;
    size_t mark = push_key(r, "options");
    bool ok = get_container(r, o, "ports", REQUIRED, true, &ports);
    for (size_t i = 0; ok && i < json_array_size(ports); i++) {
        size_t m2 = push_key(r, "ports"), m3 = push_index(r, i);
        json_t *p = json_array_get(ports, i);
        if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
            ok = fail(r, "expected an integer from 1 to 65535");
        pop(r, m3);
        pop(r, m2);
    }
    ok = ok && get_int(r, o, "min_ttl", REQUIRED, 1, 255, &min, NULL) &&
         get_int(r, o, "max_ttl", REQUIRED, min, 255, &max, NULL) &&
         get_int(r, o, "sport", NULLABLE, 1, 65535, &x, NULL) &&
         get_int(r, o, "retries", REQUIRED, 0, RG_MAX_RETRIES, &retries, NULL) &&
         get_int(r, o, "rate", REQUIRED, 0, UINT32_MAX, &x, NULL) &&
         get_int(r, o, "gap", REQUIRED, 0, 255, &x, NULL) &&
         get_int(r, o, "stop_set", OPTIONAL, 1, 255, &x, NULL) &&
         get_enum(r, o, "family", families, 4, &family);
    bool flag;
    ok = ok && get_bool(r, o, "no_dns", REQUIRED, &flag);
    json_t *timeout = json_object_get(o, "timeout");
    if (ok && (!json_is_number(timeout) || !isfinite(json_number_value(timeout)) ||
               json_number_value(timeout) < 0)) {
        size_t m2 = push_key(r, "timeout");
        ok = fail(r, "expected a number of seconds, 0 or more");
        pop(r, m2);
    }
    pop(r, mark);
    r->have_options = ok;
    r->min_ttl = (unsigned)min;
    r->max_ttl = (unsigned)max;
    r->attempts = rg_attempts_for((unsigned)retries);
    return ok;
}

static bool read_stats(reader *r, json_t *doc, rg_run_stats *s)
{
    long long send_errors = 0, retries = 0, checks = 0;
    static const char *const keys[] = {"probes_sent", "replies", "matched",
                                       "unmatched", "duplicates", "malformed"};
    uint64_t *fields[] = {&s->probes_sent, &s->replies, &s->matched,
                          &s->unmatched, &s->duplicates, &s->malformed};
    json_t *o;
    bool ok = get_container(r, doc, "stats", REQUIRED, false, &o);
    size_t mark = push_key(r, "stats");
    for (size_t i = 0; ok && i < sizeof keys / sizeof keys[0]; i++) {
        long long v;
        ok = get_int(r, o, keys[i], REQUIRED, 0, INT64_MAX, &v, NULL);
        *fields[i] = (uint64_t)v;
    }
    /* Added later to routegraph/1: optional. */
    ok = ok && get_int(r, o, "send_errors", OPTIONAL, 0, INT64_MAX, &send_errors, NULL);
    ok = ok && get_int(r, o, "retries_sent", OPTIONAL, 0, INT64_MAX, &retries, NULL) &&
         get_int(r, o, "port_checks_sent", OPTIONAL, 0, INT64_MAX, &checks, NULL);
    long long port_probes = 0, inferred = 0;
    ok = ok && get_int(r, o, "port_probes_sent", OPTIONAL, 0, INT64_MAX, &port_probes, NULL) &&
         get_int(r, o, "hops_inferred", OPTIONAL, 0, INT64_MAX, &inferred, NULL);
    s->send_errors = (uint64_t)send_errors;
    s->retries_sent = (uint64_t)retries;
    s->port_checks_sent = (uint64_t)checks;
    s->port_probes_sent = (uint64_t)port_probes;
    s->hops_inferred = (uint64_t)inferred;
    pop(r, mark);
    return ok;
}

static bool read_unresolved(reader *r, json_t *doc, rg_run *run)
{
    json_t *a;
    bool ok = get_container(r, doc, "unresolved", REQUIRED, true, &a);
    size_t mark = push_key(r, "unresolved");
    for (size_t i = 0; ok && i < json_array_size(a); i++) {
        size_t m2 = push_index(r, i);
        json_t *u = json_array_get(a, i);
        const char *name, *why;
        if (!json_is_object(u))
            ok = fail(r, "expected an object");
        ok = ok && get_name(r, u, "name", REQUIRED, &name) &&
             get_str(r, u, "error", REQUIRED, &why);
        if (ok && !rg_run_add_unresolved(run, name, why))
            ok = fail(r, "out of memory");
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

/* ---- traces ---- */

static bool read_flags(reader *r, json_t *o, uint8_t *flags)
{
    static const char letters[] = "FSRPAUEC";
    const char *s;
    *flags = 0;
    if (!get_str(r, o, "tcp_flags", REQUIRED, &s))
        return false;
    for (const char *p = s; *p; p++) {
        const char *at = strchr(letters, *p);
        unsigned bit = at ? (unsigned)(at - letters) : 0;
        if (!at || (*flags & (1u << bit))) {
            size_t mark = push_key(r, "tcp_flags");
            fail(r, "expected distinct letters of FSRPAUEC");
            pop(r, mark);
            return false;
        }
        *flags = (uint8_t)(*flags | (1u << bit));
    }
    return true;
}

/* ---- ICMP extensions (RFC 4884), as output/json.c writes them ---- */

static bool read_label(reader *r, json_t *o, rg_mpls_lse *l)
{
    long long label = 0, tc = 0, s = 0, ttl = 0;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_int(r, o, "label", REQUIRED, 0, 0xfffff, &label, NULL) ||
        !get_int(r, o, "tc", REQUIRED, 0, 7, &tc, NULL) ||
        !get_int(r, o, "s", REQUIRED, 0, 1, &s, NULL) ||
        !get_int(r, o, "ttl", REQUIRED, 0, 255, &ttl, NULL))
        return false;
    *l = (rg_mpls_lse){(uint32_t)label, (uint8_t)tc, (uint8_t)s, (uint8_t)ttl};
    return true;
}

static bool read_ifinfo(reader *r, json_t *o, rg_ifinfo *f)
{
    static const char *const roles[] = {"incoming", "sub-ip", "outgoing", "next-hop"};
    size_t role = 0;
    long long ifindex = 0, mtu = 0;
    bool has_ifindex = false, has_mtu = false;
    const char *name = NULL;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_enum(r, o, "role", roles, 4, &role) ||
        !get_int(r, o, "ifindex", OPTIONAL, 0, UINT32_MAX, &ifindex, &has_ifindex) ||
        !get_addr(r, o, "address", OPTIONAL, 0, &f->addr) ||
        !get_name(r, o, "name", OPTIONAL, &name) ||
        !get_int(r, o, "mtu", OPTIONAL, 0, UINT32_MAX, &mtu, &has_mtu))
        return false;
    if (name && (strlen(name) == 0 || strlen(name) > RG_ICMPEXT_NAME_MAX)) {
        size_t mark = push_key(r, "name");
        fail(r, "expected 1 to %u bytes", RG_ICMPEXT_NAME_MAX);
        pop(r, mark);
        return false;
    }
    f->role = (uint8_t)role;
    f->ifindex = (uint32_t)ifindex;
    f->mtu = (uint32_t)mtu;
    f->has = (uint8_t)((has_ifindex ? RG_IF_HAS_IFINDEX : 0) | (has_mtu ? RG_IF_HAS_MTU : 0) |
                       (f->addr.family ? RG_IF_HAS_ADDR : 0) | (name ? RG_IF_HAS_NAME : 0));
    if (name)
        strcpy(f->name, name);
    return true;
}

/* "mpls" (labels) or "interfaces": an optional array of 1 to the bound. */
static bool read_ext_list(reader *r, json_t *o, bool labels, rg_icmpext *e)
{
    const char *key = labels ? "mpls" : "interfaces";
    size_t max = labels ? RG_ICMPEXT_MAX_LABELS : RG_ICMPEXT_MAX_IFS;
    json_t *a;
    if (!get_container(r, o, key, OPTIONAL, true, &a))
        return false;
    if (!a)
        return true;
    size_t mark = push_key(r, key), n = json_array_size(a);
    bool ok = n >= 1 && n <= max;
    if (!ok)
        fail(r, "expected 1 to %zu entries", max);
    for (size_t i = 0; ok && i < n; i++) {
        size_t m2 = push_index(r, i);
        json_t *x = json_array_get(a, i);
        ok = labels ? read_label(r, x, &e->labels[e->nlabels++])
                    : read_ifinfo(r, x, &e->ifs[e->nifs++]);
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

static bool read_extensions(reader *r, json_t *reply, rg_trace *t, const rg_probe *p)
{
    static const char *const layouts[] = {"rfc4884", "pre-rfc4884"};
    json_t *o;
    if (!get_container(r, reply, "extensions", OPTIONAL, false, &o))
        return false;
    if (!o)
        return true;
    size_t mark = push_key(r, "extensions"), layout = 0;
    long long dropped = 0;
    rg_icmpext e;
    memset(&e, 0, sizeof e);
    bool ok = get_enum(r, o, "layout", layouts, 2, &layout) &&
              get_int(r, o, "dropped", OPTIONAL, 0, 255, &dropped, NULL) &&
              read_ext_list(r, o, true, &e) && read_ext_list(r, o, false, &e);
    e.compliant = layout == 0;
    e.dropped = (uint8_t)dropped;
    if (ok && !rg_icmpext_any(&e))
        ok = fail(r, "expected \"mpls\" or \"interfaces\"");
    if (ok && !rg_trace_set_ext(t, p, &e))
        ok = fail(r, "out of memory");
    pop(r, mark);
    return ok;
}

static bool read_reply(reader *r, json_t *o, rg_trace *t, rg_probe *p)
{
    uint8_t family = t->dst.family;
    static const char *const kinds[] = {"time-exceeded", "unreachable", "syn-ack", "rst",
                                        "udp", "echo-reply", "port-unreachable"};
    static const uint8_t kind_values[] = {RG_REPLY_TIME_EXCEEDED, RG_REPLY_UNREACHABLE,
                                          RG_REPLY_SYNACK, RG_REPLY_RST, RG_REPLY_UDP,
                                          RG_REPLY_ECHO, RG_REPLY_PORT_UNREACH};
    size_t kind;
    long long type = 0, code = 0, rtt = 0, ttl = 0;
    if (!get_addr(r, o, "from", REQUIRED, family, &p->from) ||
        !get_enum(r, o, "kind", kinds, 7, &kind))
        return false;
    p->kind = kind_values[kind];
    bool tcp = p->kind == RG_REPLY_SYNACK || p->kind == RG_REPLY_RST;
    bool icmp = !tcp && p->kind != RG_REPLY_UDP;
    if (icmp && (!get_int(r, o, "icmp_type", REQUIRED, 0, 255, &type, NULL) ||
                 !get_int(r, o, "icmp_code", REQUIRED, 0, 255, &code, NULL)))
        return false;
    if (tcp && !read_flags(r, o, &p->tcp_flags))
        return false;
    if (!get_int(r, o, "rtt_us", REQUIRED, 0, UINT32_MAX, &rtt, NULL) ||
        !get_int(r, o, "reply_ttl", REQUIRED, 0, 255, &ttl, NULL) ||
        !get_time(r, o, "received", &p->received))
        return false;
    long long quoted = 0;
    if (icmp && !get_int(r, o, "quoted_tcp_bytes", OPTIONAL, 1, 255, &quoted, NULL))
        return false;
    /* The rest of the comparison comes from the hops' middlebox lists. */
    p->quote.tcp_quoted = (uint8_t)quoted;
    p->icmp_type = (uint8_t)type;
    p->icmp_code = (uint8_t)code;
    p->rtt_us = (uint32_t)rtt;
    p->reply_ttl = (uint8_t)ttl;
    return !icmp || read_extensions(r, o, t, p);
}

static bool read_probe(reader *r, json_t *o, size_t index, rg_trace *t, rg_probe *p)
{
    long long attempt = 0, dups = 0;
    json_t *reply;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_int(r, o, "attempt", REQUIRED, (long long)index, (long long)index, &attempt, NULL) ||
        !get_time(r, o, "sent", &p->sent) ||
        !get_int(r, o, "duplicates", OPTIONAL, 0, 255, &dups, NULL) ||
        !get_bool(r, o, "port_check", OPTIONAL, &p->port_check) ||
        !get_container(r, o, "reply", NULLABLE, false, &reply))
        return false;
    p->duplicates = (uint8_t)dups;
    if (!reply)
        return true;
    size_t mark = push_key(r, "reply");
    bool ok = read_reply(r, reply, t, p);
    pop(r, mark);
    return ok;
}

static bool read_hop(reader *r, json_t *hop, rg_trace *t)
{
    long long ttl = 0;
    rg_addr responder;
    json_t *probes;
    if (!get_int(r, hop, "ttl", REQUIRED, t->min_ttl, t->max_ttl, &ttl, NULL) ||
        !get_addr(r, hop, "responder", NULLABLE, t->dst.family, &responder) ||
        !get_container(r, hop, "probes", REQUIRED, true, &probes))
        return false;
    size_t n = json_array_size(probes);
    size_t mark = push_key(r, "probes");
    /* No probe: a hop inferred from other traces (re-derived, not read). */
    json_t *inferred = json_object_get(hop, "inferred_responder");
    unsigned least = inferred && !json_is_null(inferred) ? 0 : 1;
    bool ok = n >= least && n <= t->attempts;
    if (!ok)
        fail(r, "expected %u to %u probes", least, t->attempts);
    for (size_t i = 0; ok && i < n; i++) {
        size_t m2 = push_index(r, i);
        ok = read_probe(r, json_array_get(probes, i), i, t,
                        rg_trace_probe(t, (unsigned)ttl, (unsigned)i));
        pop(r, m2);
    }
    pop(r, mark);
    if (ok)
        rg_trace_set_sent(t, (unsigned)ttl, (unsigned)n);
    return ok;
}

/* First pass over the hops: TTLs ascend, probe counts fit; and, without
 * options, the TTL range and probes per TTL that hold them all. */
static bool scan_hops(reader *r, json_t *hops, unsigned *min, unsigned *max,
                      unsigned *attempts)
{
    long long prev = 0;
    *min = r->have_options ? r->min_ttl : 0;
    *max = r->have_options ? r->max_ttl : 0;
    *attempts = r->have_options ? r->attempts : 1;
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(hops); i++) {
        size_t mark = push_index(r, i);
        json_t *hop = json_array_get(hops, i), *probes = NULL;
        long long ttl = 0;
        ok = json_is_object(hop) || fail(r, "expected an object");
        ok = ok && get_int(r, hop, "ttl", REQUIRED, prev + 1, 255, &ttl, NULL) &&
             get_container(r, hop, "probes", REQUIRED, true, &probes);
        size_t n = ok ? json_array_size(probes) : 0;
        if (ok && !r->have_options) {
            *min = *min ? *min : (unsigned)ttl;
            *max = (unsigned)ttl;
            *attempts = n > *attempts && n <= rg_attempts_for(RG_MAX_RETRIES) ? (unsigned)n
                                                                               : *attempts;
        }
        prev = ttl;
        pop(r, mark);
    }
    *min = *min ? *min : 1;
    *max = *max ? *max : *min;
    return ok;
}

static bool read_verdict(reader *r, json_t *o)
{
    /* "unreachable" is routegraph/2's; the verdict is derived again from
     * the probes anyway, so a routegraph/1 "filtered" reads the same. */
    static const char *const states[] = {"open", "closed", "filtered", "unknown", "unreachable"};
    size_t state;
    bool reached = false;
    long long x = 0;
    const char *stop;
    return get_enum(r, o, "state", states, 5, &state) && get_bool(r, o, "reached", REQUIRED, &reached) &&
           get_int(r, o, "reached_ttl", NULLABLE, 1, 255, &x, NULL) &&
           get_int(r, o, "rtt_us", NULLABLE, 0, UINT32_MAX, &x, NULL) &&
           get_int(r, o, "last_answer_ttl", NULLABLE, 1, 255, &x, NULL) &&
           get_str(r, o, "stopped_by", NULLABLE, &stop);
}

/* The trace's port probes (added later to routegraph/1: optional). */
static bool read_port_probes(reader *r, json_t *o, rg_trace *t)
{
    json_t *pp, *probes;
    long long ttl = 0;
    if (!get_container(r, o, "port_probes", OPTIONAL, false, &pp))
        return false;
    if (!pp)
        return true;
    size_t mark = push_key(r, "port_probes");
    bool ok = get_int(r, pp, "ttl", REQUIRED, 1, 255, &ttl, NULL) &&
              get_container(r, pp, "probes", REQUIRED, true, &probes);
    size_t n = ok ? json_array_size(probes) : 0;
    if (ok && n > t->attempts)
        ok = fail(r, "expected 0 to %u probes", t->attempts);
    size_t m1 = push_key(r, "probes");
    for (size_t i = 0; ok && i < n; i++) {
        size_t m2 = push_index(r, i);
        ok = read_probe(r, json_array_get(probes, i), i, t,
                        rg_trace_probe(t, RG_PORT_PROBE_TTL, (unsigned)i));
        pop(r, m2);
    }
    pop(r, m1);
    pop(r, mark);
    if (ok) {
        t->port_ttl = (unsigned)ttl;
        rg_trace_set_sent(t, RG_PORT_PROBE_TTL, (unsigned)n);
    }
    return ok;
}

/* ---- middlebox changes: hops[].middlebox back into the probes' quote
 * comparisons, so that every output derives the same changes again ---- */

/* What the quotes showed so far, up the hops. */
typedef struct quote_state {
    uint8_t tos, ttl;
    uint16_t mss, sent_mss;
    uint16_t rare;            /* rarer fields rewritten (RG_QC_RARE bits) */
    bool options;             /* TCP options changed */
} quote_state;

static uint16_t change_bit(const char *name)
{
    for (unsigned i = 0; i < RG_QC_KINDS; i++)
        if (strcmp(name, rg_quote_change_name(1u << i)) == 0)
            return (uint16_t)(1u << i);
    return 0;
}

/* The upper bound of a numeric field's value (seq: a signed shift). */
static long long change_max(uint16_t bit)
{
    switch (bit) {
    case RG_QC_DSCP: return 63;
    case RG_QC_ECN: return 3;
    case RG_QC_TTL: case RG_QC_TCP: return 255;
    case RG_QC_FLOW: return 0xfffff;
    case RG_QC_SEQ: return INT32_MAX;
    default: return 65535;
    }
}

static void set_rare(rg_trace *t, uint16_t bit, long long to)
{
    switch (bit) {
    case RG_QC_IPID: t->rare.ip_id = (uint16_t)to; break;
    case RG_QC_SPORT: t->rare.sport = (uint16_t)to; break;
    case RG_QC_DPORT: t->rare.dport = (uint16_t)to; break;
    case RG_QC_FLOW: t->rare.flow = (uint32_t)to; break;
    case RG_QC_TCP: t->rare.tcp_flags = (uint8_t)to; break;
    case RG_QC_SEQ: t->rare.seq = (uint32_t)to; break;
    default: break;
    }
}

/* A rarer field: rewritten, or (listed again) back as sent. */
static bool read_rare(reader *r, json_t *c, rg_trace *t, uint16_t bit, quote_state *q)
{
    bool first = !(q->rare & bit);
    q->rare ^= bit;
    if (bit == RG_QC_SRC || bit == RG_QC_DST) {
        rg_addr a;
        if (!get_addr(r, c, "to", REQUIRED, t->dst.family, &a))
            return false;
        if (first)
            *(bit == RG_QC_SRC ? &t->quoted_src : &t->quoted_dst) = a;
        return true;
    }
    long long min = bit == RG_QC_SEQ ? INT32_MIN : 0, to = 0;
    if (!get_int(r, c, "to", REQUIRED, min, change_max(bit), &to, NULL))
        return false;
    if (first)
        set_rare(t, bit, to);
    return true;
}

static bool read_change(reader *r, json_t *c, rg_trace *t, unsigned ttl, quote_state *q)
{
    const char *field;
    long long after = 0, to = 0;
    if (!json_is_object(c))
        return fail(r, "expected an object");
    if (!get_str(r, c, "field", REQUIRED, &field) ||
        !get_int(r, c, "after_ttl", REQUIRED, 0, (long long)ttl - 1, &after, NULL))
        return false;
    uint16_t bit = change_bit(field);
    if (bit & RG_QC_RARE) {
        if (!t->rare_ttl)
            t->rare_ttl = ttl;
        return read_rare(r, c, t, bit, q);
    }
    if (bit == RG_QC_OPTIONS)
        return get_bool(r, c, "to", REQUIRED, &q->options);
    if (bit == 0)
        return true; /* an open enumeration: a later field is passed over */
    if (!get_int(r, c, "to", REQUIRED, 0, change_max(bit), &to, NULL))
        return false;
    if (bit == RG_QC_DSCP)
        q->tos = (uint8_t)(to << 2 | (q->tos & 3));
    else if (bit == RG_QC_ECN)
        q->tos = (uint8_t)((q->tos & 0xfc) | to);
    else if (bit == RG_QC_TTL)
        q->ttl = (uint8_t)to;
    else
        q->mss = (uint16_t)to;
    return true;
}

/* The comparison of each quoted answer at ttl, as the state stands. */
static void apply_state(rg_trace *t, unsigned ttl, const quote_state *q)
{
    bool found = false;
    for (unsigned a = 0; a < rg_trace_sent(t, ttl); a++) {
        rg_probe *p = rg_trace_probe(t, ttl, a);
        if (!p || p->quote.tcp_quoted == 0)
            continue;
        rg_quote_brief *b = &p->quote;
        b->tos = q->tos;
        b->ttl = q->ttl;
        b->options = b->tcp_quoted >= 24;
        b->mss = b->options ? q->mss : 0;
        b->changes = q->rare;
        b->changes |= (q->tos & 0xfc) ? RG_QC_DSCP : 0;
        b->changes |= (q->tos & 3) ? RG_QC_ECN : 0;
        b->changes |= p->kind == RG_REPLY_TIME_EXCEEDED && q->ttl > 1 ? RG_QC_TTL : 0;
        b->changes |= b->options && q->mss != q->sent_mss ? RG_QC_MSS : 0;
        b->changes |= b->options && q->options ? RG_QC_OPTIONS : 0;
        if (t->rare_ttl == ttl && !found) {
            t->rare_attempt = a; /* the answer the outputs read (first quoted) */
            found = true;
        }
    }
}

static bool read_middlebox(reader *r, json_t *hops, rg_trace *t)
{
    rg_quote_diff sent;
    quote_state q = {.ttl = 1};
    if (rg_middlebox_sent(t, t->min_ttl, 0, &sent))
        q.sent_mss = q.mss = sent.mss;
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(hops); i++) {
        size_t mark = push_index(r, i);
        json_t *hop = json_array_get(hops, i), *list;
        long long ttl = 0;
        ok = get_int(r, hop, "ttl", REQUIRED, t->min_ttl, t->max_ttl, &ttl, NULL) &&
             get_container(r, hop, "middlebox", OPTIONAL, true, &list);
        size_t m2 = push_key(r, "middlebox");
        for (size_t k = 0; ok && list && k < json_array_size(list); k++) {
            size_t m3 = push_index(r, k);
            ok = read_change(r, json_array_get(list, k), t, (unsigned)ttl, &q);
            pop(r, m3);
        }
        pop(r, m2);
        if (ok)
            apply_state(t, (unsigned)ttl, &q);
        pop(r, mark);
    }
    return ok;
}

/* Errors that quoted our source rewritten (a NAT): optional. */
static bool read_source_rewritten(reader *r, json_t *o, rg_trace *t)
{
    json_t *sr;
    long long ttl = 0, after = 0, errors = 0;
    if (!get_container(r, o, "source_rewritten", OPTIONAL, false, &sr))
        return false;
    if (!sr)
        return true;
    size_t mark = push_key(r, "source_rewritten");
    bool ok = get_int(r, sr, "ttl", REQUIRED, t->min_ttl, t->max_ttl, &ttl, NULL) &&
              get_int(r, sr, "after_ttl", REQUIRED, 0, ttl - 1, &after, NULL) &&
              get_addr(r, sr, "by", REQUIRED, t->dst.family, &t->nat_by) &&
              get_addr(r, sr, "quoted_source", REQUIRED, t->dst.family, &t->nat_source) &&
              get_int(r, sr, "errors", REQUIRED, 1, UINT32_MAX, &errors, NULL);
    pop(r, mark);
    if (ok) {
        t->nat_ttl = (unsigned)ttl;
        t->nat_errors = (uint32_t)errors;
    }
    return ok;
}

/* Room for the evidence of a rewrite, made on first need. */
static rg_rewrite_seen *evidence_slot(rg_trace *t, bool dst)
{
    if (!t->evidence && !(t->evidence = calloc(1, sizeof *t->evidence)))
        return NULL;
    return dst ? &t->evidence->dst : &t->evidence->seq;
}

/* Errors that quoted our destination rewritten or the sequence number
 * shifted (model/middlebox.h): optional, each. */
static bool read_evidence(reader *r, json_t *o, rg_trace *t, bool dst)
{
    const char *name = dst ? "destination_rewritten" : "sequence_shifted";
    json_t *e;
    long long ttl = 0, after = 0, errors = 0, shift = 0, port = 0;
    rg_addr by = {0}, quoted = {0};
    if (!get_container(r, o, name, OPTIONAL, false, &e))
        return false;
    if (!e)
        return true;
    size_t mark = push_key(r, name);
    bool ok = get_int(r, e, "ttl", REQUIRED, t->min_ttl, t->max_ttl, &ttl, NULL) &&
              get_int(r, e, "after_ttl", REQUIRED, 0, ttl - 1, &after, NULL) &&
              get_addr(r, e, "by", REQUIRED, t->dst.family, &by) &&
              (dst ? get_addr(r, e, "quoted_destination", REQUIRED, t->dst.family, &quoted) &&
                         get_int(r, e, "quoted_port", REQUIRED, 0, UINT16_MAX, &port, NULL)
                   : get_int(r, e, "shift", REQUIRED, INT32_MIN, INT32_MAX, &shift, NULL)) &&
              get_int(r, e, "errors", REQUIRED, 1, UINT32_MAX, &errors, NULL);
    pop(r, mark);
    if (!ok)
        return false;
    rg_rewrite_seen *s = evidence_slot(t, dst);
    if (!s)
        return fail(r, "out of memory");
    *s = (rg_rewrite_seen){.errors = (uint32_t)errors, .ttl = (unsigned)ttl, .by = by,
                           .dst = quoted, .dport = (uint16_t)port, .shift = (int32_t)shift};
    return true;
}

/* ICMP traces have no port: theirs is null. */
static bool is_icmp(const char *protocol)
{
    return strcmp(protocol, "icmp") == 0;
}

static bool read_trace(reader *r, json_t *o, rg_trace *t)
{
    const char *target, *protocol;
    rg_addr dst, src;
    long long family = 0, port = 0, sport = 0, naddrs = 0;
    json_t *hops;
    unsigned min, max, attempts;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_name(r, o, "target", REQUIRED, &target) ||
        !get_addr(r, o, "address", REQUIRED, 0, &dst) ||
        /* Added later to routegraph/1: optional. */
        !get_int(r, o, "addresses", OPTIONAL, 1, UINT32_MAX, &naddrs, NULL) ||
        !get_int(r, o, "family", REQUIRED, dst.family, dst.family, &family, NULL) ||
        !get_str(r, o, "protocol", REQUIRED, &protocol) || /* open: any other is tcp's */
        !get_int(r, o, "port", is_icmp(protocol) ? NULLABLE : REQUIRED, 1, 65535, &port, NULL) ||
        !get_addr(r, o, "source_address", NULLABLE, dst.family, &src) ||
        !get_int(r, o, "source_port", NULLABLE, 1, 65535, &sport, NULL) || !read_verdict(r, o) ||
        !get_container(r, o, "hops", REQUIRED, true, &hops))
        return false;
    size_t mark = push_key(r, "hops");
    bool ok = scan_hops(r, hops, &min, &max, &attempts);
    pop(r, mark);
    if (!ok)
        return false;
    size_t slots = (size_t)(max - min + 2) * attempts; /* + the port probes' row */
    if (slots > r->max_slots - r->slots)
        return fail(r, "more probe slots than a document of this size may hold (%zu)",
                    r->max_slots);
    r->slots += slots;
    if (!rg_trace_init(t, target, &dst, (uint16_t)port, min, max, attempts))
        return fail(r, "out of memory");
    t->src = src;
    t->sport = (uint16_t)sport;
    if (!rg_method_parse(protocol, &t->method))
        t->method = RG_METHOD_TCP;
    t->addresses = (unsigned)naddrs;
    mark = push_key(r, "hops");
    for (size_t i = 0; ok && i < json_array_size(hops); i++) {
        size_t m2 = push_index(r, i);
        ok = read_hop(r, json_array_get(hops, i), t);
        pop(r, m2);
    }
    ok = ok && read_middlebox(r, hops, t);
    pop(r, mark);
    ok = ok && read_source_rewritten(r, o, t) && read_evidence(r, o, t, true) &&
         read_evidence(r, o, t, false);
    ok = ok && read_port_probes(r, o, t);
    /* Added later to routegraph/1: optional, absent = false. */
    ok = ok && get_bool(r, o, "incomplete", OPTIONAL, &t->incomplete);
    if (ok)
        rg_trace_conclude(t);
    return ok;
}

/* ---- multipath (a trace's "multipath" member) ---- */

static bool read_mp_branch(reader *r, json_t *o, rg_mpath *m, unsigned ttl)
{
    rg_addr a;
    json_t *flows;
    bool dest = false;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_addr(r, o, "address", REQUIRED, m->dst.family, &a) ||
        !get_bool(r, o, "destination", OPTIONAL, &dest) ||
        !get_container(r, o, "flows", REQUIRED, true, &flows))
        return false;
    /* The kind the destination flag stands for (rg_mp_obs_final). */
    uint8_t kind = !dest                       ? RG_REPLY_TIME_EXCEEDED
                   : rg_addr_equal(&a, &m->dst) ? RG_REPLY_SYNACK
                                                : RG_REPLY_PORT_UNREACH;
    size_t mark = push_key(r, "flows");
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(flows); i++) {
        json_t *f = json_array_get(flows, i);
        json_int_t v = json_is_integer(f) ? json_integer_value(f) : -1;
        size_t m2 = push_index(r, i);
        if (v < 0 || v > 65535)
            ok = fail(r, "expected an integer from 0 to 65535");
        rg_mp_obs ob = {.from = a, .flow = (uint16_t)v, .ttl = (uint8_t)ttl, .kind = kind};
        ok = ok && (rg_mpath_add(m, &ob) || fail(r, "out of memory"));
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

static const char *const MP_RULE[] = {"not-explored", "met", "probe-budget", "shared",
                                       "routing-table"};

static bool read_mp_hop(reader *r, json_t *o, rg_mpath *m)
{
    long long ttl;
    size_t rule;
    json_t *branches;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_int(r, o, "ttl", REQUIRED, m->last_ttl + 1, 255, &ttl, NULL) ||
        !get_enum(r, o, "stopping_rule", MP_RULE, 5, &rule) ||
        !get_container(r, o, "branches", REQUIRED, true, &branches))
        return false;
    if (!m->first_ttl)
        m->first_ttl = (unsigned)ttl;
    m->last_ttl = (unsigned)ttl;
    m->hop_state[ttl] = (uint8_t)rule; /* MP_RULE is in enum rg_mp_hop_state's order */
    size_t mark = push_key(r, "branches");
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(branches); i++) {
        size_t m2 = push_index(r, i);
        ok = read_mp_branch(r, json_array_get(branches, i), m, (unsigned)ttl);
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

static bool read_mpath(reader *r, json_t *o, const rg_trace *t, rg_mpath *m)
{
    long long conf, port, probes;
    json_t *hops;
    if (!get_int(r, o, "confidence", REQUIRED, 95, 99, &conf, NULL) ||
        !get_int(r, o, "port", REQUIRED, 0, 65535, &port, NULL) ||
        !get_int(r, o, "probes", REQUIRED, 0, INT64_MAX, &probes, NULL) ||
        !get_container(r, o, "hops", REQUIRED, true, &hops))
        return false;
    if (conf != 95 && conf != 99) {
        size_t mark = push_key(r, "confidence");
        fail(r, "expected 95 or 99");
        pop(r, mark);
        return false;
    }
    rg_mpath_init(m, &t->dst, (uint16_t)port, (unsigned)conf);
    m->method = t->method;
    m->probes = (uint64_t)probes;
    size_t mark = push_key(r, "hops");
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(hops); i++) {
        size_t m2 = push_index(r, i);
        ok = read_mp_hop(r, json_array_get(hops, i), m);
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

/* Traces to one address carry the same discovery: read once, shared. */
static bool read_mpaths(reader *r, json_t *a, rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        rg_trace *t = &run->traces[i];
        json_t *o;
        size_t mark = push_index(r, i);
        bool ok = get_container(r, json_array_get(a, i), "multipath", OPTIONAL, false, &o);
        size_t j = 0;
        while (ok && o && j < run->nmpaths && !rg_addr_equal(&run->mpaths[j].dst, &t->dst))
            j++;
        if (ok && o && j == run->nmpaths) {
            if (!run->mpaths)
                run->mpaths = calloc(run->ntraces, sizeof *run->mpaths);
            ok = run->mpaths || fail(r, "out of memory");
            size_t m2 = push_key(r, "multipath");
            ok = ok && read_mpath(r, o, t, &run->mpaths[run->nmpaths++]);
            pop(r, m2);
        }
        if (ok && o)
            t->mpath = &run->mpaths[j];
        pop(r, mark);
        if (!ok)
            return false;
    }
    return true;
}

static bool read_traces(reader *r, json_t *doc, rg_run *run)
{
    json_t *a;
    bool ok = get_container(r, doc, "traces", REQUIRED, true, &a);
    size_t mark = push_key(r, "traces");
    size_t n = ok ? json_array_size(a) : 0;
    if (ok && n) {
        run->traces = calloc(n, sizeof *run->traces);
        ok = run->traces || fail(r, "out of memory");
        run->ntraces = ok ? n : 0; /* zeroed traces free cleanly */
    }
    for (size_t i = 0; ok && i < n; i++) {
        size_t m2 = push_index(r, i);
        ok = read_trace(r, json_array_get(a, i), &run->traces[i]);
        pop(r, m2);
    }
    ok = ok && read_mpaths(r, a, run);
    pop(r, mark);
    return ok;
}

/* ---- hosts (annotation) ---- */

static bool get_source(reader *r, json_t *o, const char *key, uint8_t *out)
{
    const char *s;
    if (!get_str(r, o, key, OPTIONAL, &s))
        return false;
    /* An open enumeration: an unknown source is "some other one". */
    *out = !s ? RG_AS_NONE : !strcmp(s, "offline") ? RG_AS_CSV : !strcmp(s, "mmdb") ? RG_AS_MMDB
         : !strcmp(s, "cymru") ? RG_AS_CYMRU : RG_AS_NONE;
    return true;
}

static bool get_country(reader *r, json_t *o, char out[3])
{
    const char *s;
    memset(out, 0, 3);
    if (!get_str(r, o, "country", OPTIONAL, &s))
        return false;
    if (!s || !*s)
        return true;
    bool letters = strlen(s) == 2 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) &&
                   ((s[1] >= 'A' && s[1] <= 'Z') || (s[1] >= 'a' && s[1] <= 'z'));
    if (!letters) {
        size_t mark = push_key(r, "country");
        fail(r, "expected a two-letter country code");
        pop(r, mark);
        return false;
    }
    out[0] = (char)(s[0] & ~0x20); /* ASCII letters: upper case */
    out[1] = (char)(s[1] & ~0x20);
    return true;
}

static bool set_text(reader *r, json_t *o, const char *key, char **field)
{
    const char *s;
    if (!get_name(r, o, key, OPTIONAL, &s))
        return false;
    return rg_host_set(field, s && *s ? s : NULL) || fail(r, "out of memory");
}

static bool read_host(reader *r, json_t *o, rg_run *run, bool *seen)
{
    rg_addr a;
    long long asn = 0;
    char country[3];
    uint8_t as_source, country_source;
    if (!json_is_object(o))
        return fail(r, "expected an object");
    if (!get_addr(r, o, "address", REQUIRED, 0, &a) ||
        !get_int(r, o, "asn", OPTIONAL, 0, UINT32_MAX, &asn, NULL) ||
        !get_source(r, o, "as_source", &as_source) ||
        !get_country(r, o, country) ||
        !get_source(r, o, "country_source", &country_source))
        return false;
    rg_host *h = rg_run_host(run, &a);
    if (!h) {
        const char *s; /* still type-checked, then ignored */
        return get_name(r, o, "as_org", OPTIONAL, &s) && get_name(r, o, "ptr", OPTIONAL, &s) &&
               get_name(r, o, "city", OPTIONAL, &s);
    }
    if (seen[h - run->hosts])
        return fail(r, "a second entry for the same address");
    seen[h - run->hosts] = true;
    h->asn = (uint32_t)asn;
    h->as_source = as_source;
    memcpy(h->country, country, sizeof h->country);
    h->geo_source = country[0] ? country_source : RG_AS_NONE;
    return set_text(r, o, "as_org", &h->as_org) && set_text(r, o, "ptr", &h->ptr) &&
           set_text(r, o, "city", &h->city);
}

static bool read_hosts(reader *r, json_t *doc, rg_run *run)
{
    json_t *a;
    if (!rg_run_collect_hosts(run))
        return fail(r, "out of memory");
    bool ok = get_container(r, doc, "hosts", OPTIONAL, true, &a);
    size_t mark = push_key(r, "hosts");
    bool *seen = ok && a ? calloc(run->nhosts + 1, sizeof *seen) : NULL;
    if (ok && a && !seen)
        ok = fail(r, "out of memory");
    for (size_t i = 0; ok && a && i < json_array_size(a); i++) {
        size_t m2 = push_index(r, i);
        ok = read_host(r, json_array_get(a, i), run, seen);
        pop(r, m2);
    }
    free(seen);
    pop(r, mark);
    return ok;
}

/* The credits routegraph writes come back as their own constants; the
 * model keeps no other (rg_run's credits are static text). */
static bool read_credits(reader *r, json_t *doc, rg_run *run)
{
    json_t *a;
    if (!get_container(r, doc, "credits", OPTIONAL, true, &a) || !a)
        return !r->failed;
    size_t mark = push_key(r, "credits");
    bool ok = json_array_size(a) <= 16 || fail(r, "more than 16 credits");
    for (size_t i = 0; ok && i < json_array_size(a); i++) {
        size_t m2 = push_index(r, i);
        json_t *c = json_array_get(a, i);
        if (!json_is_string(c) || json_string_length(c) > RG_JSON_READ_MAX_STRING)
            ok = fail(r, "expected a string of at most %u bytes", RG_JSON_READ_MAX_STRING);
        else if (strcmp(json_string_value(c), RG_ANNOTATE_ASN_CREDIT) == 0)
            run->as_credit = RG_ANNOTATE_ASN_CREDIT;
        else if (strcmp(json_string_value(c), RG_COUNTRY_CREDIT) == 0)
            run->country_credit = RG_COUNTRY_CREDIT;
        pop(r, m2);
    }
    pop(r, mark);
    return ok;
}

/* ---- the document ---- */

static bool read_document(reader *r, json_t *doc, rg_run *run)
{
    const char *schema, *version;
    if (!json_is_object(doc))
        return fail(r, "expected an object");
    if (!get_str(r, doc, "schema", REQUIRED, &schema))
        return false;
    if (strcmp(schema, RG_JSON_SCHEMA) != 0 && strcmp(schema, RG_JSON_SCHEMA_V1) != 0) {
        size_t mark = push_key(r, "schema");
        fail(r, "not %s or %s", RG_JSON_SCHEMA_V1, RG_JSON_SCHEMA);
        pop(r, mark);
        return false;
    }
    return get_str(r, doc, "version", REQUIRED, &version) &&
           get_time(r, doc, "start_time", &run->start) &&
           get_time(r, doc, "end_time", &run->end) &&
           get_bool(r, doc, "interrupted", OPTIONAL, &run->interrupted) && read_options(r, doc) &&
           read_stats(r, doc, &run->stats) && read_unresolved(r, doc, run) &&
           read_traces(r, doc, run) && read_hosts(r, doc, run) && read_credits(r, doc, run) &&
           (rg_run_conclude(run), true) && (rg_run_infer(run, RG_INFER_WITNESSES) || fail(r, "out of memory"));
}

size_t rg_json_read_max_slots(size_t len)
{
    size_t by_size = RG_JSON_READ_SLOTS_BASE + RG_JSON_READ_SLOTS_PER_BYTE * len;
    return by_size < RG_JSON_READ_MAX_SLOTS ? by_size : RG_JSON_READ_MAX_SLOTS;
}

/* What jansson will allocate to hold the document, estimated in one pass
 * over the text before it parses anything: per object (its hash table),
 * member, array, element, string (plus its bytes) and other value, with
 * allowances at or above jansson 2.14's own sizes on 64-bit glibc. A value
 * costs far more than its text: 15 MB of [{},{},...] takes 1.16 GB. */
size_t rg_json_read_estimate(const char *buf, size_t len)
{
    size_t objects = 0, members = 0, arrays = 0, commas = 0, strings = 0, others = 0;
    bool in_string = false, escaped = false, in_other = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        bool other = (c >= '0' && c <= '9') || c == '-' || (c >= 'a' && c <= 'z');
        others += other && !in_other;
        in_other = other || c == '.' || c == '+' || (c >= 'A' && c <= 'Z');
        switch (c) {
        case '"': in_string = true; strings++; break;
        case '{': objects++; break;
        case '[': arrays++; break;
        case ':': members++; break;
        case ',': commas++; break;
        default: break;
        }
    }
    return objects * 256 + members * 64 + arrays * 160 + commas * 24 + strings * 80 + len +
           others * 40;
}

size_t rg_json_read_budget(size_t len)
{
    return RG_JSON_READ_BUDGET_BASE + RG_JSON_READ_BUDGET_PER_BYTE * len;
}

bool rg_json_read_buffer(const char *buf, size_t len, rg_run *run, char *err, size_t errlen)
{
    return rg_json_read_buffer_options(buf, len, run, NULL, err, errlen);
}

bool rg_json_read_buffer_options(const char *buf, size_t len, rg_run *run, json_t **options,
                                 char *err, size_t errlen)
{
    if (options)
        *options = NULL;
    reader r = {.path = "$", .plen = 1, .err = err, .errlen = errlen,
                .max_slots = rg_json_read_max_slots(len)};
    memset(run, 0, sizeof *run);
    if (len > RG_JSON_READ_MAX_BYTES) {
        snprintf(err, errlen, "$: larger than %u bytes", RG_JSON_READ_MAX_BYTES);
        return false;
    }
    size_t need = rg_json_read_estimate(buf, len), budget = rg_json_read_budget(len);
    if (need > budget) {
        snprintf(err, errlen, "$: would take about %zu MiB of memory to read, more than the "
                 "%zu MiB allowed for a document of this size",
                 need >> 20, budget >> 20);
        return false;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        /* jansson quotes the offending input in its text: keep the error
         * one line of printable ASCII whatever the document held. */
        for (char *c = jerr.text; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        snprintf(err, errlen, "$: not JSON: line %d column %d: %.80s", jerr.line, jerr.column,
                 jerr.text);
        return false;
    }
    bool ok = read_document(&r, doc, run);
    if (ok && options && json_is_object(json_object_get(doc, "options")))
        *options = json_incref(json_object_get(doc, "options")); /* validated */
    json_decref(doc);
    if (!ok)
        rg_run_free(run);
    return ok;
}

/* The whole stream, up to the size limit. */
static char *slurp(FILE *f, size_t *len, bool *too_big)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    *too_big = false;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap > RG_JSON_READ_MAX_BYTES) {
            *too_big = true;
            free(buf);
            return NULL;
        }
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    *len = n;
    return buf;
}

bool rg_json_read_file(const char *path, rg_run *run, char *err, size_t errlen)
{
    return rg_json_read_file_options(path, run, NULL, err, errlen);
}

bool rg_json_read_file_options(const char *path, rg_run *run, json_t **options, char *err,
                               size_t errlen)
{
    if (options)
        *options = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    const char *shown = is_stdin ? "(stdin)" : path;
    memset(run, 0, sizeof *run);
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%.200s: %s", shown, strerror(errno));
        return false;
    }
    size_t len = 0;
    bool too_big;
    char *buf = slurp(f, &len, &too_big);
    bool read_error = ferror(f);
    if (!is_stdin)
        fclose(f);
    if (!buf || read_error) {
        snprintf(err, errlen, "%.200s: %s", shown,
                 too_big ? "larger than the 256 MiB a results file may have"
                 : read_error ? "read error" : "out of memory");
        free(buf);
        return false;
    }
    char inner[256];
    bool ok = rg_json_read_buffer_options(buf, len, run, options, inner, sizeof inner);
    free(buf);
    if (!ok)
        snprintf(err, errlen, "%.200s: %s", shown, inner);
    return ok;
}
