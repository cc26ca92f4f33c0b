/* JSON vector file helpers for the conformance tests. */
#include <stdio.h>
#include <stdlib.h>
#include "tests/vectors.h"
#include "proto/hex.h"

json_t *vec_load(const char *name)
{
	const char *dir = getenv("VECTORS_DIR");
	char path[1024];
	json_error_t err;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "vectors", name);
	root = json_load_file(path, 0, &err);
	if (!root) {
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path, err.text, err.line);
		exit(99);
	}
	return root;
}

const char *vec_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int vec_hex(json_t *obj, const char *key, uint8_t *out, size_t cap)
{
	const char *s = vec_str(obj, key);
	int n;

	if (!s)
		return -1;
	n = proto_hex_decode(s, out, cap);
	return n < 0 ? -1 : n;
}

long long vec_int(json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}
