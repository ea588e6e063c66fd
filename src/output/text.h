/* text: helpers shared by the plain-text outputs (table, AS-path view).
 * Every string from outside (target names, DNS names, AS names) is written
 * through rg_text_clean so terminal control sequences never reach the
 * operator's terminal. With out NULL the functions only count columns. */
#ifndef RG_TEXT_H
#define RG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../model/result.h"

/* Printable ASCII as is but a backslash, doubled (so "\x1b" text and an
 * escaped ESC differ); in UTF-8 mode (rg_text_set_utf8) valid UTF-8
 * characters a terminal shows as themselves; every other byte as \xNN
 * (controls, C1, bidirectional overrides, invalid UTF-8). Returns the
 * columns used. */
size_t rg_text_clean(FILE *out, const char *s);
/* For one line of stderr (messages quoting paths and names): controls, C1
 * and invalid UTF-8 as \xNN, the rest as is (backslashes too: messages
 * quote text that was escaped already). */
void rg_text_line(FILE *out, const char *s);
/* UTF-8 mode: off by default (C locale: ASCII only); main turns it on when
 * the locale's character set is UTF-8 (rg_text_locale_utf8, after
 * setlocale(LC_CTYPE, "")). */
void rg_text_set_utf8(bool on);
bool rg_text_locale_utf8(void);
/* Plain text we made ourselves; returns its length. */
size_t rg_text_put(FILE *out, const char *s);
/* "ADDR:PORT" ("[V6ADDR]:PORT"), or "NAME:PORT (ADDR)" when the target was
 * a name: as targets are typed, so the text pastes back as input. */
size_t rg_text_label(FILE *out, const rg_trace *t);

#endif
