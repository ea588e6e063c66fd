/* route: how many next hops the prober's own routing table gives a
 * destination, so multipath discovery need not probe its first hop.
 *
 * The kernel is asked (rtnetlink RTM_GETROUTE with RTM_F_FIB_MATCH, Linux
 * 4.13 and later) for the routing table entry that matches the pair of
 * addresses, not the path it would pick for one packet. An entry with one
 * gateway (or none: the destination is on a link) sends every flow to the
 * same first hop; an entry with several (RTA_MULTIPATH) or a nexthop
 * object (RTA_NH_ID, which may be a group) may spread them. Anything else
 * (an error, a reply this code does not understand) is "unknown", and the
 * caller probes as if the first hop could be load-balanced.
 *
 * Limit: policy rules that select a table by port (ip rule sport/dport) are
 * not looked at; the lookup uses the addresses only.
 *
 * The reply is read through libmnl's bounds-checked attribute walk; no
 * allocation, one socket opened and closed per question. */
#ifndef RG_ROUTE_H
#define RG_ROUTE_H

#include <stddef.h>

#include "../util/addr.h"

enum rg_route_paths {
    RG_ROUTE_UNKNOWN = 0, /* could not tell: probe */
    RG_ROUTE_SINGLE,      /* one next hop for every flow */
    RG_ROUTE_MULTI,       /* several next hops (or a nexthop object) */
};

/* Asks the kernel about the route from src to dst (same family). */
enum rg_route_paths rg_route_paths(const rg_addr *src, const rg_addr *dst);

/* Reads one RTM_NEWROUTE answer (a whole netlink message, as received):
 * pure, for tests. An error message or a malformed one is UNKNOWN. */
enum rg_route_paths rg_route_parse(const void *msg, size_t len);

#endif
