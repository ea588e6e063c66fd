/* routegraph: parallel TCP SYN traceroute to many targets and ports.
 *
 * main wires the stages together in the order privilege demands: clear the
 * environment that could choose code to load, parse the command line, open
 * the raw sockets (a trace only), drop every privilege (every mode), and only
 * then read files, resolve names, probe, close the raw sockets, annotate and
 * write output. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <locale.h>

#include "annotate/dns.h"
#include "annotate/sources.h"
#include "cli/options.h"
#include "cli/resolve.h"
#include "cli/targets.h"
#include "engine/engine.h"
#include "engine/multipath.h"
#include "engine/privs.h"
#include "engine/sockets.h"
#include "model/result.h"
#include "model/trace_store.h"
#include "input/json_read.h"
#include "lookup.h"
#include "probe/probe.h"
#include "output/jsonl.h"
#include "output/outputs.h"
#include "output/progress.h"
#include "output/text.h"
#include "plan.h"
#include "say.h"
#include "watch/stop.h"
#include "history/histcmd.h"
#include "watch/changes.h"
#include "watch/check.h"
#include "watch/metrics_http.h"
#include "watch/diffcmd.h"
#include "watch/watch.h"

#ifndef RG_VERSION
#define RG_VERSION "0.0.0"
#endif

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_PARTIAL = 3 };

#define say rg_say

/* No target given and a terminal on stdin: ask for them, on one line. */
static bool prompt_targets(rg_target_list *l, char *err, size_t errlen)
{
    char line[4096];
    fputs("Enter one or more IP/domain, separated by spaces: ", stderr);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin))
        return true;
    return rg_targets_parse(l, line, strlen(line), "input", err, errlen);
}

/* Every bad entry of a target file, then how many were skipped. */
static void report_skipped(const rg_target_list *l)
{
    for (size_t i = 0; i < l->nskipped_shown; i++)
        say("%s", l->skipped[i]);
    if (l->nskipped > l->nskipped_shown)
        say("%zu more bad entries not shown", l->nskipped - l->nskipped_shown);
    if (l->nskipped)
        say("%zu bad entr%s skipped, the others traced (--strict stops at the first)",
            l->nskipped, l->nskipped == 1 ? "y" : "ies");
}

/* The command line's targets, and a target file's unless read lazily. */
static bool collect_targets(const rg_config *cfg, rg_target_list *l, bool lazy, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i < cfg->ntargets; i++)
        if (!rg_targets_add(l, cfg->targets[i], err, errlen))
            return false;
    l->strict = cfg->strict;
    if (cfg->target_file && !lazy && !rg_targets_read_file(l, cfg->target_file, err, errlen))
        return false;
    if (l->n == 0 && !cfg->target_file && isatty(STDIN_FILENO) &&
        !prompt_targets(l, err, errlen))
        return false;
    report_skipped(l);
    if (l->n == 0 && l->nskipped) {
        snprintf(err, errlen, "nothing to trace: every target given was bad");
        return false;
    }
    if (l->n == 0 && !(lazy && cfg->target_file)) {
        snprintf(err, errlen, "no target given (see routegraph --help)");
        return false;
    }
    return true;
}

/* rg_attempts_for(RG_MAX_RETRIES): the throttled tries included. */
_Static_assert(RG_MAX_RETRIES + 1 + RG_THROTTLED_RETRIES <= 1 << RG_PROBE_ATTEMPT_BITS,
               "every attempt at a TTL needs its own probe identity");

static void report_send_errors(const rg_run *run)
{
    if (run->stats.send_errors == 0)
        return;
    say("%llu probes could not be sent: %s",
        (unsigned long long)run->stats.send_errors,
        strerror(run->stats.last_send_error));
}

/* A streamed run that asked for nothing needing the whole run (no other
 * format, no table on standard output, no baseline or check) frees each
 * trace once written, and skips annotation. */
static bool jsonl_alone(const rg_config *cfg)
{
    return (cfg->formats & ~(unsigned)RG_FMT_JSONL) == 0 && (!cfg->output || cfg->quiet) &&
           !cfg->baseline && !cfg->check;
}

/* The streamed output's annotation of one trace (jsonl.h). */
typedef struct stream_annotation {
    rg_sources *sources;
    const rg_config *cfg;
} stream_annotation;

static bool annotate_streamed(void *ctx, rg_run *view)
{
    const stream_annotation *a = ctx;
    return rg_sources_annotate_offline(a->sources, view, a->cfg);
}

/* The outputs written after the run: every format but the streamed one.
 * Nothing when the stream was all that was asked for. */
static bool write_run_outputs(const rg_run *run, const rg_config *cfg)
{
    if (jsonl_alone(cfg))
        return true;
    rg_config rest = *cfg;
    rest.formats &= ~(unsigned)RG_FMT_JSONL;
    return rg_outputs_write(run, &rest, !cfg->quiet, NULL);
}

/* --baseline on one run: every target:port's verdict after the outputs. */
static void compare_baseline(const rg_run *base, const rg_run *run, const rg_config *cfg)
{
    rg_changes c;
    if (cfg->quiet)
        return;
    if (!rg_changes_init(&c, base, run)) {
        say("%s", "out of memory");
        return;
    }
    fputs("\nAgainst the baseline:\n", stdout);
    rg_changes_compare(&c, run, stdout, NULL, true, 0);
    rg_changes_free(&c);
}

/* --check: the files asked for with -o (nothing else on standard output),
 * then the one status line; returns the plugin's exit status. */
static int check_run(const rg_run *run, const rg_run *base, const rg_config *cfg)
{
    rg_check_rules rules;
    char err[256];
    if (!rg_check_parse(cfg->check_spec, &rules, err, sizeof err))
        return RG_CHECK_UNKNOWN; /* checked by options already */
    if (cfg->output && !rg_outputs_write(run, cfg, false, NULL))
        return RG_CHECK_UNKNOWN;
    json_t *events = NULL;
    rg_changes c;
    if (cfg->baseline) {
        if (!(events = json_array()) || !rg_changes_init(&c, base, run)) {
            json_decref(events);
            return RG_CHECK_UNKNOWN;
        }
        rg_changes_compare(&c, run, NULL, events, false, 0);
        rg_changes_free(&c);
    }
    int level = rg_check_report(stdout, &rules, run, events);
    json_decref(events);
    return level;
}

/* socks is closed as soon as probing ends: annotation and output (DNS
 * answers, databases, graphviz) never run with a raw socket open. */
static int trace(const rg_config *cfg, rg_sockets *socks, bool watching)
{
    char err[512];
    rg_target_list targets = {0};
    /* A streamed run reads and resolves its targets as it goes (plan.h). */
    bool lazy = !watching && (cfg->formats & RG_FMT_JSONL);
    rg_lazy intake = {0};
    if (!collect_targets(cfg, &targets, lazy, err, sizeof err) ||
        !rg_options_check_size(cfg, targets.n, err, sizeof err) ||
        (lazy && !rg_lazy_open(&intake, cfg, socks, &targets, err, sizeof err))) {
        say("%s", err);
        rg_lazy_close(&intake);
        rg_targets_free(&targets);
        return EXIT_USAGE;
    }
    /* Before any probe: a run never probes for output it cannot write. */
    if (!rg_outputs_check(cfg, err, sizeof err)) {
        say("%s", err);
        rg_targets_free(&targets);
        return EXIT_USAGE;
    }
    rg_sources sources;
    if (!rg_sources_open(&sources, cfg, err, sizeof err)) {
        say("%s", err);
        rg_targets_free(&targets);
        return EXIT_USAGE;
    }
    if (sources.warning[0] && !cfg->quiet)
        say("%s", sources.warning);
    rg_run run = {0}, base = {0};
    int status = 0;
    bool checked = false; /* --check wrote its status line */
    /* Read before probing, so a bad file fails fast (the watch reads its own). */
    if (cfg->baseline && !watching && !rg_json_read_file(cfg->baseline, &base, err, sizeof err)) {
        say("%s", err);
        status = EXIT_USAGE;
        goto out;
    }
    bool planned = lazy || rg_plan_all(&run, cfg, &targets, socks);
    /* Each trace holds a copy of its name: the list is not needed past
     * here, and at 65,536 targets its names and tables are megabytes
     * (the lazy intake feeds from it, so it stays until the end). */
    size_t skipped = targets.nskipped;
    if (!lazy)
        rg_targets_free(&targets);
    if (!planned) {
        say("%s", "out of memory");
        status = EXIT_RUNTIME;
        goto out;
    }
    if (watching && (cfg->formats & RG_FMT_JSONL)) {
        say("watch: --format jsonl streams a single run; a watch writes json (its latest round) or --history");
        status = EXIT_USAGE;
        goto out;
    }
    if (cfg->multipath && (watching || (cfg->formats & RG_FMT_JSONL))) {
        say("--multipath: not with watch or --format jsonl (its branches come after every trace)");
        status = EXIT_USAGE;
        goto out;
    }
    if (watching) {
        /* Every round reuses the traces' slots (watch.h): all of them now. */
        for (size_t i = 0; i < run.ntraces; i++)
            if (!rg_trace_alloc(&run.traces[i])) {
                say("%s", "out of memory");
                status = EXIT_RUNTIME;
                goto out;
            }
        /* The sockets stay open for every round (watch.h). */
        status = rg_watch_run(&run, cfg, socks, &sources);
        goto out;
    }
    /* Each trace written alone is dropped, record and name: the records
     * stay where the engine's indexes find them while their pages go back
     * (trace_store.h), so memory follows the window, not the run. */
    if (lazy && jsonl_alone(cfg) && !rg_trace_store_open(&run, intake.max_traces)) {
        say("%s", "out of memory");
        status = EXIT_RUNTIME;
        goto out;
    }
    bool streaming = cfg->formats & RG_FMT_JSONL;
    rg_jsonl stream;
    if (streaming && !rg_jsonl_open(&stream, cfg, jsonl_alone(cfg), err, sizeof err)) {
        say("%s", err);
        status = EXIT_RUNTIME;
        goto out;
    }
    stream_annotation annotation = {&sources, cfg};
    if (streaming) {
        /* The local databases annotate each trace as it is written: their
         * loaders are waited for before the first probe. */
        rg_sources_ready(&sources);
        if (rg_sources_offline(&sources)) {
            stream.annotate = annotate_streamed;
            stream.annotate_ctx = &annotation;
        }
        stream.lazy = lazy;
        rg_jsonl_head(&stream, &run);
        /* Reverse names in batches ahead of the writer (jsonl_names.h). */
        rg_dns_opts names = {.server = cfg->dns_server,
                             .lab_only = getenv("ROUTEGRAPH_LAB_ONLY") != NULL,
                             .deadline_ms = (unsigned)(cfg->dns_timeout * 1000.0)};
        if (!cfg->no_dns && !rg_jsonl_start_names(&stream, &names, err, sizeof err))
            say("%s", err); /* the stream goes on without names */
    }
    rg_progress prog;
    rg_progress_init(&prog, cfg->quiet);
    rg_engine_opts eo = {.rate = cfg->rate, .timeout = cfg->timeout, .gap = cfg->gap,
                         .retries = cfg->retries, .stop_set_start = cfg->stop_set,
                         .max_inflight = cfg->max_inflight, .compact = true,
                         .port_probe_last = cfg->multipath && cfg->method == RG_METHOD_ICMP,
                         .trace_done = streaming ? rg_jsonl_trace_done : NULL,
                         .trace_done_ctx = streaming ? &stream : NULL,
                         .feed = lazy ? rg_feed : NULL, .feed_ctx = &intake.feeder,
                         .feed_max = intake.max_traces};
    bool ran = rg_engine_run(&run, socks, &eo, rg_progress_update, &prog, rg_stop_flag(),
                             err, sizeof err);
    if (ran && cfg->multipath && !run.interrupted) {
        rg_mp_opts mo = {.confidence = cfg->multipath, .rate = cfg->rate,
                         .timeout = cfg->timeout, .route_paths = rg_route_paths};
        ran = rg_multipath_run(&run, socks, &mo, rg_stop_flag(), err, sizeof err);
    }
    rg_sockets_close(socks);
    rg_progress_finish(&prog);
    if (!ran) {
        say("%s", err);
        if (streaming)
            rg_jsonl_abort(&stream);
        status = EXIT_RUNTIME;
        goto out;
    }
    report_send_errors(&run);
    if (lazy && !rg_lazy_report(&intake, &skipped))
        status = intake.feeder.nomem ? EXIT_RUNTIME : EXIT_USAGE;
    if (run.interrupted && !cfg->quiet)
        say("stopped by %s: writing what was measured (unfinished traces marked incomplete)",
            rg_stop_signal_name());
    /* The stream ends first: what was finished is kept whatever follows. */
    if (streaming && !rg_jsonl_close(&stream, &run, err, sizeof err)) {
        say("%s", err);
        status = EXIT_RUNTIME;
    }
    if (streaming && stream.names_stats.error[0] && !cfg->quiet)
        say("streamed names: %s; the lines after it carry none (-n skips them)",
            stream.names_stats.error);
    if (!jsonl_alone(cfg)) {
        char warn[512];
        rg_sources_annotate(&sources, &run, cfg, warn, sizeof warn);
        if (warn[0] && !cfg->quiet && !cfg->check)
            say("%s", warn);
    }
    if (cfg->check) {
        status = check_run(&run, &base, cfg);
        checked = true;
        goto out;
    }
    /* The outputs still list what could not be traced and why. */
    if (!write_run_outputs(&run, cfg))
        status = EXIT_RUNTIME;
    else if (cfg->baseline)
        compare_baseline(&base, &run, cfg);
    else if (status == 0 && run.interrupted)
        status = rg_stop_exit_status();
    else if (status == 0 && run.ntraces == 0)
        status = EXIT_USAGE; /* nothing was traced */
    else if (status == 0 && (run.nunresolved > 0 || skipped > 0))
        status = EXIT_PARTIAL;
out:
    /* A plugin that could not decide says UNKNOWN (the reason is on stderr). */
    if (cfg->check && !checked) {
        puts("ROUTEGRAPH UNKNOWN - the run failed (see standard error)");
        status = RG_CHECK_UNKNOWN;
    }
    rg_run_free(&base);
    rg_run_free(&run);
    rg_sources_close(&sources);
    rg_lazy_close(&intake);
    rg_targets_free(&targets);
    return status;
}

/* routegraph render RESULTS.json: the outputs again from saved results,
 * without probing and without any privilege. */
static int render(const rg_config *cfg)
{
    char err[512];
    if (cfg->ntargets != 1 || cfg->target_file) {
        say("render: give exactly one results file (routegraph render RESULTS.json -o PREFIX)");
        return EXIT_USAGE;
    }
    if (cfg->trace_only[0]) {
        say("render: %s applies to a trace, not to render "
            "(render takes -o, --format, -q, --wide)", cfg->trace_only);
        return EXIT_USAGE;
    }
    if (cfg->formats & RG_FMT_JSONL) {
        say("render: jsonl is written while probing; render writes table, json, dot, svg, png or html");
        return EXIT_USAGE;
    }
    rg_config c = *cfg;
    /* A terminal gets the table, not a screenful of SVG; a pipe the SVG. */
    if (!c.formats_given)
        c.formats = c.output ? RG_FMT_GRAPH : isatty(STDOUT_FILENO) ? RG_FMT_TABLE : RG_FMT_SVG;
    if (!rg_outputs_check(&c, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    rg_run run;
    /* Read once; the saved run's own options, not this command line's,
     * describe it. */
    json_t *options;
    if (!rg_json_read_file_options(c.targets[0], &run, &options, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    int status = rg_outputs_write(&run, &c, false, options) ? 0 : EXIT_RUNTIME;
    json_decref(options);
    rg_run_free(&run);
    return status;
}

int main(int argc, char **argv)
{
    /* Before any library reads it: in a privileged start the environment
     * must not choose code to load (GVBINDIR and the like). */
    rg_privs_scrub_env();
    /* Names show as UTF-8 in the text outputs when the terminal's locale is
     * UTF-8 (only the character type: numbers stay in the C format). */
    setlocale(LC_CTYPE, "");
    rg_text_set_utf8(rg_text_locale_utf8());
    rg_config cfg;
    char err[512];
    bool rendering = argc > 1 && strcmp(argv[1], "render") == 0;
    bool watching = argc > 1 && strcmp(argv[1], "watch") == 0;
    bool diffing = argc > 1 && strcmp(argv[1], "diff") == 0;
    bool history = argc > 1 && strcmp(argv[1], "history") == 0;
    bool looking_up = argc > 1 && strcmp(argv[1], "lookup") == 0;
    if (rendering || watching || diffing || history || looking_up) {
        argc--;
        argv++;
    }
    switch (rg_options_parse(argc, argv, &cfg, err, sizeof err)) {
    case RG_OPT_HELP:
        fputs(rendering ? rg_options_render_usage() : rg_options_usage(), stdout);
        return 0;
    case RG_OPT_VERSION:
        printf("routegraph %s\n", RG_VERSION);
        return 0;
    case RG_OPT_ERROR:
        say("%s", err);
        return EXIT_USAGE;
    case RG_OPT_RUN:
        break;
    }
    if ((cfg.check && !rg_check_parse(cfg.check_spec, &(rg_check_rules){{0}}, err, sizeof err)) ||
        (cfg.metrics && !rg_metrics_parse_listen(cfg.metrics, err, sizeof err))) {
        say("%s", err);
        return EXIT_USAGE;
    }
    if (!watching && cfg.watch_only[0]) {
        say("%s applies to routegraph watch", cfg.watch_only);
        return EXIT_USAGE;
    }
    /* Only a trace needs the raw sockets; every mode drops every privilege
     * before it reads a file, a reply or a name, or starts graphviz. */
    rg_sockets socks = RG_SOCKETS_NONE;
    /* Reading saved results (render, diff, history) and lookup need no socket. */
    bool offline = rendering || diffing || history || looking_up;
    if (!offline && rg_sockets_open(&socks, cfg.method, err, sizeof err) != RG_SOCK_OK) {
        say("%s", err);
        return EXIT_RUNTIME;
    }
    if (!rg_privs_drop(err, sizeof err)) {
        say("%s", err);
        rg_sockets_close(&socks);
        return EXIT_RUNTIME;
    }
    if (!offline && !(watching ? rg_stop_install_watch() : rg_stop_install())) {
        say("cannot install the SIGINT/SIGTERM handlers: %s", strerror(errno));
        rg_sockets_close(&socks);
        return EXIT_RUNTIME;
    }
    if (cfg.check && (watching || offline)) {
        say("--check applies to a single run");
        return EXIT_USAGE;
    }
    int status = rendering  ? render(&cfg)
               : diffing    ? rg_diff_command(&cfg)
               : history    ? rg_history_command(&cfg)
               : looking_up ? rg_lookup_main(&cfg)
                            : trace(&cfg, &socks, watching);
    rg_sockets_close(&socks);
    return status;
}
