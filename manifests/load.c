/*
 * load.c - files and folders of manifests -> defaulted objects, all or
 * nothing: every document of every file is parsed, slipway.yaml expanded,
 * each object validated and defaulted; any error and nothing is returned.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/path.h"

static void validate_doc(const char *file, sw_ydoc *doc, const sw_manifest_opts *opts, json_t *out,
                         sw_diags *d)
{
	sw_vctx c = { .d = d, .file = file, .pos = doc->pos, .line = doc->line, .col = doc->col };

	sw_fpath_reset(&c.path);
	const char *kind = json_string_value(json_object_get(doc->root, "kind"));
	const char *av = json_string_value(json_object_get(doc->root, "apiVersion"));
	json_t *items = json_object_get(doc->root, "items");
	if (kind && av && !strcmp(kind, "List") && !strcmp(av, "v1") && json_is_array(items)) {
		/* `kubectl get -o yaml` output: each item is an object of its own */
		size_t i;
		json_t *o;
		json_array_foreach(items, i, o) {
			sw_fpath_reset(&c.path);
			sw_fpath_push_key(&c.path, "items");
			sw_fpath_push_index(&c.path, i);
			if (!json_is_object(o)) {
				sw_verr(&c, "must be an object");
				continue;
			}
			sw_validate_object(&c, o);
			json_array_append(out, o);
		}
		return;
	}
	if (!sw_app_is_app(file, doc->root)) {
		sw_validate_object(&c, doc->root);
		json_array_append(out, doc->root);
		return;
	}
	json_t *objs = json_array();
	sw_app_expand(&c, doc->root, opts, objs);
	if (!c.errors) {
		/* the expanded objects have no positions of their own: their
		 * problems are reported at the App document */
		size_t i;
		json_t *o;
		json_array_foreach(objs, i, o) {
			sw_vctx oc = { .d = d, .file = file, .line = doc->line, .col = doc->col, .from_app = true };
			sw_fpath_reset(&oc.path);
			sw_validate_object(&oc, o);
			json_array_append(out, o);
		}
	}
	json_decref(objs);
}

/* The same kind, namespace and name twice would make an apply ambiguous. */
static void check_duplicates(json_t *objects, size_t from, const char *file, sw_diags *d)
{
	json_t *seen = json_object();
	size_t i;
	json_t *o;

	json_array_foreach(objects, i, o) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
		const char *ns = json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace"));
		if (!kind || !name)
			continue;
		char *key = sw_xasprintf("%s/%s/%s", kind, ns ? ns : "", name);
		if (json_object_get(seen, key) && i >= from)
			sw_diags_add(d, SW_DIAG_ERROR, file, 0, 0, NULL, "%s \"%s\" is defined more than once", kind, name);
		json_object_set_new(seen, key, json_true());
		free(key);
	}
	json_decref(seen);
}

static int load_buf_into(const char *name, const char *data, size_t len, const sw_manifest_opts *opts,
                         json_t *out, sw_diags *d)
{
	sw_ydoc *docs;
	size_t n;
	size_t before = d->errors;

	if (sw_yaml_load_docs(name, data, len, &docs, &n, d) < 0)
		return SW_EINVALID;
	for (size_t i = 0; i < n; i++)
		validate_doc(name, &docs[i], opts, out, d);
	sw_ydocs_free(docs, n);
	return d->errors > before ? SW_EINVALID : 0;
}

static int finish(json_t *out, size_t before, sw_diags *d, json_t **objects)
{
	if (d->errors > before) {
		json_decref(out);
		return SW_EINVALID;
	}
	*objects = out;
	return 0;
}

int sw_manifest_load_buf_opts(const char *name, const char *data, size_t len,
                              const sw_manifest_opts *opts, json_t **objects, sw_diags *d,
                              sw_error **err)
{
	json_t *out = json_array();
	size_t before = d->errors;

	(void)err;
	*objects = NULL;
	load_buf_into(name, data, len, opts, out, d);
	check_duplicates(out, 0, name, d);
	return finish(out, before, d, objects);
}

int sw_manifest_load_buf(const char *name, const char *data, size_t len, json_t **objects,
                         sw_diags *d, sw_error **err)
{
	return sw_manifest_load_buf_opts(name, data, len, NULL, objects, d, err);
}

static int read_stdin(char **out, size_t *len, sw_error **err)
{
	sw_buf b = SW_BUF_INIT(SW_MANIFEST_MAX_FILE);
	char tmp[65536];
	ssize_t n;

	while ((n = read(STDIN_FILENO, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sw_buf_release(&b);
			return sw_error_set_errno(err, errno, "reading standard input");
		}
		if (sw_buf_add(&b, tmp, (size_t)n, err) < 0) {
			sw_buf_release(&b);
			return sw_error_wrap(err, "standard input");
		}
	}
	*len = b.len;
	*out = sw_buf_detach(&b);
	return 0;
}

static int load_file_into(const char *path, const sw_manifest_opts *opts, json_t *out, sw_diags *d,
                          sw_error **err)
{
	cleanup_free char *data = NULL;
	size_t len;
	int r;

	if (!strcmp(path, "-"))
		r = read_stdin(&data, &len, err);
	else
		r = sw_read_file(&data, &len, path, SW_MANIFEST_MAX_FILE, err);
	if (r < 0)
		return r;
	load_buf_into(strcmp(path, "-") ? path : "<stdin>", data, len, opts, out, d);
	return 0;
}

static bool manifest_name(const char *n)
{
	size_t len = strlen(n);
	if (n[0] == '.')
		return false;
	return (len > 5 && !strcmp(n + len - 5, ".yaml")) || (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".json"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir_into(const char *dir, const sw_manifest_opts *opts, json_t *out, sw_diags *d,
                         sw_error **err)
{
	cleanup_dir DIR *dh = opendir(dir);
	struct dirent *e;
	cleanup_strv char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (!dh)
		return sw_error_set_errno(err, errno, "open %s", dir);
	while ((e = readdir(dh)) != NULL) {
		if (!manifest_name(e->d_name))
			continue;
		names = sw_xreallocarray(names, n + 2, sizeof(*names));
		names[n++] = sw_xstrdup(e->d_name);
		names[n] = NULL;
	}
	if (n == 0)
		return sw_error_set(err, SW_ENOTFOUND, "%s: no *.yaml, *.yml or *.json files", dir);
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && r == 0; i++) {
		cleanup_free char *p = sw_xasprintf("%s/%s", dir, names[i]);
		struct stat st;
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		r = load_file_into(p, opts, out, d, err);
	}
	return r;
}

int sw_manifest_load_file(const char *path, json_t **objects, sw_diags *d, sw_error **err)
{
	json_t *out = json_array();
	size_t before = d->errors;
	int r;

	*objects = NULL;
	if ((r = load_file_into(path, NULL, out, d, err)) < 0) {
		json_decref(out);
		return r;
	}
	check_duplicates(out, 0, path, d);
	return finish(out, before, d, objects);
}

int sw_manifest_load_dir(const char *dir, json_t **objects, sw_diags *d, sw_error **err)
{
	json_t *out = json_array();
	size_t before = d->errors;
	int r;

	*objects = NULL;
	if ((r = load_dir_into(dir, NULL, out, d, err)) < 0) {
		json_decref(out);
		return r;
	}
	check_duplicates(out, 0, dir, d);
	return finish(out, before, d, objects);
}

int sw_manifest_load_path_opts(const char *path, const sw_manifest_opts *opts,
                               json_t **objects, sw_diags *d, sw_error **err)
{
	json_t *out = json_array();
	size_t before = d->errors;
	struct stat st;
	int r;

	*objects = NULL;
	if (strcmp(path, "-") && stat(path, &st) < 0) {
		json_decref(out);
		return sw_error_set_errno(err, errno, "%s", path);
	}
	if (strcmp(path, "-") && S_ISDIR(st.st_mode))
		r = load_dir_into(path, opts, out, d, err);
	else
		r = load_file_into(path, opts, out, d, err);
	if (r < 0) {
		json_decref(out);
		return r;
	}
	check_duplicates(out, 0, path, d);
	return finish(out, before, d, objects);
}

int sw_manifest_load_path(const char *path, json_t **objects, sw_diags *d, sw_error **err)
{
	return sw_manifest_load_path_opts(path, NULL, objects, d, err);
}

json_t *sw_manifest_list(const json_t *items)
{
	return json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", (json_t *)items, "kind", "List",
	                 "metadata", "resourceVersion", "");
}
