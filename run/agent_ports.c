/*
 * agent_ports.c - why a container that exited may have failed to bind: its
 * log says so, and either its own host port was taken by someone else (the
 * pod moves to a new one: HostPortInUse) or a declared containerPort it
 * bound instead of $PORT is held by another pod or process (PortConflict,
 * naming the holder).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"

/* Names who holds a declared containerPort the app may have tried to bind
 * itself instead of $PORT; empty when the port is free. */
/* True when the end of the container's log says a bind failed. */
static bool log_says_in_use(const sw_apod *p, const sw_actr *c)
{
	cleanup_free char *path = sw_podrt_log_path(p->a->state_dir, p->uid, c->name, false);
	cleanup_close int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return false;
	char buf[4097];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > 4096 ? end - 4096 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] - 'A' + 'a');
	return strstr(buf, "in use") || strstr(buf, "eaddrinuse");
}

/* Who listens on port: "by pod NS/NAME", "by process PID (COMM)". */
static void port_holder(const sw_agent *a, int port, char *who, size_t n)
{
	int pid = sw_port_listener_pid(port);
	who[0] = '\0';
	for (sw_apod *o = a->pods; o && pid > 0 && !who[0]; o = o->next) {
		for (size_t j = 0; j < o->nctrs; j++) {
			if (o->ctrs[j].st.phase == SW_CTR_RUNNING && sw_pid_descends_from(pid, o->ctrs[j].st.pid)) {
				snprintf(who, n, "by pod %s/%s", o->ns ? o->ns : "", o->name ? o->name : o->uid);
				break;
			}
		}
	}
	if (who[0])
		return;
	if (pid <= 0) {
		snprintf(who, n, "by another process");
		return;
	}
	char comm[64] = "?";
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(who, n, "by process %d (%s)", pid, comm);
}

/*
 * A container crashed soon after start and its log says a bind failed.
 * When its own host port ($PORT) is held by something else (a process that
 * took it after allocation), the pod gets a new one; when a declared
 * containerPort is held, the app ignores $PORT: an event names the port
 * and who holds it, instead of a silent crash loop.
 */
void sw_agent_port_conflicts(sw_apod *p, sw_actr *c)
{
	const json_t *spec = sw_agent_ctr_spec(p, c->name);
	if (!log_says_in_use(p, c))
		return;
	char who[512];
	size_t i;
	json_t *e;
	bool moved = false;
	json_array_foreach(p->ports, i, e) {
		const char *ctr = sw_obj_str(e, "container");
		int host = (int)sw_obj_int(e, "hostPort", 0);
		if (!ctr || strcmp(ctr, c->name) || host <= 0 || sw_port_bindable(host))
			continue;
		int fresh = 0;
		cleanup_error sw_error *err = NULL;
		if (sw_ports_alloc(p->a->ports, &fresh, &err) < 0) {
			sw_log_error(err, "node agent: pod %s/%s", p->ns, p->name);
			continue;
		}
		port_holder(p->a, host, who, sizeof(who));
		pod_event(p, "Warning", "HostPortInUse",
		          "host port %d of container %s is in use on this host (%s); the container gets "
		          "host port %d instead", host, c->name, who, fresh);
		sw_ports_release(p->a->ports, host);
		json_object_set_new(e, "hostPort", json_integer(fresh));
		moved = true;
	}
	if (moved)
		sw_agent_write_pod_json(p, "ports", p->ports);
	json_array_foreach(json_object_get(spec, "ports"), i, e) {
		int cport = (int)sw_obj_int(e, "containerPort", 0);
		int host = sw_ports_lookup(p->ports, c->name, json_object_get(e, "containerPort"));
		if (cport <= 0 || cport == host || sw_port_bindable(cport))
			continue;
		port_holder(p->a, cport, who, sizeof(who));
		pod_event(p, "Warning", "PortConflict",
		          "container %s: port %d is already in use on this host (%s); the app must bind $PORT "
		          "(%d for this pod)", c->name, cport, who, host);
	}
}

