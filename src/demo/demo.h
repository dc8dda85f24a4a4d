/*
 * demo.h - the synthetic demo county for a newcomer's first `make run`.
 */
#ifndef XIAOAN_DEMO_H
#define XIAOAN_DEMO_H

#include <stddef.h>
#include <stdio.h>

struct store;

/* Creates regions, member units, about 120 schools and one user per role
 * (printing each user's one-time password once on out). Does nothing and
 * returns 0 when the demo county already exists. */
int demo_seed(struct store *st, FILE *out, char *err, size_t errlen);

struct db;
struct audit_actor;
/* Inside demo_seed's transaction, after the schools: about 1 500 venues
 * round them and boundaries and gates for 15 schools (demo_venues.c).
 * Returns 0, or -1 with a reason in err. */
int demo_venues(struct db *db, const struct audit_actor *actor, char *err, size_t errlen);

#endif
