/*
 * test_proxy.c - slipway-proxy's parts without sockets: configuration
 * parsing and its errors, request parsing with http_parser (pipelining,
 * chunked, limits), rules, cookies, the request sent upstream, group and
 * endpoint choice (exact weights, least-conn, terminating, passive health),
 * and latency quantiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy_int.h"
#include "slipway/json.h"

static struct sw_proxy_config *parse(const char *text, sw_error **err)
{
	struct sw_proxy_config *c = NULL;
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	if (sw_proxy_config_parse(&c, j, "cfg", err) < 0)
		c = NULL;
	json_decref(j);
	return c;
}

#define SVC(extra)                                                                          \
	"{\"version\":3,\"services\":[{\"name\":\"default/web\",\"listen\":[{\"address\":"    \
	"\"127.0.0.1\",\"port\":8080}],\"groups\":[{\"name\":\"stable\",\"weight\":90,"      \
	"\"endpoints\":[{\"address\":\"127.0.0.1\",\"port\":40001},{\"address\":"          \
	"\"127.0.0.1\",\"port\":40002}]},{\"name\":\"canary\",\"weight\":10,\"endpoints\":" \
	"[{\"address\":\"127.0.0.1\",\"port\":40003}]}]" extra "}]}"

static void test_config_ok(void **state)
{
	sw_error *err = NULL;
	struct sw_proxy_config *c = parse(
		SVC(",\"rules\":[{\"match\":{\"header\":{\"name\":\"X-Variant\",\"value\":\"b\"},"
		    "\"pathPrefix\":\"/beta\"},\"group\":\"canary\"}],\"sticky\":{\"cookie\":\"sv\"},"
		    "\"mirror\":{\"group\":\"canary\",\"percent\":10},\"balance\":\"least-conn\""),
		&err);

	(void)state;
	assert_null(err);
	assert_non_null(c);
	assert_int_equal(c->version, 3);
	assert_int_equal(c->n_services, 1);
	assert_int_equal(c->services[0].n_groups, 2);
	assert_int_equal(c->services[0].groups[1].weight, 10);
	assert_int_equal(c->services[0].rules[0].group, 1);
	assert_string_equal(c->services[0].rules[0].match.path_prefix, "/beta");
	assert_int_equal(c->services[0].sticky_max_age_s, 86400);
	assert_int_equal(c->services[0].mirror_timeout_ms, 1000);
	assert_int_equal(c->services[0].balance, SW_PROXY_LEAST_CONN);
	assert_int_equal(c->services[0].server_ms, 30000);
	assert_int_equal(c->services[0].affinity_timeout_s, 10800);
	sw_proxy_config_free(c);
}

static void expect_error(const char *text, const char *needle)
{
	sw_error *err = NULL;
	struct sw_proxy_config *c = parse(text, &err);
	char *msg;

	assert_null(c);
	assert_non_null(err);
	msg = sw_error_string(err);
	if (!strstr(msg, needle))
		fail_msg("\"%s\" does not contain \"%s\"", msg, needle);
	free(msg);
	sw_error_free(err);
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error(SVC(",\"colour\":1"), "services[0]: unknown field \"colour\"");
	expect_error(SVC(",\"rules\":[{\"match\":{\"pathPrefix\":\"/x\"},\"group\":\"nope\"}]"),
		     "services[0].rules[0]: group \"nope\"");
	expect_error(SVC(",\"mode\":\"udp\""), "mode \"udp\"");
	expect_error(SVC(",\"mode\":\"tcp\",\"sticky\":{\"cookie\":\"x\"}"), "needs mode");
	expect_error(SVC(",\"timeouts\":{\"serverMs\":0}"), "services[0].timeouts");
	expect_error(SVC(",\"rules\":[{\"match\":{},\"group\":\"canary\"}]"), "at least one");
	expect_error("{\"version\":1,\"services\":[{\"name\":\"a\",\"listen\":[{\"address\":"
		     "\"127.0.0.1\",\"port\":80}],\"groups\":[{\"name\":\"g\",\"weight\":-1}]}]}",
		     "services[0].groups[0]: \"weight\"");
	expect_error("{\"version\":1,\"services\":[{\"name\":\"a\",\"listen\":[{\"address\":"
		     "\"localhost\",\"port\":80}],\"groups\":[{\"name\":\"g\"}]}]}",
		     "services[0].listen[0]: address");
	expect_error("{\"version\":1,\"services\":[{\"name\":\"a\",\"listen\":[{\"address\":"
		     "\"127.0.0.1\",\"port\":80}],\"groups\":[{\"name\":\"g\"}]},{\"name\":\"b\","
		     "\"listen\":[{\"address\":\"127.0.0.1\",\"port\":80}],\"groups\":[{\"name\":"
		     "\"g\"}]}]}",
		     "already used by a");
	expect_error("{\"services\":[]}", "version");
}

static void test_config_write(void **state)
{
	char dir[] = "/tmp/test-proxy-XXXXXX", path[64];
	sw_error *err = NULL;
	struct sw_proxy_config *c = NULL;
	json_t *j = json_loads(SVC(""), 0, NULL), *bad = json_pack("{s:i}", "version", 1);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/proxy.json", dir);
	assert_int_equal(sw_proxy_config_write(path, j, &err), 0);
	assert_int_equal(sw_proxy_config_load(&c, path, &err), 0);
	assert_int_equal(c->version, 3);
	sw_proxy_config_free(c);
	/* an invalid configuration is refused and the file is left alone */
	assert_true(sw_proxy_config_write(path, bad, &err) < 0);
	sw_error_clear(&err);
	assert_int_equal(sw_proxy_config_load(&c, path, &err), 0);
	assert_int_equal(c->version, 3);
	sw_proxy_config_free(c);
	unlink(path);
	rmdir(dir);
	json_decref(j);
	json_decref(bad);
}

static size_t feed_all(struct px_msg *m, const char *s)
{
	return px_msg_feed(m, s, strlen(s));
}

static void test_parse_pipelined(void **state)
{
	struct px_msg m;
	const char *two = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nCookie: a=1; variant=b\r\n\r\n"
			  "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	size_t n, len;
	const char *v;

	(void)state;
	px_msg_init(&m);
	n = feed_all(&m, two);
	assert_int_equal(m.state, PX_MSG_DONE);
	assert_true(n < strlen(two));
	assert_int_equal(m.parser.method, HTTP_GET);
	assert_int_equal(m.head.url_len, 6);
	assert_memory_equal(px_msg_url(&m), "/a?x=1", 6);
	v = px_head_get(&m.head, "COOKIE", &len);
	assert_non_null(v);
	assert_true(px_cookie_find(v, len, "variant", &v, &len));
	assert_int_equal(len, 1);
	assert_true(m.keep_alive);
	px_msg_next(&m);
	n += px_msg_feed(&m, two + n, strlen(two) - n);
	assert_int_equal(m.state, PX_MSG_DONE);
	assert_int_equal(m.parser.method, HTTP_POST);
	assert_int_equal(m.body.len, 5);
	assert_memory_equal(m.body.data, "abcde", 5);
	px_msg_release(&m);
}

static void test_parse_errors(void **state)
{
	struct px_msg m;
	char *big = malloc(20000 + 64);

	(void)state;
	px_msg_init(&m);
	feed_all(&m, "GARBAGE\r\n\r\n");
	assert_int_equal(m.state, PX_MSG_ERROR);
	assert_int_equal(m.error, 400);
	px_msg_release(&m);

	px_msg_init(&m);
	strcpy(big, "GET / HTTP/1.1\r\nX-Big: ");
	memset(big + strlen(big), 'y', 20000);
	strcpy(big + 23 + 20000, "\r\n\r\n");
	feed_all(&m, big);
	assert_int_equal(m.state, PX_MSG_ERROR);
	assert_int_equal(m.error, 431);
	px_msg_release(&m);
	free(big);

	px_msg_init(&m);
	feed_all(&m, "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
	assert_int_equal(m.error, 501);
	px_msg_release(&m);

	px_msg_init(&m);
	feed_all(&m, "POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n");
	assert_int_equal(m.error, 413);
	px_msg_release(&m);

	px_msg_init(&m);
	feed_all(&m, "GET / HTTP/1.1\r\nHost: x\r\n");
	assert_int_equal(m.state, PX_MSG_HEAD);
	px_msg_feed(&m, NULL, 0); /* EOF inside the head */
	assert_int_equal(m.state, PX_MSG_ERROR);
	px_msg_release(&m);
}

static void test_rules_and_upstream(void **state)
{
	sw_error *err = NULL;
	struct sw_proxy_config *c = parse(
		SVC(",\"rules\":[{\"match\":{\"header\":{\"name\":\"X-Variant\",\"value\":\"b\"}},"
		    "\"group\":\"canary\"},{\"match\":{\"cookie\":{\"name\":\"v\",\"value\":\"b\"}},"
		    "\"group\":\"canary\"},{\"match\":{\"pathPrefix\":\"/beta\",\"method\":\"GET\"},"
		    "\"group\":\"canary\"},{\"match\":{\"userAgent\":\"Mobile\"},\"group\":\"stable\"}],"
		    "\"sticky\":{\"cookie\":\"sv\"}"),
		&err);
	struct {
		const char *req;
		int group, sticky;
	} cases[] = {
		{"GET / HTTP/1.1\r\n\r\n", -1, -1},
		{"GET / HTTP/1.1\r\nx-variant: b\r\n\r\n", 1, -1},
		{"GET / HTTP/1.1\r\nX-Variant: b \r\n\r\n", 1, -1},
		{"GET / HTTP/1.1\r\nX-Variant: bb\r\n\r\n", -1, -1},
		{"GET / HTTP/1.1\r\nCookie: a=1; v=b\r\n\r\n", 1, -1},
		{"GET / HTTP/1.1\r\nCookie: v=\"b\"\r\n\r\n", 1, -1},
		{"GET /beta/x HTTP/1.1\r\n\r\n", 1, -1},
		{"POST /beta/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", -1, -1},
		{"GET http://h/beta?q HTTP/1.1\r\n\r\n", 1, -1},
		{"GET /b HTTP/1.1\r\nUser-Agent: x Mobile y\r\n\r\n", 0, -1},
		{"GET / HTTP/1.1\r\nCookie: sv=canary\r\n\r\n", -1, 1},
		{"GET / HTTP/1.1\r\nCookie: sv=nope\r\n\r\n", -1, -1},
	};
	struct evbuffer *out = evbuffer_new();
	struct px_msg m;
	char *text;
	size_t len;

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		px_msg_init(&m);
		feed_all(&m, cases[i].req);
		assert_int_equal(m.state, PX_MSG_DONE);
		if (px_rules_match(&c->services[0], &m) != cases[i].group)
			fail_msg("case %zu: rules", i);
		if (px_sticky_group(&c->services[0], &m) != cases[i].sticky)
			fail_msg("case %zu: sticky", i);
		px_msg_release(&m);
	}
	px_msg_init(&m);
	feed_all(&m, "POST /p HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, x\r\n"
		     "X-Forwarded-For: 10.0.0.1\r\nTransfer-Encoding: chunked\r\n"
		     "X-Slipway-Shadow: 1\r\n\r\n2\r\nhi\r\n0\r\n\r\n");
	px_build_request(out, &m, "127.0.0.1", true);
	len = evbuffer_get_length(out);
	text = strndup((char *)evbuffer_pullup(out, -1), len);
	assert_string_equal(text, "POST /p HTTP/1.1\r\nHost: h\r\n"
				  "X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\nX-Slipway-Shadow: 1\r\n"
				  "Content-Length: 2\r\n\r\nhi");
	free(text);
	px_msg_release(&m);
	evbuffer_free(out);
	sw_proxy_config_free(c);
}

static void test_balance(void **state)
{
	sw_error *err = NULL;
	struct sw_proxy_config *c = parse(SVC(""), &err);
	sw_proxy px;
	struct px_conf *conf = calloc(1, sizeof(*conf));
	struct px_service *s;
	struct px_pick pick;
	unsigned counts[3] = {0};

	(void)state;
	memset(&px, 0, sizeof(px));
	conf->refs = 1;
	conf->c = c;
	s = px_service_new(&px, conf, 0);
	px_conf_unref(conf);
	for (int i = 0; i < 10000; i++) {
		assert_true(px_choose(s, -1, "127.0.0.1", NULL, 0, &pick));
		counts[pick.ep == s->groups[1].eps[0] ? 2 : pick.ep == s->groups[0].eps[0] ? 0 : 1]++;
		assert_true(pick.by_weight);
	}
	assert_int_equal(counts[2], 1000); /* exact, not about */
	assert_int_equal(counts[0], 4500);
	assert_int_equal(counts[1], 4500);

	/* a hint wins; the tried endpoint is skipped */
	assert_true(px_choose(s, 1, NULL, NULL, 0, &pick));
	assert_ptr_equal(pick.g, &s->groups[1]);
	assert_false(pick.by_weight);
	struct px_endpoint *tried[1] = {s->groups[0].eps[0]};
	for (int i = 0; i < 4; i++) {
		assert_true(px_choose(s, 0, NULL, tried, 1, &pick));
		assert_ptr_equal(pick.ep, s->groups[0].eps[1]);
	}
	/* passive health: a down endpoint is skipped while others are up */
	px_endpoint_failed(s->groups[0].eps[0], px_now_us());
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(px_pick_endpoint(s, &s->groups[0], NULL, 0, px_now_us()),
				 s->groups[0].eps[1]);
	px_endpoint_failed(s->groups[0].eps[1], px_now_us());
	/* all down: still tried rather than refusing */
	assert_non_null(px_pick_endpoint(s, &s->groups[0], NULL, 0, px_now_us()));
	px_endpoint_ok(s->groups[0].eps[0]);
	px_endpoint_ok(s->groups[0].eps[1]);
	/* group without usable endpoints loses its weight */
	((struct sw_proxy_endpoint *)&s->groups[1].cfg->endpoints[0])->terminating = true;
	for (int i = 0; i < 100; i++) {
		assert_true(px_choose(s, -1, NULL, NULL, 0, &pick));
		assert_ptr_equal(pick.g, &s->groups[0]);
	}
	/* least-conn */
	((struct sw_proxy_service *)s->cfg)->balance = SW_PROXY_LEAST_CONN;
	s->groups[0].eps[0]->active = 3;
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(px_pick_endpoint(s, &s->groups[0], NULL, 0, px_now_us()),
				 s->groups[0].eps[1]);
	s->groups[0].eps[0]->active = 0;
	/* ClientIP affinity */
	((struct sw_proxy_service *)s->cfg)->affinity = true;
	((struct sw_proxy_service *)s->cfg)->balance = SW_PROXY_ROUND_ROBIN;
	assert_true(px_choose(s, -1, "10.0.0.9", NULL, 0, &pick));
	struct px_endpoint *first = pick.ep;
	for (int i = 0; i < 10; i++) {
		assert_true(px_choose(s, -1, "10.0.0.9", NULL, 0, &pick));
		assert_ptr_equal(pick.ep, first);
	}
	px_service_unref(s);
	assert_null(px.endpoints);
	assert_null(px.stats);
	assert_null(px.shared);
}

static void test_stats(void **state)
{
	struct px_stats *reg = NULL, *s = px_stats_get(&reg, "svc", "g");
	uint64_t now = 100u * 1000000u;
	double p50, p99;

	(void)state;
	assert_true(px_stats_quantile(s, 0.5, now) < 0);
	for (int i = 0; i < 98; i++)
		px_stats_response(s, 200, 1000, now);
	px_stats_response(s, 503, 100000, now);
	px_stats_response(s, 200, 100000, now);
	p50 = px_stats_quantile(s, 0.5, now);
	p99 = px_stats_quantile(s, 0.99, now);
	assert_true(p50 >= 1.0 && p50 < 1.5);
	assert_true(p99 >= 100.0 && p99 < 150.0);
	assert_int_equal(s->responses[1], 99);
	assert_int_equal(s->err_5xx, 1);
	/* out of the window a minute later */
	assert_true(px_stats_quantile(s, 0.5, now + 61u * 1000000u) < 0);
	assert_int_equal(px_lat_bin(0), 0);
	assert_int_equal(px_lat_bin(50), 0);
	assert_int_equal(px_lat_bin(51), 1);
	assert_int_equal(px_lat_bin(UINT64_MAX), PX_LAT_BINS - 1);
	px_stats_unref(&reg, s);
	assert_null(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_ok),        cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_write),
		cmocka_unit_test(test_parse_pipelined),  cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_rules_and_upstream), cmocka_unit_test(test_balance),
		cmocka_unit_test(test_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
