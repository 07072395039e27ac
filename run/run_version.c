/* run_version.c - the API version slipwayd reports (GET /version). */
#include "slipway/run.h"

const char *sw_run_git_version(void)
{
	return "v1.32.0-slipway";
}
