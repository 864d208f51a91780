/* SPDX-License-Identifier: MIT */
/* test-cot: negative constraints found in queries (each cue, keywords as
 * objects, "-free" and "X free", Chinese cues, no false cue at the end of
 * a query), and the "cot" schema: a CoT built by os_cot_new/add passes
 * os_cot_check, each kind of malformed one fails with the field named,
 * and os_cot_keyword_text joins the keywords. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/analyze.h"
#include "lib/cot.h"
#include "lib/negation.h"
#include "tap.h"

static struct os_dict dict;

/* The negations of `query`, their texts joined by '|'. */
static const char *negations(const char *query)
{
	static char out[512];
	struct os_tokens t;
	struct os_keyword_hit hits[32];
	struct os_negation neg[8];
	struct os_error err;
	long nh;
	size_t n;

	os_tokens_init(&t);
	out[0] = '\0';
	if (os_analyze(&t, query, 0, &err) < 0)
		return "error";
	nh = os_dict_find(&dict, &t, hits, 32);
	n = os_negations_find(&t, hits, (size_t)nh, neg, 8);
	for (size_t i = 0; i < n && i < 8; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, neg[i].text);
	}
	os_tokens_release(&t);
	return out;
}

static void test_negations(void)
{
	struct os_error err;

	os_dict_init(&dict, 0);
	os_dict_add(&dict, "material", "stainless steel", "user", 0, &err);
	os_dict_add(&dict, "material", "high fructose corn syrup", "user", 0,
		    &err);
	os_dict_add(&dict, "function", "hands free", "user", 0, &err);
	os_dict_build(&dict);

	is_str(negations("solder without flux"), "flux", "without X");
	is_str(negations("sink without stainless steel trim"), "stainless steel",
	       "the object is the longest keyword there");
	is_str(negations("No BPA water bottle"), "bpa", "no X, case folded");
	is_str(negations("paint not latex"), "latex", "not X");
	is_str(negations("bulbs except led"), "led", "except X");
	is_str(negations("lead-free solder"), "lead", "X-free");
	is_str(negations("sugar free candy"), "sugar", "X free");
	is_str(negations("high fructose corn syrup free soda"),
	       "high fructose corn syrup", "a keyword before free");
	is_str(negations("paint w/o voc"), "voc", "w/o X");
	is_str(negations("不含铅焊锡"), "铅", "不含 X (one character)");
	is_str(negations("无糖饮料"), "糖", "无 X");
	is_str(negations("drill without battery no charger"), "battery|charger",
	       "two negations");
	is_str(negations("say no"), "", "a cue at the end excludes nothing");
	is_str(negations("free shipping drill"), "",
	       "free at the start excludes nothing");
	is_str(negations("cordless drill"), "", "no cue, no negation");
	os_dict_release(&dict);
}

static const char *check(const char *json)
{
	static char msg[sizeof ((struct os_error *)0)->message];
	cJSON *cot = cJSON_Parse(json);
	struct os_error err;

	os_error_clear(&err);
	snprintf(msg, sizeof msg, "%s",
		 os_cot_check(cot, &err) == 0 ? "ok" : err.message);
	cJSON_Delete(cot);
	return msg;
}

static void test_schema(void)
{
	cJSON *cot = os_cot_new("stats"), *rec;
	struct os_error err;
	char *text, buf[64];

	os_cot_set_intent(cot, "drill");
	is_long(os_cot_add(cot, "category", "drill", 8), 1, "a category added");
	is_long(os_cot_add(cot, "category", "drill", 8), 0, "only once");
	is_long(os_cot_add(cot, "category", "", 8), 0, "never empty");
	is_long(os_cot_add_attribute(cot, "brand", "voltix"), 1, "an attribute");
	for (int i = 0; i < 10; i++) {
		char k[8];

		snprintf(k, sizeof k, "k%d", i);
		os_cot_add(cot, "keywords", k, 3);
	}
	is_long(cJSON_GetArraySize(cJSON_GetObjectItem(cot, "keywords")), 3,
		"keywords stop at the limit");
	is_long(os_cot_check(cot, &err), 0, "a built CoT passes the check");
	text = cJSON_PrintUnformatted(cot);
	is_str(text,
	       "{\"intent\":\"drill\",\"category\":[\"drill\"],\"attributes\":"
	       "{\"brand\":[\"voltix\"]},\"negative\":[],\"substitutes\":[],"
	       "\"personal\":[],\"keywords\":[\"k0\",\"k1\",\"k2\"],"
	       "\"backend\":\"stats\"}",
	       "fields in schema order");
	free(text);
	rec = cJSON_CreateObject();
	cJSON_AddItemToObject(rec, "cot", cot);
	is_long(os_cot_keyword_text(rec, buf, sizeof buf, &err), 0,
		"keyword text of a record");
	is_str(buf, "k0 k1 k2", "keywords joined by spaces");
	is_long(os_cot_keyword_text(rec, buf, 5, &err), 0, "cut to size");
	is_str(buf, "k0", "only whole keywords");
	cJSON_DeleteItemFromObject(rec, "cot");
	is_long(os_cot_keyword_text(rec, buf, sizeof buf, &err), 0,
		"a record without a CoT");
	is_str(buf, "", "has no keyword text");
	cJSON_Delete(rec);

	is_str(check("[]"), "\"cot\" must be an object", "not an object");
	is_str(check("{\"category\":[],\"attributes\":{},\"negative\":[],"
		     "\"substitutes\":[],\"personal\":[],\"keywords\":[],"
		     "\"backend\":\"llm\"}"),
	       "\"cot\": \"intent\" must be a string", "no intent");
	is_str(check("{\"intent\":\"x\",\"category\":\"drill\",\"attributes\":{},"
		     "\"negative\":[],\"substitutes\":[],\"personal\":[],"
		     "\"keywords\":[],\"backend\":\"llm\"}"),
	       "\"cot\": \"category\" must be an array of strings",
	       "a list that is a string");
	is_str(check("{\"intent\":\"x\",\"category\":[],\"attributes\":{},"
		     "\"negative\":[1],\"substitutes\":[],\"personal\":[],"
		     "\"keywords\":[],\"backend\":\"llm\"}"),
	       "\"cot\": \"negative\" must hold non-empty strings",
	       "a list of numbers");
	is_str(check("{\"intent\":\"x\",\"category\":[],\"attributes\":"
		     "{\"color\":\"red\"},\"negative\":[],\"substitutes\":[],"
		     "\"personal\":[],\"keywords\":[],\"backend\":\"llm\"}"),
	       "\"cot\": \"attributes\" must be an array of strings",
	       "an attribute that is not a list");
	is_str(check("{\"intent\":\"x\",\"category\":[],\"attributes\":{},"
		     "\"negative\":[],\"substitutes\":[],\"personal\":[],"
		     "\"keywords\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
		     "\"8\",\"9\"],\"backend\":\"llm\"}"),
	       "\"cot\": more than 8 keywords", "nine keywords");
	is_str(check("{\"intent\":\"x\",\"category\":[],\"attributes\":{},"
		     "\"negative\":[],\"substitutes\":[],\"personal\":[],"
		     "\"keywords\":[\"a\"],\"backend\":\"llm\",\"extra\":1}"),
	       "ok", "unknown fields are allowed");
}

int main(void)
{
	test_negations();
	test_schema();
	return tap_done();
}
