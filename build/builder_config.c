/*
 * builder_config.c - what metadata instructions do to an image config, as
 * Docker/BuildKit do it (ENTRYPOINT clears an inherited CMD; Healthcheck,
 * Shell and OnBuild as Docker's extension fields in the OCI config), and
 * the history text of every step. Not here: layers, the cache.
 */
#include <ctype.h>
#include <string.h>

#include "builder_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

static json_t *cfg_obj(json_t *config)
{
	json_t *c = json_object_get(config, "config");

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(config, "config", c);
	}
	return c;
}

static json_t *cfg_map(json_t *config, const char *key)
{
	json_t *c = cfg_obj(config), *m = json_object_get(c, key);

	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(c, key, m);
	}
	return m;
}

const char *bcfg_get_string(const json_t *config, const char *key)
{
	return json_string_value(json_object_get(json_object_get(config, "config"), key));
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* exec form as is; shell form: SHELL + [command line] */
static json_t *command_json(const sw_df_step *s)
{
	json_t *a;

	if (s->json)
		return strv_json(s->args, s->nargs);
	a = strv_json(s->shell, s->nshell);
	json_array_append_new(a, json_string(s->nargs ? s->args[0] : ""));
	return a;
}

static void env_set(json_t *config, const char *key, const char *value)
{
	json_t *c = cfg_obj(config), *env = json_object_get(c, "Env");
	size_t klen = strlen(key), i;
	json_t *v;
	cleanup_free char *kv = sw_xasprintf("%s=%s", key, value ? value : "");

	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(c, "Env", env);
	}
	json_array_foreach(env, i, v) {
		const char *e = json_string_value(v);
		if (e && !strncmp(e, key, klen) && e[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static void healthcheck(json_t *config, const sw_df_step *s)
{
	json_t *h = json_object();

	json_object_set_new(h, "Test", strv_json(s->args, s->nargs));
	if (!(s->nargs == 1 && !strcmp(s->args[0], "NONE"))) {
		/* Docker's omitempty: zero durations and retries are left out */
		if (s->interval)
			json_object_set_new(h, "Interval", json_integer(s->interval));
		if (s->timeout)
			json_object_set_new(h, "Timeout", json_integer(s->timeout));
		if (s->start_period)
			json_object_set_new(h, "StartPeriod", json_integer(s->start_period));
		if (s->start_interval)
			json_object_set_new(h, "StartInterval", json_integer(s->start_interval));
		if (s->retries)
			json_object_set_new(h, "Retries", json_integer(s->retries));
	}
	json_object_set_new(cfg_obj(config), "Healthcheck", h);
}

int bcfg_apply(struct bstage *st, const sw_df_step *s, sw_error **err)
{
	json_t *config = st->config, *c = cfg_obj(config);

	switch (s->kind) {
	case SW_DF_ENV:
		for (size_t i = 0; i < s->nkvs; i++)
			env_set(config, s->kvs[i].key, s->kvs[i].value);
		break;
	case SW_DF_LABEL:
		for (size_t i = 0; i < s->nkvs; i++)
			json_object_set_new(cfg_map(config, "Labels"), s->kvs[i].key,
			                    json_string(s->kvs[i].value ? s->kvs[i].value : ""));
		break;
	case SW_DF_EXPOSE:
		for (size_t i = 0; i < s->nargs; i++)
			json_object_set_new(cfg_map(config, "ExposedPorts"), s->args[i], json_object());
		break;
	case SW_DF_VOLUME:
		for (size_t i = 0; i < s->nargs; i++)
			json_object_set_new(cfg_map(config, "Volumes"), s->args[i], json_object());
		break;
	case SW_DF_USER:
		json_object_set_new(c, "User", json_string(s->args[0]));
		break;
	case SW_DF_WORKDIR:
		json_object_set_new(c, "WorkingDir", json_string(s->workdir ? s->workdir : s->args[0]));
		break;
	case SW_DF_CMD:
		json_object_set_new(c, "Cmd", command_json(s));
		st->cmd_set = true;
		break;
	case SW_DF_ENTRYPOINT:
		json_object_set_new(c, "Entrypoint", command_json(s));
		/* Docker: an ENTRYPOINT resets a CMD this stage did not set */
		if (!st->cmd_set)
			json_object_del(c, "Cmd");
		break;
	case SW_DF_HEALTHCHECK:
		healthcheck(config, s);
		break;
	case SW_DF_SHELL:
		json_object_set_new(c, "Shell", strv_json(s->args, s->nargs));
		break;
	case SW_DF_STOPSIGNAL:
		json_object_set_new(c, "StopSignal", json_string(s->args[0]));
		break;
	case SW_DF_ONBUILD: {
		json_t *ob = json_object_get(c, "OnBuild");
		if (!json_is_array(ob)) {
			ob = json_array();
			json_object_set_new(c, "OnBuild", ob);
		}
		json_array_append_new(ob, json_string(s->args[0]));
		break;
	}
	case SW_DF_MAINTAINER:
		json_object_set_new(config, "author", json_string(s->args[0]));
		break;
	case SW_DF_ARG:
		break;
	default:
		return sw_error_set(err, SW_EINVALID, "%s is not a metadata instruction", s->keyword);
	}
	return 0;
}

void bcfg_finish(json_t *config, const sw_df_kv *labels, size_t nlabels)
{
	for (size_t i = 0; i < nlabels; i++)
		json_object_set_new(cfg_map(config, "Labels"), labels[i].key,
		                    json_string(labels[i].value ? labels[i].value : ""));
	/* jansson leaves empty containers alone; Docker writes none */
	json_t *c = cfg_obj(config);
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(c, tmp, k, v) {
		if (json_is_null(v))
			json_object_del(c, k);
	}
}

static void add_words(sw_buf *b, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b->len)
			(void)sw_buf_addc(b, ' ', NULL);
		(void)sw_buf_addstr(b, v[i], NULL);
	}
}

/* RUN's command line with its heredocs, as the shell receives it */
static void run_text(sw_buf *b, const sw_df_step *s)
{
	if (s->json) {
		add_words(b, s->args, s->nargs);
		return;
	}
	add_words(b, s->shell, s->nshell);
	(void)sw_buf_addc(b, ' ', NULL);
	(void)sw_buf_addstr(b, s->nargs ? s->args[0] : "", NULL);
	for (size_t i = 0; i < s->ninlines; i++)
		(void)sw_buf_printf(b, NULL, "\n%s%s", s->inlines[i].data, s->inlines[i].name);
}

static void copy_text(sw_buf *b, const sw_df_step *s)
{
	if (s->from)
		(void)sw_buf_printf(b, NULL, " --from=%s", s->from);
	if (s->chown)
		(void)sw_buf_printf(b, NULL, " --chown=%s", s->chown);
	if (s->chmod)
		(void)sw_buf_printf(b, NULL, " --chmod=%s", s->chmod);
	if (s->link)
		(void)sw_buf_addstr(b, " --link", NULL);
	if (s->parents)
		(void)sw_buf_addstr(b, " --parents", NULL);
	for (size_t i = 0; i < s->nexcludes; i++)
		(void)sw_buf_printf(b, NULL, " --exclude=%s", s->excludes[i]);
	if (s->checksum)
		(void)sw_buf_printf(b, NULL, " --checksum=%s", s->checksum);
	for (size_t i = 0; i < s->ninlines; i++)
		(void)sw_buf_printf(b, NULL, " <<%s", s->inlines[i].name);
	for (size_t i = 0; i < s->nargs; i++)
		(void)sw_buf_printf(b, NULL, " %s", s->args[i]);
}

char *bcfg_created_by(const sw_df_step *s)
{
	sw_buf b = SW_BUF_INIT(0);
	cleanup_free char *j = NULL;

	(void)sw_buf_addstr(&b, s->keyword, NULL);
	switch (s->kind) {
	case SW_DF_RUN:
		run_text(&b, s); /* its words bring their own separating space */
		(void)sw_buf_addstr(&b, " # buildkit", NULL);
		break;
	case SW_DF_COPY:
	case SW_DF_ADD:
		copy_text(&b, s);
		(void)sw_buf_addstr(&b, " # buildkit", NULL);
		break;
	case SW_DF_ARG:
		/* names only: values may be secrets (docker/cli#2473) */
		for (size_t i = 0; i < s->nkvs; i++)
			(void)sw_buf_printf(&b, NULL, " %s", s->kvs[i].key);
		break;
	case SW_DF_ENV:
	case SW_DF_LABEL:
		for (size_t i = 0; i < s->nkvs; i++)
			(void)sw_buf_printf(&b, NULL, " %s=%s", s->kvs[i].key, s->kvs[i].value ? s->kvs[i].value : "");
		break;
	case SW_DF_CMD:
	case SW_DF_ENTRYPOINT:
	case SW_DF_SHELL:
	case SW_DF_HEALTHCHECK: {
		json_t *a = s->kind == SW_DF_SHELL || s->kind == SW_DF_HEALTHCHECK ? strv_json(s->args, s->nargs)
		                                                                   : command_json(s);
		j = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(a);
		(void)sw_buf_printf(&b, NULL, " %s", j ? j : "[]");
		break;
	}
	case SW_DF_WORKDIR:
		(void)sw_buf_printf(&b, NULL, " %s", s->workdir ? s->workdir : s->args[0]);
		break;
	default:
		for (size_t i = 0; i < s->nargs; i++)
			(void)sw_buf_printf(&b, NULL, " %s", s->args[i]);
		break;
	}
	return sw_buf_detach(&b);
}

char *bcfg_display(const sw_df_step *s)
{
	const char *o = s->original ? s->original : s->keyword;
	sw_buf b = SW_BUF_INIT(0);
	bool space = false;

	/* one line: runs of white space (continuations) become one space */
	for (; *o; o++) {
		if (isspace((unsigned char)*o)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			(void)sw_buf_addc(&b, ' ', NULL);
		space = false;
		(void)sw_buf_addc(&b, *o, NULL);
	}
	if (s->onbuild && strncmp(b.data ? b.data : "", "ONBUILD", 7)) {
		cleanup_free char *t = sw_buf_detach(&b);
		return sw_xasprintf("ONBUILD %s", t);
	}
	return sw_buf_detach(&b);
}
