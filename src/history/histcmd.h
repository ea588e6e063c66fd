/* histcmd: `routegraph history FILE [TARGET[:PORT]]` lists the rounds (or
 * one target's states round by round) and the changes kept in a history
 * database; with --round N it draws that stored round again through the
 * usual outputs (-o, --format), like render. No socket, no privilege. */
#ifndef RG_HISTCMD_H
#define RG_HISTCMD_H

#include "../cli/config.h"

int rg_history_command(const rg_config *cfg);

#endif
