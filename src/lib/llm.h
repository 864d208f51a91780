/* SPDX-License-Identifier: MIT */
/* llm.h: os-cot's "llm" backend: the CoT prompt sent to an OpenAI-
 * compatible chat endpoint (POST, JSON, /v1/chat/completions) with
 * libcurl, several requests in flight at once.
 *
 * A request that times out, cannot connect, or gets HTTP 429 or 5xx is
 * tried again after a pause that doubles each time (from `backoff`
 * seconds, or the server's Retry-After when longer); so is a bad answer
 * (see cot_answer.h). Other HTTP errors are final. TLS certificates are
 * verified. The API key goes in the Authorization header and nowhere
 * else: no message ever holds it. */
#ifndef OS_LLM_H
#define OS_LLM_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

struct os_llm_options {
	const char *endpoint; /* the full URL to POST to */
	const char *model;    /* "model" of the request */
	const char *api_key;  /* or NULL: no Authorization header */
	const char *prompt;   /* the template: {{query}}, {{history}} and
			       * {{profile}} are replaced */
	double timeout;       /* seconds a request may take */
	double backoff;       /* seconds before the first retry */
	long retries;         /* tries after the first */
	long parallel;        /* requests in flight */
};

struct os_llm_job {
	const char *query;
	const char *history; /* the user's recent items, as text, or NULL */
	const cJSON *profile; /* the user's profile, or NULL */
	cJSON *cot;          /* the answer, or NULL with err set */
	struct os_error err;
	int tries;
};

/* Answers the jobs. Returns 0 when each job has its cot or its err, or
 * -1 with err when the run as a whole failed (libcurl, memory). */
int os_llm_run(const struct os_llm_options *o, struct os_llm_job *jobs,
	       size_t n, struct os_error *err);

/* The prompt of a job: the template with its fields filled (malloc'd). */
char *os_llm_prompt(const char *template, const struct os_llm_job *job);

#endif
