/* asdb: the offline IP-to-AS database, read from ip-location-db style CSV
 * ("range_start,range_end,asn,organisation") or from a compiled index.
 *
 * Input format, one record per line:
 * - start and end are an inclusive range, both as IPv4/IPv6 text or both as
 *   decimal numbers (the "-num" files; IPv6 numbers need 128 bits). A numeric
 *   line is IPv4 when both numbers fit 32 bits, unless the source's family
 *   hint says IPv6 (files whose name contains "ipv6"); with an IPv4 hint
 *   (name contains "ipv4") a larger number is an error.
 * - asn is decimal, 0..4294967295; AS 0 means "not announced": its range
 *   answers nothing (and masks a larger range it lies in).
 * - organisation is optional, may be quoted ("" is a quote inside quotes), at
 *   most RG_ASDB_MAX_ORG bytes, valid UTF-8 without control characters.
 * - Blanks around unquoted fields are trimmed; quoted fields are kept as
 *   they are. Blank lines, lines starting with '#' and a first line that is
 *   a header (no AS number in it) are ignored; a UTF-8 byte order mark at
 *   the start is skipped; "\r\n" endings are accepted.
 * - Any other line that does not parse, and any range whose end lies before
 *   its start, is skipped and counted (rg_asdb_info.skipped, with the first
 *   one's "FILE:LINE: why"). A source with no valid range at all is an error.
 *
 * Overlaps: where ranges overlap, the smaller range wins; between ranges of
 * equal size the one loaded first (earlier file, earlier line) wins. The
 * overlapping ranges are counted in rg_asdb_info.overlaps. So a lab file can
 * refine a larger block, and "--asn-db A --asn-db B" prefers A on exact ties.
 *
 * Promises: lookups never answer from a range that does not contain the
 * address; every organisation string handed out is valid UTF-8 without
 * control characters (still untrusted text: output formats escape it) and
 * lives as long as the rg_asdb; each distinct organisation is stored once.
 * Nothing here prints: errors come back as one line in the caller's buffer,
 * warnings as counts and sample lines in rg_asdb_info.
 *
 * Compiled index: the loaded tables can be written to a file and mapped back
 * (host byte order, versioned, checksummed, every count, offset, range and
 * string validated on open, so a damaged index is refused, never trusted).
 * Startup with the full ip-location-db data then costs a few milliseconds
 * instead of a full parse.
 *
 * Kinds: the same reader, tables and index serve the country database
 * (annotate/country.h), whose lines are "range_start,range_end,country_code"
 * (ISO 3166-1 alpha-2, two ASCII letters, stored upper case). Its "AS
 * number" is the code packed by RG_ASDB_CC, and it has no organisations.
 * An index records its kind: one kind's index is refused as the other. */
#ifndef RG_ASDB_H
#define RG_ASDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_ASDB_MAX_LINE 4096 /* longer lines are skipped as malformed */
#define RG_ASDB_MAX_ORG 1023
#define RG_ASDB_MSGLEN 256

/* File names inside a data directory (those of the npm package
 * @ip-location-db/asn, plus our compiled index). */
#define RG_ASDB_CSV4_NAME "asn-ipv4.csv"
#define RG_ASDB_CSV6_NAME "asn-ipv6.csv"
#define RG_ASDB_INDEX_NAME "asn.rgidx"

typedef struct rg_asdb rg_asdb;
typedef struct rg_asdb_builder rg_asdb_builder;

/* What the third field of a line holds (see above). */
enum rg_asdb_kind { RG_ASDB_AS = 0, RG_ASDB_COUNTRY = 1 };
/* A country code as the lookup's number: 'N' 'L' -> 0x4e4c. */
#define RG_ASDB_CC(a, b) ((uint32_t)(unsigned char)(a) << 8 | (uint32_t)(unsigned char)(b))

/* A kind's files inside a data directory, and its name in messages. */
typedef struct rg_asdb_files {
    enum rg_asdb_kind kind;
    const char *csv4, *csv6, *index;
    const char *what;  /* "AS database" */
    const char *fetch; /* how to get it, for the "none there" message */
} rg_asdb_files;

extern const rg_asdb_files rg_asdb_as_files; /* RG_ASDB_CSV4_NAME ... */

typedef struct rg_asdb_info {
    size_t ranges4, ranges6; /* lookup ranges, after overlap resolution and merging */
    size_t orgs;             /* distinct organisations */
    size_t records;          /* lines loaded as ranges */
    size_t skipped;          /* malformed or reversed lines, not loaded */
    size_t overlaps;         /* ranges that overlapped one loaded before them */
    char first_skip[RG_ASDB_MSGLEN];    /* "FILE:LINE: why"; "" if none */
    char first_overlap[RG_ASDB_MSGLEN]; /* "FILE:LINE: ..."; "" if none */
    char note[RG_ASDB_MSGLEN]; /* e.g. why a stale or damaged index was not used */
    bool from_index;
} rg_asdb_info;

/* Loading several sources: add them in order of preference, then finish. */
rg_asdb_builder *rg_asdb_builder_new(void); /* RG_ASDB_AS */
rg_asdb_builder *rg_asdb_builder_new_kind(enum rg_asdb_kind kind);
/* family_hint: 0 (decide per line), 4 or 6; see above. name is used in
 * messages. False with one line in err when the buffer holds no valid range
 * (the builder stays usable; skipped lines are still counted). */
bool rg_asdb_builder_add_buffer(rg_asdb_builder *b, const char *buf, size_t len,
                                const char *name, int family_hint,
                                char *err, size_t errlen);
/* Reads a CSV file (hint from its name). False with one line in err when it
 * cannot be read or holds no valid range. */
bool rg_asdb_builder_add_file(rg_asdb_builder *b, const char *path,
                              char *err, size_t errlen);
/* Builds the lookup tables and frees the builder in every case. NULL with
 * one line in err when nothing was added or memory ran out. */
rg_asdb *rg_asdb_builder_finish(rg_asdb_builder *b, char *err, size_t errlen);
void rg_asdb_builder_free(rg_asdb_builder *b);

/* Loads the given files, in order of preference. A file that starts with the
 * index magic is opened as a compiled index, which must then be the only file. */
rg_asdb *rg_asdb_load(const char *const *paths, size_t n, char *err, size_t errlen);
rg_asdb *rg_asdb_load_kind(enum rg_asdb_kind kind, const char *const *paths, size_t n,
                           char *err, size_t errlen);

/* The default data directory: DIR/asn.rgidx when it is valid and was compiled
 * from the CSVs now in DIR (same names, sizes and mtimes), else the CSVs
 * DIR/asn-ipv4.csv and DIR/asn-ipv6.csv (either may be missing, not both).
 * info.note says when an index was present but not used. */
rg_asdb *rg_asdb_open_dir(const char *dir, char *err, size_t errlen);
/* Parses the CSVs in dir and writes dir/asn.rgidx atomically. */
bool rg_asdb_compile_dir(const char *dir, rg_asdb_info *info, char *err, size_t errlen);
/* The same for any kind's files. */
rg_asdb *rg_asdb_open_files(const char *dir, const rg_asdb_files *files, char *err,
                            size_t errlen);
bool rg_asdb_compile_files(const char *dir, const rg_asdb_files *files, rg_asdb_info *info,
                           char *err, size_t errlen);

rg_asdb *rg_asdb_open_index(const char *path, char *err, size_t errlen); /* RG_ASDB_AS */
rg_asdb *rg_asdb_open_index_kind(enum rg_asdb_kind kind, const char *path, char *err,
                                 size_t errlen);
bool rg_asdb_write_index(const rg_asdb *db, const char *path, char *err, size_t errlen);

/* True when a range holds a; *asn (never 0 then) and *org (NULL when the
 * range has no organisation) are set. On false they are 0 and NULL. Either
 * output pointer may be NULL. */
bool rg_asdb_lookup(const rg_asdb *db, const rg_addr *a, uint32_t *asn, const char **org);

const rg_asdb_info *rg_asdb_get_info(const rg_asdb *db);
enum rg_asdb_kind rg_asdb_get_kind(const rg_asdb *db);
void rg_asdb_free(rg_asdb *db);

#endif
