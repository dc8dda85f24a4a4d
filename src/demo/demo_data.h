/*
 * demo_data.h - the synthetic demo county's fixed facts: townships, member
 * units and the material school names are generated from. Nothing here is
 * a real place: 示范县 (340899) does not exist in GB/T 2260.
 */
#ifndef XIAOAN_DEMO_DATA_H
#define XIAOAN_DEMO_DATA_H

struct demo_township {
	const char *code;     /* 9 digits */
	const char *name;
	const char *short_name; /* for school names: "清溪" */
	double lat, lon;      /* WGS84 centre */
	int villages;         /* village primary schools */
	int is_seat;          /* the county seat (城区) */
};

struct demo_unit {
	const char *code;
	const char *name;
	const char *type;
	const char *parent;   /* code of the parent unit, or NULL */
	const char *duties;
};

extern const struct demo_township demo_townships[];
extern const int demo_ntownships;
extern const struct demo_unit demo_units[];
extern const int demo_nunits;
extern const char *const demo_surnames[];
extern const int demo_nsurnames;
extern const char *const demo_given[];
extern const int demo_ngiven;
extern const char *const demo_villages[];
extern const int demo_nvillages;

#endif
