/*! \file vectors.h
 *  Access to the conformance vector files (tests/vectors/NAME.json, copies of ../shared/vectors).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*! Load $VECTORS_DIR/name (default "vectors/name"); exits with a message if it cannot be read. */
json_t *vec_load(const char *name);

/*! String member of an object, or NULL if absent or not a string. */
const char *vec_str(json_t *obj, const char *key);

/*! Decode the hex string member key into out. Returns the byte count, or -1 if absent/not hex/too long. */
int vec_hex(json_t *obj, const char *key, uint8_t *out, size_t cap);

/*! Integer member, or def if absent. */
long long vec_int(json_t *obj, const char *key, long long def);
