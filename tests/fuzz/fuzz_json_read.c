/* libFuzzer harness for the JSON reader and everything a saved document
 * feeds when it is rendered again: json_read -> graph -> DOT, and the DOT
 * parsed back by cgraph. Besides the sanitizers it checks what the headers
 * promise: a refused document gives one line naming a JSON path and leaves
 * the run empty; an accepted one has sane traces, and its DOT always parses
 * into exactly the graph's nodes, whatever the names in it.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     $(pkg-config --cflags libcgraph) tests/fuzz/fuzz_json_read.c \
 *     src/input/json_read.c src/graph/graph.c src/output/dot.c \
 *     src/model/result.c src/util/addr.c src/util/utf8.c \
 *     $(pkg-config --libs jansson libcgraph) -o fuzz_json_read
 *   ./fuzz_json_read -max_total_time=60 -max_len=65536 tests/fuzz/corpus/json_read
 */
#include <cgraph.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "graph/graph.h"
#include "input/json_read.h"
#include "output/dot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refused(const rg_run *run, const char *err)
{
    if (err[0] != '$' || strchr(err, '\n') || run->traces || run->ntraces || run->hosts)
        abort();
}

static void check_trace(const rg_trace *t)
{
    if (t->min_ttl < 1 || t->max_ttl > 255 || t->min_ttl > t->max_ttl || t->attempts < 1 ||
        t->attempts > rg_attempts_for(RG_MAX_RETRIES) || t->dport == 0 || (t->dst.family != 4 && t->dst.family != 6))
        abort();
    if (t->reached_ttl && (t->reached_ttl < t->min_ttl || t->reached_ttl > t->max_ttl))
        abort();
}

static void check_dot(const rg_graph *g)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    bool ok = rg_dot_write(f, g);
    fclose(f);
    if (!ok) {
        free(text);
        return;
    }
    Agraph_t *ag = agmemread(text);
    if (!ag || (size_t)agnnodes(ag) != g->nnodes + (g->ntraces ? 1 : 0))
        abort();
    agclose(ag);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        agseterr(AGMAX); /* cgraph would print every parse error; we abort instead */
        quiet = true;
    }
    rg_run run;
    char err[256] = "";
    if (!rg_json_read_buffer((const char *)data, size, &run, err, sizeof err)) {
        check_refused(&run, err);
        return 0;
    }
    for (size_t i = 0; i < run.ntraces; i++)
        check_trace(&run.traces[i]);
    rg_graph *g = rg_graph_build(&run);
    if (g) {
        if (g->ntraces != run.ntraces || g->nodes[0].kind != RG_GNODE_ROOT)
            abort();
        check_dot(g);
        rg_graph_free(g);
    }
    rg_run_free(&run);
    return 0;
}
