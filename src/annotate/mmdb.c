#include "mmdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../util/utf8.h"

struct rg_mmdb_set {
    MMDB_s db[RG_MMDB_MAX_FILES];
    char type[RG_MMDB_MAX_FILES][64];
    size_t n;
};

rg_mmdb_set *rg_mmdb_set_new(void)
{
    return calloc(1, sizeof(rg_mmdb_set));
}

void rg_mmdb_set_free(rg_mmdb_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        MMDB_close(&set->db[i]);
    free(set);
}

size_t rg_mmdb_set_count(const rg_mmdb_set *set)
{
    return set ? set->n : 0;
}

const char *rg_mmdb_set_type(const rg_mmdb_set *set, size_t i)
{
    return set && i < set->n ? set->type[i] : "";
}

bool rg_mmdb_set_add(rg_mmdb_set *set, const char *path, char *err, size_t errlen)
{
    if (!set || set->n == RG_MMDB_MAX_FILES) {
        snprintf(err, errlen, "%s: too many .mmdb files (at most %d)", path, RG_MMDB_MAX_FILES);
        return false;
    }
    MMDB_s *db = &set->db[set->n];
    errno = 0;
    int st = MMDB_open(path, MMDB_MODE_MMAP, db);
    if (st != MMDB_SUCCESS) {
        int e = errno;
        if ((st == MMDB_FILE_OPEN_ERROR || st == MMDB_IO_ERROR) && e != 0)
            snprintf(err, errlen, "%s: %s: %s", path, MMDB_strerror(st), strerror(e));
        else
            snprintf(err, errlen, "%s: %s", path, MMDB_strerror(st));
        memset(db, 0, sizeof *db);
        return false;
    }
    /* The type is outside text like any other field. */
    const char *t = db->metadata.database_type;
    size_t tl = t ? strnlen(t, sizeof set->type[0]) : 0;
    if (t && tl < sizeof set->type[0] && rg_utf8_name_ok(t, tl))
        memcpy(set->type[set->n], t, tl + 1);
    else
        set->type[set->n][0] = '\0';
    set->n++;
    return true;
}

/* MMDB_get_value reports an absent key like a type mismatch; only damage
 * counts as an error. */
static bool value(MMDB_entry_s *entry, MMDB_entry_data_s *d, unsigned *errors,
                  const char *const *path)
{
    int st = MMDB_aget_value(entry, d, path);
    if (st == MMDB_SUCCESS)
        return d->has_data;
    if (st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR && st != MMDB_INVALID_LOOKUP_PATH_ERROR)
        (*errors)++;
    return false;
}

static void get_asn(MMDB_entry_s *entry, rg_mmdb_answer *out)
{
    static const char *const path[] = {"autonomous_system_number", NULL};
    MMDB_entry_data_s d;
    if (!value(entry, &d, &out->errors, path))
        return;
    uint64_t v = 0;
    if (d.type == MMDB_DATA_TYPE_UINT32)
        v = d.uint32;
    else if (d.type == MMDB_DATA_TYPE_UINT16)
        v = d.uint16;
    else if (d.type == MMDB_DATA_TYPE_UINT64)
        v = d.uint64;
    else if (d.type == MMDB_DATA_TYPE_INT32 && d.int32 > 0)
        v = (uint64_t)d.int32;
    if (v <= UINT32_MAX)
        out->asn = (uint32_t)v;
}

static void get_text(MMDB_entry_s *entry, const char *const *path, char *dst, size_t len,
                     unsigned *errors)
{
    MMDB_entry_data_s d;
    if (!value(entry, &d, errors, path) || d.type != MMDB_DATA_TYPE_UTF8_STRING)
        return;
    if (d.data_size == 0 || d.data_size >= len || !rg_utf8_name_ok(d.utf8_string, d.data_size))
        return;
    memcpy(dst, d.utf8_string, d.data_size);
    dst[d.data_size] = '\0';
}

static void get_country(MMDB_entry_s *entry, rg_mmdb_answer *out)
{
    static const char *const paths[2][3] = {{"country", "iso_code", NULL},
                                            {"registered_country", "iso_code", NULL}};
    for (int i = 0; i < 2 && !out->country[0]; i++) {
        char cc[3] = "";
        get_text(entry, paths[i], cc, sizeof cc, &out->errors);
        bool ok = cc[0] && cc[1];
        for (int k = 0; k < 2 && ok; k++) {
            char c = cc[k];
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
            cc[k] = (char)(c >= 'a' ? c - 'a' + 'A' : c);
        }
        if (ok)
            memcpy(out->country, cc, sizeof cc);
    }
}

bool rg_mmdb_lookup(const rg_mmdb_set *set, const rg_addr *a, rg_mmdb_answer *out)
{
    memset(out, 0, sizeof *out);
    if (!set || !a || (a->family != 4 && a->family != 6))
        return false;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (a->family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a->bytes, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a->bytes, 16);
    }
    static const char *const org_path[] = {"autonomous_system_organization", NULL};
    static const char *const city_path[] = {"city", "names", "en", NULL};
    for (size_t i = 0; i < set->n; i++) {
        int st = MMDB_SUCCESS;
        MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&set->db[i], (struct sockaddr *)&ss, &st);
        if (st != MMDB_SUCCESS) {
            if (st != MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
                out->errors++;
            continue;
        }
        if (!r.found_entry)
            continue;
        /* Number and name come as a pair from one file, never mixed. */
        if (!out->asn) {
            get_asn(&r.entry, out);
            if (out->asn)
                get_text(&r.entry, org_path, out->as_org, sizeof out->as_org, &out->errors);
        }
        if (!out->country[0])
            get_country(&r.entry, out);
        if (!out->city[0])
            get_text(&r.entry, city_path, out->city, sizeof out->city, &out->errors);
    }
    return out->asn || out->as_org[0] || out->country[0] || out->city[0];
}
