/* SPDX-License-Identifier: MIT */
/* jsonl_writer.c: printing cJSON trees with deliberate number formatting,
 * and the small tree helpers the programs share (see jsonl.h). A record is
 * written by one thread, so the stream's lock is left alone (the
 * _unlocked stdio calls). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

static const double pow10_table[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
				     1e6, 1e7, 1e8, 1e9};

/* Most numbers in data have a few decimals: v = m / 10^k exactly as
 * strtod() reads it, for the least such k <= 9. Printing m with a decimal
 * point is then the text %g would give (from 1e-4 up, where %g uses no
 * exponent), without printf's slow %g. Returns the length, or 0 when v is
 * not such a number. */
static int format_short_decimal(char *buf, size_t size, double v, int as_float)
{
	if (fabs(v) < 1e-4) /* %g writes these with an exponent, shorter */
		return 0;
	for (int k = 1; k <= 9; k++) {
		double m = nearbyint(v * pow10_table[k]);
		double back = m / pow10_table[k];
		long long im, whole, frac;

		if (fabs(m) >= 1e15)
			return 0;
		if (as_float ? (float)back != (float)v : back != v)
			continue;
		im = (long long)m;
		whole = (im < 0 ? -im : im) / (long long)pow10_table[k];
		frac = (im < 0 ? -im : im) % (long long)pow10_table[k];
		return snprintf(buf, size, "%s%lld.%0*lld", im < 0 ? "-" : "",
				whole, k, frac);
	}
	return 0;
}

int os_json_format_double(char *buf, size_t size, double v)
{
	int n;

	if (!isfinite(v))
		return snprintf(buf, size, "null");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return snprintf(buf, size, "%.0f", v == 0 ? 0.0 : v);
	if ((n = format_short_decimal(buf, size, v, 0)) > 0)
		return n;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);

		if (prec == 17 || strtod(buf, NULL) == v)
			return n;
	}
	return 0; /* not reached */
}

int os_json_format_float(char *buf, size_t size, float v)
{
	int n;

	if (!isfinite(v))
		return snprintf(buf, size, "null");
	if (v == 0)
		return snprintf(buf, size, "0");
	if ((n = format_short_decimal(buf, size, v, 1)) > 0)
		return n;
	for (int prec = 6; prec <= 9; prec++) {
		n = snprintf(buf, size, "%.*g", prec, (double)v);

		if (prec == 9 || strtof(buf, NULL) == v)
			return n;
	}
	return 0; /* not reached */
}

/* The escape sequence of byte c inside a JSON string (written to hex for
 * other control characters), or NULL when c stands for itself. */
static const char *escape_of(unsigned char c, char hex[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	case '\r':
		return "\\r";
	default:
		if (c >= 0x20)
			return NULL;
		snprintf(hex, 8, "\\u%04x", c);
		return hex;
	}
}

size_t os_json_quote(char *out, const char *s)
{
	size_t len = 0;

	out[len++] = '"';
	for (; *s; s++) {
		char hex[8];
		const char *esc = escape_of((unsigned char)*s, hex);

		if (esc) {
			size_t n = strlen(esc);

			memcpy(out + len, esc, n);
			len += n;
		} else {
			out[len++] = *s;
		}
	}
	out[len++] = '"';
	out[len] = '\0';
	return len;
}

static void write_string(FILE *out, const char *s)
{
	const char *run = s;

	putc_unlocked('"', out);
	for (; *s; s++) {
		char hex[8];
		const char *esc = escape_of((unsigned char)*s, hex);

		if (esc) {
			fwrite_unlocked(run, 1, (size_t)(s - run), out);
			fputs_unlocked(esc, out);
			run = s + 1;
		}
	}
	fwrite_unlocked(run, 1, (size_t)(s - run), out);
	putc_unlocked('"', out);
}

static void write_value(FILE *out, const cJSON *v)
{
	char num[40];

	switch (v->type & 0xff) {
	case cJSON_False:
		fputs_unlocked("false", out);
		break;
	case cJSON_True:
		fputs_unlocked("true", out);
		break;
	case cJSON_NULL:
	case cJSON_Invalid:
		fputs_unlocked("null", out);
		break;
	case cJSON_Number:
		os_json_format_double(num, sizeof num, v->valuedouble);
		fputs_unlocked(num, out);
		break;
	case cJSON_String:
		write_string(out, v->valuestring ? v->valuestring : "");
		break;
	case cJSON_Raw:
		fputs_unlocked(v->valuestring ? v->valuestring : "null", out);
		break;
	case cJSON_Array:
		putc_unlocked('[', out);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child)
				putc_unlocked(',', out);
			write_value(out, c);
		}
		putc_unlocked(']', out);
		break;
	case cJSON_Object:
		putc_unlocked('{', out);
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child)
				putc_unlocked(',', out);
			write_string(out, c->string ? c->string : "");
			putc_unlocked(':', out);
			write_value(out, c);
		}
		putc_unlocked('}', out);
		break;
	}
}

int os_json_write(FILE *out, const cJSON *item)
{
	write_value(out, item);
	return ferror(out) ? -1 : 0;
}

int os_jsonl_write(FILE *out, const cJSON *obj)
{
	write_value(out, obj);
	putc_unlocked('\n', out);
	return ferror(out) ? -1 : 0;
}

cJSON *os_json_float_array(const float *v, size_t n)
{
	size_t cap = 2 + n * 16, len = 0;
	char *text = malloc(cap);
	cJSON *raw;

	if (!text)
		return NULL;
	text[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			text[len++] = ',';
		len += (size_t)os_json_format_float(text + len, cap - len, v[i]);
	}
	text[len++] = ']';
	text[len] = '\0';
	raw = cJSON_CreateRaw(text);
	free(text);
	return raw;
}

int os_json_set(cJSON *obj, const char *key, cJSON *value)
{
	if (!value)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
		if (!cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value)) {
			cJSON_Delete(value);
			return -1;
		}
		return 0;
	}
	if (!cJSON_AddItemToObject(obj, key, value)) {
		cJSON_Delete(value);
		return -1;
	}
	return 0;
}

int os_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		/* eight ASCII bytes without NUL at a time */
		if (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (!(w & UINT64_C(0x8080808080808080)) &&
			    !((w - UINT64_C(0x0101010101010101)) & ~w &
			      UINT64_C(0x8080808080808080))) {
				i += 8;
				continue;
			}
		}
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + n >= len)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}
