/*
 * cmd_up.c - `slipway up` starts slipwayd in the background for a user who
 * has not (setsid, log to STATE/slipwayd.log) and waits until it answers
 * /readyz; `slipway down` stops it (SIGTERM to the pid in
 * STATE/slipwayd.pid) and waits until it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

const char cli_up_usage[] =
	"usage: slipway up [--state-dir DIR] [--timeout D] [-- SLIPWAYD-FLAGS...]\n"
	"\n"
	"Starts slipwayd in the background unless it already answers on its\n"
	"socket, and waits until it is ready. slipwayd is looked up next to the\n"
	"slipway binary, then on PATH; its log goes to STATE/slipwayd.log.\n"
	"Flags after -- go to slipwayd (e.g. --listen tcp://127.0.0.1:6443).\n"
	"\n"
	"      --state-dir DIR      state dir for the daemon (default $SLIPWAY_HOME or\n"
	"                           /var/lib/slipway)\n"
	"      --timeout D          how long to wait for it to be ready (default 60s)\n"
	"  -h, --help               this text\n";

const char cli_down_usage[] =
	"usage: slipway down [--state-dir DIR] [--timeout D]\n"
	"\n"
	"Stops the slipwayd of the state dir (SIGTERM; it stops serving, the pods'\n"
	"containers keep running and are re-adopted by the next slipwayd).\n"
	"\n"
	"      --state-dir DIR      the daemon's state dir instead of the default\n"
	"      --timeout D          how long to wait for it to exit (default 60s)\n"
	"  -h, --help               this text\n";

static char *find_slipwayd(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			char *p = sw_xasprintf("%s/slipwayd", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
			/* the build tree: cmd/slipway and cmd/slipwayd side by side
			 * or in their own folders */
			p = sw_xasprintf("%s/../slipwayd/slipwayd", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	const char *path = getenv("PATH");
	cleanup_free char *copy = sw_xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *p = sw_xasprintf("%s/slipwayd", *dir ? dir : ".");
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static long since_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* The last lines of the daemon's log, for a start that failed. */
static void show_log_tail(const char *log)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	sw_error *err = NULL;

	if (sw_read_file(&data, &len, log, 16u << 20, &err) < 0) {
		sw_error_free(err);
		return;
	}
	size_t lines = 0, i = len;
	while (i > 0 && lines < 11)
		if (data[--i] == '\n')
			lines++;
	fprintf(stderr, "%s", data + (i ? i + 1 : 0));
}

static long read_pid(const char *state_dir)
{
	cleanup_free char *path = sw_xasprintf("%s/slipwayd.pid", state_dir);
	cleanup_free char *data = NULL;
	size_t len = 0;
	sw_error *err = NULL;

	if (sw_read_file(&data, &len, path, 64, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	char *end;
	long pid = strtol(data, &end, 10);
	return pid > 1 && (*end == '\n' || !*end) ? pid : -1;
}

static int parse_flags(const struct cli_command *self, int argc, char **argv, const char **state_dir,
                       long *timeout_ms)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "timeout", required_argument, NULL, KOPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case KOPT_STATE_DIR: *state_dir = optarg; break;
		case KOPT_TIMEOUT:
			if ((*timeout_ms = kube_parse_duration_ms(optarg)) <= 0)
				return -cli_usage_error(self, "%s: --timeout wants a duration (90s, 5m), not '%s'", self->name, optarg);
			break;
		case 'h': return -cli_help(self) - 100;
		default: return -cli_usage_error(self, "%s: unknown or incomplete flag '%s'", self->name, argv[optind - 1]);
		}
	}
	return optind;
}

int cmd_up(int argc, char **argv, const struct cli_command *self)
{
	const char *state_flag = NULL;
	long timeout_ms = 60000;
	struct kube k;
	sw_error *err = NULL;
	int first = parse_flags(self, argc, argv, &state_flag, &timeout_ms);

	if (first <= -100)
		return EXIT_OK;
	if (first < 0)
		return -first;
	/* getopt consumed a "--"; what follows it is slipwayd's */
	if (first < argc && !(first > 0 && !strcmp(argv[first - 1], "--")))
		return cli_usage_error(self, "up: unexpected argument '%s' (slipwayd's flags go after --)", argv[first]);

	cleanup_free char *state_dir = NULL;
	if (sw_statedir_open(&state_dir, state_flag, &err) < 0)
		return kube_fail(err);
	if (kube_open(&k, state_dir, NULL, &err) < 0)
		return kube_fail(err);
	if (sw_client_ready(k.client)) {
		printf("slipwayd is already running at %s\n", sw_client_target(k.client));
		kube_close(&k);
		return EXIT_OK;
	}
	cleanup_free char *daemon = find_slipwayd();
	if (!daemon) {
		kube_close(&k);
		fprintf(stderr, "slipway: error: slipwayd not found next to slipway or on PATH\n");
		return EXIT_FAIL;
	}
	cleanup_free char *log = sw_xasprintf("%s/slipwayd.log", state_dir);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		kube_close(&k);
		sw_error_set_errno(&err, errno, "open %s", log);
		return kube_fail(err);
	}
	size_t nargs = (size_t)(argc - first) + 4;
	const char **args = sw_xcalloc(nargs, sizeof(*args));
	size_t a = 0;
	args[a++] = daemon;
	args[a++] = "--state-dir";
	args[a++] = state_dir;
	for (int i = first; i < argc; i++)
		args[a++] = argv[i];

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		free(args);
		close(logfd);
		kube_close(&k);
		sw_error_set_errno(&err, e, "fork");
		return kube_fail(err);
	}
	if (pid == 0) {
		/* the child: its own session, no terminal, log to the file */
		int devnull = open("/dev/null", O_RDONLY);
		setsid();
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execv(daemon, (char *const *)args);
		dprintf(logfd, "slipway up: exec %s: %s\n", daemon, strerror(errno));
		_exit(127);
	}
	free(args);
	close(logfd);

	struct timespec start;
	int status, rc = EXIT_OK;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (sw_client_ready(k.client)) {
			printf("slipwayd is running (pid %ld), listening on %s\nlog: %s\n", (long)pid,
			       sw_client_target(k.client), log);
			break;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "slipway: error: slipwayd exited (%s %d) before it was ready; the end of %s:\n",
			        WIFEXITED(status) ? "status" : "signal",
			        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
			show_log_tail(log);
			rc = EXIT_FAIL;
			break;
		}
		if (since_ms(&start) > timeout_ms) {
			fprintf(stderr, "slipway: error: slipwayd (pid %ld) did not answer on %s within %lds; see %s\n",
			        (long)pid, sw_client_target(k.client), timeout_ms / 1000, log);
			rc = EXIT_FAIL;
			break;
		}
		sleep_ms(100);
	}
	kube_close(&k);
	return rc;
}

int cmd_down(int argc, char **argv, const struct cli_command *self)
{
	const char *state_flag = NULL;
	long timeout_ms = 60000;
	sw_error *err = NULL;
	int first = parse_flags(self, argc, argv, &state_flag, &timeout_ms);

	if (first <= -100)
		return EXIT_OK;
	if (first < 0)
		return -first;
	if (first < argc)
		return cli_usage_error(self, "down: unexpected argument '%s'", argv[first]);
	cleanup_free char *state_dir = NULL;
	if (sw_statedir_resolve(&state_dir, state_flag, &err) < 0)
		return kube_fail(err);
	long pid = read_pid(state_dir);
	if (pid < 0 || kill((pid_t)pid, 0) < 0) {
		printf("slipwayd is not running (state dir %s)\n", state_dir);
		return EXIT_OK;
	}
	if (kill((pid_t)pid, SIGTERM) < 0) {
		sw_error_set_errno(&err, errno, "kill %ld", pid);
		return kube_fail(err);
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (kill((pid_t)pid, 0) == 0 && read_pid(state_dir) == pid) {
		if (since_ms(&start) > timeout_ms) {
			fprintf(stderr, "slipway: error: slipwayd (pid %ld) is still running after %lds\n", pid,
			        timeout_ms / 1000);
			return EXIT_FAIL;
		}
		sleep_ms(100);
	}
	printf("slipwayd stopped (pid %ld)\n", pid);
	return EXIT_OK;
}
