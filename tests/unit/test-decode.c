/* SPDX-License-Identifier: MIT */
/* test-decode: the SID trie, and the beam search with its key/value cache
 * against the training forward pass: when the trie holds every code
 * combination, an item's score must equal the log-probability that
 * os_model_forward() gives its SID; when the beam holds every item, the
 * probabilities of all items must sum to 1; every result must be a
 * distinct catalog item, best first; with a trie of missing SIDs, the
 * score must equal the training loss constrained to the trie's codes. Sampling SIDs code by code.
 * Pseudo-queries drawn from a text.
 * Also the model file: a saved model
 * loads bit for bit, and a truncated or flipped file is refused. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/decode.h"
#include "lib/model_io.h"
#include "lib/prefix.h"
#include "lib/sequence.h"
#include "lib/sidindex.h"
#include "tap.h"

static void test_trie(void)
{
	const char *ids[] = {"a", "b", "c", "d", "e"};
	/* a 1,0,0  b 0,2,1  c 0,1,0  d 0,1,1  e 0,2,0 */
	uint32_t codes[] = {1, 0, 0, 0, 2, 1, 0, 1, 0, 0, 1, 1, 0, 2, 0};
	struct os_sidindex s;
	struct os_error err;
	uint32_t n1, n2, leaf;

	ok(os_sidindex_build(&s, ids, codes, 5, 3, &err) == 0, "trie builds");
	is_long((long)s.count[0], 2, "two codes at level 1");
	n1 = os_trie_child(&s, 0, 0);
	is_long((long)s.count[n1], 2, "prefix 0 has children 1 and 2");
	n2 = os_trie_child(&s, n1, 1);
	leaf = os_trie_child(&s, n2, 1);
	ok(leaf != OS_TRIE_NONE && !strcmp(os_sidindex_id(&s, s.item[leaf]), "d"),
	   "0,1,1 leads to item d");
	ok(os_trie_child(&s, n2, 2) == OS_TRIE_NONE, "0,1,2 is no SID");
	ok(os_trie_child(&s, 0, 3) == OS_TRIE_NONE, "code 3 is no level-1 code");
	is_long((long)s.parent[leaf], (long)n2, "a leaf knows its parent");
	is_long((long)s.level_codes[1], 3, "level 2 uses codes 0..2");
	os_sidindex_release(&s);
	codes[5] = 0; /* b becomes 0,2,0 like e */
	ok(os_sidindex_build(&s, ids, codes, 5, 3, &err) < 0 &&
	   strstr(err.message, "share one SID"),
	   "two items with one SID are refused");
}

/* A random model over every SID of 3 x 4 x 2 codes: 24 items. */
enum { K0 = 3, K1 = 4, K2 = 2, ITEMS = K0 * K1 * K2 };

/* Every SID, or (`every_third`) without every third item, so that some
 * prefixes have one way to go at the last level. */
static size_t toy_index(struct os_sidindex *s, int every_third)
{
	static char names[ITEMS][8];
	const char *ids[ITEMS];
	uint32_t codes[ITEMS * 3];
	struct os_error err;
	size_t n = 0;

	for (int i = 0; i < ITEMS; i++) {
		if (every_third && i % 3 == 2)
			continue;
		snprintf(names[n], sizeof names[n], "i%02d", i);
		ids[n] = names[n];
		codes[3 * n] = (uint32_t)(i / (K1 * K2));
		codes[3 * n + 1] = (uint32_t)(i / K2 % K1);
		codes[3 * n + 2] = (uint32_t)(i % K2);
		n++;
	}
	os_sidindex_build(s, ids, codes, n, 3, &err);
	return n;
}

static struct os_model_config toy_config(void)
{
	return (struct os_model_config){.words = 6, .buckets = 16, .levels = 3,
					.codes = {K0, K1, K2}, .dim = 16,
					.layers = 2, .heads = 2, .ff = 24,
					.context = 12};
}

/* The training forward pass's log-probability of `codes` after the text;
 * with `trie`, each level's softmax over the codes it allows, and with
 * `node_row` too, the trie nodes' prefix vectors. */
static double forward_logp_prefix(struct os_model *m,
				  const struct os_text_pool *p, uint32_t len,
				  const uint32_t *codes,
				  const struct os_sidindex *trie,
				  const uint32_t *node_row)
{
	struct os_batch b;
	struct os_model_batch mb;
	struct os_example ex = {.text = 0, .len = len, .weight = 1};
	double loss;

	memcpy(ex.code, codes, 3 * sizeof *codes);
	os_batch_init(&b);
	os_batch_add(&b, &m->cfg, p, &ex);
	os_batch_finish(&b, &m->cfg, &mb);
	if (trie) {
		os_batch_allow(&b, &m->cfg, trie, &mb);
		mb.masked = 1;
		mb.node_row = node_row;
	}
	loss = os_model_forward(m, &mb, 0, 0);
	os_batch_release(&b);
	return -loss;
}

static double forward_logp(struct os_model *m, const struct os_text_pool *p,
			   uint32_t len, const uint32_t *codes,
			   const struct os_sidindex *trie)
{
	return forward_logp_prefix(m, p, len, codes, trie, NULL);
}

/* The toy model (weights scaled by `scale`, so that its distribution is
 * far from uniform), the full toy index and the query "red cordless
 * drill" in a pool. */
struct toy {
	struct os_model m;
	struct os_sidindex s;
	struct os_text_pool pool;
	struct os_tokens t;
	struct os_vocab vocab;
	uint32_t start;
};

/* Item i's vector for the toy with item vectors: ITEM_DIM values. */
enum { ITEM_DIM = 5 };
static float toy_item_value(size_t i, size_t j)
{
	return (float)cos(3.0 * (double)i + 1.7 * (double)j);
}

/* The toy with `layers` layers; with `every_third`, its index lacks every
 * third item; with `prefix`, the model has that index's prefix vectors
 * (random, as the other weights), and with `prefix` 2 item vectors too
 * (toy_item_value's, a random projection). */
static void toy_make(struct toy *x, double scale, size_t layers,
		     int every_third, int prefix)
{
	struct os_model_config cfg = toy_config();
	uint32_t *paths = NULL;

	toy_index(&x->s, every_third);
	cfg.layers = layers;
	if (prefix)
		cfg.prefix_rows = (size_t)os_prefix_paths(&x->s, &paths);
	cfg.item_dim = prefix == 2 ? ITEM_DIM : 0;
	os_model_init(&x->m, &cfg, 7);
	x->m.prefix_path = paths;
	if (prefix)
		for (size_t i = 0; i < cfg.prefix_rows * cfg.dim; i++)
			x->m.w.nodew[i] = (os_real)(0.02 * sin(7.0 * (double)i + 1));
	if (prefix == 2)
		for (size_t i = 0; i < ITEM_DIM * cfg.dim; i++)
			x->m.w.nodeproj[i] =
			    (os_real)(0.02 * sin(5.0 * (double)i + 2));
	for (size_t i = 0; i < x->m.nparams; i++)
		x->m.params[i] *= (os_real)scale;
	if (prefix == 2) {
		size_t n = os_sidindex_items(&x->s);
		float vec[ITEMS * ITEM_DIM];
		unsigned char has[ITEMS];
		uint32_t *node_row;

		for (size_t i = 0; i < n; i++) {
			has[i] = 1;
			for (size_t j = 0; j < ITEM_DIM; j++)
				vec[i * ITEM_DIM + j] = toy_item_value(i, j);
		}
		os_prefix_node_rows(paths, cfg.prefix_rows, 3, &x->s,
				    &node_row);
		os_prefix_item_means(&x->s, node_row, cfg.prefix_rows, vec, has,
				     ITEM_DIM, x->m.w.nodevec);
		free(node_row);
	}
	os_text_pool_init(&x->pool);
	os_tokens_init(&x->t);
	os_vocab_init(&x->vocab);
	os_tokenize(&x->t, "red cordless drill", 18);
	os_text_pool_add(&x->pool, &cfg, &x->vocab, &x->t, 8, &x->start);
}

static void toy_layers(struct toy *x, double scale, size_t layers)
{
	toy_make(x, scale, layers, 0, 0);
}

static void toy_open(struct toy *x, double scale)
{
	toy_layers(x, scale, toy_config().layers);
}

static void toy_close(struct toy *x)
{
	os_vocab_release(&x->vocab);
	os_tokens_release(&x->t);
	os_text_pool_release(&x->pool);
	os_sidindex_release(&x->s);
	os_model_release(&x->m);
}

static void test_search(void)
{
	struct toy x;
	struct os_decoder d;
	struct os_hit hits[ITEMS];
	double worst = 0, total = 0;
	int sorted = 1, distinct = 1;
	long n;

	toy_open(&x, 20);
	os_decoder_init(&d, &x.m, &x.s, ITEMS);
	n = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS, hits, NULL);
	is_long(n, ITEMS, "a beam as wide as the catalog returns every item");
	for (long i = 0; i < n; i++) {
		const uint32_t *codes = x.s.codes + (size_t)hits[i].item * 3;
		double logp = forward_logp(&x.m, &x.pool, (uint32_t)x.t.n, codes, NULL);

		worst = fmax(worst, fabs(logp - hits[i].score));
		total += exp(hits[i].score);
		if (i && hits[i].score > hits[i - 1].score)
			sorted = 0;
		for (long j = 0; j < i; j++)
			distinct &= hits[j].item != hits[i].item;
	}
	printf("# largest |search - forward| %g, total probability %.9f\n", worst, total);
	ok(worst < 1e-4, "cached search scores equal the full forward pass");
	ok(fabs(total - 1) < 1e-6, "the items' probabilities sum to 1");
	ok(sorted, "results come best first");
	ok(distinct, "results are distinct items");
	n = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, 4, 3, hits, NULL);
	is_long(n, 3, "-k smaller than the beam gives k results");
	os_decoder_release(&d);
	os_sidindex_release(&x.s);
	{
		size_t items = toy_index(&x.s, 1);

		double constrained = 0, full = 0;

		total = 0;
		os_decoder_init(&d, &x.m, &x.s, ITEMS);
		n = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS, hits, NULL);
		for (long i = 0; i < n; i++) {
			const uint32_t *codes = x.s.codes + (size_t)hits[i].item * 3;

			total += exp(hits[i].score);
			constrained = fmax(constrained,
					   fabs(forward_logp(&x.m, &x.pool, (uint32_t)x.t.n,
							     codes, &x.s) -
						hits[i].score));
			full = fmax(full, fabs(forward_logp(&x.m, &x.pool, (uint32_t)x.t.n,
							    codes, NULL) -
					       hits[i].score));
		}
		is_long(n, (long)items, "with prefixes of one child every item still comes");
		ok(fabs(total - 1) < 1e-6, "and the probabilities still sum to 1");
		printf("# largest |search - forward|: constrained %g, over all codes %g\n",
		       constrained, full);
		ok(constrained < 1e-4 && full > 0.01,
		   "the constrained training loss is the search's score, the full one is not");
		os_decoder_release(&d);
	}
	toy_close(&x);
}

/* The largest |search score - constrained forward pass's| over every item
 * of x's index, with the index's prefix vectors or (`node_row` NULL)
 * without them; *n receives the number of results. */
static double prefix_gap(struct toy *x, const uint32_t *node_row, long *n)
{
	struct os_decoder d;
	struct os_hit hits[ITEMS];
	double worst = 0;

	os_decoder_init(&d, &x->m, &x->s, ITEMS);
	*n = os_decoder_search(&d, &x->pool, x->start, (uint32_t)x->t.n, ITEMS,
			       ITEMS, hits, NULL);
	for (long i = 0; i < *n; i++) {
		const uint32_t *codes = x->s.codes + (size_t)hits[i].item * 3;

		worst = fmax(worst,
			     fabs(forward_logp_prefix(&x->m, &x->pool,
						      (uint32_t)x->t.n, codes,
						      &x->s, node_row) -
				  hits[i].score));
	}
	os_decoder_release(&d);
	return worst;
}

/* Prefix vectors: which nodes get one, the search's scores with them
 * equal the training forward pass's, and a model trained on one trie maps
 * its vectors by path onto another. */
static void test_prefix_search(void)
{
	struct toy x;
	uint32_t *node_row, *full_row;
	long n, mapped = 0;
	double with, without;

	toy_make(&x, 20, 2, 0, 1);
	/* every level-2 node (4 siblings each) and every leaf (2 each) */
	is_long((long)x.m.cfg.prefix_rows, K0 * K1 + ITEMS,
		"the full toy index has 36 prefix vectors");
	os_prefix_node_rows(x.m.prefix_path, x.m.cfg.prefix_rows, 3, &x.s,
			    &node_row);
	for (uint32_t node = 0; node < x.s.nnodes; node++)
		mapped += node_row[node] != OS_PREFIX_NONE;
	is_long(mapped, K0 * K1 + ITEMS, "each maps back to its node");
	with = prefix_gap(&x, node_row, &n);
	without = fabs(forward_logp(&x.m, &x.pool, (uint32_t)x.t.n, x.s.codes,
				    &x.s) -
		       forward_logp_prefix(&x.m, &x.pool, (uint32_t)x.t.n,
					   x.s.codes, &x.s, node_row));
	printf("# largest |search - forward| %g; the vectors move item 0's "
	       "log-probability by %g\n",
	       with, without);
	is_long(n, ITEMS, "a search with prefix vectors returns every item");
	ok(with < 1e-4 && without > 0.01,
	   "its scores are the forward pass's with the vectors, not without");
	free(node_row);
	toy_close(&x);

	/* trained on the index without every third item, searched on the
	 * full one: the items it lacked get no vector at their leaf */
	toy_make(&x, 20, 2, 1, 1);
	os_sidindex_release(&x.s);
	toy_index(&x.s, 0);
	os_prefix_node_rows(x.m.prefix_path, x.m.cfg.prefix_rows, 3, &x.s,
			    &full_row);
	mapped = 0;
	for (uint32_t node = 0; node < x.s.nnodes; node++) {
		const uint32_t *path;
		uint32_t depth = 0;
		int same = 1;

		if (full_row[node] == OS_PREFIX_NONE)
			continue;
		path = x.m.prefix_path + (size_t)full_row[node] * 3;
		while (depth < 3 && path[depth] != OS_PREFIX_NONE)
			depth++;
		for (uint32_t up = node; up != 0; up = x.s.parent[up])
			same &= depth > 0 && path[--depth] == x.s.code[up];
		mapped += same && depth == 0;
	}
	is_long(mapped, (long)x.m.cfg.prefix_rows,
		"a changed trie maps every trained vector to the node of its path");
	with = prefix_gap(&x, full_row, &n);
	is_long(n, ITEMS, "the new items are found too");
	ok(with < 1e-4, "and the scores are still the forward pass's");
	free(full_row);
	toy_close(&x);
}

/* Item vectors: each prefix vector's row holds the mean of its items'
 * vectors, the search's scores with them equal the training forward
 * pass's, they move the scores, and they load as saved. */
static void test_item_vectors(void)
{
	struct toy x;
	struct os_model back;
	struct os_error err;
	uint32_t *node_row;
	char path[] = "/tmp/test-decode-XXXXXX";
	int fd = mkstemp(path);
	long n;
	double worst = 0, gap, logp, moved;

	close(fd);
	toy_make(&x, 20, 2, 0, 2);
	os_prefix_node_rows(x.m.prefix_path, x.m.cfg.prefix_rows, 3, &x.s,
			    &node_row);
	for (uint32_t node = 1; node < x.s.nnodes; node++) {
		uint32_t r = node_row[node], depth = 0, path_codes[3];
		double want[ITEM_DIM] = {0};
		size_t count = 0;

		if (r == OS_PREFIX_NONE)
			continue;
		for (uint32_t up = node; up != 0; up = x.s.parent[up])
			depth++;
		for (uint32_t up = node, l = depth; up != 0;
		     up = x.s.parent[up])
			path_codes[--l] = x.s.code[up];
		for (size_t i = 0; i < ITEMS; i++)
			if (!memcmp(x.s.codes + i * 3, path_codes,
				    depth * sizeof *path_codes)) {
				for (size_t j = 0; j < ITEM_DIM; j++)
					want[j] += toy_item_value(i, j);
				count++;
			}
		for (size_t j = 0; j < ITEM_DIM; j++)
			worst =
			    fmax(worst,
				 fabs(want[j] / (double)count -
				      x.m.w.nodevec[(size_t)r * ITEM_DIM + j]));
	}
	ok(worst < 1e-6, "each node's item vector is the mean of its items'");
	gap = prefix_gap(&x, node_row, &n);
	is_long(n, ITEMS, "a search with item vectors returns every item");
	ok(gap < 1e-4,
	   "its scores are the forward pass's with the item vectors");
	logp = forward_logp_prefix(&x.m, &x.pool, (uint32_t)x.t.n, x.s.codes,
				   &x.s, node_row);
	memset(x.m.w.nodeproj, 0,
	       ITEM_DIM * x.m.cfg.dim * sizeof *x.m.w.nodeproj);
	moved = fabs(logp - forward_logp_prefix(&x.m, &x.pool, (uint32_t)x.t.n,
						x.s.codes, &x.s, node_row));
	printf("# the item vectors move item 0's log-probability by %g\n",
	       moved);
	ok(moved > 0.01, "the item vectors change the scores");
	os_model_save(&x.m, path, 0, NULL, 0, &err);
	ok(os_model_load(&back, path, 0, NULL, &err) == 0 &&
	       back.cfg.item_dim == ITEM_DIM && back.nparams == x.m.nparams &&
	       !memcmp(back.params, x.m.params,
		       x.m.nparams * sizeof *x.m.params),
	   "a model with item vectors loads as saved");
	os_model_release(&back);
	free(node_row);
	toy_close(&x);
	unlink(path);
}

/* The search reading the layer matrices transposed (os-search's way)
 * finds the same items with the same scores as the one reading the
 * model's own; in bfloat16, as many items with scores a little rounded
 * (a toy of 3 layers, milder than the others, whose scores bfloat16's
 * rounding moves by little). */
static void test_search_transposed(void)
{
	struct toy x;
	struct os_decoder d;
	struct os_decoder_weights w;
	struct os_hit plain[ITEMS], transposed[ITEMS], rounded[ITEMS];
	double worst = 0, worst16 = 0;
	int same = 1;
	long n, nt, n16;

	toy_layers(&x, 3, 3);
	{ /* biases, which start at 0, too */
		const struct os_model_config *c = &x.m.cfg;
		os_real *bias[] = {x.m.w.qkvb, x.m.w.attprojb, x.m.w.fcb, x.m.w.fcprojb};
		size_t len[] = {3 * c->dim, c->dim, c->ff, c->dim};

		for (size_t b = 0; b < 4; b++)
			for (size_t i = 0; i < c->layers * len[b]; i++)
				bias[b][i] = (os_real)(0.1 * sin(3.0 * (double)(i + b)));
	}
	os_decoder_init(&d, &x.m, &x.s, ITEMS);
	n = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS, plain, NULL);
	ok(os_decoder_weights_init(&w, &x.m, 0) == 0, "the layer matrices transposed");
	d.weights = &w;
	nt = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS,
			       transposed, NULL);
	for (long i = 0; i < n && i < nt; i++) {
		same &= plain[i].item == transposed[i].item;
		worst = fmax(worst, fabs(plain[i].score - transposed[i].score));
	}
	is_long(nt, n, "as many results with the transposed matrices");
	ok(same, "the same items in the same order");
	ok(worst < 1e-4, "with the same scores");
	printf("# largest score difference %g\n", worst);
	os_decoder_weights_release(&w);
	ok(os_decoder_weights_init(&w, &x.m, 1) == 0, "the layer matrices in bfloat16");
	n16 = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS,
				rounded, NULL);
	for (long i = 0; i < n && i < n16; i++)
		worst16 = fmax(worst16, fabs(plain[i].score - rounded[i].score));
	is_long(n16, n, "as many results in bfloat16");
	ok(worst16 > 1e-5 && worst16 < 0.02, "scores rounded by little");
	printf("# largest score difference in bfloat16 %g\n", worst16);
	os_decoder_weights_release(&w);
	os_decoder_release(&d);
	toy_close(&x);
}

/* Sampling: every draw a catalog item with the search's log-probability;
 * at temperature 1 the items come as often as their probabilities say, at
 * a temperature near 0 always the same item. */
static void test_draw(void)
{
	struct toy x;
	struct os_decoder d;
	struct os_hit hits[ITEMS], draws[8];
	struct os_rng rng;
	struct os_sampling how = {1, &rng};
	double p[ITEMS] = {0}, seen[ITEMS] = {0}, tv = 0, worst = 0;
	uint32_t best, greedy;
	long n, rounds = 2000, same = 0;

	toy_open(&x, 4); /* spread out, so that several items are likely */
	os_rng_seed(&rng, 5);
	os_decoder_init(&d, &x.m, &x.s, ITEMS);
	n = os_decoder_search(&d, &x.pool, x.start, (uint32_t)x.t.n, ITEMS, ITEMS, hits, NULL);
	for (long i = 0; i < n; i++)
		p[hits[i].item] = hits[i].score;
	best = hits[0].item;
	for (long r = 0; r < rounds; r++) {
		n = os_decoder_sample(&d, &x.pool, x.start, (uint32_t)x.t.n, 8, &how, draws);
		for (long i = 0; i < n; i++) {
			seen[draws[i].item] += 1.0 / (8.0 * (double)rounds);
			worst = fmax(worst, fabs(draws[i].score - p[draws[i].item]));
		}
	}
	for (size_t i = 0; i < ITEMS; i++)
		tv += fabs(seen[i] - exp(p[i])) / 2;
	printf("# best item p %.3f, total variation %.4f, largest |draw - search| %g\n",
	       exp(p[best]), tv, worst);
	is_long(n, 8, "a draw gives as many SIDs as asked");
	/* the same sums in float, but over batches of other sizes (the draws'
	 * against the beams'): a BLAS may order them otherwise for each */
	ok(worst < 1e-5, "a drawn item's score is its log-probability");
	ok(tv < 0.03, "at temperature 1 the items come as their probabilities say");
	/* near 0 each level takes its likeliest allowed code: one path */
	how.temperature = 0.005;
	greedy = draws[0].item;
	for (long r = 0; r < 100; r++) {
		n = os_decoder_sample(&d, &x.pool, x.start, (uint32_t)x.t.n, 8, &how, draws);
		if (r == 0)
			greedy = draws[0].item;
		for (long i = 0; i < n; i++)
			same += draws[i].item == greedy;
	}
	ok(same == 800, "at a temperature near 0 every draw takes the same path");
	os_decoder_release(&d);
	toy_close(&x);
}

/* Pseudo-queries: k tokens of a text, in order, every subset as likely,
 * each token with its own n-grams. */
static void test_sample(void)
{
	struct os_model_config cfg = toy_config();
	struct os_text_pool src, dst;
	struct os_tokens t;
	struct os_vocab vocab;
	struct os_rng rng;
	uint32_t start, seen[16] = {0};
	int ordered = 1, ngrams = 1;

	os_text_pool_init(&src);
	os_text_pool_init(&dst);
	os_tokens_init(&t);
	os_vocab_init(&vocab);
	os_rng_seed(&rng, 9);
	os_tokenize(&t, "alpha bravo charlie delta", 25);
	os_text_pool_add(&src, &cfg, &vocab, &t, 8, &start);
	for (int i = 0; i < 6000; i++) {
		uint32_t at, mask = 0, prev = 0;

		os_text_pool_clear(&dst);
		os_text_pool_sample(&dst, &src, start, 4, 2, &rng, &at);
		for (uint32_t j = 0; j < 2; j++) {
			uint32_t g = dst.ngram_start[at + j], found = 4;

			/* which source token it is: the one with these n-grams */
			for (uint32_t s = 0; s < 4; s++)
				if (src.ngram_start[s + 1] - src.ngram_start[s] ==
					    dst.ngram_start[at + j + 1] - g &&
				    !memcmp(src.ngram + src.ngram_start[s], dst.ngram + g,
					    (dst.ngram_start[at + j + 1] - g) * sizeof *dst.ngram))
					found = s;
			ngrams &= found < 4;
			ordered &= j == 0 || found > prev;
			prev = found;
			mask |= 1u << found;
		}
		seen[mask & 15]++;
	}
	ok(ngrams, "a sampled token keeps its own n-grams");
	ok(ordered, "sampled tokens keep their order");
	{
		int fair = 1, subsets = 0;

		for (int m = 0; m < 16; m++) {
			if (__builtin_popcount((unsigned)m) != 2)
				continue;
			subsets++;
			fair &= seen[m] > 850 && seen[m] < 1150;
		}
		ok(subsets == 6 && fair, "each of the 6 pairs of 4 tokens comes about 1000 times in 6000");
	}
	os_vocab_release(&vocab);
	os_tokens_release(&t);
	os_text_pool_release(&src);
	os_text_pool_release(&dst);
}

static void test_model_file(void)
{
	struct os_model_config cfg = toy_config();
	struct os_model m, back;
	struct os_error err;
	const char *extra[] = {"stage", "sft"};
	char path[] = "/tmp/test-decode-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	long size;
	unsigned char *bytes;

	close(fd);
	os_model_init(&m, &cfg, 3);
	strcpy(m.fingerprint, "0123456789abcdef");
	ok(os_model_save(&m, path, 0, extra, 1, &err) == 0, "a model saves");
	ok(os_model_load(&back, path, 0, NULL, &err) == 0, "and loads");
	ok(back.nparams == m.nparams &&
	   memcmp(back.params, m.params, m.nparams * sizeof *m.params) == 0 &&
	   !strcmp(back.fingerprint, m.fingerprint) &&
	   !memcmp(&back.cfg, &m.cfg, sizeof m.cfg),
	   "bit for bit, with its configuration and fingerprint");
	os_model_release(&back);
	{
		int same = os_model_map(&back, path, &err) == 0 && back.params == NULL;

		for (size_t i = 0; same && i < os_model_tensor_count(); i++) {
			size_t r, c;
			const os_real *want = os_model_tensor(&m, m.params, i, &r, &c);

			if (r * c == 0)
				continue; /* not in the file: no prefix vectors */
			same = !memcmp(*os_model_tensor_field(&back.w, i), want,
				       r * c * sizeof *want);
		}
		ok(same && !strcmp(back.fingerprint, m.fingerprint),
		   "a mapped model has the same tensors, read in place");
		os_model_release(&back);
	}
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	bytes = malloc((size_t)size);
	if (fread(bytes, 1, (size_t)size, f) != (size_t)size)
		size = 0;
	fclose(f);
	f = fopen(path, "wb");
	fwrite(bytes, 1, (size_t)size / 2, f);
	fclose(f);
	ok(os_model_load(&back, path, 0, NULL, &err) < 0 &&
	   strstr(err.message, "truncated or corrupted"),
	   "a truncated model is refused");
	ok(os_model_map(&back, path, &err) < 0 &&
	   strstr(err.message, "truncated or corrupted"),
	   "also when mapped");
	bytes[size / 3] ^= 0x10;
	f = fopen(path, "wb");
	fwrite(bytes, 1, (size_t)size, f);
	fclose(f);
	ok(os_model_load(&back, path, 0, NULL, &err) < 0 &&
	   strstr(err.message, "truncated or corrupted"),
	   "a model with a flipped bit is refused");
	printf("# %s\n", err.message);
	free(bytes);
	unlink(path);
	os_model_release(&m);
}

/* A model with prefix vectors keeps them and their paths in its file;
 * a file without the setting (from before prefix vectors) loads as a
 * model without them. */
static void test_prefix_file(void)
{
	struct toy x;
	struct os_model back;
	struct os_tensorfile tf;
	struct os_error err;
	const char *kv[64];
	size_t nkv = 0;
	char path[] = "/tmp/test-decode-XXXXXX";
	int fd = mkstemp(path), same;

	close(fd);
	toy_make(&x, 1, 2, 1, 1);
	os_model_save(&x.m, path, 0, NULL, 0, &err);
	same = os_model_load(&back, path, 0, NULL, &err) == 0 &&
	       back.cfg.prefix_rows == x.m.cfg.prefix_rows &&
	       !memcmp(back.params, x.m.params, x.m.nparams * sizeof *x.m.params) &&
	       !memcmp(back.prefix_path, x.m.prefix_path,
		       x.m.cfg.prefix_rows * 3 * sizeof *x.m.prefix_path);
	os_model_release(&back);
	same &= os_model_map(&back, path, &err) == 0 &&
		!memcmp(back.w.nodew, x.m.w.nodew,
			x.m.cfg.prefix_rows * x.m.cfg.dim * sizeof *x.m.w.nodew) &&
		!memcmp(back.prefix_path, x.m.prefix_path,
			x.m.cfg.prefix_rows * 3 * sizeof *x.m.prefix_path);
	os_model_release(&back);
	ok(same, "prefix vectors and their paths load and map as saved");
	toy_close(&x);

	toy_make(&x, 1, 2, 0, 0);
	os_model_save(&x.m, path, 0, NULL, 0, &err);
	os_tensorfile_read(&tf, path, &err);
	for (size_t i = 0; i < tf.nkv && nkv < 32; i++)
		if (strcmp(tf.keys[i], "prefix_rows")) {
			kv[2 * nkv] = tf.keys[i];
			kv[2 * nkv++ + 1] = tf.values[i];
		}
	os_tensorfile_write(path, kv, nkv, tf.tensors, tf.ntensors, &err);
	os_tensorfile_release(&tf);
	ok(os_model_load(&back, path, 0, NULL, &err) == 0 &&
	   back.cfg.prefix_rows == 0 && back.prefix_path == NULL &&
	   !memcmp(back.params, x.m.params, x.m.nparams * sizeof *x.m.params),
	   "a model file without prefix_rows loads without prefix vectors");
	os_model_release(&back);
	toy_close(&x);
	unlink(path);
}

int main(void)
{
	test_trie();
	test_search();
	test_search_transposed();
	test_prefix_search();
	test_item_vectors();
	test_draw();
	test_sample();
	test_model_file();
	test_prefix_file();
	return tap_done();
}
