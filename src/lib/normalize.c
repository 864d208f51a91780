/* SPDX-License-Identifier: MIT */
/* normalize.c: HTML references, NFKC + case fold with utf8proc, Latin
 * accent folding (see normalize.h). */
#include "config.h"

#include "normalize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const struct {
	const char *name;
	const char *text;
} named_refs[] = {
	{"amp;", "&"}, {"lt;", "<"},   {"gt;", ">"},
	{"quot;", "\""}, {"apos;", "'"}, {"nbsp;", " "},
};

/* Decodes one character reference at s (just after '&'); returns the bytes
 * consumed after '&' and writes the replacement, or 0 when s does not start
 * a reference this function knows. */
static size_t decode_ref(const char *s, size_t n, char *out, size_t *out_len)
{
	for (size_t i = 0; i < sizeof named_refs / sizeof *named_refs; i++) {
		size_t k = strlen(named_refs[i].name);

		if (k <= n && memcmp(s, named_refs[i].name, k) == 0) {
			*out_len = strlen(named_refs[i].text);
			memcpy(out, named_refs[i].text, *out_len);
			return k;
		}
	}
	if (n >= 3 && s[0] == '#') {
		int hex = s[1] == 'x' || s[1] == 'X';
		size_t i = hex ? 2 : 1, start = i;
		utf8proc_int32_t cp = 0;

		while (i < n && i - start < 7) {
			char c = s[i];
			int d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				break;
			cp = cp * (hex ? 16 : 10) + d;
			i++;
		}
		if (i == start || i >= n || s[i] != ';' ||
		    !utf8proc_codepoint_valid(cp) || cp == 0)
			return 0;
		*out_len = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out);
		return i + 1;
	}
	return 0;
}

/* Copies text with character references decoded (never longer). */
static size_t decode_refs(const char *text, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		if (text[i] == '&') {
			size_t rl = 0, used;

			used = decode_ref(text + i + 1, len - i - 1, out + o, &rl);
			if (used) {
				o += rl;
				i += used + 1;
				continue;
			}
		}
		out[o++] = text[i++];
	}
	return o;
}

/* The base letter of a precomposed Latin letter, or cp itself. */
static utf8proc_int32_t latin_base(utf8proc_int32_t cp)
{
	utf8proc_int32_t parts[4];
	int last = 0;
	utf8proc_ssize_t n;

	if (!((cp >= 0xc0 && cp <= 0x24f) || (cp >= 0x1e00 && cp <= 0x1eff)))
		return cp;
	n = utf8proc_decompose_char(cp, parts, 4, UTF8PROC_DECOMPOSE, &last);
	if (n < 2 || parts[0] >= 0x80)
		return cp;
	for (utf8proc_ssize_t i = 1; i < n; i++)
		if (utf8proc_category(parts[i]) != UTF8PROC_CATEGORY_MN)
			return cp;
	return parts[0];
}

/* Folds accents in place (the result is never longer). */
static size_t fold_accents(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(len - i), &cp);

		if (k <= 0) /* cannot happen on utf8proc's own output */
			break;
		i += (size_t)k;
		o += (size_t)utf8proc_encode_char(latin_base(cp),
						  (utf8proc_uint8_t *)s + o);
	}
	s[o] = '\0';
	return o;
}

/* ASCII text is its own NFKC form and folds by lowering its letters; most
 * shop text is ASCII, and this path is many times faster than utf8proc. */
static int lower_ascii(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || c == 0)
			return 0;
	}
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	return 1;
}

char *os_normalize(const char *text, size_t len, unsigned flags,
		   size_t *out_len, struct os_error *err)
{
	char *decoded = malloc(len + 1);
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n;
	size_t dlen;

	if (!decoded) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	dlen = decode_refs(text, len, decoded);
	if (lower_ascii(decoded, dlen)) {
		decoded[dlen] = '\0';
		*out_len = dlen;
		return decoded;
	}
	n = utf8proc_map((const utf8proc_uint8_t *)decoded,
			 (utf8proc_ssize_t)dlen, &mapped,
			 UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
				 UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
	free(decoded);
	if (n < 0) {
		os_error_set(err,
			     n == UTF8PROC_ERROR_NOMEM ? OS_EXIT_FAILURE
						       : OS_EXIT_BAD_INPUT,
			     "%s", n == UTF8PROC_ERROR_INVALIDUTF8
					   ? "invalid UTF-8"
					   : utf8proc_errmsg(n));
		return NULL;
	}
	if (!(flags & OS_NORM_KEEP_ACCENTS))
		n = (utf8proc_ssize_t)fold_accents((char *)mapped, (size_t)n);
	*out_len = (size_t)n;
	return (char *)mapped;
}
