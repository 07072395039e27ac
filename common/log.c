/*
 * log.c - diagnostics on stderr as human text or JSON lines (log.h).
 *
 * The state is process-wide on purpose: one program, one stderr, one format.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slipway/cleanup.h"
#include "slipway/log.h"

static const char *log_prog = "slipway";
static enum sw_log_format log_format = SW_LOG_HUMAN;
static enum sw_log_level log_min = SW_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warning", "error" };

void sw_log_init(const char *prog, enum sw_log_format format, enum sw_log_level min)
{
	log_prog = prog;
	log_format = format;
	log_min = min;
}

enum sw_log_format sw_log_get_format(void)
{
	return log_format;
}

int sw_log_parse_format(const char *s, enum sw_log_format *out, sw_error **err)
{
	if (!strcmp(s, "human") || !strcmp(s, "text"))
		*out = SW_LOG_HUMAN;
	else if (!strcmp(s, "json"))
		*out = SW_LOG_JSON;
	else
		return sw_error_set(err, SW_EINVALID, "unknown log format '%s' (human or json)", s);
	return 0;
}

int sw_log_parse_level(const char *s, enum sw_log_level *out, sw_error **err)
{
	if (!strcmp(s, "debug"))
		*out = SW_LOG_DEBUG;
	else if (!strcmp(s, "info"))
		*out = SW_LOG_INFO;
	else if (!strcmp(s, "warn") || !strcmp(s, "warning"))
		*out = SW_LOG_WARN;
	else if (!strcmp(s, "error"))
		*out = SW_LOG_ERROR;
	else
		return sw_error_set(err, SW_EINVALID, "unknown log level '%s'", s);
	return 0;
}

static void emit(enum sw_log_level level, const char *msg)
{
	if (level < log_min)
		return;
	if (log_format == SW_LOG_JSON) {
		char ts[40], day[24];
		struct timespec now;
		struct tm tm;
		json_t *j;
		char *line;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts, sizeof(ts), "%s.%03dZ", day, (int)(now.tv_nsec / 1000000));
		j = json_pack("{s:s, s:s, s:s, s:s}", "time", ts, "level", level_names[level],
		              "prog", log_prog, "msg", msg);
		line = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(j);
	} else if (level == SW_LOG_INFO) {
		fprintf(stderr, "%s: %s\n", log_prog, msg);
	} else {
		fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], msg);
	}
}

void sw_log(enum sw_log_level level, const char *fmt, ...)
{
	cleanup_free char *msg = NULL;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	emit(level, msg ? msg : fmt);
}

void sw_log_error(const sw_error *err, const char *fmt, ...)
{
	cleanup_free char *ctx = NULL;
	cleanup_free char *chain = sw_error_string(err);
	cleanup_free char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx ? ctx : fmt, chain) < 0)
		msg = NULL;
	emit(SW_LOG_ERROR, msg ? msg : chain);
}
