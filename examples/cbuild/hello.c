/* hello: a small C program compiled by gcc in the Debian builder stage of
 * examples/cbuild/Dockerfile; only the static binary ships in the final image. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *name = getenv("NAME");

	if (name == NULL || name[0] == '\0')
		name = "slipway";
	if (printf("hello from a static C binary built by %s\n", name) < 0)
		return EXIT_FAILURE;
	return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
