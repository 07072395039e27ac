/*
 * log.h - diagnostics to stderr, for people (default) or as JSON lines.
 *
 * Human:  "slipway: warning: message"
 * JSON:   {"level":"warning","msg":"message","prog":"slipway","time":"..."}
 * Never log secrets: callers pass values through sw_log only when they are
 * safe to show.
 */
#ifndef SLIPWAY_LOG_H
#define SLIPWAY_LOG_H

#include "slipway/error.h"

enum sw_log_level { SW_LOG_DEBUG, SW_LOG_INFO, SW_LOG_WARN, SW_LOG_ERROR };
enum sw_log_format { SW_LOG_HUMAN, SW_LOG_JSON };

void sw_log_init(const char *prog, enum sw_log_format format, enum sw_log_level min);
/* "human" or "json"; returns 0 or SW_EINVALID. */
int sw_log_parse_format(const char *s, enum sw_log_format *out, sw_error **err);
/* "debug", "info", "warn"/"warning", "error". */
int sw_log_parse_level(const char *s, enum sw_log_level *out, sw_error **err);
enum sw_log_format sw_log_get_format(void);

void sw_log(enum sw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs "context: error chain" at error level. */
void sw_log_error(const sw_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sw_debug(...) sw_log(SW_LOG_DEBUG, __VA_ARGS__)
#define sw_info(...) sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_warn(...) sw_log(SW_LOG_WARN, __VA_ARGS__)

#endif
