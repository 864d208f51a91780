/* SPDX-License-Identifier: MIT */
/* llm.c: chat completions over HTTP with libcurl's multi interface (see
 * llm.h): a queue of jobs, at most `parallel` transfers at once, retries
 * scheduled by time. */
#include "config.h"

#include "llm.h"

#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cot_answer.h"
#include "grow.h"

/* The longest response body kept. */
#define MAX_BODY ((size_t)16 << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the prompt ---- */

char *os_llm_prompt(const char *template, const struct os_llm_job *job)
{
	struct os_text t = {0};
	char *profile = job->profile ? cJSON_PrintUnformatted(job->profile) : NULL;
	const char *p = template;
	int failed = os_text_add(&t, "", 0);

	while (!failed && *p) {
		const char *field = strstr(p, "{{");
		const char *value = NULL;
		size_t skip = 0;

		if (!field) {
			failed = os_text_add(&t, p, strlen(p));
			break;
		}
		if (strncmp(field, "{{query}}", 9) == 0)
			value = job->query, skip = 9;
		else if (strncmp(field, "{{history}}", 11) == 0)
			value = job->history ? job->history : "none", skip = 11;
		else if (strncmp(field, "{{profile}}", 11) == 0)
			value = profile ? profile : "none", skip = 11;
		else
			skip = 2, value = "{{"; /* not a field: kept */
		failed = os_text_add(&t, p, (size_t)(field - p)) < 0 ||
			 os_text_add(&t, value, strlen(value)) < 0;
		p = field + skip;
	}
	free(profile);
	if (failed) {
		free(t.s);
		return NULL;
	}
	return t.s;
}

/* The request body: {"model","messages":[{"role":"user","content"}],
 * "temperature":0}. */
static char *request_body(const struct os_llm_options *o,
			  const struct os_llm_job *job)
{
	char *prompt = os_llm_prompt(o->prompt, job), *body = NULL;
	cJSON *req = cJSON_CreateObject(), *messages, *msg;

	if (!prompt || !req || !cJSON_AddStringToObject(req, "model", o->model) ||
	    !(messages = cJSON_AddArrayToObject(req, "messages")) ||
	    !(msg = cJSON_CreateObject()) ||
	    !cJSON_AddItemToArray(messages, msg) ||
	    !cJSON_AddStringToObject(msg, "role", "user") ||
	    !cJSON_AddStringToObject(msg, "content", prompt) ||
	    !cJSON_AddNumberToObject(req, "temperature", 0))
		goto out;
	body = cJSON_PrintUnformatted(req);
out:
	cJSON_Delete(req);
	free(prompt);
	return body;
}

/* ---- transfers ---- */

struct transfer {
	CURL *easy;
	struct os_llm_job *job;
	char *request;
	struct os_text response;
	int overflow;
};

static size_t on_data(char *data, size_t size, size_t count, void *ctx)
{
	struct transfer *x = ctx;
	size_t len = size * count;

	if (x->response.n + len > MAX_BODY) {
		x->overflow = 1;
		return 0; /* curl stops the transfer */
	}
	return os_text_add(&x->response, data, len) < 0 ? 0 : len;
}

/* A job waiting to be sent, at `not_before`. */
struct pending {
	struct os_llm_job *job;
	double not_before;
};

struct run {
	const struct os_llm_options *o;
	CURLM *multi;
	struct curl_slist *headers;
	struct transfer *x; /* (parallel) */
	size_t active;
	struct pending *queue;
	size_t nqueue;
};

static int start(struct run *r, struct os_llm_job *job)
{
	const struct os_llm_options *o = r->o;
	struct transfer *x = NULL;

	for (long i = 0; i < o->parallel; i++)
		if (!r->x[i].job) {
			x = &r->x[i];
			break;
		}
	if (!x)
		return -1;
	memset(x, 0, sizeof *x);
	if (!(x->easy = curl_easy_init()) ||
	    !(x->request = request_body(o, job))) {
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
		return -1;
	}
	x->job = job;
	job->tries++;
	curl_easy_setopt(x->easy, CURLOPT_URL, o->endpoint);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->request);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(r->multi, x->easy) != CURLM_OK) {
		curl_easy_cleanup(x->easy);
		free(x->request);
		memset(x, 0, sizeof *x);
		return -1;
	}
	r->active++;
	return 0;
}

static void finish(struct run *r, struct transfer *x)
{
	curl_multi_remove_handle(r->multi, x->easy);
	curl_easy_cleanup(x->easy);
	free(x->request);
	free(x->response.s);
	memset(x, 0, sizeof *x);
	r->active--;
}

/* Queues the job again after its pause, or gives up with `why`. */
static void retry(struct run *r, struct os_llm_job *job, double retry_after,
		  const struct os_error *why)
{
	const struct os_llm_options *o = r->o;
	double pause = o->backoff * pow(2, job->tries - 1);

	if (job->tries > o->retries) {
		job->err = *why;
		if (job->tries > 1)
			os_error_set(&job->err, why->status, "%s (after %d tries)",
				     why->message, job->tries);
		return;
	}
	if (pause > 30)
		pause = 30;
	if (retry_after > pause) /* the server's word, within reason */
		pause = retry_after < 60 ? retry_after : 60;
	r->queue[r->nqueue++] = (struct pending){job, now() + pause};
}

/* What a finished transfer means for its job. */
static void judge(struct run *r, struct transfer *x, CURLcode rc)
{
	struct os_llm_job *job = x->job;
	struct os_error why, bad;
	long status = 0;
	curl_off_t after = 0;

	os_error_clear(&why);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &after);
	if (rc != CURLE_OK) {
		os_error_set(&why, OS_EXIT_FAILURE, "llm: %s",
			     x->overflow ? "the answer is too long"
					 : curl_easy_strerror(rc));
		retry(r, job, 0, &why);
	} else if (status == 429 || status >= 500) {
		os_error_set(&why, OS_EXIT_FAILURE, "llm: HTTP %ld", status);
		retry(r, job, (double)after, &why);
	} else if (status != 200) {
		os_error_set(&job->err, OS_EXIT_FAILURE, "llm: HTTP %ld", status);
	} else if (!(job->cot = os_cot_answer_parse(x->response.s ? x->response.s : "",
						     x->response.n, &bad))) {
		os_error_set(&why, bad.status, "llm: bad answer: %s", bad.message);
		retry(r, job, 0, &why);
	}
}

static void collect(struct run *r)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(r->multi, &left))) {
		struct transfer *x;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		judge(r, x, msg->data.result);
		finish(r, x);
	}
}

/* Starts the queued jobs whose time has come, while there is room. */
static int start_ready(struct run *r, double *next)
{
	double t = now();

	*next = INFINITY;
	for (size_t i = 0; i < r->nqueue;) {
		if (r->queue[i].not_before > t) {
			*next = fmin(*next, r->queue[i].not_before);
			i++;
			continue;
		}
		if (r->active == (size_t)r->o->parallel)
			return 0;
		if (start(r, r->queue[i].job) < 0)
			return -1;
		r->queue[i] = r->queue[--r->nqueue];
	}
	return 0;
}

static int add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *l = curl_slist_append(*list, h);

	if (!l)
		return -1;
	*list = l;
	return 0;
}

int os_llm_run(const struct os_llm_options *o, struct os_llm_job *jobs,
	       size_t n, struct os_error *err)
{
	struct run r = {.o = o};
	char *auth = NULL;
	int rc = -1;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		os_error_set(err, OS_EXIT_FAILURE, "llm: libcurl cannot start");
		return -1;
	}
	r.multi = curl_multi_init();
	r.x = calloc((size_t)o->parallel, sizeof *r.x);
	r.queue = malloc((n ? n : 1) * sizeof *r.queue);
	if (o->api_key && (auth = malloc(strlen(o->api_key) + 32)))
		sprintf(auth, "Authorization: Bearer %s", o->api_key);
	if (!r.multi || !r.x || !r.queue || (o->api_key && !auth) ||
	    add_header(&r.headers, "Content-Type: application/json") < 0 ||
	    (auth && add_header(&r.headers, auth) < 0))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		jobs[i].cot = NULL;
		jobs[i].tries = 0;
		os_error_clear(&jobs[i].err);
		r.queue[r.nqueue++] = (struct pending){&jobs[i], 0};
	}
	while (r.nqueue || r.active) {
		double next;
		int running, wait_ms;

		if (start_ready(&r, &next) < 0)
			goto oom;
		if (curl_multi_perform(r.multi, &running) != CURLM_OK)
			goto oom;
		collect(&r);
		wait_ms = isinf(next) ? 200 : (int)fmax(1, (next - now()) * 1000);
		if (wait_ms > 200)
			wait_ms = 200;
		if (r.active && curl_multi_poll(r.multi, NULL, 0, wait_ms, NULL) !=
				    CURLM_OK)
			goto oom;
		if (!r.active && r.nqueue && !isinf(next)) {
			struct timespec ts = {0, (long)wait_ms * 1000000L};

			nanosleep(&ts, NULL);
		}
	}
	rc = 0;
	goto out;
oom:
	os_error_set(err, OS_EXIT_FAILURE, "llm: out of memory");
out:
	for (long i = 0; r.x && i < o->parallel; i++)
		if (r.x[i].job)
			finish(&r, &r.x[i]);
	curl_multi_cleanup(r.multi);
	curl_slist_free_all(r.headers);
	if (auth) {
		memset(auth, 0, strlen(auth)); /* the key leaves no copy */
		free(auth);
	}
	free(r.x);
	free(r.queue);
	curl_global_cleanup();
	return rc;
}
