// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy: parse and validate a JSON policy file or directory (DESIGN.md, "Policy").
 *
 * jansson parses; jansson keeps no positions for values, so errors about a value are
 * located by a small scanner (locate()) that walks the original text along the path
 * of keys and indices that led to the value. Every error is one line,
 * "FILE:LINE:COLUMN: PATH: what is wrong (what is expected)".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "policy.h"
#include "policy_int.h"
#include "audit_fmt.h"
#include "util.h"

#define MAX_DEPTH 8   /* deepest path we report: resources.NAME.connect[i] */
#define QMAX	  128 /* longest user string quoted in a message */
#define STR_(x)	  #x
#define STR(x)	  STR_(x)
#define MAX_UID	  4294967294LL

struct seg {
	const char *key; /* NULL: array index */
	size_t idx;
};

/* One source file, kept until the cross-file checks are done. */
struct src {
	char *name;
	char *text;
	size_t len;
};

/* Validation state of one file: where we are, for error positions. */
struct pctx {
	const struct src *src;
	struct seg path[MAX_DEPTH];
	int depth;
	char *err;
	size_t errlen;
	bool partial; /* a drop-in of a directory: version, serial, resources optional */
};

/* A set of sources being merged into one policy. */
struct loader {
	struct src *srcs;
	size_t n_srcs;
	size_t *res_src; /* per merged resource: index in srcs */
	char *err;
	size_t errlen;
	bool dir; /* the files of a policy directory (drop-ins, each may be partial) */
};

static const char *const kind_key[] = {
	[POLICY_EXEC] = "exec",
	[POLICY_OPEN] = "open",
	[POLICY_CONNECT] = "connect",
};

/* ---- position scanner ---- */

struct scan {
	const char *s;
	size_t len, pos;
};

static int sc_peek(const struct scan *sc)
{
	return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static void sc_ws(struct scan *sc)
{
	for (int c = sc_peek(sc); c == ' ' || c == '\t' || c == '\r' || c == '\n'; c = sc_peek(sc))
		sc->pos++;
}

/* Skip a string starting at '"'. */
static bool sc_string(struct scan *sc)
{
	sc->pos++;
	while (sc->pos < sc->len) {
		char c = sc->s[sc->pos++];

		if (c == '\\')
			sc->pos++;
		else if (c == '"')
			return true;
	}
	return false;
}

/* Skip one value of any type. */
static bool sc_value(struct scan *sc)
{
	size_t depth = 0;
	int c = sc_peek(sc);

	if (c == '"')
		return sc_string(sc);
	if (c != '{' && c != '[') {
		for (; c > 0 && !strchr(",]} \t\r\n", c); c = sc_peek(sc))
			sc->pos++;
		return true;
	}
	do {
		c = sc_peek(sc);
		if (c < 0)
			return false;
		if (c == '"') {
			if (!sc_string(sc))
				return false;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		sc->pos++;
	} while (depth);
	return true;
}

/* Does the JSON string token tok (quotes included) decode to key? */
static bool key_equal(const char *tok, size_t len, const char *key)
{
	json_t *j;
	bool eq;

	if (!memchr(tok, '\\', len))
		return len - 2 == strlen(key) && !memcmp(tok + 1, key, len - 2);
	j = json_loadb(tok, len, JSON_DECODE_ANY, NULL);
	eq = json_is_string(j) && json_string_length(j) == strlen(key) &&
	     !memcmp(json_string_value(j), key, json_string_length(j));
	json_decref(j);
	return eq;
}

/*
 * Byte offset in text of the value at path (or of the key naming it when at_key).
 * On a mismatch (cannot happen for text jansson accepted) returns the deepest
 * position found so far.
 */
static size_t locate(const char *text, size_t len, const struct seg *path, int depth, bool at_key)
{
	struct scan sc = {.s = text, .len = len};
	size_t found;

	sc_ws(&sc);
	found = sc.pos;
	for (int i = 0; i < depth; i++) {
		const struct seg *sg = &path[i];
		size_t n = 0;

		if (sc_peek(&sc) != (sg->key ? '{' : '['))
			return found;
		sc.pos++;
		for (;;) {
			size_t kpos = 0;
			bool match;

			sc_ws(&sc);
			if (sg->key) {
				if (sc_peek(&sc) != '"')
					return found;
				kpos = sc.pos;
				if (!sc_string(&sc))
					return found;
				match = key_equal(text + kpos, sc.pos - kpos, sg->key);
				sc_ws(&sc);
				if (sc_peek(&sc) != ':')
					return found;
				sc.pos++;
				sc_ws(&sc);
			} else {
				match = n == sg->idx;
			}
			if (match) {
				found = at_key && sg->key && i == depth - 1 ? kpos : sc.pos;
				break;
			}
			if (!sc_value(&sc))
				return found;
			sc_ws(&sc);
			if (sc_peek(&sc) != ',')
				return found;
			sc.pos++;
			n++;
		}
	}
	return found;
}

/* 1-based line and column (in UTF-8 characters, as jansson counts) of a byte offset. */
static void line_col(const char *text, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char ch = text[i];

		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* ---- error reporting ---- */

static void path_str(const struct seg *path, int depth, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < depth; i++) {
		int n;

		if (path[i].key)
			n = snprintf(buf + off, len - off, "%s%.*s", i ? "." : "", QMAX,
				     path[i].key);
		else
			n = snprintf(buf + off, len - off, "[%zu]", path[i].idx);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += n;
	}
}

/* Keep the message on one line whatever the user wrote. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* "FILE:LINE:COLUMN" of a path in a source. */
static void where(const struct src *src, const struct seg *path, int depth, bool at_key, char *buf,
		  size_t len)
{
	int line, col;

	line_col(src->text, src->len, locate(src->text, src->len, path, depth, at_key), &line,
		 &col);
	snprintf(buf, len, "%s:%d:%d", src->name, line, col);
}

static int verr(char *err, size_t errlen, const struct src *src, const struct seg *path, int depth,
		bool at_key, int errnum, const char *fmt, va_list ap)
{
	char loc[PATH_MAX + 32], pstr[512];
	int n;

	if (!err || !errlen)
		return -errnum;
	if (depth > MAX_DEPTH)
		depth = MAX_DEPTH;
	where(src, path, depth, at_key, loc, sizeof(loc));
	/* a complaint about a key names the object holding it; the message names the key */
	path_str(path, at_key ? depth - 1 : depth, pstr, sizeof(pstr));
	n = snprintf(err, errlen, "%s: %s%s", loc, pstr, *pstr ? ": " : "");
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - n, fmt, ap);
	one_line(err);
	return -errnum;
}

/* Complain about the value (or, at_key, the key) at the current path: -EINVAL. */
__attribute__((format(printf, 3, 4))) static int perr(struct pctx *c, bool at_key, const char *fmt,
						      ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(c->err, c->errlen, c->src, c->path, c->depth, at_key, EINVAL, fmt, ap);
	va_end(ap);
	return r;
}

/* An error about a whole file or directory, without a position of its own: "NAME:1:1: ...". */
__attribute__((format(printf, 4, 5))) static int ferr(char *err, size_t errlen, int errnum,
						      const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return -errnum;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	one_line(err);
	return -errnum;
}

static void push_key(struct pctx *c, const char *key)
{
	if (c->depth < MAX_DEPTH)
		c->path[c->depth] = (struct seg){.key = key};
	c->depth++;
}

static void push_idx(struct pctx *c, size_t idx)
{
	if (c->depth < MAX_DEPTH)
		c->path[c->depth] = (struct seg){.idx = idx};
	c->depth++;
}

static void pop(struct pctx *c)
{
	c->depth--;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	default:
		return "null";
	}
}

/* Refuse keys of obj not in allowed (NULL-terminated). */
static int check_keys(struct pctx *c, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char list[256] = "";
		size_t i;
		int r;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				break;
		if (allowed[i])
			continue;
		for (i = 0; allowed[i]; i++) {
			strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
		}
		push_key(c, key);
		r = perr(c, true, "unknown key '%.*s' (allowed: %s)", QMAX, key, list);
		pop(c);
		return r;
	}
	return 0;
}

/* ---- values ---- */

/* Parse a decimal number in [min, max] made of digits only. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 10)
			return false;
		v = v * 10 + (s[n] - '0');
	}
	if (!n || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Check an absolute path and store it without a trailing '/' (except "/"). */
static int norm_path(struct pctx *c, const char *s, const char *what, char **out)
{
	size_t len = strlen(s);
	const char *p, *end;
	char *copy;

	if (!len)
		return perr(c, false, "empty %s (expected an absolute path)", what);
	if (s[0] != '/')
		return perr(c, false,
			    "relative %s '%.*s' (expected an absolute path starting with '/')",
			    what, QMAX, s);
	if (len >= PATH_MAX)
		return perr(c, false, "%s is %zu bytes long (max %d)", what, len, PATH_MAX - 1);
	if (len > 1 && s[len - 1] == '/')
		len--;
	for (p = s + 1; p < s + len; p = end + 1) {
		size_t n;

		end = memchr(p, '/', s + len - p);
		if (!end)
			end = s + len;
		n = end - p;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return perr(c, false,
				    "'.' or '..' component in %s '%.*s' (expected a normalised "
				    "absolute path)",
				    what, QMAX, s);
		if (!n && len > 1)
			return perr(c, false,
				    "empty component in %s '%.*s' (expected single '/' separators)",
				    what, QMAX, s);
		if (n > NAME_MAX)
			return perr(c, false, "component of %s '%.*s' longer than %d bytes", what,
				    QMAX, s, NAME_MAX);
	}
	copy = strndup(s, len);
	if (!copy)
		return -ENOMEM;
	*out = copy;
	return 0;
}

/* Format an entry as it would be written in a policy. */
char *policy_entry_format(const struct policy_entry *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], plen[8] = "", port[8] = "";
	unsigned full = e->ipv4 ? 32 : 128, prefix = e->ipv4 ? e->prefix - 96 : e->prefix;

	if (!len)
		return buf;
	if (e->kind != POLICY_CONNECT) {
		snprintf(buf, len, "%s", e->path ? e->path : "");
		return buf;
	}
	if (!inet_ntop(e->ipv4 ? AF_INET : AF_INET6, e->ipv4 ? e->addr + 12 : e->addr, a,
		       sizeof(a)))
		a[0] = '\0';
	if (prefix != full)
		snprintf(plen, sizeof(plen), "/%u", prefix);
	if (e->port)
		snprintf(port, sizeof(port), ":%u", e->port);
	if (e->ipv4)
		snprintf(buf, len, "%s%s%s", a, plen, port);
	else
		snprintf(buf, len, "[%s%s]%s", a, plen, port);
	return buf;
}

#define NET_SYNTAX "A.B.C.D[/N][:PORT|:*] or [IPV6[/N]][:PORT|:*]"

/* A connect entry cut into its parts, which point into buf. */
struct net_parts {
	char buf[128];
	char *addr, *plen, *port; /* plen and port NULL when absent */
	bool v6;
};

/* Cut s into address, prefix length and port (np), checking the brackets and colons. */
static int net_split(struct pctx *c, const char *s, struct net_parts *np)
{
	char *slash;
	size_t colons = 0;

	np->v6 = s[0] == '[';
	np->plen = np->port = NULL;
	if (!*s)
		return perr(c, false, "empty address (expected " NET_SYNTAX ")");
	if (strlen(s) >= sizeof(np->buf))
		return perr(c, false, "address '%.*s...' is too long (expected " NET_SYNTAX ")", 32,
			    s);
	strcpy(np->buf, s);
	if (np->v6) {
		char *close = strchr(np->buf, ']');

		if (!close)
			return perr(c, false, "missing ']' in '%s' (expected [IPV6[/N]][:PORT|:*])",
				    s);
		*close = '\0';
		np->addr = np->buf + 1;
		if (close[1] == ':')
			np->port = close + 2;
		else if (close[1])
			return perr(c, false,
				    "unexpected '%s' after ']' in '%s' (expected :PORT or :* or "
				    "nothing)",
				    close + 1, s);
	} else {
		for (const char *p = np->buf; *p; p++)
			colons += *p == ':';
		if (colons > 1 && !memchr(np->buf, '.', strcspn(np->buf, ":")))
			return perr(c, false,
				    "IPv6 address '%s' must be in brackets (expected "
				    "[IPV6[/N]][:PORT|:*], "
				    "e.g. '[fd00::/64]:443')",
				    s);
		if (colons > 1)
			return perr(c, false, "bad address '%s' (expected " NET_SYNTAX ")", s);
		np->addr = np->buf;
		np->port = strchr(np->buf, ':');
		if (np->port)
			*np->port++ = '\0';
	}
	slash = strchr(np->addr, '/');
	if (slash) {
		*slash = '\0';
		np->plen = slash + 1;
	}
	return 0;
}

/* Fill e from the parts of s: address, prefix length and port, each checked. */
static int net_fill(struct pctx *c, const char *s, const struct net_parts *np,
		    struct policy_entry *e)
{
	unsigned long prefix, v;
	bool v6 = np->v6;

	memset(e, 0, sizeof(*e));
	e->kind = POLICY_CONNECT;
	e->ipv4 = !v6;
	if (v6) {
		if (inet_pton(AF_INET6, np->addr, e->addr) != 1)
			return perr(c, false,
				    "bad IPv6 address '%s' in '%s' (expected [IPV6[/N]][:PORT|:*])",
				    np->addr, s);
	} else {
		if (inet_pton(AF_INET, np->addr, e->addr + 12) != 1)
			return perr(
				c, false,
				"bad IPv4 address '%s' in '%s' (expected A.B.C.D[/N][:PORT|:*])",
				np->addr, s);
		e->addr[10] = e->addr[11] = 0xff;
	}
	if (np->plen) {
		if (!parse_uint(np->plen, 0, v6 ? 128 : 32, &prefix))
			return perr(c, false, "bad prefix length '/%s' in '%s' (expected /0../%d)",
				    np->plen, s, v6 ? 128 : 32);
	} else {
		prefix = v6 ? 128 : 32;
	}
	e->prefix = v6 ? prefix : prefix + 96;
	if (np->port && strcmp(np->port, "*")) {
		if (!parse_uint(np->port, 1, 65535, &v))
			return perr(c, false, "bad port '%s' (expected 1..65535 or *)", np->port);
		e->port = v;
	}
	return 0;
}

/* Refuse an address with bits set past its prefix length, suggesting the network meant. */
static int net_host_bits(struct pctx *c, const char *s, const struct policy_entry *e)
{
	for (unsigned bit = e->prefix; bit < 128; bit++) {
		struct policy_entry fixed;
		char sugg[128];

		if (!(e->addr[bit / 8] & (0x80 >> (bit % 8))))
			continue;
		fixed = *e;
		for (unsigned b = e->prefix; b < 128; b++)
			fixed.addr[b / 8] &= ~(0x80 >> (b % 8));
		policy_entry_format(&fixed, sugg, sizeof(sugg));
		return perr(c, false, "host bits set in '%s'; did you mean %s?", s, sugg);
	}
	return 0;
}

/* Parse a connect entry: "A.B.C.D[/N][:PORT|:*]" or "[IPV6[/N]][:PORT|:*]". */
static int parse_net(struct pctx *c, const char *s, struct policy_entry *e)
{
	struct net_parts np;
	int r;

	r = net_split(c, s, &np);
	if (!r)
		r = net_fill(c, s, &np, e);
	if (!r)
		r = net_host_bits(c, s, e);
	return r;
}

/* Look up a user name; "user:NAME" or "NAME". */
static int resolve_user(struct pctx *c, const char *s, uid_t *uid)
{
	const char *name = s;
	struct passwd pw, *res = NULL;
	size_t blen = 4096;
	char *buf = NULL;
	int r;

	if (!strncmp(s, "user:", 5))
		name = s + 5;
	else if (strchr(s, ':'))
		return perr(c, false, "bad user '%.*s' (expected a uid, \"user:NAME\" or \"NAME\")",
			    QMAX, s);
	if (!*name)
		return perr(c, false,
			    "empty user name (expected a uid, \"user:NAME\" or \"NAME\")");
	for (;;) {
		char *nbuf = realloc(buf, blen);

		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		r = getpwnam_r(name, &pw, buf, blen, &res);
		if (r != ERANGE || blen >= (1u << 20))
			break;
		blen *= 2;
	}
	if (res)
		*uid = res->pw_uid;
	free(buf);
	if (res)
		return 0;
	if (r && r != ENOENT && r != ESRCH && r != EBADF && r != EPERM)
		return perr(c, false, "cannot look up user '%.*s': %s", QMAX, name, strerror(r));
	return perr(c, false, "unknown user '%.*s'", QMAX, name);
}

/* ---- sections ---- */

static int check_version(struct pctx *c, json_t *root, struct policy *p)
{
	json_t *v = json_object_get(root, "version");
	int r = 0;

	if (!v && c->partial)
		return 0;
	if (!v)
		return perr(c, false, "missing key 'version' (expected \"version\": 1)");
	push_key(c, "version");
	if (!json_is_integer(v))
		r = perr(c, false, "expected the integer 1, got %s", type_name(v));
	else if (json_integer_value(v) != 1)
		r = perr(c, false, "unsupported version %lld (expected 1)",
			 (long long)json_integer_value(v));
	pop(c);
	p->version = 1;
	return r;
}

static int check_serial(struct pctx *c, json_t *root, struct policy *p)
{
	json_t *v = json_object_get(root, "serial");
	int r = 0;

	p->serial = -1; /* not stated (a drop-in): the directory's serial comes from the others */
	if (!v && c->partial)
		return 0;
	if (!v)
		return perr(c, false, "missing key 'serial' (expected an integer >= 0)");
	push_key(c, "serial");
	if (!json_is_integer(v))
		r = perr(c, false, "expected an integer >= 0, got %s", type_name(v));
	else if (json_integer_value(v) < 0)
		r = perr(c, false, "negative serial %lld (expected an integer >= 0)",
			 (long long)json_integer_value(v));
	else
		p->serial = json_integer_value(v);
	pop(c);
	return r;
}

static int check_entries(struct pctx *c, const char *kname, json_t *arr,
			 enum policy_entry_kind kind, struct policy_resource *res)
{
	size_t i;
	json_t *v;
	int r;

	if (!json_is_array(arr))
		return perr(c, false, "expected a non-empty array of strings, got %s",
			    type_name(arr));
	if (!json_array_size(arr))
		return perr(c, false,
			    "empty '%s' list (expected at least one entry; remove the key "
			    "if there is none)",
			    kname);
	json_array_foreach(arr, i, v) {
		struct policy_entry *e = &res->entries[res->n_entries];

		push_idx(c, i);
		if (res->n_entries >= POLICY_MAX_ENTRIES) {
			r = perr(c, false, "too many entries in resource '%s' (max %d)", res->name,
				 POLICY_MAX_ENTRIES);
			goto out;
		}
		if (!json_is_string(v)) {
			r = perr(c, false, "expected a string, got %s", type_name(v));
			goto out;
		}
		memset(e, 0, sizeof(*e));
		if (kind == POLICY_CONNECT) {
			r = parse_net(c, json_string_value(v), e);
		} else {
			e->kind = kind;
			r = norm_path(c, json_string_value(v), "path", &e->path);
		}
		if (r)
			goto out;
		res->n_entries++;
		pop(c);
	}
	return 0;
out:
	pop(c);
	return r;
}

/* A resource's optional "revoke": "open" (cut what is open at a grant's end) or "new". */
static int resource_revoke(struct pctx *c, const char *name, json_t *v, struct policy_resource *res)
{
	const char *s = json_string_value(v);
	int r = 0;

	push_key(c, "revoke");
	if (!s || (strcmp(s, "open") && strcmp(s, "new")))
		r = perr(c, false,
			 "resource '%s': revoke is %s%.*s%s (expected \"open\": a grant's end "
			 "also cuts what is already open, or \"new\", the default: only new "
			 "opens, execs and connects are refused)",
			 name, s ? "'" : "", QMAX, s ?: type_name(v), s ? "'" : "");
	else
		res->revoke_open = !strcmp(s, "open");
	pop(c);
	return r;
}

static int check_resource(struct pctx *c, const char *name, json_t *obj,
			  struct policy_resource *res)
{
	static const char *const allowed[] = {"exec", "open", "connect", "revoke", NULL};
	json_t *v, *revoke = json_object_get(obj, "revoke");
	size_t total = 0;
	const char *key;
	int r;

	if (!json_is_object(obj))
		return perr(c, false,
			    "expected an object with exec, open and/or connect lists, got %s",
			    type_name(obj));
	r = check_keys(c, obj, allowed);
	if (!r && revoke)
		r = resource_revoke(c, name, revoke, res);
	if (r)
		return r;
	if (json_object_size(obj) == (revoke ? 1 : 0))
		return perr(c, false,
			    "resource '%s' has no entries (expected at least one of exec, open, "
			    "connect)",
			    name);
	json_object_foreach(obj, key, v) {
		if (json_is_array(v))
			total += json_array_size(v);
	}
	res->entries = calloc(total < POLICY_MAX_ENTRIES ? total + 1 : POLICY_MAX_ENTRIES,
			      sizeof(*res->entries));
	if (!res->entries)
		return -ENOMEM;
	json_object_foreach(obj, key, v) {
		enum policy_entry_kind kind = !strcmp(key, "exec")   ? POLICY_EXEC
					      : !strcmp(key, "open") ? POLICY_OPEN
								     : POLICY_CONNECT;

		if (v == revoke)
			continue;
		push_key(c, key);
		r = check_entries(c, key, v, kind, res);
		pop(c);
		if (r)
			return r;
	}
	return 0;
}

static int check_resources(struct pctx *c, json_t *root, struct policy *p)
{
	json_t *obj = json_object_get(root, "resources"), *v;
	const char *name;
	int r = 0;

	if (!obj && c->partial)
		return 0;
	if (!obj)
		return perr(c, false, "missing key 'resources' (expected an object, may be empty)");
	push_key(c, "resources");
	if (!json_is_object(obj)) {
		r = perr(c, false, "expected an object mapping resource names to resources, got %s",
			 type_name(obj));
		goto out;
	}
	if (json_object_size(obj) > POLICY_MAX_RESOURCES) {
		r = perr(c, false, "too many resources (%zu, max %d)", json_object_size(obj),
			 POLICY_MAX_RESOURCES);
		goto out;
	}
	p->resources = calloc(json_object_size(obj) + 1, sizeof(*p->resources));
	if (!p->resources) {
		r = -ENOMEM;
		goto out;
	}
	json_object_foreach(obj, name, v) {
		struct policy_resource *res = &p->resources[p->n_resources];

		push_key(c, name);
		if (!policy_name_ok(name)) {
			r = perr(c, true,
				 "bad resource name '%.*s' (expected 1 to %d characters of A-Z a-z "
				 "0-9 "
				 ". _ -)",
				 QMAX, name, POLICY_MAX_NAME - 1);
			pop(c);
			goto out;
		}
		strcpy(res->name, name);
		res->id = util_resource_id(name);
		p->n_resources++; /* owned now, freed by policy_free */
		r = check_resource(c, name, v, res);
		pop(c);
		if (r)
			goto out;
	}
out:
	pop(c);
	return r;
}

static int check_uids(struct pctx *c, json_t *arr, struct policy *p)
{
	size_t i;
	json_t *v;
	int r = 0;

	if (!json_is_array(arr))
		return perr(c, false, "expected an array of uids or user names, got %s",
			    type_name(arr));
	p->exempt_uids = calloc(json_array_size(arr) + 1, sizeof(*p->exempt_uids));
	if (!p->exempt_uids)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		uid_t uid = 0;

		push_idx(c, i);
		if (json_is_integer(v)) {
			json_int_t n = json_integer_value(v);

			if (n < 0 || n > MAX_UID)
				r = perr(c, false, "uid %lld out of range (expected 0..%lld)",
					 (long long)n, MAX_UID);
			uid = (uid_t)n;
		} else if (json_is_string(v)) {
			r = resolve_user(c, json_string_value(v), &uid);
		} else {
			r = perr(c, false, "expected a uid or a user name, got %s", type_name(v));
		}
		pop(c);
		if (r)
			return r;
		p->exempt_uids[p->n_exempt_uids++] = uid;
	}
	return 0;
}

static int check_cgroups(struct pctx *c, json_t *arr, struct policy *p)
{
	size_t i;
	json_t *v;
	int r = 0;

	if (!json_is_array(arr))
		return perr(c, false, "expected an array of cgroup paths, got %s", type_name(arr));
	p->exempt_cgroups = calloc(json_array_size(arr) + 1, sizeof(*p->exempt_cgroups));
	if (!p->exempt_cgroups)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		char *path = NULL;

		push_idx(c, i);
		if (!json_is_string(v))
			r = perr(c, false, "expected a cgroup path like \"/system.slice\", got %s",
				 type_name(v));
		else
			r = norm_path(c, json_string_value(v), "cgroup path", &path);
		if (!r && !strcmp(path, "/"))
			r = perr(c, false,
				 "cgroup '/' would exempt every process (expected a cgroup below "
				 "the "
				 "root, e.g. \"/system.slice\")");
		pop(c);
		if (r) {
			free(path);
			return r;
		}
		p->exempt_cgroups[p->n_exempt_cgroups++] = path;
	}
	return 0;
}

static int check_exempt(struct pctx *c, json_t *root, struct policy *p)
{
	static const char *const allowed[] = {"uids", "cgroups", NULL};
	json_t *obj = json_object_get(root, "exempt"), *v;
	int r = 0;

	if (!obj)
		return 0;
	push_key(c, "exempt");
	if (!json_is_object(obj)) {
		r = perr(c, false, "expected an object with \"uids\" and/or \"cgroups\", got %s",
			 type_name(obj));
		goto out;
	}
	r = check_keys(c, obj, allowed);
	if (r)
		goto out;
	v = json_object_get(obj, "uids");
	if (v) {
		push_key(c, "uids");
		r = check_uids(c, v, p);
		pop(c);
		if (r)
			goto out;
	}
	v = json_object_get(obj, "cgroups");
	if (v) {
		push_key(c, "cgroups");
		r = check_cgroups(c, v, p);
		pop(c);
	}
out:
	pop(c);
	return r;
}

/* "user:NAME" or "group:NAME" (resolved through NSS when used, so not here). */
static int check_principal(struct pctx *c, json_t *v, char **out)
{
	const char *s = json_string_value(v), *name;

	if (!s)
		return perr(c, false, "expected a string \"user:NAME\" or \"group:NAME\", got %s",
			    type_name(v));
	if (!strncmp(s, "user:", 5))
		name = s + 5;
	else if (!strncmp(s, "group:", 6))
		name = s + 6;
	else
		return perr(c, false,
			    "bad principal '%.*s' (expected \"user:NAME\" or \"group:NAME\")", QMAX,
			    s);
	if (!*name || strlen(name) > 255 || strpbrk(name, ": \t\n/"))
		return perr(c, false,
			    "bad name in principal '%.*s' (expected a user or group name)", QMAX,
			    s);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* A non-empty (unless may_be_empty) array of principals at the current path. */
static int check_principals(struct pctx *c, json_t *arr, bool may_be_empty, char ***out, size_t *n)
{
	size_t i;
	json_t *v;
	int r;

	if (!json_is_array(arr))
		return perr(c, false, "expected an array of \"user:NAME\"/\"group:NAME\", got %s",
			    type_name(arr));
	if (!may_be_empty && !json_array_size(arr))
		return perr(c, false,
			    "empty list (expected at least one \"user:NAME\" or "
			    "\"group:NAME\")");
	if (json_array_size(arr) > POLICY_MAX_PRINCIPALS)
		return perr(c, false, "too many entries (%zu, max %d)", json_array_size(arr),
			    POLICY_MAX_PRINCIPALS);
	*out = calloc(json_array_size(arr) + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		push_idx(c, i);
		r = check_principal(c, v, &(*out)[*n]);
		pop(c);
		if (r)
			return r;
		(*n)++;
	}
	return 0;
}

static int check_admins(struct pctx *c, json_t *root, struct policy *p)
{
	json_t *arr = json_object_get(root, "admins");
	int r;

	if (!arr)
		return 0;
	push_key(c, "admins");
	if (!json_is_array(arr))
		r = perr(c, false, "expected an array of strings, got %s", type_name(arr));
	else
		r = check_principals(c, arr, true, &p->admins, &p->n_admins);
	pop(c);
	return r;
}

/* A duration: "1h30m" or an integer number of seconds. */
static int check_duration(struct pctx *c, json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 1 || json_integer_value(v) > JITD_MAX_DURATION_S)
			return perr(c, false, "duration %lld s out of range (expected 1 s to 366d)",
				    (long long)json_integer_value(v));
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return perr(c, false, "expected a duration like \"1h\" or \"90m\", got %s",
			    type_name(v));
	switch (util_parse_duration(json_string_value(v), out)) {
	case 0:
		return 0;
	case -ERANGE:
		return perr(c, false, "duration '%.*s' out of range (expected 1s to 366d)", QMAX,
			    json_string_value(v));
	default:
		return perr(c, false,
			    "bad duration '%.*s' (expected a form like 90s, 15m, 1h30m, 2d)", QMAX,
			    json_string_value(v));
	}
}

/* The rule's required "resources": a non-empty array of resource names. */
static int rule_resources(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v = json_object_get(o, "resources"), *e;
	size_t i;
	int r = 0;

	if (!v)
		return perr(c, false,
			    "missing key 'resources' (expected the resource names it covers)");
	push_key(c, "resources");
	if (!json_is_array(v) || !json_array_size(v)) {
		r = perr(c, false, "expected a non-empty array of resource names, got %s",
			 json_is_array(v) ? "an empty array" : type_name(v));
		goto out;
	}
	rule->resources = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!rule->resources) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(v, i, e) {
		push_idx(c, i);
		if (!json_is_string(e) || !policy_name_ok(json_string_value(e)))
			r = perr(c, false, "expected a resource name, got %s", type_name(e));
		else if (!(rule->resources[rule->n_resources] = strdup(json_string_value(e))))
			r = -ENOMEM;
		else
			rule->n_resources++;
		pop(c);
		if (r)
			goto out;
	}
out:
	pop(c);
	return r;
}

/* The rule's required "requesters" and "max_duration". */
static int rule_requesters(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v;
	int r;

	v = json_object_get(o, "requesters");
	if (!v)
		return perr(c, false, "missing key 'requesters' (expected [\"group:NAME\", ...])");
	push_key(c, "requesters");
	r = check_principals(c, v, false, &rule->requesters, &rule->n_requesters);
	pop(c);
	if (r)
		return r;

	v = json_object_get(o, "max_duration");
	if (!v)
		return perr(c, false,
			    "missing key 'max_duration' (expected a duration like \"1h\")");
	push_key(c, "max_duration");
	r = check_duration(c, v, &rule->max_duration_s);
	pop(c);
	return r;
}

/* The rule's optional "approvals" and "approvers"; approvals need approvers. */
static int rule_approvals(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v;
	int r = 0;

	v = json_object_get(o, "approvals");
	if (v) {
		push_key(c, "approvals");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > POLICY_MAX_APPROVALS) {
			r = perr(c, false, "expected an integer 0..%d, got %s",
				 POLICY_MAX_APPROVALS,
				 json_is_integer(v) ? "one out of range" : type_name(v));
			goto out;
		}
		rule->approvals = json_integer_value(v);
		pop(c);
	}
	v = json_object_get(o, "approvers");
	if (v) {
		push_key(c, "approvers");
		r = check_principals(c, v, true, &rule->approvers, &rule->n_approvers);
		if (r)
			goto out;
		pop(c);
	}
	if (rule->approvals && !rule->n_approvers) {
		push_key(c, "approvals");
		r = perr(c, false,
			 "%u approvals but no 'approvers' (expected \"approvers\": "
			 "[\"group:NAME\", ...])",
			 rule->approvals);
		goto out;
	}
	return 0;
out:
	pop(c);
	return r;
}

/* The rule's "reason_pattern" v: refused when it could stall jitd, else compiled. */
static int rule_reason_pattern(struct pctx *c, json_t *v, struct policy_rule *rule)
{
	const char *why;
	char rerr[256];
	int r;

	push_key(c, "reason_pattern");
	if (!json_is_string(v)) {
		r = perr(c, false, "expected a regular expression string, got %s", type_name(v));
		goto out;
	}
	why = policy_pattern_check(json_string_value(v));
	if (why) {
		r = perr(c, false,
			 "reason_pattern '%.*s' refused: %s; it could stall jitd "
			 "(see README, policy format)",
			 QMAX, json_string_value(v), why);
		goto out;
	}
	r = regcomp(&rule->reason_re, json_string_value(v), REG_EXTENDED | REG_NOSUB);
	if (r) {
		regerror(r, &rule->reason_re, rerr, sizeof(rerr));
		r = perr(c, false, "bad regular expression '%.*s': %s (POSIX extended)", QMAX,
			 json_string_value(v), rerr);
		goto out;
	}
	rule->reason_pattern = strdup(json_string_value(v));
	if (!rule->reason_pattern) {
		regfree(&rule->reason_re);
		r = -ENOMEM;
	}
out:
	pop(c);
	return r;
}

/* The rule's optional "reason" ("required" or "optional") and "reason_pattern". */
static int rule_reason(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v;

	v = json_object_get(o, "reason");
	if (v) {
		const char *s = json_string_value(v);
		int r;

		push_key(c, "reason");
		if (!s || (strcmp(s, "required") && strcmp(s, "optional"))) {
			r = perr(c, false, "expected \"required\" or \"optional\", got %s%.*s%s",
				 s ? "'" : type_name(v), QMAX, s ?: "", s ? "'" : "");
			pop(c);
			return r;
		}
		rule->reason_required = !strcmp(s, "required");
		pop(c);
	}
	v = json_object_get(o, "reason_pattern");
	if (v)
		return rule_reason_pattern(c, v, rule);
	return 0;
}

static bool label_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-/", *s)))
			return false;
	return true;
}

int policy_label_add(json_t *labels, const char *name, const char *value, char *err, size_t errlen)
{
	if (!label_ok(name) || !label_ok(value)) {
		snprintf(err, errlen,
			 "label '%.64s=%.64s': names and values are 1..63 of A-Z a-z 0-9 . _ - /",
			 name, value);
		return -EINVAL;
	}
	if (json_object_size(labels) >= POLICY_MAX_LABELS && !json_object_get(labels, name)) {
		snprintf(err, errlen, "at most %d labels", POLICY_MAX_LABELS);
		return -E2BIG;
	}
	return json_object_set_new(labels, name, json_string(value)) ? -ENOMEM : 0;
}

bool policy_hosts_match(const json_t *labels, const json_t *selector)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)selector, k, v) {
		json_t *have = json_object_get(labels, k);

		if (!have || !json_equal(have, v))
			return false;
	}
	return true;
}

bool policy_hosts_compatible(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)b, k, v) {
		json_t *other = json_object_get(a, k);

		if (other && !json_equal(other, v))
			return false;
	}
	return true;
}

void policy_select_host(struct policy *p, const json_t *labels)
{
	for (size_t i = 0; i < p->n_rules; i++)
		p->rules[i].here = policy_hosts_match(labels, p->rules[i].hosts);
	for (size_t i = 0; i < p->n_grants; i++)
		p->grants[i].here = policy_hosts_match(labels, p->grants[i].hosts);
}

/* An optional labels object at key of o ({"role": "db"}) into *out. */
static int check_labels(struct pctx *c, json_t *o, const char *key, json_t **out)
{
	json_t *v = json_object_get(o, key), *val;
	const char *k;
	char err[256];
	int r = 0;

	if (!v)
		return 0;
	push_key(c, key);
	if (!json_is_object(v) || !(*out = json_object())) {
		r = perr(c, false, "expected an object of labels like {\"role\": \"db\"}, got %s",
			 type_name(v));
		goto out;
	}
	json_object_foreach(v, k, val) {
		if (!json_is_string(val) ||
		    policy_label_add(*out, k, json_string_value(val), err, sizeof(err))) {
			push_key(c, k);
			r = perr(c, false, "%s",
				 json_is_string(val) ? err : "label values are strings");
			pop(c);
			break;
		}
	}
out:
	pop(c);
	return r;
}

/* "fleet": {"labels": {...}}: this host's labels (used from the local policy file). */
static int check_fleet(struct pctx *c, json_t *root, struct policy *p)
{
	static const char *const allowed[] = {"labels", NULL};
	json_t *obj = json_object_get(root, "fleet");
	int r;

	if (!obj)
		return 0;
	push_key(c, "fleet");
	r = json_is_object(obj) ? check_keys(c, obj, allowed)
				: perr(c, false, "expected an object, got %s", type_name(obj));
	if (!r)
		r = check_labels(c, obj, "labels", &p->fleet_labels);
	pop(c);
	return r;
}

/* The rule's optional "on_end": "keep" (the default) or "kill" (see struct policy_rule). */
static int rule_on_end(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v = json_object_get(o, "on_end");
	const char *s = json_string_value(v);
	int r = 0;

	if (!v)
		return 0;
	push_key(c, "on_end");
	if (!s || (strcmp(s, "keep") && strcmp(s, "kill")))
		r = perr(c, false,
			 "on_end is %s%.*s%s (expected \"keep\", the default, or \"kill\": "
			 "kill the process tree of a cgroup grant when it expires or is "
			 "revoked)",
			 s ? "'" : "", QMAX, s ?: type_name(v), s ? "'" : "");
	else
		rule->on_end_kill = !strcmp(s, "kill");
	pop(c);
	return r;
}

/* The rule's optional "break_glass_max": a duration, at most its "max_duration". */
static int rule_break_glass(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v = json_object_get(o, "break_glass_max");
	char a[32], b[32];
	int r;

	if (!v)
		return 0;
	push_key(c, "break_glass_max");
	r = check_duration(c, v, &rule->break_glass_max_s);
	if (!r && rule->break_glass_max_s > rule->max_duration_s)
		r = perr(c, false,
			 "break_glass_max %s is longer than the rule's max_duration %s (a "
			 "break-glass grant is never longer than a requested one)",
			 util_format_duration(rule->break_glass_max_s, a, sizeof(a)),
			 util_format_duration(rule->max_duration_s, b, sizeof(b)));
	pop(c);
	return r;
}

/* The rule's optional "max_idle": a duration from 1m to 1d (see struct policy_rule). */
static int rule_max_idle(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	json_t *v = json_object_get(o, "max_idle");
	int r;

	if (!v)
		return 0;
	push_key(c, "max_idle");
	r = check_duration(c, v, &rule->max_idle_s);
	if (!r && (rule->max_idle_s < POLICY_MIN_IDLE_S || rule->max_idle_s > POLICY_MAX_IDLE_S))
		r = perr(c, false,
			 "max_idle %lld s out of range (expected 1m to 1d: its grants end once "
			 "unused this long)",
			 (long long)rule->max_idle_s);
	pop(c);
	return r;
}

static int check_rule(struct pctx *c, json_t *o, struct policy_rule *rule)
{
	static const char *const allowed[] = {"resources",	 "requesters", "max_duration",
					      "approvals",	 "approvers",  "reason",
					      "reason_pattern",	 "hosts",      "on_end",
					      "break_glass_max", "max_idle",   NULL};
	int r;

	if (!json_is_object(o))
		return perr(c, false, "expected an object, got %s", type_name(o));
	r = check_keys(c, o, allowed);
	if (!r)
		r = check_labels(c, o, "hosts", &rule->hosts);
	rule->here = !rule->hosts;
	if (!r)
		r = rule_resources(c, o, rule);
	if (!r)
		r = rule_requesters(c, o, rule);
	if (!r)
		r = rule_approvals(c, o, rule);
	if (!r)
		r = rule_reason(c, o, rule);
	if (!r)
		r = rule_on_end(c, o, rule);
	if (!r)
		r = rule_break_glass(c, o, rule);
	if (!r)
		r = rule_max_idle(c, o, rule);
	return r;
}

/* The index after the bracket expression that starts at re[i] == '['. */
static size_t skip_bracket(const char *re, size_t i)
{
	i++;
	if (re[i] == '^')
		i++;
	if (re[i] == ']')
		i++;
	while (re[i] && re[i] != ']') {
		if (re[i] == '[' && re[i + 1] && strchr(":.=", re[i + 1])) {
			char end[3] = {re[i + 1], ']', 0};
			const char *e = strstr(re + i + 2, end);

			if (!e)
				return strlen(re); /* unterminated: regcomp says so */
			i = e - re + 2;
			continue;
		}
		i++;
	}
	return re[i] ? i + 1 : i;
}

/* Scanner state of policy_pattern_check. */
struct pat_scan {
	size_t open[POLICY_MAX_PATTERN + 1]; /* where the group at depth d starts */
	bool inner[POLICY_MAX_PATTERN + 1];  /* the group at depth d holds a repetition */
	unsigned d;
	size_t atom;	      /* where the last atom starts */
	unsigned long size;   /* bytes all {n,m} copies make so far */
	bool after_rep;	      /* the last thing was a repetition */
	bool after_rep_group; /* the last atom is a group holding a repetition */
	const char *nested;   /* the first nested repetition seen */
};

/*
 * The {n}, {n,} or {n,m} at re[*i], which copies the atom before it up to its largest
 * count: *i moves past it. NULL, or why it is refused.
 */
static const char *repeat_counts(const char *re, size_t *i, struct pat_scan *ps)
{
	const char *p = re + *i + 1;
	unsigned long n, max = 0;
	char *end;

	for (;;) {
		n = strtoul(p, &end, 10);
		if (end != p && n > max)
			max = n;
		p = end;
		if (*p != ',')
			break;
		p++;
	}
	if (max > POLICY_MAX_REPEAT)
		return "a {n,m} count is above " STR(POLICY_MAX_REPEAT);
	ps->size += max * (*i - ps->atom);
	if (ps->size > POLICY_MAX_REPEAT_SIZE)
		return "its {n,m} copies of what they repeat make more than " STR(
			POLICY_MAX_REPEAT_SIZE) " bytes";
	*i = (*p == '}' ? p + 1 : p) - re;
	return NULL;
}

/* A repetition (*, +, ?, {n,m}) at re[*i]; *i moves past it. NULL, or why it is refused. */
static const char *pattern_rep(const char *re, size_t *i, struct pat_scan *ps)
{
	const char *why = NULL;

	/* reported after any back-reference, the worse of the two */
	if (ps->after_rep && !ps->nested)
		ps->nested = "it repeats a repetition (like a**)";
	if (ps->after_rep_group && re[*i] != '?' && !ps->nested)
		ps->nested = "it repeats a group that itself repeats (like (a*)*)";
	if (re[*i] == '{')
		why = repeat_counts(re, i, ps);
	else
		(*i)++;
	ps->inner[ps->d] = ps->after_rep = true;
	return why;
}

/* Why reason_pattern re could stall jitd, or NULL (see policy.h). */
const char *policy_pattern_check(const char *re)
{
	struct pat_scan ps = {.d = 0};
	const char *why;
	size_t i = 0;

	if (strlen(re) > POLICY_MAX_PATTERN)
		return "it is longer than " STR(POLICY_MAX_PATTERN) " bytes";
	while (re[i]) {
		char ch = re[i];

		if (ch == '*' || ch == '+' || ch == '?' ||
		    (ch == '{' && re[i + 1] >= '0' && re[i + 1] <= '9')) {
			why = pattern_rep(re, &i, &ps);
			if (why)
				return why;
			continue;
		}
		if (ch == '\\' && re[i + 1] >= '1' && re[i + 1] <= '9')
			return "it has a back-reference (\\1 to \\9)";
		ps.after_rep = ps.after_rep_group = false;
		ps.atom = i;
		if (ch == '(' && ps.d < POLICY_MAX_PATTERN) {
			ps.inner[++ps.d] = false;
			ps.open[ps.d] = i;
		} else if (ch == ')' && ps.d) {
			ps.atom = ps.open[ps.d];
			ps.after_rep_group = ps.inner[ps.d--];
			ps.inner[ps.d] |= ps.after_rep_group;
		}
		i = ch == '[' ? skip_bracket(re, i) : i + 1 + (ch == '\\' && re[i + 1]);
	}
	return ps.nested;
}

static int check_time(struct pctx *c, json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	int r = 0;

	if (!v)
		return 0;
	push_key(c, key);
	if (!json_is_string(v) || util_parse_time(json_string_value(v), out))
		r = perr(c, false,
			 "expected a UTC time like \"2026-12-01T02:00:00Z\", got %s%.*s%s",
			 json_is_string(v) ? "'" : type_name(v), QMAX, json_string_value(v) ?: "",
			 json_is_string(v) ? "'" : "");
	else if (!util_time_sane(*out))
		r = perr(c, false, "'%.*s' is outside 2000-01-01..2200-01-01 UTC", QMAX,
			 json_string_value(v));
	pop(c);
	return r;
}

/* The grant's subject: "user" or "uid" (not both), and/or "cgroup"; at least one. */
static int grant_subject(struct pctx *c, json_t *o, struct policy_grant *g)
{
	json_t *v;
	int r = 0;

	if (json_object_get(o, "user") && json_object_get(o, "uid")) {
		push_key(c, "uid");
		r = perr(c, true, "give 'user' or 'uid', not both");
		pop(c);
		return r;
	}
	if ((v = json_object_get(o, "user"))) {
		push_key(c, "user");
		if (!json_is_string(v))
			r = perr(c, false, "expected a user name, got %s", type_name(v));
		else
			r = resolve_user(c, json_string_value(v), &g->uid);
		pop(c);
		if (r)
			return r;
		g->has_uid = true;
	}
	if ((v = json_object_get(o, "uid"))) {
		push_key(c, "uid");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > MAX_UID)
			r = perr(c, false, "expected a uid 0..%lld", MAX_UID);
		pop(c);
		if (r)
			return r;
		g->has_uid = true;
		g->uid = json_integer_value(v);
	}
	if ((v = json_object_get(o, "cgroup"))) {
		push_key(c, "cgroup");
		if (!json_is_string(v))
			r = perr(c, false, "expected a cgroup v2 path, got %s", type_name(v));
		else
			r = norm_path(c, json_string_value(v), "cgroup", &g->cgroup);
		pop(c);
		if (r)
			return r;
	}
	if (!g->has_uid && !g->cgroup)
		return perr(c, false, "a grant needs a subject: 'user', 'uid' and/or 'cgroup'");
	return 0;
}

static int check_grant(struct pctx *c, json_t *o, struct policy_grant *g)
{
	static const char *const allowed[] = {"resource", "user",	"uid",
					      "cgroup",	  "not_before", "not_after",
					      "reason",	  "hosts",	NULL};
	json_t *v;
	int r;

	if (!json_is_object(o))
		return perr(c, false, "expected an object, got %s", type_name(o));
	r = check_keys(c, o, allowed);
	if (!r)
		r = check_labels(c, o, "hosts", &g->hosts);
	g->here = !g->hosts;
	if (r)
		return r;
	v = json_object_get(o, "resource");
	if (!v)
		return perr(c, false, "missing key 'resource'");
	push_key(c, "resource");
	if (!json_is_string(v) || !policy_name_ok(json_string_value(v)))
		r = perr(c, false, "expected a resource name, got %s", type_name(v));
	else
		strcpy(g->resource, json_string_value(v));
	pop(c);
	if (r)
		return r;
	r = grant_subject(c, o, g);
	if (r)
		return r;
	r = check_time(c, o, "not_before", &g->not_before_ns);
	if (!r)
		r = check_time(c, o, "not_after", &g->not_after_ns);
	if (r)
		return r;
	if (!json_object_get(o, "not_after"))
		return perr(c, false, "missing key 'not_after' (expected a UTC time)");
	if (g->not_after_ns <= g->not_before_ns) {
		push_key(c, "not_after");
		r = perr(c, false, "not_after is not later than not_before");
		pop(c);
		return r;
	}
	if ((v = json_object_get(o, "reason"))) {
		push_key(c, "reason");
		if (!json_is_string(v) || json_string_length(v) > 1024)
			r = perr(c, false, "expected a string of at most 1024 bytes");
		else if (!(g->reason = strdup(json_string_value(v))))
			r = -ENOMEM;
		pop(c);
	}
	return r;
}

/*
 * An optional top-level array of at most max objects, each checked by item()
 * into a fresh element of size elsize; *out and *n receive the array.
 */
static int check_object_array(struct pctx *c, json_t *root, const char *key, size_t max,
			      size_t elsize, void **out, size_t *n,
			      int (*item)(struct pctx *, json_t *, void *, size_t))
{
	json_t *arr = json_object_get(root, key), *v;
	size_t i;
	int r = 0;

	if (!arr)
		return 0;
	push_key(c, key);
	if (!json_is_array(arr) || json_array_size(arr) > max) {
		r = perr(c, false, "expected an array of at most %zu objects, got %s", max,
			 json_is_array(arr) ? "more" : type_name(arr));
		goto out;
	}
	*out = calloc(json_array_size(arr) + 1, elsize);
	if (!*out) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, v) {
		push_idx(c, i);
		r = item(c, v, (char *)*out + (*n)++ * elsize, i);
		pop(c);
		if (r)
			break;
	}
out:
	pop(c);
	return r;
}

static int rule_item(struct pctx *c, json_t *v, void *el, size_t i)
{
	struct policy_rule *rule = el;

	rule->pos = i;
	return check_rule(c, v, rule);
}

static int grant_item(struct pctx *c, json_t *v, void *el, size_t i)
{
	struct policy_grant *g = el;

	g->pos = i;
	return check_grant(c, v, g);
}

static int check_rules(struct pctx *c, json_t *root, struct policy *p)
{
	return check_object_array(c, root, "rules", POLICY_MAX_RULES, sizeof(*p->rules),
				  (void **)&p->rules, &p->n_rules, rule_item);
}

static int check_grants(struct pctx *c, json_t *root, struct policy *p)
{
	return check_object_array(c, root, "grants", POLICY_MAX_GRANTS, sizeof(*p->grants),
				  (void **)&p->grants, &p->n_grants, grant_item);
}

/* "audit": {"allow": "all" | "first" | "none"} (how many allow records to write). */
static int check_audit(struct pctx *c, json_t *root, struct policy *p)
{
	static const char *const allowed[] = {"allow", NULL};
	json_t *obj = json_object_get(root, "audit"), *v;
	int r = 0;

	if (!obj)
		return 0;
	push_key(c, "audit");
	if (!json_is_object(obj)) {
		r = perr(c, false, "expected an object like {\"allow\": \"first\"}, got %s",
			 type_name(obj));
		goto out;
	}
	r = check_keys(c, obj, allowed);
	v = json_object_get(obj, "allow");
	if (!r && v) {
		enum audit_allow mode;

		push_key(c, "allow");
		if (!json_is_string(v) || audit_parse_allow(json_string_value(v), &mode))
			r = perr(c, false, "expected \"all\", \"first\" or \"none\"");
		else
			p->audit_allow = mode;
		p->has_audit = true;
		pop(c);
	}
out:
	pop(c);
	return r;
}

/* "alerts" (lib/policy_alerts.c); its error placed at its path below "alerts". */
static int check_alerts(struct pctx *c, json_t *root, struct policy *p)
{
	struct policy_alerts_err e;
	json_t *v = json_object_get(root, "alerts");
	int r, d;

	if (!v)
		return 0;
	r = policy_alerts_parse(v, &p->alerts, &e);
	p->has_alerts = !r;
	if (!r)
		return 0;
	push_key(c, "alerts");
	for (d = 0; d < e.depth && d < 3; d++)
		push_key(c, e.key[d]);
	r = perr(c, e.at_key, "%s", e.msg);
	c->depth -= 1 + d;
	return r;
}
static const struct pctx_ops pctx_ops = {.push_key = push_key,
					 .push_idx = push_idx,
					 .pop = pop,
					 .err = perr,
					 .check_keys = check_keys,
					 .duration = check_duration,
					 .type_name = type_name};

/* Parse and validate one source into p (which the caller frees). */
static int parse_src(const struct src *src, struct policy *p, bool partial, char *err,
		     size_t errlen)
{
	static const char *const allowed[] = {"version", "serial", "resources", "exempt",
					      "admins",	 "rules",  "grants",	"audit",
					      "fleet",	 "alerts", "notify",	NULL};
	struct pctx c = {.src = src, .err = err, .errlen = errlen, .partial = partial};
	json_error_t je;
	json_t *root;
	int r;

	if (src->len > POLICY_MAX_FILE_SIZE)
		return ferr(err, errlen, EFBIG, "%s:1:1: policy file is %zu bytes (max %u, 4 MiB)",
			    src->name, src->len, POLICY_MAX_FILE_SIZE);
	root = json_loadb(src->text, src->len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ferr(err, errlen, EINVAL, "%s:%d:%d: invalid JSON: %s", src->name,
			    je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1, je.text);
	if (!json_is_object(root)) {
		r = perr(&c, false, "expected an object at the top level, got %s", type_name(root));
		goto out;
	}
	r = check_keys(&c, root, allowed);
	if (!r)
		r = check_version(&c, root, p);
	if (!r)
		r = check_serial(&c, root, p);
	if (!r)
		r = check_resources(&c, root, p);
	if (!r)
		r = check_exempt(&c, root, p);
	if (!r)
		r = check_admins(&c, root, p);
	if (!r)
		r = check_rules(&c, root, p);
	if (!r)
		r = check_grants(&c, root, p);
	if (!r)
		r = check_audit(&c, root, p);
	if (!r)
		r = check_fleet(&c, root, p);
	if (!r)
		r = check_alerts(&c, root, p);
	if (!r)
		r = policy_notify_parse(&c, &pctx_ops, root, p);
out:
	json_decref(root);
	return r;
}

/* ---- merging and cross checks ---- */

/* "FILE:LINE:COLUMN" of entry ent of merged resource res. */
static void entry_where(const struct loader *ld, const struct policy *p, size_t res, size_t ent,
			struct seg path[4], bool at_key, char *buf, size_t len)
{
	const struct policy_resource *r = &p->resources[res];
	size_t idx = 0;

	for (size_t i = 0; i < ent; i++)
		idx += r->entries[i].kind == r->entries[ent].kind;
	path[0] = (struct seg){.key = "resources"};
	path[1] = (struct seg){.key = r->name};
	path[2] = (struct seg){.key = kind_key[r->entries[ent].kind]};
	path[3] = (struct seg){.idx = idx};
	if (buf)
		where(&ld->srcs[ld->res_src[res]], path, 4, at_key, buf, len);
}

__attribute__((format(printf, 6, 7))) static int lerr(const struct loader *ld, size_t src,
						      const struct seg *path, int depth,
						      bool at_key, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(ld->err, ld->errlen, &ld->srcs[src], path, depth, at_key, EINVAL, fmt, ap);
	va_end(ap);
	return r;
}

struct ref {
	const struct policy_entry *e;
	size_t res, ent;
};

static int ref_key_cmp(const struct ref *x, const struct ref *y)
{
	bool xn = x->e->kind == POLICY_CONNECT, yn = y->e->kind == POLICY_CONNECT;
	int r;

	if (xn != yn)
		return xn - yn;
	if (!xn)
		return strcmp(x->e->path, y->e->path);
	r = memcmp(x->e->addr, y->e->addr, sizeof(x->e->addr));
	if (!r)
		r = (x->e->prefix > y->e->prefix) - (x->e->prefix < y->e->prefix);
	if (!r)
		r = (x->e->port > y->e->port) - (x->e->port < y->e->port);
	return r;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int r = ref_key_cmp(x, y);

	if (r)
		return r;
	if (x->res != y->res)
		return x->res < y->res ? -1 : 1;
	return (x->ent > y->ent) - (x->ent < y->ent);
}

/* An object (path or network+port) may belong to one resource only. */
static int check_duplicates(const struct loader *ld, const struct policy *p)
{
	const struct ref *bad = NULL, *first = NULL;
	struct ref *refs;
	size_t n = 0;

	for (size_t i = 0; i < p->n_resources; i++)
		n += p->resources[i].n_entries;
	refs = calloc(n + 1, sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < p->n_resources; i++)
		for (size_t j = 0; j < p->resources[i].n_entries; j++)
			refs[n++] = (struct ref){&p->resources[i].entries[j], i, j};
	qsort(refs, n, sizeof(*refs), ref_cmp);

	/* report the duplicate that comes first in the merged policy */
	for (size_t i = 1, f = 0; i < n; i++) {
		const struct ref *x, *y = &refs[i];

		if (ref_key_cmp(&refs[f], y)) {
			f = i;
			continue;
		}
		/*
		 * Sorted by resource then entry, and a resource's entries of one kind are
		 * contiguous: a different resource shows at the start of the group, a repeat
		 * in the same list just before y. exec and open of one path in one resource
		 * is fine.
		 */
		if (refs[f].res != y->res)
			x = &refs[f];
		else if (refs[i - 1].e->kind == y->e->kind)
			x = &refs[i - 1];
		else
			continue;
		if (!bad || y->res < bad->res || (y->res == bad->res && y->ent < bad->ent)) {
			bad = y;
			first = x;
		}
	}
	if (bad) {
		const struct policy_resource *a = &p->resources[first->res],
					     *b = &p->resources[bad->res];
		char loc[PATH_MAX + 32], what[128];
		struct seg path[4], other[4];
		int r;

		entry_where(ld, p, first->res, first->ent, other, false, loc, sizeof(loc));
		entry_where(ld, p, bad->res, bad->ent, path, false, NULL, 0);
		policy_entry_format(bad->e, what, sizeof(what));
		if (a == b)
			r = lerr(ld, ld->res_src[bad->res], path, 4, false,
				 "%s '%.*s' is listed twice in resource '%s' (first at %s)",
				 bad->e->kind == POLICY_CONNECT ? "network" : "path", QMAX, what,
				 b->name, loc);
		else
			r = lerr(ld, ld->res_src[bad->res], path, 4, false,
				 "%s '%.*s' is listed by both resource '%s' (%s) and resource '%s' "
				 "(expected each path or network+port in one resource only)",
				 bad->e->kind == POLICY_CONNECT ? "network" : "path", QMAX, what,
				 a->name, loc, b->name);
		free(refs);
		return r;
	}
	free(refs);
	return 0;
}

/* Resource ids are 32-bit hashes: refuse the (unlikely) collision rather than mix them up. */
static int check_ids(const struct loader *ld, const struct policy *p)
{
	for (size_t i = 1; i < p->n_resources; i++) {
		for (size_t j = 0; j < i; j++) {
			struct seg path[2] = {{.key = "resources"}, {.key = p->resources[i].name}};
			struct seg opath[2] = {{.key = "resources"}, {.key = p->resources[j].name}};
			char loc[PATH_MAX + 32];

			if (p->resources[i].id != p->resources[j].id)
				continue;
			where(&ld->srcs[ld->res_src[j]], opath, 2, true, loc, sizeof(loc));
			return lerr(ld, ld->res_src[i], path, 2, true,
				    "resource '%s' has the same id 0x%08x as '%s' (%s); rename one",
				    p->resources[i].name, p->resources[i].id, p->resources[j].name,
				    loc);
		}
	}
	return 0;
}

/* Move *n_from items of size bytes from `from` to the end of *to (the source keeps its
 * array but no longer owns the items: *n_from becomes 0). */
static int move_items(void **to, size_t *n_to, void *from, size_t *n_from, size_t size)
{
	void *p;

	if (!*n_from)
		return 0;
	p = realloc(*to, (*n_to + *n_from) * size);
	if (!p)
		return -ENOMEM;
	memcpy((char *)p + *n_to * size, from, *n_from * size);
	*to = p;
	*n_to += *n_from;
	*n_from = 0;
	return 0;
}

/* Notification targets of file si into to: a name given twice names both places. */
static int merge_notify(struct loader *ld, struct policy *to, struct policy *from, size_t si)
{
	for (size_t i = 0; i < from->n_notify; i++) {
		struct seg path[3] = {
			{.key = "notify"}, {.idx = from->notify[i].pos}, {.key = "name"}};
		char loc[PATH_MAX + 32];

		from->notify[i].src = si;
		if (to->n_notify + i >= POLICY_MAX_NOTIFY)
			return lerr(ld, si, path, 2, false, "too many notify targets (max %d)",
				    POLICY_MAX_NOTIFY);
		for (size_t j = 0; j < to->n_notify; j++) {
			const struct policy_notify *t = &to->notify[j];
			struct seg tp[3] = {{.key = "notify"}, {.idx = t->pos}, {.key = "name"}};

			if (strcmp(t->name, from->notify[i].name))
				continue;
			where(&ld->srcs[t->src], tp, 3, false, loc, sizeof(loc));
			return lerr(ld, si, path, 3, false,
				    "notify target '%s' is already defined in %s (expected each "
				    "name once)",
				    t->name, loc);
		}
	}
	return move_items((void **)&to->notify, &to->n_notify, from->notify, &from->n_notify,
			  sizeof(*to->notify));
}

/* Move the content of file number si (parsed into from) into the merged policy to. */
static int merge(struct loader *ld, struct policy *to, struct policy *from, size_t si)
{
	size_t n = to->n_resources + from->n_resources;
	struct policy_resource *res;
	size_t *rs;

	/* version 1 is the only one (check_version); the serial is the highest stated */
	to->version = 1;
	if (si == 0 || from->serial > to->serial)
		to->serial = from->serial;

	for (size_t i = 0; i < from->n_resources; i++) {
		struct seg path[2] = {{.key = "resources"}, {.key = from->resources[i].name}};
		char loc[PATH_MAX + 32];

		if (to->n_resources + i >= POLICY_MAX_RESOURCES)
			return lerr(ld, si, path, 2, true,
				    "too many resources in the policy directory (max %d)",
				    POLICY_MAX_RESOURCES);
		for (size_t j = 0; j < to->n_resources; j++) {
			if (strcmp(to->resources[j].name, from->resources[i].name))
				continue;
			where(&ld->srcs[ld->res_src[j]], path, 2, true, loc, sizeof(loc));
			return lerr(
				ld, si, path, 2, true,
				"resource '%s' is already defined in %s (expected each resource "
				"in one file only)",
				from->resources[i].name, loc);
		}
	}

	res = realloc(to->resources, (n + 1) * sizeof(*res));
	if (!res)
		return -ENOMEM;
	to->resources = res;
	rs = realloc(ld->res_src, (n + 1) * sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	ld->res_src = rs;
	for (size_t i = 0; i < from->n_resources; i++) {
		ld->res_src[to->n_resources] = si;
		to->resources[to->n_resources++] = from->resources[i];
	}
	from->n_resources = 0;

	if (from->has_audit) {
		to->audit_allow = from->audit_allow;
		to->has_audit = true;
	}
	if (from->has_alerts) {
		to->alerts = from->alerts;
		to->has_alerts = true;
	}
	if (from->fleet_labels && !to->fleet_labels) {
		to->fleet_labels = from->fleet_labels;
		from->fleet_labels = NULL;
	} else if (from->fleet_labels && json_object_update(to->fleet_labels, from->fleet_labels)) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < from->n_rules; i++)
		from->rules[i].src = si;
	for (size_t i = 0; i < from->n_grants; i++)
		from->grants[i].src = si;
	if (move_items((void **)&to->exempt_uids, &to->n_exempt_uids, from->exempt_uids,
		       &from->n_exempt_uids, sizeof(*to->exempt_uids)) ||
	    move_items((void **)&to->exempt_cgroups, &to->n_exempt_cgroups, from->exempt_cgroups,
		       &from->n_exempt_cgroups, sizeof(*to->exempt_cgroups)) ||
	    move_items((void **)&to->admins, &to->n_admins, from->admins, &from->n_admins,
		       sizeof(*to->admins)) ||
	    move_items((void **)&to->rules, &to->n_rules, from->rules, &from->n_rules,
		       sizeof(*to->rules)) ||
	    move_items((void **)&to->grants, &to->n_grants, from->grants, &from->n_grants,
		       sizeof(*to->grants)))
		return -ENOMEM;
	return merge_notify(ld, to, from, si);
}

/* Rules and fleet grants may only name resources the (merged) policy defines. */
static int check_refs(const struct loader *ld, const struct policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct policy_rule *ru = &p->rules[i];

		for (size_t j = 0; j < ru->n_resources; j++) {
			struct seg path[4] = {{.key = "rules"},
					      {.idx = ru->pos},
					      {.key = "resources"},
					      {.idx = j}};

			if (!policy_find(p, ru->resources[j]))
				return lerr(ld, ru->src, path, 4, false,
					    "unknown resource '%s' (expected a name defined under "
					    "\"resources\")",
					    ru->resources[j]);
		}
	}
	for (size_t i = 0; i < p->n_grants; i++) {
		const struct policy_grant *g = &p->grants[i];
		struct seg path[3] = {{.key = "grants"}, {.idx = g->pos}, {.key = "resource"}};

		if (!policy_find(p, g->resource))
			return lerr(ld, g->src, path, 3, false,
				    "unknown resource '%s' (expected a name defined under "
				    "\"resources\")",
				    g->resource);
	}
	return 0;
}

/* Notification targets: resources defined, the user not exempt, their cgroup not exempt
 * (the commands run as that user in CGROUP_ROOT/jitd.notify, outside jitd's cgroup). */
static int check_notify_refs(const struct loader *ld, const struct policy *p)
{
	if (p->n_notify && policy_exempts_cgroup(p, "/jitd.notify/1"))
		return lerr(ld, p->notify[0].src, (struct seg[]){{.key = "notify"}}, 1, true,
			    "the policy exempts /jitd.notify, where notification commands run "
			    "(expected exempt cgroups that leave it out)");
	for (size_t i = 0; i < p->n_notify; i++) {
		const struct policy_notify *t = &p->notify[i];
		struct seg path[4] = {{.key = "notify"}, {.idx = t->pos}, {.key = "user"}};

		if (policy_exempts_uid(p, t->uid))
			return lerr(ld, t->src, path, 3, false,
				    "user '%s' (uid %u) is exempt (expected a user the policy does "
				    "not exempt)",
				    t->user, (unsigned)t->uid);
		path[2].key = "resources";
		for (size_t j = 0; j < t->n_resources; j++) {
			path[3].idx = j;
			if (!policy_find(p, t->resources[j]))
				return lerr(ld, t->src, path, 4, false,
					    "unknown resource '%s' (expected a name defined under "
					    "\"resources\")",
					    t->resources[j]);
		}
	}
	return 0;
}

/* Parse every source of ld, merge them in order and run the cross checks. */
static int by_name_cmp(const void *x, const void *y, void *arg)
{
	const struct policy *p = arg;

	return strcmp(p->resources[*(const uint32_t *)x].name,
		      p->resources[*(const uint32_t *)y].name);
}

/* The resources in name order (their names are distinct: check_duplicates), so that a
 * grant's key costs a binary search, not a pass over 100,000 resources. */
static int index_names(struct policy *p)
{
	if (p->n_resources > UINT32_MAX)
		return -E2BIG;
	p->by_name = malloc((p->n_resources ? p->n_resources : 1) * sizeof(*p->by_name));
	if (!p->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_resources; i++)
		p->by_name[i] = (uint32_t)i;
	qsort_r(p->by_name, p->n_resources, sizeof(*p->by_name), by_name_cmp, p);
	return 0;
}

/* The digest of what was read (struct policy, digest). */
static bool digest_sources(const struct loader *ld, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);

	for (size_t i = 0; i < ld->n_srcs && ok; i++) {
		/* each part after its length: no two sets of files hash alike */
		uint64_t lens[2] = {strlen(ld->srcs[i].name), ld->srcs[i].len};

		ok = EVP_DigestUpdate(c, lens, sizeof(lens)) &&
		     EVP_DigestUpdate(c, ld->srcs[i].name, lens[0]) &&
		     EVP_DigestUpdate(c, ld->srcs[i].text, ld->srcs[i].len);
	}
	ok = ok && EVP_DigestFinal_ex(c, out, &n) && n == 32;
	EVP_MD_CTX_free(c);
	return ok;
}

static int load_sources(struct loader *ld, const char *source, struct policy **out)
{
	struct policy *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < ld->n_srcs && !r; i++) {
		struct policy *one = calloc(1, sizeof(*one));

		if (!one) {
			r = -ENOMEM;
			break;
		}
		r = parse_src(&ld->srcs[i], one, ld->dir, ld->err, ld->errlen);
		if (!r)
			r = merge(ld, p, one, i);
		policy_free(one);
	}
	if (!r && p->serial < 0)
		p->serial = 0; /* no drop-in states one */
	if (!r)
		p->has_digest = digest_sources(ld, p->digest);
	if (!r)
		r = check_duplicates(ld, p);
	if (!r)
		r = index_names(p);
	if (!r)
		r = check_ids(ld, p);
	if (!r)
		r = check_refs(ld, p);
	if (!r)
		r = check_notify_refs(ld, p);
	if (!r) {
		p->source = strdup(source);
		if (!p->source)
			r = -ENOMEM;
	}
	if (r) {
		if (r == -ENOMEM && ld->err && ld->errlen && !ld->err[0])
			ferr(ld->err, ld->errlen, ENOMEM, "%s:1:1: out of memory", source);
		policy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

static void loader_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_srcs; i++) {
		free(ld->srcs[i].name);
		free(ld->srcs[i].text);
	}
	free(ld->srcs);
	free(ld->res_src);
}

/* Parse from a buffer; name is used in error messages. */
int policy_parse(const char *name, const char *text, size_t len, struct policy **out, char *err,
		 size_t errlen)
{
	struct src src = {.name = (char *)name, .text = (char *)text, .len = len};
	struct loader ld = {.srcs = &src, .n_srcs = 1, .err = err, .errlen = errlen};
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	r = load_sources(&ld, name, out);
	free(ld.res_src);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_src(struct src *s, char *err, size_t errlen)
{
	int r = util_read_file(s->name, POLICY_MAX_FILE_SIZE, &s->text, &s->len);

	if (r == -EFBIG)
		return ferr(err, errlen, EFBIG,
			    "%s:1:1: policy file is larger than %u bytes (4 MiB)", s->name,
			    POLICY_MAX_FILE_SIZE);
	if (r)
		return ferr(err, errlen, -r, "%s:1:1: cannot read policy: %s", s->name,
			    strerror(-r));
	return 0;
}

/* List dir's *.json regular files (not hidden), sorted by name, into ld. */
static int list_dir(struct loader *ld, const char *dir)
{
	const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return ferr(ld->err, ld->errlen, errno, "%s:1:1: cannot read policy directory: %s",
			    dir, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *full;

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (asprintf(&full, "%s%s%s", dir, sep, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		/* follow symlinks; skip directories and other non-files named *.json */
		if (stat(full, &st) || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 16) * sizeof(*nn));

			if (!nn) {
				free(full);
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		names[n++] = full;
	}
	if (!r && errno)
		r = ferr(ld->err, ld->errlen, errno, "%s:1:1: cannot read policy directory: %s",
			 dir, strerror(errno));
	closedir(d);
	if (!r && !n)
		r = ferr(ld->err, ld->errlen, ENOENT,
			 "%s:1:1: no policy files in directory (expected at least one *.json)",
			 dir);
	if (!r) {
		qsort(names, n, sizeof(*names), name_cmp);
		ld->srcs = calloc(n, sizeof(*ld->srcs));
		if (!ld->srcs)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (r) {
			free(names[i]);
			continue;
		}
		ld->srcs[ld->n_srcs++].name = names[i];
	}
	free(names);
	return r;
}

/* The files of path (a file, or a directory's *.json in name order) read into ld. */
static int read_sources(struct loader *ld, const char *path)
{
	char *err = ld->err;
	size_t errlen = ld->errlen;
	struct stat st;
	int r;

	if (stat(path, &st))
		return ferr(err, errlen, errno, "%s:1:1: cannot read policy: %s", path,
			    strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		ld->dir = true;
		r = list_dir(ld, path);
	} else {
		ld->srcs = calloc(1, sizeof(*ld->srcs));
		r = ld->srcs ? 0 : -ENOMEM;
		if (!r) {
			ld->srcs[0].name = strdup(path);
			r = ld->srcs[0].name ? 0 : -ENOMEM;
			ld->n_srcs = 1;
		}
	}
	for (size_t i = 0; i < ld->n_srcs && !r; i++)
		r = read_src(&ld->srcs[i], err, errlen);
	return r;
}

/* Parse and validate one policy file, or a directory of *.json files merged in name order. */
int policy_load(const char *path, struct policy **out, char *err, size_t errlen)
{
	struct loader ld = {.err = err, .errlen = errlen};
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	r = read_sources(&ld, path);
	if (!r)
		r = load_sources(&ld, path, out);
	if (r == -ENOMEM && err && errlen && !err[0])
		ferr(err, errlen, ENOMEM, "%s:1:1: out of memory", path);
	loader_free(&ld);
	return r;
}

int policy_digest(const char *path, unsigned char out[32])
{
	struct loader ld = {};
	int r = read_sources(&ld, path);

	if (!r && !digest_sources(&ld, out))
		r = -EIO;
	loader_free(&ld);
	return r;
}

/* Find a resource by name, or NULL. */
const struct policy_resource *policy_find(const struct policy *p, const char *name)
{
	if (p && p->by_name) {
		size_t lo = 0, hi = p->n_resources;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct policy_resource *r = &p->resources[p->by_name[mid]];
			int c = strcmp(name, r->name);

			if (!c)
				return r;
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		return NULL;
	}
	for (size_t i = 0; p && i < p->n_resources; i++)
		if (!strcmp(p->resources[i].name, name))
			return &p->resources[i];
	return NULL;
}

bool policy_exempts_uid(const struct policy *p, uid_t uid)
{
	for (size_t i = 0; p && i < p->n_exempt_uids; i++)
		if (p->exempt_uids[i] == uid)
			return true;
	return false;
}

bool policy_exempts_cgroup(const struct policy *p, const char *path)
{
	for (size_t i = 0; p && path && i < p->n_exempt_cgroups; i++) {
		size_t n = strlen(p->exempt_cgroups[i]);

		if (!strncmp(path, p->exempt_cgroups[i], n) && (!path[n] || path[n] == '/'))
			return true;
	}
	return false;
}

/* Identity of a fleet grant across policy versions. */
char *policy_grant_key(const struct policy_grant *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%lld|%s|%lld|%lld", g->resource,
		 g->has_uid ? (long long)g->uid : -1LL, g->cgroup ?: "",
		 (long long)g->not_before_ns, (long long)g->not_after_ns);
	return buf;
}

/* Free a policy (NULL is fine). */
void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_resources; i++) {
		for (size_t j = 0; j < p->resources[i].n_entries; j++)
			free(p->resources[i].entries[j].path);
		free(p->resources[i].entries);
	}
	free(p->resources);
	free(p->by_name);
	free(p->exempt_uids);
	for (size_t i = 0; i < p->n_exempt_cgroups; i++)
		free(p->exempt_cgroups[i]);
	free(p->exempt_cgroups);
	for (size_t i = 0; i < p->n_admins; i++)
		free(p->admins[i]);
	free(p->admins);
	for (size_t i = 0; i < p->n_rules; i++) {
		struct policy_rule *ru = &p->rules[i];

		for (size_t j = 0; j < ru->n_resources; j++)
			free(ru->resources[j]);
		for (size_t j = 0; j < ru->n_requesters; j++)
			free(ru->requesters[j]);
		for (size_t j = 0; j < ru->n_approvers; j++)
			free(ru->approvers[j]);
		free(ru->resources);
		free(ru->requesters);
		free(ru->approvers);
		json_decref(ru->hosts);
		if (ru->reason_pattern) {
			regfree(&ru->reason_re);
			free(ru->reason_pattern);
		}
	}
	free(p->rules);
	for (size_t i = 0; i < p->n_grants; i++) {
		free(p->grants[i].cgroup);
		free(p->grants[i].reason);
		json_decref(p->grants[i].hosts);
	}
	json_decref(p->fleet_labels);
	policy_notify_free(p->notify, p->n_notify);
	free(p->grants);
	free(p->source);
	free(p);
}
