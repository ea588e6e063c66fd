/* text: helpers shared by the plain-text outputs (table, AS-path view).
 * Every string from outside (target names, DNS names, AS names) is written
 * through rg_text_clean so terminal control sequences never reach the
 * operator's terminal. With out NULL the functions only count columns. */
#ifndef RG_TEXT_H
#define RG_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "../model/result.h"

/* Printable ASCII as is, every other byte as \xNN; returns the columns used. */
size_t rg_text_clean(FILE *out, const char *s);
/* Plain text we made ourselves; returns its length. */
size_t rg_text_put(FILE *out, const char *s);
/* "ADDR:tcpPORT", or "NAME (ADDR):tcpPORT" when the target was a name. */
size_t rg_text_label(FILE *out, const rg_trace *t);

#endif
