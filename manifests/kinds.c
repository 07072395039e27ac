/*
 * kinds.c - the table of kinds slipwayd serves and the three ways to look
 * one up (URL, object, what a user types).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "slipway/kinds.h"

const sw_kind sw_kinds[] = {
	{ "", "v1", "v1", "Namespace", "NamespaceList", "namespaces", "namespace", "ns",
	  false, true, false },
	{ "", "v1", "v1", "Pod", "PodList", "pods", "pod", "po", true, true, false },
	{ "", "v1", "v1", "Service", "ServiceList", "services", "service", "svc", true, true, false },
	{ "", "v1", "v1", "Endpoints", "EndpointsList", "endpoints", "endpoints", "ep",
	  true, false, false },
	{ "", "v1", "v1", "ConfigMap", "ConfigMapList", "configmaps", "configmap", "cm",
	  true, false, false },
	{ "", "v1", "v1", "Secret", "SecretList", "secrets", "secret", "", true, false, false },
	{ "", "v1", "v1", "Event", "EventList", "events", "event", "ev", true, false, false },
	{ "apps", "v1", "apps/v1", "Deployment", "DeploymentList", "deployments", "deployment",
	  "deploy", true, true, true },
	{ "apps", "v1", "apps/v1", "ReplicaSet", "ReplicaSetList", "replicasets", "replicaset",
	  "rs", true, true, true },
};
const size_t sw_kinds_count = sizeof(sw_kinds) / sizeof(sw_kinds[0]);

const sw_kind *sw_kind_by_resource(const char *group, const char *resource)
{
	if (!group)
		group = "";
	for (size_t i = 0; i < sw_kinds_count; i++)
		if (strcmp(sw_kinds[i].group, group) == 0 && strcmp(sw_kinds[i].resource, resource) == 0)
			return &sw_kinds[i];
	return NULL;
}

const sw_kind *sw_kind_by_kind(const char *api_version, const char *kind)
{
	if (!api_version || !kind)
		return NULL;
	for (size_t i = 0; i < sw_kinds_count; i++)
		if (strcmp(sw_kinds[i].api_version, api_version) == 0 &&
		    strcmp(sw_kinds[i].kind, kind) == 0)
			return &sw_kinds[i];
	return NULL;
}

/* "deploy" in "deploy,dp"? */
static bool in_list(const char *list, const char *name, size_t len)
{
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == len && strncasecmp(p, name, len) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

const sw_kind *sw_kind_lookup(const char *name)
{
	if (!name || !*name)
		return NULL;
	/* "deployments.apps/v1" -> resource "deployments", group "apps", version "v1" */
	size_t len = strcspn(name, "./");
	const char *group = NULL, *version = NULL;
	size_t glen = 0, vlen = 0;
	if (name[len] == '.') {
		group = name + len + 1;
		glen = strcspn(group, "/");
		if (group[glen] == '/') {
			version = group + glen + 1;
			vlen = strlen(version);
		}
	} else if (name[len] == '/') {
		return NULL;
	}
	for (size_t i = 0; i < sw_kinds_count; i++) {
		const sw_kind *k = &sw_kinds[i];
		if (group && (strlen(k->group) != glen || strncasecmp(k->group, group, glen) != 0))
			continue;
		if (version && (strlen(k->version) != vlen || strncasecmp(k->version, version, vlen) != 0))
			continue;
		if ((strlen(k->resource) == len && strncasecmp(k->resource, name, len) == 0) ||
		    (strlen(k->singular) == len && strncasecmp(k->singular, name, len) == 0) ||
		    (strlen(k->kind) == len && strncasecmp(k->kind, name, len) == 0) ||
		    (!group && in_list(k->short_names, name, len)))
			return k;
	}
	return NULL;
}
