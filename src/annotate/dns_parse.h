/* dns_parse: DNS names and answers without I/O, for dns.c, the tests and
 * the fuzz harness.
 *
 * Answers are read by c-ares's own parsers (ares_parse_ptr_reply,
 * ares_parse_txt_reply_ext), never by hand; this module adds only the
 * checks on what an answer says.
 *
 * Promises:
 * - A PTR name handed out is the first IN PTR record's name (following a
 *   CNAME as c-ares does), without the root dot, 1 to 253 bytes, passing
 *   rg_utf8_name_ok (valid UTF-8, no C0, DEL or C1 control character). In
 *   fact narrower: c-ares (1.18, Debian 12) refuses names with characters
 *   other than letters, digits, "-", ".", "_" and "/" (quotes, '<', blanks,
 *   UTF-8, control characters), and such an answer counts as malformed, so
 *   no such name reaches an output. Escaping is still each output's job.
 * - A TXT record is passed on with its strings joined, at most
 *   RG_DNS_TXT_MAX bytes (longer ones are skipped), not NUL-terminated.
 * - A message that is not a response counts as malformed; one whose rcode
 *   is an error as "no data". */
#ifndef RG_DNS_PARSE_H
#define RG_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_DNS_NAME_MAX 256 /* a DNS name as text, with its NUL */
#define RG_DNS_TXT_MAX 1024 /* one TXT record, strings joined; longer: skipped */

/* "4.3.2.1.SUFFIX" for IPv4, 32 reversed nibbles + ".SUFFIX" for IPv6.
 * False when the address is unset or buf is too small. */
bool rg_dns_reverse_name(const rg_addr *a, const char *suffix, char *buf, size_t len);
/* The PTR query name (in-addr.arpa / ip6.arpa). */
bool rg_dns_ptr_name(const rg_addr *a, char *buf, size_t len);

enum rg_dns_parse_result {
    RG_DNS_BAD = -1,    /* malformed message, or a name that breaks the promises */
    RG_DNS_NODATA = 0,  /* well-formed, no record of the wanted type */
    RG_DNS_FOUND = 1,
};

/* The first IN PTR record of a DNS response, as promised above, into out
 * (at least RG_DNS_NAME_MAX bytes for any name to fit; a name that does not
 * fit is refused, never cut). */
int rg_dns_parse_ptr(const unsigned char *msg, size_t len, char *out, size_t outlen);

/* Calls fn once per IN TXT record of a DNS response with the record's
 * strings joined (records longer than RG_DNS_TXT_MAX are skipped). Returns
 * the number of records passed to fn, or RG_DNS_BAD (also when every
 * record was too long). */
typedef void (*rg_dns_txt_fn)(const char *txt, size_t len, void *arg);
int rg_dns_parse_txt(const unsigned char *msg, size_t len, rg_dns_txt_fn fn, void *arg);

#endif
