/* stop: SIGINT and SIGTERM ask the program to stop, they do not kill it.
 *
 * The handler only stores the signal's number in one sig_atomic_t (the
 * engine's stop flag), the one thing a handler may safely do; the engine
 * polls the flag between packets, so the run ends within one poll wait and
 * everything measured so far is still written. The handler is installed
 * with SA_RESETHAND: a second Ctrl-C gets the default action and ends the
 * process at once, for an operator who does not want to wait for the
 * annotation and the output files. */
#ifndef RG_STOP_H
#define RG_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handlers; false (errno set) if sigaction failed. */
bool rg_stop_install(void);

/* The flag to hand to rg_engine_run: 0, or the number of the signal that
 * asked to stop. */
volatile sig_atomic_t *rg_stop_flag(void);

/* The signal that asked to stop, 0 if none. */
int rg_stop_signal(void);

/* "SIGINT", "SIGTERM" or "signal" for the one that asked to stop. */
const char *rg_stop_signal_name(void);

/* The exit status of a process stopped by a signal, shell style: 128 + its
 * number (130 for SIGINT, 143 for SIGTERM). */
int rg_stop_exit_status(void);

#endif
