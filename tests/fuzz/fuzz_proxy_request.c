/*
 * fuzz_proxy_request.c - slipway-proxy's request path without sockets:
 * bytes from a client through http_parser (px_msg_feed, fed in pieces whose
 * sizes come from the input, as reads would split them), then for every
 * complete request the rule and sticky-cookie matching and the request
 * rebuilt for the backend, as the proxy does. Errors must end in a status
 * (400/413/431/501), never a crash or a read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
	"{\"version\":1,\"services\":[{\"name\":\"f/web\",\"listen\":[{\"address\":"
	"\"127.0.0.1\",\"port\":1}],\"groups\":[{\"name\":\"stable\",\"weight\":9,"
	"\"endpoints\":[{\"address\":\"127.0.0.1\",\"port\":2}]},{\"name\":\"canary\","
	"\"weight\":1,\"endpoints\":[{\"address\":\"127.0.0.1\",\"port\":3}]}],\"rules\":["
	"{\"match\":{\"header\":{\"name\":\"X-Variant\",\"value\":\"b\"}},\"group\":\"canary\"},"
	"{\"match\":{\"cookie\":{\"name\":\"variant\",\"value\":\"b\"}},\"group\":\"canary\"},"
	"{\"match\":{\"pathPrefix\":\"/beta\",\"method\":\"GET\"},\"group\":\"canary\"},"
	"{\"match\":{\"userAgent\":\"Mobile\"},\"group\":\"canary\"}],"
	"\"sticky\":{\"cookie\":\"sv\"}}]}";

static struct sw_proxy_config *cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct px_msg m;
	size_t off = 1, step;
	unsigned requests = 0;

	if (!cfg) {
		json_t *j = json_loads(config, 0, NULL);
		if (!j || sw_proxy_config_parse(&cfg, j, "fuzz", NULL) < 0)
			abort();
		json_decref(j);
	}
	if (size == 0)
		return 0;
	step = (size_t)(data[0] % 64) + 1;
	px_msg_init(&m);
	while (off <= size && requests < 64) {
		size_t len = size - off < step ? size - off : step;
		size_t n = px_msg_feed(&m, (const char *)data + off, len);
		if (n > len)
			abort();
		off += n;
		if (m.state == PX_MSG_ERROR) {
			if (m.error != 400 && m.error != 413 && m.error != 431 && m.error != 501)
				abort();
			break;
		}
		if (m.state == PX_MSG_DONE) {
			struct evbuffer *out = evbuffer_new();
			int g = px_rules_match(&cfg->services[0], &m);
			int s = px_sticky_group(&cfg->services[0], &m);
			if (g >= 2 || s >= 2)
				abort();
			px_build_request(out, &m, "127.0.0.1", requests % 2 == 1);
			evbuffer_free(out);
			px_msg_next(&m);
			requests++;
			continue;
		}
		if (len == 0)
			break;
		if (n == 0 && len > 0)
			break; /* paused without progress: not expected, stop */
		if (off == size) {
			px_msg_feed(&m, NULL, 0); /* EOF */
			break;
		}
	}
	px_msg_release(&m);
	return 0;
}
