/*
 * dockerfile_text.c - Go string semantics the Dockerfile parser relies on:
 * UTF-8 decoding with U+FFFD for bad bytes, unicode.IsSpace, IsPrint,
 * TrimSpace and ToLower (see dockerfile_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dockerfile_int.h"
#include "slipway/mem.h"

uint32_t sw_df_decode_rune(const char *str, size_t len, size_t *width)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	uint32_t r, min;
	size_t n;

	*width = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; r = c & 0x1Fu; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; r = c & 0x0Fu; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; r = c & 0x07u; min = 0x10000;
	} else {
		return SW_DF_RUNE_ERROR;
	}
	if (len < n)
		return SW_DF_RUNE_ERROR;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return SW_DF_RUNE_ERROR;
		r = (r << 6) | (s[i] & 0x3Fu);
	}
	if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		return SW_DF_RUNE_ERROR;
	*width = n;
	return r;
}

int sw_df_buf_add_rune(sw_buf *b, uint32_t r, sw_error **err)
{
	char out[4];
	size_t n;

	if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = SW_DF_RUNE_ERROR;
	if (r < 0x80) {
		out[0] = (char)r; n = 1;
	} else if (r < 0x800) {
		out[0] = (char)(0xC0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3F)); n = 2;
	} else if (r < 0x10000) {
		out[0] = (char)(0xE0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F)); n = 3;
	} else {
		out[0] = (char)(0xF0 | (r >> 18));
		out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[3] = (char)(0x80 | (r & 0x3F)); n = 4;
	}
	return sw_buf_add(b, out, n, err);
}

bool sw_df_is_space(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	}
	return r >= 0x2000 && r <= 0x200A;
}

bool sw_df_is_space_byte(unsigned char b)
{
	return sw_df_is_space(b);
}

/* Format characters (Cf) and other code points Go's IsPrint rejects. */
static const uint32_t not_print_ranges[][2] = {
	{ 0x0080, 0x00A0 }, { 0x00AD, 0x00AD }, { 0x0378, 0x0379 },
	{ 0x0380, 0x0383 }, { 0x038B, 0x038B }, { 0x038D, 0x038D },
	{ 0x03A2, 0x03A2 }, { 0x0530, 0x0530 }, { 0x0557, 0x0558 },
	{ 0x0600, 0x0605 }, { 0x061C, 0x061C }, { 0x06DD, 0x06DD },
	{ 0x070F, 0x070F }, { 0x08E2, 0x08E2 }, { 0x1680, 0x1680 },
	{ 0x180E, 0x180E }, { 0x2000, 0x200F }, { 0x2028, 0x202F },
	{ 0x205F, 0x206F }, { 0x3000, 0x3000 }, { 0xD800, 0xF8FF },
	{ 0xFDD0, 0xFDEF }, { 0xFEFF, 0xFEFF }, { 0xFFF0, 0xFFFB },
	{ 0xFFFE, 0xFFFF }, { 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
	{ 0x13430, 0x1343F }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A },
	{ 0x2FA1E, 0x2FFFF }, { 0x3134B, 0xE00FF }, { 0xE01F0, 0x10FFFF },
};

bool sw_df_is_print(uint32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	for (size_t i = 0; i < sizeof(not_print_ranges) / sizeof(not_print_ranges[0]); i++)
		if (r >= not_print_ranges[i][0] && r <= not_print_ranges[i][1])
			return false;
	return true;
}

bool sw_df_is_digit(uint32_t r)
{
	if (r < 0x80)
		return r >= '0' && r <= '9';
	return (r >= 0x660 && r <= 0x669) || (r >= 0x6F0 && r <= 0x6F9) ||
	       (r >= 0x966 && r <= 0x96F) || (r >= 0xFF10 && r <= 0xFF19);
}

bool sw_df_is_letter(uint32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	if (r < 0x100)
		return r == 0xAA || r == 0xB5 || r == 0xBA ||
		       (r >= 0xC0 && r != 0xD7 && r != 0xF7);
	if (r <= 0x2C1 || (r >= 0x370 && r <= 0x3FF && r != 0x37E && r != 0x387) ||
	    (r >= 0x400 && r <= 0x481) || (r >= 0x48A && r <= 0x52F) ||
	    (r >= 0x531 && r <= 0x587) || (r >= 0x5D0 && r <= 0x5EA) ||
	    (r >= 0x620 && r <= 0x64A) || (r >= 0x1E00 && r <= 0x1FFF) ||
	    (r >= 0x3041 && r <= 0x30FF && r != 0x30A0 && r != 0x30FB) ||
	    (r >= 0x3400 && r <= 0x4DBF) || (r >= 0x4E00 && r <= 0x9FFF) ||
	    (r >= 0xAC00 && r <= 0xD7A3) || (r >= 0xFF21 && r <= 0xFF3A) ||
	    (r >= 0xFF41 && r <= 0xFF5A))
		return true;
	return false;
}

size_t sw_df_space_prefix(const char *s, size_t len)
{
	size_t i = 0, w;

	while (i < len) {
		uint32_t r = sw_df_decode_rune(s + i, len - i, &w);
		if (!sw_df_is_space(r))
			break;
		i += w;
	}
	return i;
}

/* The start of the last rune of s[0..len), as utf8.DecodeLastRune. */
static uint32_t decode_last_rune(const char *s, size_t len, size_t *width)
{
	size_t start = len - 1, lim = len >= 4 ? len - 4 : 0, w;
	uint32_t r;

	*width = 1;
	if ((unsigned char)s[start] < 0x80)
		return (unsigned char)s[start];
	while (start > lim && ((unsigned char)s[start] & 0xC0) == 0x80)
		start--;
	r = sw_df_decode_rune(s + start, len - start, &w);
	if (start + w != len)
		return SW_DF_RUNE_ERROR;
	*width = w;
	return r;
}

size_t sw_df_trim_right(const char *s, size_t len)
{
	size_t w;

	while (len > 0) {
		uint32_t r = decode_last_rune(s, len, &w);
		if (!sw_df_is_space(r))
			break;
		len -= w;
	}
	return len;
}

char *sw_df_trim_space(const char *s, size_t len)
{
	size_t start = sw_df_space_prefix(s, len);
	size_t end = start + sw_df_trim_right(s + start, len - start);
	return sw_xstrndup(s + start, end - start);
}

static uint32_t to_lower(uint32_t r)
{
	if (r < 0x80)
		return (r >= 'A' && r <= 'Z') ? r + 32 : r;
	if ((r >= 0xC0 && r <= 0xDE && r != 0xD7) || (r >= 0x391 && r <= 0x3AB && r != 0x3A2) ||
	    (r >= 0x410 && r <= 0x42F) || (r >= 0xFF21 && r <= 0xFF3A))
		return r + 32;
	if (r >= 0x400 && r <= 0x40F)
		return r + 80;
	if (r == 0x130)
		return 'i';
	if (r == 0x178)
		return 0xFF;
	if (r == 0x212A)
		return 'k';
	if (r == 0x212B)
		return 0xE5;
	if ((r >= 0x100 && r <= 0x12F) || (r >= 0x132 && r <= 0x137) ||
	    (r >= 0x14A && r <= 0x177) || (r >= 0x460 && r <= 0x481) ||
	    (r >= 0x48A && r <= 0x4BF) || (r >= 0x1E00 && r <= 0x1E95) ||
	    (r >= 0x1EA0 && r <= 0x1EFF))
		return (r % 2 == 0) ? r + 1 : r;
	if ((r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E) ||
	    (r >= 0x4C1 && r <= 0x4CE))
		return (r % 2 == 1) ? r + 1 : r;
	return r;
}

char *sw_df_lower(const char *s)
{
	sw_buf b = SW_BUF_INIT(0);
	size_t len = strlen(s), i = 0, w;

	while (i < len) {
		uint32_t r = sw_df_decode_rune(s + i, len - i, &w);
		sw_df_buf_add_rune(&b, to_lower(r), NULL);
		i += w;
	}
	return sw_buf_detach(&b);
}

void sw_df_strv_push(sw_df_strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 4;
		sv->v = sw_xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

void sw_df_strv_release(sw_df_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}
