/* unreach: what an ICMP destination-unreachable says, in the words operators
 * know from traceroute: a mark for the table cell (`!N`, `!H`, `!P`, `!X`,
 * `!A` ...) and a plain name for the verdict line. IPv4 and ICMPv6 number
 * their codes differently; the family says which table applies. Pure. */
#ifndef RG_UNREACH_H
#define RG_UNREACH_H

#include <stdbool.h>

/* Whether (type) is destination unreachable in that family (3 / ICMPv6 1). */
bool rg_unreach_is(int family, unsigned type);
/* traceroute's mark: "!N" network, "!H" host, "!P" protocol or port,
 * "!A" network administratively prohibited, "!X" host or communication
 * administratively prohibited, "!F" fragmentation needed, "!S" source route
 * or scope, "!V"/"!C" precedence; "!<code>" for the rest. Written to buf. */
const char *rg_unreach_mark(int family, unsigned type, unsigned code, char *buf,
                            unsigned len);
/* "network unreachable", ...; NULL for a code without a name. */
const char *rg_unreach_name(int family, unsigned type, unsigned code);

#endif
