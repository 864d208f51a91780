/* SPDX-License-Identifier: MIT */
/* test-jsonl: the JSONL reader (lines, positions, errors, --keep-going
 * recovery, line bound, tar members) and the writer (number formats, key
 * order, escapes). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/jsonl.h"
#include "tap.h"

static char dir[] = "/tmp/test-jsonl-XXXXXX";

static char *write_file(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return path;
}

/* Reads every record of `path`, returning a summary string: one letter per
 * event, "o" a record, "E<status>@<line>" an error. */
static const char *events(const char *path, size_t max_line)
{
	static char out[512];
	char *p = path ? (char *)path : NULL;
	struct os_jsonl_reader *r = os_jsonl_reader_new(&p, 1, max_line);
	struct os_error err;
	cJSON *obj;
	int rc;

	out[0] = '\0';
	while ((rc = os_jsonl_reader_next(r, &obj, &err)) != 0) {
		size_t len = strlen(out);

		if (rc > 0) {
			snprintf(out + len, sizeof out - len, "o");
			cJSON_Delete(obj);
		} else {
			snprintf(out + len, sizeof out - len, "E%d@%ld", err.status,
				 err.line);
		}
	}
	os_jsonl_reader_free(r);
	return out;
}

static void test_reader(void)
{
	const char plain[] = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
	const char bad[] = "{\"a\":1}\n[1,2]\n{\"a\":\n\"str\"\n{\"ok\":1}\n";
	const char utf8[] = "{\"a\":\"\xc3\xa9\"}\n{\"a\":\"\xc3\x28\"}\n{\"a\":\"\xed\xa0\x80\"}\n{}\n";
	char *p;
	struct os_jsonl_reader *r;
	struct os_error err;
	cJSON *obj;

	is_str(events(write_file("plain.jsonl", plain, sizeof plain - 1), 0),
	       "ooo", "blank lines skipped, CRLF and a last line without newline read");
	is_str(events(write_file("bad.jsonl", bad, sizeof bad - 1), 0),
	       "oE3@2E3@3E3@4o", "bad lines are errors of status 3 at their lines, reading goes on");
	is_str(events(write_file("utf8.jsonl", utf8, sizeof utf8 - 1), 0),
	       "oE3@2E3@3o", "invalid UTF-8 and surrogates rejected");
	is_str(events(write_file("empty.jsonl", "", 0), 0), "", "empty file: no records");

	{
		char big[300];

		memset(big, ' ', sizeof big);
		memcpy(big, "{\"a\":\"", 6);
		memcpy(big + 200, "\"}\n{\"b\":1}\n", 11);
		is_str(events(write_file("long.jsonl", big, 211), 64), "E3@1o",
		       "a line over the bound is an error, the next line is read");
	}
	is_str(events(dir, 0), "E1@0", "a directory is a runtime error");
	is_str(events("/nonexistent/x.jsonl", 0), "E1@0", "a missing file is a runtime error");

	p = write_file("pos.jsonl", bad, sizeof bad - 1);
	r = os_jsonl_reader_new(&p, 1, 0);
	os_jsonl_reader_next(r, &obj, &err);
	cJSON_Delete(obj);
	os_jsonl_reader_next(r, &obj, &err);
	ok(strstr(err.where, "pos.jsonl") != NULL, "error names the file");
	is_str(err.message, "expected a JSON object, got an array", "non-object message");
	os_jsonl_reader_next(r, &obj, &err);
	is_str(err.message, "malformed JSON at column 6", "malformed JSON message gives the column");
	os_jsonl_reader_free(r);
}

static void test_tar(void)
{
	char cmd[512], path[300], *p = path;
	struct os_jsonl_reader *r;
	struct os_error err;
	cJSON *obj;
	int n = 0;

	write_file("m1.jsonl", "{\"a\":1}\n{\"a\":2}\n", 16);
	write_file("m2.jsonl", "{\"a\":3}\nnope\n", 13);
	snprintf(cmd, sizeof cmd, "cd %s && tar czf shards.tgz m1.jsonl m2.jsonl", dir);
	if (system(cmd) != 0) {
		ok(0, "tar is installed");
		return;
	}
	snprintf(path, sizeof path, "%s/shards.tgz", dir);
	r = os_jsonl_reader_new(&p, 1, 0);
	while (os_jsonl_reader_next(r, &obj, &err) > 0) {
		n++;
		cJSON_Delete(obj);
	}
	is_long(n, 3, "records of every member of a gzipped tar");
	ok(strstr(err.where, "shards.tgz:m2.jsonl") != NULL, "position names archive and member");
	is_long(err.line, 2, "line within the member");
	os_jsonl_reader_free(r);
}

static const char *printed(const cJSON *v)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof buf, "w");

	os_json_write(f, v);
	fclose(f);
	return buf;
}

static void test_writer(void)
{
	char buf[64];
	float v[3] = {0.1f, -2.5f, 1e-8f};
	cJSON *obj = cJSON_Parse("{\"z\":1,\"a\":\"x\\\"y\\n\\u0001\",\"m\":[true,null]}");

	os_json_format_double(buf, sizeof buf, 0.1);
	is_str(buf, "0.1", "0.1 prints as 0.1");
	os_json_format_double(buf, sizeof buf, 9007199254740991.0);
	is_str(buf, "9007199254740991", "integers below 2^53 exact");
	os_json_format_double(buf, sizeof buf, 1.0 / 3.0);
	ok(strtod(buf, NULL) == 1.0 / 3.0, "other doubles read back the same");
	os_json_format_double(buf, sizeof buf, NAN);
	is_str(buf, "null", "NaN prints as null");
	os_json_format_double(buf, sizeof buf, -0.0);
	is_str(buf, "0", "negative zero prints as 0");
	os_json_format_float(buf, sizeof buf, 0.1f);
	is_str(buf, "0.1", "float 0.1 without widening noise");
	os_json_format_float(buf, sizeof buf, 16777217.0f);
	ok(strtof(buf, NULL) == 16777217.0f, "large float reads back");

	is_str(printed(obj), "{\"z\":1,\"a\":\"x\\\"y\\n\\u0001\",\"m\":[true,null]}",
	       "input key order and escapes kept");
	os_json_set(obj, "a", cJSON_CreateNumber(2));
	os_json_set(obj, "new", os_json_float_array(v, 3));
	is_str(printed(obj), "{\"z\":1,\"a\":2,\"m\":[true,null],\"new\":[0.1,-2.5,1e-08]}",
	       "replaced key keeps its place, new key appended, floats short");
	cJSON_Delete(obj);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir))
		return 1;
	test_reader();
	test_tar();
	test_writer();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
