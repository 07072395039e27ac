/*
 * proxy_config.c - slipway-proxy's configuration file (schema in proxy.h):
 * strict parsing and validation with the field named in every error, and
 * the atomic writer slipwayd uses. No runtime state here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/proxy.h"

struct ctx {
	const char *what;
	sw_error **err;
};

#define FAIL(c, path, ...) fail((c), (path), __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const char *path,
						      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sw_error_set(c->err, SW_EINVALID, "%s: %s: %s", c->what, path, msg);
}

/* Every key of o must be one of allowed (NULL-terminated). */
static int only_keys(struct ctx *c, const char *path, const json_t *o, const char *const *allowed)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, k) == 0;
		if (!ok)
			return FAIL(c, path, "unknown field \"%s\"", k);
	}
	return 0;
}

static int get_obj(struct ctx *c, const char *path, const json_t *o, const char *key,
		   bool required, json_t **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v) {
		if (required)
			return FAIL(c, path, "missing field \"%s\"", key);
		return 0;
	}
	if (!json_is_object(v))
		return FAIL(c, path, "\"%s\" must be an object", key);
	*out = v;
	return 0;
}

static int get_str(struct ctx *c, const char *path, const json_t *o, const char *key,
		   bool required, char **out)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			return FAIL(c, path, "missing field \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4096 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return FAIL(c, path, "\"%s\" must be a non-empty string", key);
	free(*out);
	*out = sw_xstrdup(json_string_value(v));
	return 0;
}

static int get_uint(struct ctx *c, const char *path, const json_t *o, const char *key,
		    bool required, long long min, long long max, unsigned *out)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			return FAIL(c, path, "missing field \"%s\"", key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return FAIL(c, path, "\"%s\" must be an integer in %lld..%lld", key, min, max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int get_bool(struct ctx *c, const char *path, const json_t *o, const char *key,
		    bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return FAIL(c, path, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int check_address(struct ctx *c, const char *path, const char *a)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (inet_pton(AF_INET, a, &v4) != 1 && inet_pton(AF_INET6, a, &v6) != 1)
		return FAIL(c, path, "address \"%s\" is not an IP address", a);
	return 0;
}

static int parse_addr_port(struct ctx *c, const char *path, const json_t *o, char **addr,
			   uint16_t *port, const char *const *keys)
{
	unsigned p = 0;

	if (!json_is_object(o))
		return FAIL(c, path, "must be an object");
	if (only_keys(c, path, o, keys) < 0 || get_str(c, path, o, "address", true, addr) < 0 ||
	    get_uint(c, path, o, "port", true, 1, 65535, &p) < 0 ||
	    check_address(c, path, *addr) < 0)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static int parse_endpoint(struct ctx *c, const char *path, const json_t *o,
			  struct sw_proxy_endpoint *e)
{
	static const char *const keys[] = {"address", "port", "pod", "terminating", NULL};

	if (parse_addr_port(c, path, o, &e->address, &e->port, keys) < 0 ||
	    get_str(c, path, o, "pod", false, &e->pod) < 0 ||
	    get_bool(c, path, o, "terminating", &e->terminating) < 0)
		return -1;
	return 0;
}

static int parse_group(struct ctx *c, const char *path, const json_t *o,
		       struct sw_proxy_group *g)
{
	static const char *const keys[] = {"name", "weight", "endpoints", NULL};
	json_t *eps, *v;
	size_t i;

	if (!json_is_object(o))
		return FAIL(c, path, "must be an object");
	if (only_keys(c, path, o, keys) < 0 || get_str(c, path, o, "name", true, &g->name) < 0 ||
	    get_uint(c, path, o, "weight", false, 0, 10000, &g->weight) < 0)
		return -1;
	if (!json_object_get(o, "weight"))
		g->weight = 1;
	eps = json_object_get(o, "endpoints");
	if (!eps)
		return 0;
	if (!json_is_array(eps) || json_array_size(eps) > 4096)
		return FAIL(c, path, "\"endpoints\" must be an array of at most 4096");
	g->endpoints = sw_xcalloc(json_array_size(eps) + 1, sizeof(*g->endpoints));
	json_array_foreach(eps, i, v) {
		char sub[256];
		if (snprintf(sub, sizeof(sub), "%s.endpoints[%zu]", path, i) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		g->n_endpoints = i + 1;
		if (parse_endpoint(c, sub, v, &g->endpoints[i]) < 0)
			return -1;
	}
	return 0;
}

static int group_index(const struct sw_proxy_service *s, const char *name)
{
	for (size_t i = 0; i < s->n_groups; i++)
		if (strcmp(s->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int parse_name_value(struct ctx *c, const char *path, const json_t *o, const char *key,
			    char **name, char **value)
{
	static const char *const keys[] = {"name", "value", NULL};
	json_t *v = json_object_get(o, key);
	char sub[256];

	if (!v)
		return 0;
	if (snprintf(sub, sizeof(sub), "%s.%s", path, key) >= (int)sizeof(sub))
		return FAIL(c, path, "nested too deep");
	if (!json_is_object(v))
		return FAIL(c, sub, "must be an object");
	if (only_keys(c, sub, v, keys) < 0 || get_str(c, sub, v, "name", true, name) < 0 ||
	    get_str(c, sub, v, "value", true, value) < 0)
		return -1;
	return 0;
}

static int parse_rule(struct ctx *c, const char *path, const json_t *o,
		      struct sw_proxy_service *s, struct sw_proxy_rule *r)
{
	static const char *const keys[] = {"match", "group", NULL};
	static const char *const mkeys[] = {"header", "cookie", "pathPrefix", "method",
					    "userAgent", NULL};
	cleanup_free char *group = NULL;
	struct sw_proxy_match *m = &r->match;
	json_t *mo;
	char sub[256];
	int gi;

	if (!json_is_object(o))
		return FAIL(c, path, "must be an object");
	if (only_keys(c, path, o, keys) < 0 || get_str(c, path, o, "group", true, &group) < 0 ||
	    get_obj(c, path, o, "match", true, &mo) < 0)
		return -1;
	gi = group_index(s, group);
	if (gi < 0)
		return FAIL(c, path, "group \"%s\" is not one of the service's groups", group);
	r->group = (size_t)gi;
	if (snprintf(sub, sizeof(sub), "%s.match", path) >= (int)sizeof(sub))
		return FAIL(c, path, "nested too deep");
	if (only_keys(c, sub, mo, mkeys) < 0 ||
	    parse_name_value(c, sub, mo, "header", &m->header_name, &m->header_value) < 0 ||
	    parse_name_value(c, sub, mo, "cookie", &m->cookie_name, &m->cookie_value) < 0 ||
	    get_str(c, sub, mo, "pathPrefix", false, &m->path_prefix) < 0 ||
	    get_str(c, sub, mo, "method", false, &m->method) < 0 ||
	    get_str(c, sub, mo, "userAgent", false, &m->user_agent) < 0)
		return -1;
	if (json_object_size(mo) == 0)
		return FAIL(c, sub, "needs at least one condition");
	return 0;
}

static int parse_timeouts(struct ctx *c, const char *path, const json_t *svc,
			  struct sw_proxy_service *s)
{
	static const char *const keys[] = {"connectMs", "serverMs", "clientIdleMs", "headerMs",
					   NULL};
	json_t *o;
	char sub[256];

	s->connect_ms = 3000;   /* past the kernel's first SYN retransmit (1 s) */
	s->server_ms = 30000;
	s->client_idle_ms = 60000;
	s->header_ms = 10000;
	if (get_obj(c, path, svc, "timeouts", false, &o) < 0)
		return -1;
	if (!o)
		return 0;
	if (snprintf(sub, sizeof(sub), "%s.timeouts", path) >= (int)sizeof(sub))
		return FAIL(c, path, "nested too deep");
	if (only_keys(c, sub, o, keys) < 0 ||
	    get_uint(c, sub, o, "connectMs", false, 1, 3600000, &s->connect_ms) < 0 ||
	    get_uint(c, sub, o, "serverMs", false, 1, 3600000, &s->server_ms) < 0 ||
	    get_uint(c, sub, o, "clientIdleMs", false, 1, 3600000, &s->client_idle_ms) < 0 ||
	    get_uint(c, sub, o, "headerMs", false, 1, 3600000, &s->header_ms) < 0)
		return -1;
	return 0;
}

static int parse_http_extras(struct ctx *c, const char *path, const json_t *o,
			     struct sw_proxy_service *s)
{
	static const char *const skeys[] = {"cookie", "maxAgeSeconds", NULL};
	static const char *const mkeys[] = {"group", "percent", "unsafeMethods", "timeoutMs",
					    NULL};
	json_t *v;
	char sub[256];
	size_t i;

	v = json_object_get(o, "rules");
	if (v) {
		if (!json_is_array(v) || json_array_size(v) > 256)
			return FAIL(c, path, "\"rules\" must be an array of at most 256");
		s->rules = sw_xcalloc(json_array_size(v) + 1, sizeof(*s->rules));
		json_t *r;
		json_array_foreach(v, i, r) {
			if (snprintf(sub, sizeof(sub), "%s.rules[%zu]", path, i) >= (int)sizeof(sub))
				return FAIL(c, path, "nested too deep");
			s->n_rules = i + 1;
			if (parse_rule(c, sub, r, s, &s->rules[i]) < 0)
				return -1;
		}
	}
	if (get_obj(c, path, o, "sticky", false, &v) < 0)
		return -1;
	if (v) {
		if (snprintf(sub, sizeof(sub), "%s.sticky", path) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		s->sticky_max_age_s = 86400;
		if (only_keys(c, sub, v, skeys) < 0 ||
		    get_str(c, sub, v, "cookie", true, &s->sticky_cookie) < 0 ||
		    get_uint(c, sub, v, "maxAgeSeconds", false, 1, 31536000,
			     &s->sticky_max_age_s) < 0)
			return -1;
		for (const char *p = s->sticky_cookie; *p; p++)
			if (*p <= ' ' || *p >= 127 || strchr("()<>@,;:\\\"/[]?={}", *p))
				return FAIL(c, sub, "cookie \"%s\" is not a valid cookie name",
					    s->sticky_cookie);
	}
	if (get_obj(c, path, o, "mirror", false, &v) < 0)
		return -1;
	if (v) {
		cleanup_free char *group = NULL;
		int gi;
		if (snprintf(sub, sizeof(sub), "%s.mirror", path) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		s->mirror_timeout_ms = 1000;
		if (only_keys(c, sub, v, mkeys) < 0 ||
		    get_str(c, sub, v, "group", true, &group) < 0 ||
		    get_uint(c, sub, v, "percent", true, 0, 100, &s->mirror_percent) < 0 ||
		    get_bool(c, sub, v, "unsafeMethods", &s->mirror_unsafe) < 0 ||
		    get_uint(c, sub, v, "timeoutMs", false, 1, 3600000, &s->mirror_timeout_ms) < 0)
			return -1;
		gi = group_index(s, group);
		if (gi < 0)
			return FAIL(c, sub, "group \"%s\" is not one of the service's groups", group);
		s->mirror = true;
		s->mirror_group = (size_t)gi;
	}
	return 0;
}

static int parse_service(struct ctx *c, const char *path, const json_t *o,
			 struct sw_proxy_service *s)
{
	static const char *const keys[] = {"name", "listen", "mode", "balance", "affinity",
					   "groups", "rules", "sticky", "mirror", "timeouts",
					   "accessLog", NULL};
	static const char *const lkeys[] = {"address", "port", NULL};
	static const char *const akeys[] = {"clientIP", "timeoutSeconds", NULL};
	cleanup_free char *mode = NULL, *balance = NULL;
	json_t *v, *e;
	char sub[256];
	size_t i;

	if (!json_is_object(o))
		return FAIL(c, path, "must be an object");
	if (only_keys(c, path, o, keys) < 0 || get_str(c, path, o, "name", true, &s->name) < 0 ||
	    get_str(c, path, o, "mode", false, &mode) < 0 ||
	    get_str(c, path, o, "balance", false, &balance) < 0 ||
	    get_str(c, path, o, "accessLog", false, &s->access_log) < 0)
		return -1;
	if (!mode || strcmp(mode, "http") == 0)
		s->mode = SW_PROXY_HTTP;
	else if (strcmp(mode, "tcp") == 0)
		s->mode = SW_PROXY_TCP;
	else
		return FAIL(c, path, "mode \"%s\" must be \"http\" or \"tcp\"", mode);
	if (!balance || strcmp(balance, "round-robin") == 0)
		s->balance = SW_PROXY_ROUND_ROBIN;
	else if (strcmp(balance, "least-conn") == 0)
		s->balance = SW_PROXY_LEAST_CONN;
	else
		return FAIL(c, path, "balance \"%s\" must be \"round-robin\" or \"least-conn\"",
			    balance);

	v = json_object_get(o, "listen");
	if (!v || !json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > SW_PROXY_MAX_LISTEN)
		return FAIL(c, path, "\"listen\" must be an array of 1..%d addresses",
			    SW_PROXY_MAX_LISTEN);
	json_array_foreach(v, i, e) {
		if (snprintf(sub, sizeof(sub), "%s.listen[%zu]", path, i) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		s->n_listen = i + 1;
		if (parse_addr_port(c, sub, e, &s->listen[i].address, &s->listen[i].port, lkeys) <
		    0)
			return -1;
	}

	if (get_obj(c, path, o, "affinity", false, &v) < 0)
		return -1;
	s->affinity_timeout_s = 10800;
	if (v) {
		if (snprintf(sub, sizeof(sub), "%s.affinity", path) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		if (only_keys(c, sub, v, akeys) < 0 || get_bool(c, sub, v, "clientIP", &s->affinity) < 0 ||
		    get_uint(c, sub, v, "timeoutSeconds", false, 1, 86400, &s->affinity_timeout_s) < 0)
			return -1;
	}

	v = json_object_get(o, "groups");
	if (!v || !json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > SW_PROXY_MAX_GROUPS)
		return FAIL(c, path, "\"groups\" must be an array of 1..%d groups",
			    SW_PROXY_MAX_GROUPS);
	s->groups = sw_xcalloc(json_array_size(v), sizeof(*s->groups));
	json_array_foreach(v, i, e) {
		if (snprintf(sub, sizeof(sub), "%s.groups[%zu]", path, i) >= (int)sizeof(sub))
			return FAIL(c, path, "nested too deep");
		s->n_groups = i + 1;
		if (parse_group(c, sub, e, &s->groups[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->groups[j].name, s->groups[i].name) == 0)
				return FAIL(c, sub, "group name \"%s\" is used twice",
					    s->groups[i].name);
	}
	if (parse_timeouts(c, path, o, s) < 0)
		return -1;
	if (s->mode == SW_PROXY_TCP) {
		const char *bad[] = {"rules", "sticky", "mirror"};
		for (i = 0; i < 3; i++)
			if (json_object_get(o, bad[i]))
				return FAIL(c, path, "\"%s\" needs mode \"http\"", bad[i]);
		return 0;
	}
	return parse_http_extras(c, path, o, s);
}

static void service_release(struct sw_proxy_service *s)
{
	free(s->name);
	for (size_t i = 0; i < s->n_listen; i++)
		free(s->listen[i].address);
	for (size_t i = 0; i < s->n_groups; i++) {
		struct sw_proxy_group *g = &s->groups[i];
		for (size_t j = 0; j < g->n_endpoints; j++) {
			free(g->endpoints[j].address);
			free(g->endpoints[j].pod);
		}
		free(g->endpoints);
		free(g->name);
	}
	free(s->groups);
	for (size_t i = 0; i < s->n_rules; i++) {
		struct sw_proxy_match *m = &s->rules[i].match;
		free(m->header_name);
		free(m->header_value);
		free(m->cookie_name);
		free(m->cookie_value);
		free(m->path_prefix);
		free(m->method);
		free(m->user_agent);
	}
	free(s->rules);
	free(s->sticky_cookie);
	free(s->access_log);
}

void sw_proxy_config_free(struct sw_proxy_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_services; i++)
		service_release(&c->services[i]);
	free(c->services);
	free(c->admin_address);
	free(c);
}

static int check_listeners(struct ctx *c, const struct sw_proxy_config *cfg)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		for (size_t a = 0; a < cfg->services[i].n_listen; a++) {
			const struct sw_proxy_listen *l = &cfg->services[i].listen[a];
			for (size_t j = 0; j <= i; j++)
				for (size_t b = 0; b < (j == i ? a : cfg->services[j].n_listen); b++) {
					const struct sw_proxy_listen *m = &cfg->services[j].listen[b];
					if (l->port == m->port && strcmp(l->address, m->address) == 0) {
						char sub[64];
						snprintf(sub, sizeof(sub), "services[%zu].listen[%zu]", i, a);
						return FAIL(c, sub, "%s:%u is already used by %s", l->address,
							    l->port, cfg->services[j].name);
					}
				}
			if (cfg->admin_address && l->port == cfg->admin_port) {
				char sub[64];
				snprintf(sub, sizeof(sub), "services[%zu].listen[%zu]", i, a);
				return FAIL(c, sub, "port %u is the admin port", l->port);
			}
		}
	return 0;
}

int sw_proxy_config_parse(struct sw_proxy_config **out, const json_t *j, const char *what,
			  sw_error **err)
{
	static const char *const keys[] = {"version", "admin", "services", NULL};
	static const char *const akeys[] = {"address", "port", NULL};
	struct ctx c = {what ? what : "proxy config", err};
	struct sw_proxy_config *cfg = sw_xcalloc(1, sizeof(*cfg));
	json_t *v, *e;
	size_t i;

	if (!json_is_object(j)) {
		FAIL(&c, "(top)", "must be an object");
		goto bad;
	}
	if (only_keys(&c, "(top)", j, keys) < 0)
		goto bad;
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		FAIL(&c, "version", "must be a non-negative integer");
		goto bad;
	}
	cfg->version = json_integer_value(v);
	v = json_object_get(j, "admin");
	if (v && parse_addr_port(&c, "admin", v, &cfg->admin_address, &cfg->admin_port, akeys) < 0)
		goto bad;
	v = json_object_get(j, "services");
	if (!v || !json_is_array(v) || json_array_size(v) > 4096) {
		FAIL(&c, "services", "must be an array (at most 4096)");
		goto bad;
	}
	cfg->services = sw_xcalloc(json_array_size(v) + 1, sizeof(*cfg->services));
	json_array_foreach(v, i, e) {
		char sub[64];
		snprintf(sub, sizeof(sub), "services[%zu]", i);
		cfg->n_services = i + 1;
		if (parse_service(&c, sub, e, &cfg->services[i]) < 0)
			goto bad;
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfg->services[k].name, cfg->services[i].name) == 0) {
				FAIL(&c, sub, "service name \"%s\" is used twice",
				     cfg->services[i].name);
				goto bad;
			}
	}
	if (check_listeners(&c, cfg) < 0)
		goto bad;
	*out = cfg;
	return 0;
bad:
	sw_proxy_config_free(cfg);
	return SW_EINVALID;
}

int sw_proxy_config_load(struct sw_proxy_config **out, const char *path, sw_error **err)
{
	cleanup_json json_t *j = NULL;

	if (sw_json_load_file(&j, path, 16u << 20, err) < 0)
		return sw_error_wrap(err, "proxy config");
	return sw_proxy_config_parse(out, j, path, err);
}

int sw_proxy_config_write(const char *path, const json_t *j, sw_error **err)
{
	struct sw_proxy_config *cfg = NULL;
	cleanup_free char *tmp = NULL, *text = NULL;
	cleanup_close int fd = -1;
	size_t len, off = 0;

	if (sw_proxy_config_parse(&cfg, j, path, err) < 0)
		return SW_EINVALID;
	sw_proxy_config_free(cfg);
	text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return sw_error_set(err, SW_EFAIL, "%s: cannot serialise the configuration", path);
	tmp = sw_xasprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", tmp);
	len = strlen(text);
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			unlink(tmp);
			return sw_error_set_errno(err, e, "write %s", tmp);
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return sw_error_set_errno(err, e, "rename %s to %s", tmp, path);
	}
	return 0;
}
