/*
 * explain.c - `slipway manifest explain`: the field tables printed as
 * kubectl explain prints the API schema, so the documentation of what
 * slipway accepts comes from the same description that validates it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "slipway/cleanup.h"
#include "slipway/kinds.h"
#include "slipway/mem.h"
#include "validate_int.h"

static const char *type_text(const sw_field *f)
{
	switch (f->type) {
	case T_ANY: return f->sub ? "Object" : "any";
	case T_STR: return "string";
	case T_INT: return "integer";
	case T_BOOL: return "boolean";
	case T_OBJ: return "Object";
	case T_ARR_OBJ: return "[]Object";
	case T_ARR_STR: return "[]string";
	case T_MAP_STR: return "map[string]string";
	case T_INTSTR: return "IntOrString";
	case T_PORT: return "IntOrString (port number or name)";
	case T_QTY: return "Quantity";
	case T_QTY_MAP: return "map[string]Quantity";
	}
	return "any";
}

static void print_field(FILE *out, const sw_field *f)
{
	fprintf(out, "  %-30s <%s>", f->name, type_text(f));
	if (f->flags & F_REQ)
		fputs(" -required-", out);
	if (f->flags & (F_UNSUP | F_UNSUP_SET))
		fputs(" (not supported by slipway: ignored, with a warning)", out);
	if (f->flags & F_SERVER)
		fputs(" (set by the server; accepted as is)", out);
	fputc('\n', out);
	if (f->def)
		fprintf(out, "  %-30s   default: %s\n", "", f->def);
	if (f->values) {
		fprintf(out, "  %-30s   one of:", "");
		for (const char *const *v = f->values; *v; v++)
			fprintf(out, " \"%s\"", *v);
		fputc('\n', out);
	}
}

int sw_manifest_explain(const char *what, FILE *out, sw_error **err)
{
	cleanup_free char *copy = sw_xstrdup(what);
	char *dot = strchr(copy, '.');
	const char *api_version = NULL, *kind;
	const sw_schema *s;

	if (dot)
		*dot++ = '\0';
	if (!strcasecmp(copy, "app") || !strcasecmp(copy, "slipway.yaml")) {
		kind = "App";
		api_version = "slipway.dev/v1";
		s = &sw_schema_app;
	} else {
		const sw_kind *k = sw_kind_lookup(copy);
		if (!k || !(s = sw_kind_schema(k->kind, &api_version)))
			return sw_error_set(err, SW_ENOTFOUND, "explain: unknown kind \"%s\" (try deployment, "
			                    "replicaset, pod, service, configmap, secret, namespace or app)", copy);
		kind = k->kind;
	}

	/* walk down the dotted path */
	const sw_field *field = NULL;
	char path[512] = "";
	char *save = NULL;
	for (char *part = dot ? strtok_r(dot, ".", &save) : NULL; part; part = strtok_r(NULL, ".", &save)) {
		const sw_field *f = NULL;
		if (!s)
			return sw_error_set(err, SW_ENOTFOUND, "explain: %s has no fields", path);
		for (const sw_field *g = s->fields; g->name; g++)
			if (!strcmp(g->name, part))
				f = g;
		if (!f)
			return sw_error_set(err, SW_ENOTFOUND, "explain: field \"%s\" does not exist in %s%s%s", part,
			                    kind, path[0] ? "." : "", path);
		size_t n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "", part);
		field = f;
		s = (f->type == T_OBJ || f->type == T_ARR_OBJ) ? f->sub : NULL;
	}
	fprintf(out, "KIND:     %s\nVERSION:  %s\n", kind, api_version);
	if (field) {
		fprintf(out, "FIELD:    %s <%s>\n", path, type_text(field));
		if (field->def)
			fprintf(out, "DEFAULT:  %s\n", field->def);
		if (field->flags & (F_UNSUP | F_UNSUP_SET))
			fputs("\nslipway does not implement this field: it is kept and ignored, with a warning.\n", out);
	}
	if (!s)
		return 0;
	fputs("\nFIELDS:\n", out);
	for (const sw_field *f = s->fields; f->name; f++)
		print_field(out, f);
	return 0;
}
