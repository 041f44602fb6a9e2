// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the grant store's journal and index on the host (tests/host_agent.h): a
 * change is one line appended to grants.json.journal, not the whole store rewritten; a
 * restart replays the lines over the state file and folds them into it; a torn line and
 * lines the state file already holds are skipped, a gap in the lines' numbers refuses the
 * load; the journal is folded once it has
 * half as many lines as the store has grants; grant_find finds every id, also in a state file
 * out of id order; image_sync_all writes one key per (resource, uid) with its best grant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "host_agent.h"
#include "image.h"
#include "testlib.h"
#include "util.h"

#define ADMIN 2

static struct agent a;

static json_t *call(uid_t uid, const char *line)
{
	return host_call(&a, uid, line, strlen(line));
}

static int64_t grant(const char *res, uid_t uid, int dur)
{
	char line[256];
	json_t *r;
	int64_t id;

	snprintf(line, sizeof(line),
		 "{\"op\":\"grant\",\"resource\":\"%s\",\"uid\":%u,\"duration_s\":%d,"
		 "\"reason\":\"CHG-1\"}",
		 res, uid, dur);
	r = call(ADMIN, line);
	id = json_is_true(json_object_get(r, "ok"))
		     ? json_integer_value(json_object_get(json_object_get(r, "grant"), "id"))
		     : -1;
	json_decref(r);
	return id;
}

static bool revoke_id(int64_t id)
{
	char line[128];
	json_t *r;
	bool ok;

	snprintf(line, sizeof(line), "{\"op\":\"revoke\",\"id\":%lld}", (long long)id);
	r = call(ADMIN, line);
	ok = json_is_true(json_object_get(r, "ok"));
	json_decref(r);
	return ok;
}

static void fresh(void)
{
	if (host_agent_reset(&a, host_policy))
		abort();
}

static char *path_of(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", a.state_dir, name);
	return path;
}

static long file_size(const char *name)
{
	struct stat st;

	return stat(path_of(name), &st) ? -1 : st.st_size;
}

static long count_lines(const char *name)
{
	FILE *f = fopen(path_of(name), "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Free the store and load it again from the state directory, as a restart does. */
static int restart(void)
{
	grant_store_free(&a.grants);
	memset(&a.grants, 0, sizeof(a.grants));
	host_img.n = 0;
	host_img.n_uses = 0;
	return grant_store_load(&a.grants, a.state_dir) ?: image_sync_all(&a);
}

static void a_change_is_one_journal_line_not_the_whole_store(void)
{
	long before;

	fresh();
	CHECK(grant("etc", 1, 600) > 0, "first grant refused");
	CHECK(grant("etc", 5, 600) > 0, "second grant refused");
	CHECK_INT(count_lines("grants.json.journal"), 2);
	before = file_size("grants.json");
	CHECK(revoke_id(1), "revoke refused");
	CHECK_INT(count_lines("grants.json.journal"), 3);
	CHECK_INT(file_size("grants.json"), before);
}

static void a_restart_replays_the_journal_and_folds_it_in(void)
{
	char *before, *after;
	size_t img;
	int64_t id;

	fresh();
	CHECK(grant("etc", 1, 600) > 0, "grant refused");
	id = grant("db", 5, 600);
	CHECK(id > 0 && grant("psql", 5, 900) > 0, "grants refused");
	CHECK(revoke_id(id), "revoke refused");
	before = host_store_text(&a);
	img = host_img.n;
	CHECK_INT(restart(), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	CHECK_INT(host_img.n, img);
	/* folded: the state file has it all, the journal is empty */
	CHECK(file_size("grants.json.journal") <= 0, "journal not emptied after a replay");
	free(after);
	CHECK_INT(restart(), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	/* ids go on after the journal's */
	CHECK_INT(grant("etc", 5, 60), id + 2);
	free(before);
	free(after);
}

static void a_torn_last_line_is_skipped(void)
{
	char *before, *after;
	int fd;

	fresh();
	CHECK(grant("etc", 1, 600) > 0, "grant refused");
	before = host_store_text(&a);
	fd = open(path_of("grants.json.journal"), O_WRONLY | O_APPEND);
	CHECK(fd >= 0, "no journal");
	CHECK_INT(write(fd, "{\"seq\":99,\"boot_id\":\"x\",\"grant\":{\"id\":7", 40), 40);
	close(fd);
	CHECK_INT(restart(), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	free(before);
	free(after);
}

/* A line whose seq the state file has is older than the file: replaying it would bring a
 * revoked grant back. */
static void lines_the_state_file_holds_are_not_replayed(void)
{
	char line[8192];
	FILE *f;
	int64_t id;

	fresh();
	id = grant("etc", 1, 600);
	CHECK(id > 0, "grant refused");
	f = fopen(path_of("grants.json.journal"), "r");
	CHECK(f && fgets(line, sizeof(line), f), "no journal line");
	fclose(f);
	CHECK(revoke_id(id), "revoke refused");
	CHECK_INT(grant_store_save(&a.grants), 0);
	CHECK(file_size("grants.json.journal") == 0, "journal not emptied by a whole write");
	f = fopen(path_of("grants.json.journal"), "a");
	CHECK(f && fputs(line, f) >= 0, "cannot put the old line back");
	fclose(f);
	CHECK_INT(restart(), 0);
	CHECK_STR(req_state_name(grant_find(&a.grants, id)->state), "revoked");
}

/* Append text to the journal as it is. */
static void journal_put(const char *text)
{
	FILE *f = fopen(path_of("grants.json.journal"), "a");

	CHECK(f && fputs(text, f) >= 0, "cannot write the journal");
	if (f)
		fclose(f);
}

/* The journal's line n (1-based), in line. */
static bool journal_get(int n, char *line, size_t len)
{
	FILE *f = fopen(path_of("grants.json.journal"), "r");
	bool got = false;

	while (f && n-- > 0)
		got = fgets(line, (int)len, f) != NULL;
	if (f)
		fclose(f);
	return got;
}

/* A change answered and then lost (a line missing: the next seq is not the one after) or a
 * line without a seq: the replay stops and the store does not load (fail closed), instead
 * of enforcing what the lines after the gap say over what is missing. */
static void a_gap_in_the_journal_refuses_the_load(void)
{
	char l1[8192], l2[8192], l3[8192];

	fresh();
	CHECK(grant("etc", 1, 600) > 0 && grant("etc", 5, 600) > 0, "grants refused");
	CHECK(revoke_id(1), "revoke refused");
	CHECK(journal_get(1, l1, sizeof(l1)) && journal_get(2, l2, sizeof(l2)) &&
		      journal_get(3, l3, sizeof(l3)),
	      "no three journal lines");
	/* line 2 lost: 1 then 3 */
	CHECK(truncate(path_of("grants.json.journal"), 0) == 0, "truncate");
	journal_put(l1);
	journal_put(l3);
	CHECK_INT(restart(), -EINVAL);
	/* a line without a seq */
	fresh();
	CHECK(grant("etc", 1, 600) > 0, "grant refused");
	journal_put("{\"boot_id\":\"x\",\"grant\":{\"id\":9}}\n");
	CHECK_INT(restart(), -EINVAL);
}

/* A write jitd cut back but could not cut (its change was not answered, and took no seq)
 * followed by later lines: skipped, the lines after it replayed. */
static void a_torn_line_inside_the_journal_is_skipped_when_no_seq_is_missing(void)
{
	char l1[8192], l2[8192], *before, *after;

	fresh();
	CHECK(grant("etc", 1, 600) > 0 && grant("etc", 5, 600) > 0, "grants refused");
	before = host_store_text(&a);
	CHECK(journal_get(1, l1, sizeof(l1)) && journal_get(2, l2, sizeof(l2)), "no lines");
	CHECK(truncate(path_of("grants.json.journal"), 0) == 0, "truncate");
	journal_put(l1);
	journal_put("{\"seq\":2,\"boot_id\":\"x\",\"gra\n");
	journal_put(l2);
	CHECK_INT(restart(), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	free(before);
	free(after);
}

/* Folded when it has half as many lines as the store has grants (at least
 * GRANT_JOURNAL_MIN): it never grows past that, and what it had is in the state file. */
static void the_journal_is_folded_when_it_has_half_as_many_lines_as_grants(void)
{
	int n = GRANT_JOURNAL_MIN + 10;
	char *before, *after;
	size_t n0;

	fresh();
	n0 = a.grants.n; /* the policy's own (fleet) grant */
	for (int i = 0; i < n; i++)
		if (grant("etc", 100000 + i, 600) <= 0)
			CHECK(0, "grant %d refused", i);
	CHECK(count_lines("grants.json.journal") < GRANT_JOURNAL_MIN,
	      "journal of %ld lines for %d grants", count_lines("grants.json.journal"), n);
	CHECK(file_size("grants.json") > 0, "no state file after folding");
	before = host_store_text(&a);
	CHECK_INT(restart(), 0);
	after = host_store_text(&a);
	CHECK_STR(after, before);
	CHECK_INT(a.grants.n, n0 + n);
	free(before);
	free(after);
}

/* grant_find is a binary search: the store stays in id order, also when the state file is
 * not (edited by hand), and every id is found. */
static void every_id_is_found_also_from_a_state_file_out_of_order(void)
{
	json_t *root, *arr, *rev;
	int64_t ids[40];
	size_t i, n0;
	json_t *o;

	fresh();
	n0 = a.grants.n; /* the policy's own (fleet) grant */
	for (int k = 0; k < 40; k++)
		CHECK((ids[k] = grant("etc", 200000 + k, 600)) > 0, "grant refused");
	CHECK_INT(grant_store_save(&a.grants), 0);
	root = json_load_file(path_of("grants.json"), 0, NULL);
	arr = json_object_get(root, "grants");
	rev = json_array();
	json_array_foreach(arr, i, o)
		json_array_insert(rev, 0, o);
	json_object_set_new(root, "grants", rev);
	CHECK_INT(json_dump_file(root, path_of("grants.json"), JSON_COMPACT), 0);
	json_decref(root);
	CHECK_INT(restart(), 0);
	CHECK_INT(a.grants.n, n0 + 40);
	for (int k = 0; k < 40; k++) {
		struct grant *g = grant_find(&a.grants, ids[k]);

		CHECK(g && g->id == (uint64_t)ids[k] && g->uid == (uid_t)(200000 + k),
		      "grant %lld not found", (long long)ids[k]);
	}
	for (i = 1; i < a.grants.n; i++)
		CHECK(a.grants.v[i - 1].id < a.grants.v[i].id, "store not in id order at %zu", i);
	CHECK(!grant_find(&a.grants, ids[39] + 1) && !grant_find(&a.grants, 0),
	      "found an id never given");
}

/* Two grants of one (resource, uid): one key, with the window that ends last; after a
 * restart (image_sync_all's one pass) the same. */
static void one_key_per_subject_with_the_grant_that_ends_last(void)
{
	const struct jitd_grant_val *v;
	struct jitd_grant_key key = {.resource = util_resource_id("etc"), .uid = 1};
	int64_t short_id, long_id;

	fresh();
	short_id = grant("etc", 1, 60);
	long_id = grant("etc", 1, 3000);
	CHECK(short_id > 0 && long_id > 0 && grant("etc", 1, 600) > 0, "grants refused");
	v = host_image_get(&key);
	CHECK(v && v->grant_id == (uint64_t)long_id, "key holds grant %lld, not %lld",
	      v ? (long long)v->grant_id : -1LL, (long long)long_id);
	CHECK_INT(restart(), 0);
	v = host_image_get(&key);
	CHECK(v && v->grant_id == (uint64_t)long_id, "after a restart: grant %lld, not %lld",
	      v ? (long long)v->grant_id : -1LL, (long long)long_id);
	CHECK(revoke_id(long_id), "revoke refused");
	v = host_image_get(&key);
	CHECK(v && v->grant_id != (uint64_t)long_id && v->grant_id != (uint64_t)short_id,
	      "after revoking the longest, the key is not the 600 s grant's");
}

/* The whole state file's text (malloc'd), or NULL. */
static char *slurp(const char *name)
{
	FILE *f = fopen(path_of(name), "r");
	char *t = NULL;
	size_t len = 0;

	if (f && getdelim(&t, &len, '\0', f) < 0) {
		free(t);
		t = NULL;
	}
	if (f)
		fclose(f);
	return t;
}

/* History and approvers are kept as text, resources sized to the grant: a state file with a
 * three-resource grant, a two-entry history and approvers is saved again byte for byte. */
static void a_state_file_is_saved_again_byte_for_byte_after_a_restart(void)
{
	char *before, *after, line[128];
	json_t *r;
	int64_t id;

	fresh();
	r = call(ADMIN, "{\"op\":\"grant\",\"resources\":[\"db\",\"psql\",\"etc\"],"
			"\"uid\":7,\"duration_s\":600,\"reason\":\"CHG-\\u00e9 \\\"q\\\" \\\\\"}");
	CHECK(json_is_true(json_object_get(r, "ok")), "3-resource grant refused");
	id = json_integer_value(json_object_get(json_object_get(r, "grant"), "id"));
	json_decref(r);
	CHECK(grant("etc", 8, 60) > 0, "grant refused"); /* another request's array, reused */
	CHECK(grant_find(&a.grants, id) && grant_find(&a.grants, id)->res_owned &&
		      grant_find(&a.grants, id)->n_res == 3 &&
		      !strcmp(grant_find(&a.grants, id)->res[2], "etc"),
	      "the stored grant lost its resources");
	CHECK(revoke_id(id), "revoke refused");
	r = call(1, "{\"op\":\"request\",\"resources\":[\"db\",\"psql\"],"
		    "\"duration_s\":60,\"reason\":\"INC-7\"}");
	CHECK(json_is_true(json_object_get(r, "ok")), "request refused: %s",
	      json_string_value(json_object_get(r, "error")));
	id = json_integer_value(json_object_get(json_object_get(r, "grant"), "id"));
	json_decref(r);
	snprintf(line, sizeof(line), "{\"op\":\"approve\",\"id\":%lld}", (long long)id);
	r = call(3, line); /* sys approves: active (a pending request's boot times are not kept) */
	CHECK(json_is_true(json_object_get(r, "ok")), "approval refused: %s",
	      json_string_value(json_object_get(r, "error")));
	json_decref(r);
	CHECK_INT(grant_store_save(&a.grants), 0);
	before = slurp("grants.json");
	CHECK(before && strstr(before, "\"db\",\"psql\",\"etc\"") &&
		      strstr(before, "\"event\":\"revoked\"") &&
		      strstr(before, "\"approvers\":[\"user:sys\"]") &&
		      strstr(before, "\"event\":\"approved\""),
	      "state file lacks the grants: %s", before ?: "(none)");
	CHECK_INT(restart(), 0);
	CHECK_INT(grant_store_save(&a.grants), 0);
	after = slurp("grants.json");
	CHECK(before && after && !strcmp(before, after),
	      "saved differently after a restart:\n%s\n%s", before ?: "", after ?: "");
	/* written a grant at a time, the file is the document's own compact dump, byte for byte
	 * (what one json_dumps of the whole store wrote before) */
	r = json_loads(after ?: "", 0, NULL);
	{
		char *dump = r ? json_dumps(r, JSON_COMPACT) : NULL;

		CHECK(dump && after && !strcmp(dump, after), "not the compact dump:\n%s\n%s",
		      dump ?: "(not JSON)", after ?: "");
		free(dump);
	}
	json_decref(r);
	CHECK_INT(restart(), 0); /* the journal way: a change, a restart, the same again */
	CHECK(grant("etc", 9, 60) > 0, "grant refused");
	CHECK_INT(restart(), 0);
	free(after);
	after = slurp("grants.json");
	/* the grants before, then the new one (seq and next_id moved on) */
	CHECK(after && strstr(after, "\"grants\":[") &&
		      !strncmp(strstr(before, "\"grants\":["), strstr(after, "\"grants\":["),
			       strlen(strstr(before, "\"grants\":[")) - 2),
	      "the journal replayed and folded changed the earlier grants");
	free(before);
	free(after);
}

/* Write text as the state file (no journal). */
static void put_state(const char *text)
{
	FILE *f = fopen(path_of("grants.json"), "w");

	CHECK(f && fputs(text, f) >= 0 && !fclose(f), "cannot write the state file");
	unlink(path_of("grants.json.journal"));
}

/* The state file is read a grant at a time: hand-edited layouts (indented, keys in another
 * order) load as before, and what is not JSON is refused whole, as json_load_file did. */
static void the_state_file_is_read_a_grant_at_a_time(void)
{
	json_t *root;
	char *text, *kept;
	size_t n0;

	fresh();
	n0 = a.grants.n;
	for (int k = 0; k < 3; k++)
		CHECK(grant("etc", 300000 + k, 600) > 0, "grant refused");
	CHECK_INT(grant_store_save(&a.grants), 0);
	root = json_load_file(path_of("grants.json"), 0, NULL);
	/* indented, sorted keys: "grants" before "next_id" and "seq" */
	CHECK_INT(json_dump_file(root, path_of("grants.json"), JSON_INDENT(3) | JSON_SORT_KEYS), 0);
	CHECK_INT(restart(), 0);
	CHECK_INT(a.grants.n, n0 + 3);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	/* a trailing comma, a cut file, a bad element, grants not a list, trailing bytes:
	 * refused, nothing loaded */
	static const char *const bad_files[] = {
		"{\"next_id\": 5, \"grants\": [],}",
		"{\"next_id\": 5, \"grants\": [{\"id\": 1},]}",
		"{\"next_id\": 5, \"grants\": [{\"id\": 1}",
		"{\"next_id\": 5, \"grants\": [{\"id\" 1}]}",
		"{\"next_id\": 5, \"grants\": {}}",
		"{\"next_id\": 5, \"grants\": []} x",
		"{\"next_id\": 5, \"grants\": [{\"id\": 1}x], \"grants\": []}",
		"{\"next_id\": 5, \"grants\": [], \"next_id\": 6}",
		"{\"next_id\": 5,",
		"{",
	};
	for (size_t k = 0; k < sizeof(bad_files) / sizeof(bad_files[0]); k++) {
		put_state(bad_files[k]);
		CHECK(restart() == -EINVAL, "loaded: %s", bad_files[k]);
	}
	/* empty: no grant */
	put_state(" {\"next_id\": 5, \"grants\": [ ]}\n");
	CHECK_INT(restart(), 0);
	CHECK_INT(a.grants.n, 0);
	/* a refused entry: the file as read is kept beside it, byte for byte */
	if (text) {
		size_t len = strlen(text);
		char *bad = malloc(len + 64);

		/* "grants":[ then a first element that is refused: a number */
		char *at = strstr(text, "\"grants\":[");

		CHECK(at != NULL, "no grants in %s", text);
		if (bad && at) {
			at += strlen("\"grants\":[");
			snprintf(bad, len + 64, "%.*s7,%s", (int)(at - text), text, at);
			put_state(bad);
			CHECK_INT(restart(), 0);
			CHECK_INT(a.grants.n, n0 + 3);
			kept = slurp("grants.json.refused");
			CHECK(kept && !strcmp(kept, bad), "kept copy differs: %s",
			      kept ?: "(none)");
			free(kept);
		}
		free(bad);
	}
	free(text);
}

/* g's history as text (never NULL: aborts when out of memory); free() it. */
static char *hist_text(const struct grant *g)
{
	json_t *h = hist_decode(g->history);
	char *t = h ? json_dumps(h, JSON_COMPACT) : NULL;

	json_decref(h);
	if (!t)
		abort();
	return t;
}

/* A change that cannot reach the disk is taken back: the history as it was. */
static void a_refused_commit_keeps_the_old_history(void)
{
	struct grant before, *g;
	char *h0, *h1;
	int64_t id;
	int saved, ro;

	fresh();
	id = grant("etc", 1, 600);
	g = grant_find(&a.grants, id);
	CHECK(g && g->history && a.grants.j_open, "no grant or journal");
	h0 = hist_text(g);
	grant_mark(g, &before);
	req_history_add(g, "extended", ADMIN, "more", util_now_ns(CLOCK_REALTIME));
	h1 = hist_text(g);
	CHECK(strcmp(h1, h0), "history not changed");
	free(h1);
	saved = dup(a.grants.j_fd);
	ro = open("/dev/null", O_RDONLY);
	dup2(ro, a.grants.j_fd); /* writes fail: EBADF */
	CHECK(grant_commit(&a, g, &before) < 0, "commit to a read-only journal succeeded");
	dup2(saved, a.grants.j_fd);
	close(saved);
	close(ro);
	h1 = hist_text(g);
	CHECK(!strcmp(h1, h0), "history not taken back: %s", h1);
	free(h0);
	free(h1);
	CHECK_INT(restart(), 0);
	g = grant_find(&a.grants, id);
	h1 = g ? hist_text(g) : NULL;
	CHECK(h1 && !strstr(h1, "extended"), "refused change on disk");
	free(h1);
}

int main(void)
{
	if (host_agent_init(&a, host_policy)) {
		printf("FAIL host_agent_init\n");
		return 1;
	}
	RUN(a_change_is_one_journal_line_not_the_whole_store);
	RUN(a_restart_replays_the_journal_and_folds_it_in);
	RUN(a_torn_last_line_is_skipped);
	RUN(lines_the_state_file_holds_are_not_replayed);
	RUN(a_gap_in_the_journal_refuses_the_load);
	RUN(a_torn_line_inside_the_journal_is_skipped_when_no_seq_is_missing);
	RUN(the_journal_is_folded_when_it_has_half_as_many_lines_as_grants);
	RUN(every_id_is_found_also_from_a_state_file_out_of_order);
	RUN(one_key_per_subject_with_the_grant_that_ends_last);
	RUN(a_state_file_is_saved_again_byte_for_byte_after_a_restart);
	RUN(a_refused_commit_keeps_the_old_history);
	RUN(the_state_file_is_read_a_grant_at_a_time);
	host_agent_free(&a);
	return tl_exit();
}
