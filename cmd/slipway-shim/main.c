/*
 * slipway-shim - the process that owns one pod container for slipwayd (see
 * run/shim.c). Started by slipwayd, never by hand.
 */
#include "slipway/podrt.h"

int main(int argc, char **argv)
{
	return sw_podrt_shim_main(argc, argv);
}
