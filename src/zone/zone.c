/*
 * zone.c - the zone engine inside the server (see zone.h).
 * Placeholder hooks while the engine lands: they change nothing.
 */
#include "zone/zone.h"



int zone_venue_changed(struct db *db, const struct audit_actor *a, int64_t venue_id, const char *why)
{
	(void)db, (void)a, (void)venue_id, (void)why;
	return 0;
}

void zone_venue_rolled_back(struct db *db, int64_t venue_id)
{
	(void)db, (void)venue_id;
}

int zone_school_changed(struct db *db, const struct audit_actor *a, int64_t school_id, const char *why)
{
	(void)db, (void)a, (void)school_id, (void)why;
	return 0;
}

void zone_school_rolled_back(struct db *db, int64_t school_id)
{
	(void)db, (void)school_id;
}

int zone_start(struct store *s)
{
	(void)s;
	return 0;
}

void zone_stop(void)
{
}

const struct route zone_routes[] = {
	{ 0 },
};
