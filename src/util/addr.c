#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

bool rg_addr_parse(const char *text, rg_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = 6;
        return true;
    }
    memset(out, 0, sizeof *out);
    return false;
}

const char *rg_addr_format(const rg_addr *a, char *buf, size_t len)
{
    int af = a->family == 6 ? AF_INET6 : AF_INET;
    if ((a->family != 4 && a->family != 6) || !inet_ntop(af, a->bytes, buf, (socklen_t)len)) {
        if (len > 0)
            buf[0] = '\0';
    }
    return buf;
}

const char *rg_addr_format_endpoint(const rg_addr *a, uint16_t port, char *buf, size_t len)
{
    char text[RG_ADDR_STRLEN];
    rg_addr_format(a, text, sizeof text);
    snprintf(buf, len, a->family == 6 ? "[%s]:%u" : "%s:%u", text, (unsigned)port);
    return buf;
}

size_t rg_addr_len(const rg_addr *a)
{
    return a->family == 6 || a->family == RG_ADDR_KEY ? 16 : a->family == 4 ? 4 : 0;
}

bool rg_addr_equal(const rg_addr *a, const rg_addr *b)
{
    return a->family == b->family &&
           memcmp(a->bytes, b->bytes, rg_addr_len(a)) == 0;
}

int rg_addr_compare(const rg_addr *a, const rg_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, rg_addr_len(a));
}

static uint64_t mix(uint64_t h)
{
    /* splitmix64 finaliser: cheap, and spreads neighbouring addresses well. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

uint64_t rg_addr_hash(const rg_addr *a, uint64_t seed)
{
    uint64_t h = seed ^ ((uint64_t)a->family << 56);
    for (size_t i = 0; i < rg_addr_len(a); i += 4)
        h = mix(h ^ ((uint64_t)a->bytes[i] << 24 | (uint64_t)a->bytes[i + 1] << 16 |
                     (uint64_t)a->bytes[i + 2] << 8 | a->bytes[i + 3]));
    return mix(h);
}

static bool in_prefix(const rg_addr *a, const uint8_t *p, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a->bytes, p, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a->bytes[full] & mask) == (p[full] & mask);
}

bool rg_addr_is_lab(const rg_addr *a)
{
    static const uint8_t v4[][4] = {
        {198, 18, 0, 0}, {203, 0, 113, 0}, {192, 0, 2, 0}, {198, 51, 100, 0}};
    static const unsigned v4bits[] = {15, 24, 24, 24};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    if (a->family == 4) {
        for (size_t i = 0; i < sizeof v4bits / sizeof v4bits[0]; i++)
            if (in_prefix(a, v4[i], v4bits[i]))
                return true;
        return false;
    }
    return a->family == 6 && in_prefix(a, v6, 32);
}

typedef struct prefix {
    uint8_t bytes[16];
    unsigned bits;
} prefix;

static bool in_any(const rg_addr *a, const prefix *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_prefix(a, list[i].bytes, list[i].bits))
            return true;
    return false;
}

bool rg_addr_is_special(const rg_addr *a)
{
    static const prefix v4[] = {
        {{0}, 8},              {{10}, 8},           {{100, 64}, 10},   {{127}, 8},
        {{169, 254}, 16},      {{172, 16}, 12},     {{192, 0, 0}, 24}, {{192, 0, 2}, 24},
        {{192, 168}, 16},      {{198, 18}, 15},     {{198, 51, 100}, 24},
        {{203, 0, 113}, 24},   {{224}, 3}, /* multicast and reserved, 224/4 + 240/4 */
    };
    static const prefix v6[] = {
        {{0}, 127},            /* :: and ::1 */
        {{0xfc}, 7},           /* unique local */
        {{0xfe, 0x80}, 10},    /* link-local */
        {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
        {{0x3f, 0xff}, 20},    /* documentation (RFC 9637) */
        {{0xff}, 8},           /* multicast */
    };
    if (a->family == 4)
        return in_any(a, v4, sizeof v4 / sizeof v4[0]);
    return a->family == 6 && in_any(a, v6, sizeof v6 / sizeof v6[0]);
}

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

bool rg_addr_parse_endpoint(const char *text, uint16_t default_port, rg_addr *addr,
                            uint16_t *port)
{
    char buf[64];
    const char *host = buf, *portstr = NULL;
    size_t n = text ? strlen(text) : 0;
    *port = default_port;
    memset(addr, 0, sizeof *addr);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, text, n + 1);
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return false;
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
    if (!rg_addr_parse(host, addr) || (buf[0] == '[' && addr->family != 6) ||
        (portstr && !parse_port(portstr, port))) {
        memset(addr, 0, sizeof *addr);
        *port = default_port;
        return false;
    }
    return true;
}
