// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's workflow sections: "notify", the commands run on chosen audit events
 * (docs/plans/workflow.md §1). policy.c calls in with its position-keeping helpers as
 * pointers (policy_int.h); the cross-file checks (a name given twice, resources defined,
 * the user not exempt) are policy.c's, after the merge.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define NOTIFY_MAX_ARG	     4096 /* bytes of one argv string */
#define NOTIFY_TIMEOUT_MAX   300
#define NOTIFY_RETRIES_MAX   10
#define NOTIFY_DELAY_MAX     3600
#define NOTIFY_DEFAULT_TO    10
#define NOTIFY_DEFAULT_RETRY 2
#define NOTIFY_DEFAULT_DELAY 10

static const char *const notify_events[] = {"requested",   "approved", "denied",
					    "granted",	   "expired",  "revoked",
					    "break_glass", "alert",    NULL};

struct nctx {
	struct pctx *c;
	const struct pctx_ops *o;
};

/* A NULL-terminated copy of arr's strings into *out (each checked by ok, which says why
 * not). 0 or negative errno. */
static int string_list(struct nctx *x, json_t *arr, size_t min, size_t max, char ***out, size_t *n,
		       const char *(*ok)(const char *s, size_t i, char **seen, size_t n))
{
	json_t *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) < min || json_array_size(arr) > max)
		return x->o->err(x->c, false, "expected an array of %zu to %zu strings, got %s",
				 min, max,
				 json_is_array(arr) ? "another size" : x->o->type_name(arr));
	*out = calloc(json_array_size(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		const char *why = json_is_string(v) ? ok(json_string_value(v), i, *out, *n)
						    : "expected a string";
		int r = 0;

		x->o->push_idx(x->c, i);
		if (why)
			r = x->o->err(x->c, false, "%s", why);
		else if (!((*out)[(*n)++] = strdup(json_string_value(v))))
			r = -ENOMEM;
		x->o->pop(x->c);
		if (r)
			return r;
	}
	return 0;
}

static bool seen_in(char **seen, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(seen[i], s))
			return true;
	return false;
}

static const char *event_ok(const char *s, size_t i, char **seen, size_t n)
{
	for (size_t k = 0; notify_events[k]; k++)
		if (!strcmp(s, notify_events[k]))
			return seen_in(seen, n, s) ? "event named twice" : NULL;
	return "unknown event (expected one of " POLICY_NOTIFY_EVENTS ")";
}

static const char *arg_ok(const char *s, size_t i, char **seen, size_t n)
{
	if (strlen(s) > NOTIFY_MAX_ARG)
		return "argument longer than 4096 bytes";
	if (!i && s[0] != '/')
		return "the command must be an absolute path (no shell, no PATH lookup)";
	return NULL;
}

static const char *resource_ok(const char *s, size_t i, char **seen, size_t n)
{
	if (!policy_name_ok(s))
		return "expected a resource name [A-Za-z0-9._-]{1,63}";
	return seen_in(seen, n, s) ? "resource named twice" : NULL;
}

/* "user": a name ("NAME" or "user:NAME") resolved now, with its groups: the child that runs
 * the command switches to them without NSS. Never root. */
static int notify_user(struct nctx *x, json_t *v, struct policy_notify *t)
{
	struct passwd pw, *res = NULL;
	const char *name;
	char buf[16384];
	int ng = POLICY_MAX_NOTIFY_GROUPS, r;

	if (!json_is_string(v))
		return x->o->err(x->c, false, "expected a user name, got %s", x->o->type_name(v));
	name = json_string_value(v);
	if (!strncmp(name, "user:", 5))
		name += 5;
	if (!*name || strlen(name) >= sizeof(t->user) || strchr(name, ':'))
		return x->o->err(x->c, false,
				 "bad user '%.128s' (expected \"NAME\" or \"user:NAME\")",
				 json_string_value(v));
	r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (!res)
		return x->o->err(x->c, false, "unknown user '%s'%s%s", name, r ? ": " : "",
				 r ? strerror(r) : "");
	if (!pw.pw_uid)
		return x->o->err(x->c, false,
				 "user '%s' is root (expected an unprivileged user to run the "
				 "command as)",
				 name);
	snprintf(t->user, sizeof(t->user), "%s", name);
	t->uid = pw.pw_uid;
	t->gid = pw.pw_gid;
	if (getgrouplist(name, pw.pw_gid, t->groups, &ng) < 0)
		return x->o->err(x->c, false, "user '%s' is in more than %d groups", name,
				 POLICY_MAX_NOTIFY_GROUPS);
	t->n_groups = ng;
	return 0;
}

/* An optional duration key of o in [1, max] seconds, default def. */
static int notify_duration(struct nctx *x, json_t *o, const char *key, int64_t max, int64_t def,
			   int64_t *out)
{
	json_t *v = json_object_get(o, key);
	int r;

	*out = def;
	if (!v)
		return 0;
	x->o->push_key(x->c, key);
	r = x->o->duration(x->c, v, out);
	if (!r && *out > max)
		r = x->o->err(x->c, false, "at most %llds (%lldm)", (long long)max,
			      (long long)max / 60);
	x->o->pop(x->c);
	return r;
}

static int notify_retries(struct nctx *x, json_t *o, struct policy_notify *t)
{
	json_t *v = json_object_get(o, "retries");
	int r = 0;

	t->retries = NOTIFY_DEFAULT_RETRY;
	if (!v)
		return 0;
	x->o->push_key(x->c, "retries");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > NOTIFY_RETRIES_MAX)
		r = x->o->err(x->c, false, "expected an integer from 0 to %d", NOTIFY_RETRIES_MAX);
	else
		t->retries = json_integer_value(v);
	x->o->pop(x->c);
	return r;
}

/* A required key of o, checked by f with the position pushed. */
static int required(struct nctx *x, json_t *o, const char *key, const char *what,
		    int (*f)(struct nctx *x, json_t *v, struct policy_notify *t),
		    struct policy_notify *t)
{
	json_t *v = json_object_get(o, key);
	int r;

	if (!v)
		return x->o->err(x->c, false, "missing key '%s' (expected %s)", key, what);
	x->o->push_key(x->c, key);
	r = f(x, v, t);
	x->o->pop(x->c);
	return r;
}

static int notify_name(struct nctx *x, json_t *v, struct policy_notify *t)
{
	if (!json_is_string(v) || !policy_name_ok(json_string_value(v)))
		return x->o->err(x->c, false, "expected a name [A-Za-z0-9._-]{1,63}");
	snprintf(t->name, sizeof(t->name), "%s", json_string_value(v));
	return 0;
}

static int notify_events_key(struct nctx *x, json_t *v, struct policy_notify *t)
{
	return string_list(x, v, 1, 16, &t->events, &t->n_events, event_ok);
}

static int notify_command(struct nctx *x, json_t *v, struct policy_notify *t)
{
	return string_list(x, v, 1, POLICY_MAX_NOTIFY_ARGS, &t->argv, &t->argc, arg_ok);
}

static int notify_item(struct nctx *x, json_t *o, struct policy_notify *t)
{
	static const char *const allowed[] = {"name",	     "events",	  "command",
					      "user",	     "timeout",	  "retries",
					      "retry_delay", "resources", NULL};
	json_t *res = json_object_get(o, "resources");
	int r;

	if (!json_is_object(o))
		return x->o->err(x->c, false, "expected an object, got %s", x->o->type_name(o));
	if ((r = x->o->check_keys(x->c, o, allowed)) ||
	    (r = required(x, o, "name", "a name like \"slack\"", notify_name, t)) ||
	    (r = required(x, o, "events", "a list of events", notify_events_key, t)) ||
	    (r = required(x, o, "command", "an argv like [\"/usr/bin/curl\", ...]", notify_command,
			  t)) ||
	    (r = required(x, o, "user", "an unprivileged user name", notify_user, t)) ||
	    (r = notify_duration(x, o, "timeout", NOTIFY_TIMEOUT_MAX, NOTIFY_DEFAULT_TO,
				 &t->timeout_s)) ||
	    (r = notify_retries(x, o, t)) ||
	    (r = notify_duration(x, o, "retry_delay", NOTIFY_DELAY_MAX, NOTIFY_DEFAULT_DELAY,
				 &t->retry_delay_s)))
		return r;
	if (!res)
		return 0;
	x->o->push_key(x->c, "resources");
	r = string_list(x, res, 1, POLICY_MAX_RESOURCES, &t->resources, &t->n_resources,
			resource_ok);
	x->o->pop(x->c);
	return r;
}

int policy_notify_parse(struct pctx *c, const struct pctx_ops *o, json_t *root, struct policy *p)
{
	json_t *arr = json_object_get(root, "notify"), *v;
	struct nctx x = {.c = c, .o = o};
	size_t i;
	int r = 0;

	if (!arr)
		return 0;
	o->push_key(c, "notify");
	if (!json_is_array(arr) || json_array_size(arr) > POLICY_MAX_NOTIFY) {
		r = o->err(c, false, "expected an array of at most %d objects, got %s",
			   POLICY_MAX_NOTIFY, json_is_array(arr) ? "more" : o->type_name(arr));
		goto out;
	}
	p->notify = calloc(json_array_size(arr) + 1, sizeof(*p->notify));
	if (!p->notify) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		struct policy_notify *t = &p->notify[p->n_notify++];

		t->pos = i;
		o->push_idx(c, i);
		r = notify_item(&x, v, t);
		o->pop(c);
		if (r)
			break;
	}
out:
	o->pop(c);
	return r;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy_notify_free(struct policy_notify *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free_list(v[i].events, v[i].n_events);
		free_list(v[i].argv, v[i].argc);
		free_list(v[i].resources, v[i].n_resources);
	}
	free(v);
}

bool policy_notify_wants(const struct policy_notify *n, const char *event, const char *resource)
{
	bool found = false;

	for (size_t i = 0; i < n->n_events && !found; i++)
		found = !strcmp(n->events[i], event);
	if (!found || !n->n_resources || !resource || !*resource)
		return found;
	for (size_t i = 0; i < n->n_resources; i++)
		if (!strcmp(n->resources[i], resource))
			return true;
	return false;
}
