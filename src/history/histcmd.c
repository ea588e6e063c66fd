#include "histcmd.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../output/outputs.h"
#include "../output/text.h"
#include "history.h"

static int complain(const char *msg)
{
    fputs("routegraph: ", stderr);
    rg_text_line(stderr, msg);
    fputc('\n', stderr);
    return 2;
}

static int draw_round(rg_history *h, const rg_config *cfg, char *err, size_t errlen)
{
    rg_config c = *cfg;
    if (!c.formats_given)
        c.formats = c.output ? RG_FMT_TABLE | RG_FMT_JSON : RG_FMT_TABLE;
    rg_run run;
    json_t *options = NULL;
    if (!rg_history_load_round(h, cfg->round, &run, &options, err, errlen))
        return complain(err);
    int status = rg_outputs_write(&run, &c, false, options) ? 0 : 1;
    json_decref(options);
    rg_run_free(&run);
    return status;
}

int rg_history_command(const rg_config *cfg)
{
    char err[512];
    if (cfg->ntargets < 1 || cfg->ntargets > 2 || cfg->target_file)
        return complain("history: give the history file and at most one TARGET[:PORT]");
    if (cfg->trace_only[0] && strcmp(cfg->trace_only, "--round") != 0)
        return complain("history: takes TARGET[:PORT], --round N, -o, --format, -q");
    if (cfg->round && cfg->ntargets != 1)
        return complain("history: --round draws a whole round: no TARGET with it");
    rg_history *h = rg_history_open_read(cfg->targets[0], err, sizeof err);
    if (!h)
        return complain(err);
    int status = 0;
    if (cfg->round)
        status = draw_round(h, cfg, err, sizeof err);
    else if (!rg_history_list(h, cfg->ntargets == 2 ? cfg->targets[1] : NULL, stdout, err,
                              sizeof err))
        status = complain(err);
    rg_history_close(h);
    return status;
}
