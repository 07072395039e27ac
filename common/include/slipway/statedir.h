/*
 * statedir.h - where slipway keeps its state (images, releases, the daemon's
 * store).
 *
 * Resolution order, as DESIGN.md's conventions say: the --state-dir flag,
 * then $SLIPWAY_HOME, then /var/lib/slipway for root and
 * ~/.local/share/slipway for everyone else. The folder is created with mode
 * 0700 on first use; it holds image layers and secrets-adjacent metadata.
 */
#ifndef SLIPWAY_STATEDIR_H
#define SLIPWAY_STATEDIR_H

#include "slipway/error.h"

/* The state dir path without touching the file system. flag may be NULL. */
int sw_statedir_resolve(char **out, const char *flag, sw_error **err);

/* sw_statedir_resolve, then creates the folder (and missing parents) so that
 * the state dir itself has mode 0700. */
int sw_statedir_open(char **out, const char *flag, sw_error **err);

/* mkdir -p: missing parents with parent_mode, the last one with mode. An
 * existing folder is left as it is; an existing non-folder is an error. */
int sw_mkdir_p(const char *path, unsigned parent_mode, unsigned mode, sw_error **err);

#endif
