#include "stop.h"

#include <string.h>

static volatile sig_atomic_t stop_requested;   /* the engine's flag: stop now */
static volatile sig_atomic_t finish_requested; /* watch: no new round */
static volatile sig_atomic_t two_stage;

static void on_signal(int signo)
{
    if (two_stage && !finish_requested) {
        finish_requested = signo;
        return;
    }
    stop_requested = signo;
    if (two_stage) {
        /* A third signal gets the default action, as the second does in a
         * single run; sigaction is async-signal-safe. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGTERM, &dfl, NULL);
    }
}

static bool install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Each handler runs with the other signal blocked, so the two stages
     * cannot interleave. */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    /* No SA_RESTART: a poll() in progress returns EINTR and the engine
     * sees the flag at once instead of after its timeout. */
    sa.sa_flags = flags;
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0;
}

bool rg_stop_install(void)
{
    two_stage = 0;
    return install((int)SA_RESETHAND);
}

bool rg_stop_install_watch(void)
{
    two_stage = 1;
    return install(0);
}

volatile sig_atomic_t *rg_stop_flag(void)
{
    return &stop_requested;
}

volatile sig_atomic_t *rg_stop_finish_flag(void)
{
    return two_stage ? &finish_requested : &stop_requested;
}

int rg_stop_signal(void)
{
    return stop_requested ? (int)stop_requested : (int)finish_requested;
}

const char *rg_stop_signal_name(void)
{
    switch (rg_stop_signal()) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    default:
        return "signal";
    }
}

int rg_stop_exit_status(void)
{
    return 128 + (int)stop_requested;
}
