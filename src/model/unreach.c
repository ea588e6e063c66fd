#include "unreach.h"

#include <stdio.h>

bool rg_unreach_is(int family, unsigned type)
{
    return type == (family == 6 ? 1u : 3u);
}

static const char *const names_v4[] = {
    "network unreachable", "host unreachable", "protocol unreachable",
    "port unreachable", "fragmentation needed", "source route failed",
    "destination network unknown", "destination host unknown",
    "source host isolated", "network administratively prohibited",
    "host administratively prohibited", "network unreachable for TOS",
    "host unreachable for TOS", "administratively prohibited",
    "host precedence violation", "precedence cutoff in effect",
};
/* traceroute's letters for the same codes (BSD and Linux agree on these). */
static const char *const marks_v4[] = {
    "!N", "!H", "!P", "!P", "!F", "!S", "!N", "!H",
    "!H", "!A", "!X", "!N", "!H", "!X", "!V", "!C",
};

static const char *const names_v6[] = {
    "no route to destination", "administratively prohibited",
    "beyond scope of source address", "address unreachable",
    "port unreachable", "source address failed ingress/egress policy",
    "reject route to destination", "error in source routing header",
    "headers too long",
};
static const char *const marks_v6[] = {
    "!N", "!X", "!S", "!H", "!P", "!X", "!N", "!S", "!F",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *rg_unreach_mark(int family, unsigned type, unsigned code, char *buf,
                            unsigned len)
{
    const char *m = NULL;
    if (rg_unreach_is(family, type)) {
        if (family == 6)
            m = code < COUNT(marks_v6) ? marks_v6[code] : NULL;
        else
            m = code < COUNT(marks_v4) ? marks_v4[code] : NULL;
    }
    if (m)
        snprintf(buf, len, "%s", m);
    else
        snprintf(buf, len, "!%u", code);
    return buf;
}

const char *rg_unreach_name(int family, unsigned type, unsigned code)
{
    if (!rg_unreach_is(family, type))
        return NULL;
    if (family == 6)
        return code < COUNT(names_v6) ? names_v6[code] : NULL;
    return code < COUNT(names_v4) ? names_v4[code] : NULL;
}
