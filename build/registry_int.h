/*
 * registry_int.h - the registry client's HTTP layer (registry_http.c):
 * one libcurl handle per registry, challenge-driven auth (Basic, Bearer
 * tokens), bodies from memory or a file slice, responses into a bounded
 * buffer or a verified blob writer. Shared by registry.c only.
 */
#ifndef SLIPWAY_REGISTRY_INT_H
#define SLIPWAY_REGISTRY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "slipway/buf.h"
#include "slipway/image_store.h"

struct reg_client;

/* A request body: data (len bytes) or a slice of fd at off. */
struct reg_body {
	const char *data;
	int fd;
	int64_t off, len, pos;
};

struct reg_resp {
	long status;
	char *location, *digest, *content_type, *www_auth;
	sw_buf body;           /* 2xx bodies when sink is NULL; error bodies (trimmed) */
	sw_blob_writer *sink;  /* 2xx bodies go here when set */
	int64_t sink_max;      /* the most bytes the sink takes */
	sw_error *sink_err;
	bool transport_error;  /* the transfer broke (worth a retry) */
};

/* host is "name[:port]"; plain HTTP when insecure. Credentials are looked
 * up here (SLIPWAY_REGISTRY_AUTH, docker config.json). */
int reg_client_new(struct reg_client **out, const char *host, bool insecure, sw_error **err);
void reg_client_free(struct reg_client *c);
const char *reg_client_host(const struct reg_client *c);
/* "scheme://host" + path, or location itself when it is absolute. */
char *reg_client_url(const struct reg_client *c, const char *path_or_url);

/* Sends a request, answering one auth challenge (401) and retrying. A
 * second 401 is an error; any other status is left to the caller. headers
 * is NULL-terminated (may be NULL); body may be NULL. body_max bounds
 * resp->body. */
int reg_request(struct reg_client *c, const char *method, const char *url, const char *const *headers,
                struct reg_body *body, struct reg_resp *resp, size_t body_max, sw_error **err);
void reg_resp_release(struct reg_resp *r);
/* "HTTP 404 (BLOB_UNKNOWN: blob unknown to registry)" from an error body. */
char *reg_resp_describe(const struct reg_resp *r);

/* Exposed for tests. */
char *reg_base64_encode(const void *data, size_t len);
int reg_base64_decode(char **out, const char *s);
/* "user:password" for host, or NULL. */
char *reg_credentials_for(const char *host);

#endif
