/*
 * fuzz_manifest.c - the manifest path: YAML documents -> objects ->
 * validation and defaults (sw_manifest_load_buf), and the API server's
 * sw_manifest_admit on every document as it was written.
 *
 * The first byte picks the file name (odd: slipway.yaml, so documents
 * without apiVersion/kind are App manifests). Contracts checked: no crash,
 * no leak; an object that loaded is admitted again with no error and no
 * change (defaulting is idempotent, as the API server re-admits what it
 * stored); a failed load returns no objects and at least one error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slipway/manifest.h"

/* The private YAML reader (manifests/manifest_int.h is not on the path). */
typedef struct sw_ydoc {
	json_t *root;
	json_t *pos;
	int line, col;
} sw_ydoc;
int sw_yaml_load_docs(const char *file, const char *data, size_t len, sw_ydoc **docs,
                      size_t *ndocs, sw_diags *d);
void sw_ydocs_free(sw_ydoc *docs, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void contract_broken(const char *what)
{
	fprintf(stderr, "fuzz_manifest: contract broken: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *name = size > 0 && (data[0] & 1) ? "slipway.yaml" : "fuzz.yaml";
	sw_manifest_opts opts = { .image = "fuzz:1" };
	sw_diags d = SW_DIAGS_INIT;
	json_t *objs = NULL;

	int r = sw_manifest_load_buf_opts(name, (const char *)data, size, &opts, &objs, &d, NULL);
	if (r < 0) {
		if (objs)
			contract_broken("a failed load returned objects");
		if (d.errors == 0)
			contract_broken("a failed load reported no error");
	} else {
		size_t i;
		json_t *o;
		json_array_foreach(objs, i, o) {
			json_t *copy = json_deep_copy(o);
			sw_diags d2 = SW_DIAGS_INIT;
			if (sw_manifest_admit(copy, &d2) < 0) {
				sw_diags_print(&d2, stderr);
				contract_broken("a loaded object fails admission");
			}
			if (!json_equal(copy, o))
				contract_broken("admitting a defaulted object changed it");
			json_decref(copy);
			sw_diags_release(&d2);
		}
		json_decref(objs);
	}
	sw_diags_release(&d);

	/* the API server's path: each raw document, no positions */
	sw_ydoc *docs = NULL;
	size_t n = 0;
	if (sw_yaml_load_docs(name, (const char *)data, size, &docs, &n, &d) == 0) {
		for (size_t i = 0; i < n; i++) {
			sw_diags d3 = SW_DIAGS_INIT;
			(void)sw_manifest_admit(docs[i].root, &d3);
			sw_diags_release(&d3);
		}
		sw_ydocs_free(docs, n);
	}
	sw_diags_release(&d);
	return 0;
}
