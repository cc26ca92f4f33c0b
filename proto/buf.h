/*! \file buf.h
 *  Bounded output buffer and bounded input cursor used by every encoder and decoder.
 *
 *  Writers never check space themselves: each put is a no-op once the buffer would overflow, and the sticky
 *  `overflow` flag makes proto_buf_status() return -PROTO_E_NOSPACE at the end. The buffer never allocates.
 *  Readers go through struct proto_cur: every get checks the remaining length first and sets the sticky `bad`
 *  flag instead of reading past the ceiling, so a decoder can read a run of fields and test once.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include "proto/errors.h"

struct proto_buf {
	uint8_t *data;	/*!< caller-owned storage */
	size_t len;	/*!< bytes written so far */
	size_t cap;	/*!< size of data */
	bool overflow;	/*!< a put did not fit; nothing after it was written */
};

static inline void proto_buf_init(struct proto_buf *b, uint8_t *mem, size_t cap)
{
	b->data = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

/*! Reserve n bytes at the end and return a pointer to them, or NULL (and set overflow) if they do not fit. */
static inline uint8_t *proto_buf_reserve(struct proto_buf *b, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return NULL;
	}
	b->len += n;
	return b->data + b->len - n;
}

static inline void proto_buf_put(struct proto_buf *b, const void *p, size_t n)
{
	uint8_t *d = proto_buf_reserve(b, n);
	if (d && n)
		memcpy(d, p, n);
}

static inline void proto_buf_put_u8(struct proto_buf *b, uint8_t v)
{
	uint8_t *d = proto_buf_reserve(b, 1);
	if (d)
		d[0] = v;
}

static inline void proto_buf_put_u16(struct proto_buf *b, uint16_t v)
{
	uint8_t *d = proto_buf_reserve(b, 2);
	if (d) {
		d[0] = v >> 8;
		d[1] = v;
	}
}

static inline void proto_buf_put_fill(struct proto_buf *b, uint8_t v, size_t n)
{
	uint8_t *d = proto_buf_reserve(b, n);
	if (d && n)
		memset(d, v, n);
}

/*! 0 if every put fitted, else -PROTO_E_NOSPACE. */
static inline int proto_buf_status(const struct proto_buf *b)
{
	return b->overflow ? -PROTO_E_NOSPACE : 0;
}

struct proto_cur {
	const uint8_t *p;	/*!< next byte to read */
	const uint8_t *end;	/*!< ceiling: one past the last readable byte */
	bool bad;		/*!< a get ran past the ceiling */
};

static inline void proto_cur_init(struct proto_cur *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->end = p + len;
	c->bad = false;
}

static inline size_t proto_cur_left(const struct proto_cur *c)
{
	return (size_t)(c->end - c->p);
}

/*! Return a pointer to the next n bytes and advance, or NULL (and set bad) when fewer remain. */
static inline const uint8_t *proto_cur_get(struct proto_cur *c, size_t n)
{
	const uint8_t *r;
	if (c->bad || n > proto_cur_left(c)) {
		c->bad = true;
		return NULL;
	}
	r = c->p;
	c->p += n;
	return r;
}

static inline uint8_t proto_cur_u8(struct proto_cur *c)
{
	const uint8_t *p = proto_cur_get(c, 1);
	return p ? p[0] : 0;
}

static inline uint16_t proto_cur_u16(struct proto_cur *c)
{
	const uint8_t *p = proto_cur_get(c, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline void proto_cur_copy(struct proto_cur *c, void *dst, size_t n)
{
	const uint8_t *p = proto_cur_get(c, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}
