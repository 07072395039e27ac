/*
 * dockerfile_values.c - the value formats Dockerfile instructions accept,
 * checked as Docker's libraries check them: Go durations and booleans,
 * signals (moby/sys/signal), port specs (go-connections/nat), digests
 * (go-digest), image references (distribution/reference, loosely), sizes
 * (go-units) and path joining. No Dockerfile knowledge beyond that.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile_instr.h"
#include "slipway/buf.h"
#include "slipway/cleanup.h"
#include "slipway/mem.h"

bool df_go_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, t[i])) {
			*out = true;
			return true;
		}
		if (!strcmp(s, f[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool df_parse_uint(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}

/* go-units RAMInBytes: "64m", "1.5GiB", "1024". */
bool df_ram_in_bytes(const char *s, int64_t *out)
{
	const char *p = s;
	double num;
	char *end;
	double mult = 1;

	if (!(*p >= '0' && *p <= '9'))
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	errno = 0;
	num = strtod(s, &end);
	if (end != p || errno)
		return false;
	if (*p == ' ')
		p++;
	switch (tolower((unsigned char)*p)) {
	case 'k': mult = 1024.0; p++; break;
	case 'm': mult = 1024.0 * 1024; p++; break;
	case 'g': mult = 1024.0 * 1024 * 1024; p++; break;
	case 't': mult = 1024.0 * 1024 * 1024 * 1024; p++; break;
	case 'p': mult = 1024.0 * 1024 * 1024 * 1024 * 1024; p++; break;
	default: break;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return false;
	num *= mult;
	if (num > 9.2e18)
		return false;
	*out = (int64_t)num;
	return true;
}

/* ----------------------------------------------------- dispatch checks */

/* Linux signal names as moby/sys/signal knows them. */
static const char *const signal_names[] = {
	"ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
	"KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
	"TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
	"RTMIN", "RTMAX",
};

int df_check_signal(const char *sig, sw_error **err)
{
	char *end;
	errno = 0;
	long long n = strtoll(sig, &end, 10);

	if (*sig && !*end && !errno && !isspace((unsigned char)*sig)) {
		if (n == 0 || n > INT32_MAX || n < INT32_MIN)
			return sw_error_set(err, SW_EINVALID, "invalid signal: %s", sig);
		return 0;
	}
	cleanup_free char *u = sw_xstrdup(sig);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	const char *name = strncmp(u, "SIG", 3) ? u : u + 3;
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (!strcmp(name, signal_names[i]))
			return 0;
	if (!strncmp(name, "RTMIN+", 6) || !strncmp(name, "RTMAX-", 6)) {
		n = strtoll(name + 6, &end, 10);
		if (!*end && n >= 1 && n <= (name[5] == '+' ? 15 : 14) && name[6] != '+' && name[6] != '0')
			return 0;
	}
	return sw_error_set(err, SW_EINVALID, "invalid signal: %s", sig);
}

static bool parse_port_range(const char *s, uint64_t *a, uint64_t *b)
{
	const char *dash = strchr(s, '-');
	if (!*s)
		return false;
	if (!dash) {
		if (!df_parse_uint(s, 10, 65535, a))
			return false;
		*b = *a;
		return true;
	}
	cleanup_free char *x = sw_xstrndup(s, (size_t)(dash - s));
	if (!df_parse_uint(x, 10, 65535, a) || !df_parse_uint(dash + 1, 10, 65535, b))
		return false;
	return *b >= *a;
}

struct port {
	uint64_t port;
	char proto[8];
};

static int port_cmp(const void *x, const void *y)
{
	const struct port *a = x, *b = y;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return strcmp(a->proto, b->proto);
}

/* nat.ParsePortSpecs for EXPOSE; out gets "PORT/PROTO", sorted, unique. */
int df_expose_ports(char ***out, size_t *nout, char **specs, size_t n, sw_error **err)
{
	struct port *ports = NULL;
	size_t np = 0;

	for (size_t i = 0; i < n; i++) {
		cleanup_free char *raw = sw_xstrdup(specs[i]);
		char *cp = strrchr(raw, ':');
		char *ip = NULL, *host = NULL, *container = raw;
		if (cp) {
			*cp = '\0';
			container = cp + 1;
			char *hp = strrchr(raw, ':');
			if (hp) {
				*hp = '\0';
				host = hp + 1;
				ip = raw;
			} else {
				host = raw;
			}
		}
		char *slash = strchr(container, '/');
		const char *proto = "tcp";
		if (slash) {
			*slash = '\0';
			if (slash[1] && !strchr(slash + 1, '/'))
				proto = slash + 1;
			else if (slash[1])
				proto = strchr(slash + 1, '/') ? slash + 1 : proto;
			if (slash[1]) {
				char *s2 = strchr(slash + 1, '/');
				if (s2)
					*s2 = '\0';
			}
		}
		if (ip && *ip) {
			cleanup_free char *a = sw_xstrdup(ip);
			size_t al = strlen(a);
			unsigned char buf[16];
			if (a[0] == '[' && al > 1 && a[al - 1] == ']') {
				a[al - 1] = '\0';
				memmove(a, a + 1, al - 1);
			}
			if (inet_pton(AF_INET, a, buf) != 1 && inet_pton(AF_INET6, a, buf) != 1) {
				free(ports);
				return sw_error_set(err, SW_EINVALID, "invalid IP address: %s", ip);
			}
		}
		if (!*container) {
			free(ports);
			return sw_error_set(err, SW_EINVALID, "no port specified: %s<empty>", specs[i]);
		}
		uint64_t a, b, ha, hb;
		if (!parse_port_range(container, &a, &b)) {
			free(ports);
			return sw_error_set(err, SW_EINVALID, "invalid containerPort: %s", container);
		}
		if (host && *host && !parse_port_range(host, &ha, &hb)) {
			free(ports);
			return sw_error_set(err, SW_EINVALID, "invalid hostPort: %s", host);
		}
		char lp[8] = { 0 };
		size_t pl = strlen(proto);
		for (size_t k = 0; k < pl && k < sizeof(lp) - 1; k++)
			lp[k] = (char)tolower((unsigned char)proto[k]);
		if (pl >= sizeof(lp) || (strcmp(lp, "tcp") && strcmp(lp, "udp") && strcmp(lp, "sctp"))) {
			free(ports);
			return sw_error_set(err, SW_EINVALID, "invalid proto: %s", proto);
		}
		ports = sw_xreallocarray(ports, np + (size_t)(b - a) + 1, sizeof(*ports));
		for (uint64_t p = a; p <= b; p++) {
			ports[np].port = p;
			memcpy(ports[np].proto, lp, sizeof(lp));
			np++;
		}
	}
	if (np)
		qsort(ports, np, sizeof(*ports), port_cmp);
	char **v = sw_xcalloc(np + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < np; i++) {
		if (i && !port_cmp(&ports[i], &ports[i - 1]))
			continue;
		v[k++] = sw_xasprintf("%" PRIu64 "/%s", ports[i].port, ports[i].proto);
	}
	free(ports);
	*out = v;
	*nout = k;
	return 0;
}

bool df_is_http_source(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* gitutil.ParseGitRef, loosely: git@, git://, ssh:// or http(s) .git URLs. */
bool df_is_git_source(const char *s)
{
	if (!strncmp(s, "git@", 4) || !strncmp(s, "git://", 6) || !strncmp(s, "ssh://", 6))
		return true;
	if (df_is_http_source(s)) {
		const char *hash = strchr(s, '#');
		size_t len = hash ? (size_t)(hash - s) : strlen(s);
		return len > 4 && !strncmp(s + len - 4, ".git", 4);
	}
	return false;
}

/* go-digest Parse: algorithm:hex with the algorithm's length. */
int df_check_digest(const char *d, sw_error **err)
{
	const char *colon = strchr(d, ':');
	size_t want;

	if (!colon || colon == d || !colon[1])
		return sw_error_set(err, SW_EINVALID, "invalid checksum digest format");
	size_t al = (size_t)(colon - d);
	if (al == 6 && !strncmp(d, "sha256", 6))
		want = 64;
	else if (al == 6 && !strncmp(d, "sha384", 6))
		want = 96;
	else if (al == 6 && !strncmp(d, "sha512", 6))
		want = 128;
	else
		return sw_error_set(err, SW_EINVALID, "unsupported digest algorithm");
	const char *hex = colon + 1;
	if (strlen(hex) != want)
		return sw_error_set(err, SW_EINVALID, "invalid checksum digest length");
	for (const char *p = hex; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return sw_error_set(err, SW_EINVALID, "invalid checksum digest format");
	return 0;
}

/* ----------------------------------------------------------- paths */

char *df_path_join_abs(const char *dir, const char *p)
{
	sw_buf in = SW_BUF_INIT(0);
	char **parts = NULL;
	size_t n = 0;

	(void)sw_buf_addstr(&in, "/", NULL);
	if (p[0] != '/') {
		(void)sw_buf_addstr(&in, dir, NULL);
		(void)sw_buf_addc(&in, '/', NULL);
	}
	(void)sw_buf_addstr(&in, p, NULL);
	parts = sw_xcalloc(in.len + 1, sizeof(char *));
	for (char *save = NULL, *t = strtok_r(in.data, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (n)
				n--;
			continue;
		}
		parts[n++] = t;
	}
	sw_buf out = SW_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		(void)sw_buf_addc(&out, '/', NULL);
		(void)sw_buf_addstr(&out, parts[i], NULL);
	}
	if (!out.len)
		(void)sw_buf_addc(&out, '/', NULL);
	free(parts);
	sw_buf_release(&in);
	return sw_buf_detach(&out);
}

/* -------------------------------------------------------- durations */

int df_parse_duration(int64_t *out, const char *s0, sw_error **err)
{
	static const struct { const char *u; double ns; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
		{ "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	const char *s = s0;
	bool neg = false;
	long double total = 0;
	cleanup_free char *q = sw_go_quote(s0);

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return sw_error_set(err, SW_EINVALID, "time: invalid duration %s", q);
	while (*s) {
		const char *start = s;
		long double v = 0, frac = 0, scale = 1;
		bool pre = false, post = false;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s - '0');
			s++;
			pre = true;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				frac = frac * 10 + (*s - '0');
				scale *= 10;
				s++;
				post = true;
			}
		}
		if (!pre && !post)
			return sw_error_set(err, SW_EINVALID, "time: invalid duration %s", q);
		const char *u = s;
		while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
			s++;
		if (u == s)
			return sw_error_set(err, SW_EINVALID, "time: missing unit in duration %s", q);
		size_t ul = (size_t)(s - u), k;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].u) == ul && !strncmp(units[k].u, u, ul))
				break;
		if (k == sizeof(units) / sizeof(units[0])) {
			cleanup_free char *uq = sw_xstrndup(u, ul);
			cleanup_free char *uqq = sw_go_quote(uq);
			return sw_error_set(err, SW_EINVALID, "time: unknown unit %s in duration %s", uqq, q);
		}
		(void)start;
		total += (v + frac / scale) * units[k].ns;
		if (total > 9223372036854775807.0L)
			return sw_error_set(err, SW_EINVALID, "time: invalid duration %s", q);
	}
	*out = (int64_t)(neg ? -total : total);
	return 0;
}

char *df_format_duration(int64_t ns)
{
	sw_buf b = SW_BUF_INIT(0);
	uint64_t u = ns < 0 ? (uint64_t)(-(ns + 1)) + 1 : (uint64_t)ns;

	if (ns < 0)
		(void)sw_buf_addc(&b, '-', NULL);
	if (u == 0)
		return (sw_buf_release(&b), sw_xstrdup("0s"));
	if (u < 1000000000ULL) {
		const char *unit = "ns";
		uint64_t div = 1;
		if (u >= 1000000) {
			unit = "ms";
			div = 1000000;
		} else if (u >= 1000) {
			unit = "\xc2\xb5s";
			div = 1000;
		}
		(void)sw_buf_printf(&b, NULL, "%" PRIu64, u / div);
		if (u % div) {
			char frac[16];
			snprintf(frac, sizeof(frac), "%0*" PRIu64, div == 1000000 ? 6 : 3, u % div);
			for (size_t l = strlen(frac); l && frac[l - 1] == '0'; l--)
				frac[l - 1] = '\0';
			(void)sw_buf_printf(&b, NULL, ".%s", frac);
		}
		(void)sw_buf_addstr(&b, unit, NULL);
		return sw_buf_detach(&b);
	}
	uint64_t h = u / UINT64_C(3600000000000), rem = u % UINT64_C(3600000000000);
	uint64_t m = rem / UINT64_C(60000000000), sns = rem % UINT64_C(60000000000);
	if (h)
		(void)sw_buf_printf(&b, NULL, "%" PRIu64 "h", h);
	if (h || m)
		(void)sw_buf_printf(&b, NULL, "%" PRIu64 "m", m);
	(void)sw_buf_printf(&b, NULL, "%" PRIu64, (uint64_t)(sns / 1000000000ULL));
	if (sns % 1000000000ULL) {
		char frac[16];
		snprintf(frac, sizeof(frac), "%09" PRIu64, (uint64_t)(sns % 1000000000ULL));
		for (size_t l = strlen(frac); l && frac[l - 1] == '0'; l--)
			frac[l - 1] = '\0';
		(void)sw_buf_printf(&b, NULL, ".%s", frac);
	}
	(void)sw_buf_addc(&b, 's', NULL);
	return sw_buf_detach(&b);
}

/* ----------------------------------------------------- image refs */

static bool ref_component(const char *s, size_t len)
{
	/* [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
	size_t i = 0;
	if (!len)
		return false;
	while (i < len) {
		size_t st = i;
		while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			i++;
		if (i == st)
			return false;
		if (i == len)
			return true;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return false;
		if (i == len)
			return false;
	}
	return true;
}

int df_check_image_ref(const char *ref, sw_error **err)
{
	cleanup_free char *r = sw_xstrdup(ref);
	char *at = strchr(r, '@');
	char *name = r, *tag = NULL;
	bool upper = false;

	if (!*r)
		return sw_error_set(err, SW_EINVALID, "invalid reference format");
	if (at) {
		*at = '\0';
		if (df_check_digest(at + 1, err) < 0) {
			sw_error_clear(err);
			return sw_error_set(err, SW_EINVALID, "invalid reference format");
		}
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(name, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		tag = colon + 1;
		size_t tl = strlen(tag);
		if (!tl || tl > 128 || tag[0] == '.' || tag[0] == '-')
			return sw_error_set(err, SW_EINVALID, "invalid reference format");
		for (char *p = tag; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
				return sw_error_set(err, SW_EINVALID, "invalid reference format");
	}
	/* the first component is a registry when it has '.', ':' or is localhost */
	char *first_end = strchr(name, '/');
	char *path_start = name;
	if (first_end) {
		size_t fl = (size_t)(first_end - name);
		bool domain = memchr(name, '.', fl) || memchr(name, ':', fl) ||
		              (fl == 9 && !strncmp(name, "localhost", 9));
		for (size_t i = 0; i < fl && !domain; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				domain = true;
		if (domain) {
			for (size_t i = 0; i < fl; i++)
				if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '-' &&
				    name[i] != ':' && name[i] != '[' && name[i] != ']')
					return sw_error_set(err, SW_EINVALID, "invalid reference format");
			path_start = first_end + 1;
		}
	}
	for (char *p = path_start; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			upper = true;
	if (upper) {
		cleanup_free char *lower = sw_xstrdup(path_start);
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		bool ok = true;
		for (char *c = lower, *e; ok && c; c = e ? e + 1 : NULL) {
			e = strchr(c, '/');
			ok = ref_component(c, e ? (size_t)(e - c) : strlen(c));
		}
		if (ok)
			return sw_error_set(err, SW_EINVALID, "invalid reference format: repository name (%s%s) must be lowercase",
			                    path_start == name && !strchr(path_start, '/') ? "library/" : "", path_start);
		return sw_error_set(err, SW_EINVALID, "invalid reference format");
	}
	for (char *c = path_start, *e; c; c = e ? e + 1 : NULL) {
		e = strchr(c, '/');
		if (!ref_component(c, e ? (size_t)(e - c) : strlen(c)))
			return sw_error_set(err, SW_EINVALID, "invalid reference format");
	}
	return 0;
}
