/*
 * digest.c - sha256 through OpenSSL's EVP interface, in OCI digest form.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/digest.h"
#include "slipway/mem.h"

struct sw_sha256 {
	EVP_MD_CTX *ctx;
};

sw_sha256 *sw_sha256_new(void)
{
	sw_sha256 *h = sw_xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		/* libcrypto only fails here when it cannot allocate */
		sw_out_of_memory(sizeof(*h));
	}
	return h;
}

void sw_sha256_update(sw_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void sw_sha256_final(sw_sha256 *h, char out[SW_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[SW_DIGEST_LEN] = '\0';
}

void sw_sha256_free(sw_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sw_digest_bytes(char out[SW_DIGEST_LEN + 1], const void *data, size_t len)
{
	sw_sha256 *h = sw_sha256_new();
	sw_sha256_update(h, data, len);
	sw_sha256_final(h, out);
	sw_sha256_free(h);
}

int sw_digest_fd(char out[SW_DIGEST_LEN + 1], int fd, sw_error **err)
{
	char buf[65536];
	sw_sha256 *h = sw_sha256_new();

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			sw_sha256_free(h);
			return sw_error_set_errno(err, e, "read");
		}
		if (n == 0)
			break;
		sw_sha256_update(h, buf, (size_t)n);
	}
	sw_sha256_final(h, out);
	sw_sha256_free(h);
	return 0;
}

int sw_digest_file(char out[SW_DIGEST_LEN + 1], const char *path, sw_error **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return sw_error_set_errno(err, errno, "open %s", path);
	if (sw_digest_fd(out, fd, err) < 0)
		return sw_error_wrap(err, "digest of %s", path);
	return 0;
}

bool sw_digest_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != SW_DIGEST_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
