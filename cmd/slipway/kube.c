/*
 * kube.c - helpers shared by the verbs that talk to slipwayd (kube.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"
#include "slipway/statedir.h"

int kube_open(struct kube *k, const char *state_dir_flag, const char *ns, sw_error **err)
{
	int ret;

	*k = (struct kube){ .ns = ns && *ns ? ns : "default", .ns_given = ns && *ns };
	if ((ret = sw_statedir_resolve(&k->state_dir, state_dir_flag, err)) < 0)
		return ret;
	if ((ret = sw_client_open(&k->client, k->state_dir, err)) < 0) {
		free(k->state_dir);
		k->state_dir = NULL;
		return ret;
	}
	return 0;
}

void kube_close(struct kube *k)
{
	sw_client_free(k->client);
	free(k->state_dir);
	k->client = NULL;
	k->state_dir = NULL;
}

int kube_fail(sw_error *err)
{
	cleanup_free char *msg = sw_error_string(err);

	if (sw_log_get_format() == SW_LOG_JSON) {
		sw_log_error(err, "failed");
	} else if (!strncmp(msg, "Error from server", 17) || !strncmp(msg, "error: ", 7) ||
	           !strncmp(msg, "The ", 4)) {
		fprintf(stderr, "%s\n", msg);
	} else {
		fprintf(stderr, "slipway: error: %s\n", msg);
	}
	sw_error_free(err);
	return EXIT_FAIL;
}

int kube_kind(const sw_kind **out, const char *name, sw_error **err)
{
	if (!(*out = sw_kind_lookup(name)))
		return sw_error_set(err, SW_EINVALID, "error: the server doesn't have a resource type \"%s\"", name);
	return 0;
}

int kube_kind_name(const sw_kind **kind, const char **name, const char *operand, const char *def_kind,
                   sw_error **err)
{
	const char *slash = strchr(operand, '/');

	if (!slash) {
		if (!def_kind)
			return sw_error_set(err, SW_EINVALID, "error: expected TYPE/NAME, got \"%s\"", operand);
		*name = operand;
		return kube_kind(kind, def_kind, err);
	}
	cleanup_free char *type = sw_xstrndup(operand, (size_t)(slash - operand));
	if (!slash[1])
		return sw_error_set(err, SW_EINVALID, "error: \"%s\": missing the name after '/'", operand);
	*name = slash + 1;
	return kube_kind(kind, type, err);
}

int kube_get(struct kube *k, const sw_kind *kind, const char *ns, const char *name, json_t **out,
             sw_error **err)
{
	cleanup_free char *path = sw_client_path(kind, ns, name, NULL);
	int ret = sw_client_request(k->client, "GET", path, NULL, out, err);

	if (ret == 0 && !*out)
		return sw_error_set(err, SW_EFAIL, "GET %s: empty answer", path);
	return ret;
}

int kube_list(struct kube *k, const sw_kind *kind, const char *ns, const char *query, json_t **items, char **rv,
              sw_error **err)
{
	cleanup_free char *base = sw_client_path(kind, ns, NULL, NULL);
	cleanup_free char *path = query && *query ? sw_xasprintf("%s?%s", base, query) : sw_xstrdup(base);
	cleanup_json json_t *list = NULL;
	int ret;

	if ((ret = sw_client_request(k->client, "GET", path, NULL, &list, err)) < 0)
		return ret;
	if (!json_is_array(json_object_get(list, "items"))) {
		*items = json_array();
	} else {
		*items = json_incref(json_object_get(list, "items"));
	}
	if (rv) {
		const char *v = sw_obj_str(list, "metadata.resourceVersion");
		*rv = v ? sw_xstrdup(v) : NULL;
	}
	/* lists carry items without apiVersion/kind: fill them in for printing */
	json_t *it;
	size_t i;
	json_array_foreach(*items, i, it) {
		if (!json_object_get(it, "apiVersion"))
			json_object_set_new(it, "apiVersion", json_string(kind->api_version));
		if (!json_object_get(it, "kind"))
			json_object_set_new(it, "kind", json_string(kind->kind));
	}
	return 0;
}

bool kube_output_valid(const char *o)
{
	static const char *const ok[] = { "", "table", "wide", "json", "yaml", "name", NULL };

	for (size_t i = 0; ok[i]; i++)
		if (!strcmp(o, ok[i]))
			return true;
	return false;
}

int kube_print_object(const sw_kind *kind, const json_t *obj, const char *output, sw_error **err)
{
	if (!strcmp(output, "json")) {
		/* kubectl prints maps: keys sorted */
		json_dumpf(obj, stdout, JSON_INDENT(4) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (!strcmp(output, "yaml")) {
		return sw_print_yamlf(stdout, obj, err);
	} else if (!strcmp(output, "name")) {
		cleanup_free char *n = sw_object_name_ref(kind, obj);
		printf("%s\n", n);
	}
	return 0;
}

json_t *kube_list_object(const json_t *items)
{
	return json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", items, "kind", "List", "metadata",
	                 "resourceVersion", "");
}

long kube_parse_duration_ms(const char *s)
{
	double total = 0;
	const char *p = s;

	if (!*s)
		return -1;
	if (strspn(s, "0123456789") == strlen(s))
		return strtol(s, NULL, 10) * 1000;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			total += v / 1000;
			p += 2;
		} else if (*p == 's') {
			total += v;
			p++;
		} else if (*p == 'm') {
			total += v * 60;
			p++;
		} else if (*p == 'h') {
			total += v * 3600;
			p++;
		} else {
			return -1;
		}
	}
	if (total > 1e9)
		return -1;
	return (long)(total * 1000);
}

static int cmp_event_time(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	const char *tx = sw_obj_str(x, "lastTimestamp") ?: sw_obj_str(x, "firstTimestamp") ?: "";
	const char *ty = sw_obj_str(y, "lastTimestamp") ?: sw_obj_str(y, "firstTimestamp") ?: "";
	return strcmp(tx, ty);
}

int kube_events_for(struct kube *k, const char *ns, const char *uid, json_t **out, sw_error **err)
{
	cleanup_json json_t *items = NULL;
	const sw_kind *ev = sw_kind_lookup("events");
	json_t *e;
	size_t i, n = 0;
	int ret;

	if ((ret = kube_list(k, ev, ns, NULL, &items, NULL, err)) < 0)
		return ret;
	const json_t **v = sw_xcalloc(json_array_size(items) + 1, sizeof(*v));
	json_array_foreach(items, i, e) {
		const char *u = sw_obj_str(e, "involvedObject.uid");
		if (!uid || (u && !strcmp(u, uid)))
			v[n++] = e;
	}
	qsort(v, n, sizeof(*v), cmp_event_time);
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append(*out, (json_t *)v[i]);
	free(v);
	return 0;
}
