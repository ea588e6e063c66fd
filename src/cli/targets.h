/* targets: the list of target names from argv, a file or stdin.
 * A target file holds names or literals separated by spaces or newlines;
 * '#' starts a comment that runs to the end of the line. A target may carry
 * its own port, as the outputs write it: `host:port`, `192.0.2.1:443`,
 * `[2001:db8::1]:80` (an IPv6 literal needs the brackets for a port).
 * Parsing a buffer is pure so it can be fuzzed. */
#ifndef RG_TARGETS_H
#define RG_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RG_TARGET_MAXLEN 253 /* longest DNS name */
#define RG_TARGETS_MAX_FILE (16u * 1024 * 1024) /* bytes read from one file */
#define RG_TARGETS_SHOWN_SKIPS 100u /* bad entries described; the rest counted */

/* Zero-initialise ({0}) before the first add. */
typedef struct rg_target_list {
    char **names;  /* owned strings: the host part alone */
    uint16_t *ports; /* [n]: the target's own port, 0 = none */
    size_t *lines; /* [n]: its line in the file it came from, 0 = argv */
    size_t n, cap;
    /* Set before parsing: stop at the first bad entry of a file (--strict).
     * Otherwise every bad entry is described in skipped[] and parsing
     * goes on. */
    bool strict;
    char **skipped; /* owned "FILE:LINE: reason" lines, at most RG_TARGETS_SHOWN_SKIPS */
    size_t nskipped_shown, nskipped;
    /* 0 = RG_MAX_TARGETS; a smaller value lowers the cap (tests, fuzzing). */
    size_t limit;
    /* Open-addressing set of names[] indexes + 1, so duplicate checks stay
     * O(1) on 65536-line files. Private to targets.c. */
    uint32_t *slots;
    size_t nslots;
} rg_target_list;

/* Appends a copy; refuses (false + err, a plain reason) over-long names,
 * names with bytes that cannot be in a host name or literal, URLs, bad
 * ports, and lists over RG_MAX_TARGETS. An exact duplicate (name and port)
 * is silently skipped. */
bool rg_targets_add(rg_target_list *l, const char *name, char *err, size_t errlen);
/* One entry s[0..len) (no spaces; need not be NUL-terminated) checked as
 * rg_targets_add checks it: the host part into host, its own port (0:
 * none) into port; false with a plain reason in err. Pure: the lazy
 * reader (target_reader.h) checks its entries with it. */
bool rg_targets_entry(const char *s, size_t len, char host[RG_TARGET_MAXLEN + 1],
                      uint16_t *port, char *err, size_t errlen);
/* Parses a whole buffer (file contents); origin names it in errors
 * ("FILE:LINE: why"). Bytes need not be NUL-terminated; a leading UTF-8 BOM
 * is skipped. Strict: false at the first bad entry, names before it stay.
 * Otherwise bad entries are skipped and recorded; false only for what ends
 * the list (too many targets, no memory). */
bool rg_targets_parse(rg_target_list *l, const char *buf, size_t len,
                      const char *origin, char *err, size_t errlen);
/* Reads path ("-" = stdin, named "stdin" in errors) and parses it; refuses
 * files over RG_TARGETS_MAX_FILE. */
bool rg_targets_read_file(rg_target_list *l, const char *path, char *err,
                          size_t errlen);
/* Leaves an empty, reusable list (limit reset to 0). */
void rg_targets_free(rg_target_list *l);

/* Writes s[0..len) into out for a one-line message: printable ASCII kept,
 * other bytes and '\\' escaped (\xff, \\), cut after max_shown input bytes
 * with "...". Always NUL-terminates (outlen > 0); never splits an escape. */
void rg_targets_escape(char *out, size_t outlen, const char *s, size_t len,
                       size_t max_shown);

#endif
