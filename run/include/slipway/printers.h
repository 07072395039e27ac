/*
 * printers.h - how the CLI shows API objects: kubectl's tables (columns
 * per kind, the pod STATUS column computed as kubectl does, ages as
 * kubectl's HumanDuration), `-o name`, and YAML through libyaml's emitter.
 * Pure functions over jansson trees; `now` is passed in so tests are
 * exact.
 *
 * Not here: fetching objects (client.h) or JSON output (json_dumpf with
 * JSON_INDENT(4), as kubectl's -o json).
 */
#ifndef SLIPWAY_PRINTERS_H
#define SLIPWAY_PRINTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "slipway/error.h"
#include "slipway/kinds.h"

/* kubectl's duration.HumanDuration: "45s", "3m5s", "5h2m", "3d4h", "2y". */
void sw_human_duration(int64_t seconds, char buf[static 32]);
/* The age of an RFC 3339 timestamp at now; "<unknown>" when missing. */
void sw_age(const char *timestamp, time_t now, char buf[static 32]);

/* The pod's STATUS column as kubectl computes it (Running, Pending,
 * ContainerCreating, CrashLoopBackOff, Completed, Error, OOMKilled,
 * Terminating, Init:0/1, ...). Caller frees. */
char *sw_pod_status(const json_t *pod);
/* Ready containers (ready and running) and containers in the spec. */
void sw_pod_ready(const json_t *pod, int *ready, int *total);
/* Restarts over all containers; *last (may be NULL) the newest restart
 * (lastState.terminated.finishedAt), 0 when unknown. */
int64_t sw_pod_restarts(const json_t *pod, time_t *last);

/* "deployment.apps/web", "pod/web-1" (kubectl -o name). Caller frees. */
char *sw_object_name_ref(const sw_kind *k, const json_t *obj);

/* ---- tables ------------------------------------------------------------- */

typedef struct sw_print_opts {
	bool wide;
	bool namespace_column;  /* -A: NAMESPACE first */
	bool no_headers;
	time_t now;
} sw_print_opts;

/* Column names for kind k: a new array of strings. */
json_t *sw_table_columns(const sw_kind *k, const sw_print_opts *o);
/* One row of cells for obj: a new array of strings. */
json_t *sw_table_row(const sw_kind *k, const json_t *obj, const sw_print_opts *o);

/*
 * A table laid out as kubectl's tabwriter does: each column as wide as its
 * widest cell, three spaces between columns. Rows added after the first
 * print (a watch) keep the widths already chosen.
 */
typedef struct sw_table sw_table;
sw_table *sw_table_new(json_t *columns);  /* takes the reference */
void sw_table_add(sw_table *t, json_t *row); /* takes the reference */
/* Prints the header (once, unless no_headers) and the rows added since the
 * last print. */
void sw_table_print(sw_table *t, FILE *f, bool no_headers);
void sw_table_free(sw_table *t);

/* Prints every object of items (an array of one kind) as a table; "No
 * resources found in NS namespace." goes to stderr when empty, as kubectl. */
void sw_print_table(FILE *f, const sw_kind *k, const json_t *items, const sw_print_opts *o);

/* ---- aligned text (Go's text/tabwriter, as kubectl describe uses it) ---- */

/*
 * Text with cells separated by '\t': a column is as wide as its widest cell
 * plus padding, over each block of consecutive lines that have that column
 * (a line without it ends the block); a line's last cell is not aligned.
 * kubectl describe writes through tabwriter.NewWriter(out, 0, 8, 2, ' ', 0).
 */
typedef struct sw_tabwriter sw_tabwriter;
sw_tabwriter *sw_tabwriter_new(size_t padding);
void sw_tabwriter_printf(sw_tabwriter *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes everything so far, aligned, and starts over. */
void sw_tabwriter_flush(sw_tabwriter *w, FILE *f);
void sw_tabwriter_free(sw_tabwriter *w);

/* ---- YAML --------------------------------------------------------------- */

/* j as a YAML document (block style, keys sorted as kubectl prints them,
 * strings that would read as another type quoted). Caller frees. */
int sw_print_yaml(char **out, const json_t *j, sw_error **err);
int sw_print_yamlf(FILE *f, const json_t *j, sw_error **err);

#endif
