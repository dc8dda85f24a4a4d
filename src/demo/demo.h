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

#endif
