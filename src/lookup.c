#include "lookup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/sources.h"
#include "cli/targets.h"
#include "model/result.h"
#include "output/lookup.h"
#include "output/text.h"

#define NOT_ADDRESS "not an IPv4 or IPv6 address"

/* One line on stderr; what it quotes escaped. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fputs("routegraph: lookup: ", stderr);
    rg_text_line(stderr, line);
    fputc('\n', stderr);
}

static int check_options(const rg_config *cfg)
{
    if (cfg->probe_only[0]) {
        say("%s applies to a trace, not to lookup (lookup takes -f, -n, -q, --format and "
            "the annotation options)", cfg->probe_only);
        return RG_LOOKUP_USAGE;
    }
    if (cfg->output) {
        say("-o: lookup writes to standard output");
        return RG_LOOKUP_USAGE;
    }
    if (cfg->formats_given && cfg->formats != RG_FMT_TABLE && cfg->formats != RG_FMT_JSON) {
        say("--format: lookup writes table (one line per address) or json");
        return RG_LOOKUP_USAGE;
    }
    return RG_LOOKUP_OK;
}

typedef struct inputs {
    rg_addr *addrs;
    size_t n;
    rg_lookup_error *errors; /* room for every input */
    size_t nerrors;
} inputs;

/* Inputs from argv, then -f; an argument that cannot even be a target (a
 * control byte, too long) is named with why, listed as not an address, and
 * the others go on. */
static int collect(const rg_config *cfg, rg_target_list *l, inputs *in)
{
    char err[512];
    in->errors = calloc(cfg->ntargets + 1, sizeof *in->errors);
    if (!in->errors) {
        say("out of memory");
        return RG_LOOKUP_RUNTIME;
    }
    for (size_t i = 0; i < cfg->ntargets; i++) {
        if (!rg_targets_add(l, cfg->targets[i], err, sizeof err)) {
            say("%s", err);
            in->errors[in->nerrors++] = (rg_lookup_error){cfg->targets[i], NOT_ADDRESS};
        }
    }
    if (cfg->target_file && !rg_targets_read_file(l, cfg->target_file, err, sizeof err)) {
        say("%s", err);
        return RG_LOOKUP_USAGE;
    }
    if (l->n == 0 && in->nerrors == 0) {
        say("no address given (routegraph lookup ADDRESS... or -f FILE)");
        return RG_LOOKUP_USAGE;
    }
    return RG_LOOKUP_OK;
}

/* Splits the inputs into addresses and errors, naming each error. */
static bool parse_inputs(const rg_target_list *l, inputs *in)
{
    in->addrs = calloc(l->n ? l->n : 1, sizeof *in->addrs);
    rg_lookup_error *e = realloc(in->errors, (in->nerrors + l->n + 1) * sizeof *e);
    if (!in->addrs || !e)
        return false;
    in->errors = e;
    for (size_t i = 0; i < l->n; i++) {
        if (rg_addr_parse(l->names[i], &in->addrs[in->n])) {
            in->n++;
            continue;
        }
        char q[256];
        rg_targets_escape(q, sizeof q, l->names[i], strlen(l->names[i]), 80);
        say("%s: %s", q, NOT_ADDRESS);
        in->errors[in->nerrors++] = (rg_lookup_error){l->names[i], NOT_ADDRESS};
    }
    return true;
}

static int annotate_and_write(const rg_config *cfg, const inputs *in)
{
    char err[512];
    rg_sources sources;
    if (!rg_sources_open(&sources, cfg, err, sizeof err)) {
        say("%s", err);
        return RG_LOOKUP_USAGE;
    }
    if (sources.warning[0] && !cfg->quiet)
        say("%s", sources.warning);
    rg_run run = {0};
    int status = RG_LOOKUP_OK;
    if (!rg_run_set_hosts(&run, in->addrs, in->n)) {
        say("out of memory");
        status = RG_LOOKUP_RUNTIME;
        goto out;
    }
    char warn[512];
    rg_sources_annotate_hosts(&sources, &run, cfg, warn, sizeof warn);
    if (warn[0] && !cfg->quiet)
        say("%s", warn);
    bool ok = cfg->formats == RG_FMT_JSON
                  ? rg_lookup_write_json(stdout, &run, in->addrs, in->n, in->errors, in->nerrors)
                  : rg_lookup_write_text(stdout, &run, in->addrs, in->n);
    if (!ok) {
        say("writing the results failed");
        status = RG_LOOKUP_RUNTIME;
    }
out:
    rg_run_free(&run);
    rg_sources_close(&sources);
    return status;
}

int rg_lookup_main(const rg_config *cfg)
{
    int status = check_options(cfg);
    if (status != RG_LOOKUP_OK)
        return status;
    rg_target_list l = {0};
    inputs in = {0};
    status = collect(cfg, &l, &in);
    if (status == RG_LOOKUP_OK && !parse_inputs(&l, &in)) {
        say("out of memory");
        status = RG_LOOKUP_RUNTIME;
    }
    if (status == RG_LOOKUP_OK && in.n == 0)
        status = RG_LOOKUP_USAGE; /* every input was bad: each was named */
    if (status == RG_LOOKUP_OK)
        status = annotate_and_write(cfg, &in);
    if (status == RG_LOOKUP_OK && in.nerrors > 0)
        status = RG_LOOKUP_PARTIAL;
    free(in.addrs);
    free(in.errors);
    rg_targets_free(&l);
    return status;
}
