/*
 * digest.h - sha256 digests in the OCI form "sha256:<64 lowercase hex>".
 */
#ifndef SLIPWAY_DIGEST_H
#define SLIPWAY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "slipway/error.h"

#define SW_DIGEST_LEN 71 /* strlen("sha256:") + 64 */

typedef struct sw_sha256 sw_sha256;

sw_sha256 *sw_sha256_new(void);
void sw_sha256_update(sw_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and resets nothing: free afterwards. */
void sw_sha256_final(sw_sha256 *h, char out[SW_DIGEST_LEN + 1]);
void sw_sha256_free(sw_sha256 *h);

void sw_digest_bytes(char out[SW_DIGEST_LEN + 1], const void *data, size_t len);
int sw_digest_file(char out[SW_DIGEST_LEN + 1], const char *path, sw_error **err);
int sw_digest_fd(char out[SW_DIGEST_LEN + 1], int fd, sw_error **err);

/* True when s is exactly "sha256:" followed by 64 lowercase hex digits. */
bool sw_digest_valid(const char *s);

#endif
