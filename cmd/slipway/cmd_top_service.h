/*
 * cmd_top_service.h - the Service side of `slipway top` and `slipway logs`:
 * the proxy's figures for one Service (`top service NAME`, from the admin
 * port's /stats) and the Service's JSON-lines access log
 * (`logs service/NAME`). Both read the local state dir: the proxy runs on
 * this host, next to slipwayd.
 */
#ifndef SLIPWAY_CMD_TOP_SERVICE_H
#define SLIPWAY_CMD_TOP_SERVICE_H

#include <stdbool.h>

/* `slipway top service NAME`: output "" (table) or "json". Returns an
 * EXIT_* code; errors are printed. */
int cli_top_service(const char *state_dir_flag, const char *ns, const char *name, const char *output,
                    bool no_headers);

/* `slipway logs service/NAME`: prints STATE/proxy/logs/NS_NAME.log (the last
 * tail lines when tail >= 0), then follows it when follow. */
int cli_logs_service(const char *state_dir_flag, const char *ns, const char *name, long tail, bool follow);

/* True when operand names a Service ("service/NAME", "svc/NAME",
 * "services/NAME"); *name points into operand. */
bool cli_service_operand(const char *operand, const char **name);

#endif
