/*
 * standalone_driver.c - replays files through a libFuzzer target without
 * libFuzzer, so every test build (gcc included) runs the corpus as a plain
 * test under the sanitizers.
 *
 * usage: fuzz_replay_X PATH...   (files, or folders whose regular files are
 * replayed in name order; folders are not entered recursively)
 *
 * Each input is copied into a buffer of exactly its size, so a target that
 * reads past the end is caught by ASan as it would be under libFuzzer. It
 * exits non-zero if a path cannot be read or no input was found; a bug in
 * the target shows up as a sanitizer report or a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	/* malloc(0) may return NULL; keep a real (empty) allocation */
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fprintf(stderr, "fuzz-replay: %s: short read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir; returns how many, or -1. */
static long replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	long done = 0;

	if (!d) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *p = malloc(len);
		struct stat st;

		snprintf(p, len, "%s/%s", dir, names[i]);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(p) < 0)
				done = -1;
			else if (done >= 0)
				done++;
		}
		free(p);
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	long total = 0;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
		} else if (S_ISDIR(st.st_mode)) {
			long n = replay_dir(argv[i]);
			if (n < 0)
				failed = 1;
			else
				total += n;
		} else if (replay_file(argv[i]) < 0) {
			failed = 1;
		} else {
			total++;
		}
	}
	printf("fuzz-replay: %ld inputs replayed\n", total);
	if (total == 0) {
		fprintf(stderr, "fuzz-replay: no inputs found\n");
		return 1;
	}
	return failed;
}
