/*
 * statedir.c - resolving and creating slipway's state dir (statedir.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slipway/cleanup.h"
#include "slipway/mem.h"
#include "slipway/statedir.h"

int sw_statedir_resolve(char **out, const char *flag, sw_error **err)
{
	const char *home;

	if (flag && *flag) {
		*out = sw_xstrdup(flag);
		return 0;
	}
	if ((home = getenv("SLIPWAY_HOME")) && *home) {
		*out = sw_xstrdup(home);
		return 0;
	}
	if (geteuid() == 0) {
		*out = sw_xstrdup("/var/lib/slipway");
		return 0;
	}
	home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return sw_error_set(err, SW_EINVALID,
		                    "cannot find a state dir: HOME is unset; set SLIPWAY_HOME or --state-dir");
	*out = sw_xasprintf("%s/.local/share/slipway", home);
	return 0;
}

int sw_mkdir_p(const char *path, unsigned parent_mode, unsigned mode, sw_error **err)
{
	cleanup_free char *p = sw_xstrdup(path);
	size_t n = strlen(p);
	struct stat st;

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; ; s++) {
		bool last = *s == '\0';
		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, last ? (mode_t)mode : (mode_t)parent_mode) < 0 && errno != EEXIST)
			return sw_error_set_errno(err, errno, "create folder %s", p);
		if (stat(p, &st) < 0)
			return sw_error_set_errno(err, errno, "stat %s", p);
		if (!S_ISDIR(st.st_mode))
			return sw_error_set(err, SW_EINVALID, "%s exists and is not a folder", p);
		if (last)
			break;
		*s = '/';
	}
	return 0;
}

int sw_statedir_open(char **out, const char *flag, sw_error **err)
{
	cleanup_free char *dir = NULL;
	int r = sw_statedir_resolve(&dir, flag, err);

	if (r < 0)
		return r;
	if (sw_mkdir_p(dir, 0755, 0700, err) < 0)
		return sw_error_wrap(err, "state dir %s", dir);
	*out = steal_pointer(&dir);
	return 0;
}
