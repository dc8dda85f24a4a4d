/*
 * valid.c - field validation shared by every module (see valid.h).
 */
#include "core/valid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/http.h"

size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int vcheck_digits10(const char *s)
{
	return all_digits(s, 10);
}

int vcheck_region_code(const char *s)
{
	return all_digits(s, 6) || all_digits(s, 9);
}

int vcheck_code(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 32)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int vcheck_username(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 32 || !islower((unsigned char)s[0]))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int vcheck_phone(const char *s)
{
	/* mobile: 11 digits starting 13-19 */
	if (all_digits(s, 11) && s[0] == '1' && s[1] >= '3' && s[1] <= '9')
		return 1;
	/* landline: 0 + area code (2-3 digits) [-] 7-8 digits [-ext 1-6] */
	if (s[0] != '0')
		return 0;
	const char *p = s + 1;
	size_t area = 0;
	while (isdigit((unsigned char)p[area]))
		area++;
	size_t local;
	if (p[area] == '-') {
		if (area < 2 || area > 3)
			return 0;
		p += area + 1;
		local = 0;
		while (isdigit((unsigned char)p[local]))
			local++;
		if (local < 7 || local > 8)
			return 0;
		p += local;
	} else {
		/* without a dash: 0 + 2-3 area + 7-8 local = 10 to 12 digits in all */
		return area + 1 >= 10 && area + 1 <= 12 && p[area] == '\0';
	}
	if (*p == '\0')
		return 1;
	if (*p != '-')
		return 0;
	p++;
	size_t ext = 0;
	while (isdigit((unsigned char)p[ext]))
		ext++;
	return ext >= 1 && ext <= 6 && p[ext] == '\0';
}

const struct vfield *valid_find(const struct vfield *fields, const char *name)
{
	for (const struct vfield *f = fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int fail(struct verr *e, const char *code, const struct vfield *f, const char *fmt, const char *extra)
{
	e->code = code;
	e->field = f ? f->name : NULL;
	snprintf(e->message, sizeof e->message, fmt, f ? f->label : "", extra ? extra : "");
	return -1;
}

/* Only spaces (ASCII or the full-width U+3000 a Chinese IME types)? */
static int blank(const char *s)
{
	while (*s) {
		if (*s == ' ' || *s == '\t')
			s++;
		else if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
			s += 3;
		else
			return 0;
	}
	return 1;
}

static int check_string(const struct vfield *f, const char *s, struct verr *e)
{
	size_t max = f->max_len ? f->max_len : 200;
	char lim[32];
	if (utf8_chars(s) > max) {
		snprintf(lim, sizeof lim, "%zu", max);
		return fail(e, "validation.too_long", f, "%s不能超过 %s 个字符", lim);
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 && !(f->multiline && (c == '\n' || c == '\r' || c == '\t')))
			return fail(e, "validation.control_char", f, "%s含有不允许的控制字符%s", NULL);
		if (c == 0x7f)
			return fail(e, "validation.control_char", f, "%s含有不允许的控制字符%s", NULL);
	}
	if (f->check && *s && !f->check(s))
		return fail(e, "validation.format", f, "%s%s", f->check_msg ? f->check_msg : "格式不正确");
	return 0;
}

static int check_enum(const struct vfield *f, const char *s, struct verr *e)
{
	for (const char *const *v = f->enum_vals; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return 0;
	char list[200] = "";
	for (const char *const *v = f->enum_vals; v && *v; v++) {
		if (strlen(list) + strlen(*v) + 4 >= sizeof list)
			break;
		if (list[0])
			strcat(list, "、");
		strcat(list, *v);
	}
	return fail(e, "validation.enum", f, "%s须为以下之一：%s", list);
}

static int check_value(const struct vfield *f, json_t *v, struct verr *e)
{
	char a[64];
	if (json_is_null(v)) {
		if (f->nullable && !f->required)
			return 0;
		return fail(e, "validation.required", f, "%s不能为空%s", NULL);
	}
	switch (f->type) {
	case V_STR:
		if (!json_is_string(v))
			return fail(e, "validation.type", f, "%s须为文本%s", NULL);
		if (f->required && blank(json_string_value(v)))
			return fail(e, "validation.required", f, "%s不能为空%s", NULL);
		return check_string(f, json_string_value(v), e);
	case V_ENUM:
		if (!json_is_string(v))
			return fail(e, "validation.type", f, "%s须为文本%s", NULL);
		return check_enum(f, json_string_value(v), e);
	case V_INT:
		if (!json_is_integer(v))
			return fail(e, "validation.type", f, "%s须为整数%s", NULL);
		if (json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
			snprintf(a, sizeof a, "%lld 到 %lld", (long long)f->min, (long long)f->max);
			return fail(e, "validation.range", f, "%s须在 %s 之间", a);
		}
		return 0;
	case V_NUM: {
		if (!json_is_number(v))
			return fail(e, "validation.type", f, "%s须为数字%s", NULL);
		double d = json_number_value(v);
		if (!isfinite(d) || d < f->dmin || d > f->dmax) {
			snprintf(a, sizeof a, "%g 到 %g", f->dmin, f->dmax);
			return fail(e, "validation.range", f, "%s须在 %s 之间", a);
		}
		return 0;
	}
	case V_BOOL:
		if (!json_is_boolean(v))
			return fail(e, "validation.type", f, "%s须为 true 或 false%s", NULL);
		return 0;
	}
	return fail(e, "validation.type", f, "%s类型不正确%s", NULL);
}

int valid_json(json_t *obj, const struct vfield *fields, int partial, struct verr *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		const struct vfield *f = valid_find(fields, key);
		if (!f) {
			e->code = "validation.unknown_field";
			size_t fl = strlen(key);
			if (fl >= sizeof e->field_buf) {
				fl = sizeof e->field_buf - 1;
				while (fl > 0 && ((unsigned char)key[fl] & 0xC0) == 0x80)
					fl--;
			}
			snprintf(e->field_buf, sizeof e->field_buf, "%.*s", (int)fl, key);
			e->field = e->field_buf;
			/* cut long names on a character boundary: the message must
			 * stay valid UTF-8 or it cannot be put into JSON */
			size_t n = strlen(key);
			if (n > 100) {
				n = 100;
				while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
					n--;
			}
			snprintf(e->message, sizeof e->message, "不认识的字段：%.*s", (int)n, key);
			return -1;
		}
		if (check_value(f, v, e))
			return -1;
	}
	if (!partial)
		for (const struct vfield *f = fields; f->name; f++)
			if (f->required && !json_object_get(obj, f->name))
				return fail(e, "validation.required", f, "%s不能为空%s", NULL);
	return 0;
}

int valid_body(struct req *r, json_t *obj, const struct vfield *fields, int partial)
{
	struct verr e;
	if (valid_json(obj, fields, partial, &e) == 0)
		return 0;
	/* the field name may point into obj; copy before replying */
	const char *field = e.field ? arena_strdup(r->arena, e.field) : NULL;
	reply_error(r, 400, e.code, arena_strdup(r->arena, e.message), field);
	return -1;
}

int valid_cell(const struct vfield *f, const char *text, json_t **out, struct verr *e)
{
	*out = NULL;
	/* trim surrounding spaces, which Excel users add without meaning to */
	while (*text == ' ')
		text++;
	size_t n = strlen(text);
	while (n && text[n - 1] == ' ')
		n--;
	char *s = strndup(text, n);
	if (!s)
		abort();
	int rc = 0;
	json_t *v = NULL;
	if (n == 0) {
		if (f->required) {
			rc = fail(e, "validation.required", f, "%s不能为空%s", NULL);
			goto out;
		}
		v = json_null();
		goto out;
	}
	switch (f->type) {
	case V_STR:
	case V_ENUM:
		v = json_string(s);
		if (!v) {
			rc = fail(e, "validation.encoding", f, "%s不是合法的 UTF-8 文本%s", NULL);
			goto out;
		}
		break;
	case V_INT: {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		/* Excel may hand us "120.0" for a whole number */
		if (*end == '.' && strspn(end + 1, "0") == strlen(end + 1))
			end += strlen(end);
		if (errno || *end) {
			rc = fail(e, "validation.type", f, "%s须为整数%s", NULL);
			goto out;
		}
		v = json_integer(x);
		break;
	}
	case V_NUM: {
		char *end;
		errno = 0;
		double d = strtod(s, &end);
		if (errno || *end || !isfinite(d)) {
			rc = fail(e, "validation.type", f, "%s须为数字%s", NULL);
			goto out;
		}
		v = json_real(d);
		break;
	}
	case V_BOOL:
		if (!strcmp(s, "是") || !strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "y"))
			v = json_true();
		else if (!strcmp(s, "否") || !strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "n"))
			v = json_false();
		else {
			rc = fail(e, "validation.type", f, "%s须为“是”或“否”%s", NULL);
			goto out;
		}
		break;
	}
	if (check_value(f, v, e)) {
		json_decref(v);
		v = NULL;
		rc = -1;
	}
out:
	free(s);
	*out = v;
	return rc;
}
