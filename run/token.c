/*
 * token.c - bearer tokens for the TCP listener, kept as sha256 hashes in
 * STATE/tokens (0600): "NAME HEX" per line. The token is printed once at
 * creation and never stored; a lost token is revoked and made anew.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "slipway/api_token.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/mem.h"
#include "slipway/path.h"

#define TOKENS_MAX ((size_t)1024 * 1024)
#define HASH_HEX 64

typedef struct token_line {
	char name[64];
	char hash[HASH_HEX + 1];
} token_line;

static bool valid_name(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 63)
		return false;
	return strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* Reads STATE/tokens; a missing file is an empty list. */
static int read_tokens(const char *state_dir, token_line **out, size_t *n, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/tokens", state_dir);
	cleanup_free char *data = NULL;
	size_t len;
	*out = NULL;
	*n = 0;
	if (sw_read_file(&data, &len, path, TOKENS_MAX, err) < 0) {
		if (sw_error_code(*err) == SW_ENOTFOUND ||
		    (sw_error_code(*err) == SW_ESYSTEM && (*err)->sys_errno == ENOENT)) {
			sw_error_clear(err);
			return 0;
		}
		return sw_error_wrap(err, "reading tokens");
	}
	token_line *v = NULL;
	size_t cnt = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		const char *hash = sp + 1;
		if (!valid_name(line) || strlen(hash) != HASH_HEX)
			continue;
		v = sw_xreallocarray(v, cnt + 1, sizeof(*v));
		snprintf(v[cnt].name, sizeof(v[cnt].name), "%s", line);
		memcpy(v[cnt].hash, hash, HASH_HEX + 1);
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int write_tokens(const char *state_dir, const token_line *v, size_t n, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/tokens", state_dir);
	sw_buf b = SW_BUF_INIT(0);
	for (size_t i = 0; i < n; i++)
		sw_buf_printf(&b, NULL, "%s %s\n", v[i].name, v[i].hash);
	int rc = sw_write_file_atomic(path, b.data ? b.data : "", b.len, 0600, err);
	sw_buf_release(&b);
	return rc;
}

/* An exclusive lock on STATE/tokens.lock for read-modify-write. */
static int lock_tokens(const char *state_dir, sw_error **err)
{
	cleanup_free char *path = sw_xasprintf("%s/tokens.lock", state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", path);
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return sw_error_set_errno(err, e, "lock %s", path);
	}
	return fd;
}

static void hash_hex(const char *token, char out[HASH_HEX + 1])
{
	char d[SW_DIGEST_LEN + 1];
	sw_digest_bytes(d, token, strlen(token));
	memcpy(out, d + strlen("sha256:"), HASH_HEX + 1);
}

int sw_token_create(const char *state_dir, const char *name, char **token, char **name_out,
                    sw_error **err)
{
	unsigned char raw[32];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sw_error_set_errno(err, errno, "getrandom");
		}
		got += (size_t)n;
	}
	char tok[sizeof(raw) * 2 + 1];
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(tok + 2 * i, 3, "%02x", raw[i]);
	char gen[32];
	if (!name) {
		snprintf(gen, sizeof(gen), "token-%.8s", tok + 56);
		name = gen;
	}
	if (!valid_name(name))
		return sw_error_set(err, SW_EINVALID,
		                    "token name \"%s\": use 1 to 63 letters, digits, '.', '_' or '-'", name);
	cleanup_close int lock = lock_tokens(state_dir, err);
	if (lock < 0)
		return lock;
	cleanup_free token_line *v = NULL;
	size_t n;
	if (read_tokens(state_dir, &v, &n, err) < 0)
		return SW_EFAIL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return sw_error_set(err, SW_EEXISTS, "a token named \"%s\" exists", name);
	v = sw_xreallocarray(v, n + 1, sizeof(*v));
	snprintf(v[n].name, sizeof(v[n].name), "%s", name);
	hash_hex(tok, v[n].hash);
	if (write_tokens(state_dir, v, n + 1, err) < 0)
		return SW_EFAIL;
	*token = sw_xstrdup(tok);
	if (name_out)
		*name_out = sw_xstrdup(name);
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int sw_token_list(const char *state_dir, char ***names, sw_error **err)
{
	cleanup_free token_line *v = NULL;
	size_t n;
	if (read_tokens(state_dir, &v, &n, err) < 0)
		return SW_EFAIL;
	char **out = sw_xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = sw_xstrdup(v[i].name);
	*names = out;
	return 0;
}

int sw_token_revoke(const char *state_dir, const char *name, sw_error **err)
{
	cleanup_close int lock = lock_tokens(state_dir, err);
	if (lock < 0)
		return lock;
	cleanup_free token_line *v = NULL;
	size_t n;
	if (read_tokens(state_dir, &v, &n, err) < 0)
		return SW_EFAIL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) != 0)
			v[o++] = v[i];
	if (o == n)
		return sw_error_set(err, SW_ENOTFOUND, "no token named \"%s\"", name);
	return write_tokens(state_dir, v, o, err);
}

bool sw_token_check(const char *state_dir, const char *token, char **name)
{
	if (!token || !*token)
		return false;
	cleanup_free token_line *v = NULL;
	size_t n;
	sw_error *err = NULL;
	if (read_tokens(state_dir, &v, &n, &err) < 0) {
		sw_error_free(err);
		return false;
	}
	char h[HASH_HEX + 1];
	hash_hex(token, h);
	/* every line compared in full: the time taken says nothing of which
	 * line (or how much of one) matched */
	size_t found = n;
	for (size_t i = 0; i < n; i++) {
		unsigned char diff = 0;
		for (size_t j = 0; j < HASH_HEX; j++)
			diff |= (unsigned char)(v[i].hash[j] ^ h[j]);
		if (diff == 0 && found == n)
			found = i;
	}
	if (found == n)
		return false;
	if (name)
		*name = sw_xstrdup(v[found].name);
	return true;
}
