/*
 * main.c - `slipwayd`: the daemon's entry point, and `slipwayd token ...`.
 *
 * The daemon owns one struct daemon: the state dir (locked through
 * STATE/slipwayd.pid so two daemons never share it), the store
 * (STATE/slipwayd.db), the API on STATE/slipwayd.sock (and optionally TCP)
 * and the event loop everything runs on. daemon_start_parts() is where the
 * controllers and the node agent start; SIGTERM/SIGINT end the loop and
 * everything is released in reverse order, the socket file removed.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "slipway/agent.h"
#include "slipway/api.h"
#include "slipway/api_token.h"
#include "slipway/cleanup.h"
#include "slipway/controllers.h"
#include "slipway/log.h"
#include "slipway/manifest.h"
#include "slipway/mem.h"
#include "slipway/run.h"
#include "slipway/services.h"
#include "slipway/statedir.h"
#include "slipway/store.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define USAGE                                                                                  \
	"usage: slipwayd [--state-dir DIR] [--socket PATH] [--listen tcp|https://127.0.0.1:PORT]...\n" \
	"                [--log-format human|json] [--log-level LEVEL]\n"                          \
	"       slipwayd token create [--name NAME] [--state-dir DIR]\n"                            \
	"       slipwayd token list [--state-dir DIR]\n"                                            \
	"       slipwayd token revoke NAME [--state-dir DIR]\n"

#define HELP                                                                                   \
	USAGE                                                                                      \
	"\n"                                                                                       \
	"slipwayd is slipway's single-host orchestrator: an API server in the Kubernetes\n"       \
	"shape over a SQLite store, controllers and a node agent that runs pods as\n"             \
	"containers. `slipway` and kubectl talk to it.\n"                                          \
	"\n"                                                                                       \
	"  --state-dir DIR      state under DIR (default $SLIPWAY_HOME, /var/lib/slipway as\n"    \
	"                       root, else ~/.local/share/slipway)\n"                             \
	"  --socket PATH        the API's Unix socket (default STATE/slipwayd.sock, mode 0600)\n" \
	"  --listen tcp://HOST:PORT, --listen https://HOST:PORT\n"                                \
	"                       also serve on TCP, plain or TLS (port 0 picks one and logs it);\n"\
	"                       every request needs `Authorization: Bearer TOKEN` (see\n"         \
	"                       `slipwayd token`). kubectl sends tokens only over https; the\n"  \
	"                       self-signed certificate is STATE/tls/server.crt\n"               \
	"  --log-format F       human (default) or json lines on stderr\n"                        \
	"  --log-level L        debug, info (default), warn or error\n"                           \
	"  --help, --version\n"                                                                   \
	"\n"                                                                                       \
	"Tokens for the TCP listener:\n"                                                           \
	"  token create [--name N]   print a new token (shown once; only its hash is kept)\n"     \
	"  token list                the names of the tokens\n"                                   \
	"  token revoke NAME         remove a token\n"                                            \
	"\n"                                                                                       \
	"kubectl: slipwayd --listen https://127.0.0.1:6443, then\n"                              \
	"  kubectl --server https://127.0.0.1:6443 --token TOKEN \\\n"                            \
	"          --certificate-authority STATE/tls/server.crt get pods\n"                      \
	"\nExit codes: 0 success, 1 failure, 2 usage error.\n"

struct daemon {
	char *state_dir;
	char *socket_path;
	const char *listen[4]; /* tcp://HOST:PORT, https://HOST:PORT */
	size_t nlisten;
	int pid_fd;
	char *pid_path;
	struct event_base *base;
	sw_store *store;
	sw_api *api;
	struct event *sig_term, *sig_int;
	sw_controllers *controllers;
	sw_agent *agent;
	sw_services *services;
};

static int fail(sw_error *err)
{
	cleanup_free char *msg = sw_error_string(err);
	fprintf(stderr, "slipwayd: error: %s\n", msg ? msg : "unknown error");
	sw_error_free(err);
	return EXIT_FAIL;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "slipwayd: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", USAGE);
	return EXIT_USAGE;
}

/* ---- the parts the lead wires: controllers, node agent, admission ------- */

/*
 * Starts everything that runs beside the API on the loop: admission
 * (sw_api_set_admit with sw_manifest_admit), the controllers (deployment,
 * replica set, garbage collector, namespace), the node agent (which also
 * provides sw_api_set_exec and sw_api_set_metrics). Called after the store
 * is open and before the API listens.
 */
/* Admission through the manifests library: defaults and validation, the
 * diagnostics as the API's causes. */
static int admit(void *ctx, const sw_kind *k, json_t *obj, const json_t *old, json_t **causes,
                 sw_error **err)
{
	(void)ctx;
	(void)k;
	sw_diags d = SW_DIAGS_INIT;
	int rc = old ? sw_manifest_admit_update(obj, old, &d) : sw_manifest_admit(obj, &d);
	if (rc < 0 || d.errors) {
		json_t *list = json_array();
		for (size_t i = 0; i < d.len; i++) {
			if (d.items[i].severity != SW_DIAG_ERROR)
				continue;
			json_array_append_new(list, json_pack("{s:s?, s:s}", "field", d.items[i].path,
			                                      "message", d.items[i].message));
		}
		*causes = list;
		sw_diags_to_error(&d, err);
		sw_diags_release(&d);
		return SW_EINVALID;
	}
	sw_diags_release(&d);
	return 0;
}

/* A program installed beside slipwayd (the build tree and `make install`
 * both put them there): slipway-proxy. NULL when it is not there. */
static char *sibling(const char *name)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	char *path = sw_xasprintf("%s/%s", exe, name);
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

/*
 * Starts everything that runs beside the API on the loop: admission, the
 * controllers (deployment, replica set, garbage collector, namespace), the
 * node agent (which also serves exec and metrics to the API) and Services
 * (endpoints and the proxy it supervises). Called after the store is open
 * and before the API listens.
 */
static int daemon_start_parts(struct daemon *d, sw_error **err)
{
	sw_api_set_admit(d->api, admit, NULL);
	if (sw_controllers_start(&d->controllers, d->base, d->store, err) < 0)
		return sw_error_wrap(err, "controllers");
	if (sw_agent_start(&d->agent, d->base, d->store, d->state_dir, err) < 0)
		return sw_error_wrap(err, "node agent");
	sw_api_set_exec(d->api, sw_agent_api_exec, d->agent);
	sw_api_set_metrics(d->api, sw_agent_api_metrics, d->agent);
	cleanup_free char *proxy = sibling("slipway-proxy");
	if (!proxy)
		sw_log(SW_LOG_WARN, "slipway-proxy is not installed beside slipwayd: Services get "
		                    "Endpoints but no traffic");
	sw_services_opts so = { .state_dir = d->state_dir, .proxy_bin = proxy };
	if (sw_services_start(&d->services, d->base, d->store, &so, err) < 0)
		return sw_error_wrap(err, "services");
	return 0;
}

/* Stops them again, in reverse order, before the API and the store go.
 * Containers and the proxy keep running: a restarted slipwayd re-adopts
 * them. */
static void daemon_stop_parts(struct daemon *d)
{
	sw_services_free(d->services);
	d->services = NULL;
	sw_agent_free(d->agent);
	d->agent = NULL;
	sw_controllers_free(d->controllers);
	d->controllers = NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

/* STATE/slipwayd.pid, locked for the daemon's life. */
static int lock_state(struct daemon *d, sw_error **err)
{
	d->pid_path = sw_xasprintf("%s/slipwayd.pid", d->state_dir);
	int fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", d->pid_path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		char buf[32] = "";
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		close(fd);
		if (e == EWOULDBLOCK) {
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			return sw_error_set(err, SW_EEXISTS,
			                    "another slipwayd (pid %s) is using the state dir %s",
			                    *buf ? buf : "?", d->state_dir);
		}
		return sw_error_set_errno(err, e, "lock %s", d->pid_path);
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		int e = errno;
		close(fd);
		return sw_error_set_errno(err, e, "write %s", d->pid_path);
	}
	d->pid_fd = fd;
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct daemon *d = arg;
	sw_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(d->base);
}

static void daemon_release(struct daemon *d)
{
	daemon_stop_parts(d);
	sw_api_free(d->api);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	sw_store_free(d->store);
	if (d->base)
		event_base_free(d->base);
	if (d->pid_fd >= 0) {
		unlink(d->pid_path);
		close(d->pid_fd);
	}
	free(d->pid_path);
	free(d->socket_path);
	free(d->state_dir);
}

static int daemon_run(struct daemon *d, sw_error **err)
{
	if (lock_state(d, err) < 0)
		return SW_EFAIL;
	d->base = event_base_new();
	if (!d->base)
		return sw_error_set(err, SW_EFAIL, "cannot make an event loop");
	cleanup_free char *db = sw_xasprintf("%s/slipwayd.db", d->state_dir);
	if (sw_store_open(&d->store, db, err) < 0)
		return sw_error_wrap(err, "opening the store %s", db);
	sw_api_opts ao = { .state_dir = d->state_dir };
	if (sw_api_new(&d->api, d->base, d->store, &ao, err) < 0)
		return SW_EFAIL;
	if (daemon_start_parts(d, err) < 0)
		return sw_error_wrap(err, "starting");
	if (!d->socket_path)
		d->socket_path = sw_xasprintf("%s/slipwayd.sock", d->state_dir);
	if (sw_api_listen_unix(d->api, d->socket_path, err) < 0)
		return SW_EFAIL;
	sw_info("listening on unix://%s", d->socket_path);
	for (size_t i = 0; i < d->nlisten; i++) {
		cleanup_free char *host = NULL;
		int port, bound;
		bool tls;
		if (sw_api_parse_listen(d->listen[i], &host, &port, &tls, err) < 0)
			return SW_EFAIL;
		if ((tls ? sw_api_listen_tls : sw_api_listen_tcp)(d->api, host, port, &bound, err) < 0)
			return SW_EFAIL;
		if (tls)
			sw_info("listening on https://%s:%d (bearer tokens from %s/tokens; certificate "
			        "%s/tls/server.crt)",
			        host, bound, d->state_dir, d->state_dir);
		else
			sw_info("listening on http://%s:%d (bearer tokens from %s/tokens)", host, bound,
			        d->state_dir);
	}
	d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
	d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
	if (!d->sig_term || !d->sig_int || evsignal_add(d->sig_term, NULL) < 0 ||
	    evsignal_add(d->sig_int, NULL) < 0)
		return sw_error_set(err, SW_EFAIL, "cannot watch signals");
	sw_info("slipwayd %s (API %s) ready, state in %s", SLIPWAY_VERSION, sw_run_git_version(),
	        d->state_dir);
	if (event_base_dispatch(d->base) < 0)
		return sw_error_set(err, SW_EFAIL, "event loop failed");
	sw_info("stopped");
	return 0;
}

/* ---- slipwayd token ----------------------------------------------------- */

static int cmd_token(int argc, char **argv, const char *state_flag)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	const char *state = state_flag;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'h':
			fputs(HELP, stdout);
			return EXIT_OK;
		default:
			return usage_error("token: unknown flag '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("token: expected create, list or revoke");
	const char *sub = argv[optind];
	/* flags may also follow the sub-verb, before or after its argument:
	 * a fresh, permuting parse of "SUB ARGS..." */
	argc -= optind;
	argv += optind;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'h':
			fputs(HELP, stdout);
			return EXIT_OK;
		default:
			return usage_error("token: unknown flag '%s'", argv[optind - 1]);
		}
	}
	sw_error *err = NULL;
	cleanup_free char *dir = NULL;
	if (sw_statedir_open(&dir, state, &err) < 0)
		return fail(err);
	if (strcmp(sub, "create") == 0) {
		if (optind < argc)
			return usage_error("token create: unexpected argument '%s'", argv[optind]);
		cleanup_free char *tok = NULL, *made = NULL;
		if (sw_token_create(dir, name, &tok, &made, &err) < 0)
			return fail(err);
		printf("%s\n", tok);
		fprintf(stderr, "slipwayd: token \"%s\" created; it is shown only now\n", made);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (strcmp(sub, "list") == 0) {
		if (optind < argc)
			return usage_error("token list: unexpected argument '%s'", argv[optind]);
		cleanup_strv char **names = NULL;
		if (sw_token_list(dir, &names, &err) < 0)
			return fail(err);
		for (char **p = names; *p; p++)
			printf("%s\n", *p);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
	}
	if (strcmp(sub, "revoke") == 0) {
		if (optind + 1 != argc)
			return usage_error("token revoke: expected one NAME");
		if (sw_token_revoke(dir, argv[optind], &err) < 0)
			return fail(err);
		return EXIT_OK;
	}
	return usage_error("token: unknown sub-command '%s' (create, list, revoke)", sub);
}

int main(int argc, char **argv)
{
	enum sw_log_format format = SW_LOG_HUMAN;
	enum sw_log_level level = SW_LOG_INFO;
	sw_error *err = NULL;
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_flag = NULL, *socket_flag = NULL;
	const char *listen_flags[4];
	size_t nlisten = 0;
	const char *env;
	int c;

	if ((env = getenv("SLIPWAY_LOG_FORMAT")) && sw_log_parse_format(env, &format, &err) < 0)
		return fail(err);
	if ((env = getenv("SLIPWAY_LOG_LEVEL")) && sw_log_parse_level(env, &level, &err) < 0)
		return fail(err);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (!*optarg)
				return usage_error("--state-dir: empty path");
			state_flag = optarg;
			break;
		case 's':
			socket_flag = optarg;
			break;
		case 'l': {
			cleanup_free char *host = NULL;
			int port;
			bool tls;
			if (sw_api_parse_listen(optarg, &host, &port, &tls, &err) < 0) {
				cleanup_free char *msg = sw_error_string(err);
				sw_error_free(err);
				return usage_error("%s", msg);
			}
			if (nlisten == 2)
				return usage_error("--listen: at most one tcp:// and one https:// listener");
			listen_flags[nlisten++] = optarg;
			break;
		}
		case 'F':
			if (sw_log_parse_format(optarg, &format, &err) < 0) {
				sw_error_free(err);
				return usage_error("--log-format: expected human or json, got '%s'", optarg);
			}
			break;
		case 'L':
			if (sw_log_parse_level(optarg, &level, &err) < 0) {
				sw_error_free(err);
				return usage_error("--log-level: expected debug, info, warn or error, got '%s'",
				                   optarg);
			}
			break;
		case 'h':
			fputs(HELP, stdout);
			return EXIT_OK;
		case 'V':
			printf("slipwayd %s (Kubernetes API %s)\n", SLIPWAY_VERSION, sw_run_git_version());
			return EXIT_OK;
		default:
			return usage_error("unknown flag '%s'", argv[optind - 1]);
		}
	}
	sw_log_init("slipwayd", format, level);
	if (optind < argc) {
		if (strcmp(argv[optind], "token") == 0)
			return cmd_token(argc - optind, argv + optind, state_flag);
		return usage_error("unexpected argument '%s'", argv[optind]);
	}
	/* a client that goes away mid-reply must not kill the daemon */
	signal(SIGPIPE, SIG_IGN);

	struct daemon d = { .pid_fd = -1 };
	if (sw_statedir_open(&d.state_dir, state_flag, &err) < 0)
		return fail(err);
	d.socket_path = socket_flag ? sw_xstrdup(socket_flag) : NULL;
	for (size_t i = 0; i < nlisten; i++)
		d.listen[i] = listen_flags[i];
	d.nlisten = nlisten;
	int rc = daemon_run(&d, &err);
	daemon_release(&d);
	if (rc < 0)
		return fail(err);
	return EXIT_OK;
}
