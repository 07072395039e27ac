/* run.h - facts about the run stage shared by the daemon and the CLI. */
#ifndef SLIPWAY_RUN_H
#define SLIPWAY_RUN_H

/* The Kubernetes version slipwayd's API answers as ("v1.32.0-slipway"):
 * kubectl compares it with its own and warns beyond one minor apart. */
const char *sw_run_git_version(void);

#endif
