#include "diffcmd.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../input/json_read.h"
#include "../output/text.h"
#include "changes.h"

static void complain(const char *msg)
{
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, msg);
    fputc('\n', stderr);
}

static bool in_run(const rg_run *run, const rg_trace *t)
{
    for (size_t i = 0; i < run->ntraces; i++)
        if (run->traces[i].dport == t->dport && rg_addr_equal(&run->traces[i].dst, &t->dst))
            return true;
    return false;
}

/* Services of the old run the new one no longer has. */
static size_t gone(const rg_run *old, const rg_run *now, FILE *text, json_t *events)
{
    size_t n = 0;
    char buf[RG_ADDR_STRLEN];
    for (size_t i = 0; i < old->ntraces; i++) {
        const rg_trace *t = &old->traces[i];
        if (in_run(now, t))
            continue;
        n++;
        if (text) {
            rg_text_label(text, t);
            fputs("  not in the new run\n", text);
        }
        if (events)
            json_array_append_new(events, json_pack("{s:s?,s:s,s:I,s:s}", "target", t->target,
                                                    "address", rg_addr_format(&t->dst, buf,
                                                                              sizeof buf),
                                                    "port", (json_int_t)t->dport, "change",
                                                    "removed"));
    }
    return n;
}

int rg_diff_command(const rg_config *cfg)
{
    char err[512];
    if (cfg->ntargets != 2 || cfg->target_file) {
        complain("diff: give exactly two results files (routegraph diff OLD.json NEW.json)");
        return 2;
    }
    if (cfg->trace_only[0] || cfg->output) {
        snprintf(err, sizeof err, "diff: %s does not apply to diff (diff takes --format, -q)",
                 cfg->output ? "-o" : cfg->trace_only);
        complain(err);
        return 2;
    }
    bool json = cfg->formats_given && cfg->formats == RG_FMT_JSON;
    if (cfg->formats_given && !json && cfg->formats != RG_FMT_TABLE) {
        complain("diff: --format takes table or json");
        return 2;
    }
    rg_run old = {0}, now = {0};
    if (!rg_json_read_file(cfg->targets[0], &old, err, sizeof err) ||
        !rg_json_read_file(cfg->targets[1], &now, err, sizeof err)) {
        complain(err);
        rg_run_free(&old);
        return 2;
    }
    rg_changes c;
    json_t *events = json ? json_array() : NULL;
    int status = 2;
    if (!rg_changes_init(&c, &old, &now) || (json && !events)) {
        complain("out of memory");
        goto out;
    }
    FILE *text = json || cfg->quiet ? NULL : stdout;
    size_t n = rg_changes_compare(&c, &now, text, events, true, 0);
    n += gone(&old, &now, text, events);
    status = n ? 1 : 0;
    if (json) {
        json_t *doc = json_pack("{s:s,s:I,s:o}", "schema", RG_DIFF_SCHEMA, "changed",
                                (json_int_t)n, "services", json_incref(events));
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
            fputc('\n', stdout) == EOF)
            status = 2;
        json_decref(doc);
    }
    if (fflush(stdout) != 0)
        status = 2;
    rg_changes_free(&c);
out:
    json_decref(events);
    rg_run_free(&old);
    rg_run_free(&now);
    return status;
}
