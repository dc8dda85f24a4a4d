/*
 * valid.h - declarative validation of JSON request bodies and of imported
 * rows. A module declares its fields once (name, Chinese label, type,
 * limits, format) and every check, message and error shape comes from here:
 *   400 {"error":{"code":"validation.<kind>","message":"<label>...","field":"<name>"}}
 * Unknown fields are refused; nothing is written before validation passes.
 */
#ifndef XIAOAN_VALID_H
#define XIAOAN_VALID_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct req;

enum vtype {
	V_STR = 1,  /* string; max_len in characters */
	V_INT,      /* integer within [min, max] */
	V_NUM,      /* number within [dmin, dmax] */
	V_BOOL,     /* true/false */
	V_ENUM,     /* one of enum_vals */
};

/* A format check for strings: returns 1 when s is acceptable. */
typedef int (*vcheck_fn)(const char *s);

struct vfield {
	const char *name;
	const char *label;          /* Chinese, for messages: "学校名称" */
	enum vtype type;
	int required;               /* must be present (and non-empty) on create */
	int nullable;               /* JSON null accepted (clears the field) */
	size_t max_len;             /* V_STR: characters; 0 = 200 */
	int64_t min, max;           /* V_INT */
	double dmin, dmax;          /* V_NUM */
	const char *const *enum_vals; /* V_ENUM: NULL-terminated */
	vcheck_fn check;            /* V_STR: optional format */
	const char *check_msg;      /* message when check fails: "须为 10 位数字" */
	int multiline;              /* V_STR: newlines allowed */
};

/* One validation failure. */
struct verr {
	const char *code;     /* "validation.required", ... */
	char message[256];
	const char *field;    /* a field name; for unknown fields it points into field_buf */
	char field_buf[64];   /* (so it never points into a freed JSON object) */
};

/* Checks a JSON object against fields. partial=1 (PATCH) does not require
 * the required fields. Returns 0, or -1 with e filled. */
int valid_json(json_t *obj, const struct vfield *fields, int partial, struct verr *e);
/* Same, answering 400 on failure (returns -1 after replying). */
int valid_body(struct req *r, json_t *obj, const struct vfield *fields, int partial);
/* Checks one string value as field f would (for imported cells, where all
 * values arrive as text); converts to the field's JSON type into *out
 * (new reference; json_null() for an empty optional cell). */
int valid_cell(const struct vfield *f, const char *text, json_t **out, struct verr *e);
const struct vfield *valid_find(const struct vfield *fields, const char *name);

/* Formats used by several modules. */
int vcheck_phone(const char *s);       /* mobile 1[3-9]xxxxxxxxx or landline 0xx(x)-xxxxxxx(x)[-ext] */
int vcheck_digits10(const char *s);    /* 学校标识码 */
int vcheck_region_code(const char *s); /* 6 or 9 digits */
int vcheck_code(const char *s);        /* 1-32 of [A-Za-z0-9_.-] */
int vcheck_username(const char *s);    /* 3-32 of [a-z0-9_.-], starting with a letter */
/* Characters (code points) in a UTF-8 string. */
size_t utf8_chars(const char *s);

#endif
