#include "json_stream.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct out {
    rg_json_emit_fn emit;
    void *ctx;
    size_t flags;
    unsigned indent; /* spaces per level; 0: none */
    bool ok;
} out;

static void put(out *o, const char *text, size_t len)
{
    if (o->ok && len)
        o->ok = o->emit(o->ctx, text, len);
}

static void puts_(out *o, const char *text)
{
    put(o, text, strlen(text));
}

/* A line break and the indentation of depth (nothing when compact). */
static void newline(out *o, unsigned depth)
{
    if (!o->indent)
        return;
    put(o, "\n", 1);
    for (unsigned i = 0; i < depth * o->indent; i++)
        put(o, " ", 1);
}

/* v as json_dumps gives it, its lines indented as at depth: JSON text has
 * raw line breaks only between tokens, never inside a string. */
static void value(out *o, const json_t *v, unsigned depth)
{
    char *text = json_dumps(v, o->flags | JSON_ENCODE_ANY);
    if (!text) {
        o->ok = false;
        return;
    }
    const char *p = text, *nl;
    while ((nl = strchr(p, '\n'))) {
        put(o, p, (size_t)(nl - p));
        newline(o, depth);
        p = nl + 1;
    }
    puts_(o, p);
    free(text);
}

static void key(out *o, const char *k)
{
    json_t *s = json_string(k);
    if (!s) {
        o->ok = false;
        return;
    }
    value(o, s, 0);
    json_decref(s);
    puts_(o, o->flags & JSON_COMPACT ? ":" : ": ");
}

static const char *item_sep(const out *o)
{
    return o->flags & JSON_COMPACT || o->indent ? "," : ", ";
}

/* The traces array at depth 1, each trace's tree freed once written. */
static void traces(out *o, const rg_run *run, unsigned gap)
{
    if (run->ntraces == 0) {
        puts_(o, "[]");
        return;
    }
    puts_(o, "[");
    for (size_t i = 0; o->ok && i < run->ntraces; i++) {
        if (i)
            puts_(o, item_sep(o));
        newline(o, 2);
        json_t *t = rg_json_trace(run, &run->traces[i], gap);
        if (!t) {
            o->ok = false;
            return;
        }
        value(o, t, 2);
        json_decref(t);
    }
    newline(o, 1);
    puts_(o, "]");
}

bool rg_json_stream(const json_t *doc, const rg_run *run, unsigned gap, size_t flags,
                    rg_json_emit_fn emit, void *ctx)
{
    out o = {emit, ctx, flags, (unsigned)(flags & JSON_MAX_INDENT), true};
    if (!json_is_object(doc))
        return false;
    if (json_object_size(doc) == 0) {
        puts_(&o, "{}");
        return o.ok;
    }
    puts_(&o, "{");
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach((json_t *)doc, k, v) {
        if (!first)
            puts_(&o, item_sep(&o));
        first = false;
        newline(&o, 1);
        key(&o, k);
        if (strcmp(k, "traces") == 0)
            traces(&o, run, gap);
        else
            value(&o, v, 1);
    }
    newline(&o, 0);
    puts_(&o, "}");
    return o.ok;
}

bool rg_json_emit_file(void *file, const char *text, size_t len)
{
    return fwrite(text, 1, len, file) == len;
}
