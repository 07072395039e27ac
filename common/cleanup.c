/*
 * cleanup.c - the functions behind the cleanup_* attributes (cleanup.h).
 */
#include <errno.h>
#include <unistd.h>

#include "slipway/cleanup.h"

void sw_cleanup_freep(void *p)
{
	void **pp = (void **)p;
	free(*pp);
}

void sw_cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

void sw_cleanup_filep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void sw_cleanup_dirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void sw_cleanup_errorp(sw_error **e)
{
	sw_error_free(*e);
}

void sw_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void sw_cleanup_strvp(char ***v)
{
	sw_strv_free(*v);
}
