/*
 * api_token.h - bearer tokens for slipwayd's TCP listener.
 *
 * STATE/tokens (mode 0600) holds one line per token, "NAME SHA256HEX":
 * the token itself is shown once, when created, and never stored. A
 * request's token is hashed and compared with every line in constant time.
 */
#ifndef SLIPWAY_API_TOKEN_H
#define SLIPWAY_API_TOKEN_H

#include <stdbool.h>

#include "slipway/error.h"

/* Makes a new random token (32 bytes, 64 hex digits) named name (NULL: a
 * generated "token-XXXXXXXX"), records its hash in STATE/tokens and gives
 * the token in *token (caller frees). SW_EEXISTS when the name is taken;
 * SW_EINVALID for a name that is not [A-Za-z0-9._-]{1,63}. */
int sw_token_create(const char *state_dir, const char *name, char **token, char **name_out,
                    sw_error **err);

/* The names of the tokens, NULL-terminated (caller frees with sw_strv_free). */
int sw_token_list(const char *state_dir, char ***names, sw_error **err);

/* Removes a token by name; SW_ENOTFOUND if there is none. */
int sw_token_revoke(const char *state_dir, const char *name, sw_error **err);

/* True when token is one of STATE/tokens; *name (may be NULL) gets its
 * name (caller frees). A missing tokens file allows nothing. */
bool sw_token_check(const char *state_dir, const char *token, char **name);

#endif
