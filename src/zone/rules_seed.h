/*
 * rules_seed.h - the rule rows Xiaoan ships (from rules.md), for seeding
 * the database and for `xiaoan zone scan` and bench/zone without one.
 */
#ifndef XIAOAN_ZONE_RULES_SEED_H
#define XIAOAN_ZONE_RULES_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "zone/engine.h"

struct rule_seed {
	const char *code;
	const char *region_path;   /* "" for every seed: local rows are bound by an administrator */
	const char *jurisdiction;  /* 全国, or the territory a local example comes from */
	const char *category;      /* zx_category_codes */
	const char *stages;        /* space-separated zx_stage_names */
	double distance_m;         /* NAN = none */
	const char *method, *effect;
	const char *source_doc, *issuer, *article, *quote;
	const char *confidence;    /* V, S, M, 草案 */
	const char *effective_from;
	int enabled;
	const char *note;
};

extern const struct rule_seed rule_seeds[]; /* ends with a NULL code */

/* One seed as an engine rule (id 0, version 1). -1 when it names
 * something the engine does not know. */
int rule_seed_to_zx(const struct rule_seed *s, struct zx_rule *r);

/* The enabled national rows, ids 1..n in seed order. Returns how many. */
size_t zx_national_rules(struct zx_rule *out, size_t max);

/* "小学 初中" (spaces, commas or 、 between) -> a bit per stage.
 * -1 when a name is unknown or the list is empty. */
int zx_stages_parse(const char *list, uint32_t *bits);

#endif
