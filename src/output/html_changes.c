#include "html_changes.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../model/result.h"
#include "../watch/diff.h"

typedef void (*text_fn)(FILE *, const char *);

/* The verdict as the text output words it (watch/diff.h). */
static const char *verdict(const char *key)
{
    for (enum rg_change c = RG_CHANGE_HOPS; key && c <= RG_CHANGE_ADDED; c++)
        if (strcmp(rg_change_key(c), key) == 0)
            return rg_change_name(c);
    return "changed";
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A path's hop at index i as text: "*" for a silent hop. */
static const char *hop_at(const json_t *path, size_t i)
{
    const json_t *hops = json_object_get(path, "hops");
    if (i >= json_array_size(hops))
        return NULL;
    const char *s = json_string_value(json_array_get(hops, i));
    return s ? s : "*";
}

static size_t path_len(const json_t *path)
{
    size_t n = json_array_size(json_object_get(path, "hops"));
    return n < RG_MAX_TTL ? n : RG_MAX_TTL;
}

static void put_as_path(FILE *f, const json_t *path)
{
    const json_t *as = json_object_get(path, "as_path");
    size_t n = json_array_size(as);
    for (size_t i = 0; i < n && i < RG_MAX_TTL; i++) {
        json_int_t a = json_integer_value(json_array_get(as, i));
        if (a > 0 && a <= UINT32_MAX)
            fprintf(f, "%sAS%lld", i ? " " : "", (long long)a);
    }
    if (n == 0)
        fputs("&mdash;", f);
}

static void put_cell(FILE *f, const char *s, text_fn text)
{
    fputs("<td class=\"mono\">", f);
    if (s)
        text(f, s);
    fputs("</td>", f);
}

/* The destination row: reached or not, with the port state. */
static void put_end(FILE *f, const json_t *path, text_fn text)
{
    fputs("<td>", f);
    if (path) {
        text(f, json_is_true(json_object_get(path, "reached")) ? "reached, port " : "not reached, port ");
        text(f, str(path, "state") ? str(path, "state") : "?");
    }
    fputs("</td>", f);
}

static void put_sides(FILE *f, const json_t *ev, text_fn text)
{
    const json_t *old = json_object_get(ev, "old"), *now = json_object_get(ev, "new");
    if (!json_is_object(old))
        old = NULL;
    if (!json_is_object(now))
        now = NULL;
    json_int_t part = json_integer_value(json_object_get(ev, "part_ttl"));
    size_t n = old ? path_len(old) : 0, m = now ? path_len(now) : 0;
    fputs("<table class=\"sides\"><thead><tr><th class=\"num\">TTL</th><th>before</th>"
          "<th>after</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < (n > m ? n : m); i++) {
        bool parted = part > 0 && (json_int_t)i + 1 >= part;
        fprintf(f, "<tr%s><td class=\"num\">%zu</td>", parted ? " class=\"parted\"" : "", i + 1);
        put_cell(f, old ? hop_at(old, i) : NULL, text);
        put_cell(f, now ? hop_at(now, i) : NULL, text);
        fputs("</tr>\n", f);
    }
    fputs("<tr class=\"end\"><td class=\"num\"></td>", f);
    put_end(f, old, text);
    put_end(f, now, text);
    fputs("</tr>\n<tr class=\"aspath\"><td class=\"num\">AS</td><td>", f);
    if (old)
        put_as_path(f, old);
    fputs("</td><td>", f);
    if (now)
        put_as_path(f, now);
    fputs("</td></tr>\n</tbody></table>\n", f);
}

/* "paths part at hop N after ADDR (ASn)", as the text output says it. */
static void put_parting(FILE *f, const json_t *ev, text_fn text)
{
    json_int_t part = json_integer_value(json_object_get(ev, "part_ttl"));
    if (part <= 0 || part > RG_MAX_TTL)
        return;
    fprintf(f, ": paths part at hop %lld after ", (long long)part);
    const char *after = str(ev, "part_after");
    text(f, after ? after : "the prober");
    json_int_t asn = json_integer_value(json_object_get(ev, "part_after_asn"));
    if (asn > 0 && asn <= UINT32_MAX)
        fprintf(f, " (AS%lld)", (long long)asn);
}

static void put_service(FILE *f, const json_t *ev, text_fn text)
{
    const char *addr = str(ev, "address");
    json_int_t port = json_integer_value(json_object_get(ev, "port"));
    bool v6 = addr && strchr(addr, ':');
    fputs("<span class=\"mono\">", f);
    fputs(v6 ? "[" : "", f);
    text(f, addr ? addr : "?");
    fprintf(f, "%s:%lld</span>", v6 ? "]" : "", (long long)(port > 0 && port < 65536 ? port : 0));
}

static void put_change(FILE *f, const json_t *ev, size_t i, text_fn text)
{
    const char *key = str(ev, "change");
    json_int_t round = json_integer_value(json_object_get(ev, "round"));
    fprintf(f, "<li class=\"change\" data-change=\"%zu\" tabindex=\"0\">"
               "<div class=\"when\">round %lld</div><div class=\"what\">",
            i, (long long)(round > 0 ? round : 0));
    put_service(f, ev, text);
    fputs(" <span class=\"verdict\">", f);
    text(f, verdict(key));
    fputs("</span>", f);
    put_parting(f, ev, text);
    fputs("</div>\n", f);
    put_sides(f, ev, text);
    fputs("</li>\n", f);
}

void rg_html_changes(FILE *f, const json_t *doc, text_fn text)
{
    const json_t *changes = json_object_get(json_object_get(doc, "watch"), "changes");
    size_t n = json_array_size(changes);
    if (n == 0)
        return;
    fprintf(f, "<section id=\"changes\">\n<h2>Changes<small>%zu against the baseline, round "
               "by round; hover one to mark its old and new path in the graph</small></h2>\n"
               "<ol class=\"timeline\">\n",
            n);
    for (size_t i = 0; i < n && i < RG_HTML_MAX_CHANGES; i++)
        if (json_is_object(json_array_get(changes, i)))
            put_change(f, json_array_get(changes, i), i, text);
    fputs("</ol>\n", f);
    if (n > RG_HTML_MAX_CHANGES)
        fprintf(f, "<p class=\"muted\">%zu more in the embedded document.</p>\n",
                n - RG_HTML_MAX_CHANGES);
    fputs("</section>\n", f);
}
