/*
 * spawn.c - run a command, feed its stdin, collect stdout/stderr, time out.
 *
 * fork + exec with a close-on-exec pipe that carries errno back from a
 * failed exec, so "not found" is an error of the caller, not exit code 127.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slipway/buf.h"
#include "slipway/mem.h"
#include "slipway/spawn.h"

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

static __attribute__((noreturn)) void child(const sw_spawn_opts *o, int in[2], int out[2],
                                            int errp[2], int status[2])
{
	int devnull = open("/dev/null", O_RDWR);
	int e;

	if (in[0] >= 0)
		dup2(in[0], 0);
	else if (devnull >= 0)
		dup2(devnull, 0);
	if (out[1] >= 0)
		dup2(out[1], 1);
	if (errp[1] >= 0)
		dup2(errp[1], 2);
	signal(SIGPIPE, SIG_DFL);
	if (o->cwd && chdir(o->cwd) < 0) {
		e = errno;
		if (write(status[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	if (o->envp)
		environ = (char **)o->envp;
	execvp(o->argv[0], (char *const *)o->argv);
	e = errno;
	if (write(status[1], &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

static int drain(int *fd, sw_buf *b, sw_error **err)
{
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	/* keep what fits; drop the rest but keep reading so the child never
	 * blocks on a full pipe */
	if (b->len < b->max) {
		size_t room = b->max - b->len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		return sw_buf_add(b, chunk, take, err);
	}
	return 0;
}

int sw_spawn_run(const sw_spawn_opts *o, sw_spawn_result *res, sw_error **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, st[2] = { -1, -1 };
	size_t max = o->max_output ? o->max_output : 16u << 20;
	sw_buf bout = SW_BUF_INIT(max), berr = SW_BUF_INIT(max);
	size_t written = 0;
	long long deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
	int status = 0, exec_errno = 0, wr;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (!o->argv || !o->argv[0])
		return sw_error_set(err, SW_EINVALID, "spawn: empty command");
	if (pipe2(st, O_CLOEXEC) < 0 || (o->input && pipe2(in, O_CLOEXEC) < 0) ||
	    (o->capture_stdout && pipe2(out, O_CLOEXEC) < 0) ||
	    (o->capture_stderr && pipe2(errp, O_CLOEXEC) < 0)) {
		int e = errno;
		close_pair(st); close_pair(in); close_pair(out); close_pair(errp);
		return sw_error_set_errno(err, e, "spawn %s: pipe", o->argv[0]);
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close_pair(st); close_pair(in); close_pair(out); close_pair(errp);
		return sw_error_set_errno(err, e, "spawn %s: fork", o->argv[0]);
	}
	if (pid == 0)
		child(o, in, out, errp, st);

	close(st[1]);
	if (in[0] >= 0) { close(in[0]); in[0] = -1; fcntl(in[1], F_SETFL, O_NONBLOCK); }
	if (out[1] >= 0) { close(out[1]); out[1] = -1; }
	if (errp[1] >= 0) { close(errp[1]); errp[1] = -1; }
	if (read(st[0], &exec_errno, sizeof(exec_errno)) != sizeof(exec_errno))
		exec_errno = 0;
	close(st[0]);
	if (in[1] >= 0 && o->input_len == 0) { close(in[1]); in[1] = -1; }

	/* a pidfd tells when the child exits, so the deadline holds even when
	 * nothing is captured */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	bool exited = false;

	while (in[1] >= 0 || out[0] >= 0 || errp[0] >= 0 || (deadline && !exited && pidfd >= 0)) {
		struct pollfd pfd[4];
		nfds_t n = 0;
		int timeout = -1;

		if (deadline && !exited && pidfd >= 0) pfd[n++] = (struct pollfd){ pidfd, POLLIN, 0 };
		if (in[1] >= 0) pfd[n++] = (struct pollfd){ in[1], POLLOUT, 0 };
		if (out[0] >= 0) pfd[n++] = (struct pollfd){ out[0], POLLIN, 0 };
		if (errp[0] >= 0) pfd[n++] = (struct pollfd){ errp[0], POLLIN, 0 };
		if (deadline) {
			long long left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				res->timed_out = true;
				break;
			}
			timeout = (int)left;
		}
		if (poll(pfd, n, timeout) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == pidfd) {
				exited = true;
			} else if (pfd[i].fd == in[1]) {
				ssize_t w = write(in[1], o->input + written, o->input_len - written);
				if (w > 0)
					written += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == o->input_len) {
					close(in[1]);
					in[1] = -1;
				}
			} else if (pfd[i].fd == out[0]) {
				drain(&out[0], &bout, NULL);
			} else if (pfd[i].fd == errp[0]) {
				drain(&errp[0], &berr, NULL);
			}
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	close_pair(in); close_pair(out); close_pair(errp);
	do
		wr = waitpid(pid, &status, 0);
	while (wr < 0 && errno == EINTR);

	if (exec_errno) {
		sw_buf_release(&bout);
		sw_buf_release(&berr);
		if (exec_errno == ENOENT)
			return sw_error_set(err, SW_ENOTFOUND, "%s: command not found", o->argv[0]);
		return sw_error_set_errno(err, exec_errno, "exec %s", o->argv[0]);
	}
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->exit_code = -1;
		res->term_signal = WTERMSIG(status);
	}
	if (o->capture_stdout) {
		res->out_len = bout.len;
		res->out = sw_buf_detach(&bout);
	}
	if (o->capture_stderr) {
		res->err_len = berr.len;
		res->err = sw_buf_detach(&berr);
	}
	return 0;
}

void sw_spawn_result_release(sw_spawn_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}
