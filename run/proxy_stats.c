/*
 * proxy_stats.c - slipway-proxy's figures per service and per group:
 * counters since start, a latency histogram with fixed log-scale bins (50 us
 * times sqrt(2)^i), and a sliding window of the last PX_WINDOW seconds in
 * 1 s slots (latency bins, requests, errors) from which p50/p90/p99 and
 * rates come. Rendering as JSON (/stats) and Prometheus text (/metrics).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy_int.h"
#include "slipway/mem.h"

uint64_t px_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double bounds_us[PX_LAT_BINS];

static void init_bounds(void)
{
	double b = 50.0;

	if (bounds_us[0] != 0)
		return;
	for (unsigned i = 0; i < PX_LAT_BINS - 1; i++) {
		bounds_us[i] = b;
		b *= 1.4142135623730951;
	}
	bounds_us[PX_LAT_BINS - 1] = INFINITY;
}

unsigned px_lat_bin(uint64_t us)
{
	unsigned lo = 0, hi = PX_LAT_BINS - 1;

	init_bounds();
	while (lo < hi) { /* first bin whose bound is >= us */
		unsigned mid = (lo + hi) / 2;
		if ((double)us <= bounds_us[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

double px_lat_bound_ms(unsigned bin)
{
	init_bounds();
	return bounds_us[bin < PX_LAT_BINS ? bin : PX_LAT_BINS - 1] / 1000.0;
}

struct px_stats *px_stats_get(struct px_stats **registry, const char *service,
			      const char *group)
{
	struct px_stats *s;

	for (s = *registry; s; s = s->next)
		if (strcmp(s->service, service) == 0 &&
		    ((!group && !s->group) || (group && s->group && strcmp(group, s->group) == 0))) {
			s->refs++;
			return s;
		}
	s = sw_xcalloc(1, sizeof(*s));
	s->refs = 1;
	s->service = sw_xstrdup(service);
	s->group = group ? sw_xstrdup(group) : NULL;
	s->next = *registry;
	*registry = s;
	return s;
}

void px_stats_unref(struct px_stats **registry, struct px_stats *s)
{
	if (!s || --s->refs > 0)
		return;
	for (struct px_stats **pp = registry; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s->service);
	free(s->group);
	free(s);
}

static unsigned slot_of(struct px_stats *s, uint64_t now_us)
{
	uint64_t sec = now_us / 1000000u + 1; /* never 0, so an empty slot is told apart */
	unsigned slot = (unsigned)(sec % PX_WINDOW);

	if (s->win_sec[slot] != sec) {
		s->win_sec[slot] = sec;
		memset(s->win_bins[slot], 0, sizeof(s->win_bins[slot]));
		s->win_req[slot] = s->win_err[slot] = 0;
	}
	return slot;
}

void px_stats_response(struct px_stats *s, int status, uint64_t latency_us, uint64_t now_us)
{
	unsigned slot = slot_of(s, now_us), bin;

	s->win_req[slot]++;
	if (status >= 100 && status < 600)
		s->responses[status / 100 - 1]++;
	if (status == 0 || status >= 500) {
		s->win_err[slot]++;
		if (status >= 500)
			s->err_5xx++;
	}
	if (status == 0)
		return;
	bin = px_lat_bin(latency_us);
	s->lat_bins[bin]++;
	s->lat_count++;
	s->lat_sum_us += latency_us;
	s->win_bins[slot][bin]++;
}

static bool slot_live(const struct px_stats *s, unsigned slot, uint64_t now_us)
{
	uint64_t sec = now_us / 1000000u + 1;

	return s->win_sec[slot] != 0 && sec - s->win_sec[slot] < PX_WINDOW;
}

double px_stats_quantile(const struct px_stats *s, double q, uint64_t now_us)
{
	uint64_t bins[PX_LAT_BINS] = {0}, total = 0, acc = 0, want;

	for (unsigned slot = 0; slot < PX_WINDOW; slot++) {
		if (!slot_live(s, slot, now_us))
			continue;
		for (unsigned b = 0; b < PX_LAT_BINS; b++) {
			bins[b] += s->win_bins[slot][b];
			total += s->win_bins[slot][b];
		}
	}
	if (total == 0)
		return -1;
	want = (uint64_t)(q * (double)total); /* ceil without libm */
	if ((double)want < q * (double)total)
		want++;
	if (want == 0)
		want = 1;
	for (unsigned b = 0; b < PX_LAT_BINS; b++) {
		acc += bins[b];
		if (acc >= want)
			return b == PX_LAT_BINS - 1 ? px_lat_bound_ms(b - 1) : px_lat_bound_ms(b);
	}
	return px_lat_bound_ms(PX_LAT_BINS - 2);
}

static void window_counts(const struct px_stats *s, uint64_t now_us, uint64_t *req,
			  uint64_t *errs)
{
	*req = *errs = 0;
	for (unsigned slot = 0; slot < PX_WINDOW; slot++)
		if (slot_live(s, slot, now_us)) {
			*req += s->win_req[slot];
			*errs += s->win_err[slot];
		}
}

static json_t *quantile_json(const struct px_stats *s, double q, uint64_t now_us)
{
	double v = px_stats_quantile(s, q, now_us);

	return v < 0 ? json_null() : json_real(v);
}

json_t *px_stats_json(const struct px_stats *s, uint64_t now_us)
{
	json_t *o = json_object(), *resp = json_object(), *errs = json_object();
	json_t *win = json_object(), *mir = json_object();
	uint64_t wreq, werr;
	static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

	for (unsigned i = 0; i < 5; i++)
		json_object_set_new(resp, classes[i], json_integer((json_int_t)s->responses[i]));
	json_object_set_new(errs, "connect", json_integer((json_int_t)s->err_connect));
	json_object_set_new(errs, "timeout", json_integer((json_int_t)s->err_timeout));
	json_object_set_new(errs, "5xx", json_integer((json_int_t)s->err_5xx));
	json_object_set_new(errs, "badResponse", json_integer((json_int_t)s->err_bad_response));
	window_counts(s, now_us, &wreq, &werr);
	json_object_set_new(win, "seconds", json_integer(PX_WINDOW));
	json_object_set_new(win, "requests", json_integer((json_int_t)wreq));
	json_object_set_new(win, "errors", json_integer((json_int_t)werr));
	json_object_set_new(win, "requestsPerSecond", json_real((double)wreq / PX_WINDOW));
	json_object_set_new(win, "successRate",
			    wreq ? json_real(1.0 - (double)werr / (double)wreq) : json_null());
	json_object_set_new(win, "p50Ms", quantile_json(s, 0.50, now_us));
	json_object_set_new(win, "p90Ms", quantile_json(s, 0.90, now_us));
	json_object_set_new(win, "p99Ms", quantile_json(s, 0.99, now_us));
	json_object_set_new(mir, "requests", json_integer((json_int_t)s->mirrored));
	json_object_set_new(mir, "succeeded", json_integer((json_int_t)s->mirror_ok));
	json_object_set_new(mir, "statusDiffers", json_integer((json_int_t)s->mirror_diff));
	json_object_set_new(mir, "dropped", json_integer((json_int_t)s->mirror_dropped));
	json_object_set_new(mir, "successRate",
			    s->mirrored ? json_real((double)s->mirror_ok / (double)s->mirrored)
					: json_null());
	if (s->group)
		json_object_set_new(o, "name", json_string(s->group));
	else
		json_object_set_new(o, "name", json_string(s->service));
	json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
	json_object_set_new(o, "responses", resp);
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "retries", json_integer((json_int_t)s->retries));
	json_object_set_new(o, "bytesIn", json_integer((json_int_t)s->bytes_in));
	json_object_set_new(o, "bytesOut", json_integer((json_int_t)s->bytes_out));
	json_object_set_new(o, "activeConnections", json_integer(s->active));
	json_object_set_new(o, "latency",
			    json_pack("{s:I,s:f}", "count", (json_int_t)s->lat_count, "sumMs",
				      (double)s->lat_sum_us / 1000.0));
	json_object_set_new(o, "window", win);
	json_object_set_new(o, "mirror", mir);
	return o;
}

/* Label values: backslash, quote and newline escaped. */
static void label(sw_buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sw_buf_addc(out, '\\', NULL);
		if (*v == '\n') {
			sw_buf_addstr(out, "\\n", NULL);
			continue;
		}
		sw_buf_addc(out, *v, NULL);
	}
}

static void labels(sw_buf *out, const struct px_stats *s, const char *extra)
{
	sw_buf_addstr(out, "{service=\"", NULL);
	label(out, s->service);
	sw_buf_addstr(out, "\",group=\"", NULL);
	label(out, s->group ? s->group : "");
	sw_buf_addc(out, '"', NULL);
	if (extra) {
		sw_buf_addc(out, ',', NULL);
		sw_buf_addstr(out, extra, NULL);
	}
	sw_buf_addc(out, '}', NULL);
}

static void metric(sw_buf *out, const char *name, const struct px_stats *s, const char *extra,
		   double v)
{
	sw_buf_addstr(out, name, NULL);
	labels(out, s, extra);
	sw_buf_printf(out, NULL, " %.17g\n", v);
}

static void family(sw_buf *out, const char *name, const char *type, const char *help)
{
	sw_buf_printf(out, NULL, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define EACH(stmt)                                                                          \
	do {                                                                                \
		for (size_t k = 0; k < n; k++) {                                            \
			const struct px_stats *s = all[k];                                  \
			stmt;                                                               \
		}                                                                           \
	} while (0)

void px_stats_prometheus(sw_buf *out, struct px_stats *const *all, size_t n, uint64_t now_us)
{
	static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
	static const char *const kinds[] = {"connect", "timeout", "5xx", "bad_response"};
	static const double qs[] = {0.5, 0.9, 0.99};
	char extra[64];

	family(out, "slipway_proxy_requests_total", "counter", "requests received");
	EACH(metric(out, "slipway_proxy_requests_total", s, NULL, (double)s->requests));
	family(out, "slipway_proxy_responses_total", "counter", "responses by status class");
	for (unsigned i = 0; i < 5; i++) {
		snprintf(extra, sizeof(extra), "class=\"%s\"", classes[i]);
		EACH(metric(out, "slipway_proxy_responses_total", s, extra, (double)s->responses[i]));
	}
	family(out, "slipway_proxy_errors_total", "counter", "errors by kind");
	for (unsigned i = 0; i < 4; i++) {
		snprintf(extra, sizeof(extra), "kind=\"%s\"", kinds[i]);
		EACH({
			uint64_t v = i == 0 ? s->err_connect : i == 1 ? s->err_timeout
						: i == 2 ? s->err_5xx : s->err_bad_response;
			metric(out, "slipway_proxy_errors_total", s, extra, (double)v);
		});
	}
	family(out, "slipway_proxy_retries_total", "counter", "requests retried on another endpoint");
	EACH(metric(out, "slipway_proxy_retries_total", s, NULL, (double)s->retries));
	family(out, "slipway_proxy_bytes_in_total", "counter", "bytes from clients");
	EACH(metric(out, "slipway_proxy_bytes_in_total", s, NULL, (double)s->bytes_in));
	family(out, "slipway_proxy_bytes_out_total", "counter", "bytes to clients");
	EACH(metric(out, "slipway_proxy_bytes_out_total", s, NULL, (double)s->bytes_out));
	family(out, "slipway_proxy_active_connections", "gauge", "connections (tcp) or requests (http) in flight");
	EACH(metric(out, "slipway_proxy_active_connections", s, NULL, (double)s->active));
	family(out, "slipway_proxy_mirrored_requests_total", "counter", "requests copied to the shadow group");
	EACH(metric(out, "slipway_proxy_mirrored_requests_total", s, NULL, (double)s->mirrored));
	family(out, "slipway_proxy_mirror_success_total", "counter", "shadow responses below 500 in time");
	EACH(metric(out, "slipway_proxy_mirror_success_total", s, NULL, (double)s->mirror_ok));
	family(out, "slipway_proxy_mirror_status_differs_total", "counter",
	       "shadow status class differs from the primary's");
	EACH(metric(out, "slipway_proxy_mirror_status_differs_total", s, NULL, (double)s->mirror_diff));
	family(out, "slipway_proxy_request_duration_seconds", "histogram", "request latency");
	EACH({
		uint64_t acc = 0;
		for (unsigned b = 0; b < PX_LAT_BINS; b++) {
			acc += s->lat_bins[b];
			if (b == PX_LAT_BINS - 1)
				snprintf(extra, sizeof(extra), "le=\"+Inf\"");
			else
				snprintf(extra, sizeof(extra), "le=\"%.6g\"", px_lat_bound_ms(b) / 1000.0);
			metric(out, "slipway_proxy_request_duration_seconds_bucket", s, extra, (double)acc);
		}
		metric(out, "slipway_proxy_request_duration_seconds_sum", s, NULL, (double)s->lat_sum_us / 1e6);
		metric(out, "slipway_proxy_request_duration_seconds_count", s, NULL, (double)s->lat_count);
	});
	family(out, "slipway_proxy_window_latency_seconds", "gauge",
	       "latency quantiles over the last 60 s");
	for (unsigned i = 0; i < 3; i++) {
		snprintf(extra, sizeof(extra), "quantile=\"%g\"", qs[i]);
		EACH({
			double v = px_stats_quantile(s, qs[i], now_us);
			if (v >= 0)
				metric(out, "slipway_proxy_window_latency_seconds", s, extra, v / 1000.0);
		});
	}
}
