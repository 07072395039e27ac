/*
 * dockerfile_plan_int.h - what dockerfile_plan.c and dockerfile_plan_out.c
 * share and the public header hides: env snapshots and the memory budget.
 */
#ifndef SLIPWAY_BUILD_DOCKERFILE_PLAN_INT_H
#define SLIPWAY_BUILD_DOCKERFILE_PLAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "slipway/dockerfile_plan.h"

/* One environment, shared by the consecutive steps that see it. */
struct snap {
	sw_df_kv *kv;
	uint8_t *flags;
	size_t n;
	struct snap *next;
};

struct plan_priv {
	struct snap *snaps;
	size_t bytes; /* counted against SW_DF_PLAN_MAX_BYTES */
};

#endif
