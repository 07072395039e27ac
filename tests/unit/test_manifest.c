/*
 * test_manifest.c - manifests/: YAML documents and positions, scalar
 * resolution as go-yaml v2, anchors and merge keys, every Kubernetes default
 * slipway applies, validation errors with their path and line, unknown and
 * unsupported fields, admission of API bodies, slipway.yaml expansion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest_int.h"
#include "slipway/json.h"
#include "slipway/manifest.h"
#include "slipway/object.h"

/* ---- helpers ---------------------------------------------------------------- */

/* "a.b[1].c": objects by key, lists by index */
static json_t *sw_obj_path_test(const json_t *obj, const char *path)
{
	json_t *cur = (json_t *)obj;
	const char *p = path;
	char key[256];

	while (cur && *p) {
		if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);
			if (*end != ']')
				return NULL;
			cur = json_array_get(cur, i);
			p = end + 1;
		} else {
			size_t n = strcspn(p, ".[");
			if (n >= sizeof(key))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			cur = json_object_get(cur, key);
			p += n;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

static json_t *load_ok_named(const char *name, const char *yaml, sw_diags *d)
{
	json_t *objs = NULL;
	sw_error *err = NULL;
	int r = sw_manifest_load_buf(name, yaml, strlen(yaml), &objs, d, &err);
	if (r < 0) {
		sw_diags_print(d, stderr);
		fail_msg("load failed (%d)", r);
	}
	return objs;
}

static json_t *load_ok(const char *yaml)
{
	sw_diags d = SW_DIAGS_INIT;
	json_t *objs = load_ok_named("t.yaml", yaml, &d);
	sw_diags_release(&d);
	return objs;
}

/* The first diagnostic of the given severity, formatted; caller frees. */
static char *first_diag(const char *name, const char *yaml, sw_diag_severity sev, int *rc)
{
	sw_diags d = SW_DIAGS_INIT;
	json_t *objs = NULL;
	char *out = NULL;

	*rc = sw_manifest_load_buf(name, yaml, strlen(yaml), &objs, &d, NULL);
	for (size_t i = 0; i < d.len; i++) {
		if (d.items[i].severity == sev) {
			out = sw_diag_format(&d.items[i]);
			break;
		}
	}
	if (*rc < 0)
		assert_null(objs);
	json_decref(objs);
	sw_diags_release(&d);
	return out;
}

static int mismatches;

/* Reports every mismatch of a table before failing (see test_errors). */
static void expect_error(const char *yaml, const char *want)
{
	int rc;
	char *got = first_diag("t.yaml", yaml, SW_DIAG_ERROR, &rc);
	if (!got || strcmp(got, want)) {
		print_error("got:  %s\nwant: %s\n", got ? got : "(no error)", want);
		mismatches++;
	}
	assert_int_equal(rc, got ? SW_EINVALID : 0);
	free(got);
}

static void expect_warning(const char *yaml, const char *want)
{
	int rc;
	char *got = first_diag("t.yaml", yaml, SW_DIAG_WARNING, &rc);
	if (!got)
		fail_msg("no warning, want: %s", want);
	if (strcmp(got, want))
		fail_msg("got:  %s\nwant: %s", got, want);
	assert_int_equal(rc, 0);
	free(got);
}

static void assert_json_at(const json_t *obj, const char *path, const char *want_json)
{
	json_t *v = sw_obj_path_test(obj, path);
	json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
	assert_non_null(want);
	if (!v || !json_equal(v, want)) {
		char *got = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
		fail_msg("%s: got %s, want %s", path, got ? got : "(missing)", want_json);
	}
	json_decref(want);
}

#define DEPLOYMENT_HEAD \
	"apiVersion: apps/v1\n" \
	"kind: Deployment\n" \
	"metadata:\n" \
	"  name: web\n"

#define DEPLOYMENT \
	DEPLOYMENT_HEAD \
	"spec:\n" \
	"  selector:\n" \
	"    matchLabels:\n" \
	"      app: web\n" \
	"  template:\n" \
	"    metadata:\n" \
	"      labels:\n" \
	"        app: web\n" \
	"    spec:\n" \
	"      containers:\n" \
	"      - name: web\n" \
	"        image: hello:v1\n"

#define DEPLOYMENT_SEL(sel) \
	DEPLOYMENT_HEAD \
	"spec:\n" \
	"  selector: " sel "\n" \
	"  template:\n" \
	"    metadata:\n" \
	"      labels:\n" \
	"        app: web\n" \
	"    spec:\n" \
	"      containers:\n" \
	"      - name: web\n" \
	"        image: hello:v1\n"

/* ---- YAML --------------------------------------------------------------------- */

static void test_positions(void **state)
{
	(void)state;
	sw_diags d = SW_DIAGS_INIT;
	sw_ydoc *docs;
	size_t n;
	int line, col;

	assert_int_equal(sw_yaml_load_docs("t.yaml", DEPLOYMENT, strlen(DEPLOYMENT), &docs, &n, &d), 0);
	assert_int_equal(n, 1);
	sw_pos_lookup(docs[0].pos, "spec.template.spec.containers[0].image", false, &line, &col);
	assert_int_equal(line, 16);
	assert_int_equal(col, 16);
	sw_pos_lookup(docs[0].pos, "spec.template.spec.containers[0].image", true, &line, &col);
	assert_int_equal(line, 16);
	assert_int_equal(col, 9);
	sw_pos_lookup(docs[0].pos, "spec.template.spec.containers[0]", false, &line, &col);
	assert_int_equal(line, 15);
	assert_int_equal(col, 9);
	/* a path that is not there: its nearest ancestor */
	sw_pos_lookup(docs[0].pos, "spec.template.spec.containers[0].ports[3].name", false, &line, &col);
	assert_int_equal(line, 15);
	sw_pos_lookup(docs[0].pos, "metadata.labels[app.kubernetes.io/name]", false, &line, &col);
	assert_int_equal(line, 4);
	sw_ydocs_free(docs, n);
	sw_diags_release(&d);
}

static void test_multi_document(void **state)
{
	(void)state;
	const char *yaml =
		"# leading comment\n"
		"---\n"
		"---\n"
		"# only a comment\n"
		"---\n"
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
		"---\n"
		"{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}, \"data\": {\"k\": \"v\"}}\n"
		"...\n"
		"---\n"
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
	json_t *objs = load_ok(yaml);
	assert_int_equal(json_array_size(objs), 3);
	assert_string_equal(sw_obj_str(json_array_get(objs, 1), "kind"), "ConfigMap");
	assert_string_equal(sw_obj_str(json_array_get(objs, 2), "metadata.name"), "b");
	json_decref(objs);

	/* an empty file is valid and holds nothing */
	objs = load_ok("");
	assert_int_equal(json_array_size(objs), 0);
	json_decref(objs);
}

static json_t *resolve(const char *s)
{
	return sw_yaml_resolve_plain(s, strlen(s));
}

static void assert_scalar(const char *in, const char *want_json)
{
	json_t *v = resolve(in);
	json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
	if (!json_equal(v, want)) {
		char *got = json_dumps(v, JSON_ENCODE_ANY);
		fail_msg("%s: got %s, want %s", in, got, want_json);
	}
	json_decref(v);
	json_decref(want);
}

static void test_scalars(void **state)
{
	(void)state;
	/* go-yaml v2 (sigs.k8s.io/yaml): YAML 1.1 booleans, Go integer syntax */
	static const char *const table[][2] = {
		{ "true", "true" },   { "True", "true" },   { "TRUE", "true" },   { "yes", "true" },
		{ "Yes", "true" },    { "on", "true" },     { "ON", "true" },     { "y", "true" },
		{ "Y", "true" },      { "false", "false" }, { "no", "false" },    { "NO", "false" },
		{ "off", "false" },   { "n", "false" },     { "~", "null" },      { "null", "null" },
		{ "Null", "null" },   { "", "null" },       { "42", "42" },       { "-7", "-7" },
		{ "+3", "3" },        { "0x1F", "31" },     { "0755", "493" },    { "0o17", "15" },
		{ "0b101", "5" },     { "1_000", "1000" },  { "1e3", "1000" },    { "1.0", "1" },
		{ "1.5", "1.5" },     { ".5", "0.5" },      { "-2.5e-1", "-0.25" },
		{ "9223372036854775807", "9223372036854775807" },
		{ "yess", "\"yess\"" },  { "tRue", "\"tRue\"" },   { "0x", "\"0x\"" },
		{ "1.2.3", "\"1.2.3\"" }, { ".inf", "\".inf\"" },  { "-", "\"-\"" },
		{ "hello", "\"hello\"" }, { "12:30", "\"12:30\"" }, { "08", "8" },
		{ "1e", "\"1e\"" },       { "500m", "\"500m\"" },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		assert_scalar(table[i][0], table[i][1]);

	/* quoted and tagged scalars are strings */
	json_t *objs = load_ok("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	                       "data:\n  a: \"yes\"\n  b: '1'\n  c: !!str 0x10\n  d: |\n    multi\n  y: x\n  1: one\n");
	json_t *o = json_array_get(objs, 0);
	assert_json_at(o, "data.a", "\"yes\"");
	assert_json_at(o, "data.b", "\"1\"");
	assert_json_at(o, "data.c", "\"0x10\"");
	assert_json_at(o, "data.d", "\"multi\\n\"");
	/* keys that read as other types become their text (sigs.k8s.io/yaml) */
	assert_json_at(o, "data.true", "\"x\"");
	assert_json_at(o, "data.1", "\"one\"");
	json_decref(objs);

	/* an unquoted yes where a string is needed is an error, as with kubectl */
	expect_error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  flag: yes\n",
	             "t.yaml:5:9: error: data.flag: must be a string, not a boolean (quote it)");
}

static void test_anchors_and_merge(void **state)
{
	(void)state;
	const char *yaml =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: &l {app: web, tier: fe}\n"
		"  annotations:\n    <<: *l\n    tier: be\n"
		"data: {x: &v hello, z: *v}\n";
	json_t *objs = load_ok(yaml);
	json_t *o = json_array_get(objs, 0);
	assert_json_at(o, "metadata.annotations", "{\"app\": \"web\", \"tier\": \"be\"}");
	assert_json_at(o, "data.z", "\"hello\"");
	json_decref(objs);

	expect_error("a: *nope\n", "t.yaml:1:4: error: a: yaml: unknown anchor \"nope\"");
	expect_error("apiVersion: v1\nkind: Namespace\nkind: Namespace\n",
	             "t.yaml:3:1: error: kind: yaml: duplicate key \"kind\"");
	expect_error("- a\n- b\n", "t.yaml:1:1: error: a document must be a mapping (an object), not a list");
	expect_error("a: [b\n", "t.yaml:2:1: error: yaml: did not find expected ',' or ']' while parsing a flow sequence started at line 1 column 4");

	/* the billion laughs stop at a bound, with an error */
	const char *bomb =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
	int rc;
	char *got = first_diag("t.yaml", bomb, SW_DIAG_ERROR, &rc);
	assert_non_null(got);
	assert_non_null(strstr(got, "aliases expand to too many values"));
	free(got);

	/* nesting has a limit too */
	char deep[400];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	got = first_diag("t.yaml", deep, SW_DIAG_ERROR, &rc);
	assert_non_null(got);
	free(got);
}

/* ---- defaults ----------------------------------------------------------------- */

static void test_deployment_defaults(void **state)
{
	(void)state;
	json_t *objs = load_ok(DEPLOYMENT);
	json_t *o = json_array_get(objs, 0);
	assert_json_at(o, "spec.replicas", "1");
	assert_json_at(o, "spec.strategy", "{\"type\": \"RollingUpdate\", \"rollingUpdate\": "
	                                   "{\"maxSurge\": \"25%\", \"maxUnavailable\": \"25%\"}}");
	assert_json_at(o, "spec.progressDeadlineSeconds", "600");
	assert_json_at(o, "spec.revisionHistoryLimit", "10");
	assert_json_at(o, "spec.minReadySeconds", "0");
	assert_json_at(o, "spec.template.spec.restartPolicy", "\"Always\"");
	assert_json_at(o, "spec.template.spec.terminationGracePeriodSeconds", "30");
	assert_json_at(o, "spec.template.spec.dnsPolicy", "\"ClusterFirst\"");
	assert_json_at(o, "spec.template.spec.schedulerName", "\"default-scheduler\"");
	json_t *c = json_array_get(sw_obj_path_test(o, "spec.template.spec.containers"), 0);
	assert_json_at(c, "imagePullPolicy", "\"IfNotPresent\"");
	assert_json_at(c, "terminationMessagePath", "\"/dev/termination-log\"");
	assert_json_at(c, "terminationMessagePolicy", "\"File\"");
	json_decref(objs);

	/* a partly given rollingUpdate keeps what was given */
	objs = load_ok(DEPLOYMENT "  strategy:\n    rollingUpdate:\n      maxSurge: 2\n");
	assert_json_at(json_array_get(objs, 0), "spec.strategy.rollingUpdate",
	               "{\"maxSurge\": 2, \"maxUnavailable\": \"25%\"}");
	json_decref(objs);
	/* Recreate has no rollingUpdate */
	objs = load_ok(DEPLOYMENT "  strategy: {type: Recreate}\n");
	assert_json_at(json_array_get(objs, 0), "spec.strategy", "{\"type\": \"Recreate\"}");
	json_decref(objs);
	/* defaulting twice changes nothing (the API server re-admits) */
	objs = load_ok(DEPLOYMENT);
	json_t *copy = json_deep_copy(json_array_get(objs, 0));
	sw_diags d = SW_DIAGS_INIT;
	assert_int_equal(sw_manifest_admit(copy, &d), 0);
	assert_true(json_equal(copy, json_array_get(objs, 0)));
	assert_int_equal(d.len, 0);
	json_decref(copy);
	json_decref(objs);
	sw_diags_release(&d);
}

#define POD_HEAD "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"

static void test_pod_defaults(void **state)
{
	(void)state;
	json_t *objs = load_ok(POD_HEAD
		"  - name: a\n    image: hello\n"
		"    ports: [{containerPort: 5000, name: http}]\n"
		"    readinessProbe: {httpGet: {port: http}}\n"
		"    livenessProbe: {tcpSocket: {port: 5000}}\n"
		"    startupProbe: {exec: {command: [/bin/true]}}\n"
		"    resources: {limits: {cpu: 0.5, memory: 1024Mi}, requests: {cpu: 100m}}\n"
		"  - name: b\n    image: hello:latest\n"
		"  - name: c\n    image: registry:5000/hello:v2\n"
		"  - name: d\n    image: hello@sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
		"  - name: e\n    image: registry:5000/hello\n"
		"  volumes: [{name: scratch}]\n");
	json_t *o = json_array_get(objs, 0);
	json_t *cs = sw_obj_path_test(o, "spec.containers");
	json_t *a = json_array_get(cs, 0);
	assert_json_at(a, "imagePullPolicy", "\"Always\"");
	assert_json_at(json_array_get(cs, 1), "imagePullPolicy", "\"Always\"");
	assert_json_at(json_array_get(cs, 2), "imagePullPolicy", "\"IfNotPresent\"");
	assert_json_at(json_array_get(cs, 3), "imagePullPolicy", "\"IfNotPresent\"");
	assert_json_at(json_array_get(cs, 4), "imagePullPolicy", "\"Always\"");
	assert_json_at(a, "ports", "[{\"containerPort\": 5000, \"name\": \"http\", \"protocol\": \"TCP\"}]");
	assert_json_at(a, "readinessProbe",
	               "{\"httpGet\": {\"port\": \"http\", \"path\": \"/\", \"scheme\": \"HTTP\"},"
	               " \"initialDelaySeconds\": 0, \"timeoutSeconds\": 1, \"periodSeconds\": 10,"
	               " \"successThreshold\": 1, \"failureThreshold\": 3}");
	assert_json_at(a, "livenessProbe.periodSeconds", "10");
	assert_json_at(a, "startupProbe.failureThreshold", "3");
	/* quantities canonical; a Pod's missing requests come from its limits */
	assert_json_at(a, "resources", "{\"limits\": {\"cpu\": \"500m\", \"memory\": \"1Gi\"},"
	                               " \"requests\": {\"cpu\": \"100m\", \"memory\": \"1Gi\"}}");
	assert_json_at(o, "spec.volumes", "[{\"name\": \"scratch\", \"emptyDir\": {}}]");
	assert_json_at(o, "spec.restartPolicy", "\"Always\"");
	json_decref(objs);
}

static void test_service_defaults(void **state)
{
	(void)state;
	json_t *objs = load_ok("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	                       "spec:\n  selector: {app: web}\n  ports: [{port: 80}]\n"
	                       "---\n"
	                       "apiVersion: v1\nkind: Service\nmetadata: {name: sticky}\n"
	                       "spec:\n  sessionAffinity: ClientIP\n  type: NodePort\n"
	                       "  ports: [{name: a, port: 80, targetPort: http, nodePort: 30080}, {name: b, port: 81, protocol: UDP}]\n");
	json_t *o = json_array_get(objs, 0);
	assert_json_at(o, "spec.ports", "[{\"port\": 80, \"targetPort\": 80, \"protocol\": \"TCP\"}]");
	assert_json_at(o, "spec.type", "\"ClusterIP\"");
	assert_json_at(o, "spec.sessionAffinity", "\"None\"");
	assert_null(sw_obj_path_test(o, "spec.sessionAffinityConfig"));
	o = json_array_get(objs, 1);
	assert_json_at(o, "spec.sessionAffinityConfig", "{\"clientIP\": {\"timeoutSeconds\": 10800}}");
	assert_json_at(o, "spec.ports[1]", "{\"name\": \"b\", \"port\": 81, \"protocol\": \"UDP\", \"targetPort\": 81}");
	json_decref(objs);
}

static void test_secret_and_configmap(void **state)
{
	(void)state;
	json_t *objs = load_ok("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
	                       "data: {a: aGVsbG8=}\nstringData: {b: world, a: over}\n"
	                       "---\n"
	                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	                       "data: {k.conf: \"x=1\"}\nbinaryData: {blob: AAEC}\n");
	json_t *o = json_array_get(objs, 0);
	assert_json_at(o, "data", "{\"a\": \"b3Zlcg==\", \"b\": \"d29ybGQ=\"}");
	assert_null(json_object_get(o, "stringData"));
	assert_json_at(o, "type", "\"Opaque\"");
	json_decref(objs);

	expect_error("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: not base64!\n",
	             "t.yaml:5:6: error: data.a: must be base64-encoded (use stringData for plain text)");
	expect_error("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a/b: x\n",
	             "t.yaml:5:8: error: data[a/b]: invalid key \"a/b\": a valid config key must consist of "
	             "alphanumeric characters, '-', '_' or '.'");
}

/* ---- validation errors -------------------------------------------------------- */

static void test_errors(void **state)
{
	(void)state;
	mismatches = 0;
	expect_error(DEPLOYMENT_HEAD "spec:\n  replicas: -1\n",
	             "t.yaml:6:13: error: spec.replicas: must be greater than or equal to 0");
	expect_error(DEPLOYMENT "  replicas: three\n",
	             "t.yaml:17:13: error: spec.replicas: must be an integer, not a string");
	expect_error(DEPLOYMENT "  replica: 3\n", "t.yaml:17:3: error: unknown field \"spec.replica\"");
	expect_error(DEPLOYMENT "        imagePullPolicy: Sometimes\n",
	             "t.yaml:17:26: error: spec.template.spec.containers[0].imagePullPolicy: unsupported value "
	             "\"Sometimes\": supported values: \"Always\", \"Never\", \"IfNotPresent\"");
	expect_error(DEPLOYMENT_HEAD "spec:\n  template:\n    spec:\n      containers:\n      - {name: web, image: x}\n",
	             "t.yaml:6:3: error: spec.selector: required value");
	expect_error(DEPLOYMENT "        ports: [{containerPort: 70000}]\n",
	             "t.yaml:17:33: error: spec.template.spec.containers[0].ports[0].containerPort: "
	             "must be between 1 and 65535, inclusive");
	expect_error(DEPLOYMENT "        ports: [{containerPort: 80, name: HTTP}]\n",
	             "t.yaml:17:43: error: spec.template.spec.containers[0].ports[0].name: invalid value \"HTTP\": "
	             "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
	expect_error(DEPLOYMENT "        env: [{name: 1BAD, value: x}]\n",
	             "t.yaml:17:22: error: spec.template.spec.containers[0].env[0].name: invalid value \"1BAD\": a valid "
	             "environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
	             "and must not start with a digit");
	expect_error(DEPLOYMENT "        resources: {requests: {cpu: 2}, limits: {cpu: 1}}\n",
	             "t.yaml:17:37: error: spec.template.spec.containers[0].resources.requests.cpu: "
	             "must be less than or equal to cpu limit of 1");
	expect_error(DEPLOYMENT "        resources: {limits: {memory: 12XB}}\n",
	             "t.yaml:17:38: error: spec.template.spec.containers[0].resources.limits.memory: quantity \"12XB\": "
	             "unknown suffix (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei or e<N>)");
	expect_error(DEPLOYMENT "        readinessProbe: {periodSeconds: 5}\n",
	             "t.yaml:17:25: error: spec.template.spec.containers[0].readinessProbe: must specify a handler type");
	expect_error(DEPLOYMENT "        readinessProbe: {exec: {command: [x]}, tcpSocket: {port: 1}}\n",
	             "t.yaml:17:25: error: spec.template.spec.containers[0].readinessProbe: may not specify more "
	             "than 1 handler type");
	expect_error(DEPLOYMENT "        livenessProbe: {tcpSocket: {port: 1}, successThreshold: 2}\n",
	             "t.yaml:17:65: error: spec.template.spec.containers[0].livenessProbe.successThreshold: must be 1");
	expect_error(DEPLOYMENT "        livenessProbe: {tcpSocket: {port: 1}, periodSeconds: 0}\n",
	             "t.yaml:17:62: error: spec.template.spec.containers[0].livenessProbe.periodSeconds: "
	             "must be greater than or equal to 1");
	expect_error(DEPLOYMENT "      restartPolicy: Never\n",
	             "t.yaml:17:22: error: spec.template.spec.restartPolicy: unsupported value \"Never\": "
	             "supported values: \"Always\"");
	expect_error(DEPLOYMENT "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n",
	             "t.yaml:17:59: error: spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0");
	expect_error(DEPLOYMENT "  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}\n",
	             "t.yaml:17:59: error: spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0");
	expect_error(DEPLOYMENT "  strategy: {rollingUpdate: {maxUnavailable: 110%}}\n",
	             "t.yaml:17:46: error: spec.strategy.rollingUpdate.maxUnavailable: must not be greater than 100%");
	expect_error(DEPLOYMENT "  strategy: {rollingUpdate: {maxSurge: half}}\n",
	             "t.yaml:17:40: error: spec.strategy.rollingUpdate.maxSurge: invalid value \"half\": a valid "
	             "percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')");
	expect_error(DEPLOYMENT "  strategy: {type: Recreate, rollingUpdate: {}}\n",
	             "t.yaml:17:45: error: spec.strategy.rollingUpdate: may not be specified when strategy `type` is 'Recreate'");
	expect_error(DEPLOYMENT "  minReadySeconds: 700\n",
	             "t.yaml:6:3: error: spec.progressDeadlineSeconds: must be greater than minReadySeconds");
	expect_error(DEPLOYMENT_SEL("{matchLabels: {app: other}}"),
	             "t.yaml:10:9: error: spec.template.metadata.labels: `selector` does not match template "
	             "`labels` (selector: app=other)");
	expect_error(DEPLOYMENT_SEL("{}"), "t.yaml:6:13: error: spec.selector: empty selector is invalid for deployment");
	expect_error(DEPLOYMENT_SEL("{matchExpressions: [{key: app, operator: In}]}"),
	             "t.yaml:6:33: error: spec.selector.matchExpressions[0].values: must be specified when "
	             "`operator` is 'In' or 'NotIn'");
	expect_error("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: Web_1}\nspec: {}\n",
	             "t.yaml:4:7: error: spec.selector: required value");
	expect_error("apiVersion: v1\nkind: Namespace\nmetadata: {name: Web_1}\n",
	             "t.yaml:3:18: error: metadata.name: invalid value \"Web_1\": a lowercase RFC 1123 label must "
	             "consist of lower case alphanumeric characters or '-', and must start and end with an "
	             "alphanumeric character");
	expect_error("apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: {\"bad key!\": x}\n  name: ns1\n",
	             "t.yaml:4:24: error: metadata.labels[bad key!]: invalid key \"bad key!\": name part must consist "
	             "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
	expect_error("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns, labels: {a: \"-x\"}}\n",
	             "t.yaml:3:34: error: metadata.labels.a: invalid value \"-x\": a valid label must be an empty "
	             "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
	             "alphanumeric character");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}\n",
	             "t.yaml:3:18: error: metadata.name: invalid value \"1web\": a DNS-1035 label must consist of "
	             "lower case alphanumeric characters or '-', start with an alphabetic character, and end with "
	             "an alphanumeric character");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {}\n",
	             "t.yaml:4:7: error: spec.ports: required value");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}, {port: 81}]}\n",
	             "t.yaml:4:16: error: spec.ports[0].name: required value (services with more than one port name them)");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}\n",
	             "t.yaml:4:53: error: spec.ports[0].nodePort: provided port is not in the valid range. The range "
	             "of valid ports is 30000-32767");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80, nodePort: 30001}]}\n",
	             "t.yaml:4:37: error: spec.ports[0].nodePort: may not be used when `type` is 'ClusterIP'");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n"
	             "  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n",
	             "t.yaml:7:54: error: spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be greater than 0 "
	             "and less than 86400");
	expect_error("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: a}\n",
	             "t.yaml:1:13: error: apiVersion: Deployment is served as apiVersion \"apps/v1\", not \"extensions/v1beta1\"");
	expect_error("apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\n",
	             "t.yaml:2:7: error: kind: unsupported kind \"Job\" (apiVersion \"batch/v1\"): slipway knows Namespace, "
	             "Pod, Service, ConfigMap, Secret (v1), Deployment, ReplicaSet (apps/v1) and App (slipway.dev/v1)");
	expect_error("metadata: {name: a}\n", "t.yaml:1:1: error: kind: required value");
	expect_error(POD_HEAD "  - name: a\n    image: x\n    volumeMounts: [{name: data, mountPath: /data}]\n",
	             "t.yaml:8:27: error: spec.containers[0].volumeMounts[0].name: not found: no volume named \"data\"");
	expect_error(POD_HEAD "  - name: a\n    image: x\n  - name: a\n    image: z\n",
	             "t.yaml:8:11: error: spec.containers[1].name: duplicate value \"a\"");
	expect_error(POD_HEAD "  - name: a\n",
	             "t.yaml:6:5: error: spec.containers[0].image: required value");
	expect_error(POD_HEAD "  - name: a\n    image: x\n    env: [{name: A, value: x, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n",
	             "t.yaml:8:42: error: spec.containers[0].env[0].valueFrom: may not be specified when `value` is not empty");
	expect_error(POD_HEAD "  - name: a\n    image: x\n    env: [{name: A, valueFrom: {fieldRef: {fieldPath: spec.foo}}}]\n",
	             "t.yaml:8:55: error: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: unsupported value "
	             "\"spec.foo\": supported values: metadata.name, metadata.namespace, metadata.uid, "
	             "metadata.labels['KEY'], metadata.annotations['KEY'], spec.nodeName, spec.serviceAccountName, "
	             "status.hostIP, status.podIP");
	expect_error(POD_HEAD "  - name: a\n    image: x\n  volumes: [{name: v, emptyDir: {}, configMap: {name: c}}]\n",
	             "t.yaml:8:13: error: spec.volumes[0]: may not specify more than 1 volume type");
	expect_error("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
	             "t.yaml: error: Namespace \"a\" is defined more than once");
	assert_int_equal(mismatches, 0);
}

static void test_unsupported_warnings(void **state)
{
	(void)state;
	expect_warning(DEPLOYMENT "      nodeSelector: {disk: ssd}\n",
	               "t.yaml:17:7: warning: spec.template.spec.nodeSelector: not supported by slipway; ignored");
	expect_warning(DEPLOYMENT "      volumes: [{name: h, hostPath: {path: /}}]\n",
	               "t.yaml:17:27: warning: spec.template.spec.volumes[0].hostPath: not supported by slipway; ignored");
	expect_warning(DEPLOYMENT "        readinessProbe: {grpc: {port: 9000}}\n",
	               "t.yaml:17:26: warning: spec.template.spec.containers[0].readinessProbe.grpc: gRPC probes are "
	               "not supported by slipway; this probe is ignored");
	expect_warning(DEPLOYMENT "      initContainers: [{name: i, image: x}]\n",
	               "t.yaml:17:7: warning: spec.template.spec.initContainers: not supported by slipway; ignored");
	/* false/empty values of unsupported fields need no warning, and the
	 * warned field is kept in the object, not dropped */
	json_t *objs = load_ok(DEPLOYMENT "      hostNetwork: false\n      tolerations: [{key: a}]\n");
	assert_json_at(json_array_get(objs, 0), "spec.template.spec.tolerations", "[{\"key\": \"a\"}]");
	json_decref(objs);
}

static void test_admit(void **state)
{
	(void)state;
	sw_diags d = SW_DIAGS_INIT;
	json_t *o = json_loads(
		"{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\","
		" \"metadata\": {\"name\": \"web\", \"namespace\": \"default\", \"uid\": \"1234\", \"resourceVersion\": \"7\","
		"  \"generation\": 2, \"creationTimestamp\": \"2026-11-28T00:11:06Z\", \"managedFields\": [{}],"
		"  \"ownerReferences\": [], \"annotations\": {\"deployment.kubernetes.io/revision\": \"1\"}},"
		" \"spec\": {\"selector\": {\"matchLabels\": {\"app\": \"web\"}},"
		"  \"template\": {\"metadata\": {\"labels\": {\"app\": \"web\"}},"
		"   \"spec\": {\"containers\": [{\"name\": \"web\", \"image\": \"x:1\"}]}}},"
		" \"status\": {\"replicas\": 3, \"conditions\": []}}", 0, NULL);
	assert_non_null(o);
	assert_int_equal(sw_manifest_admit(o, &d), 0);
	assert_int_equal(d.len, 0);
	assert_json_at(o, "spec.replicas", "1");
	assert_json_at(o, "status.replicas", "3");
	json_decref(o);

	o = json_loads("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},"
	               " \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\", \"imag\": 1}]}}", 0, NULL);
	assert_int_equal(sw_manifest_admit(o, &d), SW_EINVALID);
	assert_int_equal(d.errors, 1);
	char *line = sw_diag_format(&d.items[0]);
	assert_string_equal(line, "error: unknown field \"spec.containers[0].imag\"");
	free(line);
	assert_string_equal(d.items[0].path, "spec.containers[0].imag");
	json_t *j = sw_diags_to_json(&d);
	assert_string_equal(sw_obj_str(json_array_get(j, 0), "field"), "spec.containers[0].imag");
	json_decref(j);
	sw_error *err = NULL;
	assert_int_equal(sw_diags_to_error(&d, &err), SW_EINVALID);
	assert_string_equal(err->msg, "unknown field \"spec.containers[0].imag\"");
	sw_error_free(err);
	json_decref(o);
	sw_diags_release(&d);

	json_t *s = json_string("x");
	assert_int_equal(sw_manifest_admit(s, &d), SW_EINVALID);
	json_decref(s);
	sw_diags_release(&d);
}

static void test_status_and_lists(void **state)
{
	(void)state;
	sw_diags d = SW_DIAGS_INIT;
	int code;

	/* a rejected API write: the Status body kubectl reads */
	json_t *o = json_loads("{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"web\"},"
	                       " \"spec\": {\"replicas\": -1, \"template\": {\"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\"}]}}}}",
	                       0, NULL);
	assert_int_equal(sw_manifest_admit(o, &d), SW_EINVALID);
	json_t *st = sw_manifest_status(o, &d, &code);
	assert_int_equal(code, 422);
	assert_json_at(st, "reason", "\"Invalid\"");
	assert_json_at(st, "code", "422");
	assert_json_at(st, "message", "\"Deployment.apps \\\"web\\\" is invalid: [spec.replicas: must be greater than or "
	                              "equal to 0, spec.selector: required value]\"");
	assert_json_at(st, "details.causes[1]", "{\"reason\": \"FieldValueRequired\", \"message\": \"required value\","
	                                        " \"field\": \"spec.selector\"}");
	assert_json_at(st, "details.group", "\"apps\"");
	json_decref(st);
	json_decref(o);
	sw_diags_release(&d);

	o = json_loads("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}, \"dat\": {}}", 0, NULL);
	assert_int_equal(sw_manifest_admit(o, &d), SW_EINVALID);
	st = sw_manifest_status(o, &d, &code);
	assert_int_equal(code, 400);
	assert_json_at(st, "reason", "\"BadRequest\"");
	assert_json_at(st, "message", "\"strict decoding error: unknown field \\\"dat\\\"\"");
	json_decref(st);
	json_decref(o);
	sw_diags_release(&d);

	/* what slipwayd writes itself: Events and Endpoints */
	o = json_loads("{\"apiVersion\": \"v1\", \"kind\": \"Event\", \"metadata\": {\"name\": \"web.1\", \"namespace\": \"default\"},"
	               " \"involvedObject\": {\"kind\": \"Pod\"}, \"reason\": \"Started\", \"message\": \"m\", \"count\": 1,"
	               " \"type\": \"Normal\", \"firstTimestamp\": \"2026-11-28T00:11:06Z\", \"source\": {\"component\": \"kubelet\"}}", 0, NULL);
	assert_int_equal(sw_manifest_admit(o, &d), 0);
	json_decref(o);
	o = json_loads("{\"apiVersion\": \"v1\", \"kind\": \"Endpoints\", \"metadata\": {\"name\": \"web\"}, \"subsets\": []}", 0, NULL);
	assert_int_equal(sw_manifest_admit(o, &d), 0);
	json_decref(o);
	assert_int_equal(d.len, 0);

	/* a v1 List (kubectl get -o yaml) is its items */
	mismatches = 0;
	json_t *objs = load_ok("apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n"
	                       "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n"
	                       "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: c, namespace: a}\n");
	assert_int_equal(json_array_size(objs), 2);
	json_decref(objs);
	expect_error("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {nam: a}\n",
	             "t.yaml:6:14: error: unknown field \"items[0].metadata.nam\"");
	expect_error("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 1}], selector: {app: \"a b\"}}\n",
	             "t.yaml:4:44: error: spec.selector.app: invalid value \"a b\": a valid label must be an empty string or "
	             "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
	assert_int_equal(mismatches, 0);
	sw_diags_release(&d);
}

static json_t *admitted(const char *json)
{
	sw_diags d = SW_DIAGS_INIT;
	json_t *o = json_loads(json, 0, NULL);
	assert_non_null(o);
	assert_int_equal(sw_manifest_admit(o, &d), 0);
	sw_diags_release(&d);
	return o;
}

static void expect_update(json_t *obj, const json_t *old, const char *want)
{
	sw_diags d = SW_DIAGS_INIT;
	int rc = sw_manifest_admit_update(obj, old, &d);
	if (!want) {
		if (rc != 0)
			sw_diags_print(&d, stderr);
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(rc, SW_EINVALID);
		char *line = sw_diag_format(&d.items[0]);
		assert_string_equal(line, want);
		free(line);
	}
	sw_diags_release(&d);
	json_decref(obj);
}

static void test_admit_update(void **state)
{
	(void)state;
	const char *dep = "{\"apiVersion\": \"apps/v1\", \"kind\": \"Deployment\", \"metadata\": {\"name\": \"web\"},"
	                  " \"spec\": {\"selector\": {\"matchLabels\": {\"app\": \"web\"}},"
	                  " \"template\": {\"metadata\": {\"labels\": {\"app\": \"web\", \"v\": \"1\"}},"
	                  " \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x:1\"}]}}}}";
	json_t *old = admitted(dep);
	json_t *n = json_deep_copy(old);
	json_object_set_new(sw_obj_path(n, "spec"), "replicas", json_integer(5));
	expect_update(n, old, NULL);
	n = json_deep_copy(old);
	json_object_set_new(sw_obj_path(n, "spec.selector.matchLabels"), "v", json_string("1"));
	expect_update(n, old, "error: spec.selector: field is immutable");
	json_decref(old);

	old = admitted("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},"
	               " \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x:1\"}]}}");
	n = json_deep_copy(old);
	json_object_set_new(json_array_get(sw_obj_path(n, "spec.containers"), 0), "image", json_string("x:2"));
	json_object_set_new(sw_obj_path(n, "spec"), "nodeName", json_string("local"));
	expect_update(n, old, NULL);
	n = json_deep_copy(old);
	json_object_set_new(sw_obj_path(n, "spec"), "restartPolicy", json_string("Never"));
	expect_update(n, old, "error: spec: pod updates may not change fields other than `spec.containers[*].image`, "
	                      "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)");
	json_decref(old);

	old = admitted("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"},"
	               " \"data\": {\"a\": \"1\"}, \"immutable\": true}");
	n = json_deep_copy(old);
	json_object_set_new(sw_obj_path(n, "data"), "a", json_string("2"));
	expect_update(n, old, "error: data: field is immutable when `immutable` is set");
	n = json_deep_copy(old);
	json_object_set_new(sw_obj_path(n, "metadata"), "labels", json_pack("{s:s}", "x", "y"));
	expect_update(n, old, NULL);
	json_decref(old);

	/* a named probe port the container lacks is worth a warning */
	expect_warning(POD_HEAD "  - name: a\n    image: x:1\n    readinessProbe: {httpGet: {port: http}}\n",
	               "t.yaml:8:32: warning: spec.containers[0].readinessProbe.httpGet.port: the container has no "
	               "port named \"http\"; the probe will fail");
}

static void test_explain(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	sw_error *err = NULL;

	assert_int_equal(sw_manifest_explain("deploy.spec.template.spec.containers.readinessProbe", f, &err), 0);
	fclose(f);
	assert_non_null(strstr(text, "KIND:     Deployment\nVERSION:  apps/v1\n"
	                             "FIELD:    spec.template.spec.containers.readinessProbe <Object>\n"));
	assert_non_null(strstr(text, "  periodSeconds                  <integer>\n"
	                             "                                   default: 10\n"));
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(sw_manifest_explain("app.processes", f, &err), 0);
	fclose(f);
	assert_non_null(strstr(text, "KIND:     App\nVERSION:  slipway.dev/v1\nFIELD:    processes <any>"));
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(sw_manifest_explain("po.spec.nope", f, &err), SW_ENOTFOUND);
	assert_string_equal(err->msg, "explain: field \"nope\" does not exist in Pod.spec");
	sw_error_clear(&err);
	assert_int_equal(sw_manifest_explain("cronjob", f, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	fclose(f);
	assert_int_equal(len, 0);
	free(text);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_manifest.XXXXXX";
	char path[600];
	sw_diags d = SW_DIAGS_INIT;
	sw_error *err = NULL;
	json_t *objs = NULL;

	assert_non_null(mkdtemp(dir));
	write_text(dir, "b.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");
	write_text(dir, "a.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}");
	write_text(dir, "slipway.yaml", "name: c\n");
	write_text(dir, "notes.txt", "not: [yaml\n");
	write_text(dir, ".hidden.yaml", "not: [yaml\n");
	assert_int_equal(sw_manifest_load_dir(dir, &objs, &d, &err), 0);
	assert_int_equal(json_array_size(objs), 3);
	assert_string_equal(sw_obj_str(json_array_get(objs, 0), "metadata.name"), "a");
	assert_string_equal(sw_obj_str(json_array_get(objs, 1), "metadata.name"), "b");
	assert_string_equal(sw_obj_str(json_array_get(objs, 2), "kind"), "Deployment");
	json_decref(objs);
	/* load_path takes a folder too; a file by itself */
	assert_int_equal(sw_manifest_load_path(dir, &objs, &d, &err), 0);
	json_decref(objs);
	snprintf(path, sizeof(path), "%s/b.yml", dir);
	assert_int_equal(sw_manifest_load_file(path, &objs, &d, &err), 0);
	assert_int_equal(json_array_size(objs), 1);
	json_decref(objs);

	/* one bad file: nothing at all, and the error names it */
	write_text(dir, "c.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: B}\n");
	assert_int_equal(sw_manifest_load_dir(dir, &objs, &d, &err), SW_EINVALID);
	assert_null(objs);
	assert_int_equal(d.errors, 1);
	char *line = sw_diag_format(&d.items[d.len - 1]);
	snprintf(path, sizeof(path), "%s/c.yaml:3:18: error: metadata.name: invalid value \"B\"", dir);
	assert_true(!strncmp(line, path, strlen(path)));
	free(line);
	sw_diags_release(&d);

	/* I/O problems are errors, not diagnostics */
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(sw_manifest_load_path(path, &objs, &d, &err), SW_ESYSTEM);
	sw_error_clear(&err);
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 9 * 1024; i++)
		fprintf(f, "#%01022d\n", 0);
	fclose(f);
	assert_int_equal(sw_manifest_load_file(path, &objs, &d, &err), SW_ETOOBIG);
	sw_error_clear(&err);
	assert_int_equal(d.len, 0);

	static const char *const names[] = { "a.json", "b.yml", "c.yaml", "slipway.yaml", "notes.txt",
		                                 ".hidden.yaml", "big.yaml", NULL };
	for (const char *const *n = names; *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
}

/* ---- slipway.yaml ----------------------------------------------------------- */

static void test_app_expansion(void **state)
{
	(void)state;
	sw_diags d = SW_DIAGS_INIT;
	const char *yaml =
		"name: hello\n"
		"image: hello:v3\n"
		"port: 5000\n"
		"replicas: 3\n"
		"healthCheck: {path: /healthz, initialDelaySeconds: 2}\n"
		"resources: {cpu: 250m, memory: 128Mi}\n"
		"env: {GREETING: hi, DEBUG: true, WORKERS: 4}\n"
		"labels: {team: web}\n"
		"strategy: {rolling: {maxSurge: 1, maxUnavailable: 0}}\n"
		"processes:\n"
		"  worker:\n"
		"    command: ./work --queue default\n"
		"    replicas: 2\n"
		"    env: {GREETING: yo}\n"
		"  web: {}\n"
		"  admin: {command: [./admin, serve], port: 9000, protocol: tcp, healthCheck: {liveness: false}}\n";
	json_t *objs = load_ok_named("slipway.yaml", yaml, &d);
	assert_int_equal(d.len, 0);
	assert_int_equal(json_array_size(objs), 5);
	/* web first, then by name; a Service after each process with a port */
	static const char *const order[][2] = {
		{ "Deployment", "hello" }, { "Service", "hello" }, { "Deployment", "hello-admin" },
		{ "Service", "hello-admin" }, { "Deployment", "hello-worker" },
	};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(sw_obj_str(json_array_get(objs, i), "kind"), order[i][0]);
		assert_string_equal(sw_obj_str(json_array_get(objs, i), "metadata.name"), order[i][1]);
	}
	json_t *web = json_array_get(objs, 0);
	assert_json_at(web, "metadata.labels", "{\"team\": \"web\", \"app.kubernetes.io/name\": \"hello\", "
	                                       "\"slipway.dev/process\": \"web\", \"app.kubernetes.io/managed-by\": \"slipway\"}");
	assert_json_at(web, "spec.selector", "{\"matchLabels\": {\"app.kubernetes.io/name\": \"hello\", "
	                                     "\"slipway.dev/process\": \"web\"}}");
	assert_json_at(web, "spec.replicas", "3");
	assert_json_at(web, "spec.strategy", "{\"type\": \"RollingUpdate\", \"rollingUpdate\": {\"maxSurge\": 1, \"maxUnavailable\": 0}}");
	json_t *c = json_array_get(sw_obj_path_test(web, "spec.template.spec.containers"), 0);
	assert_json_at(c, "name", "\"web\"");
	assert_json_at(c, "image", "\"hello:v3\"");
	assert_null(json_object_get(c, "command"));
	assert_json_at(c, "ports", "[{\"name\": \"http\", \"containerPort\": 5000, \"protocol\": \"TCP\"}]");
	assert_json_at(c, "env", "[{\"name\": \"DEBUG\", \"value\": \"true\"}, {\"name\": \"GREETING\", \"value\": \"hi\"},"
	                         " {\"name\": \"WORKERS\", \"value\": \"4\"}]");
	assert_json_at(c, "resources", "{\"limits\": {\"cpu\": \"250m\", \"memory\": \"128Mi\"},"
	                               " \"requests\": {\"cpu\": \"250m\", \"memory\": \"128Mi\"}}");
	assert_json_at(c, "readinessProbe", "{\"httpGet\": {\"path\": \"/healthz\", \"port\": \"http\", \"scheme\": \"HTTP\"},"
	                                    " \"initialDelaySeconds\": 2, \"timeoutSeconds\": 1, \"periodSeconds\": 10,"
	                                    " \"successThreshold\": 1, \"failureThreshold\": 3}");
	assert_json_at(c, "livenessProbe.httpGet.path", "\"/healthz\"");
	json_t *svc = json_array_get(objs, 1);
	assert_json_at(svc, "spec.ports", "[{\"name\": \"http\", \"port\": 5000, \"targetPort\": \"http\", \"protocol\": \"TCP\"}]");
	assert_json_at(svc, "spec.selector", "{\"app.kubernetes.io/name\": \"hello\", \"slipway.dev/process\": \"web\"}");

	json_t *admin = json_array_get(objs, 2);
	c = json_array_get(sw_obj_path_test(admin, "spec.template.spec.containers"), 0);
	assert_json_at(c, "command", "[\"./admin\", \"serve\"]");
	assert_json_at(c, "readinessProbe.tcpSocket", "{\"port\": \"tcp\"}");
	assert_null(json_object_get(c, "livenessProbe"));
	assert_json_at(c, "ports[0].name", "\"tcp\"");

	json_t *worker = json_array_get(objs, 4);
	c = json_array_get(sw_obj_path_test(worker, "spec.template.spec.containers"), 0);
	assert_json_at(worker, "spec.replicas", "2");
	assert_json_at(c, "command", "[\"/bin/sh\", \"-c\", \"./work --queue default\"]");
	assert_json_at(c, "env[1]", "{\"name\": \"GREETING\", \"value\": \"yo\"}");
	assert_null(json_object_get(c, "ports"));
	assert_null(json_object_get(c, "readinessProbe"));
	json_decref(objs);
	sw_diags_release(&d);

	/* the smallest app: one web process, no image (a release gives it) */
	objs = load_ok_named("slipway.yaml", "name: tiny\n", &d);
	assert_int_equal(json_array_size(objs), 1);
	assert_null(sw_obj_path_test(json_array_get(objs, 0), "spec.template.spec.containers[0].image"));
	json_decref(objs);
	sw_diags_release(&d);
	/* the image from the options (a release's) wins */
	sw_manifest_opts o = { .image = "tiny:v9" };
	assert_int_equal(sw_manifest_load_buf_opts("x.yaml", "apiVersion: slipway.dev/v1\nkind: App\nname: tiny\nimage: a\n",
	                                           55, &o, &objs, &d, NULL), 0);
	json_t *ctr = json_array_get(sw_obj_path_test(json_array_get(objs, 0), "spec.template.spec.containers"), 0);
	assert_json_at(ctr, "image", "\"tiny:v9\"");
	json_decref(objs);
	sw_diags_release(&d);

	/* errors point into slipway.yaml */
	int rc;
	char *got = first_diag("slipway.yaml", "name: hello\nreplica: 3\n", SW_DIAG_ERROR, &rc);
	assert_string_equal(got, "slipway.yaml:2:1: error: unknown field \"replica\"");
	free(got);
	got = first_diag("slipway.yaml", "name: hello\nprocesses:\n  web: {port: 0}\n", SW_DIAG_ERROR, &rc);
	assert_string_equal(got, "slipway.yaml:3:15: error: processes.web.port: must be between 1 and 65535, inclusive");
	free(got);
	got = first_diag("slipway.yaml", "name: hello\nresources: {cpu: lots}\n", SW_DIAG_ERROR, &rc);
	assert_string_equal(got, "slipway.yaml:2:18: error: resources.cpu: quantity \"lots\": must start with a number "
	                         "(quantities look like 500m, 128Mi, 1.5)");
	free(got);
	got = first_diag("slipway.yaml", "name: hello\nstrategy: sideways\n", SW_DIAG_ERROR, &rc);
	assert_string_equal(got, "slipway.yaml:2:11: error: strategy: unsupported value \"sideways\": supported values: "
	                         "\"rolling\", \"recreate\"");
	free(got);
	got = first_diag("slipway.yaml", "name: hello\nhealthCheck: {path: /}\n", SW_DIAG_ERROR, &rc);
	assert_non_null(strstr(got, "has a health check but no port"));
	free(got);
	got = first_diag("slipway.yaml", "port: 80\n", SW_DIAG_ERROR, &rc);
	assert_string_equal(got, "slipway.yaml:1:1: error: name: required value");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_deployment_defaults),
		cmocka_unit_test(test_pod_defaults),
		cmocka_unit_test(test_service_defaults),
		cmocka_unit_test(test_secret_and_configmap),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unsupported_warnings),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_status_and_lists),
		cmocka_unit_test(test_admit_update),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_app_expansion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
