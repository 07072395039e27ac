/*
 * release_registry.c - releases to and from OCI registries. A release is an
 * OCI artifact manifest (config: the release document, subject: the image)
 * in the image store, so the registry client (build/, registry.h) moves it
 * as it is: a push sends the subject image first, then the artifact; a pull
 * brings the artifact and its subject, every blob verified, and the release
 * is registered the way an import is (same ID, the app's next version).
 * Secret values are never in the artifact (the document holds their
 * digests), so they never leave the state dir.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "release_int.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

int sw_release_push(sw_releases *r, const char *app, const char *what, const char *dest,
                    const sw_registry_opts *opts, sw_release_info *out, sw_push_result *res, sw_error **err)
{
	int ret;

	memset(res, 0, sizeof(*res));
	if ((ret = sw_release_lookup(r, app, what, out, err)) < 0)
		return ret;
	if ((ret = sw_registry_push(r->store, out->id, dest, opts, res, err)) < 0) {
		sw_error_wrap(err, "release %s v%lld", app, (long long)out->version);
		sw_release_info_release(out);
		return ret;
	}
	if (strcmp(res->digest, out->id)) {
		ret = sw_error_set(err, SW_EINVALID, "release %s v%lld: %s got %s, not the release ID %s", app,
		                   (long long)out->version, dest, res->digest, out->id);
		sw_release_info_release(out);
		return ret;
	}
	return 0;
}

int sw_release_pull(sw_releases *r, const char *src, const sw_registry_opts *opts, sw_release_info *out,
                    sw_error **err)
{
	/* a temporary hidden tag holds the artifact (and so its subject) until
	 * the release's own tags do; "pull" is not a valid app name */
	cleanup_free char *tmpref = sw_xasprintf("%spull:tmp-%ld", SW_RELEASE_REF_PREFIX, (long)getpid());
	sw_remove_result rr = { 0 };
	sw_descriptor d;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = sw_registry_pull(r->store, src, tmpref, opts, &d, err)) < 0)
		return ret;
	if ((ret = sw_release_register_from_store(r, d.digest, NULL, out, err)) < 0)
		sw_error_wrap(err, "release pull of %s", src);
	if (sw_image_store_remove(r->store, tmpref, &rr, NULL) == 0)
		sw_remove_result_release(&rr);
	return ret;
}
