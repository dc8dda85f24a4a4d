/*
 * fuzz_json.c - libFuzzer harness for JSON body validation.
 *
 * Bytes go through json_loadb as a request body does (req_json), then
 * valid_json against the school field table, whole (POST) and partial
 * (PATCH), and every string value through valid_cell as an imported cell
 * would. Nothing may crash, and every failure must carry a code and a
 * message that is valid UTF-8: the message goes into a JSON reply, and a
 * message jansson cannot encode makes reply_error fail.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/valid.h"
#include "io/table.h"
#include "schools/schools.h"

static void check_err(const struct verr *e)
{
	if (!e->code || !e->code[0])
		abort();
	size_t n = strnlen(e->message, sizeof e->message);
	if (n == 0 || n == sizeof e->message || !utf8_valid(e->message, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	if (json_is_object(j)) {
		for (int partial = 0; partial < 2; partial++) {
			struct verr e;
			memset(&e, 0, sizeof e);
			if (valid_json(j, school_fields, partial, &e) != 0)
				check_err(&e);
		}
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v) {
			const struct vfield *f = valid_find(school_fields, key);
			if (!f || !json_is_string(v))
				continue;
			struct verr e;
			json_t *out = NULL;
			memset(&e, 0, sizeof e);
			if (valid_cell(f, json_string_value(v), &out, &e) != 0) {
				check_err(&e);
				if (out)
					abort();
			} else if (!out) {
				abort();
			}
			json_decref(out);
		}
	}
	json_decref(j);
	return 0;
}
