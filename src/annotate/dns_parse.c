/* dns_parse.c: DNS names and answers without I/O: reverse query names, and
 * PTR and TXT answers read through c-ares's parsers, with our checks on
 * what they say (pure; fuzzed by tests/fuzz/fuzz_cymru_txt.c). */
#include "dns_parse.h"

#include <ares.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/utf8.h"

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

/* ------------------------------------------------------------------------
 * DNS responses, through c-ares
 * ------------------------------------------------------------------------ */

#define DNS_HEADER_LEN 12
#define DNS_NAME_TEXT_MAX 253 /* RFC 1035's 255 wire bytes as dotted text */

/* The two header facts c-ares's parsers leave to the caller: the message is
 * a response, and its rcode says no error (an error carries no answer). */
static int header_check(const unsigned char *msg, size_t len)
{
    if (!msg || len < DNS_HEADER_LEN || len > INT_MAX || !(msg[2] & 0x80))
        return RG_DNS_BAD;
    return (msg[3] & 0x0f) != 0 ? RG_DNS_NODATA : RG_DNS_FOUND;
}

/* What a PTR name must be before anything keeps it: not the root, short
 * enough for a DNS name and for out, and a name by util/utf8.h's one test.
 * c-ares (1.18) already refuses names with characters other than letters,
 * digits, "-", ".", "_" and "/"; this holds the promise whatever the
 * library version. */
static bool ptr_name_ok(const char *name, size_t outlen)
{
    size_t n = strlen(name);
    return n > 0 && n <= DNS_NAME_TEXT_MAX && n < outlen && rg_utf8_name_ok(name, n);
}

int rg_dns_parse_ptr(const unsigned char *msg, size_t len, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return RG_DNS_BAD;
    out[0] = '\0';
    int h = header_check(msg, len);
    if (h != RG_DNS_FOUND)
        return h;
    /* c-ares copies the address into the hostent it returns; any will do. */
    static const unsigned char any[4];
    struct hostent *host = NULL;
    int st = ares_parse_ptr_reply(msg, (int)len, any, sizeof any, AF_INET, &host);
    if (st == ARES_ENODATA)
        return RG_DNS_NODATA;
    if (st != ARES_SUCCESS || !host || !host->h_name || !ptr_name_ok(host->h_name, outlen)) {
        if (host)
            ares_free_hostent(host);
        return RG_DNS_BAD;
    }
    memcpy(out, host->h_name, strlen(host->h_name) + 1);
    ares_free_hostent(host);
    return RG_DNS_FOUND;
}

/* One record's strings joined; false when they do not fit buf. */
static bool join_record(const struct ares_txt_ext **at, char *buf, size_t cap, size_t *n)
{
    const struct ares_txt_ext *t = *at;
    bool fits = true;
    *n = 0;
    do {
        if (!fits || t->length > cap - *n) {
            fits = false;
        } else {
            memcpy(buf + *n, t->txt, t->length);
            *n += t->length;
        }
        t = t->next;
    } while (t && !t->record_start);
    *at = t;
    return fits;
}

int rg_dns_parse_txt(const unsigned char *msg, size_t len, rg_dns_txt_fn fn, void *arg)
{
    if (!fn)
        return RG_DNS_BAD;
    int h = header_check(msg, len);
    if (h != RG_DNS_FOUND)
        return h;
    struct ares_txt_ext *list = NULL;
    int st = ares_parse_txt_reply_ext(msg, (int)len, &list);
    if (st == ARES_ENODATA)
        return RG_DNS_NODATA;
    if (st != ARES_SUCCESS)
        return RG_DNS_BAD;
    int records = 0, passed = 0;
    char buf[RG_DNS_TXT_MAX];
    for (const struct ares_txt_ext *t = list; t;) {
        size_t n;
        records++;
        if (join_record(&t, buf, sizeof buf, &n)) {
            fn(buf, n, arg);
            passed++;
        }
    }
    ares_free_data(list);
    /* Every record over-long: nothing usable was said. */
    return records > 0 && passed == 0 ? RG_DNS_BAD : passed;
}
