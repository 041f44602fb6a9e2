// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live audit subscribers (docs/protocol.md, "audit"): a control-socket client that sent
 * {"op":"audit","follow":true,"since":"RFC3339","filter":"deny"} gets {"ok":true}, then
 * the records of the current audit file since that time, then (follow) every new record
 * as it is written, each one line. A subscriber that does not read is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "audit_sub.h"
#include "log.h"
#include "audit_log.h"
#include "util.h"

#define MAX_SUBS    16
#define HISTORY_MAX (4u << 20)

struct sub {
	void *client;
	bool live, follow;
	int64_t since_ms;
	char filter[32];
	sd_event_source *defer;
};

/* the transport's push (ctl_push), given at init: this module never calls ctl.c */
static int (*push)(void *client, const char *buf, size_t len, bool close_after);

static struct sub subs[MAX_SUBS];

static bool matches(const struct sub *s, const struct audit_summary *sum)
{
	const char *f = s->filter;

	if (!*f || !strcmp(f, "all"))
		return true;
	if (!strcmp(f, "deny") || !strcmp(f, "allow"))
		return sum->decision && !strcmp(sum->decision, f);
	if (!strcmp(f, "decision"))
		return sum->decision != NULL;
	if (!strcmp(f, "agent"))
		return sum->decision == NULL;
	return sum->event && !strcmp(sum->event, f);
}

static void on_record(const char *line, size_t len, const struct audit_summary *sum, void *ud)
{
	for (int i = 0; i < MAX_SUBS; i++)
		if (subs[i].client && subs[i].live && matches(&subs[i], sum))
			push(subs[i].client, line, len, false);
}

/* Send the history of the current file, then go live (or close). */
static int on_start(sd_event_source *src, void *userdata)
{
	struct sub *s = userdata;
	const char *path = audit_log_path();
	FILE *f = s->since_ms >= 0 && path && strcmp(path, "-") ? fopen(path, "re") : NULL;
	size_t sent = 0, cap = 0;
	char *line = NULL;
	ssize_t n;

	s->defer = sd_event_source_disable_unref(s->defer);
	while (f && (n = getline(&line, &cap, f)) > 0) {
		struct audit_summary sum;
		json_t *rec = json_loadb(line, n, 0, NULL);

		if (rec && !audit_record_summary(rec, &sum) && sum.time_ms >= s->since_ms &&
		    matches(s, &sum)) {
			if (sent + n > HISTORY_MAX) {
				json_decref(rec);
				break;
			}
			push(s->client, line, n, false);
			sent += n;
		}
		json_decref(rec);
	}
	free(line);
	if (f)
		fclose(f);
	if (s->follow)
		s->live = true;
	else
		push(s->client, "", 0, true);
	return 0;
}

void audit_sub_init(int (*push_fn)(void *client, const char *buf, size_t len, bool close_after))
{
	push = push_fn;
	audit_log_add_hook(on_record, NULL);
}

static json_t *err(const char *e, const char *msg)
{
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", msg, "errno", e);
}

/* Handle {"op":"audit",...} for client: the reply (the stream starts after it). */
json_t *audit_sub_request(struct agent *a, void *client, json_t *req)
{
	json_t *jf = json_object_get(req, "follow"), *js = json_object_get(req, "since");
	json_t *jfil = json_object_get(req, "filter");
	struct sub *s = NULL;
	int64_t ns;

	if (jf && !json_is_boolean(jf))
		return err("EINVAL", "'follow' must be a boolean");
	if (js && (!json_is_string(js) || util_parse_time(json_string_value(js), &ns)))
		return err("EINVAL", "'since' must be an RFC 3339 time like 2026-11-23T09:00:00Z");
	if (jfil && (!json_is_string(jfil) || json_string_length(jfil) >= sizeof(s->filter)))
		return err("EINVAL", "'filter' must be deny, allow, decision, agent or an event");
	if (!json_is_true(jf) && !js)
		return err("EINVAL", "give 'follow': true and/or 'since'");
	for (int i = 0; i < MAX_SUBS && !s; i++)
		if (!subs[i].client)
			s = &subs[i];
	if (!s)
		return err("ENOSPC", "too many audit subscribers");
	memset(s, 0, sizeof(*s));
	s->client = client;
	s->follow = json_is_true(jf);
	s->since_ms = js ? ns / 1000000 : -1;
	if (jfil)
		snprintf(s->filter, sizeof(s->filter), "%s", json_string_value(jfil));
	if (sd_event_add_defer(a->event, &s->defer, on_start, s) < 0) {
		s->client = NULL;
		return err("EIO", "cannot start the stream");
	}
	return json_pack("{s:b,s:b}", "ok", 1, "stream", 1);
}

/* Forget a client (it is being freed). */
void audit_sub_remove(void *client)
{
	for (int i = 0; i < MAX_SUBS; i++)
		if (subs[i].client == client) {
			subs[i].defer = sd_event_source_disable_unref(subs[i].defer);
			subs[i].client = NULL;
			subs[i].live = false;
		}
}
