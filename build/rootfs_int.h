/*
 * rootfs_int.h - the overlay root filesystem's state, shared by rootfs.c
 * (mount, unmount) and rootfs_diff.c (the upper dir as a layer). Private
 * to build/.
 */
#ifndef SLIPWAY_ROOTFS_INT_H
#define SLIPWAY_ROOTFS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "step_runtime.h"
#include "step_runtime_int.h"

struct sw_rootfs {
	char *dir;      /* WORKDIR */
	char *upper;    /* WORKDIR/upper */
	char *work;     /* WORKDIR/work */
	char *merged;   /* WORKDIR/merged */
	char *empty;    /* WORKDIR/empty when there are no lowers, else NULL */
	int upperfd;    /* O_PATH of upper: layer entries read files through it */
	char **lowers;  /* bottom layer first, as given */
	size_t nlowers;
	bool mounted;
};

/* sw_rootfs_mount, with legacy forcing mount(2) and its option string
 * (what kernels before 6.8 get); for tests of that path. */
int rootfs_mount_impl(sw_rootfs **out, const char *workdir, const char *const *lowers, size_t nlowers,
                      bool legacy, sw_error **err);

#endif
