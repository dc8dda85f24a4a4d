/*
 * fuzz_router.c - the route matcher on its own, at full speed: any method
 * and path against every registered table. Checks what the router
 * promises: a match's parameters are non-empty, slash-free pieces of the
 * path, and the route's method is the one asked (GET for HEAD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/router.h"
#include "routes.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	routes_register();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS", "" };
	if (size < 1 || size > 4096)
		return 0;
	const char *method = methods[data[0] % 8];
	char *path = malloc(size);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	size_t plen = strlen(path);
	char *copy = malloc(plen + 1);
	struct router_result rr;
	int rc = router_match(method, path, copy, &rr);
	if (rc == ROUTER_FOUND) {
		const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
		if (!rr.route || strcmp(rr.route->method, want) != 0)
			abort();
		for (int i = 0; i < rr.nparams; i++)
			if (!rr.pval[i][0] || strchr(rr.pval[i], '/') || !strstr(path, rr.pval[i]))
				abort();
	} else if (rc == ROUTER_NO_METHOD) {
		if (!rr.allow[0])
			abort();
	} else if (rc != ROUTER_NO_PATH) {
		abort();
	}
	free(copy);
	free(path);
	return 0;
}
