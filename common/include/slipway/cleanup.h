/*
 * cleanup.h - the one cleanup idiom: __attribute__((cleanup)) on locals.
 *
 *     cleanup_free char *buf = NULL;
 *     cleanup_close int fd = -1;
 *     ...
 *     *out = steal_pointer(&buf);   // hand ownership out, local becomes NULL
 *
 * `goto out` is kept for rollbacks with state (a transaction, a half-written
 * file); everything else releases through these.
 */
#ifndef SLIPWAY_CLEANUP_H
#define SLIPWAY_CLEANUP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "slipway/error.h"

void sw_cleanup_freep(void *p);
void sw_cleanup_closep(int *fd);
void sw_cleanup_filep(FILE **f);
void sw_cleanup_dirp(DIR **d);
void sw_cleanup_errorp(sw_error **e);
void sw_cleanup_strvp(char ***v);

#define cleanup_free __attribute__((cleanup(sw_cleanup_freep)))
#define cleanup_close __attribute__((cleanup(sw_cleanup_closep)))
#define cleanup_file __attribute__((cleanup(sw_cleanup_filep)))
#define cleanup_dir __attribute__((cleanup(sw_cleanup_dirp)))
#define cleanup_error __attribute__((cleanup(sw_cleanup_errorp)))
#define cleanup_strv __attribute__((cleanup(sw_cleanup_strvp)))

/* Takes the pointer out of *pp and leaves NULL behind (bubblewrap's idiom). */
static inline void *sw_steal_pointer(void *pp)
{
	void **p = (void **)pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))sw_steal_pointer(pp))

/* Takes the fd out of *fdp and leaves -1 behind. */
static inline int steal_fd(int *fdp)
{
	int fd = *fdp;
	*fdp = -1;
	return fd;
}

/* Frees a NULL-terminated array of strings and the array. */
void sw_strv_free(char **v);

#endif
