/*
 * kube.h - what the verbs that talk to slipwayd share (apply, get,
 * describe, delete, scale, logs, exec, rollout, deploy, up, top, events):
 * opening the client, the namespace, "KIND/NAME" operands, fetching and
 * printing objects, and kubectl-style error output.
 */
#ifndef SLIPWAY_KUBE_H
#define SLIPWAY_KUBE_H

#include <jansson.h>
#include <stdbool.h>

#include "cli.h"
#include "slipway/client.h"
#include "slipway/error.h"
#include "slipway/kinds.h"

/* Long-option codes the kube verbs share (beyond single letters). */
enum {
	KOPT_STATE_DIR = 0x200,
	KOPT_DRY_RUN,
	KOPT_GRACE,
	KOPT_WAIT,
	KOPT_REPLICAS,
	KOPT_PREVIOUS,
	KOPT_TAIL,
	KOPT_TIMEOUT,
	KOPT_TO_REVISION,
	KOPT_NO_WAIT,
	KOPT_NO_HEADERS,
	KOPT_REVISION,
	KOPT_ALL,
	KOPT_FIELD_SELECTOR,
};

struct kube {
	sw_client *client;
	char *state_dir;
	const char *ns;       /* -n, else "default" */
	bool ns_given;
};

/* Resolves the state dir (flag, SLIPWAY_HOME, default) and opens the
 * client; k->ns is "default" unless ns is given. */
int kube_open(struct kube *k, const char *state_dir_flag, const char *ns, sw_error **err);
void kube_close(struct kube *k);

/* Prints err as kubectl does ("Error from server (NotFound): ..." as is,
 * anything else as "slipway: error: ...") and returns EXIT_FAIL. */
int kube_fail(sw_error *err);

/* A kind as the user typed it; SW_EINVALID naming it when unknown
 * (`error: the server doesn't have a resource type "x"`). */
int kube_kind(const sw_kind **out, const char *name, sw_error **err);
/* "deployment/web" or "deploy/web" -> kind and name; SW_EINVALID when the
 * operand has no slash and def_kind is NULL (else def_kind, operand). */
int kube_kind_name(const sw_kind **kind, const char **name, const char *operand, const char *def_kind,
                   sw_error **err);

/* GET one object (ns ignored for cluster-scoped kinds). */
int kube_get(struct kube *k, const sw_kind *kind, const char *ns, const char *name, json_t **out,
             sw_error **err);
/* LIST: *items a new array; query (may be NULL) is appended ("labelSelector=..").
 * *rv (may be NULL) gets the list's resourceVersion (caller frees). */
int kube_list(struct kube *k, const sw_kind *kind, const char *ns, const char *query, json_t **items, char **rv,
              sw_error **err);

/* -o: "", "wide", "json", "yaml", "name" (anything else: usage error). */
bool kube_output_valid(const char *o);
/* Prints one object per -o json|yaml|name. */
int kube_print_object(const sw_kind *kind, const json_t *obj, const char *output, sw_error **err);
/* A {"kind":"List"} of items for -o json|yaml. */
json_t *kube_list_object(const json_t *items);

/* Parses "90s", "5m", "1h30m", "2" (seconds); -1 when bad. */
long kube_parse_duration_ms(const char *s);

/* Events about the object with this uid (newest last). */
int kube_events_for(struct kube *k, const char *ns, const char *uid, json_t **out, sw_error **err);

/*
 * Creates or updates every object (all or nothing, see kube_apply.c) and
 * prints kubectl's lines ("deployment.apps/web created") or, for output
 * json|yaml|name, the objects. Objects without a namespace go to k->ns.
 */
/* Loads and validates -f operands ("-" is stdin) with the manifests
 * library; diagnostics go to stderr; one error and nothing is returned. */
int kube_load_manifests(const char *const *files, size_t nfiles, json_t **out, sw_error **err);

enum kube_dry_run { KUBE_DRY_NONE, KUBE_DRY_CLIENT, KUBE_DRY_SERVER };
/* KUBE_APPLY_THREE_WAY: kubectl apply (what others changed since the last
 * apply and the manifest leaves alone is kept); KUBE_APPLY_RELEASE: `slipway
 * deploy`, the objects are the whole desired state (a deploy after a
 * rollout undo rolls the release out again) but for spec.replicas, which
 * keeps a scale when the release does not change it. */
enum kube_apply_mode { KUBE_APPLY_THREE_WAY, KUBE_APPLY_RELEASE };
int kube_apply(struct kube *k, const json_t *objects, enum kube_dry_run dry, enum kube_apply_mode mode,
               const char *output, sw_error **err);

/* kubectl rollout status for deployment name: progress lines on stdout,
 * EXIT_OK when rolled out, EXIT_FAIL on ProgressDeadlineExceeded, a
 * timeout (timeout_ms > 0) or an error. watch false: report once. */
int kube_rollout_status(struct kube *k, const char *name, long timeout_ms, bool watch);

#endif
