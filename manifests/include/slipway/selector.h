/*
 * selector.h - Kubernetes label selectors.
 *
 * Two sources, one matcher: the string form of `-l` and `?labelSelector=`
 * ("app=web,tier!=db,env in (a,b),env notin (c),release,!canary"; `==` is
 * `=`), and the object form of `spec.selector` (matchLabels plus
 * matchExpressions with In, NotIn, Exists, DoesNotExist). Requirements are
 * ANDed. An empty selector matches everything, as in Kubernetes' list
 * calls (a Deployment's empty selector is refused by validation instead).
 */
#ifndef SLIPWAY_SELECTOR_H
#define SLIPWAY_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>

#include "slipway/error.h"

typedef struct sw_selector sw_selector;

/* "a=b,c in (x,y)"; NULL or "" gives the empty selector. Errors name the
 * offending requirement. */
int sw_selector_parse(sw_selector **out, const char *text, sw_error **err);
/* A LabelSelector object ({"matchLabels": {...}, "matchExpressions": [...]})
 * or a Service's plain map ({"app": "web"}) when `plain` is true. */
int sw_selector_from_json(sw_selector **out, const json_t *sel, bool plain, sw_error **err);
/* labels: an object of string values (metadata.labels), or NULL. */
bool sw_selector_matches(const sw_selector *s, const json_t *labels);
bool sw_selector_empty(const sw_selector *s);
/* The canonical string form ("a=b,c in (x,y)"); caller frees. */
char *sw_selector_string(const sw_selector *s);
void sw_selector_free(sw_selector *s);

#endif
