/*
 * dockerfile_instr.c - typed instructions: per-keyword flags and argument
 * checks (BuildKit's instructions/parse.go and bflag.go), then expansion and
 * dispatch-time checks (dockerfile2llb). See dockerfile_instr.h.
 *
 * Not here: stages, ARG scoping, target pruning (dockerfile_plan.c), word
 * expansion itself (shell_lex.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dockerfile_instr.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

/* ------------------------------------------------------------ errors */

static const char *const keywords[][2] = {
	{ "add", "ADD" }, { "arg", "ARG" }, { "cmd", "CMD" }, { "copy", "COPY" },
	{ "entrypoint", "ENTRYPOINT" }, { "env", "ENV" }, { "expose", "EXPOSE" },
	{ "from", "FROM" }, { "healthcheck", "HEALTHCHECK" }, { "label", "LABEL" },
	{ "maintainer", "MAINTAINER" }, { "onbuild", "ONBUILD" }, { "run", "RUN" },
	{ "shell", "SHELL" }, { "stopsignal", "STOPSIGNAL" }, { "user", "USER" },
	{ "volume", "VOLUME" }, { "workdir", "WORKDIR" },
};

const char *df_keyword_upper(const char *kw)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcasecmp(kw, keywords[i][0]))
			return keywords[i][1];
	return NULL;
}

/*
 * "PATH:LINE: KEYWORD: message"; the keyword is left out when the message
 * already starts with it ("COPY requires at least two arguments").
 */
static __attribute__((format(printf, 6, 0))) int
failv(sw_error **err, int code, const char *path, int line, const char *kw,
      const char *fmt, va_list ap)
{
	cleanup_free char *msg = NULL;
	size_t kl = kw ? strlen(kw) : 0;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (!msg)
		return sw_error_set(err, code, "%s:%d: out of memory", path, line);
	if (kw && !(strncmp(msg, kw, kl) == 0 && (msg[kl] == ' ' || msg[kl] == ':')))
		return sw_error_set(err, code, "%s:%d: %s: %s", path, line, kw, msg);
	return sw_error_set(err, code, "%s:%d: %s", path, line, msg);
}

static int fail(sw_error **err, const char *path, int line, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(sw_error **err, const char *path, int line, const char *kw, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = failv(err, SW_EINVALID, path, line, kw, fmt, ap);
	va_end(ap);
	return r;
}

/* Puts "PATH:LINE: KEYWORD: " in front of an error from a helper. */
static int fail_wrap(sw_error **err, const char *path, int line, const char *kw)
{
	cleanup_free char *msg = sw_error_string(*err);
	int code = sw_error_code(*err);
	size_t kl = strlen(kw);
	bool has_kw = !strncmp(msg, kw, kl) && (msg[kl] == ' ' || msg[kl] == ':');

	sw_error_clear(err);
	return sw_error_set(err, code == SW_ETOOBIG ? SW_ETOOBIG : SW_EINVALID, "%s:%d: %s%s%s",
	                    path, line, has_kw ? "" : kw, has_kw ? "" : ": ", msg);
}

/* ------------------------------------------------------------- flags */

enum flag_type { FL_BOOL, FL_STRING, FL_STRINGS };

struct flag_def {
	const char *name;
	enum flag_type type;
	const char *def; /* default of string flags */
};

struct flag_val {
	bool used;
	const char *value; /* points into the instruction's flag text */
	bool b;
	const char **values;
	size_t n;
};

static void flag_vals_release(struct flag_val *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].values);
}

/* BFlags.Parse: "--name=value", "--name" for booleans, "--" ends flags. */
static int parse_flags(struct flag_val *vals, const struct flag_def *defs, size_t ndefs,
                       const sw_df_instr *in, const char *path, const char *kw, sw_error **err)
{
	for (size_t i = 0; i < ndefs; i++) {
		vals[i] = (struct flag_val){ 0 };
		vals[i].value = defs[i].def ? defs[i].def : "";
	}
	for (size_t f = 0; f < in->nflags; f++) {
		const char *arg = in->flags[f];
		if (strncmp(arg, "--", 2))
			return fail(err, path, in->start_line, kw, "arg should start with -- : %s", arg);
		if (!strcmp(arg, "--"))
			return 0;
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const char *value = eq ? eq + 1 : "";
		size_t d;
		for (d = 0; d < ndefs; d++)
			if (strlen(defs[d].name) == nlen && !strncmp(defs[d].name, name, nlen))
				break;
		if (d == ndefs)
			return fail(err, path, in->start_line, kw, "unknown flag: %.*s", (int)nlen, name);
		if (vals[d].used && defs[d].type != FL_STRINGS)
			return fail(err, path, in->start_line, kw, "duplicate flag specified: %.*s",
			            (int)nlen, name);
		vals[d].used = true;
		switch (defs[d].type) {
		case FL_BOOL:
			if (eq && !*value)
				return fail(err, path, in->start_line, kw, "missing a value on flag: %.*s",
				            (int)nlen, name);
			if (!*value || !strcasecmp(value, "true"))
				vals[d].b = true;
			else if (!strcasecmp(value, "false"))
				vals[d].b = false;
			else
				return fail(err, path, in->start_line, kw,
				            "expecting boolean value for flag %.*s, not: %s", (int)nlen, name, value);
			break;
		case FL_STRING:
			if (!eq)
				return fail(err, path, in->start_line, kw, "missing a value on flag: %.*s",
				            (int)nlen, name);
			vals[d].value = value;
			break;
		case FL_STRINGS:
			if (!eq)
				return fail(err, path, in->start_line, kw, "missing a value on flag: %.*s",
				            (int)nlen, name);
			vals[d].values = sw_xreallocarray(vals[d].values, vals[d].n + 1, sizeof(char *));
			vals[d].values[vals[d].n++] = value;
			break;
		}
	}
	return 0;
}

/* -------------------------------------------------------- small utils */

static char **strv_dup(char *const *v, size_t n)
{
	char **r = sw_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r[i] = sw_xstrdup(v[i]);
	return r;
}

static void strv_free_n(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *dup_or_null(const char *s)
{
	return s ? sw_xstrdup(s) : NULL;
}

static void add_warning(char ***w, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_warning(char ***w, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!w)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	*w = sw_xreallocarray(*w, *n + 1, sizeof(char *));
	(*w)[(*n)++] = s;
}

/* handleJSONArgs: the exec form as is, the shell form as one string. */
static void json_args(df_cmd *c, char *const *args, size_t n, bool json)
{
	c->json = json;
	if (n == 0) {
		c->args = sw_xcalloc(1, sizeof(char *));
		c->nargs = 0;
		return;
	}
	if (json) {
		c->args = strv_dup(args, n);
		c->nargs = n;
		return;
	}
	sw_buf b = SW_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			(void)sw_buf_addc(&b, ' ', NULL);
		(void)sw_buf_addstr(&b, args[i], NULL);
	}
	c->args = sw_xcalloc(2, sizeof(char *));
	c->args[0] = sw_buf_detach(&b);
	c->nargs = 1;
}

/*
 * A heredoc marker among COPY/ADD sources: [digits]<<[-]WORD. Returns the
 * name (quotes removed) or NULL when src is not a marker.
 */
static char *heredoc_marker(const char *src)
{
	const char *p = src;

	while (*p >= '0' && *p <= '9')
		p++;
	if (strncmp(p, "<<", 2))
		return NULL;
	p += 2;
	if (*p == '-')
		p++;
	if (!*p || strchr(p, '<'))
		return NULL;
	sw_buf b = SW_BUF_INIT(0);
	for (; *p; p++) {
		if (*p == '"' || *p == '\'' || *p == '\\')
			continue;
		if (isspace((unsigned char)*p) && b.len) {
			sw_buf_release(&b);
			return NULL;
		}
		if (!isspace((unsigned char)*p))
			(void)sw_buf_addc(&b, *p, NULL);
	}
	if (!b.len) {
		sw_buf_release(&b);
		return NULL;
	}
	return sw_buf_detach(&b);
}

/* ChompHeredocContent: leading tabs removed from every line. */
static char *chomp(const char *s)
{
	sw_buf b = SW_BUF_INIT(0);
	bool bol = true;

	for (; *s; s++) {
		if (bol && *s == '\t')
			continue;
		bol = *s == '\n';
		(void)sw_buf_addc(&b, *s, NULL);
	}
	return sw_buf_detach(&b);
}

/* ------------------------------------------------------------ FROM */

static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

int df_from_parse(df_from *out, const sw_df_instr *in, const char *path, sw_error **err)
{
	static const struct flag_def defs[] = { { "platform", FL_STRING, NULL } };
	struct flag_val v[1];
	cleanup_free char *name = NULL;

	*out = (df_from){ .in = in };
	if (in->nargs == 3 && !strcasecmp(in->args[1], "as")) {
		name = sw_xstrdup(in->args[2]);
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!valid_stage_name(name)) {
			cleanup_free char *q = sw_go_quote(in->args[2]);
			return fail(err, path, in->start_line, "FROM",
			            "invalid name for build stage: %s, name can't start with a number or contain symbols", q);
		}
	} else if (in->nargs != 1) {
		return fail(err, path, in->start_line, "FROM", "FROM requires either one or three arguments");
	}
	if (parse_flags(v, defs, 1, in, path, "FROM", err) < 0)
		return SW_EINVALID;
	out->base = sw_xstrdup(in->args[0]);
	out->name = steal_pointer(&name);
	out->platform = v[0].used && *v[0].value ? sw_xstrdup(v[0].value) : NULL;
	flag_vals_release(v, 1);
	return 0;
}

void df_from_release(df_from *f)
{
	free(f->base);
	free(f->name);
	free(f->platform);
	*f = (df_from){ 0 };
}

/* ---------------------------------------------------- instructions */

static int parse_kvps(df_cmd *c, const sw_df_instr *in, const char *path, const char *kw, sw_error **err)
{
	if (in->nargs == 0)
		return fail(err, path, in->start_line, kw, "%s requires at least one argument", kw);
	if (in->nargs % 3)
		return fail(err, path, in->start_line, kw, "Bad input to %s, too many arguments", kw);
	c->nkvs = in->nargs / 3;
	c->kvs = sw_xcalloc(c->nkvs, sizeof(*c->kvs));
	for (size_t i = 0; i < c->nkvs; i++) {
		if (!in->args[3 * i][0])
			return fail(err, path, in->start_line, kw, "%s names can not be blank", kw);
		c->kvs[i].key = sw_xstrdup(in->args[3 * i]);
		c->kvs[i].value = sw_xstrdup(in->args[3 * i + 1]);
		if (!in->args[3 * i + 2][0])
			c->legacy_kv = true;
	}
	return 0;
}

/* ARG words: "NAME" or "NAME=default" (the split happens here, not in the
 * parser, so that a name alone means "no value"). */
static int parse_arg(df_cmd *c, const sw_df_instr *in, const char *path, sw_error **err)
{
	if (in->nargs == 0)
		return fail(err, path, in->start_line, "ARG", "ARG requires at least one argument");
	c->nkvs = in->nargs;
	c->kvs = sw_xcalloc(c->nkvs, sizeof(*c->kvs));
	for (size_t i = 0; i < in->nargs; i++) {
		const char *eq = strchr(in->args[i], '=');
		if (eq == in->args[i])
			return fail(err, path, in->start_line, "ARG", "ARG names can not be blank");
		c->kvs[i].key = eq ? sw_xstrndup(in->args[i], (size_t)(eq - in->args[i])) : sw_xstrdup(in->args[i]);
		c->kvs[i].value = eq ? sw_xstrdup(eq + 1) : NULL;
	}
	return 0;
}

static int parse_sources(df_cmd *c, const sw_df_instr *in, const char *path, const char *kw, sw_error **err)
{
	cleanup_free char *dname = heredoc_marker(in->args[in->nargs - 1]);
	size_t np = 0;

	if (dname)
		return fail(err, path, in->start_line, kw, "%s cannot accept a heredoc as a destination", kw);
	c->args = sw_xcalloc(in->nargs + 1, sizeof(char *));
	c->inlines = sw_xcalloc(in->nargs, sizeof(*c->inlines));
	c->inline_expand = sw_xcalloc(in->nargs, sizeof(bool));
	for (size_t i = 0; i + 1 < in->nargs; i++) {
		char *name = heredoc_marker(in->args[i]);
		if (!name) {
			c->args[np++] = sw_xstrdup(in->args[i]);
			continue;
		}
		const sw_df_heredoc *h = NULL;
		for (size_t k = 0; k < in->nheredocs; k++)
			if (!strcmp(in->heredocs[k].name, name))
				h = &in->heredocs[k];
		sw_df_inline *il = &c->inlines[c->ninlines];
		il->name = name;
		il->chomp = h && h->chomp;
		il->data = h ? (h->chomp ? chomp(h->content) : sw_xstrdup(h->content)) : sw_xstrdup("");
		c->inline_expand[c->ninlines] = h ? h->expand : true;
		c->ninlines++;
	}
	c->args[np++] = sw_xstrdup(in->args[in->nargs - 1]);
	c->nargs = np;
	return 0;
}

static int parse_copy(df_cmd *c, const sw_df_instr *in, const char *path, bool add, sw_error **err)
{
	static const struct flag_def copy_defs[] = {
		{ "chown", FL_STRING, NULL }, { "chmod", FL_STRING, NULL }, { "link", FL_BOOL, NULL },
		{ "exclude", FL_STRINGS, NULL }, { "from", FL_STRING, NULL }, { "parents", FL_BOOL, NULL },
	};
	static const struct flag_def add_defs[] = {
		{ "chown", FL_STRING, NULL }, { "chmod", FL_STRING, NULL }, { "link", FL_BOOL, NULL },
		{ "exclude", FL_STRINGS, NULL }, { "keep-git-dir", FL_BOOL, NULL },
		{ "checksum", FL_STRING, NULL }, { "unpack", FL_BOOL, NULL },
	};
	const char *kw = add ? "ADD" : "COPY";
	const struct flag_def *defs = add ? add_defs : copy_defs;
	size_t ndefs = add ? sizeof(add_defs) / sizeof(add_defs[0]) : sizeof(copy_defs) / sizeof(copy_defs[0]);
	struct flag_val v[7];
	int r;

	if (in->nargs < 2)
		return fail(err, path, in->start_line, kw,
		            "%s requires at least two arguments, but only one was provided. Destination could not be determined", kw);
	if (parse_flags(v, defs, ndefs, in, path, kw, err) < 0) {
		flag_vals_release(v, ndefs);
		return SW_EINVALID;
	}
	c->chown = v[0].used ? sw_xstrdup(v[0].value) : NULL;
	c->chmod = v[1].used ? sw_xstrdup(v[1].value) : NULL;
	c->link = v[2].b;
	c->excludes = strv_dup((char *const *)v[3].values, v[3].n);
	c->nexcludes = v[3].n;
	c->unpack = -1;
	if (add) {
		c->keep_git_dir = v[4].b;
		c->checksum = v[5].used ? sw_xstrdup(v[5].value) : NULL;
		if (v[6].used)
			c->unpack = v[6].b;
	} else {
		c->from = v[4].used && *v[4].value ? sw_xstrdup(v[4].value) : NULL;
		c->parents = v[5].b;
	}
	flag_vals_release(v, ndefs);
	r = parse_sources(c, in, path, kw, err);
	return r;
}

static int parse_run(df_cmd *c, const sw_df_instr *in, const char *path, sw_error **err)
{
	static const struct flag_def defs[] = {
		{ "mount", FL_STRINGS, NULL }, { "network", FL_STRING, "default" },
		{ "security", FL_STRING, "sandbox" },
	};
	struct flag_val v[3];

	if (parse_flags(v, defs, 3, in, path, "RUN", err) < 0) {
		flag_vals_release(v, 3);
		return SW_EINVALID;
	}
	c->mount_specs = strv_dup((char *const *)v[0].values, v[0].n);
	c->nmount_specs = v[0].n;
	c->network = sw_xstrdup(v[1].value);
	c->security = sw_xstrdup(v[2].value);
	flag_vals_release(v, 3);
	json_args(c, in->args, in->nargs, in->json);
	c->inlines = sw_xcalloc(in->nheredocs + 1, sizeof(*c->inlines));
	for (size_t i = 0; i < in->nheredocs; i++) {
		c->inlines[i].name = sw_xstrdup(in->heredocs[i].name);
		c->inlines[i].data = sw_xstrdup(in->heredocs[i].content);
		c->inlines[i].chomp = in->heredocs[i].chomp;
	}
	c->ninlines = in->nheredocs;
	/* validate mounts that need no expansion (csv, from= variables) */
	char **froms = NULL;
	if (df_cmd_mount_froms(&froms, c, path, err) < 0)
		return SW_EINVALID;
	strv_free_n(froms, c->nmount_specs); /* sparse: free by count */
	if (strcmp(c->network, "default") && strcmp(c->network, "none") && strcmp(c->network, "host")) {
		cleanup_free char *q = sw_go_quote(c->network);
		return fail(err, path, in->start_line, "RUN", "invalid network mode %s", q);
	}
	if (strcmp(c->security, "sandbox") && strcmp(c->security, "insecure")) {
		cleanup_free char *q = sw_go_quote(c->security);
		return fail(err, path, in->start_line, "RUN", "security %s is not valid", q);
	}
	return 0;
}

/* time.Duration limits used by Docker's HEALTHCHECK: 1ms minimum. */
#define MIN_DURATION_NS 1000000LL

static int parse_interval(int64_t *out, const struct flag_val *v, const char *name, const char *path,
                          int line, sw_error **err)
{
	*out = 0;
	if (!v->used || !*v->value)
		return 0;
	if (df_parse_duration(out, v->value, err) < 0)
		return fail_wrap(err, path, line, "HEALTHCHECK");
	if (*out == 0)
		return 0;
	if (*out < MIN_DURATION_NS)
		return fail(err, path, line, "HEALTHCHECK", "Interval \"%s\" cannot be less than 1ms", name);
	return 0;
}

static int parse_healthcheck(df_cmd *c, const sw_df_instr *in, const char *path, sw_error **err)
{
	static const struct flag_def defs[] = {
		{ "interval", FL_STRING, NULL }, { "timeout", FL_STRING, NULL },
		{ "start-period", FL_STRING, NULL }, { "start-interval", FL_STRING, NULL },
		{ "retries", FL_STRING, NULL },
	};
	struct flag_val v[5];
	cleanup_free char *typ = NULL;
	int line = in->start_line;

	if (in->nargs == 0)
		return fail(err, path, line, "HEALTHCHECK", "HEALTHCHECK requires at least one argument");
	typ = sw_xstrdup(in->args[0]);
	for (char *p = typ; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!strcmp(typ, "NONE")) {
		if (in->nargs != 1)
			return fail(err, path, line, "HEALTHCHECK", "HEALTHCHECK NONE takes no arguments");
		c->args = sw_xcalloc(2, sizeof(char *));
		c->args[0] = sw_xstrdup("NONE");
		c->nargs = 1;
		return 0;
	}
	if (parse_flags(v, defs, 5, in, path, "HEALTHCHECK", err) < 0)
		return SW_EINVALID;
	if (strcmp(typ, "CMD")) {
		cleanup_free char *q = sw_go_quote(typ);
		return fail(err, path, line, "HEALTHCHECK", "Unknown type %s in HEALTHCHECK (try CMD)", q);
	}
	df_cmd tmp = { 0 };
	json_args(&tmp, in->args + 1, in->nargs - 1, in->json);
	if (tmp.nargs == 0) {
		free(tmp.args);
		return fail(err, path, line, "HEALTHCHECK", "Missing command after HEALTHCHECK CMD");
	}
	c->json = in->json;
	c->args = sw_xcalloc(tmp.nargs + 2, sizeof(char *));
	c->args[0] = sw_xstrdup(in->json ? "CMD" : "CMD-SHELL");
	for (size_t i = 0; i < tmp.nargs; i++)
		c->args[i + 1] = tmp.args[i];
	free(tmp.args);
	c->nargs = tmp.nargs + 1;
	if (parse_interval(&c->interval, &v[0], "interval", path, line, err) < 0 ||
	    parse_interval(&c->timeout, &v[1], "timeout", path, line, err) < 0 ||
	    parse_interval(&c->start_period, &v[2], "start-period", path, line, err) < 0 ||
	    parse_interval(&c->start_interval, &v[3], "start-interval", path, line, err) < 0)
		return SW_EINVALID;
	if (v[4].used && *v[4].value) {
		char *end;
		errno = 0;
		long long r = strtoll(v[4].value, &end, 10);
		if (*end || end == v[4].value || errno || r > INT32_MAX || r < INT32_MIN ||
		    isspace((unsigned char)v[4].value[0]) || v[4].value[0] == '+') {
			cleanup_free char *q = sw_go_quote(v[4].value);
			return fail(err, path, line, "HEALTHCHECK", "strconv.ParseInt: parsing %s: %s", q,
			            (errno == ERANGE || ((r > INT32_MAX || r < INT32_MIN) && !*end))
			            ? "value out of range" : "invalid syntax");
		}
		if (r < 0)
			return fail(err, path, line, "HEALTHCHECK", "--retries cannot be negative (%lld)", r);
		c->retries = (int)r;
	}
	return 0;
}

/* No flags allowed: BFlags.Parse with nothing defined. */
static int no_flags(const sw_df_instr *in, const char *path, const char *kw, sw_error **err)
{
	struct flag_val v[1];
	return parse_flags(v, NULL, 0, in, path, kw, err);
}

static int exactly_one(df_cmd *c, const sw_df_instr *in, const char *path, const char *kw, sw_error **err)
{
	if (in->nargs != 1)
		return fail(err, path, in->start_line, kw, "%s requires exactly one argument", kw);
	if (no_flags(in, path, kw, err) < 0)
		return SW_EINVALID;
	c->args = strv_dup(in->args, 1);
	c->nargs = 1;
	return 0;
}

static int parse_body(df_cmd *out, const sw_df_instr *in, const char *path, char ***warnings,
                      size_t *nwarnings, sw_error **err)
{
	const char *kw = df_keyword_upper(in->keyword);
	df_cmd *c = out;
	int r = 0;

	*c = (df_cmd){ .in = in, .line = in->start_line, .end_line = in->end_line, .unpack = -1 };
	if (!kw || !strcmp(kw, "FROM")) {
		/* the keyword as written */
		const char *o = in->original ? in->original : in->keyword;
		while (isspace((unsigned char)*o))
			o++;
		size_t n = strcspn(o, " \t\r\n");
		return fail(err, path, in->start_line, NULL, "unknown instruction: %.*s", (int)n, o);
	}

	if (!strcmp(kw, "ENV") || !strcmp(kw, "LABEL")) {
		c->kind = kw[0] == 'E' ? SW_DF_ENV : SW_DF_LABEL;
		r = no_flags(in, path, kw, err);
		if (r == 0)
			r = parse_kvps(c, in, path, kw, err);
		if (r == 0 && c->legacy_kv)
			add_warning(warnings, nwarnings,
			            "%s:%d: LegacyKeyValueFormat: \"%s key=value\" should be used instead of legacy \"%s key value\" format",
			            path, in->start_line, kw, kw);
	} else if (!strcmp(kw, "ARG")) {
		c->kind = SW_DF_ARG;
		r = parse_arg(c, in, path, err);
		if (r == 0)
			r = no_flags(in, path, kw, err);
	} else if (!strcmp(kw, "MAINTAINER")) {
		c->kind = SW_DF_MAINTAINER;
		r = exactly_one(c, in, path, kw, err);
		if (r == 0)
			add_warning(warnings, nwarnings,
			            "%s:%d: MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label",
			            path, in->start_line);
	} else if (!strcmp(kw, "ADD") || !strcmp(kw, "COPY")) {
		c->kind = kw[0] == 'A' ? SW_DF_ADD : SW_DF_COPY;
		r = parse_copy(c, in, path, c->kind == SW_DF_ADD, err);
	} else if (!strcmp(kw, "ONBUILD")) {
		c->kind = SW_DF_ONBUILD;
		if (!in->sub)
			return fail(err, path, in->start_line, kw, "ONBUILD requires at least one argument");
		if (no_flags(in, path, kw, err) < 0)
			return SW_EINVALID;
		const char *t = df_keyword_upper(in->sub->keyword);
		if (t && !strcmp(t, "ONBUILD"))
			return fail(err, path, in->start_line, kw, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
		if (t && (!strcmp(t, "MAINTAINER") || !strcmp(t, "FROM")))
			return fail(err, path, in->start_line, kw, "%s isn't allowed as an ONBUILD trigger", t);
		c->trigger = in->sub;
		/* the trigger as written: the line without its ONBUILD keyword,
		 * then each heredoc body and its delimiter */
		const char *o = in->original ? in->original : "";
		while (isspace((unsigned char)*o))
			o++;
		if (!strncasecmp(o, "onbuild", 7))
			o += 7;
		while (isspace((unsigned char)*o))
			o++;
		sw_buf b = SW_BUF_INIT(0);
		(void)sw_buf_addstr(&b, o, NULL);
		const sw_df_instr *hin = in->nheredocs ? in : in->sub;
		for (size_t i = 0; i < hin->nheredocs; i++) {
			(void)sw_buf_addc(&b, '\n', NULL);
			(void)sw_buf_addstr(&b, hin->heredocs[i].content, NULL);
			(void)sw_buf_addstr(&b, hin->heredocs[i].name, NULL);
		}
		c->args = sw_xcalloc(2, sizeof(char *));
		c->args[0] = sw_buf_detach(&b);
		c->nargs = 1;
	} else if (!strcmp(kw, "WORKDIR")) {
		c->kind = SW_DF_WORKDIR;
		r = exactly_one(c, in, path, kw, err);
	} else if (!strcmp(kw, "USER")) {
		c->kind = SW_DF_USER;
		r = exactly_one(c, in, path, kw, err);
	} else if (!strcmp(kw, "STOPSIGNAL")) {
		c->kind = SW_DF_STOPSIGNAL;
		r = exactly_one(c, in, path, kw, err);
	} else if (!strcmp(kw, "RUN")) {
		c->kind = SW_DF_RUN;
		r = parse_run(c, in, path, err);
	} else if (!strcmp(kw, "CMD") || !strcmp(kw, "ENTRYPOINT")) {
		c->kind = kw[0] == 'C' ? SW_DF_CMD : SW_DF_ENTRYPOINT;
		r = no_flags(in, path, kw, err);
		if (r == 0)
			json_args(c, in->args, in->nargs, in->json);
	} else if (!strcmp(kw, "HEALTHCHECK")) {
		c->kind = SW_DF_HEALTHCHECK;
		r = parse_healthcheck(c, in, path, err);
	} else if (!strcmp(kw, "EXPOSE")) {
		c->kind = SW_DF_EXPOSE;
		if (in->nargs == 0)
			return fail(err, path, in->start_line, kw, "EXPOSE requires at least one argument");
		r = no_flags(in, path, kw, err);
		c->args = strv_dup(in->args, in->nargs);
		c->nargs = in->nargs;
	} else if (!strcmp(kw, "VOLUME")) {
		c->kind = SW_DF_VOLUME;
		if (in->nargs == 0)
			return fail(err, path, in->start_line, kw, "VOLUME requires at least one argument");
		r = no_flags(in, path, kw, err);
		c->args = sw_xcalloc(in->nargs + 1, sizeof(char *));
		for (size_t i = 0; r == 0 && i < in->nargs; i++) {
			const char *s = in->args[i], *e = s + strlen(s);
			while (*s && isspace((unsigned char)*s))
				s++;
			while (e > s && isspace((unsigned char)e[-1]))
				e--;
			if (s == e)
				return fail(err, path, in->start_line, kw, "VOLUME specified can not be an empty string");
			c->args[c->nargs++] = sw_xstrndup(s, (size_t)(e - s));
		}
		c->json = in->json;
	} else if (!strcmp(kw, "SHELL")) {
		c->kind = SW_DF_SHELL;
		r = no_flags(in, path, kw, err);
		if (r == 0 && in->nargs == 0)
			return fail(err, path, in->start_line, kw, "SHELL requires at least one argument");
		if (r == 0 && !in->json)
			return fail(err, path, in->start_line, kw, "SHELL requires the arguments to be in JSON form");
		if (r == 0)
			json_args(c, in->args, in->nargs, true);
	}
	return r < 0 ? SW_EINVALID : 0;
}

int df_cmd_parse(df_cmd *out, const sw_df_instr *in, const char *path, char ***warnings,
                 size_t *nwarnings, sw_error **err)
{
	if (parse_body(out, in, path, warnings, nwarnings, err) < 0) {
		df_cmd_release(out);
		return SW_EINVALID;
	}
	return 0;
}

void df_cmd_release(df_cmd *c)
{
	strv_free_n(c->args, c->nargs);
	for (size_t i = 0; i < c->nkvs; i++) {
		free(c->kvs[i].key);
		free(c->kvs[i].value);
	}
	free(c->kvs);
	for (size_t i = 0; i < c->ninlines; i++) {
		free(c->inlines[i].name);
		free(c->inlines[i].data);
	}
	free(c->inlines);
	free(c->inline_expand);
	strv_free_n(c->mount_specs, c->nmount_specs);
	free(c->network);
	free(c->security);
	free(c->from);
	free(c->chown);
	free(c->chmod);
	free(c->checksum);
	strv_free_n(c->excludes, c->nexcludes);
	*c = (df_cmd){ 0 };
}

/* ------------------------------------------------------------ mounts */

/* encoding/csv, one record, default settings. */
static int csv_fields(char ***out, size_t *nout, const char *s, sw_error **err)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = s;

	if (!*s || *s == '\n' || (*s == '\r' && s[1] == '\n'))
		return sw_error_set(err, SW_EINVALID, "failed to parse csv mounts: EOF");
	for (;;) {
		sw_buf b = SW_BUF_INIT(0);
		if (*p == '"') {
			const char *q = ++p;
			for (;;) {
				if (!*q) {
					sw_buf_release(&b);
					strv_free_n(v, n);
					return sw_error_set(err, SW_EINVALID,
					                    "failed to parse csv mounts: parse error on line 1, column %zu: extraneous or missing \" in quoted-field",
					                    (size_t)(q - s) + 1);
				}
				if (*q == '"' && q[1] == '"') {
					(void)sw_buf_addc(&b, '"', NULL);
					q += 2;
					continue;
				}
				if (*q == '"')
					break;
				(void)sw_buf_addc(&b, *q++, NULL);
			}
			p = q + 1;
			if (*p && *p != ',' && *p != '\n' && *p != '\r') {
				sw_buf_release(&b);
				strv_free_n(v, n);
				return sw_error_set(err, SW_EINVALID,
				                    "failed to parse csv mounts: parse error on line 1, column %zu: extraneous or missing \" in quoted-field",
				                    (size_t)(p - s) + 1);
			}
		} else {
			while (*p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
				if (*p == '"') {
					sw_buf_release(&b);
					strv_free_n(v, n);
					return sw_error_set(err, SW_EINVALID,
					                    "failed to parse csv mounts: parse error on line 1, column %zu: bare \" in non-quoted-field",
					                    (size_t)(p - s) + 1);
				}
				(void)sw_buf_addc(&b, *p++, NULL);
			}
		}
		v = sw_xreallocarray(v, n + 2, sizeof(char *));
		v[n++] = sw_buf_detach(&b);
		v[n] = NULL;
		if (*p != ',')
			break;
		p++;
	}
	*out = v;
	*nout = n;
	return 0;
}

static const char *mount_type_name(sw_df_mount_type t)
{
	static const char *const n[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
	return n[t];
}

static void mount_release(sw_df_mount *m)
{
	free(m->target);
	free(m->target_abs);
	free(m->source);
	free(m->from);
	free(m->id);
	free(m->env);
}

static int expand_value(char **out, const char *v, const df_expand_ctx *ctx, sw_error **err)
{
	return sw_lex_word(out, &ctx->lex, v, ctx->env, err);
}

/* parseMount; with ctx == NULL only the checks BuildKit makes at parse time. */
static int parse_mount(sw_df_mount *m, char **from_out, const char *spec, const df_expand_ctx *ctx,
                       sw_error **err)
{
	cleanup_strv char **fields = NULL;
	size_t nf = 0;
	bool ro_auto = true, sharing_set = false;
	int r = 0;

	*m = (sw_df_mount){ .type = SW_DF_MOUNT_BIND };
	if (csv_fields(&fields, &nf, spec, err) < 0)
		return SW_EINVALID;
	for (size_t i = 0; i < nf && r == 0; i++) {
		const char *field = fields[i];
		const char *eq = strchr(field, '=');
		cleanup_free char *key = eq ? sw_xstrndup(field, (size_t)(eq - field)) : sw_xstrdup(field);
		cleanup_free char *value = NULL;
		bool b = false;
		uint64_t u = 0;

		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!eq) {
			if (!ctx)
				continue;
			if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
				m->readonly = true;
				ro_auto = false;
			} else if (!strcmp(key, "readwrite") || !strcmp(key, "rw")) {
				m->readonly = false;
				ro_auto = false;
			} else if (!strcmp(key, "required")) {
				if (m->type != SW_DF_MOUNT_SECRET && m->type != SW_DF_MOUNT_SSH)
					r = sw_error_set(err, SW_EINVALID, "unexpected key '%s' for mount type '%s'",
					                 key, mount_type_name(m->type));
				m->required = true;
			} else {
				r = sw_error_set(err, SW_EINVALID, "invalid field '%s' must be a key=value pair", field);
			}
			continue;
		}
		if (!ctx) {
			if (!strcmp(key, "from")) {
				const char *d = strchr(eq + 1, '$');
				if (d && d[1])
					return sw_error_set(err, SW_EINVALID,
					                    "'%s' doesn't support variable expansion, define alias stage instead", key);
				if (from_out) {
					free(*from_out);
					*from_out = sw_xstrdup(eq + 1);
				}
			}
			continue;
		}
		if (expand_value(&value, eq + 1, ctx, err) < 0)
			return SW_EINVALID;
		if (!strcmp(key, "type")) {
			static const char *const types[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
			size_t t;
			for (t = 0; t < 5; t++)
				if (!strcasecmp(value, types[t]))
					break;
			if (t == 5) {
				cleanup_free char *q = sw_go_quote(value);
				r = sw_error_set(err, SW_EINVALID, "unsupported mount type %s", q);
			} else {
				m->type = (sw_df_mount_type)t;
			}
		} else if (!strcmp(key, "from")) {
			free(m->from);
			m->from = steal_pointer(&value);
		} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
			free(m->source);
			m->source = steal_pointer(&value);
		} else if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination")) {
			free(m->target);
			m->target = steal_pointer(&value);
		} else if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
			if (!df_go_parse_bool(value, &b))
				r = sw_error_set(err, SW_EINVALID, "invalid value for %s: %s", key, value);
			m->readonly = b;
			ro_auto = false;
		} else if (!strcmp(key, "readwrite") || !strcmp(key, "rw")) {
			if (!df_go_parse_bool(value, &b))
				r = sw_error_set(err, SW_EINVALID, "invalid value for %s: %s", key, value);
			m->readonly = !b;
			ro_auto = false;
		} else if (!strcmp(key, "required")) {
			if (m->type != SW_DF_MOUNT_SECRET && m->type != SW_DF_MOUNT_SSH)
				r = sw_error_set(err, SW_EINVALID, "unexpected key '%s' for mount type '%s'", key,
				                 mount_type_name(m->type));
			else if (!df_go_parse_bool(value, &m->required))
				r = sw_error_set(err, SW_EINVALID, "invalid value for %s: %s", key, value);
		} else if (!strcmp(key, "size")) {
			if (m->type != SW_DF_MOUNT_TMPFS)
				r = sw_error_set(err, SW_EINVALID, "unexpected key '%s' for mount type '%s'", key,
				                 mount_type_name(m->type));
			else if (!df_ram_in_bytes(value, &m->size))
				r = sw_error_set(err, SW_EINVALID, "invalid value for %s: %s", key, value);
		} else if (!strcmp(key, "id")) {
			free(m->id);
			m->id = steal_pointer(&value);
		} else if (!strcmp(key, "sharing")) {
			if (!strcasecmp(value, "shared"))
				m->sharing = SW_DF_SHARING_SHARED;
			else if (!strcasecmp(value, "private"))
				m->sharing = SW_DF_SHARING_PRIVATE;
			else if (!strcasecmp(value, "locked"))
				m->sharing = SW_DF_SHARING_LOCKED;
			else {
				cleanup_free char *q = sw_go_quote(value);
				r = sw_error_set(err, SW_EINVALID, "unsupported sharing value %s", q);
			}
			sharing_set = true;
		} else if (!strcmp(key, "mode")) {
			if (!df_parse_uint(value, 8, UINT32_MAX, &u))
				r = sw_error_set(err, SW_EINVALID, "invalid value %s for mode", value);
			m->mode = (uint32_t)u;
			m->has_mode = true;
		} else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
			if (!df_parse_uint(value, 10, UINT32_MAX, &u))
				r = sw_error_set(err, SW_EINVALID, "invalid value %s for %s", value, key);
			if (key[0] == 'u') {
				m->uid = (uint32_t)u;
				m->has_uid = true;
			} else {
				m->gid = (uint32_t)u;
				m->has_gid = true;
			}
		} else if (!strcmp(key, "env") && m->type == SW_DF_MOUNT_SECRET) {
			free(m->env);
			m->env = steal_pointer(&value);
		} else if (!strcmp(key, "env")) {
			r = sw_error_set(err, SW_EINVALID, "unexpected key '%s' for mount type '%s'", key,
			                 mount_type_name(m->type));
		} else {
			r = sw_error_set(err, SW_EINVALID, "unexpected key '%s' in '%s'", key, field);
		}
	}
	if (r < 0 || !ctx)
		return r;

	/* validateMount */
	bool file_info = m->type == SW_DF_MOUNT_SECRET || m->type == SW_DF_MOUNT_SSH ||
	                 m->type == SW_DF_MOUNT_CACHE;
	const char *tn = mount_type_name(m->type);
	if (!file_info && m->has_mode)
		return sw_error_set(err, SW_EINVALID, "mode not allowed for \"%s\" type mounts", tn);
	if (!file_info && m->has_uid)
		return sw_error_set(err, SW_EINVALID, "uid not allowed for \"%s\" type mounts", tn);
	if (!file_info && m->has_gid)
		return sw_error_set(err, SW_EINVALID, "gid not allowed for \"%s\" type mounts", tn);
	if (ro_auto)
		m->readonly = !(m->type == SW_DF_MOUNT_CACHE || m->type == SW_DF_MOUNT_TMPFS);
	if (m->type == SW_DF_MOUNT_SECRET) {
		if (m->from && *m->from)
			return sw_error_set(err, SW_EINVALID, "secret mount should not have a from");
		if (sharing_set)
			return sw_error_set(err, SW_EINVALID, "secret mount should not define sharing");
		if ((!m->source || !*m->source) && (!m->target || !*m->target) && (!m->id || !*m->id) && !m->env)
			return sw_error_set(err, SW_EINVALID, "invalid secret mount. one of source, target required");
		if (m->source && *m->source && m->id && *m->id)
			return sw_error_set(err, SW_EINVALID, "both source and id can't be set");
	}
	if (sharing_set && m->type != SW_DF_MOUNT_CACHE)
		return sw_error_set(err, SW_EINVALID, "invalid cache sharing set for %s mount", tn);
	return 0;
}

int df_cmd_mount_froms(char ***out, const df_cmd *c, const char *path, sw_error **err)
{
	char **v = sw_xcalloc(c->nmount_specs + 1, sizeof(char *));

	for (size_t i = 0; i < c->nmount_specs; i++) {
		sw_df_mount m;
		char *from = NULL;
		if (parse_mount(&m, &from, c->mount_specs[i], NULL, err) < 0) {
			free(from);
			strv_free_n(v, c->nmount_specs);
			return fail_wrap(err, path, c->line, "RUN");
		}
		mount_release(&m);
		v[i] = from && *from ? from : NULL;
		if (v[i] != from)
			free(from);
	}
	*out = v;
	return 0;
}

static const char *base_name(const char *p)
{
	size_t len = strlen(p);
	while (len > 1 && p[len - 1] == '/')
		len--;
	const char *s = p + len;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

static int finish_mount(sw_df_mount *m, const df_expand_ctx *ctx, sw_error **err)
{
	if (!m->target)
		m->target = sw_xstrdup("");
	if (!m->source)
		m->source = sw_xstrdup("");
	if (!m->from)
		m->from = sw_xstrdup("");
	m->from_kind = SW_DF_REF_NONE;
	if (*m->from && m->type != SW_DF_MOUNT_TMPFS && ctx->resolve_from)
		ctx->resolve_from(m->from, &m->from_kind, &m->from_stage, ctx->payload);

	switch (m->type) {
	case SW_DF_MOUNT_SECRET: {
		const char *id = *m->source ? m->source : (m->id ? m->id : "");
		if (!*id) {
			if (!*m->target)
				return sw_error_set(err, SW_EINVALID, "one of source, target required");
			id = base_name(m->target);
		}
		char *nid = sw_xstrdup(id);
		free(m->id);
		m->id = nid;
		if (*m->target)
			m->target_abs = sw_xstrdup(m->target);
		else if (!m->env)
			m->target_abs = sw_xasprintf("/run/secrets/%s", base_name(m->id));
		else
			m->target_abs = sw_xstrdup("");
		return 0;
	}
	case SW_DF_MOUNT_SSH:
		if (*m->source)
			return sw_error_set(err, SW_EINVALID, "ssh does not support source");
		if (!m->id || !*m->id) {
			free(m->id);
			m->id = sw_xstrdup("default");
		}
		m->target_abs = sw_xstrdup(m->target);
		return 0;
	default:
		break;
	}
	m->target_abs = df_path_join_abs(m->target[0] == '/' ? "/" : ctx->workdir, m->target);
	if (!strcmp(m->target_abs, "/"))
		return sw_error_set(err, SW_EINVALID, "invalid mount target \"/\"");
	if (m->type == SW_DF_MOUNT_CACHE && (!m->id || !*m->id)) {
		free(m->id);
		m->id = sw_xstrdup(m->target);
	}
	if (!m->id)
		m->id = sw_xstrdup("");
	return 0;
}

/* ---------------------------------------------------------- expand */

void df_step_release(sw_df_step *s)
{
	strv_free_n(s->args, s->nargs);
	for (size_t i = 0; i < s->nkvs; i++) {
		free(s->kvs[i].key);
		free(s->kvs[i].value);
	}
	free(s->kvs);
	for (size_t i = 0; i < s->ninlines; i++) {
		free(s->inlines[i].name);
		free(s->inlines[i].data);
	}
	free(s->inlines);
	for (size_t i = 0; i < s->nmounts; i++)
		mount_release(&s->mounts[i]);
	free(s->mounts);
	free(s->network);
	free(s->security);
	free(s->from);
	free(s->chown);
	free(s->chmod);
	free(s->checksum);
	strv_free_n(s->excludes, s->nexcludes);
	strv_free_n(s->shell, s->nshell);
	free(s->workdir);
	free(s->original);
	*s = (sw_df_step){ 0 };
}

static int expand_list(char ***out, char *const *in, size_t n, const df_expand_ctx *ctx, sw_error **err)
{
	char **v = sw_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (expand_value(&v[i], in[i], ctx, err) < 0) {
			strv_free_n(v, n);
			return SW_EINVALID;
		}
	}
	*out = v;
	return 0;
}

static int expand_opt(char **out, const char *in, const df_expand_ctx *ctx, sw_error **err)
{
	*out = NULL;
	return in ? expand_value(out, in, ctx, err) : 0;
}

static int expand_copy(sw_df_step *s, const df_cmd *c, const df_expand_ctx *ctx, sw_error **err)
{
	bool add = c->kind == SW_DF_ADD;

	if (expand_list(&s->args, c->args, c->nargs, ctx, err) < 0)
		return SW_EINVALID;
	s->nargs = c->nargs;
	if (expand_opt(&s->chown, c->chown, ctx, err) < 0 || expand_opt(&s->chmod, c->chmod, ctx, err) < 0 ||
	    expand_opt(&s->checksum, c->checksum, ctx, err) < 0)
		return SW_EINVALID;
	if (expand_list(&s->excludes, c->excludes, c->nexcludes, ctx, err) < 0)
		return SW_EINVALID;
	s->nexcludes = c->nexcludes;
	s->from = dup_or_null(c->from);
	s->link = c->link;
	s->parents = c->parents;
	s->keep_git_dir = c->keep_git_dir;
	s->unpack = c->unpack;

	/* heredoc bodies: expanded unless the delimiter was quoted, by a lexer
	 * that leaves quotes alone and always escapes with a backslash */
	s->inlines = sw_xcalloc(c->ninlines + 1, sizeof(*s->inlines));
	for (size_t i = 0; i < c->ninlines; i++) {
		s->inlines[i].name = sw_xstrdup(c->inlines[i].name);
		s->inlines[i].chomp = c->inlines[i].chomp;
		s->ninlines++;
		if (c->inline_expand[i]) {
			sw_lex_opts raw = { .escape = '\\', .skip_quotes = true, .max = ctx->lex.max };
			if (sw_lex_word(&s->inlines[i].data, &raw, c->inlines[i].data, ctx->env, err) < 0)
				return SW_EINVALID;
		} else {
			s->inlines[i].data = sw_xstrdup(c->inlines[i].data);
		}
	}

	if (s->chmod && *s->chmod) {
		uint64_t m;
		if (!df_parse_uint(s->chmod, 8, UINT32_MAX, &m) || m > 07777)
			return sw_error_set(err, SW_EINVALID,
			                    "invalid chmod parameter: '%s'. it should be octal string and between 0 and 07777",
			                    s->chmod);
	}
	if (s->checksum && *s->checksum) {
		if (df_check_digest(s->checksum, err) < 0)
			return SW_EINVALID;
		if (s->nargs - 1 != 1 || s->ninlines)
			return sw_error_set(err, SW_EINVALID, "checksum can't be specified for multiple sources");
		if (!df_is_http_source(s->args[0]) || df_is_git_source(s->args[0]))
			return sw_error_set(err, SW_EINVALID, "checksum can't be specified for non-HTTP(S) sources");
	}
	for (size_t i = 0; !add && i + 1 < s->nargs; i++) {
		if (df_is_git_source(s->args[i]))
			return sw_error_set(err, SW_EINVALID, "source can't be a git ref for COPY");
		if (df_is_http_source(s->args[i]))
			return sw_error_set(err, SW_EINVALID, "source can't be a URL for COPY");
	}
	return 0;
}

static int expand_run(sw_df_step *s, const df_cmd *c, const df_expand_ctx *ctx, sw_error **err)
{
	s->args = strv_dup(c->args, c->nargs);
	s->nargs = c->nargs;
	s->network = sw_xstrdup(c->network);
	s->security = sw_xstrdup(c->security);
	s->inlines = sw_xcalloc(c->ninlines + 1, sizeof(*s->inlines));
	for (size_t i = 0; i < c->ninlines; i++) {
		s->inlines[i].name = sw_xstrdup(c->inlines[i].name);
		s->inlines[i].data = sw_xstrdup(c->inlines[i].data);
		s->inlines[i].chomp = c->inlines[i].chomp;
	}
	s->ninlines = c->ninlines;
	if (c->ninlines && (c->nargs != 1 || c->json))
		return sw_error_set(err, SW_EINVALID, "parsing produced an invalid run command");
	s->mounts = sw_xcalloc(c->nmount_specs + 1, sizeof(*s->mounts));
	for (size_t i = 0; i < c->nmount_specs; i++) {
		int r = parse_mount(&s->mounts[i], NULL, c->mount_specs[i], ctx, err);
		s->nmounts++;
		if (r < 0 || finish_mount(&s->mounts[i], ctx, err) < 0)
			return SW_EINVALID;
	}
	return 0;
}

int df_cmd_expand(sw_df_step *out, const df_cmd *c, const df_expand_ctx *ctx, sw_error **err)
{
	sw_df_step *s = out;
	const char *kw = sw_df_kind_name(c->kind);
	int r = 0;

	*s = (sw_df_step){ .kind = c->kind, .keyword = kw, .line = c->line, .end_line = c->end_line,
	                   .onbuild = c->onbuild, .json = c->json, .unpack = -1 };
	s->original = sw_xstrdup(c->in && c->in->original ? c->in->original : kw);

	switch (c->kind) {
	case SW_DF_ENV:
	case SW_DF_LABEL:
		s->kvs = sw_xcalloc(c->nkvs + 1, sizeof(*s->kvs));
		for (size_t i = 0; i < c->nkvs && r == 0; i++) {
			r = expand_value(&s->kvs[i].key, c->kvs[i].key, ctx, err);
			if (r == 0)
				r = expand_value(&s->kvs[i].value, c->kvs[i].value, ctx, err);
			s->nkvs++;
		}
		break;
	case SW_DF_ADD:
	case SW_DF_COPY:
		r = expand_copy(s, c, ctx, err);
		break;
	case SW_DF_WORKDIR:
	case SW_DF_USER:
	case SW_DF_STOPSIGNAL:
	case SW_DF_VOLUME:
		r = expand_list(&s->args, c->args, c->nargs, ctx, err);
		if (r == 0)
			s->nargs = c->nargs;
		if (r == 0 && c->kind == SW_DF_STOPSIGNAL)
			r = df_check_signal(s->args[0], err);
		if (r == 0 && c->kind == SW_DF_VOLUME) {
			for (size_t i = 0; i < s->nargs; i++)
				if (!*s->args[i])
					r = sw_error_set(err, SW_EINVALID, "VOLUME specified can not be an empty string");
		}
		if (r == 0 && c->kind == SW_DF_WORKDIR) {
			if (!*s->args[0])
				r = sw_error_set(err, SW_EINVALID, "normalizing workdir: cannot normalize nothing");
			else
				s->workdir = df_path_join_abs(ctx->workdir, s->args[0]);
		}
		break;
	case SW_DF_EXPOSE: {
		/* sorted before expansion, then each split into words */
		cleanup_strv char **sorted = strv_dup(c->args, c->nargs);
		char **words = NULL;
		size_t nw = 0;
		qsort(sorted, c->nargs, sizeof(char *), strcmp_ptr);
		for (size_t i = 0; i < c->nargs && r == 0; i++) {
			char **w = NULL;
			size_t n = 0;
			r = sw_lex_words(&w, &n, &ctx->lex, sorted[i], ctx->env, err);
			if (r < 0)
				break;
			words = sw_xreallocarray(words, nw + n + 1, sizeof(char *));
			for (size_t k = 0; k < n; k++)
				words[nw++] = w[k];
			words[nw] = NULL;
			free(w);
		}
		if (r == 0)
			r = df_expose_ports(&s->args, &s->nargs, words, nw, err);
		strv_free_n(words, nw);
		break;
	}
	case SW_DF_RUN:
		r = expand_run(s, c, ctx, err);
		break;
	case SW_DF_HEALTHCHECK:
		s->interval = c->interval;
		s->timeout = c->timeout;
		s->start_period = c->start_period;
		s->start_interval = c->start_interval;
		s->retries = c->retries;
		__attribute__((fallthrough));
	case SW_DF_CMD:
	case SW_DF_ENTRYPOINT:
	case SW_DF_SHELL:
	case SW_DF_MAINTAINER:
	case SW_DF_ONBUILD:
		s->args = strv_dup(c->args, c->nargs);
		s->nargs = c->nargs;
		break;
	case SW_DF_ARG:
		/* the plan expands ARG defaults itself (ARG scoping) */
		s->kvs = sw_xcalloc(c->nkvs + 1, sizeof(*s->kvs));
		for (size_t i = 0; i < c->nkvs; i++) {
			s->kvs[i].key = sw_xstrdup(c->kvs[i].key);
			s->kvs[i].value = dup_or_null(c->kvs[i].value);
		}
		s->nkvs = c->nkvs;
		break;
	}
	if (r == 0 && (c->kind == SW_DF_RUN || c->kind == SW_DF_CMD || c->kind == SW_DF_ENTRYPOINT)) {
		size_t n = 0;
		while (ctx->shell && ctx->shell[n])
			n++;
		s->shell = strv_dup(ctx->shell, n);
		s->nshell = n;
	}
	if (r < 0) {
		df_step_release(s);
		return fail_wrap(err, ctx->path, c->line, kw);
	}
	return 0;
}
