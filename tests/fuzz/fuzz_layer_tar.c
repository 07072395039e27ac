/*
 * fuzz_layer_tar.c - libFuzzer target for the layer-tar reader
 * (sw_layer_read_tar): the code that reads root filesystem tars and
 * imported layers from hostile hands.
 *
 * The input is read as a tar (any compression libarchive knows) from a
 * memfd. When the reader accepts it, the layer is written back as an
 * uncompressed tar into a scratch store, and that tar must read back and
 * write again to the same diff_id (what the reader accepts, the writer can
 * write, deterministically). Besides memory errors it checks the error
 * contract: *err set if and only if a call failed.
 *
 * Not here: the layer cache's extraction (it needs root for chown, device
 * whiteouts and trusted.* xattrs; tests/unit/test_step_runtime.c covers it
 * as root). The scratch store lives in a temp folder removed at exit; its
 * blobs are pruned every few inputs so a long run does not fill the disk.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "slipway/error.h"
#include "slipway/image_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRUNE_EVERY 64

static sw_image_store *store;
static char state_dir[4096];
static unsigned runs;

static void broken(const char *what, const sw_error *err)
{
	char *msg = err ? sw_error_string(err) : NULL;

	fprintf(stderr, "fuzz_layer_tar: contract broken: %s [%s]\n", what, msg ? msg : "");
	free(msg);
	abort();
}

/* A failed call must leave exactly one error with a message. */
static void check_result(int r, sw_error *err, const char *what)
{
	if ((r < 0) != (err != NULL))
		broken(what, err);
	if (err && (!err->msg || err->code >= 0))
		broken(what, err);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void teardown(void)
{
	sw_image_store_free(store);
	store = NULL;
	if (state_dir[0])
		(void)nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	sw_error *err = NULL;

	snprintf(state_dir, sizeof(state_dir), "%s/fuzz-layer-tar-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(state_dir)) {
		perror("fuzz_layer_tar: mkdtemp");
		abort();
	}
	atexit(teardown);
	if (sw_image_store_open(&store, state_dir, &err) < 0) {
		fprintf(stderr, "fuzz_layer_tar: %s\n", err->msg);
		abort();
	}
}

static int memfd_of(const void *data, size_t size)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);

	if (fd < 0) {
		perror("fuzz_layer_tar: memfd_create");
		abort();
	}
	for (size_t off = 0; off < size;) {
		ssize_t k = write(fd, (const char *)data + off, size - off);
		if (k <= 0) {
			perror("fuzz_layer_tar: write");
			abort();
		}
		off += (size_t)k;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		abort();
	return fd;
}

/* Reads the blob of a written layer back (uncompressed) and writes it
 * again: same diff_id. */
static void round_trip(const sw_layer_result *first)
{
	sw_layer_opts o = { .compression = SW_COMPRESS_NONE };
	sw_layer_result again;
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();
	int fd = sw_image_store_open_blob(store, first->blob.digest, NULL, &err);
	int r;

	check_result(fd < 0 ? fd : 0, err, "open_blob of a written layer");
	if (fd < 0)
		broken("a written layer is not in the store", err);
	r = sw_layer_read_tar(l, store, fd, "written layer", &err);
	close(fd);
	check_result(r, err, "sw_layer_read_tar of a written layer");
	if (r < 0)
		broken("the reader refuses what the writer wrote", err);
	r = sw_layer_write(store, l, &o, &again, &err);
	check_result(r, err, "sw_layer_write of a read-back layer");
	if (r < 0)
		broken("the writer refuses a layer it wrote", err);
	if (strcmp(again.diff_id, first->diff_id))
		broken("writing a read-back layer changed its diff_id", NULL);
	sw_layer_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sw_layer_opts o = { .compression = SW_COMPRESS_NONE };
	sw_layer_result res;
	sw_error *err = NULL;
	sw_layer *l;
	int fd, r;

	if (!store)
		setup();
	fd = memfd_of(data, size);
	l = sw_layer_new();
	r = sw_layer_read_tar(l, store, fd, "fuzz input", &err);
	close(fd);
	check_result(r, err, "sw_layer_read_tar");
	sw_error_free(err);
	err = NULL;
	if (r == 0) {
		r = sw_layer_write(store, l, &o, &res, &err);
		check_result(r, err, "sw_layer_write");
		if (r < 0)
			broken("the writer refuses a layer the reader accepted", err);
		round_trip(&res);
	}
	sw_layer_free(l);
	if (++runs % PRUNE_EVERY == 0) {
		sw_prune_result pr = { 0 };
		r = sw_image_store_prune(store, &pr, &err);
		check_result(r, err, "sw_image_store_prune");
		sw_error_free(err);
		sw_prune_result_release(&pr);
	}
	return 0;
}
