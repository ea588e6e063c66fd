#include "stop.h"

#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    stop_requested = signo;
}

bool rg_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a poll() in progress returns EINTR and the engine
     * sees the flag at once instead of after its timeout. */
    sa.sa_flags = (int)SA_RESETHAND;
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0;
}

volatile sig_atomic_t *rg_stop_flag(void)
{
    return &stop_requested;
}

int rg_stop_signal(void)
{
    return (int)stop_requested;
}

const char *rg_stop_signal_name(void)
{
    switch (stop_requested) {
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
