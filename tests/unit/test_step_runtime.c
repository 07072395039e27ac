/* Tests of the step runtime (build/layer_cache.c, rootfs.c, rootfs_diff.c,
 * runc.c) with the real parts: a busybox-static base image imported into a
 * store in a temp dir, the layer cache, overlayfs, runc, and umoci to check
 * that a RUN layer's whiteouts apply. Needs root; exits 77 (skipped)
 * otherwise. Every test unmounts what it mounted and deletes its runc
 * containers in its teardown, even when it fails. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "rootfs_int.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/image_store.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/spawn.h"
#include "step_runtime.h"

#define BASE_REF "test/base:1"

/* ---- the shared environment (group setup) ------------------------------ */

static struct {
	char tmp[64];         /* everything lives here */
	char state[128];      /* STATE */
	char runc_root[128];
	sw_image_store *store;
	sw_layer_cache *cache;
	sw_image *base;
	const char *base_dir; /* the base layer, unpacked */
	int counter;
} g;

/* what a test holds, released by its teardown */
struct fixture {
	sw_rootfs *rootfs[4];
	char work[256];
};

/* a macro: err must be read after the call, not as a sibling argument */
#define expect_ok(call, err) expect_ok_((call), &(err))
static void expect_ok_(int r, sw_error **err)
{
	if (r < 0) {
		char *m = sw_error_string(*err);
		fail_msg("unexpected error: %s", m);
	}
}

static void expect_message(sw_error **err, const char *want)
{
	char *m = sw_error_string(*err);

	if (!strstr(m, want))
		fail_msg("error '%s' does not mention '%s'", m, want);
	free(m);
	sw_error_clear(err);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	r = system(cmd);
	free(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* A fresh folder under the temp dir. */
static void new_dir(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s-%d", g.tmp, name, ++g.counter);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Unmounts everything mounted under the temp dir (deepest first). */
static void unmount_all_under(const char *dir)
{
	for (int round = 0; round < 8; round++) {
		FILE *f = fopen("/proc/self/mountinfo", "r");
		char line[8192], found[4096] = "";
		if (!f)
			return;
		while (fgets(line, sizeof(line), f)) {
			char mp[4096];
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strncmp(mp, dir, strlen(dir)) &&
			    strlen(mp) > strlen(found))
				snprintf(found, sizeof(found), "%s", mp);
		}
		fclose(f);
		if (!*found)
			return;
		umount2(found, MNT_DETACH);
	}
}

/* runc --root ROOT list -q, as a count; deletes what it finds when clean. */
static int runc_containers(bool clean)
{
	const char *argv[] = { "runc", "--root", g.runc_root, "list", "-q", NULL };
	sw_spawn_opts o = { .argv = argv, .capture_stdout = true, .capture_stderr = true };
	sw_spawn_result res;
	sw_error *err = NULL;
	int n = 0;

	if (sw_spawn_run(&o, &res, &err) < 0) {
		sw_error_free(err);
		return -1;
	}
	for (char *line = res.out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!*line)
			continue;
		n++;
		if (clean)
			sh("runc --root '%s' delete -f '%s' >/dev/null 2>&1", g.runc_root, line);
	}
	sw_spawn_result_release(&res);
	return n;
}

/* Cgroups of this process' containers left under /sys/fs/cgroup/X/slipway. */
static int leftover_cgroups(void)
{
	char prefix[64];
	int n = 0;
	DIR *top = opendir("/sys/fs/cgroup");
	struct dirent *de;

	snprintf(prefix, sizeof(prefix), "slipway-build-%ld-", (long)getpid());
	if (!top)
		return 0;
	while ((de = readdir(top))) {
		char p[512];
		DIR *d;
		struct dirent *c;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/fs/cgroup/%s/slipway", de->d_name);
		if (!(d = opendir(p)))
			continue;
		while ((c = readdir(d)))
			if (!strncmp(c->d_name, prefix, strlen(prefix)))
				n++;
		closedir(d);
	}
	closedir(top);
	return n;
}

static int make_base_rootfs(const char *dir)
{
	return sh("set -e; d='%s'; mkdir -p $d/bin $d/etc $d/usr/bin $d/opt/sub $d/tmp $d/root $d/home/app;"
	          "cp /bin/busybox $d/bin/busybox;"
	          "for a in $(/bin/busybox --list); do [ -e $d/bin/$a ] || ln -s busybox $d/bin/$a; done;"
	          "printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1001::/home/app:/bin/sh\\n' >$d/etc/passwd;"
	          "printf 'root:x:0:\\napp:x:1001:\\nstaff:x:50:app\\n' >$d/etc/group;"
	          "echo bee >$d/etc/b; ln -s /bin/busybox $d/usr/bin/vi;"
	          "echo 1 >$d/opt/old1; echo 2 >$d/opt/sub/old2; echo keep >$d/opt/sub/keep;"
	          "chmod 1777 $d/tmp;"
	          "tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C $d -cf $d.tar .",
	          dir);
}

static int group_setup(void **state)
{
	sw_error *err = NULL;
	char rootfs[160], tarpath[200];
	sw_rootfs_opts opts = { .epoch = 0, .compression = SW_COMPRESS_GZIP };
	sw_descriptor d;
	(void)state;

	snprintf(g.tmp, sizeof(g.tmp), "/tmp/sw-rt-XXXXXX");
	if (!mkdtemp(g.tmp))
		return -1;
	snprintf(g.state, sizeof(g.state), "%s/state", g.tmp);
	snprintf(g.runc_root, sizeof(g.runc_root), "%s/runc", g.tmp);
	snprintf(rootfs, sizeof(rootfs), "%s/base", g.tmp);
	snprintf(tarpath, sizeof(tarpath), "%s.tar", rootfs);
	if (mkdir(g.state, 0700) < 0 || make_base_rootfs(rootfs) != 0)
		return -1;
	if (sw_image_store_open(&g.store, g.state, &err) < 0 ||
	    sw_image_import_rootfs(g.store, tarpath, BASE_REF, &opts, &d, &err) < 0 ||
	    sw_image_store_load(&g.base, g.store, BASE_REF, &err) < 0 ||
	    sw_layer_cache_open(&g.cache, g.state, g.store, &err) < 0) {
		char *m = sw_error_string(err);
		fprintf(stderr, "setup: %s\n", m);
		free(m);
		sw_error_free(err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unmount_all_under(g.tmp);
	runc_containers(true);
	sw_layer_cache_free(g.cache);
	sw_image_free(g.base);
	sw_image_store_free(g.store);
	if (*g.tmp)
		sh("rm -rf '%s'", g.tmp);
	return 0;
}

static int setup(void **state)
{
	*state = sw_xcalloc(1, sizeof(struct fixture));
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(f->rootfs) / sizeof(*f->rootfs); i++)
		sw_rootfs_free(f->rootfs[i]);
	/* whatever a failed assertion left behind */
	runc_containers(true);
	unmount_all_under(g.tmp);
	if (*f->work)
		sh("rm -rf '%s'", f->work);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *base_layer(void)
{
	sw_error *err = NULL;
	const char *dir = NULL;

	expect_ok(sw_layer_cache_get(g.cache, &g.base->layers[0], g.base->diff_ids[0], &dir, &err), err);
	return dir;
}

static sw_rootfs *mount_base(struct fixture *f, size_t slot)
{
	const char *lowers[1] = { base_layer() };
	char work[160];
	sw_error *err = NULL;

	new_dir(work, sizeof(work), "rootfs");
	expect_ok(sw_rootfs_mount(&f->rootfs[slot], work, lowers, 1, &err), err);
	return f->rootfs[slot];
}

static void collect(const char *data, size_t len, void *payload)
{
	sw_buf_add(payload, data, len, NULL);
}

static size_t count_entries(const char *dir);

static const char *const test_env[] = { "PATH=/bin:/usr/bin", "FOO=bar baz", NULL };

static void run_sh(const char *rootfs, const char *script, bool net_none, int timeout_ms, sw_run_result *res,
                   sw_buf *out)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	char bundle[160];
	sw_error *err = NULL;
	sw_run_spec spec = {
		.rootfs = rootfs, .argv = argv, .env = test_env, .cwd = "/", .network_none = net_none,
		.timeout_ms = timeout_ms, .bundle_dir = bundle, .output = collect, .payload = out,
		.runc_root = g.runc_root,
	};

	new_dir(bundle, sizeof(bundle), "bundle");
	expect_ok(sw_run_container(&spec, res, &err), err);
	assert_int_equal(count_entries(bundle), 0); /* left empty for its owner */
	assert_int_equal(runc_containers(false), 0);
	assert_int_equal(leftover_cgroups(), 0);
}

/* The entry names of a layer blob, one per line, in tar order. */
static char *layer_names(const sw_descriptor *blob)
{
	sw_error *err = NULL;
	int fd = sw_image_store_open_blob(g.store, blob->digest, NULL, &err);
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	sw_buf b = SW_BUF_INIT(0);

	expect_ok(fd, err);
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK)
		sw_buf_printf(&b, NULL, "%s\n", archive_entry_pathname(ae));
	archive_read_free(a);
	close(fd);
	return sw_buf_detach(&b);
}

/* line is a whole line of text (a folder's trailing '/' may follow). */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || (p[n] == '/' && p[n + 1] == '\n')))
			return true;
	return false;
}

static bool exists_in(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- layer cache -------------------------------------------------------- */

static void test_cache_unpack_once(void **state)
{
	sw_error *err = NULL;
	const char *dir = NULL, *again = NULL;
	char marker[512], p[512];
	struct stat st;
	struct timespec t0;
	(void)state;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_ok(sw_layer_cache_get(g.cache, &g.base->layers[0], g.base->diff_ids[0], &dir, &err), err);
	print_message("first get (unpack or hit): %.1f ms\n", ms_since(&t0));
	snprintf(p, sizeof(p), "%s/bin/busybox", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 0111));
	snprintf(p, sizeof(p), "%s/tmp", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	snprintf(p, sizeof(p), "%s/bin/sh", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_mtime, 0);

	/* a hit: nothing is unpacked again */
	snprintf(marker, sizeof(marker), "%s/.marker", dir);
	write_text(marker, "x");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_ok(sw_layer_cache_get(g.cache, &g.base->layers[0], g.base->diff_ids[0], &again, &err), err);
	print_message("second get (hit): %.3f ms\n", ms_since(&t0));
	assert_ptr_equal(dir, again);
	assert_int_equal(access(marker, F_OK), 0);
	unlink(marker);
}

static void test_cache_concurrent(void **state)
{
	char st2[160], layers[200];
	pid_t pids[4];
	(void)state;

	/* four processes unpack the same layer into a fresh cache: all get it */
	new_dir(st2, sizeof(st2), "state");
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			sw_layer_cache *c = NULL;
			sw_error *err = NULL;
			const char *dir = NULL;
			char p[512];
			if (sw_layer_cache_open(&c, st2, g.store, &err) < 0 ||
			    sw_layer_cache_get(c, &g.base->layers[0], g.base->diff_ids[0], &dir, &err) < 0)
				_exit(1);
			snprintf(p, sizeof(p), "%s/bin/busybox", dir);
			_exit(access(p, X_OK) == 0 ? 0 : 2);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status = 0;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	snprintf(layers, sizeof(layers), "%s/layers", st2);
	assert_int_equal(count_entries(layers), 1); /* the layer; no temp folders */
	assert_true(exists_in(layers, g.base->diff_ids[0] + 7));
}

static void test_cache_diff_id_mismatch(void **state)
{
	sw_error *err = NULL;
	const char *dir = NULL;
	char st2[160], layers[200];
	sw_layer_cache *c = NULL;
	const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	(void)state;

	new_dir(st2, sizeof(st2), "state");
	expect_ok(sw_layer_cache_open(&c, st2, g.store, &err), err);
	assert_int_equal(sw_layer_cache_get(c, &g.base->layers[0], wrong, &dir, &err), SW_EINVALID);
	expect_message(&err, "does not match diff_id");
	sw_layer_cache_free(c);
	snprintf(layers, sizeof(layers), "%s/layers", st2);
	assert_int_equal(count_entries(layers), 0);
}

/* A layer tar made with libarchive, stored uncompressed; its diff_id is
 * its digest. */
struct tentry {
	const char *path;
	int type; /* AE_IF* */
	const char *data;   /* file content, symlink target, hard link target */
	unsigned mode;
	const char *xname, *xvalue;
	bool hardlink;
};

static void put_tar(const struct tentry *v, size_t n, sw_descriptor *out)
{
	struct archive *a = archive_write_new();
	size_t cap = 1 << 20, used = 0;
	char *buf = sw_xmalloc(cap);
	sw_error *err = NULL;

	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, v[i].path);
		archive_entry_set_perm(e, v[i].mode ? v[i].mode : 0644);
		archive_entry_set_uid(e, 1234);
		archive_entry_set_gid(e, 5678);
		archive_entry_set_mtime(e, 1000, 0);
		if (v[i].hardlink) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, v[i].data);
		} else {
			archive_entry_set_filetype(e, (mode_t)v[i].type);
			if (v[i].type == AE_IFLNK)
				archive_entry_set_symlink(e, v[i].data);
			if (v[i].type == AE_IFREG)
				archive_entry_set_size(e, v[i].data ? (la_int64_t)strlen(v[i].data) : 0);
			if (v[i].type == AE_IFCHR)
				archive_entry_set_rdev(e, makedev(1, 3));
		}
		if (v[i].xname)
			archive_entry_xattr_add_entry(e, v[i].xname, v[i].xvalue, strlen(v[i].xvalue));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (!v[i].hardlink && v[i].type == AE_IFREG && v[i].data)
			archive_write_data(a, v[i].data, strlen(v[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	expect_ok(sw_image_store_put_blob(g.store, SW_MT_OCI_LAYER, buf, used, NULL, out, &err), err);
	free(buf);
}

static void test_cache_overlay_form(void **state)
{
	const struct tentry v[] = {
		{ "etc", AE_IFDIR, NULL, 0750, NULL, NULL, false },
		{ "etc/.wh.b", AE_IFREG, NULL, 0, NULL, NULL, false },
		{ "opt/.wh..wh..opq", AE_IFREG, NULL, 0, NULL, NULL, false },
		{ "opt/new", AE_IFREG, "n", 04755, "user.test", "v", false },
		{ "opt/link", 0, "opt/new", 0, NULL, NULL, true },
		{ "opt/evil", AE_IFREG, "e", 0644, "trusted.overlay.redirect", "/etc", false },
		{ "dev/null", AE_IFCHR, NULL, 0666, NULL, NULL, false },
		{ "lnk", AE_IFLNK, "/etc/shadow", 0777, NULL, NULL, false },
	};
	sw_descriptor blob;
	sw_error *err = NULL;
	const char *dir = NULL;
	char p[512], value[16];
	struct stat st, st2;
	(void)state;

	put_tar(v, sizeof(v) / sizeof(*v), &blob);
	expect_ok(sw_layer_cache_get(g.cache, &blob, blob.digest, &dir, &err), err);
	snprintf(p, sizeof(p), "%s/etc/b", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	snprintf(p, sizeof(p), "%s/etc", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	assert_int_equal(st.st_mtime, 1000);
	snprintf(p, sizeof(p), "%s/opt", dir);
	assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", value, sizeof(value)), 1);
	assert_int_equal(value[0], 'y');
	snprintf(p, sizeof(p), "%s/opt/new", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755); /* setuid kept after chown */
	assert_int_equal(lgetxattr(p, "user.test", value, sizeof(value)), 1);
	snprintf(p, sizeof(p), "%s/opt/link", dir);
	assert_int_equal(lstat(p, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	snprintf(p, sizeof(p), "%s/opt/evil", dir);
	assert_true(lgetxattr(p, "trusted.overlay.redirect", value, sizeof(value)) < 0);
	assert_false(exists_in(dir, "dev/null")); /* device nodes are skipped */
	snprintf(p, sizeof(p), "%s/lnk", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, 1234);
	assert_false(exists_in(dir, "etc/.wh.b"));
	assert_false(exists_in(dir, "opt/.wh..wh..opq"));
}

static void test_cache_hostile(void **state)
{
	const struct tentry through_link[] = {
		{ "evil", AE_IFLNK, "/tmp", 0777, NULL, NULL, false },
		{ "evil/pwned", AE_IFREG, "x", 0644, NULL, NULL, false },
	};
	const struct tentry relative_link[] = {
		{ "up", AE_IFLNK, "../../../../../../..", 0777, NULL, NULL, false },
		{ "up/tmp/pwned", AE_IFREG, "x", 0644, NULL, NULL, false },
	};
	const struct tentry dotdot[] = {
		{ "a/../../pwned", AE_IFREG, "x", 0644, NULL, NULL, false },
	};
	const struct tentry absolute[] = {
		{ "/tmp/pwned", AE_IFREG, "x", 0644, NULL, NULL, false },
	};
	const struct tentry hardlink_out[] = {
		{ "h", 0, "/etc/passwd", 0, NULL, NULL, true },
	};
	const struct tentry hardlink_up[] = {
		{ "h", 0, "../../../../etc/passwd", 0, NULL, NULL, true },
	};
	const struct tentry hardlink_via_link[] = {
		{ "l", AE_IFLNK, "/etc", 0777, NULL, NULL, false },
		{ "h", 0, "l/passwd", 0, NULL, NULL, true },
	};
	const struct { const struct tentry *v; size_t n; const char *msg; } cases[] = {
		{ through_link, 2, "symlink" },
		{ relative_link, 2, "symlink" },
		{ dotdot, 1, ".." },
		{ absolute, 1, "absolute" },
		{ hardlink_out, 1, "absolute" },
		{ hardlink_up, 1, ".." },
		{ hardlink_via_link, 2, "symlink" },
	};
	char st2[160], layers[200];
	sw_layer_cache *c = NULL;
	sw_error *err = NULL;
	(void)state;

	new_dir(st2, sizeof(st2), "state");
	expect_ok(sw_layer_cache_open(&c, st2, g.store, &err), err);
	unlink("/tmp/pwned");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sw_descriptor blob;
		const char *dir = NULL;
		put_tar(cases[i].v, cases[i].n, &blob);
		if (sw_layer_cache_get(c, &blob, blob.digest, &dir, &err) == 0)
			fail_msg("hostile case %zu was unpacked", i);
		expect_message(&err, cases[i].msg);
		assert_int_equal(access("/tmp/pwned", F_OK), -1);
	}
	sw_layer_cache_free(c);
	snprintf(layers, sizeof(layers), "%s/layers", st2);
	assert_int_equal(count_entries(layers), 0); /* nothing kept, no temp folders */
}

/* ---- overlay ------------------------------------------------------------ */

static void make_layer_dir(char *out, size_t size, const char *content)
{
	char p[256];

	new_dir(out, size, "lower");
	snprintf(p, sizeof(p), "%s/f", out);
	write_text(p, content);
}

static void check_stacking(struct fixture *f, bool legacy)
{
	char l1[160], l2[160], l3[160], work[160], p[256];
	const char *lowers[3] = { l1, l2, l3 };
	sw_error *err = NULL;
	char *text = NULL;

	make_layer_dir(l1, sizeof(l1), "bottom");
	make_layer_dir(l2, sizeof(l2), "middle");
	make_layer_dir(l3, sizeof(l3), "top");
	snprintf(p, sizeof(p), "%s/only-bottom", l1);
	write_text(p, "b");
	new_dir(work, sizeof(work), "rootfs");
	expect_ok(rootfs_mount_impl(&f->rootfs[0], work, lowers, 3, legacy, &err), err);
	snprintf(p, sizeof(p), "%s/f", sw_rootfs_path(f->rootfs[0]));
	expect_ok(sw_read_file(&text, NULL, p, 100, &err), err);
	assert_string_equal(text, "top"); /* the last lower is the top-most */
	free(text);
	assert_true(exists_in(sw_rootfs_path(f->rootfs[0]), "only-bottom"));
	sw_rootfs_free(f->rootfs[0]);
	f->rootfs[0] = NULL;
	assert_int_equal(access(work, F_OK), -1); /* WORKDIR removed */
}

static void test_overlay_stacking(void **state)
{
	check_stacking(*state, false);
}

static void test_overlay_stacking_legacy(void **state)
{
	check_stacking(*state, true);
}

static void test_overlay_scratch(void **state)
{
	struct fixture *f = *state;
	char work[160];
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();

	new_dir(work, sizeof(work), "rootfs");
	expect_ok(sw_rootfs_mount(&f->rootfs[0], work, NULL, 0, &err), err);
	assert_int_equal(count_entries(sw_rootfs_path(f->rootfs[0])), 0);
	expect_ok(sw_rootfs_diff(f->rootfs[0], l, &err), err);
	assert_int_equal(sw_layer_count(l), 0);
	sw_layer_free(l);
}

static void test_overlay_many_layers(void **state)
{
	struct fixture *f = *state;
	char (*dirs)[160] = sw_xcalloc(120, sizeof(*dirs));
	const char *lowers[120];
	char work[160], p[256];
	sw_error *err = NULL;
	char *text = NULL;

	/* 120 layers of ~40-byte paths: more than one page as one option string */
	for (int i = 0; i < 120; i++) {
		char c[16];
		snprintf(c, sizeof(c), "%d", i);
		make_layer_dir(dirs[i], sizeof(dirs[i]), c);
		lowers[i] = dirs[i];
	}
	new_dir(work, sizeof(work), "rootfs");
	expect_ok(sw_rootfs_mount(&f->rootfs[0], work, lowers, 120, &err), err);
	snprintf(p, sizeof(p), "%s/f", sw_rootfs_path(f->rootfs[0]));
	expect_ok(sw_read_file(&text, NULL, p, 100, &err), err);
	assert_string_equal(text, "119");
	free(text);
	free(dirs);
}

/* ---- runc ---------------------------------------------------------------- */

static void test_run_output_and_exit(void **state)
{
	sw_rootfs *r = mount_base(*state, 0);
	sw_buf out = SW_BUF_INIT(0);
	sw_run_result res;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_sh(sw_rootfs_path(r), "echo hi; echo err >&2; exit 3", false, 0, &res, &out);
	print_message("runc run, one step: %.1f ms\n", ms_since(&t0));
	/* one pipe for both streams: their order is kept */
	assert_string_equal(out.data, "hi\nerr\n");
	assert_int_equal(res.exit_code, 3);
	assert_int_equal(res.term_signal, 0);
	assert_false(res.timed_out);
	sw_buf_release(&out);
}

static void test_run_env_and_identity(void **state)
{
	sw_rootfs *r = mount_base(*state, 0);
	sw_buf out = SW_BUF_INIT(0);
	sw_run_result res;

	run_sh(sw_rootfs_path(r), "env | sort; hostname; cat /etc/hosts; id -u; pwd", false, 0, &res, &out);
	assert_int_equal(res.exit_code, 0);
	/* only the spec's env (sh adds PWD/SHLVL, runc adds HOME) */
	assert_non_null(strstr(out.data, "FOO=bar baz\n"));
	assert_non_null(strstr(out.data, "PATH=/bin:/usr/bin\n"));
	assert_null(strstr(out.data, "TERM="));
	assert_null(strstr(out.data, "SLIPWAY"));
	assert_non_null(strstr(out.data, "\nslipway\n"));
	assert_non_null(strstr(out.data, "127.0.0.1\tlocalhost slipway"));
	sw_buf_release(&out);
}

static void test_run_missing_command(void **state)
{
	sw_rootfs *r = mount_base(*state, 0);
	const char *argv[] = { "/bin/nosuch", NULL };
	char bundle[160];
	sw_error *err = NULL;
	sw_run_result res;
	sw_run_spec spec = { .rootfs = sw_rootfs_path(r), .argv = argv, .env = test_env, .cwd = "/",
	                     .bundle_dir = bundle, .runc_root = g.runc_root };

	new_dir(bundle, sizeof(bundle), "bundle");
	assert_true(sw_run_container(&spec, &res, &err) < 0);
	expect_message(&err, "nosuch");
	assert_int_equal(runc_containers(false), 0);
}

static void test_run_timeout(void **state)
{
	sw_rootfs *r = mount_base(*state, 0);
	sw_buf out = SW_BUF_INIT(0);
	sw_run_result res;
	struct timespec t0;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_sh(sw_rootfs_path(r), "echo started; sleep 100", false, 1000, &res, &out);
	ms = ms_since(&t0);
	print_message("timeout 1000 ms: returned after %.0f ms\n", ms);
	assert_true(res.timed_out);
	assert_int_equal(res.term_signal, 9);
	assert_true(ms < 20000);
	assert_string_equal(out.data, "started\n");
	sw_buf_release(&out);
}

static int count_interfaces(const char *proc_net_dev)
{
	int n = 0;

	for (const char *p = proc_net_dev; (p = strchr(p, ':')); p++)
		n++;
	return n;
}

static void test_run_network(void **state)
{
	sw_rootfs *r = mount_base(*state, 0);
	sw_buf out = SW_BUF_INIT(0), host = SW_BUF_INIT(0);
	sw_run_result res;
	char *hostdev = NULL;
	sw_error *err = NULL;

	run_sh(sw_rootfs_path(r), "cat /proc/net/dev", true, 0, &res, &out);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(count_interfaces(out.data), 1);
	assert_non_null(strstr(out.data, "lo:"));
	run_sh(sw_rootfs_path(r), "cat /proc/net/dev", false, 0, &res, &host);
	expect_ok(sw_read_file(&hostdev, NULL, "/proc/net/dev", 1 << 20, &err), err);
	/* the host's network: every interface the host has */
	assert_int_equal(count_interfaces(host.data), count_interfaces(hostdev));
	free(hostdev);
	sw_buf_release(&out);
	sw_buf_release(&host);
}

/* ---- diff → layer → image → umoci ---------------------------------------- */

static void test_diff_whiteouts_umoci(void **state)
{
	struct fixture *f = *state;
	sw_rootfs *r = mount_base(f, 0);
	sw_buf out = SW_BUF_INIT(0);
	sw_run_result res;
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();
	sw_layer_opts lo = { .compression = SW_COMPRESS_GZIP, .epoch = 0 };
	sw_layer_result lr;
	json_t *config;
	sw_descriptor cdesc, mdesc, layers[2];
	char *names, bundle[200];

	run_sh(sw_rootfs_path(r),
	       "set -e; rm /etc/b; rm -rf /usr/bin; echo new >/new; ln /new /newlink;"
	       "rm -rf /opt && mkdir -p /opt/sub && echo x >/opt/sub/new;"
	       "touch /tmp/scratch && rm /tmp/scratch; mkdir -p /var/empty",
	       false, 0, &res, &out);
	assert_int_equal(res.exit_code, 0);
	expect_ok(sw_rootfs_diff(r, l, &err), err);
	expect_ok(sw_layer_write(g.store, l, &lo, &lr, &err), err);
	sw_layer_free(l);
	names = layer_names(&lr.blob);
	print_message("RUN layer entries:\n%s", names);
	assert_true(has_line(names, "etc/.wh.b"));
	assert_true(has_line(names, "usr/.wh.bin"));
	assert_true(has_line(names, "new"));
	assert_true(has_line(names, "newlink"));
	assert_true(has_line(names, "opt/.wh.old1"));
	assert_true(has_line(names, "opt/sub/.wh.old2"));
	assert_true(has_line(names, "opt/sub/.wh.keep"));
	assert_true(has_line(names, "opt/sub/new"));
	assert_true(has_line(names, "var/empty"));
	assert_null(strstr(names, ".wh..wh..opq"));
	/* no mount-point stubs, no copy-up noise */
	assert_false(has_line(names, "proc"));
	assert_false(has_line(names, "dev"));
	assert_false(has_line(names, "sys"));
	assert_false(has_line(names, "etc/hosts"));
	assert_false(has_line(names, "etc/resolv.conf"));
	assert_false(has_line(names, "tmp"));
	free(names);

	/* an image of base + this layer, unpacked by umoci */
	config = sw_image_config_new("amd64", "linux", 0);
	expect_ok(sw_image_config_add_history(config, g.base->diff_ids[0], "base", NULL, 0, false, &err), err);
	expect_ok(sw_image_config_add_history(config, lr.diff_id, "RUN test", NULL, 0, false, &err), err);
	expect_ok(sw_image_store_put_json(g.store, SW_MT_OCI_CONFIG, config, &cdesc, &err), err);
	json_decref(config);
	layers[0] = g.base->layers[0];
	layers[1] = lr.blob;
	expect_ok(sw_image_store_put_manifest(g.store, &cdesc, layers, 2, NULL, &mdesc, &err), err);
	expect_ok(sw_image_store_tag(g.store, "test/run:1", &mdesc, &err), err);
	snprintf(bundle, sizeof(bundle), "%s/umoci-%d", g.tmp, ++g.counter);
	snprintf(f->work, sizeof(f->work), "%s", bundle);
	assert_int_equal(sh("umoci unpack --image '%s/images:test/run:1' '%s' >/dev/null", g.state, bundle), 0);
	strncat(bundle, "/rootfs", sizeof(bundle) - strlen(bundle) - 1);
	assert_false(exists_in(bundle, "etc/b"));
	assert_true(exists_in(bundle, "etc/passwd"));
	assert_false(exists_in(bundle, "usr/bin"));
	assert_true(exists_in(bundle, "new"));
	assert_false(exists_in(bundle, "opt/old1"));
	assert_false(exists_in(bundle, "opt/sub/old2"));
	assert_false(exists_in(bundle, "opt/sub/keep"));
	assert_true(exists_in(bundle, "opt/sub/new"));
	assert_true(exists_in(bundle, "tmp"));
	assert_false(exists_in(bundle, "proc"));
	assert_false(exists_in(bundle, "etc/hosts"));
	sw_buf_release(&out);
}

static void test_diff_keeps_real_changes_at_mount_points(void **state)
{
	struct fixture *f = *state;
	sw_rootfs *r = mount_base(f, 0);
	sw_error *err = NULL;
	sw_layer *l = sw_layer_new();
	sw_layer_opts lo = { .compression = SW_COMPRESS_GZIP };
	sw_layer_result lr;
	sw_buf out = SW_BUF_INIT(0);
	sw_run_result res;
	char p[512], *names;

	/* a COPY-like write of an empty /etc/hosts before the RUN is content */
	snprintf(p, sizeof(p), "%s/etc/hosts", sw_rootfs_path(r));
	write_text(p, "");
	run_sh(sw_rootfs_path(r), "true", false, 0, &res, &out);
	expect_ok(sw_rootfs_diff(r, l, &err), err);
	expect_ok(sw_layer_write(g.store, l, &lo, &lr, &err), err);
	sw_layer_free(l);
	names = layer_names(&lr.blob);
	assert_true(has_line(names, "etc/hosts"));
	assert_false(has_line(names, "proc"));
	assert_false(has_line(names, "etc/resolv.conf"));
	free(names);
	sw_buf_release(&out);
}

/* ---- users --------------------------------------------------------------- */

static void expect_user(const char *rootfs, const char *spec, uid_t wu, gid_t wg)
{
	sw_error *err = NULL;
	uid_t u = 99;
	gid_t gr = 99;

	expect_ok(sw_rootfs_lookup_user(rootfs, spec, &u, &gr, &err), err);
	if (u != wu || gr != wg)
		fail_msg("user '%s': got %u:%u, want %u:%u", spec, (unsigned)u, (unsigned)gr, (unsigned)wu, (unsigned)wg);
}

static void test_lookup_user(void **state)
{
	const char *root = base_layer();
	char evil[160], p[256], secret[200];
	sw_error *err = NULL;
	uid_t u;
	gid_t gr;
	(void)state;

	expect_user(root, "", 0, 0);
	expect_user(root, "root", 0, 0);
	expect_user(root, "app", 1000, 1001);
	expect_user(root, "app:staff", 1000, 50);
	expect_user(root, "1000", 1000, 1001);
	expect_user(root, "1000:50", 1000, 50);
	expect_user(root, "2000", 2000, 0);
	expect_user(root, "2000:3000", 2000, 3000);
	expect_user(root, "app:3000", 1000, 3000);
	assert_int_equal(sw_rootfs_lookup_user(root, "nosuch", &u, &gr, &err), SW_ENOTFOUND);
	expect_message(&err, "unable to find user nosuch");
	assert_int_equal(sw_rootfs_lookup_user(root, "app:nogroup", &u, &gr, &err), SW_ENOTFOUND);
	expect_message(&err, "unable to find group nogroup");
	assert_true(sw_rootfs_lookup_user(root, "app:", &u, &gr, &err) < 0);
	sw_error_clear(&err);

	/* a hostile image: /etc/passwd a symlink out of the root, to a file
	 * of the host that has the user */
	new_dir(evil, sizeof(evil), "evil");
	snprintf(secret, sizeof(secret), "%s/secret-passwd", g.tmp);
	write_text(secret, "evil:x:666:666::/:/bin/sh\n");
	snprintf(p, sizeof(p), "%s/etc", evil);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc/passwd", evil);
	assert_int_equal(symlink(secret, p), 0);
	assert_int_equal(sw_rootfs_lookup_user(evil, "evil", &u, &gr, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	unlink(p);
	assert_int_equal(symlink("../../../../../../../../../../.." "/tmp/../tmp/../../../etc/passwd", p), 0);
	assert_int_equal(sw_rootfs_lookup_user(evil, "evil", &u, &gr, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	expect_user(evil, "2000", 2000, 0); /* numbers need no passwd */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cache_unpack_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_diff_id_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_overlay_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_stacking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_stacking_legacy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_scratch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_many_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_output_and_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_env_and_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_missing_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_whiteouts_umoci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_keeps_real_changes_at_mount_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_user, setup, teardown),
	};
	const char *tools[] = { "runc", "umoci", "tar" };

	if (geteuid() != 0) {
		printf("skipped: needs root (overlayfs, runc)\n");
		return 77;
	}
	for (size_t i = 0; i < sizeof(tools) / sizeof(*tools); i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tools[i]);
		if (system(cmd) != 0) {
			printf("skipped: %s is not installed (scripts/install-deps)\n", tools[i]);
			return 77;
		}
	}
	if (access("/bin/busybox", X_OK) != 0) {
		printf("skipped: no /bin/busybox (install busybox-static)\n");
		return 77;
	}
	return cmocka_run_group_tests_name("step_runtime", tests, group_setup, group_teardown);
}
