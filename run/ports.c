/*
 * ports.c - host ports for pods. Pods share the host's network, so each
 * declared containerPort gets a host port of its own that the app binds
 * through $PORT (12-factor port binding); the mapping stays for the pod's
 * life (the agent persists it in the pod's folder) and goes back to the
 * pool when the pod is removed. A port is handed out only when the agent
 * has not given it to another pod and nothing on the host holds it now.
 *
 * Also: which process listens on a port (/proc/net/tcp{,6} and the fd
 * tables), so a bind conflict can name the pod that holds the port.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_int.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"

struct sw_ports {
	int lo, hi;
	int cursor;            /* where the next search starts */
	unsigned char *taken;  /* one byte per port in [lo, hi] */
};

void sw_ports_default_range(int *lo, int *hi)
{
	const char *env = getenv("SLIPWAY_PORT_RANGE");
	int a = 0, b = 0;
	if (env && sscanf(env, "%d-%d", &a, &b) == 2 && a > 0 && b <= 65535 && a <= b) {
		*lo = a;
		*hi = b;
		return;
	}
	int elo = 32768, ehi = 60999;   /* Linux's default */
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (f) {
		if (fscanf(f, "%d %d", &a, &b) == 2 && a > 0 && a <= b) {
			elo = a;
			ehi = b;
		}
		fclose(f);
	}
	static const int cand[][2] = { { 20000, 29999 }, { 40000, 59999 }, { 10000, 19999 } };
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (cand[i][1] < elo || cand[i][0] > ehi) {
			*lo = cand[i][0];
			*hi = cand[i][1];
			return;
		}
	}
	*lo = cand[0][0];
	*hi = cand[0][1];
}

sw_ports *sw_ports_new(int lo, int hi)
{
	sw_ports *p = sw_xcalloc(1, sizeof(*p));
	p->lo = lo;
	p->hi = hi;
	p->taken = sw_xcalloc((size_t)(hi - lo + 1), 1);
	/* start at a different place each run, so a port a crashed run just
	 * gave up is not handed out again at once */
	p->cursor = lo + (int)((unsigned)getpid() * 7919u % (unsigned)(hi - lo + 1));
	return p;
}

void sw_ports_free(sw_ports *p)
{
	if (!p)
		return;
	free(p->taken);
	free(p);
}

bool sw_ports_reserve(sw_ports *p, int port)
{
	if (port < p->lo || port > p->hi)
		return true;   /* outside the pool: nothing to track */
	if (p->taken[port - p->lo])
		return false;
	p->taken[port - p->lo] = 1;
	return true;
}

void sw_ports_release(sw_ports *p, int port)
{
	if (port >= p->lo && port <= p->hi)
		p->taken[port - p->lo] = 0;
}

/* [::]:port, IPv6 only; true when there is no IPv6 to hold it */
static bool try_bind6(int port)
{
	cleanup_close int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
		                   .sin6_addr = IN6ADDR_ANY_INIT };
	return bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0 || errno == EADDRNOTAVAIL;
}

static bool try_bind4(uint32_t addr, int port)
{
	cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(addr);
	return bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
}

bool sw_port_bindable(int port)
{
	if (port <= 0 || port > 65535)
		return false;
	return try_bind4(INADDR_LOOPBACK, port) && try_bind4(INADDR_ANY, port) &&
	       try_bind6(port);
}

int sw_ports_alloc(sw_ports *p, int *out, sw_error **err)
{
	int n = p->hi - p->lo + 1;
	for (int i = 0; i < n; i++) {
		int port = p->cursor;
		p->cursor = port >= p->hi ? p->lo : port + 1;
		if (p->taken[port - p->lo])
			continue;
		if (!sw_port_bindable(port))
			continue;
		p->taken[port - p->lo] = 1;
		*out = port;
		return 0;
	}
	return sw_error_set(err, SW_EFAIL, "no free host port in %d-%d", p->lo, p->hi);
}

/* The entry of have for (container, containerPort), or NULL. */
static json_t *find_entry(const json_t *have, const char *ctr, int64_t cport)
{
	size_t i;
	json_t *e;
	json_array_foreach(have, i, e) {
		const char *c = json_string_value(json_object_get(e, "container"));
		if (c && !strcmp(c, ctr) && json_integer_value(json_object_get(e, "containerPort")) == cport)
			return e;
	}
	return NULL;
}

int sw_ports_assign(sw_ports *p, const json_t *pod_spec, const json_t *have, json_t **out,
                    sw_error **err)
{
	cleanup_json json_t *map = json_array();
	cleanup_json json_t *fresh = json_array();   /* ports allocated here, for rollback */
	json_t *ctrs = json_object_get(pod_spec, "containers");
	size_t i;
	json_t *c;
	json_array_foreach(ctrs, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!name)
			continue;
		json_t *ports = json_object_get(c, "ports");
		size_t nports = json_array_size(ports);
		for (size_t j = 0; j < (nports ? nports : 1); j++) {
			json_t *decl = nports ? json_array_get(ports, j) : NULL;
			int64_t cport = decl ? sw_obj_int(decl, "containerPort", 0) : 0;
			json_t *old = find_entry(have, name, cport);
			int host = old ? (int)json_integer_value(json_object_get(old, "hostPort")) : 0;
			if (host <= 0) {
				if (sw_ports_alloc(p, &host, err) < 0) {
					sw_ports_release_all(p, fresh);
					return sw_error_wrap(err, "container %s", name);
				}
				json_array_append_new(fresh, json_pack("{si}", "hostPort", host));
			}
			json_t *e = json_object();
			json_object_set_new(e, "container", json_string(name));
			const char *pname = decl ? sw_obj_str(decl, "name") : NULL;
			if (pname)
				json_object_set_new(e, "name", json_string(pname));
			if (cport > 0)
				json_object_set_new(e, "containerPort", json_integer(cport));
			json_object_set_new(e, "hostPort", json_integer(host));
			const char *proto = decl ? sw_obj_str(decl, "protocol") : NULL;
			json_object_set_new(e, "protocol", json_string(proto ? proto : "TCP"));
			json_array_append_new(map, e);
		}
	}
	*out = steal_pointer(&map);
	return 0;
}

void sw_ports_release_all(sw_ports *p, const json_t *mapping)
{
	size_t i;
	json_t *e;
	json_array_foreach(mapping, i, e)
		sw_ports_release(p, (int)json_integer_value(json_object_get(e, "hostPort")));
}

int sw_ports_lookup(const json_t *mapping, const char *container, const json_t *port)
{
	size_t i;
	json_t *e;
	bool declared_any = false;
	json_array_foreach(mapping, i, e) {
		const char *c = json_string_value(json_object_get(e, "container"));
		if (!c || strcmp(c, container))
			continue;
		int host = (int)json_integer_value(json_object_get(e, "hostPort"));
		json_t *cp = json_object_get(e, "containerPort");
		if (cp)
			declared_any = true;
		if (json_is_string(port)) {
			const char *n = json_string_value(json_object_get(e, "name"));
			if (n && !strcmp(n, json_string_value(port)))
				return host;
		} else if (json_is_integer(port) && cp &&
		           json_integer_value(cp) == json_integer_value(port)) {
			return host;
		}
	}
	if (json_is_string(port)) {
		/* a numeric string ("8080") as a number */
		char *end = NULL;
		long v = strtol(json_string_value(port), &end, 10);
		if (end && !*end && v > 0) {
			json_t *num = json_integer(v);
			int r = sw_ports_lookup(mapping, container, num);
			json_decref(num);
			return r;
		}
		return 0;
	}
	if (!declared_any)
		return sw_ports_first(mapping, container);
	/* a port the container does not declare: the app listens there itself */
	return json_is_integer(port) ? (int)json_integer_value(port) : 0;
}

int sw_ports_first(const json_t *mapping, const char *container)
{
	size_t i;
	json_t *e;
	json_array_foreach(mapping, i, e) {
		const char *c = json_string_value(json_object_get(e, "container"));
		if (c && !strcmp(c, container))
			return (int)json_integer_value(json_object_get(e, "hostPort"));
	}
	return 0;
}

/* The inode of a socket listening on port in one /proc/net/tcp file, 0 if none. */
static unsigned long listen_inode(const char *file, int port)
{
	cleanup_file FILE *f = fopen(file, "re");
	if (!f)
		return 0;
	char line[512];
	if (!fgets(line, sizeof(line), f))
		return 0;   /* header */
	while (fgets(line, sizeof(line), f)) {
		char local[128], remote[128];
		unsigned st = 0;
		unsigned long inode = 0;
		if (sscanf(line, " %*s %127s %127s %x %*s %*s %*s %*s %*s %lu", local, remote, &st,
		           &inode) != 4)
			continue;
		if (st != 0x0A)
			continue;
		char *colon = strrchr(local, ':');
		if (!colon)
			continue;
		if (strtol(colon + 1, NULL, 16) == port && inode)
			return inode;
	}
	return 0;
}

static int pid_with_inode(unsigned long inode)
{
	char want[64];
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	cleanup_dir DIR *proc = opendir("/proc");
	if (!proc)
		return 0;
	struct dirent *de;
	while ((de = readdir(proc))) {
		char *end = NULL;
		long pid = strtol(de->d_name, &end, 10);
		if (!end || *end || pid <= 0)
			continue;
		char fddir[64];
		snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", pid);
		cleanup_dir DIR *fds = opendir(fddir);
		if (!fds)
			continue;
		struct dirent *fe;
		while ((fe = readdir(fds))) {
			if (fe->d_name[0] == '.')
				continue;
			char link[400], target[128];
			snprintf(link, sizeof(link), "%s/%s", fddir, fe->d_name);
			ssize_t n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (!strcmp(target, want))
				return (int)pid;
		}
	}
	return 0;
}

int sw_port_listener_pid(int port)
{
	unsigned long inode = listen_inode("/proc/net/tcp", port);
	if (!inode)
		inode = listen_inode("/proc/net/tcp6", port);
	return inode ? pid_with_inode(inode) : 0;
}

static int parent_of(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	cleanup_file FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	int ppid = 0;
	if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

bool sw_pid_descends_from(int pid, int ancestor)
{
	if (ancestor <= 0)
		return false;
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (pid == ancestor)
			return true;
		pid = parent_of(pid);
	}
	return false;
}
