/*
 * validate_int.h - manifest fields described once: name, type, flags,
 * default and nested schema. validate.c walks any object against such a
 * table (unknown fields, types, defaults, unsupported-field warnings) and
 * then calls the schema's check hook for the rules that span fields.
 */
#ifndef SLIPWAY_VALIDATE_INT_H
#define SLIPWAY_VALIDATE_INT_H

#include <jansson.h>

#include "manifest_int.h"

enum sw_ftype {
	T_ANY,     /* anything, not looked into */
	T_STR,
	T_INT,     /* int32 unless F_I64 */
	T_BOOL,
	T_OBJ,     /* object described by sub */
	T_ARR_OBJ, /* list of objects described by sub */
	T_ARR_STR,
	T_MAP_STR, /* object of string values */
	T_INTSTR,  /* integer or string (maxSurge: 1 or "25%") */
	T_PORT,    /* 1-65535 or an IANA service name */
	T_QTY,     /* a resource quantity, canonicalised */
	T_QTY_MAP, /* object of quantities (limits, requests) */
};

enum sw_fflags {
	F_REQ = 1 << 0,      /* required */
	F_UNSUP = 1 << 1,    /* Kubernetes has it, slipway ignores it: warning */
	F_UNSUP_SET = 1 << 2,/* as F_UNSUP, but only warns for a non-empty/true/non-zero value */
	F_SERVER = 1 << 3,   /* set by the server; accepted as it is */
	F_NONNEG = 1 << 4,   /* integer >= 0 */
	F_POS = 1 << 5,      /* integer >= 1 */
	F_I64 = 1 << 6,
};

typedef struct sw_schema sw_schema;

typedef struct sw_field {
	const char *name;
	enum sw_ftype type;
	unsigned flags;
	const sw_schema *sub;       /* T_OBJ, T_ARR_OBJ */
	const char *def;            /* default as JSON text, or NULL */
	const char *const *values;  /* allowed strings, NULL-terminated, or NULL */
} sw_field;

struct sw_schema {
	const char *name;
	const sw_field *fields;     /* ends with { NULL } */
	/* Rules across fields; c->path is the object's path. */
	void (*check)(sw_vctx *c, json_t *obj);
};

/* Walks obj against s (obj must be an object). */
void sw_walk(sw_vctx *c, json_t *obj, const sw_schema *s);
/* Pushes key onto the path for a report, and pops it. */
void sw_verr_at(sw_vctx *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sw_vwarn_at(sw_vctx *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* IANA_SVC_NAME: NULL when valid, else why. */
const char *sw_check_port_name(const char *s);
/* C identifier-ish environment variable names. */
const char *sw_check_env_name(const char *s);

extern const sw_schema sw_schema_object_meta;
extern const sw_schema sw_schema_label_selector;
extern const sw_schema sw_schema_pod_spec;
extern const sw_schema sw_schema_pod_template;

/* The top-level schema of a kind ("Deployment") and its apiVersion; NULL
 * when slipway has none. */
const sw_schema *sw_kind_schema(const char *kind, const char **api_version);
extern const sw_schema sw_schema_app;

/* Selector rules and "template labels match", used by Deployment and RS. */
void sw_check_selector_matches(sw_vctx *c, json_t *spec);

#endif
