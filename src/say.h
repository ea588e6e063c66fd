/* say: routegraph's one line on standard error, "routegraph: " first,
 * what it quotes (paths, names) escaped for the terminal. */
#ifndef RG_SAY_H
#define RG_SAY_H

void rg_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
