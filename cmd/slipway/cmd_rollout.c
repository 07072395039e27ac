/*
 * cmd_rollout.c - `slipway rollout status|history|undo|pause|resume|restart
 * deployment/NAME`, with kubectl's messages and exit codes. status
 * watches the deployment and applies kubectl's rules (observedGeneration,
 * updated, old pending termination, available; ProgressDeadlineExceeded
 * is a failure); undo copies a replica set's pod template back into the
 * deployment as kubectl does.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kube.h"
#include "slipway/cleanup.h"
#include "slipway/json.h"
#include "slipway/mem.h"
#include "slipway/object.h"
#include "slipway/printers.h"

#define ROLLOUT_SUBS                                                                  \
	"  status   DEPLOYMENT [--timeout D] [-w=false]  wait for the rollout to finish\n" \
	"  history  DEPLOYMENT [--revision N]   revisions and their change causes\n"      \
	"  undo     DEPLOYMENT [--to-revision N] go back to a revision (default: the previous)\n" \
	"  pause    DEPLOYMENT                   stop rolling out template changes\n"      \
	"  resume   DEPLOYMENT                   roll out again\n"                         \
	"  restart  DEPLOYMENT                   replace every pod (a new revision)\n"

const char cli_rollout_usage[] =
	"usage: slipway rollout status|history|undo|pause|resume|restart deployment/NAME [flags]\n"
	"\n"
	"Manages a deployment's rollouts as kubectl rollout does. DEPLOYMENT is\n"
	"deployment/NAME (or deploy/NAME, or NAME).\n"
	"\n" ROLLOUT_SUBS
	"\n"
	"Each takes -n/--namespace NS and --state-dir DIR; `slipway rollout SUB --help`\n"
	"for the rest.\n";

static const char status_usage[] =
	"usage: slipway rollout status deployment/NAME [-n NS] [--timeout D] [-w=true|false]\n"
	"\n"
	"Waits until the deployment's rollout is complete (exit 0) or its progress\n"
	"deadline passes (exit 1), printing kubectl's progress lines.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --timeout D          give up after D (90s, 5m; exit 1); default: no limit\n"
	"  -w, --watch=BOOL         false: print the current status once and exit\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

static const char history_usage[] =
	"usage: slipway rollout history deployment/NAME [-n NS] [--revision N]\n"
	"\n"
	"Lists the deployment's revisions (its replica sets) with their change\n"
	"cause; with --revision, the pod template of that revision.\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --revision N         show this revision's pod template\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

static const char undo_usage[] =
	"usage: slipway rollout undo deployment/NAME [-n NS] [--to-revision N]\n"
	"\n"
	"Rolls back to an earlier revision: its pod template becomes the\n"
	"deployment's again (a new revision number, as in Kubernetes).\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --to-revision N      the revision (default: the one before the current)\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

static const char simple_usage_fmt[] =
	"usage: slipway rollout %s deployment/NAME [-n NS]\n"
	"\n"
	"%s\n"
	"\n"
	"  -n, --namespace NS       the namespace (default \"default\")\n"
	"      --state-dir DIR      the daemon's state dir (socket) instead of the default\n"
	"  -h, --help               this text\n";

static int rollout_status(int argc, char **argv, const struct cli_command *self);
static int rollout_history(int argc, char **argv, const struct cli_command *self);
static int rollout_undo(int argc, char **argv, const struct cli_command *self);
static int rollout_pause(int argc, char **argv, const struct cli_command *self);
static int rollout_resume(int argc, char **argv, const struct cli_command *self);
static int rollout_restart(int argc, char **argv, const struct cli_command *self);

static const struct cli_command rollout_commands[] = {
	{ "status", rollout_status, CLI_NEEDS_DAEMON, "", status_usage },
	{ "history", rollout_history, CLI_NEEDS_DAEMON, "", history_usage },
	{ "undo", rollout_undo, CLI_NEEDS_DAEMON, "", undo_usage },
	{ "pause", rollout_pause, CLI_NEEDS_DAEMON, "stops rolling out template changes until resumed", NULL },
	{ "resume", rollout_resume, CLI_NEEDS_DAEMON, "rolls out template changes again", NULL },
	{ "restart", rollout_restart, CLI_NEEDS_DAEMON,
	  "replaces every pod (annotation kubectl.kubernetes.io/restartedAt on the template)", NULL },
	{ NULL, NULL, 0, NULL, NULL },
};

int cmd_rollout(int argc, char **argv, const struct cli_command *self)
{
	return cli_dispatch_sub(self, rollout_commands, argc, argv);
}

/* ---- shared ------------------------------------------------------------- */

struct rflags {
	const char *state_dir, *ns, *timeout, *watch, *revision;
	const char *target;
};

static int print_simple_help(const struct cli_command *self)
{
	printf(simple_usage_fmt, self->name, self->summary);
	return EXIT_OK;
}

/* Parses the flags of every sub-verb; `allowed` lists the long options
 * beyond -n and --state-dir. Returns -1 with *rc set on --help or a usage
 * error. */
static int parse(const struct cli_command *self, int argc, char **argv, const char *allowed, struct rflags *f,
                 int *rc)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, KOPT_STATE_DIR },
		{ "timeout", required_argument, NULL, KOPT_TIMEOUT },
		{ "watch", optional_argument, NULL, 'w' },
		{ "revision", required_argument, NULL, KOPT_REVISION },
		{ "to-revision", required_argument, NULL, KOPT_TO_REVISION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_free char *usage_line = sw_xasprintf("usage: slipway rollout %s deployment/NAME\n", self->name);
	struct cli_command fake = { self->name, NULL, 0, "", self->usage ? self->usage : usage_line };
	int c, idx = 0;

	*f = (struct rflags){ 0 };
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:w::h", opts, &idx)) != -1) {
		const char *name = c == '?' || c == ':' ? NULL : opts[idx].name;
		if (c == 'h') {
			*rc = self->usage ? cli_help(self) : print_simple_help(self);
			return -1;
		}
		if (c == 'n') {
			f->ns = optarg;
		} else if (c == KOPT_STATE_DIR) {
			f->state_dir = optarg;
		} else if (c == KOPT_TIMEOUT && strstr(allowed, "timeout")) {
			f->timeout = optarg;
		} else if (c == 'w' && strstr(allowed, "watch")) {
			f->watch = optarg ? optarg + (optarg[0] == '=') : "true";
		} else if (c == KOPT_REVISION && strstr(allowed, "revision") && !strstr(allowed, "to-revision")) {
			f->revision = optarg;
		} else if (c == KOPT_TO_REVISION && strstr(allowed, "to-revision")) {
			f->revision = optarg;
		} else {
			(void)name;
			*rc = cli_usage_error(&fake, "rollout %s: unknown or incomplete flag '%s'", self->name, argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		*rc = cli_usage_error(&fake, "rollout %s: which deployment? (deployment/NAME)", self->name);
		return -1;
	}
	if (optind + 1 < argc) {
		*rc = cli_usage_error(&fake, "rollout %s: one deployment at a time", self->name);
		return -1;
	}
	f->target = argv[optind];
	return 0;
}

static int open_target(const struct rflags *f, struct kube *k, const char **name, sw_error **err)
{
	const sw_kind *kind;
	int ret;

	if ((ret = kube_kind_name(&kind, name, f->target, "deployments", err)) < 0)
		return ret;
	if (strcmp(kind->kind, "Deployment"))
		return sw_error_set(err, SW_EINVALID, "error: no rollout support for %s (only deployments)",
		                    kind->resource);
	return kube_open(k, f->state_dir, f->ns, err);
}

/* ---- status ------------------------------------------------------------- */

enum verdict { V_WAIT, V_DONE, V_FAILED };

static enum verdict judge(const json_t *d, char **msg)
{
	const char *name = sw_obj_name(d) ?: "";
	const json_t *c;
	size_t i;

	if (sw_obj_int(d, "metadata.generation", 0) > sw_obj_int(d, "status.observedGeneration", 0)) {
		*msg = sw_xstrdup("Waiting for deployment spec update to be observed...");
		return V_WAIT;
	}
	json_array_foreach(sw_obj_path(d, "status.conditions"), i, c) {
		if (!strcmp(sw_obj_str(c, "type") ?: "", "Progressing") &&
		    !strcmp(sw_obj_str(c, "reason") ?: "", "ProgressDeadlineExceeded")) {
			*msg = sw_xasprintf("error: deployment \"%s\" exceeded its progress deadline", name);
			return V_FAILED;
		}
	}
	int64_t want = sw_obj_int(d, "spec.replicas", 1), updated = sw_obj_int(d, "status.updatedReplicas", 0);
	int64_t total = sw_obj_int(d, "status.replicas", 0), avail = sw_obj_int(d, "status.availableReplicas", 0);
	if (updated < want) {
		*msg = sw_xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas have been updated...",
		                    name, (long long)updated, (long long)want);
		return V_WAIT;
	}
	if (total > updated) {
		*msg = sw_xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending termination...",
		                    name, (long long)(total - updated));
		return V_WAIT;
	}
	if (avail < updated) {
		*msg = sw_xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas are available...",
		                    name, (long long)avail, (long long)updated);
		return V_WAIT;
	}
	*msg = sw_xasprintf("deployment \"%s\" successfully rolled out", name);
	return V_DONE;
}

struct status_ctx {
	const char *name;
	char *last;
	enum verdict v;
	char *rv;
};

/* Prints the verdict when it changed; true while waiting. */
static bool report(struct status_ctx *s, const json_t *d)
{
	char *msg = NULL;

	s->v = judge(d, &msg);
	if (!s->last || strcmp(s->last, msg)) {
		fprintf(s->v == V_FAILED ? stderr : stdout, "%s\n", msg);
		fflush(stdout);
		free(s->last);
		s->last = msg;
	} else {
		free(msg);
	}
	const char *rv = sw_obj_str(d, "metadata.resourceVersion");
	if (rv) {
		free(s->rv);
		s->rv = sw_xstrdup(rv);
	}
	return s->v == V_WAIT;
}

static bool on_status_line(const char *line, size_t len, void *payload)
{
	struct status_ctx *s = payload;
	cleanup_json json_t *ev = json_loadb(line, len, 0, NULL);
	const json_t *obj = json_object_get(ev, "object");
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (!type || !obj || strcmp(sw_obj_name(obj) ?: "", s->name))
		return true;
	if (!strcmp(type, "DELETED")) {
		fprintf(stderr, "error: deployment \"%s\" was deleted\n", s->name);
		s->v = V_FAILED;
		return false;
	}
	if (!strcmp(type, "ERROR")) {
		/* resourceVersion too old: the caller lists again */
		free(s->rv);
		s->rv = NULL;
		return false;
	}
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED"))
		return true;
	return report(s, obj);
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static int rollout_status(int argc, char **argv, const struct cli_command *self)
{
	struct rflags f;
	struct kube k;
	const char *name;
	sw_error *err = NULL;
	long timeout_ms = 0;
	bool watch = true;
	int rc;

	if (parse(self, argc, argv, "timeout watch", &f, &rc) < 0)
		return rc;
	if (f.timeout && (timeout_ms = kube_parse_duration_ms(f.timeout)) < 0)
		return cli_usage_error(self, "rollout status: --timeout wants a duration (90s, 5m), not '%s'", f.timeout);
	if (f.watch) {
		if (strcmp(f.watch, "true") && strcmp(f.watch, "false"))
			return cli_usage_error(self, "rollout status: --watch is true or false, not '%s'", f.watch);
		watch = !strcmp(f.watch, "true");
	}
	if (open_target(&f, &k, &name, &err) < 0)
		return kube_fail(err);

	rc = kube_rollout_status(&k, name, timeout_ms, watch);
	kube_close(&k);
	return rc;
}

int kube_rollout_status(struct kube *k, const char *name, long timeout_ms, bool watch)
{
	sw_error *err = NULL;
	int rc;

	struct status_ctx s = { .name = name };
	struct timespec start;
	const sw_kind *dk = sw_kind_lookup("deployments");
	clock_gettime(CLOCK_MONOTONIC, &start);
	rc = EXIT_OK;
	for (;;) {
		if (!s.rv) {
			cleanup_json json_t *d = NULL;
			if (kube_get(k, dk, k->ns, name, &d, &err) < 0) {
				rc = kube_fail(err);
				break;
			}
			if (!report(&s, d) || !watch)
				break;
		}
		long left = 0;
		if (timeout_ms > 0 && (left = timeout_ms - elapsed_ms(&start)) <= 0) {
			fprintf(stderr, "error: timed out waiting for the condition\n");
			rc = EXIT_FAIL;
			break;
		}
		cleanup_free char *base = sw_client_path(dk, k->ns, NULL, NULL);
		cleanup_free char *path = sw_xasprintf("%s?watch=1&fieldSelector=metadata.name%%3D%s&resourceVersion=%s", base,
		                                       name, s.rv);
		bool timed_out = false;
		if (sw_client_stream(k->client, path, left, &timed_out, on_status_line, &s, &err) < 0) {
			rc = kube_fail(err);
			break;
		}
		if (s.v != V_WAIT)
			break;
		if (timed_out) {
			fprintf(stderr, "error: timed out waiting for the condition\n");
			rc = EXIT_FAIL;
			break;
		}
		/* the server ended the watch: read the object again and resume */
		free(s.rv);
		s.rv = NULL;
	}
	if (rc == EXIT_OK && s.v == V_FAILED)
		rc = EXIT_FAIL;
	free(s.last);
	free(s.rv);
	return rc;
}

/* ---- history and undo ------------------------------------------------------ */

/* The deployment's replica sets, sorted by revision (ascending). */
static int owned_rs(struct kube *k, const json_t *d, json_t **out, sw_error **err)
{
	cleanup_json json_t *all = NULL;
	json_t *rs;
	size_t i;
	int ret;

	if ((ret = kube_list(k, sw_kind_lookup("replicasets"), sw_obj_namespace(d), NULL, &all, NULL, err)) < 0)
		return ret;
	*out = json_array();
	json_array_foreach(all, i, rs)
		if (sw_obj_owned_by(rs, d))
			json_array_append(*out, rs);
	/* insertion sort by revision */
	size_t n = json_array_size(*out);
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0; b--) {
			const char *x = sw_obj_annotation(json_array_get(*out, b - 1), "deployment.kubernetes.io/revision");
			const char *y = sw_obj_annotation(json_array_get(*out, b), "deployment.kubernetes.io/revision");
			if (strtoll(x ? x : "0", NULL, 10) <= strtoll(y ? y : "0", NULL, 10))
				break;
			json_t *t = json_incref(json_array_get(*out, b));
			json_array_set(*out, b, json_array_get(*out, b - 1));
			json_array_set_new(*out, b - 1, t);
		}
	return 0;
}

static long long rs_revision(const json_t *rs)
{
	const char *r = sw_obj_annotation(rs, "deployment.kubernetes.io/revision");
	return r ? strtoll(r, NULL, 10) : 0;
}

static int rollout_history(int argc, char **argv, const struct cli_command *self)
{
	struct rflags f;
	struct kube k;
	const char *name;
	sw_error *err = NULL;
	long long want = 0;
	int rc;

	if (parse(self, argc, argv, "revision", &f, &rc) < 0)
		return rc;
	if (f.revision) {
		char *end;
		want = strtoll(f.revision, &end, 10);
		if (*end || want <= 0)
			return cli_usage_error(self, "rollout history: --revision wants a revision number, not '%s'", f.revision);
	}
	if (open_target(&f, &k, &name, &err) < 0)
		return kube_fail(err);
	cleanup_json json_t *d = NULL, *rss = NULL;
	if (kube_get(&k, sw_kind_lookup("deployments"), k.ns, name, &d, &err) < 0 || owned_rs(&k, d, &rss, &err) < 0) {
		rc = kube_fail(err);
		kube_close(&k);
		return rc;
	}
	json_t *rs;
	size_t i;
	rc = EXIT_OK;
	if (want) {
		const json_t *found = NULL;
		json_array_foreach(rss, i, rs)
			if (rs_revision(rs) == want)
				found = rs;
		if (!found) {
			fprintf(stderr, "error: unable to find the specified revision\n");
			rc = EXIT_FAIL;
		} else {
			cleanup_json json_t *tmpl = json_deep_copy(sw_obj_path(found, "spec.template"));
			cleanup_free char *y = NULL;
			json_t *labels = sw_obj_path(tmpl, "metadata.labels");
			json_object_del(labels, "pod-template-hash");
			printf("deployment.apps/%s with revision #%lld\nPod Template:\n", name, want);
			if (sw_print_yaml(&y, tmpl, &err) < 0) {
				rc = kube_fail(err);
			} else {
				for (char *line = strtok(y, "\n"); line; line = strtok(NULL, "\n"))
					printf("  %s\n", line);
			}
		}
	} else {
		printf("deployment.apps/%s \nREVISION  CHANGE-CAUSE\n", name);
		json_array_foreach(rss, i, rs) {
			const char *cause = sw_obj_annotation(rs, "kubernetes.io/change-cause");
			printf("%-10lld%s\n", rs_revision(rs), cause && *cause ? cause : "<none>");
		}
		printf("\n");
	}
	kube_close(&k);
	return rc;
}

static bool skip_annotation(const char *key)
{
	static const char *const skip[] = { "kubectl.kubernetes.io/last-applied-configuration",
		                            "deployment.kubernetes.io/revision",
		                            "deployment.kubernetes.io/revision-history",
		                            "deployment.kubernetes.io/desired-replicas",
		                            "deployment.kubernetes.io/max-replicas",
		                            "deprecated.deployment.rollback.to",
		                            NULL };
	for (size_t i = 0; skip[i]; i++)
		if (!strcmp(key, skip[i]))
			return true;
	return false;
}

static int undo_run(struct kube *k, const char *name, long long to, sw_error **err)
{
	cleanup_json json_t *d = NULL, *rss = NULL;
	const sw_kind *dk = sw_kind_lookup("deployments");
	int ret;

	if ((ret = kube_get(k, dk, k->ns, name, &d, err)) < 0 || (ret = owned_rs(k, d, &rss, err)) < 0)
		return ret;
	if (sw_obj_bool(d, "spec.paused", false))
		return sw_error_set(err, SW_EINVALID, "error: you cannot rollback a paused deployment; resume it first with 'slipway rollout resume deployment/%s' and try again", name);
	const char *cur_s = sw_obj_annotation(d, "deployment.kubernetes.io/revision");
	long long cur = cur_s ? strtoll(cur_s, NULL, 10) : 0;
	const json_t *target = NULL, *rs;
	size_t i;
	json_array_foreach(rss, i, rs) {
		long long r = rs_revision(rs);
		if (to ? r == to : (r != cur && (!target || r > rs_revision(target))))
			target = rs;
	}
	if (!target)
		return to ? sw_error_set(err, SW_ENOTFOUND, "error: unable to find specified revision %lld in history", to)
		          : sw_error_set(err, SW_ENOTFOUND, "error: no rollout history found for deployment \"%s\"", name);
	cleanup_json json_t *tmpl = json_deep_copy(sw_obj_path(target, "spec.template"));
	json_object_del(sw_obj_path(tmpl, "metadata.labels"), "pod-template-hash");
	if (json_equal(tmpl, sw_obj_path(d, "spec.template"))) {
		printf("deployment.apps/%s skipped rollback (current template already matches revision %lld)\n", name,
		       rs_revision(target));
		return 0;
	}
	json_object_set(sw_obj_mkpath(d, "spec"), "template", tmpl);
	/* the replica set's annotations (change-cause among them) come back */
	const char *key;
	json_t *v;
	json_t *ann = sw_obj_mkpath(d, "metadata.annotations");
	json_object_foreach(sw_obj_path(target, "metadata.annotations"), key, v)
		if (!skip_annotation(key))
			json_object_set(ann, key, v);
	cleanup_free char *path = sw_client_path(dk, k->ns, name, NULL);
	if ((ret = sw_client_request(k->client, "PUT", path, d, NULL, err)) < 0)
		return ret;
	printf("deployment.apps/%s rolled back\n", name);
	return 0;
}

static int rollout_undo(int argc, char **argv, const struct cli_command *self)
{
	struct rflags f;
	struct kube k;
	const char *name;
	sw_error *err = NULL;
	long long to = 0;
	int rc;

	if (parse(self, argc, argv, "to-revision", &f, &rc) < 0)
		return rc;
	if (f.revision) {
		char *end;
		to = strtoll(f.revision, &end, 10);
		if (*end || to < 0)
			return cli_usage_error(self, "rollout undo: --to-revision wants a revision number, not '%s'", f.revision);
	}
	if (open_target(&f, &k, &name, &err) < 0)
		return kube_fail(err);
	rc = undo_run(&k, name, to, &err) < 0 ? kube_fail(err) : EXIT_OK;
	kube_close(&k);
	return rc;
}

/* ---- pause, resume, restart ---------------------------------------------- */

enum simple_op { OP_PAUSE, OP_RESUME, OP_RESTART };

static int simple(const struct cli_command *self, int argc, char **argv, enum simple_op op)
{
	struct rflags f;
	struct kube k;
	const char *name;
	sw_error *err = NULL;
	int rc;

	if (parse(self, argc, argv, "", &f, &rc) < 0)
		return rc;
	if (open_target(&f, &k, &name, &err) < 0)
		return kube_fail(err);
	const sw_kind *dk = sw_kind_lookup("deployments");
	cleanup_json json_t *d = NULL, *patch = NULL;
	cleanup_free char *path = sw_client_path(dk, k.ns, name, NULL);
	bool paused;
	rc = EXIT_OK;
	if (kube_get(&k, dk, k.ns, name, &d, &err) < 0) {
		rc = kube_fail(err);
		goto out;
	}
	paused = sw_obj_bool(d, "spec.paused", false);
	if (op == OP_PAUSE && paused) {
		fprintf(stderr, "error: deployments.apps \"%s\" is already paused\n", name);
		rc = EXIT_FAIL;
	} else if (op == OP_RESUME && !paused) {
		fprintf(stderr, "error: deployments.apps \"%s\" is not paused\n", name);
		rc = EXIT_FAIL;
	} else if (op == OP_RESTART && paused) {
		fprintf(stderr, "error: deployments.apps \"%s\" can't restart paused deployment (run rollout resume first)\n",
		        name);
		rc = EXIT_FAIL;
	}
	if (rc != EXIT_OK)
		goto out;
	if (op == OP_RESTART) {
		char ts[32];
		sw_time_format(time(NULL), ts);
		patch = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata", "annotations",
		                  "kubectl.kubernetes.io/restartedAt", ts);
	} else {
		patch = json_pack("{s:{s:b}}", "spec", "paused", op == OP_PAUSE);
	}
	if (sw_client_request(k.client, "PATCH", path, patch, NULL, &err) < 0) {
		rc = kube_fail(err);
		goto out;
	}
	printf("deployment.apps/%s %s\n", name, op == OP_PAUSE ? "paused" : op == OP_RESUME ? "resumed" : "restarted");
out:
	kube_close(&k);
	return rc;
}

static int rollout_pause(int argc, char **argv, const struct cli_command *self)
{
	return simple(self, argc, argv, OP_PAUSE);
}

static int rollout_resume(int argc, char **argv, const struct cli_command *self)
{
	return simple(self, argc, argv, OP_RESUME);
}

static int rollout_restart(int argc, char **argv, const struct cli_command *self)
{
	return simple(self, argc, argv, OP_RESTART);
}
