/* stop: what SIGINT and SIGTERM do, delivered for real (raise) to a child
 * process per scenario, since the handlers' state lives for the process.
 * A single run: the first signal sets the engine's stop flag and the next
 * one gets the default action. A watch: the first sets only the finish
 * flag, the second the stop flag (exit status 128 + its number), the third
 * gets the default action. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "watch/stop.h"

/* Runs fn in a child; returns its wait status. */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static bool is_default(int sig)
{
    struct sigaction sa;
    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL;
}

/* Each check a distinct exit code, so a failure names itself. */
static int single_run(void)
{
    if (!rg_stop_install())
        return 10;
    if (*rg_stop_flag() || rg_stop_signal() || rg_stop_finish_flag() != rg_stop_flag())
        return 11;
    raise(SIGTERM);
    if (*rg_stop_flag() != SIGTERM || rg_stop_signal() != SIGTERM)
        return 12;
    if (rg_stop_exit_status() != 143 || strcmp(rg_stop_signal_name(), "SIGTERM") != 0)
        return 13;
    if (!is_default(SIGTERM))
        return 14; /* SA_RESETHAND: the next one kills */
    return 0;
}

static int watch_two_stages(void)
{
    if (!rg_stop_install_watch())
        return 20;
    volatile sig_atomic_t *finish = rg_stop_finish_flag(), *stop = rg_stop_flag();
    if (finish == stop || *finish || *stop)
        return 21;
    raise(SIGINT);
    if (*finish != SIGINT || *stop != 0 || rg_stop_signal() != SIGINT)
        return 22; /* the round in progress goes on */
    if (is_default(SIGINT) || is_default(SIGTERM))
        return 23;
    raise(SIGTERM);
    if (*stop != SIGTERM || rg_stop_exit_status() != 143 || rg_stop_signal() != SIGTERM)
        return 24; /* abandoned at once */
    if (!is_default(SIGINT) || !is_default(SIGTERM))
        return 25;
    return 0;
}

static int watch_third_signal_kills(void)
{
    if (!rg_stop_install_watch())
        return 30;
    raise(SIGINT);
    raise(SIGINT);
    if (*rg_stop_flag() != SIGINT || rg_stop_exit_status() != 130)
        return 31;
    raise(SIGINT);
    return 32; /* not reached: the default action ends the process */
}

static void test_single_run(void **state)
{
    (void)state;
    int st = in_child(single_run);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_watch_two_stages(void **state)
{
    (void)state;
    int st = in_child(watch_two_stages);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_watch_third_signal_kills(void **state)
{
    (void)state;
    int st = in_child(watch_third_signal_kills);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGINT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_run),
        cmocka_unit_test(test_watch_two_stages),
        cmocka_unit_test(test_watch_third_signal_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
