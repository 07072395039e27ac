/*
 * podrt_exec.c - commands in running containers (`runc exec`), for exec
 * probes and `slipway exec`: output collected up to a bound, stdin fed, a
 * timeout that kills both runc and the process it started in the container
 * (its pid from --pid-file). The async form runs on the daemon's loop; the
 * blocking one runs the same machinery on a private event base.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podrt_rt.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

#define EXEC_OUTPUT_MAX (1u << 20)
#define EXEC_TIMEOUT_DEFAULT_MS 60000

extern char **environ;

typedef struct podrt_exec {
	sw_podrt *rt;
	pid_t pid;
	int pidfd, out, errfd, in;
	struct event *ev_out, *ev_err, *ev_in, *ev_exit, *ev_timer;
	sw_buf bout, berr;
	char *input;
	size_t input_len, input_off;
	char *pid_file;
	bool exited, timed_out, out_open, err_open, linked;
	int status;
	sw_podrt_exec_fn fn;
	void *payload;
	struct podrt_exec *next;
} podrt_exec;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void free_event(struct event **ev)
{
	if (*ev)
		event_free(*ev);
	*ev = NULL;
}

static void exec_free(podrt_exec *x)
{
	if (x->linked) {
		for (podrt_exec **p = &x->rt->execs; *p; p = &(*p)->next)
			if (*p == x) {
				*p = x->next;
				break;
			}
	}
	free_event(&x->ev_out);
	free_event(&x->ev_err);
	free_event(&x->ev_in);
	free_event(&x->ev_exit);
	free_event(&x->ev_timer);
	close_fd(&x->out);
	close_fd(&x->errfd);
	close_fd(&x->in);
	if (x->pidfd >= 0) {
		siginfo_t si;
		if (!x->exited) {
			/* given up on (the runtime is freed): do not leave a zombie */
			kill(x->pid, SIGKILL);
			memset(&si, 0, sizeof(si));
			(void)waitid((idtype_t)3 /* P_PIDFD */, (id_t)x->pidfd, &si, WEXITED);
		}
		close_fd(&x->pidfd);
	}
	if (x->pid_file)
		unlink(x->pid_file);
	free(x->pid_file);
	free(x->input);
	sw_buf_release(&x->bout);
	sw_buf_release(&x->berr);
	free(x);
}

void podrt_exec_free_all(sw_podrt *rt)
{
	while (rt->execs)
		exec_free(rt->execs);
}

static void maybe_done(podrt_exec *x)
{
	sw_exec_result res = { 0 };

	if (!x->exited || (!x->timed_out && (x->out_open || x->err_open)))
		return;
	if (x->timed_out)
		res.exit_code = -1;
	else if (WIFEXITED(x->status))
		res.exit_code = WEXITSTATUS(x->status);
	else
		res.exit_code = 128 + WTERMSIG(x->status);
	res.timed_out = x->timed_out;
	res.out = x->bout.data ? x->bout.data : "";
	res.out_len = x->bout.len;
	res.errout = x->berr.data ? x->berr.data : "";
	res.errout_len = x->berr.len;
	x->fn(x->payload, &res, NULL);
	exec_free(x);
}

static void read_into(int fd, sw_buf *b, bool *open_, struct event **ev)
{
	char chunk[16384];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			*open_ = false;
			free_event(ev);
			return;
		}
		if (b->len < EXEC_OUTPUT_MAX) {
			size_t room = EXEC_OUTPUT_MAX - b->len;
			sw_buf_add(b, chunk, (size_t)n < room ? (size_t)n : room, NULL);
		}
	}
}

static void on_out(evutil_socket_t fd, short what, void *arg)
{
	podrt_exec *x = arg;

	(void)what;
	read_into(fd, &x->bout, &x->out_open, &x->ev_out);
	if (!x->out_open)
		close_fd(&x->out);
	maybe_done(x);
}

static void on_err(evutil_socket_t fd, short what, void *arg)
{
	podrt_exec *x = arg;

	(void)what;
	read_into(fd, &x->berr, &x->err_open, &x->ev_err);
	if (!x->err_open)
		close_fd(&x->errfd);
	maybe_done(x);
}

static void on_in(evutil_socket_t fd, short what, void *arg)
{
	podrt_exec *x = arg;

	(void)what;
	while (x->input_off < x->input_len) {
		ssize_t n = write(fd, x->input + x->input_off, x->input_len - x->input_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break; /* EPIPE: it does not read stdin */
		x->input_off += (size_t)n;
	}
	free_event(&x->ev_in);
	close_fd(&x->in);
}

static void on_exit_(evutil_socket_t fd, short what, void *arg)
{
	podrt_exec *x = arg;
	siginfo_t si;

	(void)what;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)3 /* P_PIDFD */, (id_t)fd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	x->exited = true;
	x->status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : (si.si_status & 0x7f);
	free_event(&x->ev_exit);
	maybe_done(x);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	podrt_exec *x = arg;
	char buf[32];
	ssize_t n;
	int pfd;

	(void)fd;
	(void)what;
	x->timed_out = true;
	/* the process in the container first: runc's death would leave it */
	pfd = open(x->pid_file, O_RDONLY | O_CLOEXEC);
	if (pfd >= 0) {
		n = read(pfd, buf, sizeof(buf) - 1);
		close(pfd);
		if (n > 0) {
			buf[n] = '\0';
			long pid = strtol(buf, NULL, 10);
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		}
	}
	kill(x->pid, SIGKILL);
	maybe_done(x);
}

static int start_exec(sw_podrt *rt, struct event_base *base, const char *pod_uid, const char *container,
                      const char *const *argv, const char *stdin_data, size_t stdin_len, int timeout_ms,
                      sw_podrt_exec_fn fn, void *payload, podrt_exec **out, sw_error **err)
{
	podrt_ctr *c = podrt_find(rt, pod_uid, container);
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	const char **args = NULL;
	unsigned char rnd[4] = { 0 };
	size_t n = 0, na = 0;
	podrt_exec *x;
	struct timeval tv;
	int r;

	if (!c)
		return sw_error_set(err, SW_ENOTFOUND, "container %s of pod %s: not known", container, pod_uid);
	if (!argv || !argv[0])
		return sw_error_set(err, SW_EINVALID, "exec: no command");
	if (podrt_refresh(c))
		podrt_announce(rt, c);
	if (c->s.st.phase != SW_CTR_RUNNING)
		return sw_error_set(err, SW_ECONFLICT, "container %s of pod %s is not running", container, pod_uid);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(inp, O_CLOEXEC) < 0) {
		r = sw_error_set_errno(err, errno, "exec: pipe");
		for (int i = 0; i < 2; i++) {
			close_fd(&outp[i]);
			close_fd(&errp[i]);
			close_fd(&inp[i]);
		}
		return r;
	}
	x = sw_xcalloc(1, sizeof(*x));
	x->rt = rt;
	x->pidfd = -1;
	x->out = outp[0];
	x->errfd = errp[0];
	x->in = inp[1];
	x->out_open = x->err_open = true;
	x->bout = (sw_buf)SW_BUF_INIT(0);
	x->berr = (sw_buf)SW_BUF_INIT(0);
	x->fn = fn;
	x->payload = payload;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	x->pid_file = sw_xasprintf("%s/exec-%02x%02x%02x%02x.pid", c->dir, rnd[0], rnd[1], rnd[2], rnd[3]);
	for (na = 0; argv[na]; na++)
		;
	args = sw_xcalloc(na + 10, sizeof(*args));
	args[n++] = "runc";
	args[n++] = "--root";
	args[n++] = rt->runc_root;
	args[n++] = "exec";
	args[n++] = "--pid-file";
	args[n++] = x->pid_file;
	args[n++] = c->s.runc_id;
	for (size_t i = 0; i < na; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, inp[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	r = posix_spawnp(&x->pid, "runc", &fa, NULL, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(args);
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	if (r != 0) {
		exec_free(x);
		return sw_error_set_errno(err, r, "exec in container %s of pod %s: start runc", container, pod_uid);
	}
	x->pidfd = podrt_pidfd_open(x->pid);
	if (x->pidfd < 0) {
		r = sw_error_set_errno(err, errno, "exec: pidfd_open");
		kill(x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
		x->exited = true;
		exec_free(x);
		return r;
	}
	fcntl(x->out, F_SETFL, O_NONBLOCK);
	fcntl(x->errfd, F_SETFL, O_NONBLOCK);
	fcntl(x->in, F_SETFL, O_NONBLOCK);
	x->ev_out = event_new(base, x->out, EV_READ | EV_PERSIST, on_out, x);
	x->ev_err = event_new(base, x->errfd, EV_READ | EV_PERSIST, on_err, x);
	x->ev_exit = event_new(base, x->pidfd, EV_READ | EV_PERSIST, on_exit_, x);
	x->ev_timer = evtimer_new(base, on_timeout, x);
	event_add(x->ev_out, NULL);
	event_add(x->ev_err, NULL);
	event_add(x->ev_exit, NULL);
	if (timeout_ms <= 0)
		timeout_ms = EXEC_TIMEOUT_DEFAULT_MS;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(x->ev_timer, &tv);
	if (stdin_data && stdin_len) {
		x->input = sw_xmalloc(stdin_len);
		memcpy(x->input, stdin_data, stdin_len);
		x->input_len = stdin_len;
		x->ev_in = event_new(base, x->in, EV_WRITE | EV_PERSIST, on_in, x);
		event_add(x->ev_in, NULL);
	} else {
		close_fd(&x->in);
	}
	*out = x;
	return 0;
}

int sw_podrt_exec_async(sw_podrt *rt, const char *pod_uid, const char *container, const char *const *argv,
                        const char *stdin_data, size_t stdin_len, int timeout_ms, sw_podrt_exec_fn fn,
                        void *payload, sw_error **err)
{
	podrt_exec *x = NULL;
	int r = start_exec(rt, rt->base, pod_uid, container, argv, stdin_data, stdin_len, timeout_ms, fn, payload, &x,
	                   err);

	if (r < 0)
		return r;
	x->linked = true;
	x->next = rt->execs;
	rt->execs = x;
	return 0;
}

typedef struct sync_result {
	bool done;
	int exit_code;
	char *out, *errout;
	size_t out_len, errout_len;
} sync_result;

static void on_sync_done(void *payload, const sw_exec_result *res, const sw_error *err)
{
	sync_result *s = payload;

	(void)err;
	s->done = true;
	s->exit_code = res->exit_code;
	s->out = sw_xstrndup(res->out, res->out_len);
	s->out_len = res->out_len;
	s->errout = sw_xstrndup(res->errout, res->errout_len);
	s->errout_len = res->errout_len;
}

int sw_podrt_exec(sw_podrt *rt, const char *pod_uid, const char *container, const char *const *argv,
                  const char *stdin_data, size_t stdin_len, int timeout_ms, int *exit_code, char **out,
                  size_t *out_len, char **errout, size_t *errout_len, sw_error **err)
{
	struct event_base *base = event_base_new();
	sync_result s = { 0 };
	podrt_exec *x = NULL;
	int r;

	if (!base)
		return sw_error_set(err, SW_EFAIL, "exec: cannot create an event base");
	r = start_exec(rt, base, pod_uid, container, argv, stdin_data, stdin_len, timeout_ms, on_sync_done, &s, &x,
	               err);
	if (r < 0) {
		event_base_free(base);
		return r;
	}
	while (!s.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	event_base_free(base);
	*exit_code = s.exit_code;
	if (out) {
		*out = s.out;
		*out_len = s.out_len;
	} else {
		free(s.out);
	}
	if (errout) {
		*errout = s.errout;
		*errout_len = s.errout_len;
	} else {
		free(s.errout);
	}
	return 0;
}
