#include "resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static bool family_ok(uint8_t fam, enum rg_family_pref want)
{
    return want == RG_FAMILY_ANY || (unsigned)fam == (unsigned)want;
}

bool rg_resolve(const char *name, enum rg_family_pref want, rg_addr *out,
                char *why, size_t whylen)
{
    if (rg_addr_parse(name, out)) {
        if (family_ok(out->family, want))
            return true;
        snprintf(why, whylen, "is an IPv%u address but -%u was given",
                 out->family, (unsigned)want);
        return false;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    hints.ai_family = want == RG_FAMILY_4 ? AF_INET
                    : want == RG_FAMILY_6 ? AF_INET6 : AF_UNSPEC;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve: %s", gai_strerror(rc));
        return false;
    }
    bool found = false;
    for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
        memset(out, 0, sizeof *out);
        if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
            out->family = 4;
            memcpy(out->bytes, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        } else if (ai->ai_family == AF_INET6 &&
                   ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
            out->family = 6;
            memcpy(out->bytes, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
        }
        found = out->family != 0 && family_ok(out->family, want);
    }
    freeaddrinfo(res);
    if (!found)
        snprintf(why, whylen, "has no %s address",
                 want == RG_FAMILY_6 ? "IPv6" : want == RG_FAMILY_4 ? "IPv4" : "usable");
    return found;
}
