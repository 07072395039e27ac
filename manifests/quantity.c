/*
 * quantity.c - Kubernetes resource quantities ("500m", "128Mi", "1.5e3")
 * parsed exactly and formatted canonically, as resource.Quantity does.
 *
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." [digits] | "." digits
 *   suffix   ::= "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E) [+-] digits
 *
 * The value is an exact count of 10^-9 units in a 128-bit integer (precision
 * finer than that is rounded up, away from zero, as Kubernetes rounds it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "slipway/buf.h"
#include "slipway/mem.h"

typedef __int128 i128;

#define NANO ((i128)1000000000)
/* 10^38: magnitudes at or beyond are refused (int128 holds 1.7e38) */
static i128 pow10_128(unsigned n)
{
	i128 v = 1;
	while (n--)
		v *= 10;
	return v;
}

static int qerr(sw_error **err, const char *s, const char *why)
{
	return sw_error_set(err, SW_EINVALID, "quantity \"%s\": %s", s, why);
}

int sw_quantity_parse(sw_quantity *out, const char *s, sw_error **err)
{
	const char *p = s;
	bool neg = false;
	i128 m = 0;
	unsigned sig = 0;   /* significant digits kept in m */
	int frac = 0;       /* digits after the point in m */
	int exp10 = 0;
	unsigned exp2 = 0;
	sw_quantity_format fmt = SW_QTY_DECIMAL_SI;
	const i128 limit = pow10_128(38);

	if (!*s)
		return qerr(err, s, "empty");
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	const char *digits = p;
	bool seen_digit = false;
	for (; *p >= '0' && *p <= '9'; p++) {
		seen_digit = true;
		if (m == 0 && *p == '0')
			continue;
		if (++sig > 36)
			return qerr(err, s, "too many digits");
		m = m * 10 + (*p - '0');
	}
	if (*p == '.') {
		p++;
		const char *fstart = p;
		while (*p >= '0' && *p <= '9')
			p++;
		const char *fend = p;
		while (fend > fstart && fend[-1] == '0')
			fend--;
		for (const char *q = fstart; q < fend; q++) {
			seen_digit = true;
			if (m == 0 && *q == '0') {
				frac++;
				continue;
			}
			if (++sig > 36)
				return qerr(err, s, "too many digits");
			m = m * 10 + (*q - '0');
			frac++;
		}
		if (fend == fstart && p > fstart)
			seen_digit = true;
	}
	(void)digits;
	if (!seen_digit)
		return qerr(err, s, "must start with a number (quantities look like 500m, 128Mi, 1.5)");

	/* suffix */
	static const struct { const char *s; int exp10; unsigned exp2; sw_quantity_format f; } sfx[] = {
		{ "Ki", 0, 10, SW_QTY_BINARY_SI }, { "Mi", 0, 20, SW_QTY_BINARY_SI },
		{ "Gi", 0, 30, SW_QTY_BINARY_SI }, { "Ti", 0, 40, SW_QTY_BINARY_SI },
		{ "Pi", 0, 50, SW_QTY_BINARY_SI }, { "Ei", 0, 60, SW_QTY_BINARY_SI },
		{ "n", -9, 0, SW_QTY_DECIMAL_SI }, { "u", -6, 0, SW_QTY_DECIMAL_SI },
		{ "m", -3, 0, SW_QTY_DECIMAL_SI }, { "", 0, 0, SW_QTY_DECIMAL_SI },
		{ "k", 3, 0, SW_QTY_DECIMAL_SI }, { "M", 6, 0, SW_QTY_DECIMAL_SI },
		{ "G", 9, 0, SW_QTY_DECIMAL_SI }, { "T", 12, 0, SW_QTY_DECIMAL_SI },
		{ "P", 15, 0, SW_QTY_DECIMAL_SI }, { "E", 18, 0, SW_QTY_DECIMAL_SI },
	};
	bool found = false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (!strcmp(p, sfx[i].s)) {
			exp10 = sfx[i].exp10;
			exp2 = sfx[i].exp2;
			fmt = sfx[i].f;
			found = true;
			break;
		}
	}
	if (!found && (*p == 'e' || *p == 'E') && p[1]) {
		const char *e = p + 1;
		bool eneg = false;
		long ev = 0;
		if (*e == '+' || *e == '-')
			eneg = *e++ == '-';
		if (!*e)
			return qerr(err, s, "unknown suffix");
		for (; *e; e++) {
			if (*e < '0' || *e > '9')
				return qerr(err, s, "unknown suffix");
			if (ev < 1000)
				ev = ev * 10 + (*e - '0');
		}
		exp10 = (int)(eneg ? -ev : ev);
		fmt = SW_QTY_DECIMAL_EXPONENT;
		found = true;
	}
	if (!found)
		return qerr(err, s, "unknown suffix (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei or e<N>)");

	/* nanos = m * 2^exp2 * 10^(exp10 - frac + 9) */
	i128 v = m;
	for (unsigned i = 0; i < exp2; i++) {
		if (v > limit / 2)
			return qerr(err, s, "too large");
		v *= 2;
	}
	int k = exp10 - frac + 9;
	if (v != 0 && k > 0) {
		for (int i = 0; i < k; i++) {
			if (v > limit / 10)
				return qerr(err, s, "too large");
			v *= 10;
		}
	} else if (v != 0 && k < 0) {
		if (k < -38) {
			v = 1;
		} else {
			i128 div = pow10_128((unsigned)-k);
			i128 q = v / div;
			v = q + (v % div ? 1 : 0);
		}
	}
	out->nanos = neg ? -v : v;
	out->format = fmt;
	return 0;
}

int sw_quantity_from_json(sw_quantity *out, const json_t *j, sw_error **err)
{
	char tmp[64];

	if (json_is_string(j))
		return sw_quantity_parse(out, json_string_value(j), err);
	if (json_is_integer(j)) {
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return sw_quantity_parse(out, tmp, err);
	}
	if (json_is_real(j)) {
		snprintf(tmp, sizeof(tmp), "%.15g", json_real_value(j));
		return sw_quantity_parse(out, tmp, err);
	}
	return sw_error_set(err, SW_EINVALID, "a quantity must be a string or a number");
}

static int scaled(const sw_quantity *q, i128 unit, int64_t *out, sw_error **err)
{
	i128 v = q->nanos < 0 ? -q->nanos : q->nanos;
	i128 r = v / unit + (v % unit ? 1 : 0);
	if (q->nanos < 0)
		r = -r;
	if (r > INT64_MAX || r < INT64_MIN)
		return sw_error_set(err, SW_EINVALID, "quantity %s is too large", "value");
	*out = (int64_t)r;
	return 0;
}

int sw_quantity_milli(const sw_quantity *q, int64_t *out, sw_error **err)
{
	return scaled(q, 1000000, out, err);
}

int sw_quantity_value(const sw_quantity *q, int64_t *out, sw_error **err)
{
	return scaled(q, NANO, out, err);
}

int sw_quantity_cmp(const sw_quantity *a, const sw_quantity *b)
{
	return a->nanos < b->nanos ? -1 : a->nanos > b->nanos ? 1 : 0;
}

static void add_i128(sw_buf *b, i128 v)
{
	char tmp[48];
	size_t n = sizeof(tmp);
	tmp[--n] = '\0';
	if (v == 0)
		tmp[--n] = '0';
	while (v > 0) {
		tmp[--n] = (char)('0' + (int)(v % 10));
		v /= 10;
	}
	sw_buf_addstr(b, tmp + n, NULL);
}

char *sw_quantity_format_str(const sw_quantity *q)
{
	sw_buf b = SW_BUF_INIT(0);
	i128 v = q->nanos < 0 ? -q->nanos : q->nanos;

	if (v == 0)
		return sw_xstrdup("0");
	if (q->nanos < 0)
		sw_buf_addc(&b, '-', NULL);
	if (q->format == SW_QTY_BINARY_SI && v >= 1024 * NANO && v % NANO == 0) {
		static const char *const bin[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
		i128 bytes = v / NANO;
		int i = 0;
		while (i < 6 && bytes % 1024 == 0) {
			bytes /= 1024;
			i++;
		}
		add_i128(&b, bytes);
		sw_buf_addstr(&b, bin[i], NULL);
		return sw_buf_detach(&b);
	}
	/* the largest multiple-of-3 exponent that keeps the mantissa whole */
	int e = -9;
	i128 mant = v;
	while (e < 18 && mant % 1000 == 0) {
		mant /= 1000;
		e += 3;
	}
	add_i128(&b, mant);
	if (q->format == SW_QTY_DECIMAL_EXPONENT) {
		if (e != 0)
			sw_buf_printf(&b, NULL, "e%d", e);
	} else {
		static const char *const dec[] = { "n", "u", "m", "", "k", "M", "G", "T", "P", "E" };
		sw_buf_addstr(&b, dec[(e + 9) / 3], NULL);
	}
	return sw_buf_detach(&b);
}

int sw_quantity_parse_milli(const char *s, int64_t *out, sw_error **err)
{
	sw_quantity q;
	int r;
	if ((r = sw_quantity_parse(&q, s, err)) < 0)
		return r;
	if (sw_quantity_milli(&q, out, NULL) < 0)
		return qerr(err, s, "too large for milli-units");
	return 0;
}

int sw_quantity_parse_bytes(const char *s, int64_t *out, sw_error **err)
{
	sw_quantity q;
	int r;
	if ((r = sw_quantity_parse(&q, s, err)) < 0)
		return r;
	if (sw_quantity_value(&q, out, NULL) < 0)
		return qerr(err, s, "too large for a 64-bit value");
	return 0;
}
