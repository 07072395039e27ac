/*
 * api_tls.c - HTTPS for the API's TCP listener. kubectl (client-go) sends
 * bearer tokens only over https, so `--listen https://127.0.0.1:PORT` is
 * how stock kubectl reaches slipwayd with a token. The key and a
 * self-signed certificate (CN slipwayd, SAN 127.0.0.1, ::1, localhost,
 * ten years) are made on first use under STATE/tls/; clients pin
 * STATE/tls/server.crt (kubectl --certificate-authority) or skip
 * verification (--insecure-skip-tls-verify).
 */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_int.h"
#include "slipway/cleanup.h"
#include "slipway/log.h"
#include "slipway/mem.h"
#include "slipway/path.h"
#include "slipway/statedir.h"

static int ssl_fail(sw_error **err, const char *what)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return sw_error_set(err, SW_EFAIL, "tls: %s%s%s", what, *buf ? ": " : "", buf);
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int rc = X509_add_ext(x, ext, -1) ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

/* PEM of a key or a certificate into a new string. */
static char *bio_string(BIO *b)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	return n > 0 ? sw_xstrndup(data, (size_t)n) : NULL;
}

static int make_cert(const char *crt_path, const char *key_path, sw_error **err)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	if (!pk)
		return ssl_fail(err, "making a key");
	X509 *x = X509_new();
	int rc = -1;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	BIO *kb = NULL, *cb = NULL;
	X509_NAME *name = NULL;
	if (!x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
	X509_set_pubkey(x, pk);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"slipway", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"slipwayd", -1, -1,
	                           0);
	X509_set_issuer_name(x, name);
	if (add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost") < 0 ||
	    add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") < 0)
		goto out;
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;
	kb = BIO_new(BIO_s_mem());
	cb = BIO_new(BIO_s_mem());
	if (!kb || !cb || !PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x))
		goto out;
	rc = 0;
out:
	if (rc < 0)
		ssl_fail(err, "making a certificate");
	if (rc == 0) {
		cleanup_free char *kp = bio_string(kb);
		cleanup_free char *cp = bio_string(cb);
		if (!kp || !cp)
			rc = sw_error_set(err, SW_EFAIL, "tls: empty key or certificate");
		else if (sw_write_file_atomic(key_path, kp, strlen(kp), 0600, err) < 0 ||
		         sw_write_file_atomic(crt_path, cp, strlen(cp), 0644, err) < 0)
			rc = -1;
		if (kp)
			explicit_bzero(kp, strlen(kp));
	}
	BIO_free(kb);
	BIO_free(cb);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc < 0 ? SW_EFAIL : 0;
}

int api_tls_context(SSL_CTX **out, const char *state_dir, sw_error **err)
{
	cleanup_free char *dir = sw_xasprintf("%s/tls", state_dir);
	cleanup_free char *crt = sw_xasprintf("%s/server.crt", dir);
	cleanup_free char *key = sw_xasprintf("%s/server.key", dir);
	if (sw_mkdir_p(dir, 0700, 0700, err) < 0)
		return SW_EFAIL;
	if (access(crt, R_OK) != 0 || access(key, R_OK) != 0) {
		if (make_cert(crt, key, err) < 0)
			return SW_EFAIL;
		sw_info("made a self-signed certificate %s", crt);
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return ssl_fail(err, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return ssl_fail(err, crt);
	}
	*out = ctx;
	return 0;
}

/* evhttp's bufferevent factory: every connection speaks TLS. */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(arg);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl,
	                                                         BUFFEREVENT_SSL_ACCEPTING,
	                                                         BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void api_tls_attach(struct evhttp *http, SSL_CTX *ctx)
{
	evhttp_set_bevcb(http, tls_bev, ctx);
}
