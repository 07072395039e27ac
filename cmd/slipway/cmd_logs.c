/*
 * cmd_logs.c - `slipway logs` and `slipway exec`: a pod's container logs
 * (the files the shim writes, served by slipwayd) and one command run in
 * a container, non-interactively. Both take POD or TYPE/NAME; for a
 * deployment or replica set one of its pods is picked as kubectl does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_top_service.h"
#include "kube.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

const char cli_logs_usage[] =
	"usage: slipway logs [-f] [-p] [-c CONTAINER] [--tail N] [-n NS] POD|TYPE/NAME\n"
	"       slipway logs [-f] [--tail N] [-n NS] service/NAME\n"
	"\n"
	"Prints a container's log (stdout and stderr as the app wrote them). For\n"
	"deployment/NAME or replicaset/NAME, one of its pods is used (ready and\n"
	"newest first) and named on stderr.\n"
	"\n"
	"  -f, --follow             keep printing as the container writes\n"
	"  -p, --previous           the previous instance's log (after a restart)\n"
	"  -c, --container NAME     the container (needed when the pod has several)\n"
	"      --tail N             only the last N lines\n"
	"      --timestamps         prefix each line with its RFC 3339 time\n"
	"\n"
	"service/NAME prints the Service's access log instead: one JSON line per\n"
	"request the service proxy served (the Service needs the annotation\n"
	"slipway.dev/access-log: \"true\"), read from the local state dir\n"
	"(STATE/proxy/logs/NS_NAME.log; local daemon only); -f and --tail apply.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

const char cli_exec_usage[] =
	"usage: slipway exec [-c CONTAINER] [-i] [-n NS] POD|TYPE/NAME -- COMMAND [ARG...]\n"
	"\n"
	"Runs a command in a running container and prints what it wrote to stdout\n"
	"and stderr; exits with the command's exit code. Not interactive: with -i\n"
	"stdin is read to its end first and given to the command.\n"
	"\n"
	"  -c, --container NAME     the container (needed when the pod has several)\n"
	"  -i, --stdin              pass stdin to the command\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

#define EXEC_STDIN_MAX (16u << 20)

/* Ready pods first, then running, then the newest. */
static int pod_rank(const json_t *p)
{
	cleanup_free char *st = sw_pod_status(p);
	int ready, total;

	sw_pod_ready(p, &ready, &total);
	if (sw_obj_deleting(p))
		return 3;
	if (total && ready == total)
		return 0;
	return !strcmp(st, "Running") ? 1 : 2;
}

/* The pod a TYPE/NAME operand means; *out is its name (caller frees). */
static int resolve_pod(struct kube *k, const char *operand, char **out, sw_error **err)
{
	const sw_kind *kind;
	const char *name;
	cleanup_json json_t *owner = NULL, *pods = NULL;
	int ret;

	if (!strchr(operand, '/')) {
		*out = sw_xstrdup(operand);
		return 0;
	}
	if ((ret = kube_kind_name(&kind, &name, operand, NULL, err)) < 0)
		return ret;
	if (!strcmp(kind->kind, "Pod")) {
		*out = sw_xstrdup(name);
		return 0;
	}
	if (strcmp(kind->kind, "Deployment") && strcmp(kind->kind, "ReplicaSet"))
		return sw_error_set(err, SW_EINVALID, "error: cannot attach to %s: selector for %s not implemented",
		                    kind->kind, kind->kind);
	if ((ret = kube_get(k, kind, k->ns, name, &owner, err)) < 0)
		return ret;
	const json_t *ml = sw_obj_path(owner, "spec.selector.matchLabels");
	sw_buf q = SW_BUF_INIT(0);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)ml, key, v)
		sw_buf_printf(&q, NULL, "%s%s=%s", q.len ? "," : "", key, json_string_value(v) ?: "");
	cleanup_free char *sel = sw_buf_detach(&q);
	cleanup_free char *esc = sw_client_escape(sel);
	cleanup_free char *query = sw_xasprintf("labelSelector=%s", esc);
	if ((ret = kube_list(k, sw_kind_lookup("pods"), k->ns, query, &pods, NULL, err)) < 0)
		return ret;
	const json_t *best = NULL, *p;
	size_t i;
	json_array_foreach(pods, i, p) {
		if (!best || pod_rank(p) < pod_rank(best) ||
		    (pod_rank(p) == pod_rank(best) &&
		     strcmp(sw_obj_str(p, "metadata.creationTimestamp") ?: "",
		            sw_obj_str(best, "metadata.creationTimestamp") ?: "") > 0))
			best = p;
	}
	if (!best)
		return sw_error_set(err, SW_ENOTFOUND, "error: no pods found for %s \"%s\"", kind->singular, name);
	if (json_array_size(pods) > 1)
		fprintf(stderr, "Found %zu pods, using pod/%s\n", json_array_size(pods), sw_obj_name(best));
	*out = sw_xstrdup(sw_obj_name(best));
	return 0;
}

static bool print_line(const char *line, size_t len, void *payload)
{
	(void)payload;
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	return !ferror(stdout);
}

static int logs_run(struct kube *k, const char *operand, const char *container, long tail, bool previous,
                    bool follow, bool ts)
{
	sw_error *err = NULL;

	cleanup_free char *pod = NULL;
	if (resolve_pod(k, operand, &pod, &err) < 0) {
		return kube_fail(err);
	}
	sw_buf q = SW_BUF_INIT(0);
	cleanup_free char *base = sw_client_path(sw_kind_lookup("pods"), k->ns, pod, "log");
	sw_buf_addstr(&q, base, NULL);
	sw_buf_addc(&q, '?', NULL);
	if (container) {
		cleanup_free char *e = sw_client_escape(container);
		sw_buf_printf(&q, NULL, "container=%s&", e);
	}
	if (tail >= 0)
		sw_buf_printf(&q, NULL, "tailLines=%ld&", tail);
	if (previous)
		sw_buf_addstr(&q, "previous=true&", NULL);
	if (follow)
		sw_buf_addstr(&q, "follow=true&", NULL);
	if (ts)
		sw_buf_addstr(&q, "timestamps=true&", NULL);
	sw_buf_truncate(&q, q.len - 1);
	cleanup_free char *path = sw_buf_detach(&q);
	if (sw_client_stream(k->client, path, 0, NULL, print_line, NULL, &err) < 0)
		return kube_fail(err);
	return EXIT_OK;
}

int cmd_logs(int argc, char **argv, const struct cli_command *self)
{
	enum { OPT_TS = 0x300 };
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "previous", no_argument, NULL, 'p' },
		{ "container", required_argument, NULL, 'c' },
		{ "tail", required_argument, NULL, KOPT_TAIL },
		{ "timestamps", no_argument, NULL, OPT_TS },
		{ "namespace", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *container = NULL;
	bool follow = false, previous = false, ts = false;
	long tail = -1;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fpc:n:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'f': follow = true; break;
		case 'p': previous = true; break;
		case 'c': container = optarg; break;
		case KOPT_TAIL:
			tail = strtol(optarg, &end, 10);
			if (*end || end == optarg || tail < -1)
				return cli_usage_error(self, "logs: --tail wants a number of lines, not '%s'", optarg);
			break;
		case OPT_TS: ts = true; break;
		case 'n': ns = optarg; break;
		case KOPT_STATE_DIR: state_dir = optarg; break;
		case 'h': return cli_help(self);
		default: return cli_usage_error(self, "logs: unknown or incomplete flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(self, "logs: which pod? (POD or deployment/NAME)");
	if (optind + 2 < argc || (optind + 1 < argc && container))
		return cli_usage_error(self, "logs: one pod (and optionally one container) at a time");
	const char *svc;
	if (cli_service_operand(argv[optind], &svc)) {
		if (previous || container || ts || optind + 1 < argc || !*svc)
			return cli_usage_error(self, "logs service/NAME: -p, -c and --timestamps are for pods");
		return cli_logs_service(state_dir, ns, svc, tail, follow);
	}
	if (optind + 1 < argc)
		container = argv[optind + 1];
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	rc = logs_run(&k, argv[optind], container, tail, previous, follow, ts);
	kube_close(&k);
	return rc;
}

static int exec_run(struct kube *k, const char *target, const char *container, char **cmd, int ncmd,
                    const char *data, size_t len)
{
	sw_buf q = SW_BUF_INIT(0);
	sw_error *err = NULL;

	cleanup_free char *pod = NULL;
	if (resolve_pod(k, target, &pod, &err) < 0) {
		return kube_fail(err);
	}
	cleanup_free char *base = sw_client_path(sw_kind_lookup("pods"), k->ns, pod, "exec");
	sw_buf_addstr(&q, base, NULL);
	for (int i = 0; i < ncmd; i++) {
		cleanup_free char *e = sw_client_escape(cmd[i]);
		sw_buf_printf(&q, NULL, "%ccommand=%s", i == 0 ? '?' : '&', e);
	}
	if (container) {
		cleanup_free char *e = sw_client_escape(container);
		sw_buf_printf(&q, NULL, "&container=%s", e);
	}
	cleanup_free char *path = sw_buf_detach(&q);
	cleanup_json json_t *res = NULL;
	if (sw_client_request_raw(k->client, "POST", path, "application/octet-stream", data, len, &res,
	                          &err) < 0) {
		return kube_fail(err);
	}
	const json_t *o = json_object_get(res, "stdout"), *e = json_object_get(res, "stderr");
	fwrite(json_string_value(o) ?: "", 1, json_string_length(o), stdout);
	fflush(stdout);
	fwrite(json_string_value(e) ?: "", 1, json_string_length(e), stderr);
	int rc = (int)sw_obj_int(res, "exitCode", 1);
	return rc < 0 || rc > 255 ? 1 : rc;
}

int cmd_exec(int argc, char **argv, const struct cli_command *self)
{
	static const struct option opts[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "stdin", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = NULL, *ns = NULL, *container = NULL;
	bool in = false;
	struct kube k;
	sw_error *err = NULL;
	int c, rc = EXIT_OK;

	optind = 0;
	opterr = 0;
	/* '+': everything after the pod is the command */
	/* flags before and after POD (kubectl exec POD -c C -- CMD); "--" or a
	 * second operand starts the command */
	const char *target = NULL;
	for (;;) {
		while ((c = getopt_long(argc, argv, "+c:itn:h", opts, NULL)) != -1) {
			switch (c) {
			case 'c': container = optarg; break;
			case 'i': in = true; break;
			case 't': fprintf(stderr, "Unable to use a TTY - slipway exec is not interactive\n"); break;
			case 'n': ns = optarg; break;
			case KOPT_STATE_DIR: state_dir = optarg; break;
			case 'h': return cli_help(self);
			default: return cli_usage_error(self, "exec: unknown or incomplete flag '%s'", argv[optind - 1]);
			}
		}
		bool dashdash = optind > 0 && optind <= argc && !strcmp(argv[optind - 1], "--");
		if (target || dashdash || optind >= argc)
			break;
		target = argv[optind++];
	}
	if (!target)
		return cli_usage_error(self, "exec: which pod? (slipway exec POD -- COMMAND)");
	if (optind >= argc)
		return cli_usage_error(self, "exec: you must specify at least one command for the container");

	cleanup_free char *data = NULL;
	size_t len = 0;
	if (in) {
		sw_buf b = SW_BUF_INIT(EXEC_STDIN_MAX);
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
			if (sw_buf_add(&b, chunk, n, &err) < 0) {
				sw_buf_release(&b);
				return kube_fail(err);
			}
		len = b.len;
		data = sw_buf_detach(&b);
	}
	if (kube_open(&k, state_dir, ns, &err) < 0)
		return kube_fail(err);
	rc = exec_run(&k, target, container, argv + optind, argc - optind, in ? data : NULL, len);
	kube_close(&k);
	return rc;
}
