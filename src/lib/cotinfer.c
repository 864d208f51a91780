/* SPDX-License-Identifier: MIT */
/* cotinfer.c: the CoT of one query with the "stats" backend (see
 * cotstats.h): keywords matched in the query, keywords inferred from the
 * training pairs, negations, and the user's preferences. */
#include "config.h"

#include "cotstats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cot.h"
#include "negation.h"
#include "record.h"
#include "tally.h"

#define MAX_HITS 128
#define MAX_NEGATIONS 8
#define MAX_FEATURES 256

/* A keyword inferred from the training pairs. */
struct candidate {
	uint32_t keyword;
	float score;
	long feature;     /* the word that gave the best score */
	uint32_t queries; /* n(w) of that word, leave-one-out */
};

/* One query's working state; the cJSON trees go to the caller. */
struct infer {
	const struct os_cot_stats *s;
	struct os_tokens tok;
	struct os_keyword_hit hits[MAX_HITS];
	size_t nhits;
	struct os_negation neg[MAX_NEGATIONS];
	size_t nneg;
	uint8_t *skip;        /* by token: inside a negation */
	char *padded;         /* " token token ... " */
	struct candidate *cand;
	size_t ncand;
	cJSON *cot, *explain;
	cJSON *inferred_attrs; /* the attributes inferred, in order: strings */
};

static int is_product_type(const struct os_cot_stats *s, const char *type)
{
	return strcmp(type, "product") == 0 || strcmp(type, s->category_type) == 0;
}

/* Whether `text` (tokens joined by ' ') is a run of the query's tokens. */
static int in_query(const struct infer *in, const char *text)
{
	size_t len = strlen(text);
	const char *p = in->padded;

	while ((p = strstr(p, text)) != NULL) {
		if (p[-1] == ' ' && p[len] == ' ')
			return 1;
		p++;
	}
	return 0;
}

static int negated(const struct infer *in, const char *text)
{
	for (size_t i = 0; i < in->nneg && i < MAX_NEGATIONS; i++)
		if (strcmp(in->neg[i].text, text) == 0)
			return 1;
	return 0;
}

/* Adds {"field","keyword","from", ...} to the explanation, if asked. */
static cJSON *why(struct infer *in, const char *field, const char *keyword,
		  const char *from)
{
	cJSON *e;

	if (!in->explain)
		return NULL;
	e = cJSON_CreateObject();
	if (!e || !cJSON_AddItemToArray(in->explain, e)) {
		cJSON_Delete(e);
		return NULL;
	}
	cJSON_AddStringToObject(e, "field", field);
	cJSON_AddStringToObject(e, "keyword", keyword);
	cJSON_AddStringToObject(e, "from", from);
	return e;
}

static void why_pairs(struct infer *in, const char *field,
		      const struct candidate *c)
{
	const struct os_cot_stats *s = in->s;
	cJSON *e = why(in, field, s->dict.kw[c->keyword].text, "pairs");

	if (!e)
		return;
	cJSON_AddStringToObject(e, "word",
				os_strmap_key(&s->features, (size_t)c->feature));
	cJSON_AddNumberToObject(e, "score", round(c->score * 1e4) / 1e4);
	cJSON_AddNumberToObject(e, "lift",
				round(c->score / s->prior[c->keyword] * 100) / 100);
	cJSON_AddNumberToObject(e, "queries", c->queries);
}

static int candidate_order(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->keyword > y->keyword) - (x->keyword < y->keyword);
}

/* The query's own training pairs, to leave out: *n records, own[k]. */
static uint32_t own_pairs(const struct infer *in, float *own)
{
	const struct os_cot_stats *s = in->s;
	const struct os_cot_table *t = &s->query_keywords;
	size_t len = strlen(in->padded);
	long q;

	if (!s->opt.leave_one_out || len < 2)
		return 0;
	q = os_strmap_find(&s->queries, in->padded + 1, len - 2);
	if (q < 0)
		return 0;
	for (uint32_t c = t->start[q]; c < t->start[q + 1]; c++)
		own[t->cells[c].keyword] = t->cells[c].weight;
	return s->query_count[q];
}

/* Scores every keyword that a feature of the query leads to, keeps those
 * above the thresholds, best first. */
static int infer_keywords(struct infer *in)
{
	const struct os_cot_stats *s = in->s;
	const struct os_cot_table *t = &s->feature_keywords;
	const struct os_cot_stats_options *o = &s->opt;
	size_t nkw = s->dict.n ? s->dict.n : 1;
	float *own = calloc(nkw, sizeof *own);
	struct candidate *best = calloc(nkw, sizeof *best);
	uint32_t *touched = malloc(nkw * sizeof *touched), own_n;
	size_t ntouched = 0;
	long ids[MAX_FEATURES], nids;
	float floor = (float)fmin(o->min_score, o->min_attribute);
	int rc = -1;

	if (!own || !best || !touched)
		goto out;
	own_n = own_pairs(in, own);
	nids = os_cot_feature_ids(&s->features, NULL, &in->tok, in->skip, ids,
				  MAX_FEATURES);
	for (long f = 0; f < nids; f++) {
		long n = (long)s->feature_queries[ids[f]] - (long)own_n;

		if (n < o->min_support)
			continue;
		for (uint32_t c = t->start[ids[f]]; c < t->start[ids[f] + 1]; c++) {
			uint32_t k = t->cells[c].keyword;
			double count = t->cells[c].weight - own[k];
			float p;

			if (count <= 1e-6)
				continue;
			p = (float)((count + o->smoothing * s->prior[k]) /
				    ((double)n + o->smoothing));
			if (p <= best[k].score)
				continue;
			if (best[k].score == 0.0f)
				touched[ntouched++] = k;
			best[k] = (struct candidate){k, p, ids[f], (uint32_t)n};
		}
	}
	in->cand = malloc((ntouched ? ntouched : 1) * sizeof *in->cand);
	if (!in->cand)
		goto out;
	for (size_t i = 0; i < ntouched; i++) {
		const struct candidate *c = &best[touched[i]];

		if (c->score >= floor &&
		    c->score >= o->min_lift * s->prior[c->keyword] &&
		    !negated(in, s->dict.kw[c->keyword].text))
			in->cand[in->ncand++] = *c;
	}
	qsort(in->cand, in->ncand, sizeof *in->cand, candidate_order);
	rc = 0;
out:
	free(own);
	free(best);
	free(touched);
	return rc;
}

/* Keywords matched in the query itself: attributes, and the product type
 * it names (the last one: English puts it at the end). */
static int matched_keywords(struct infer *in, char *product, size_t size)
{
	const struct os_cot_stats *s = in->s;

	product[0] = '\0';
	for (size_t h = 0; h < in->nhits && h < MAX_HITS; h++) {
		const struct os_keyword_hit *hit = &in->hits[h];
		char buf[256];
		const char *text;
		int inside = 0;

		for (uint32_t i = hit->start; i < hit->start + hit->len; i++)
			inside |= in->skip[i];
		if (inside)
			continue;
		text = os_keyword_hit_text(&s->dict, &in->tok, hit, buf, sizeof buf);
		if (is_product_type(s, hit->type)) {
			snprintf(product, size, "%s", text);
			continue;
		}
		if (os_cot_add_attribute(in->cot, hit->type, text) < 0)
			return -1;
		why(in, "attributes", text, "query");
	}
	return 0;
}

static const char *kw_type(const struct infer *in, const struct candidate *c)
{
	return in->s->dict.kw[c->keyword].type;
}

static const char *kw_text(const struct infer *in, const struct candidate *c)
{
	return in->s->dict.kw[c->keyword].text;
}

static int category(struct infer *in, const char *product)
{
	const struct os_cot_stats *s = in->s;
	int added = 0;

	for (size_t i = 0; i < in->ncand && added < s->opt.max_category; i++) {
		const struct candidate *c = &in->cand[i];
		int rc;

		if (strcmp(kw_type(in, c), s->category_type) != 0 ||
		    c->score < s->opt.min_score)
			continue;
		rc = os_cot_add(in->cot, "category", kw_text(in, c), 0);
		if (rc < 0)
			return -1;
		if (rc) {
			added++;
			why_pairs(in, "category", c);
		}
	}
	/* a product type named by the query, when nothing was inferred */
	if (!added && product[0] && strcmp(s->category_type, "product") == 0) {
		if (os_cot_add(in->cot, "category", product, 0) < 0)
			return -1;
		why(in, "category", product, "query");
	}
	return 0;
}

static int intent(struct infer *in, const char *product)
{
	const cJSON *cat = cJSON_GetObjectItemCaseSensitive(in->cot, "category");
	const char *text = product;
	const char *source = "query";

	if (!text[0] && cJSON_GetArraySize(cat) > 0) {
		text = cJSON_GetArrayItem(cat, 0)->valuestring;
		source = "category";
	}
	for (size_t i = in->tok.n; !text[0] && i-- > 0;)
		if (!in->skip[i])
			text = os_token_text(&in->tok, i);
	if (text[0])
		why(in, "intent", text, source);
	return os_cot_set_intent(in->cot, text);
}

static int inferred_attributes(struct infer *in)
{
	const struct os_cot_stats *s = in->s;

	for (size_t i = 0; i < in->ncand; i++) {
		const struct candidate *c = &in->cand[i];
		int rc;

		if (is_product_type(s, kw_type(in, c)) ||
		    c->score < s->opt.min_attribute || in_query(in, kw_text(in, c)))
			continue;
		rc = os_cot_add_attribute(in->cot, kw_type(in, c), kw_text(in, c));
		if (rc < 0)
			return -1;
		if (!rc)
			continue;
		if (!cJSON_AddItemToArray(in->inferred_attrs,
					  cJSON_CreateString(kw_text(in, c))))
			return -1;
		why_pairs(in, "attributes", c);
	}
	return 0;
}

static int negative(struct infer *in)
{
	for (size_t i = 0; i < in->nneg && i < MAX_NEGATIONS; i++) {
		const struct os_negation *n = &in->neg[i];
		char cue[256];
		cJSON *e;

		if (os_cot_add(in->cot, "negative", n->text, 0) < 0)
			return -1;
		e = why(in, "negative", n->text, "negation");
		os_tokens_join(&in->tok, n->start, n->start + n->len, cue,
			       sizeof cue);
		if (e)
			cJSON_AddStringToObject(e, "cue", cue);
	}
	return 0;
}

static int substitutes(struct infer *in)
{
	const struct os_cot_stats *s = in->s;
	const cJSON *cat = cJSON_GetObjectItemCaseSensitive(in->cot, "category");
	const char *intent_text =
		cJSON_GetObjectItemCaseSensitive(in->cot, "intent")->valuestring;
	int added = 0;

	for (size_t i = 0; i < in->ncand && added < s->opt.max_substitutes; i++) {
		const struct candidate *c = &in->cand[i];
		const char *text = kw_text(in, c);
		const cJSON *v;
		int taken = strcmp(text, intent_text) == 0 || in_query(in, text);
		int rc;

		cJSON_ArrayForEach(v, cat)
			taken |= strcmp(v->valuestring, text) == 0;
		if (taken || strcmp(kw_type(in, c), "product") != 0 ||
		    c->score < s->opt.min_score)
			continue;
		rc = os_cot_add(in->cot, "substitutes", text, 0);
		if (rc < 0)
			return -1;
		if (rc) {
			added++;
			why_pairs(in, "substitutes", c);
		}
	}
	return 0;
}

/* The most frequent keyword of `type` in the tally, when it is frequent
 * enough: in two history items at least and min_personal of them. */
static int preferred(struct infer *in, const struct os_tally *t, size_t n,
		     const char *type, size_t items)
{
	const struct os_cot_stats *s = in->s;
	const struct os_tally *best = NULL;
	cJSON *e;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (strcmp(s->dict.kw[t[i].id].type, type) == 0 &&
		    (!best || t[i].count > best->count))
			best = &t[i];
	if (!best || best->count < 2 ||
	    best->count < s->opt.min_personal * (double)items)
		return 0;
	rc = os_cot_add(in->cot, "personal", s->dict.kw[best->id].text, 0);
	if (rc > 0 && (e = why(in, "personal", s->dict.kw[best->id].text,
			       "history"))) {
		cJSON_AddStringToObject(e, "type", type);
		cJSON_AddNumberToObject(e, "items", best->count);
		cJSON_AddNumberToObject(e, "of", (double)items);
	}
	return rc < 0 ? -1 : 0;
}

static int median_order(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* "budget" or "premium" when the median price of the history is in the
 * catalog's cheapest or dearest third (bounds included). */
static int price_band(struct infer *in, float *prices, size_t n)
{
	const struct os_cot_stats *s = in->s;
	const char *band = NULL;
	float median;
	cJSON *e;

	if (n < 2 || isnan(s->price_low))
		return 0;
	qsort(prices, n, sizeof *prices, median_order);
	median = prices[n / 2];
	if (median <= s->price_low)
		band = "budget";
	else if (median >= s->price_high)
		band = "premium";
	if (!band)
		return 0;
	if (os_cot_add(in->cot, "personal", band, 0) < 0)
		return -1;
	if ((e = why(in, "personal", band, "history")))
		cJSON_AddNumberToObject(e, "median_price", median);
	return 0;
}

/* The user's preferences: brand and category of the recent history, its
 * price band, and the string values of the profile. */
static int personal(struct infer *in, const cJSON *user, struct os_error *err)
{
	const struct os_cot_stats *s = in->s;
	const struct os_cot_table *ik = &s->item_keywords;
	const cJSON *history, *profile, *v;
	struct os_tally tally[256];
	float prices[256];
	size_t ntally = 0, nprices = 0, items = 0;
	long looked = 0;

	if (os_cot_user(user, &history, &profile, err) < 0)
		return -1;
	cJSON_ArrayForEach(v, history) {
		char buf[OS_RECORD_ID_MAX];
		const char *id = os_record_id(v, "user.history", buf, sizeof buf,
					      err);
		long item;

		if (!id)
			return -1;
		if (looked++ >= s->opt.history)
			break;
		item = os_strmap_find(&s->items, id, strlen(id));
		if (item < 0)
			continue;
		items++;
		for (uint32_t c = ik->start[item]; c < ik->start[item + 1]; c++)
			os_tally_add(tally, &ntally, 256, ik->cells[c].keyword);
		if (!isnan(s->price[item]) && nprices < 256)
			prices[nprices++] = s->price[item];
	}
	if (preferred(in, tally, ntally, "brand", items) < 0 ||
	    preferred(in, tally, ntally, s->category_type, items) < 0 ||
	    price_band(in, prices, nprices) < 0)
		return -1;
	cJSON_ArrayForEach(v, profile) {
		cJSON *e;
		int rc;

		if (!cJSON_IsString(v) || !v->valuestring[0])
			continue;
		rc = os_cot_add(in->cot, "personal", v->valuestring, 0);
		if (rc < 0)
			return -1;
		if (rc && (e = why(in, "personal", v->valuestring, "profile")))
			cJSON_AddStringToObject(e, "key", v->string);
	}
	return 0;
}

/* Appends the strings of a list to the keywords, those not in the query
 * (prefixed by `prefix` when given). */
static int keywords_from(struct infer *in, const cJSON *list,
			 const char *prefix)
{
	const cJSON *v;
	char buf[300];

	cJSON_ArrayForEach(v, list) {
		const char *text = v->valuestring;

		if (prefix) {
			snprintf(buf, sizeof buf, "%s %s", prefix, text);
			text = buf;
		} else if (in_query(in, text)) {
			continue;
		}
		if (os_cot_add(in->cot, "keywords", text,
			       in->s->opt.max_keywords) < 0)
			return -1;
	}
	return 0;
}

/* At most max_keywords, what the query does not say already, most
 * telling first: category, inferred attributes, negations, substitutes,
 * preferences. */
static int keywords(struct infer *in)
{
	const cJSON *cot = in->cot;

	if (keywords_from(in, cJSON_GetObjectItemCaseSensitive(cot, "category"),
			  NULL) < 0 ||
	    keywords_from(in, in->inferred_attrs, NULL) < 0 ||
	    keywords_from(in, cJSON_GetObjectItemCaseSensitive(cot, "negative"),
			  "without") < 0 ||
	    keywords_from(in, cJSON_GetObjectItemCaseSensitive(cot, "substitutes"),
			  NULL) < 0 ||
	    keywords_from(in, cJSON_GetObjectItemCaseSensitive(cot, "personal"),
			  NULL) < 0)
		return -1;
	return 0;
}

static int analyze_query(struct infer *in, const char *query,
			 struct os_error *err)
{
	const struct os_cot_stats *s = in->s;
	long found;

	if (os_analyze(&in->tok, query, s->norm_flags, err) < 0)
		return -1;
	found = os_dict_find(&s->dict, &in->tok, in->hits, MAX_HITS);
	in->skip = calloc(in->tok.n + 1, 1);
	in->padded = malloc(in->tok.text_len + 3);
	if (found < 0 || !in->skip || !in->padded)
		return -1;
	in->nhits = (size_t)found;
	in->nneg = os_negations_find(&in->tok, in->hits,
				     in->nhits < MAX_HITS ? in->nhits : MAX_HITS,
				     in->neg, MAX_NEGATIONS);
	for (size_t i = 0; i < in->nneg && i < MAX_NEGATIONS; i++)
		memset(in->skip + in->neg[i].start, 1, in->neg[i].len);
	in->padded[0] = ' ';
	os_tokens_join(&in->tok, 0, in->tok.n, in->padded + 1,
		       in->tok.text_len + 1);
	strcat(in->padded, " ");
	return 0;
}

cJSON *os_cot_stats_infer(const struct os_cot_stats *s, const char *query,
			  const cJSON *user, cJSON **explain,
			  struct os_error *err)
{
	struct infer in = {.s = s};
	char product[256];
	cJSON *cot = NULL;

	os_error_clear(err);
	os_tokens_init(&in.tok);
	in.cot = os_cot_new("stats");
	in.inferred_attrs = cJSON_CreateArray();
	in.explain = explain ? cJSON_CreateArray() : NULL;
	if (!in.cot || !in.inferred_attrs || (explain && !in.explain) ||
	    analyze_query(&in, query, err) < 0 || infer_keywords(&in) < 0 ||
	    matched_keywords(&in, product, sizeof product) < 0 ||
	    category(&in, product) < 0 || intent(&in, product) < 0 ||
	    inferred_attributes(&in) < 0 || negative(&in) < 0 ||
	    substitutes(&in) < 0 || personal(&in, user, err) < 0 ||
	    keywords(&in) < 0) {
		if (!err->status)
			os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		cJSON_Delete(in.cot);
		cJSON_Delete(in.explain);
	} else {
		cot = in.cot;
		if (explain)
			*explain = in.explain;
	}
	cJSON_Delete(in.inferred_attrs);
	free(in.cand);
	free(in.skip);
	free(in.padded);
	os_tokens_release(&in.tok);
	return cot;
}
