/*
 * step_runtime.h - what the image builder needs to run a step: cached,
 * unpacked layers; an overlay root filesystem over them whose upper dir
 * collects the step's changes; a container (runc) to run RUN in; and the
 * diff of the upper dir as a layer. Private to build/.
 *
 *   layers (blobs) --layer cache--> STATE/layers/<diff_id hex>/ (unpacked once)
 *   lower dirs + upper + work --overlayfs--> merged rootfs
 *   RUN: runc with a config.json slipway writes, rootfs = merged
 *   COPY/ADD: written into merged by the builder (paths resolved in root)
 *   upper --sw_rootfs_diff--> sw_layer (with .wh. whiteouts) --sw_layer_write--> blob
 *
 * Everything here needs root (overlayfs, runc); callers report SW_EFAIL
 * with a clear message when not root.
 */
#ifndef SLIPWAY_STEP_RUNTIME_H
#define SLIPWAY_STEP_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "slipway/error.h"
#include "slipway/image_store.h"

/* ---- layer cache: STATE/layers/<hex of diff_id>/ ------------------------- */

typedef struct sw_layer_cache sw_layer_cache;

int sw_layer_cache_open(sw_layer_cache **out, const char *state_dir, sw_image_store *store,
                        sw_error **err);
void sw_layer_cache_free(sw_layer_cache *c);

/*
 * The unpacked folder of the layer `blob` whose uncompressed digest is
 * diff_id, unpacking it on first use (into a temp folder renamed into
 * place, so a crash never leaves half a layer). Whiteouts are stored the
 * way overlayfs reads lower layers (".wh.x" -> char device 0:0 "x";
 * ".wh..wh..opq" -> xattr trusted.overlay.opaque=y). Extraction never
 * writes outside the folder. *out_dir is owned by the cache.
 */
int sw_layer_cache_get(sw_layer_cache *c, const sw_descriptor *blob, const char *diff_id,
                       const char **out_dir, sw_error **err);
/* STATE/layers. */
const char *sw_layer_cache_dir(const sw_layer_cache *c);

/* ---- an overlay root filesystem ----------------------------------------- */

typedef struct sw_rootfs sw_rootfs;

/*
 * Mounts overlayfs at WORKDIR/merged with lowers (bottom layer first; zero
 * lowers gives an empty root, as FROM scratch) and an empty WORKDIR/upper.
 * workdir must be an empty folder the caller owns (under the state dir).
 */
int sw_rootfs_mount(sw_rootfs **out, const char *workdir, const char *const *lowers,
                    size_t nlowers, sw_error **err);
const char *sw_rootfs_path(const sw_rootfs *r);   /* merged */
const char *sw_rootfs_upper(const sw_rootfs *r);
/*
 * Adds the changes in the upper dir to layer as tar entries: new and changed
 * files with their mode/uid/gid/xattrs (never the host's), deletions as
 * ".wh.NAME" entries; an opaque directory is expanded into explicit
 * ".wh.NAME" entries for what the lower layers show in it (never
 * ".wh..wh..opq", as image-spec's layer.md recommends); folders only when
 * new, changed (mode/uid/gid/xattrs) or holding entries; sorted. The mount
 * points sw_run_container created (/proc /dev /sys /etc/hosts
 * /etc/resolv.conf, mount targets, their parents) are left out unless the
 * step really changed them. File contents are read from the upper dir when
 * the layer is written: call sw_layer_write before sw_rootfs_free.
 */
int sw_rootfs_diff(const sw_rootfs *r, sw_layer *layer, sw_error **err);
/* Unmounts (lazily if busy) and removes WORKDIR; safe on a partial mount. */
void sw_rootfs_free(sw_rootfs *r);
/* Frees the handle alone: the mount and WORKDIR stay (a pod's root
 * filesystem outlives the process that mounted it; sw_rootfs_remove ends
 * it later, from any process). */
void sw_rootfs_keep(sw_rootfs *r);
/* Unmounts WORKDIR/merged (lazily if busy) and removes WORKDIR; a missing
 * WORKDIR is not an error. For a root filesystem kept with sw_rootfs_keep. */
int sw_rootfs_remove(const char *workdir, sw_error **err);

/* Resolves "user[:group]" (names or numbers) in ROOTFS/etc/passwd and
 * /etc/group, as Docker does: a name that is not found is an error, a
 * number need not exist; the gid defaults to the user's primary group. */
int sw_rootfs_lookup_user(const char *rootfs, const char *spec, uid_t *uid, gid_t *gid,
                          sw_error **err);

/* ---- running a container ------------------------------------------------- */

typedef struct sw_run_mount {
	const char *type;      /* "bind" or "tmpfs" */
	const char *source;    /* host path for bind */
	const char *target;    /* absolute path in the container */
	bool readonly;
	uint32_t mode;         /* tmpfs mode, 0: default */
	int64_t size;          /* tmpfs size, 0: unlimited */
} sw_run_mount;

typedef struct sw_run_spec {
	const char *rootfs;          /* a mounted root filesystem */
	const char *const *argv;
	const char *const *env;      /* "K=V", NULL-terminated */
	const char *cwd;             /* absolute; created if missing */
	uid_t uid;
	gid_t gid;
	bool network_none;           /* else the host's network */
	const sw_run_mount *mounts;
	size_t nmounts;
	int timeout_ms;              /* 0: none */
	const char *bundle_dir;      /* empty folder for config.json (caller owns;
	                                left empty again when the run ends) */
	/* every chunk of stdout+stderr, as it arrives */
	void (*output)(const char *data, size_t len, void *payload);
	void *payload;
	const char *runc_root;       /* runc --root; NULL: /run/slipway/runc */
	const char *runtime;         /* the OCI runtime binary; NULL: "runc" */
} sw_run_spec;

typedef struct sw_run_result {
	int exit_code;       /* -1 when killed by a signal */
	int term_signal;     /* that signal (SIGKILL on timeout), else 0 */
	bool timed_out;
} sw_run_result;

/* Runs argv in a fresh runc container (mount, pid, uts, ipc namespaces;
 * a net namespace too when network_none) and waits for it; the container
 * is always deleted afterwards. A non-zero exit is a result, not an error;
 * runc failing to start the process (e.g. argv[0] not found) is an error
 * with runc's message. Mount points missing in rootfs are created there
 * and marked so sw_rootfs_diff leaves them out; cwd is created if missing
 * (root-owned 0755) and is content. */
int sw_run_container(const sw_run_spec *spec, sw_run_result *res, sw_error **err);

/* The config.json sw_run_container writes for spec (Docker's defaults; its
 * cgroup /slipway/ID; hosts and resolv the files bind-mounted read-only at
 * /etc/hosts and /etc/resolv.conf), for callers that run the container
 * themselves and adjust it (pods: hostname, resources, cgroupsPath). Only
 * rootfs, argv, env, cwd, uid/gid, network_none and mounts are read. */
int sw_run_config(const sw_run_spec *spec, const char *id, const char *hosts, const char *resolv, json_t **out,
                  sw_error **err);

#endif
