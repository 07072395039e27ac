/*
 * cmd_top_service.c - `slipway top service NAME` (the proxy's figures for
 * one Service: per Service port and backend group, the last 60 s window's
 * rate, success and latency quantiles, and the counters) and
 * `slipway logs service/NAME` (the Service's JSON-lines access log).
 *
 * Both read the state dir of the local daemon: the proxy's admin port is in
 * STATE/proxy/admin-port (GET /stats on 127.0.0.1), the access log is
 * STATE/proxy/logs/NS_NAME.log. They work while slipwayd is down, since
 * the proxy keeps serving without it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_top_service.h"
#include "kube.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"
#include "slipway/statedir.h"

#define STATS_MAX (64u << 20)

bool cli_service_operand(const char *operand, const char **name)
{
	static const char *const prefixes[] = {"service/", "services/", "svc/", NULL};

	for (size_t i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(operand, prefixes[i], n) == 0) {
			*name = operand + n;
			return true;
		}
	}
	return false;
}

static int fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("slipway: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

/* ---- top service --------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *payload)
{
	sw_buf *b = payload;

	if (b->len + size * n > STATS_MAX)
		return 0;
	sw_buf_add(b, data, size * n, NULL);
	return size * n;
}

static int read_admin_port(const char *state_dir, long *port)
{
	cleanup_free char *path = sw_xasprintf("%s/proxy/admin-port", state_dir);
	FILE *f = fopen(path, "re");
	char line[32] = "";
	char *end;

	if (!f)
		return fail_msg("no service proxy in %s (%s missing): is slipwayd running here?", state_dir, path);
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	*port = strtol(line, &end, 10);
	if (end == line || *port <= 0 || *port > 65535)
		return fail_msg("%s: not a port number ('%s')", path, line);
	return 0;
}

static int fetch_stats(long port, json_t **out)
{
	cleanup_free char *url = sw_xasprintf("http://127.0.0.1:%ld/stats", port);
	sw_buf body = SW_BUF_INIT(0);
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURL *c = curl_easy_init();

	if (!c)
		return fail_msg("%s: libcurl failed to start", url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		sw_buf_release(&body);
		return fail_msg("the service proxy's admin endpoint %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (code != 200) {
		sw_buf_release(&body);
		return fail_msg("%s: HTTP status %ld", url, code);
	}
	json_error_t je;
	*out = json_loadb(body.data ? body.data : "", body.len, 0, &je);
	sw_buf_release(&body);
	if (!*out)
		return fail_msg("%s: not JSON (%s)", url, je.text);
	return 0;
}

/* "-" when v is not a number; else v*scale with prec decimals (ms: "%.3g" plus "ms") */
static char *num_cell(const json_t *v, int prec, double scale, bool ms)
{
	if (!json_is_number(v))
		return sw_xstrdup("-");
	if (ms)
		return sw_xasprintf("%.3gms", json_number_value(v) * scale);
	return sw_xasprintf("%.*f", prec, json_number_value(v) * scale);
}

static json_int_t errors_total(const json_t *o)
{
	const char *key;
	json_t *v;
	json_int_t n = 0;

	json_object_foreach(json_object_get(o, "errors"), key, v)
		n += json_integer_value(v);
	return n;
}

/* One row (PORT is the Service port's name or number and the proxy's mode,
 * "http/L7"): PORT GROUP WEIGHT ENDPOINTS RPS SUCCESS% P50 P90 P99 ERRORS ACTIVE MIRRORED */
static json_t *row(const char *port, const char *group, const json_t *weight, const json_t *eps,
                   const json_t *o)
{
	const json_t *w = json_object_get(o, "window");
	json_t *r = json_array();
	cleanup_free char *rps = num_cell(json_object_get(w, "requestsPerSecond"), 1, 1, false);
	cleanup_free char *ok = num_cell(json_object_get(w, "successRate"), 2, 100, false);
	cleanup_free char *p50 = num_cell(json_object_get(w, "p50Ms"), 0, 1, true);
	cleanup_free char *p90 = num_cell(json_object_get(w, "p90Ms"), 0, 1, true);
	cleanup_free char *p99 = num_cell(json_object_get(w, "p99Ms"), 0, 1, true);
	char buf[32];

	json_array_append_new(r, json_string(port));
	json_array_append_new(r, json_string(group));
	if (json_is_integer(weight)) {
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(weight));
		json_array_append_new(r, json_string(buf));
	} else {
		json_array_append_new(r, json_string("-"));
	}
	if (eps) {
		size_t i, ready = 0;
		const json_t *e;
		json_array_foreach(eps, i, e)
			if (!json_is_true(json_object_get(e, "terminating")) && !json_is_true(json_object_get(e, "down")))
				ready++;
		snprintf(buf, sizeof(buf), "%zu/%zu", ready, json_array_size(eps));
		json_array_append_new(r, json_string(buf));
	} else {
		json_array_append_new(r, json_string("-"));
	}
	json_array_append_new(r, json_string(rps));
	json_array_append_new(r, json_string(ok));
	json_array_append_new(r, json_string(p50));
	json_array_append_new(r, json_string(p90));
	json_array_append_new(r, json_string(p99));
	snprintf(buf, sizeof(buf), "%lld", (long long)errors_total(o));
	json_array_append_new(r, json_string(buf));
	snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(json_object_get(o, "activeConnections")));
	json_array_append_new(r, json_string(buf));
	snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(json_object_get(json_object_get(o, "mirror"), "requests")));
	json_array_append_new(r, json_string(buf));
	return r;
}

int cli_top_service(const char *state_dir_flag, const char *ns, const char *name, const char *output,
                    bool no_headers)
{
	cleanup_free char *state_dir = NULL;
	cleanup_json json_t *stats = NULL;
	sw_error *err = NULL;
	long port = 0;

	if (!ns)
		ns = "default";
	if (sw_statedir_resolve(&state_dir, state_dir_flag, &err) < 0)
		return cli_fail(err);
	if (read_admin_port(state_dir, &port) != 0 || fetch_stats(port, &stats) != 0)
		return EXIT_FAIL;

	/* the proxy names a Service port "NS/NAME:PORTNAME" or "NS/NAME:PORT" */
	cleanup_free char *prefix = sw_xasprintf("%s/%s:", ns, name);
	cleanup_json json_t *mine = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(stats, "services"), i, s) {
		const char *sn = json_string_value(json_object_get(s, "name"));
		if (sn && strncmp(sn, prefix, strlen(prefix)) == 0)
			json_array_append(mine, s);
	}
	if (!json_array_size(mine))
		return fail_msg("service \"%s\" is not served by the proxy (namespace %s: no such Service, or no ports)",
		                name, ns);
	if (output && !strcmp(output, "json")) {
		cleanup_json json_t *o = json_pack("{s:s,s:s,s:O}", "namespace", ns, "name", name, "services", mine);
		cleanup_free char *text = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		puts(text);
		return EXIT_OK;
	}
	sw_table *t = sw_table_new(json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "PORT", "GROUP", "WEIGHT", "ENDPOINTS",
	                                     "RPS", "SUCCESS%", "P50", "P90", "P99", "ERRORS", "ACTIVE",
	                                     "MIRRORED"));
	json_array_foreach(mine, i, s) {
		const char *sn = json_string_value(json_object_get(s, "name")) + strlen(prefix);
		const char *mode = json_string_value(json_object_get(s, "mode"));
		cleanup_free char *label = sw_xasprintf("%s/%s", sn, mode && !strcmp(mode, "http") ? "L7" : "L4");
		size_t g;
		json_t *gj;
		sw_table_add(t, row(label, "(all)", NULL, NULL, s));
		json_array_foreach(json_object_get(s, "groups"), g, gj)
			sw_table_add(t, row(label, json_string_value(json_object_get(gj, "name")) ?: "?",
			                    json_object_get(gj, "weight"), json_object_get(gj, "endpoints"), gj));
	}
	sw_table_print(t, stdout, no_headers);
	sw_table_free(t);
	return EXIT_OK;
}

/* ---- logs service/NAME ----------------------------------------------------- */

/* Why there is no log file: the annotation is not set (or the Service does
 * not exist), asked of the daemon when it answers. */
static int no_log(const char *state_dir_flag, const char *ns, const char *name, const char *path, bool *set)
{
	struct kube k;
	sw_error *err = NULL;
	cleanup_json json_t *svc = NULL;
	int rc;

	if (kube_open(&k, state_dir_flag, ns, &err) < 0) {
		sw_error_free(err);
		return fail_msg("no access log at %s (set the annotation slipway.dev/access-log: \"true\" on service %s)",
		                path, name);
	}
	rc = kube_get(&k, sw_kind_lookup("services"), ns, name, &svc, &err);
	kube_close(&k);
	if (rc < 0)
		return kube_fail(err);
	const char *al = sw_obj_annotation(svc, "slipway.dev/access-log");
	if (!al || strcmp(al, "true"))
		return fail_msg("service \"%s\" keeps no access log: set its annotation slipway.dev/access-log: \"true\" "
		                "(then each request is logged as a JSON line)", name);
	*set = true; /* set, but nothing logged yet */
	return EXIT_OK;
}

static void print_tail(FILE *f, long tail)
{
	char buf[65536];
	size_t n;

	if (tail >= 0) {
		/* the offset of the last tail lines: scan the whole file once */
		off_t *ring = sw_xcalloc((size_t)tail + 1, sizeof(*ring));
		size_t count = 0;
		off_t pos = 0;
		bool at_start = true;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			for (size_t i = 0; i < n; i++) {
				if (at_start) {
					ring[count % ((size_t)tail + 1)] = pos + (off_t)i;
					count++;
					at_start = false;
				}
				if (buf[i] == '\n')
					at_start = true;
			}
			pos += (off_t)n;
		}
		off_t start = pos;
		if (tail > 0)
			start = count > (size_t)tail ? ring[(count - (size_t)tail) % ((size_t)tail + 1)] : 0;
		free(ring);
		fseeko(f, start, SEEK_SET);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fflush(stdout);
}

int cli_logs_service(const char *state_dir_flag, const char *ns, const char *name, long tail, bool follow)
{
	cleanup_free char *state_dir = NULL;
	sw_error *err = NULL;

	if (!ns)
		ns = "default";
	if (sw_statedir_resolve(&state_dir, state_dir_flag, &err) < 0)
		return cli_fail(err);
	cleanup_free char *path = sw_xasprintf("%s/proxy/logs/%s_%s.log", state_dir, ns, name);
	FILE *f = fopen(path, "re");
	if (!f) {
		bool set = false;
		int rc = no_log(state_dir_flag, ns, name, path, &set);
		if (!set)
			return rc;
		if (!follow) {
			fprintf(stderr, "no requests logged yet for service %s/%s (%s)\n", ns, name, path);
			return EXIT_OK;
		}
		while (!(f = fopen(path, "re")))
			usleep(200 * 1000);
		tail = -1;
	}
	print_tail(f, tail);
	if (!follow) {
		fclose(f);
		return EXIT_OK;
	}
	struct stat st0, st;
	fstat(fileno(f), &st0);
	for (;;) {
		char buf[65536];
		size_t n = fread(buf, 1, sizeof(buf), f);
		if (n > 0) {
			fwrite(buf, 1, n, stdout);
			fflush(stdout);
			if (ferror(stdout))
				break;
			continue;
		}
		clearerr(f);
		usleep(200 * 1000);
		/* replaced (rotated) or truncated: start over from the new file */
		if (stat(path, &st) == 0 && (st.st_ino != st0.st_ino || st.st_size < ftello(f))) {
			FILE *nf = fopen(path, "re");
			if (nf) {
				fclose(f);
				f = nf;
				fstat(fileno(f), &st0);
			}
		}
	}
	fclose(f);
	return EXIT_OK;
}
