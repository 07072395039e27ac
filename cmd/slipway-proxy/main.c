/*
 * slipway-proxy - the service proxy: serves every Service in the
 * configuration file slipwayd writes (see run/include/slipway/proxy.h),
 * reloading it when it changes or on SIGHUP, until SIGTERM.
 *
 * usage: slipway-proxy --config FILE [--log-format human|json]
 *                      [--drain-seconds N]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/proxy.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: slipway-proxy --config FILE [--log-format human|json] "
		   "[--drain-seconds N]\n"
		   "\n"
		   "Serves the Services in FILE (written by slipwayd), reloading it when it\n"
		   "changes or on SIGHUP; SIGTERM closes the listeners and lets in-flight\n"
		   "requests finish (at most --drain-seconds, default 10).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"log-format", required_argument, NULL, 'f'},
		{"drain-seconds", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	cleanup_error sw_error *err = NULL;
	struct sw_proxy_options o = {0};
	enum sw_log_format fmt = SW_LOG_HUMAN;
	struct event_base *base;
	sw_proxy *px = NULL;
	int c;

	sw_log_init("slipway-proxy", SW_LOG_HUMAN, SW_LOG_INFO);
	while ((c = getopt_long(argc, argv, "c:f:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'f':
			if (sw_log_parse_format(optarg, &fmt, &err) < 0) {
				sw_log_error(err, "--log-format");
				return 2;
			}
			sw_log_init("slipway-proxy", fmt, SW_LOG_INFO);
			break;
		case 'd': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 3600) {
				fprintf(stderr, "slipway-proxy: --drain-seconds: 0..3600\n");
				return 2;
			}
			o.drain_ms = (unsigned)v * 1000u;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.config_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* the changelist folds an EV_WRITE armed and disarmed within one loop
	 * iteration into no epoll_ctl at all */
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (!base) {
		fprintf(stderr, "slipway-proxy: cannot create the event loop\n");
		return 1;
	}
	if (sw_proxy_new(&px, base, &o, &err) < 0) {
		sw_log_error(err, "starting");
		event_base_free(base);
		return 1;
	}
	event_base_dispatch(base);
	sw_proxy_free(px);
	event_base_free(base);
	sw_info("stopped");
	return 0;
}
