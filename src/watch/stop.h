/* stop: SIGINT and SIGTERM ask the program to stop, they do not kill it.
 *
 * The handler only stores the signal's number in a sig_atomic_t, the one
 * thing a handler may safely do (and, in a watch, restores the default
 * action with sigaction, which is async-signal-safe).
 *
 * A single run (rg_stop_install): the first signal sets the engine's stop
 * flag; the engine polls it between packets, so the run ends within one
 * poll wait and everything measured so far is still written. The handler is
 * installed with SA_RESETHAND: a second Ctrl-C gets the default action and
 * ends the process at once, for an operator who does not want to wait for
 * the annotation and the output files.
 *
 * A watch (rg_stop_install_watch) has two stages: the first signal sets the
 * finish flag only (no new round starts; the round in progress runs to its
 * end, bounded by its own timeouts, and is kept); a second sets the stop
 * flag, which abandons the round in progress at once; a third gets the
 * default action. */
#ifndef RG_STOP_H
#define RG_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handlers of a single run; false (errno set) if sigaction
 * failed. */
bool rg_stop_install(void);

/* Installs the two-stage handlers of a watch; false (errno set) if
 * sigaction failed. */
bool rg_stop_install_watch(void);

/* The flag to hand to rg_engine_run: 0, or the number of the signal that
 * asked to stop at once. */
volatile sig_atomic_t *rg_stop_flag(void);

/* In a watch, the flag the first signal sets: 0, or its number (finish the
 * round, start no other). Without the watch handlers: rg_stop_flag(). */
volatile sig_atomic_t *rg_stop_finish_flag(void);

/* The signal that asked to stop (at once, else to finish), 0 if none. */
int rg_stop_signal(void);

/* "SIGINT", "SIGTERM" or "signal" for rg_stop_signal(). */
const char *rg_stop_signal_name(void);

/* The exit status of a process stopped at once by a signal, shell style:
 * 128 + its number (130 for SIGINT, 143 for SIGTERM). */
int rg_stop_exit_status(void);

#endif
