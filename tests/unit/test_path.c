/* Unit tests for common/path.c: lexical cleaning, joins and openat2
 * confinement against real symlinks in a temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "slipway/cleanup.h"
#include "slipway/path.h"
#include "slipway/spawn.h"

static void check_clean(const char *in, const char *want)
{
	char *got = sw_path_clean(in);
	if (strcmp(got, want))
		fail_msg("clean(%s) = %s, want %s", in, got, want);
	free(got);
}

static void test_clean(void **state)
{
	(void)state;
	/* the cases of Go's path.Clean */
	check_clean("", ".");
	check_clean("abc", "abc");
	check_clean("abc/def", "abc/def");
	check_clean("a/b/c", "a/b/c");
	check_clean(".", ".");
	check_clean("..", "..");
	check_clean("../..", "../..");
	check_clean("../../abc", "../../abc");
	check_clean("/abc", "/abc");
	check_clean("/", "/");
	check_clean("abc/", "abc");
	check_clean("abc/def/", "abc/def");
	check_clean("/abc/", "/abc");
	check_clean("abc//def//ghi", "abc/def/ghi");
	check_clean("//abc", "/abc");
	check_clean("///abc", "/abc");
	check_clean("abc/./def", "abc/def");
	check_clean("/./abc/def", "/abc/def");
	check_clean("abc/.", "abc");
	check_clean("abc/def/ghi/../jkl", "abc/def/jkl");
	check_clean("abc/def/../ghi/../jkl", "abc/jkl");
	check_clean("abc/def/..", "abc");
	check_clean("abc/def/../..", ".");
	check_clean("/abc/def/../..", "/");
	check_clean("abc/def/../../..", "..");
	check_clean("/abc/def/../../..", "/");
	check_clean("abc/def/../../../ghi/jkl/../../../mno", "../../mno");
	check_clean("abc/./../def", "def");
	check_clean("abc//./../def", "def");
	check_clean("abc/../../././../def", "../../def");
}

static void test_beneath_and_join(void **state)
{
	cleanup_error sw_error *err = NULL;
	cleanup_free char *j = NULL;
	char *p = NULL;
	(void)state;

	assert_true(sw_path_is_beneath("a/../b"));
	assert_true(sw_path_is_beneath("."));
	assert_true(sw_path_is_beneath("..a/b"));
	assert_false(sw_path_is_beneath("../a"));
	assert_false(sw_path_is_beneath("a/../../b"));
	assert_false(sw_path_is_beneath("/a"));

	assert_int_equal(sw_path_join_under(&p, "/root", "a//b/./c", &err), 0);
	assert_string_equal(p, "/root/a/b/c");
	free(p);
	assert_int_equal(sw_path_join_under(&p, "/root/", ".", &err), 0);
	assert_string_equal(p, "/root/");
	free(p);
	assert_int_equal(sw_path_join_under(&j, "/root", "../etc/passwd", &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_join_under(&j, "/root", "/etc/passwd", &err), SW_EESCAPE);
}

struct tree {
	char root[64];
	int rootfd;
};

static int setup_tree(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	strcpy(t->root, "/tmp/slipway-path-XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s/dir", t->root);
	mkdir(buf, 0755);
	snprintf(buf, sizeof(buf), "%s/dir/file", t->root);
	close(open(buf, O_CREAT | O_WRONLY, 0644));
	snprintf(buf, sizeof(buf), "%s/abs", t->root);
	if (symlink("/etc", buf) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s/up", t->root);
	if (symlink("../../../..", buf) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s/rel", t->root);
	if (symlink("dir/file", buf) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s/etc", t->root);
	mkdir(buf, 0755);
	t->rootfd = open(t->root, O_PATH | O_DIRECTORY);
	*state = t;
	return t->rootfd < 0 ? -1 : 0;
}

static int teardown_tree(void **state)
{
	struct tree *t = *state;
	const char *argv[] = { "rm", "-rf", t->root, NULL };
	sw_spawn_opts o = { .argv = argv };
	sw_spawn_result r;
	close(t->rootfd);
	sw_spawn_run(&o, &r, NULL);
	sw_spawn_result_release(&r);
	free(t);
	return 0;
}

static void test_open_beneath(void **state)
{
	struct tree *t = *state;
	sw_error *err = NULL;
	int fd;

	fd = sw_path_open_under(t->rootfd, "dir/file", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err);
	assert_true(fd >= 0);
	close(fd);
	fd = sw_path_open_under(t->rootfd, "rel", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(sw_path_open_under(t->rootfd, "../etc/passwd", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_open_under(t->rootfd, "/etc/passwd", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_open_under(t->rootfd, "abs/passwd", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_open_under(t->rootfd, "up/etc/passwd", O_RDONLY, 0, SW_RESOLVE_BENEATH, &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_open_under(t->rootfd, "rel", O_RDONLY, 0, SW_RESOLVE_NO_SYMLINKS, &err), SW_EESCAPE);
	sw_error_clear(&err);
	assert_int_equal(sw_path_open_under(t->rootfd, "nope", O_RDONLY, 0, 0, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
}

static void test_open_in_root(void **state)
{
	struct tree *t = *state;
	sw_error *err = NULL;
	struct stat st;
	int fd;

	/* "abs" -> /etc resolves to ROOT/etc, never the host's /etc */
	fd = sw_path_open_under(t->rootfd, "abs", O_RDONLY | O_DIRECTORY, 0, SW_RESOLVE_IN_ROOT, &err);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(sw_path_open_under(t->rootfd, "abs/passwd", O_RDONLY, 0, SW_RESOLVE_IN_ROOT, &err), SW_ENOTFOUND);
	sw_error_clear(&err);
	/* ".." past the root stays at the root */
	fd = sw_path_open_under(t->rootfd, "up/dir/file", O_RDONLY, 0, SW_RESOLVE_IN_ROOT, &err);
	assert_true(fd >= 0);
	close(fd);
	fd = sw_path_open_under(t->rootfd, "/../../dir/file", O_RDONLY, 0, SW_RESOLVE_IN_ROOT, &err);
	assert_true(fd >= 0);
	close(fd);
	/* create under the root */
	fd = sw_path_open_under(t->rootfd, "abs/new", O_WRONLY | O_CREAT | O_EXCL, 0600, SW_RESOLVE_IN_ROOT, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fstatat(t->rootfd, "etc/new", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_read_and_write_atomic(void **state)
{
	struct tree *t = *state;
	cleanup_error sw_error *err = NULL;
	cleanup_free char *data = NULL;
	char path[128];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/atomic", t->root);
	assert_int_equal(sw_write_file_atomic(path, "hello", 5, 0640, &err), 0);
	assert_int_equal(sw_read_file(&data, &len, path, 0, &err), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	data = NULL;
	assert_int_equal(sw_read_file(&data, &len, path, 4, &err), SW_ETOOBIG);
	sw_error_clear(&err);
	assert_int_equal(sw_read_file(&data, &len, t->root, 0, &err), SW_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_beneath_and_join),
		cmocka_unit_test_setup_teardown(test_open_beneath, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_open_in_root, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_read_and_write_atomic, setup_tree, teardown_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
