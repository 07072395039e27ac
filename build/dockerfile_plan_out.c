/*
 * dockerfile_plan_out.c - a plan as readable text and as JSON (the forms of
 * `slipway dockerfile plan`; the text form is described in its --help).
 * Only formatting here; every decision was made in dockerfile_plan.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dockerfile_instr.h"
#include "dockerfile_plan_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"

/* ------------------------------------------------------------- text */

/* A JSON string literal: what the text form uses for every value. */
static void q(sw_buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	if (!t) {
		/* not UTF-8: bytes outside ASCII as \u00XX, as Latin-1 */
		(void)sw_buf_addc(b, '"', NULL);
		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			if (*p == '"' || *p == '\\')
				(void)sw_buf_printf(b, NULL, "\\%c", *p);
			else if (*p < 0x20 || *p >= 0x7f)
				(void)sw_buf_printf(b, NULL, "\\u%04x", *p);
			else
				(void)sw_buf_addc(b, (char)*p, NULL);
		}
		(void)sw_buf_addc(b, '"', NULL);
	} else {
		(void)sw_buf_addstr(b, t, NULL);
	}
	free(t);
	json_decref(j);
}

static void qlist(sw_buf *b, char *const *v, size_t n)
{
	(void)sw_buf_addc(b, '[', NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			(void)sw_buf_addc(b, ',', NULL);
		q(b, v[i]);
	}
	(void)sw_buf_addc(b, ']', NULL);
}

static const char *stage_label(const sw_df_plan *p, size_t index)
{
	const sw_df_stage *s = sw_df_plan_stage(p, index);
	return s ? s->display : "?";
}

static void text_ref(sw_buf *b, const sw_df_plan *p, sw_df_ref_kind k, size_t stage, const char *ref)
{
	if (k == SW_DF_REF_STAGE) {
		(void)sw_buf_printf(b, NULL, "stage %zu (%s)", stage, stage_label(p, stage));
	} else {
		(void)sw_buf_addstr(b, "image ", NULL);
		q(b, ref);
	}
}

static void text_kvs(sw_buf *b, const sw_df_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		(void)sw_buf_printf(b, NULL, " %s", kv[i].key);
		if (kv[i].value) {
			(void)sw_buf_addc(b, '=', NULL);
			q(b, kv[i].value);
		}
	}
}

static void text_command(sw_buf *b, const sw_df_step *s)
{
	if (s->json) {
		(void)sw_buf_addstr(b, " exec ", NULL);
		qlist(b, s->args, s->nargs);
		return;
	}
	(void)sw_buf_addstr(b, " shell ", NULL);
	qlist(b, s->shell, s->nshell);
	(void)sw_buf_addc(b, ' ', NULL);
	q(b, s->nargs ? s->args[0] : "");
}

static const char *const mount_types[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
static const char *const sharings[] = { "shared", "private", "locked" };

static void text_mount(sw_buf *b, const sw_df_plan *p, const sw_df_mount *m)
{
	(void)sw_buf_printf(b, NULL, "      mount type=%s target=", mount_types[m->type]);
	q(b, m->target_abs);
	if (*m->source) {
		(void)sw_buf_addstr(b, " source=", NULL);
		q(b, m->source);
	}
	if (*m->from) {
		(void)sw_buf_addstr(b, " from=", NULL);
		text_ref(b, p, m->from_kind, m->from_stage, m->from);
	}
	if (m->id && *m->id) {
		(void)sw_buf_addstr(b, " id=", NULL);
		q(b, m->id);
	}
	if (m->type == SW_DF_MOUNT_CACHE)
		(void)sw_buf_printf(b, NULL, " sharing=%s", sharings[m->sharing]);
	if (m->type != SW_DF_MOUNT_SECRET && m->type != SW_DF_MOUNT_SSH)
		(void)sw_buf_addstr(b, m->readonly ? " ro" : " rw", NULL);
	if (m->type == SW_DF_MOUNT_SECRET || m->type == SW_DF_MOUNT_SSH)
		(void)sw_buf_addstr(b, m->required ? " required" : " optional", NULL);
	if (m->env) {
		(void)sw_buf_addstr(b, " env=", NULL);
		q(b, m->env);
	}
	if (m->has_mode)
		(void)sw_buf_printf(b, NULL, " mode=0%o", m->mode);
	if (m->has_uid)
		(void)sw_buf_printf(b, NULL, " uid=%u", m->uid);
	if (m->has_gid)
		(void)sw_buf_printf(b, NULL, " gid=%u", m->gid);
	if (m->size)
		(void)sw_buf_printf(b, NULL, " size=%" PRId64, m->size);
	(void)sw_buf_addc(b, '\n', NULL);
}

static void text_inlines(sw_buf *b, const sw_df_step *s)
{
	for (size_t i = 0; i < s->ninlines; i++) {
		(void)sw_buf_printf(b, NULL, "      heredoc %s%s ", s->inlines[i].chomp ? "-" : "",
		                    s->inlines[i].name);
		q(b, s->inlines[i].data);
		(void)sw_buf_addc(b, '\n', NULL);
	}
}

/* RUN: the variables this Dockerfile set (ENV and ARG), not the base's. */
static void text_env(sw_buf *b, const sw_df_step *s)
{
	for (int pass = 0; pass < 2; pass++) {
		bool any = false;
		for (size_t i = 0; i < s->nenv; i++) {
			uint8_t f = s->env_flags[i];
			if (f & SW_DF_ENV_IMAGE || (pass == 0) != !(f & SW_DF_ENV_ARG))
				continue;
			if (!any)
				(void)sw_buf_addstr(b, pass == 0 ? "      env" : "      arg", NULL);
			any = true;
			(void)sw_buf_printf(b, NULL, " %s=", s->env[i].key);
			q(b, s->env[i].value);
		}
		if (any)
			(void)sw_buf_addc(b, '\n', NULL);
	}
}

static void text_duration(sw_buf *b, const char *name, int64_t ns)
{
	if (!ns)
		return;
	cleanup_free char *d = df_format_duration(ns);
	(void)sw_buf_printf(b, NULL, " %s=%s", name, d);
}

static void text_step(sw_buf *b, const sw_df_plan *p, const sw_df_step *s)
{
	(void)sw_buf_printf(b, NULL, "  %d %s%s", s->line, s->onbuild ? "(onbuild) " : "", s->keyword);
	switch (s->kind) {
	case SW_DF_ARG:
	case SW_DF_ENV:
	case SW_DF_LABEL:
		text_kvs(b, s->kvs, s->nkvs);
		break;
	case SW_DF_RUN:
	case SW_DF_CMD:
	case SW_DF_ENTRYPOINT:
		text_command(b, s);
		if (s->kind == SW_DF_RUN && s->network && strcmp(s->network, "default"))
			(void)sw_buf_printf(b, NULL, " network=%s", s->network);
		if (s->kind == SW_DF_RUN && s->security && strcmp(s->security, "sandbox"))
			(void)sw_buf_printf(b, NULL, " security=%s", s->security);
		break;
	case SW_DF_COPY:
	case SW_DF_ADD:
		if (s->from) {
			(void)sw_buf_addstr(b, " --from=", NULL);
			text_ref(b, p, s->from_kind, s->from_stage, s->from);
		}
		if (s->chown) {
			(void)sw_buf_addstr(b, " --chown=", NULL);
			q(b, s->chown);
		}
		if (s->chmod) {
			(void)sw_buf_addstr(b, " --chmod=", NULL);
			q(b, s->chmod);
		}
		if (s->link)
			(void)sw_buf_addstr(b, " --link", NULL);
		if (s->parents)
			(void)sw_buf_addstr(b, " --parents", NULL);
		for (size_t i = 0; i < s->nexcludes; i++) {
			(void)sw_buf_addstr(b, " --exclude=", NULL);
			q(b, s->excludes[i]);
		}
		if (s->checksum) {
			(void)sw_buf_addstr(b, " --checksum=", NULL);
			q(b, s->checksum);
		}
		if (s->keep_git_dir)
			(void)sw_buf_addstr(b, " --keep-git-dir", NULL);
		if (s->unpack >= 0)
			(void)sw_buf_printf(b, NULL, " --unpack=%s", s->unpack ? "true" : "false");
		(void)sw_buf_addc(b, ' ', NULL);
		qlist(b, s->args, s->nargs - 1);
		(void)sw_buf_addc(b, ' ', NULL);
		q(b, s->args[s->nargs - 1]);
		break;
	case SW_DF_EXPOSE:
	case SW_DF_VOLUME:
	case SW_DF_SHELL:
		(void)sw_buf_addc(b, ' ', NULL);
		qlist(b, s->args, s->nargs);
		break;
	case SW_DF_HEALTHCHECK:
		(void)sw_buf_addc(b, ' ', NULL);
		qlist(b, s->args, s->nargs);
		text_duration(b, "interval", s->interval);
		text_duration(b, "timeout", s->timeout);
		text_duration(b, "start-period", s->start_period);
		text_duration(b, "start-interval", s->start_interval);
		if (s->retries)
			(void)sw_buf_printf(b, NULL, " retries=%d", s->retries);
		break;
	case SW_DF_WORKDIR:
		(void)sw_buf_addc(b, ' ', NULL);
		q(b, s->args[0]);
		(void)sw_buf_addstr(b, " -> ", NULL);
		q(b, s->workdir);
		break;
	case SW_DF_USER:
	case SW_DF_STOPSIGNAL:
	case SW_DF_MAINTAINER:
	case SW_DF_ONBUILD:
		(void)sw_buf_addc(b, ' ', NULL);
		q(b, s->nargs ? s->args[0] : "");
		break;
	}
	(void)sw_buf_addc(b, '\n', NULL);
	for (size_t i = 0; i < s->nmounts; i++)
		text_mount(b, p, &s->mounts[i]);
	text_inlines(b, s);
	if (s->kind == SW_DF_RUN)
		text_env(b, s);
}

char *sw_df_plan_text(const sw_df_plan *p)
{
	sw_buf b = SW_BUF_INIT(0);

	(void)sw_buf_printf(&b, NULL, "target: %zu %s\n", p->target, stage_label(p, p->target));
	for (size_t i = 0; i < p->nstages; i++) {
		const sw_df_stage *s = &p->stages[i];
		(void)sw_buf_printf(&b, NULL, "\nstage %zu %s: FROM ", s->index, s->display);
		switch (s->base_kind) {
		case SW_DF_BASE_IMAGE:
			(void)sw_buf_addstr(&b, "image ", NULL);
			q(&b, s->base);
			break;
		case SW_DF_BASE_STAGE:
			(void)sw_buf_printf(&b, NULL, "stage %zu (%s)", s->base_stage, stage_label(p, s->base_stage));
			break;
		case SW_DF_BASE_SCRATCH:
			(void)sw_buf_addstr(&b, "scratch", NULL);
			break;
		}
		/* the host's platform is left out unless asked for, so the text
		 * is the same on every machine */
		if (s->platform_explicit || p->target_platform_given)
			(void)sw_buf_printf(&b, NULL, " platform %s", s->platform);
		(void)sw_buf_addc(&b, '\n', NULL);
		for (size_t k = 0; k < s->nsteps; k++)
			text_step(&b, p, &s->steps[k]);
	}
	return sw_buf_detach(&b);
}

/* ------------------------------------------------------------- JSON */

static json_t *jstrs(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* json_string refuses invalid UTF-8; such bytes are kept as U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	sw_buf b = SW_BUF_INIT(0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			(void)sw_buf_addc(&b, (char)*p, NULL);
		else
			(void)sw_buf_addstr(&b, "\xef\xbf\xbd", NULL);
	}
	j = json_string(b.data ? b.data : "");
	sw_buf_release(&b);
	return j ? j : json_string("");
}

static json_t *jref(sw_df_ref_kind k, size_t stage, const char *ref)
{
	if (k == SW_DF_REF_STAGE)
		return json_pack("{s:s, s:I}", "kind", "stage", "index", (json_int_t)stage);
	if (k == SW_DF_REF_IMAGE)
		return json_pack("{s:s, s:o}", "kind", "image", "ref", jstr(ref));
	return json_null();
}

static json_t *jmount(const sw_df_mount *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(mount_types[m->type]));
	json_object_set_new(o, "target", jstr(m->target));
	json_object_set_new(o, "target_abs", jstr(m->target_abs));
	json_object_set_new(o, "source", jstr(m->source));
	json_object_set_new(o, "from", *m->from ? jref(m->from_kind, m->from_stage, m->from) : json_null());
	json_object_set_new(o, "id", jstr(m->id ? m->id : ""));
	json_object_set_new(o, "readonly", json_boolean(m->readonly));
	json_object_set_new(o, "required", json_boolean(m->required));
	json_object_set_new(o, "sharing", json_string(sharings[m->sharing]));
	json_object_set_new(o, "env", m->env ? jstr(m->env) : json_null());
	json_object_set_new(o, "mode", m->has_mode ? json_integer(m->mode) : json_null());
	json_object_set_new(o, "uid", m->has_uid ? json_integer(m->uid) : json_null());
	json_object_set_new(o, "gid", m->has_gid ? json_integer(m->gid) : json_null());
	json_object_set_new(o, "size", json_integer(m->size));
	return o;
}

static json_t *jstep(const sw_df_step *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "line", json_integer(s->line));
	json_object_set_new(o, "end_line", json_integer(s->end_line));
	json_object_set_new(o, "keyword", json_string(s->keyword));
	json_object_set_new(o, "onbuild", json_boolean(s->onbuild));
	json_object_set_new(o, "original", jstr(s->original));
	if (s->nargs || s->kind != SW_DF_ARG)
		json_object_set_new(o, "args", jstrs(s->args, s->nargs));
	if (s->kind == SW_DF_RUN || s->kind == SW_DF_CMD || s->kind == SW_DF_ENTRYPOINT ||
	    s->kind == SW_DF_HEALTHCHECK) {
		json_object_set_new(o, "json", json_boolean(s->json));
		if (s->kind != SW_DF_HEALTHCHECK)
			json_object_set_new(o, "shell", jstrs(s->shell, s->nshell));
	}
	if (s->kind == SW_DF_ARG || s->kind == SW_DF_ENV || s->kind == SW_DF_LABEL) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->nkvs; i++)
			json_array_append_new(a, json_pack("{s:o, s:o}", "key", jstr(s->kvs[i].key), "value",
			                                   s->kvs[i].value ? jstr(s->kvs[i].value) : json_null()));
		json_object_set_new(o, "kvs", a);
	}
	if (s->ninlines) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->ninlines; i++)
			json_array_append_new(a, json_pack("{s:o, s:o, s:b}", "name", jstr(s->inlines[i].name), "data",
			                                   jstr(s->inlines[i].data), "chomp", s->inlines[i].chomp));
		json_object_set_new(o, "heredocs", a);
	}
	if (s->kind == SW_DF_RUN) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->nmounts; i++)
			json_array_append_new(a, jmount(&s->mounts[i]));
		json_object_set_new(o, "mounts", a);
		json_object_set_new(o, "network", json_string(s->network));
		json_object_set_new(o, "security", json_string(s->security));
		json_t *env = json_object(), *args = json_array();
		for (size_t i = 0; i < s->nenv; i++) {
			json_object_set_new(env, s->env[i].key, jstr(s->env[i].value));
			if (s->env_flags[i] & SW_DF_ENV_ARG)
				json_array_append_new(args, jstr(s->env[i].key));
		}
		json_object_set_new(o, "env", env);
		json_object_set_new(o, "env_args", args);
	}
	if (s->kind == SW_DF_COPY || s->kind == SW_DF_ADD) {
		json_object_set_new(o, "from", s->from ? jref(s->from_kind, s->from_stage, s->from) : json_null());
		json_object_set_new(o, "chown", s->chown ? jstr(s->chown) : json_null());
		json_object_set_new(o, "chmod", s->chmod ? jstr(s->chmod) : json_null());
		json_object_set_new(o, "link", json_boolean(s->link));
		json_object_set_new(o, "excludes", jstrs(s->excludes, s->nexcludes));
		if (s->kind == SW_DF_COPY) {
			json_object_set_new(o, "parents", json_boolean(s->parents));
		} else {
			json_object_set_new(o, "checksum", s->checksum ? jstr(s->checksum) : json_null());
			json_object_set_new(o, "keep_git_dir", json_boolean(s->keep_git_dir));
			json_object_set_new(o, "unpack", s->unpack < 0 ? json_null() : json_boolean(s->unpack));
		}
	}
	if (s->kind == SW_DF_HEALTHCHECK) {
		json_object_set_new(o, "interval_ns", json_integer(s->interval));
		json_object_set_new(o, "timeout_ns", json_integer(s->timeout));
		json_object_set_new(o, "start_period_ns", json_integer(s->start_period));
		json_object_set_new(o, "start_interval_ns", json_integer(s->start_interval));
		json_object_set_new(o, "retries", json_integer(s->retries));
	}
	if (s->kind == SW_DF_WORKDIR)
		json_object_set_new(o, "workdir", jstr(s->workdir));
	return o;
}

static json_t *jkvs(const sw_df_kv *kv, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, kv[i].key, jstr(kv[i].value ? kv[i].value : ""));
	return o;
}

char *sw_df_plan_json(const sw_df_plan *p)
{
	json_t *root = json_object(), *stages = json_array();

	json_object_set_new(root, "file", jstr(p->path));
	json_object_set_new(root, "target", json_integer((json_int_t)p->target));
	json_object_set_new(root, "total_stages", json_integer((json_int_t)p->total_stages));
	json_object_set_new(root, "global_args", jkvs(p->global_args, p->nglobal_args));
	json_object_set_new(root, "proxy", jkvs(p->proxy, p->nproxy));
	for (size_t i = 0; i < p->nstages; i++) {
		const sw_df_stage *s = &p->stages[i];
		json_t *o = json_object(), *steps = json_array(), *deps = json_array(), *base;
		json_object_set_new(o, "index", json_integer((json_int_t)s->index));
		json_object_set_new(o, "name", s->name ? jstr(s->name) : json_null());
		json_object_set_new(o, "display", jstr(s->display));
		json_object_set_new(o, "line", json_integer(s->line));
		json_object_set_new(o, "platform", jstr(s->platform));
		json_object_set_new(o, "platform_explicit", json_boolean(s->platform_explicit));
		if (s->base_kind == SW_DF_BASE_STAGE)
			base = json_pack("{s:s, s:I}", "kind", "stage", "index", (json_int_t)s->base_stage);
		else if (s->base_kind == SW_DF_BASE_SCRATCH)
			base = json_pack("{s:s}", "kind", "scratch");
		else
			base = json_pack("{s:s, s:o}", "kind", "image", "ref", jstr(s->base));
		json_object_set_new(o, "base", base);
		for (size_t k = 0; k < s->ndeps; k++)
			json_array_append_new(deps, json_integer((json_int_t)s->deps[k]));
		json_object_set_new(o, "deps", deps);
		for (size_t k = 0; k < s->nsteps; k++)
			json_array_append_new(steps, jstep(&s->steps[k]));
		json_object_set_new(o, "steps", steps);
		json_array_append_new(stages, o);
	}
	json_object_set_new(root, "stages", stages);
	json_object_set_new(root, "warnings", jstrs(p->warnings, p->nwarnings));
	char *t = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!t)
		return sw_xstrdup("{}\n");
	char *r = sw_xasprintf("%s\n", t);
	free(t);
	return r;
}
