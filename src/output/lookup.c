#include "lookup.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "text.h"

#ifndef RG_VERSION
#define RG_VERSION "0.0.0"
#endif

static void put_place(FILE *out, const rg_host *h)
{
    if (!h->city && !h->country[0])
        return;
    fputs("; ", out);
    if (h->city) {
        rg_text_clean(out, h->city);
        if (h->country[0])
            fputs(", ", out);
    }
    rg_text_clean(out, h->country);
}

static void put_line(FILE *out, const rg_addr *a, const rg_host *h)
{
    char buf[RG_ADDR_STRLEN];
    fputs(rg_addr_format(a, buf, sizeof buf), out);
    fputs("  ", out);
    if (h && h->ptr)
        rg_text_clean(out, h->ptr);
    else
        fputc('-', out);
    fputs("  ", out);
    if (!h || !h->asn) {
        fputs("AS???", out);
    } else {
        fprintf(out, "AS%lu", (unsigned long)h->asn);
        if (h->as_org) {
            fputc(' ', out);
            rg_text_clean(out, h->as_org);
        }
    }
    if (h)
        put_place(out, h);
    fputc('\n', out);
}

bool rg_lookup_write_text(FILE *out, const rg_run *run, const rg_addr *addrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_line(out, &addrs[i], rg_run_host(run, &addrs[i]));
    const char *credits[2] = {run->as_credit, run->country_credit};
    for (size_t i = 0; i < 2; i++)
        if (credits[i])
            fprintf(out, "%s%s\n", i == 0 || !credits[0] ? "\n" : "", credits[i]);
    return fflush(out) == 0 && !ferror(out);
}

/* jansson refuses invalid UTF-8: an input that is not UTF-8 is written with
 * its non-ASCII bytes as U+FFFD. */
static json_t *input_json(const char *s)
{
    json_t *v = json_string(s);
    if (v)
        return v;
    size_t len = strlen(s);
    char *clean = malloc(3 * len + 1), *w = clean;
    if (!clean)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80) {
            *w++ = (char)*p;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
        }
    *w = '\0';
    v = json_string(clean);
    free(clean);
    return v;
}

static json_t *address_json(const rg_addr *a, const rg_host *h)
{
    char buf[RG_ADDR_STRLEN];
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = json_object_set_new(o, "address", json_string(rg_addr_format(a, buf, sizeof buf))) == 0;
    ok = ok && (!h || rg_json_put_annotation(o, h));
    if (ok)
        return o;
    json_decref(o);
    return NULL;
}

static json_t *errors_json(const rg_lookup_error *errors, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *e = json_pack("{s:o?, s:s}", "input", input_json(errors[i].input), "error",
                              errors[i].why);
        if (!e || json_array_append_new(a, e) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *lookup_json(const rg_run *run, const rg_addr *addrs, size_t n,
                           const rg_lookup_error *errors, size_t nerrors)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        json_t *o = address_json(&addrs[i], rg_run_host(run, &addrs[i]));
        if (!o || json_array_append_new(list, o) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *errs = errors_json(errors, nerrors), *credits = rg_json_credits(run);
    if (!list || !errs || !credits) {
        json_decref(list);
        json_decref(errs);
        json_decref(credits);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "schema", RG_LOOKUP_SCHEMA, "version",
                     RG_VERSION, "addresses", list, "errors", errs, "credits", credits);
}

bool rg_lookup_write_json(FILE *out, const rg_run *run, const rg_addr *addrs, size_t n,
                          const rg_lookup_error *errors, size_t nerrors)
{
    json_t *doc = lookup_json(run, addrs, n, errors, nerrors);
    if (!doc)
        return false;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return rc == 0 && fputc('\n', out) != EOF && fflush(out) == 0 && !ferror(out);
}
