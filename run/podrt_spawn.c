/*
 * podrt_spawn.c - starting processes (shims, `slipway-shim rm`, `runc
 * delete`) off the event loop. posix_spawn returns only once the child has
 * called execve, and with every core busy starting containers that wait is
 * tens of milliseconds per process: on the loop it would add up to seconds
 * for a hundred pods. One worker thread spawns; results come back to the
 * loop through a pipe. Requests carry copies of what they need, never
 * pointers into the runtime's containers (which a removal may free
 * meanwhile).
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podrt_rt.h"
#include "slipway/log.h"
#include "slipway/mem.h"

extern char **environ;

typedef struct spawn_req {
	char **argv;
	char *out_path;        /* stdout+stderr, NULL: /dev/null */
	bool is_shim;
	char *uid, *name;      /* the shim's container */
	unsigned instance;
	pid_t pid;
	int error;             /* errno of posix_spawn */
	struct spawn_req *next;
} spawn_req;

struct podrt_spawner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	spawn_req *head, *tail;
	bool stop, started;
	int res[2];            /* the worker writes spawn_req pointers */
	struct event *ev;
	sw_podrt *rt;
};

static void req_free(spawn_req *r)
{
	for (size_t i = 0; r->argv && r->argv[i]; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->out_path);
	free(r->uid);
	free(r->name);
	free(r);
}

static int do_spawn(pid_t *pid, char *const *argv, const char *out_path, bool is_shim)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask, all;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&mask);
	if (is_shim) {
		/* a shim starts with the signals it takes through its signalfd
		 * blocked, so one sent right away waits for it instead of
		 * killing it */
		int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, PODRT_SIG_STOP };
		for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
			sigaddset(&mask, sigs[i]);
	}
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &mask);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND,
	                                 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

static void *worker(void *arg)
{
	struct podrt_spawner *sp = arg;
	sigset_t all;

	/* signals are the loop thread's business */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		spawn_req *r;
		pthread_mutex_lock(&sp->mu);
		while (!sp->head && !sp->stop)
			pthread_cond_wait(&sp->cv, &sp->mu);
		if (sp->stop) {
			pthread_mutex_unlock(&sp->mu);
			return NULL;
		}
		r = sp->head;
		sp->head = r->next;
		if (!sp->head)
			sp->tail = NULL;
		pthread_mutex_unlock(&sp->mu);
		r->next = NULL;
		r->error = do_spawn(&r->pid, r->argv, r->out_path, r->is_shim);
		/* a pointer is 8 bytes: pipe writes that small are atomic */
		while (write(sp->res[1], &r, sizeof(r)) < 0 && errno == EINTR)
			;
	}
}

static void on_result(evutil_socket_t fd, short what, void *arg)
{
	struct podrt_spawner *sp = arg;

	(void)what;
	for (;;) {
		spawn_req *r = NULL;
		ssize_t n = read(fd, &r, sizeof(r));
		if (n != (ssize_t)sizeof(r))
			return;
		if (r->is_shim)
			podrt_shim_spawned(sp->rt, r->uid, r->name, r->instance, r->error ? -1 : r->pid, r->error);
		else if (r->error)
			sw_warn("start %s: %s", r->argv[0], strerror(r->error));
		else
			podrt_reap_later(sp->rt, r->pid);
		req_free(r);
	}
}

int podrt_spawner_start(sw_podrt *rt, sw_error **err)
{
	struct podrt_spawner *sp = sw_xcalloc(1, sizeof(*sp));
	int r;

	sp->rt = rt;
	if (pipe2(sp->res, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = sw_error_set_errno(err, errno, "pod runtime: pipe");
		free(sp);
		return r;
	}
	/* the worker's end blocks: results are never dropped */
	fcntl(sp->res[1], F_SETFL, 0);
	pthread_mutex_init(&sp->mu, NULL);
	pthread_cond_init(&sp->cv, NULL);
	if ((r = pthread_create(&sp->thread, NULL, worker, sp)) != 0) {
		close(sp->res[0]);
		close(sp->res[1]);
		free(sp);
		return sw_error_set_errno(err, r, "pod runtime: start the spawner thread");
	}
	sp->started = true;
	sp->ev = event_new(rt->base, sp->res[0], EV_READ | EV_PERSIST, on_result, sp);
	event_add(sp->ev, NULL);
	rt->spawner = sp;
	return 0;
}

void podrt_spawner_stop(sw_podrt *rt)
{
	struct podrt_spawner *sp = rt->spawner;

	if (!sp)
		return;
	pthread_mutex_lock(&sp->mu);
	sp->stop = true;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
	pthread_join(sp->thread, NULL);
	/* results not handled yet: shims run on (a scan adopts them), other
	 * processes are reaped by whoever inherits them */
	{
		spawn_req *r = NULL;
		while (read(sp->res[0], &r, sizeof(r)) == (ssize_t)sizeof(r))
			req_free(r);
	}
	while (sp->head) {
		spawn_req *r = sp->head;
		sp->head = r->next;
		if (r->is_shim)
			podrt_shim_spawned(rt, r->uid, r->name, r->instance, -1, ECANCELED);
		req_free(r);
	}
	event_free(sp->ev);
	close(sp->res[0]);
	close(sp->res[1]);
	pthread_mutex_destroy(&sp->mu);
	pthread_cond_destroy(&sp->cv);
	free(sp);
	rt->spawner = NULL;
}

static void enqueue(sw_podrt *rt, spawn_req *r)
{
	struct podrt_spawner *sp = rt->spawner;

	pthread_mutex_lock(&sp->mu);
	if (sp->tail)
		sp->tail->next = r;
	else
		sp->head = r;
	sp->tail = r;
	pthread_cond_signal(&sp->cv);
	pthread_mutex_unlock(&sp->mu);
}

static char **argv_dup(const char *const *argv)
{
	size_t n = 0;
	char **v;

	while (argv[n])
		n++;
	v = sw_xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = sw_xstrdup(argv[i]);
	return v;
}

void podrt_spawn_shim(sw_podrt *rt, const char *uid, const char *name, unsigned instance,
                      const char *const *argv, const char *out_path)
{
	spawn_req *r = sw_xcalloc(1, sizeof(*r));

	r->argv = argv_dup(argv);
	r->out_path = out_path ? sw_xstrdup(out_path) : NULL;
	r->is_shim = true;
	r->uid = sw_xstrdup(uid);
	r->name = sw_xstrdup(name);
	r->instance = instance;
	enqueue(rt, r);
}

void podrt_background(sw_podrt *rt, const char *const *argv)
{
	spawn_req *r = sw_xcalloc(1, sizeof(*r));

	r->argv = argv_dup(argv);
	enqueue(rt, r);
}
