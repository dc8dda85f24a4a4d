/*
 * routes.c - every module's route table, registered in one place, plus
 * the server's own endpoints (health, readiness, version).
 */
#include "routes.h"

#include "admin/admin.h"
#include "auth/audit.h"
#include "auth/session.h"
#include "core/config.h"
#include "core/http.h"
#include "core/router.h"
#include "schools/schools.h"
#include "store/store.h"
#include "zone/zone.h"
#include "venues/venues.h"

static int api_healthz(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int api_readyz(struct req *r)
{
	if (store_ping(r->store) != 0)
		return reply_error(r, 503, "not_ready", "数据库不可用", NULL);
	return reply_json(r, 200, json_pack("{s:s,s:s}", "status", "ready", "database", "ok"));
}

static int api_version(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:s,s:s,s:i}", "name", "xiaoan", "version", XIAOAN_VERSION,
					    "schema", store_schema_version()));
}

/* What the console needs before sign-in: the map tile template (empty =
 * the offline vector base), its title and the version. */
static int api_client_config(struct req *r)
{
	return reply_json(r, 200, json_pack("{s:s,s:s,s:s}", "tile_url", r->cfg->tile_url, "title", r->cfg->title,
					    "version", XIAOAN_VERSION));
}

static const struct route core_routes[] = {
	{ .method = "GET", .pattern = "/api/client-config", .handler = api_client_config, .flags = ROUTE_PUBLIC },
	{ .method = "GET", .pattern = "/healthz", .handler = api_healthz, .flags = ROUTE_PUBLIC },
	{ .method = "GET", .pattern = "/readyz", .handler = api_readyz, .flags = ROUTE_PUBLIC },
	{ .method = "GET", .pattern = "/api/version", .handler = api_version, .flags = ROUTE_PUBLIC },
	{ 0 },
};

void routes_register(void)
{
	router_reset();
	router_add(core_routes);
	router_add(auth_routes);
	router_add(audit_routes);
	router_add(admin_routes);
	router_add(school_routes);
	router_add(zone_routes);
	router_add(venue_routes);
}
