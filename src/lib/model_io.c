/* SPDX-License-Identifier: MIT */
/* model_io.c: models and checkpoints to and from files (see model_io.h). */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"
#include "number.h"
#include "prefix.h"

_Static_assert(sizeof(os_real) == sizeof(float),
	       "model files hold float32 parameters");

#define FORMAT_NAME "onesearch-sid-generator"
/* What user tokens hold (see os_generative_query_text): with the
 * history's brands. Files of models with user tokens from before have no
 * user_layout: they read no brands. */
#define USER_LAYOUT "2"

/* The configuration as settings: 2 * CONFIG_KEYS strings in `kv`, their
 * text in `text`. */
enum { CONFIG_KEYS = 15 };

/* The tensor naming each prefix vector by its path (prefix.h): codes as
 * float32 (exact below 2^24), -1 after the node's depth. */
#define PREFIX_PATHS "prefix_paths"

static void config_settings(const struct os_model *m, const char **kv,
			    char text[][160])
{
	const struct os_model_config *c = &m->cfg;
	static const char *const keys[CONFIG_KEYS] = {
		"format", "words", "buckets", "levels", "codes", "dim",
		"layers", "heads", "ff", "context", "fingerprint",
		"user_history", "user_layout", "prefix_rows", "item_dim"};
	size_t values[] = {c->words, c->buckets, c->levels, 0, c->dim,
			   c->layers, c->heads, c->ff, c->context};

	for (size_t i = 0; i < CONFIG_KEYS; i++)
		kv[2 * i] = keys[i];
	snprintf(text[0], 160, "%s", FORMAT_NAME);
	for (size_t i = 1; i < 10; i++)
		snprintf(text[i], 160, "%zu", values[i - 1]);
	text[4][0] = 0;
	for (size_t l = 0; l < c->levels; l++) {
		size_t len = strlen(text[4]);

		snprintf(text[4] + len, 160 - len, "%s%zu", l ? "," : "", c->codes[l]);
	}
	snprintf(text[10], 160, "%s", m->fingerprint);
	snprintf(text[11], 160, "%zu", c->user_history);
	snprintf(text[12], 160, "%s", USER_LAYOUT);
	snprintf(text[13], 160, "%zu", c->prefix_rows);
	snprintf(text[14], 160, "%zu", c->item_dim);
	for (size_t i = 0; i < CONFIG_KEYS; i++)
		kv[2 * i + 1] = text[i];
}

/* The prefix vectors' paths as PREFIX_PATHS holds them; NULL when out of
 * memory. */
static float *paths_to_floats(const struct os_model *m)
{
	size_t n = m->cfg.prefix_rows * m->cfg.levels;
	float *f = malloc((n ? n : 1) * sizeof *f);

	if (f)
		for (size_t i = 0; i < n; i++)
			f[i] = m->prefix_path[i] == OS_PREFIX_NONE
				       ? -1.0f
				       : (float)m->prefix_path[i];
	return f;
}

int os_model_save(const struct os_model *m, const char *path,
		  int with_optimizer, const char *const *extra, size_t nextra,
		  struct os_error *err)
{
	size_t nt = os_model_tensor_count(), copies = with_optimizer ? 3 : 1;
	size_t nkv = CONFIG_KEYS + nextra, k = 0;
	const char **kv = malloc(2 * nkv * sizeof *kv);
	struct os_tensor *t = calloc(nt * copies + 1, sizeof *t);
	char text[CONFIG_KEYS][160], (*names)[96] = malloc(nt * copies * sizeof *names);
	float *paths = paths_to_floats(m);
	int rc = -1;

	if (!kv || !t || !names || !paths) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto done;
	}
	config_settings(m, kv, text);
	for (size_t i = 0; i < 2 * nextra; i++)
		kv[2 * CONFIG_KEYS + i] = extra[i];
	for (size_t c = 0; c < copies; c++) {
		os_real *block = c == 0 ? m->params : c == 1 ? m->adam_m : m->adam_v;
		static const char *const prefix[] = {"", "adam_m.", "adam_v."};

		for (size_t i = 0; i < nt; i++) {
			struct os_tensor *ti = &t[k];
			size_t rows, cols;

			ti->data = os_model_tensor(m, block, i, &rows, &cols);
			/* a tensor without values (no prefix vectors) is left
			 * out, as in the files of models from before it; a
			 * fixed one has no moments */
			if (rows * cols == 0 ||
			    (c && !os_model_tensor_trained(i)))
				continue;
			snprintf(names[k], sizeof *names, "%s%s", prefix[c],
				 os_model_tensor_name(i));
			ti->name = names[k];
			ti->ndims = 2;
			ti->dims[0] = rows;
			ti->dims[1] = cols;
			k++;
		}
	}
	if (m->cfg.prefix_rows)
		t[k++] = (struct os_tensor){PREFIX_PATHS, 2,
					    {m->cfg.prefix_rows, m->cfg.levels},
					    paths};
	rc = os_tensorfile_write(path, kv, nkv, t, k, err);
done:
	free(kv);
	free(t);
	free(names);
	free(paths);
	return rc;
}

/* Reads setting `key` as an integer in [lo, hi] into *v. */
static int setting_in(const struct os_tensorfile *tf, const char *key,
		      long lo, long hi, size_t *v)
{
	const char *s = os_tensorfile_get(tf, key);
	long n;

	if (!s || os_parse_long(s, strlen(s), &n) < 0 || n < lo || n > hi)
		return -1;
	*v = (size_t)n;
	return 0;
}

/* Reads setting `key` as a positive integer into *v. */
static int setting_size(const struct os_tensorfile *tf, const char *key,
			size_t *v)
{
	return setting_in(tf, key, 1, LONG_MAX, v);
}

static int read_config(const struct os_tensorfile *tf,
		       struct os_model_config *c, char fingerprint[17])
{
	const char *codes = os_tensorfile_get(tf, "codes");
	const char *fp = os_tensorfile_get(tf, "fingerprint");
	const char *format = os_tensorfile_get(tf, "format");

	memset(c, 0, sizeof *c);
	if (!format || strcmp(format, FORMAT_NAME) || !codes || !fp ||
	    strlen(fp) > 16 || setting_size(tf, "words", &c->words) < 0 ||
	    setting_size(tf, "buckets", &c->buckets) < 0 ||
	    setting_size(tf, "levels", &c->levels) < 0 ||
	    setting_size(tf, "dim", &c->dim) < 0 ||
	    setting_size(tf, "layers", &c->layers) < 0 ||
	    setting_size(tf, "heads", &c->heads) < 0 ||
	    setting_size(tf, "ff", &c->ff) < 0 ||
	    setting_size(tf, "context", &c->context) < 0 ||
	    c->levels > OS_MODEL_MAX_LEVELS)
		return -1;
	for (size_t l = 0; l < c->levels; l++) {
		char *end;
		unsigned long k = strtoul(codes, &end, 10);

		if (end == codes || k == 0 || k > (1ul << 24) ||
		    *end != (l + 1 < c->levels ? ',' : 0))
			return -1;
		c->codes[l] = k;
		codes = end + (*end == ',');
	}
	/* absent in the files of models from before user tokens, prefix
	 * vectors and item vectors */
	if (os_tensorfile_get(tf, "user_history") &&
	    setting_in(tf, "user_history", 0, OS_USER_HISTORY_MAX, &c->user_history) < 0)
		return -1;
	if (os_tensorfile_get(tf, "prefix_rows") &&
	    setting_in(tf, "prefix_rows", 0, INT32_MAX, &c->prefix_rows) < 0)
		return -1;
	if (os_tensorfile_get(tf, "item_dim") &&
	    setting_in(tf, "item_dim", 0, 65536, &c->item_dim) < 0)
		return -1;
	strcpy(fingerprint, fp);
	return os_model_config_check(c) ? -1 : 0;
}

/* The configuration of the model file `path`, or -1 with err. */
static int load_config(const struct os_tensorfile *tf, const char *path,
		       struct os_model_config *c, char fingerprint[17],
		       struct os_error *err)
{
	const char *layout = os_tensorfile_get(tf, "user_layout");

	if (read_config(tf, c, fingerprint) < 0) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: not a onesearch model (missing or bad settings)",
			     path);
		return -1;
	}
	if (c->user_history && (!layout || strcmp(layout, USER_LAYOUT))) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: its user tokens are those of an older "
			     "os-distill (without brands); train it again",
			     path);
		return -1;
	}
	return 0;
}

/* The file's tensor `name` (shape rows x cols), or NULL with
 * err when it is missing or of another shape. */
static const struct os_tensor *
find_tensor(const struct os_tensorfile *tf, const char *name, size_t rows,
	    size_t cols, const char *path, struct os_error *err)
{
	const struct os_tensor *t = os_tensorfile_find(tf, name);

	if (!t || t->ndims != 2 || t->dims[0] != rows || t->dims[1] != cols) {
		os_error_set(err, OS_EXIT_FAILURE,
			     "%s: tensor '%s' is missing or has the wrong shape",
			     path, name);
		return NULL;
	}
	return t;
}

/* Reads the prefix vectors' paths into m->prefix_path: each an integer
 * code of its level, then -1 to the end, at least one code. */
static int read_prefix_paths(const struct os_tensorfile *tf,
			     struct os_model *m, const char *path,
			     struct os_error *err)
{
	const struct os_model_config *c = &m->cfg;
	const struct os_tensor *t;
	size_t L = c->levels;

	if (!c->prefix_rows)
		return 0;
	if (!(t = find_tensor(tf, PREFIX_PATHS, c->prefix_rows, L, path, err)))
		return -1;
	if (!(m->prefix_path = malloc(c->prefix_rows * L * sizeof *m->prefix_path))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < c->prefix_rows; r++) {
		const float *f = t->data + r * L;
		uint32_t *dst = m->prefix_path + r * L;
		size_t depth = 0;

		while (depth < L && f[depth] >= 0 &&
		       f[depth] < (float)c->codes[depth] &&
		       f[depth] == (float)(uint32_t)f[depth]) {
			dst[depth] = (uint32_t)f[depth];
			depth++;
		}
		for (size_t l = depth; l < L; l++) {
			if (f[l] != -1.0f || depth == 0) {
				os_error_set(err, OS_EXIT_FAILURE,
					     "%s: prefix vector %zu has a bad path",
					     path, r);
				return -1;
			}
			dst[l] = OS_PREFIX_NONE;
		}
	}
	return 0;
}

int os_model_load(struct os_model *m, const char *path, int with_optimizer,
		  struct os_tensorfile *settings, struct os_error *err)
{
	struct os_tensorfile tf;
	struct os_model_config cfg;
	char fingerprint[17];
	size_t nt = os_model_tensor_count();
	int has_moments;

	memset(m, 0, sizeof *m);
	if (os_tensorfile_read(&tf, path, err) < 0)
		return -1;
	if (load_config(&tf, path, &cfg, fingerprint, err) < 0)
		goto fail;
	has_moments = with_optimizer && os_tensorfile_find(&tf, "adam_m.wte");
	if (os_model_alloc(m, &cfg) < 0 ||
	    (has_moments && (!(m->adam_m = malloc(m->nparams * sizeof(float))) ||
			     !(m->adam_v = malloc(m->nparams * sizeof(float)))))) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		goto fail;
	}
	strcpy(m->fingerprint, fingerprint);
	for (size_t c = 0; c < (has_moments ? 3u : 1u); c++) {
		os_real *block = c == 0 ? m->params : c == 1 ? m->adam_m : m->adam_v;
		static const char *const prefix[] = {"", "adam_m.", "adam_v."};

		for (size_t i = 0; i < nt; i++) {
			char name[96];
			size_t rows, cols;
			os_real *dst = os_model_tensor(m, block, i, &rows, &cols);
			const struct os_tensor *t;

			snprintf(name, sizeof name, "%s%s", prefix[c], os_model_tensor_name(i));
			if (rows * cols == 0 ||
			    (c && !os_model_tensor_trained(i)))
				continue; /* left out of the file */
			if (!(t = find_tensor(&tf, name, rows, cols, path, err)))
				goto fail;
			memcpy(dst, t->data, rows * cols * sizeof *dst);
		}
	}
	if (read_prefix_paths(&tf, m, path, err) < 0)
		goto fail;
	if (settings) {
		/* the settings outlive the file's bytes */
		free(tf.buf);
		tf.buf = NULL;
		for (size_t i = 0; i < tf.ntensors; i++)
			tf.tensors[i].data = NULL;
		*settings = tf;
	}
	else
		os_tensorfile_release(&tf);
	return 0;
fail:
	os_model_release(m);
	os_tensorfile_release(&tf);
	return -1;
}

static void release_mapped(void *file)
{
	os_tensorfile_release(file);
	free(file);
}

int os_model_map(struct os_model *m, const char *path, struct os_error *err)
{
	struct os_tensorfile *tf = malloc(sizeof *tf);
	size_t r, c;

	memset(m, 0, sizeof *m);
	if (!tf) {
		os_error_set(err, OS_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (os_tensorfile_map(tf, path, err) < 0) {
		free(tf);
		return -1;
	}
	m->file = tf;
	m->release_file = release_mapped;
	if (load_config(tf, path, &m->cfg, m->fingerprint, err) < 0)
		goto fail;
	for (size_t i = 0; i < os_model_tensor_count(); i++) {
		const struct os_tensor *t;

		os_model_tensor_shape(&m->cfg, i, &r, &c);
		if (r * c == 0)
			continue; /* left out of the file */
		if (!(t = find_tensor(tf, os_model_tensor_name(i), r, c, path, err)))
			goto fail;
		*os_model_tensor_field(&m->w, i) = (os_real *)t->data;
		m->nparams += r * c;
	}
	if (read_prefix_paths(tf, m, path, err) < 0)
		goto fail;
	return 0;
fail:
	os_model_release(m);
	return -1;
}
