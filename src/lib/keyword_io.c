/* SPDX-License-Identifier: MIT */
/* keyword_io.c: keywords to and from the catalog and JSON (see
 * keyword_io.h). */
#include "config.h"

#include "keyword_io.h"

#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

struct load_ctx {
	struct os_dict *d;
	struct os_error *err;
};

static int load_row(void *ctx, long id, const char *type, const char *text,
		    const char *source, long count)
{
	struct load_ctx *lc = ctx;
	static const char *const sources[] = {"lexicon", "mined", "user"};
	const char *src = "user";

	(void)id;
	if (strcmp(source, "pattern") == 0)
		return 0;
	for (size_t i = 0; i < sizeof sources / sizeof *sources; i++)
		if (strcmp(source, sources[i]) == 0)
			src = sources[i];
	return os_dict_add(lc->d, type, text, src, count, lc->err) < 0;
}

int os_dict_load_catalog(struct os_dict *d, struct os_catalog *c,
			 struct os_error *err)
{
	struct load_ctx lc = {d, err};

	return os_catalog_keywords_each(c, NULL, load_row, &lc, err) ? -1 : 0;
}

int os_dict_store(const struct os_dict *d, struct os_catalog *c, long *ids,
		  struct os_error *err)
{
	if (os_catalog_keywords_clear(c, err) < 0)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		ids[i] = os_catalog_keyword_add(c, d->kw[i].type, d->kw[i].text,
						d->kw[i].source, d->kw[i].count,
						err);
		if (ids[i] < 0)
			return -1;
	}
	return 0;
}

cJSON *os_keyword_hits_json(const struct os_dict *d, const struct os_tokens *t,
			    const struct os_keyword_hit *hits, size_t n)
{
	/* Formatted here as one raw node: a tree of cJSON objects per
	 * keyword cost more than all the matching. */
	char buf[512], *text;
	size_t cap = 3, len = 0;
	cJSON *raw;

	for (size_t i = 0; i < n; i++)
		cap += 24 + 6 * (strlen(hits[i].type) +
				 strlen(os_keyword_hit_text(d, t, &hits[i], buf,
							    sizeof buf)));
	if (!(text = malloc(cap)))
		return NULL;
	text[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			text[len++] = ',';
		memcpy(text + len, "{\"type\":", 8);
		len += 8;
		len += os_json_quote(text + len, hits[i].type);
		memcpy(text + len, ",\"text\":", 8);
		len += 8;
		len += os_json_quote(text + len, os_keyword_hit_text(d, t, &hits[i],
								     buf, sizeof buf));
		text[len++] = '}';
	}
	text[len++] = ']';
	text[len] = '\0';
	raw = cJSON_CreateRaw(text);
	free(text);
	return raw;
}
