#include "resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "targets.h"

static bool family_ok(uint8_t fam, enum rg_family_pref want)
{
    return want == RG_FAMILY_ANY || (unsigned)fam == (unsigned)want;
}

/* Only under -4/-6: without a flag the user did not ask for a family. */
static void no_address_of(enum rg_family_pref want, char *why, size_t whylen)
{
    snprintf(why, whylen, "has no IPv%u address (-%u given)", (unsigned)want,
             (unsigned)want);
}

/* False for families other than IPv4/IPv6 and for truncated entries. */
static bool from_addrinfo(const struct addrinfo *ai, rg_addr *out)
{
    memset(out, 0, sizeof *out);
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
        out->family = 4;
        memcpy(out->bytes, &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6 &&
               ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
        out->family = 6;
        memcpy(out->bytes, &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
    }
    return out->family != 0;
}

/* An address the list already gave before stop (the same address may come
 * once per socket type, or twice from /etc/hosts). */
static bool seen_before(const struct addrinfo *res, const struct addrinfo *stop,
                        const rg_addr *a)
{
    rg_addr b;
    for (const struct addrinfo *ai = res; ai != stop; ai = ai->ai_next)
        if (from_addrinfo(ai, &b) && rg_addr_equal(a, &b))
            return true;
    return false;
}

bool rg_resolve_pick(const struct addrinfo *res, enum rg_family_pref want,
                     rg_addr *out, rg_addr_count *count)
{
    memset(out, 0, sizeof *out);
    memset(count, 0, sizeof *count);
    rg_addr a;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!from_addrinfo(ai, &a) || !family_ok(a.family, want) ||
            seen_before(res, ai, &a))
            continue;
        if (out->family == 0)
            *out = a;
        if (a.family == 4)
            count->v4++;
        else
            count->v6++;
    }
    return out->family != 0;
}

/* The name exists but has no address of the family asked for (glibc
 * extensions, hence the guards). */
static bool no_data(int rc)
{
#ifdef EAI_NODATA
    if (rc == EAI_NODATA)
        return true;
#endif
#ifdef EAI_ADDRFAMILY
    if (rc == EAI_ADDRFAMILY)
        return true;
#endif
    (void)rc;
    return false;
}

void rg_resolve_failure(int rc, enum rg_family_pref want, char *why, size_t whylen)
{
    if (no_data(rc) && want != RG_FAMILY_ANY)
        no_address_of(want, why, whylen);
    else
        snprintf(why, whylen, "cannot resolve: %s", gai_strerror(rc));
}

bool rg_resolve_many_warning(char *buf, size_t len, const char *name,
                             const rg_addr_count *count, const rg_addr *traced)
{
    /* One address of each family is ordinary dual stack, chosen the way
     * every client chooses (RFC 6724): only dropped addresses of the traced
     * family are worth a word. */
    unsigned same = traced->family == 4 ? count->v4 : count->v6;
    unsigned other = traced->family == 4 ? count->v6 : count->v4;
    if (len > 0)
        buf[0] = '\0';
    if (same < 2)
        return false;
    char shown[RG_TARGET_MAXLEN * 4 + 4], a[RG_ADDR_STRLEN], also[48] = "";
    rg_targets_escape(shown, sizeof shown, name, strlen(name), RG_TARGET_MAXLEN);
    rg_addr_format(traced, a, sizeof a);
    if (other)
        snprintf(also, sizeof also, " and %u IPv%u", other, traced->family == 4 ? 6u : 4u);
    snprintf(buf, len, "%s: %u IPv%u%s addresses, tracing %s (give addresses to trace others)",
             shown, same, (unsigned)traced->family, also, a);
    return true;
}

bool rg_resolve(const char *name, enum rg_family_pref want, rg_addr *out,
                rg_addr_count *count, char *why, size_t whylen)
{
    memset(count, 0, sizeof *count);
    if (rg_addr_parse(name, out)) {
        if (family_ok(out->family, want)) {
            *(out->family == 4 ? &count->v4 : &count->v6) = 1;
            return true;
        }
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
        rg_resolve_failure(rc, want, why, whylen);
        return false;
    }
    bool found = rg_resolve_pick(res, want, out, count);
    freeaddrinfo(res);
    if (found)
        return true;
    if (want == RG_FAMILY_ANY)
        snprintf(why, whylen, "has no usable address");
    else
        no_address_of(want, why, whylen);
    return false;
}
