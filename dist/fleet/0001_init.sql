-- SPDX-License-Identifier: GPL-2.0-only
-- jitd fleet schema, version 1. Applied once by `jitctl fleet init` (in one transaction,
-- recorded in jitd.schema_version); never edit a shipped migration: add the next one.
--
-- Roles: jitd_host (every host's own login role is a member), jitd_admin (fleet admins:
-- push policy, see every row). Row-level security: a host sees its own row, the requests
-- that target it (labels @> selector) or that it vouched for (made, approved, denied,
-- revoked or extended: its own actions are all it sees of jitd.actions), and the pending
-- ones (so that an approver on any host can approve); it writes only rows attributed to itself
-- (session_user). State changes go through jitd.actions, whose trigger applies them.

DO $$ BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jitd_host') THEN
		CREATE ROLE jitd_host NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jitd_admin') THEN
		CREATE ROLE jitd_admin NOLOGIN;
	END IF;
END $$;

CREATE SCHEMA jitd;
REVOKE ALL ON SCHEMA jitd FROM PUBLIC;
GRANT USAGE ON SCHEMA jitd TO jitd_host, jitd_admin;

-- Every change to a request takes the next revision, and hosts apply rows in revision
-- order. A sequence would let a later revision commit first (and a host that read it skip
-- the earlier one for good): the one counter row is locked until commit instead, so
-- revisions become visible in order.
CREATE TABLE jitd.counter (one boolean PRIMARY KEY DEFAULT true CHECK (one), rev bigint NOT NULL);
INSERT INTO jitd.counter VALUES (true, 0);
CREATE FUNCTION jitd.next_rev() RETURNS bigint
	LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
	UPDATE jitd.counter SET rev = rev + 1 RETURNING rev
$$;

CREATE TABLE jitd.hosts (
	name text PRIMARY KEY DEFAULT session_user,
	hostname text NOT NULL CHECK (length(hostname) BETWEEN 1 AND 255),
	labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
	version text NOT NULL DEFAULT '',
	serial bigint NOT NULL DEFAULT 0,
	registered_at timestamptz NOT NULL DEFAULT now(),
	last_seen timestamptz NOT NULL DEFAULT now(),
	last_sync timestamptz
);

CREATE TABLE jitd.policies (
	serial bigint PRIMARY KEY CHECK (serial > 0),
	body text NOT NULL CHECK (length(body) <= 4194304),
	pushed_by text NOT NULL DEFAULT session_user,
	pushed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jitd.requests (
	id bigserial PRIMARY KEY,
	resources text[] NOT NULL CHECK (cardinality(resources) BETWEEN 1 AND 16),
	user_name text NOT NULL CHECK (length(user_name) BETWEEN 1 AND 64),
	selector jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(selector) = 'object'),
	duration_s bigint NOT NULL CHECK (duration_s > 0),
	max_duration_s bigint NOT NULL DEFAULT 0 CHECK (max_duration_s >= 0),
	reason text CHECK (length(reason) <= 1024),
	approvals_needed int NOT NULL CHECK (approvals_needed BETWEEN 0 AND 16),
	requested_by text NOT NULL CHECK (length(requested_by) BETWEEN 1 AND 64),
	requested_uid bigint NOT NULL,
	requested_on text NOT NULL DEFAULT session_user,
	state text NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'active', 'denied', 'revoked', 'expired')),
	created_at timestamptz NOT NULL DEFAULT now(),
	pending_until timestamptz NOT NULL DEFAULT now() + interval '1 hour',
	starts_at timestamptz,
	expires_at timestamptz,
	ended_at timestamptz,
	ended_by text,
	rev bigint NOT NULL
);
CREATE INDEX requests_rev ON jitd.requests (rev);
CREATE INDEX requests_open ON jitd.requests (state) WHERE state IN ('pending', 'active');

-- who did what to a request, and which host vouched for that user
CREATE TABLE jitd.actions (
	id bigserial PRIMARY KEY,
	request_id bigint NOT NULL REFERENCES jitd.requests (id),
	action text NOT NULL CHECK (action IN ('approve', 'deny', 'revoke', 'extend')),
	by_user text NOT NULL CHECK (length(by_user) BETWEEN 1 AND 64),
	by_uid bigint NOT NULL,
	host text NOT NULL DEFAULT session_user,
	reason text CHECK (length(reason) <= 1024),
	extend_s bigint CHECK (extend_s > 0),
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_request ON jitd.actions (request_id);

CREATE TABLE jitd.schema_version (
	version int PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
);

-- Does the calling host carry every label of selector?
CREATE FUNCTION jitd.host_matches(selector jsonb) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
	SELECT coalesce((SELECT h.labels @> selector FROM jitd.hosts h
	                 WHERE h.name = session_user), false)
$$;

-- New requests come in pending, attributed to the calling host, at the next revision.
-- The host checked the requester against the fleet policy's rules; what the database can
-- check without the host's users and groups it checks too: some rule of the fleet policy in
-- force covers every resource asked for with no more approvals than the request claims (a
-- host cannot claim "no approval needed" where every rule wants one). Without a fleet
-- policy, a request needs at least one approval.
CREATE FUNCTION jitd.request_insert() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
DECLARE
	pol jsonb;
BEGIN
	IF NEW.requested_on <> session_user THEN
		RAISE EXCEPTION 'host % may request only for itself, not for %', session_user,
			NEW.requested_on;
	END IF;
	IF NEW.state <> 'pending' OR NEW.starts_at IS NOT NULL OR NEW.expires_at IS NOT NULL
	   OR NEW.ended_at IS NOT NULL THEN
		RAISE EXCEPTION 'a new request must be pending';
	END IF;
	SELECT body::jsonb INTO pol FROM jitd.policies ORDER BY serial DESC LIMIT 1;
	IF pol IS NULL AND NEW.approvals_needed < 1 THEN
		RAISE EXCEPTION 'no fleet policy in force: a fleet request needs an approval';
	END IF;
	IF pol IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM jsonb_array_elements(coalesce(pol->'rules', '[]')) rule
		WHERE coalesce((rule->>'approvals')::int, 0) <= NEW.approvals_needed
		  AND NEW.resources <@ ARRAY(SELECT jsonb_array_elements_text(rule->'resources')))
	THEN
		RAISE EXCEPTION 'no rule of fleet policy % lets % be requested with % approvals',
			(SELECT max(serial) FROM jitd.policies), NEW.resources, NEW.approvals_needed;
	END IF;
	IF NEW.approvals_needed = 0 THEN
		NEW.state := 'active';
		NEW.starts_at := now();
		NEW.expires_at := now() + make_interval(secs => NEW.duration_s);
	END IF;
	NEW.rev := jitd.next_rev();
	PERFORM pg_notify('jitd', 'request ' || NEW.id);
	RETURN NEW;
END $$;
CREATE TRIGGER request_insert BEFORE INSERT ON jitd.requests
	FOR EACH ROW EXECUTE FUNCTION jitd.request_insert();

-- An action changes its request: approvals by distinct users other than the requester
-- activate it when enough; deny ends a pending one; revoke ends a pending or active one;
-- extend moves an active one's expiry, never past created duration's maximum.
CREATE FUNCTION jitd.action_apply() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
DECLARE
	r jitd.requests;
	n int;
BEGIN
	IF NEW.host <> session_user THEN
		RAISE EXCEPTION 'host % may act only for itself, not for %', session_user, NEW.host;
	END IF;
	SELECT * INTO r FROM jitd.requests WHERE id = NEW.request_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no fleet request f%', NEW.request_id;
	END IF;
	IF r.state = 'active' AND r.expires_at <= now() THEN
		r.state := 'expired';
	END IF;
	IF r.state = 'pending' AND r.pending_until <= now() THEN
		r.state := 'expired';
	END IF;
	IF NEW.action IN ('approve', 'deny') THEN
		IF r.state <> 'pending' THEN
			RAISE EXCEPTION 'fleet request f% is %, not pending', r.id, r.state;
		END IF;
		IF NEW.by_user = r.requested_by THEN
			RAISE EXCEPTION 'nobody approves their own request';
		END IF;
		IF EXISTS (SELECT 1 FROM jitd.actions WHERE request_id = r.id
		           AND action = 'approve' AND by_user = NEW.by_user) THEN
			RAISE EXCEPTION '% already approved fleet request f%', NEW.by_user, r.id;
		END IF;
	END IF;
	IF NEW.action = 'approve' THEN
		SELECT count(DISTINCT by_user) + 1 INTO n FROM jitd.actions
			WHERE request_id = r.id AND action = 'approve';
		IF n >= r.approvals_needed THEN
			UPDATE jitd.requests SET state = 'active', starts_at = now(),
				expires_at = now() + make_interval(secs => duration_s),
				rev = jitd.next_rev() WHERE id = r.id;
		ELSE
			UPDATE jitd.requests SET rev = jitd.next_rev() WHERE id = r.id;
		END IF;
	ELSIF NEW.action = 'deny' THEN
		UPDATE jitd.requests SET state = 'denied', ended_at = now(),
			ended_by = NEW.by_user, rev = jitd.next_rev() WHERE id = r.id;
	ELSIF NEW.action = 'revoke' THEN
		IF r.state NOT IN ('pending', 'active') THEN
			RAISE EXCEPTION 'fleet request f% is already %', r.id, r.state;
		END IF;
		UPDATE jitd.requests SET state = 'revoked', ended_at = now(),
			ended_by = NEW.by_user, rev = jitd.next_rev() WHERE id = r.id;
	ELSE
		IF r.state <> 'active' THEN
			RAISE EXCEPTION 'fleet request f% is %, not active', r.id, r.state;
		END IF;
		IF NEW.extend_s IS NULL THEN
			RAISE EXCEPTION 'extend needs extend_s';
		END IF;
		IF r.max_duration_s > 0 AND r.expires_at + make_interval(secs => NEW.extend_s)
		   > r.starts_at + make_interval(secs => r.max_duration_s) THEN
			RAISE EXCEPTION 'fleet request f%: extension past the rule''s maximum of % s',
				r.id, r.max_duration_s;
		END IF;
		UPDATE jitd.requests SET
			expires_at = expires_at + make_interval(secs => NEW.extend_s),
			rev = jitd.next_rev() WHERE id = r.id;
	END IF;
	PERFORM pg_notify('jitd', 'request ' || r.id);
	RETURN NEW;
END $$;
CREATE TRIGGER action_apply BEFORE INSERT ON jitd.actions
	FOR EACH ROW EXECUTE FUNCTION jitd.action_apply();

-- Policies only move forward.
CREATE FUNCTION jitd.policy_insert() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
BEGIN
	IF NEW.serial <= coalesce((SELECT max(serial) FROM jitd.policies), 0) THEN
		RAISE EXCEPTION 'policy serial % is not above the fleet''s %', NEW.serial,
			(SELECT max(serial) FROM jitd.policies);
	END IF;
	NEW.pushed_by := session_user;
	NEW.pushed_at := now();
	PERFORM pg_notify('jitd', 'policy ' || NEW.serial);
	RETURN NEW;
END $$;
CREATE TRIGGER policy_insert BEFORE INSERT ON jitd.policies
	FOR EACH ROW EXECUTE FUNCTION jitd.policy_insert();

ALTER TABLE jitd.hosts ENABLE ROW LEVEL SECURITY;
ALTER TABLE jitd.policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE jitd.requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE jitd.actions ENABLE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE ON jitd.hosts TO jitd_host;
GRANT SELECT ON jitd.hosts TO jitd_admin;
CREATE POLICY host_own ON jitd.hosts TO jitd_host
	USING (name = session_user) WITH CHECK (name = session_user);
CREATE POLICY admin_all ON jitd.hosts FOR SELECT TO jitd_admin USING (true);

GRANT SELECT ON jitd.policies TO jitd_host, jitd_admin;
GRANT INSERT ON jitd.policies TO jitd_admin;
CREATE POLICY read_all ON jitd.policies FOR SELECT TO jitd_host, jitd_admin USING (true);
CREATE POLICY admin_push ON jitd.policies FOR INSERT TO jitd_admin WITH CHECK (true);

GRANT SELECT, INSERT ON jitd.requests TO jitd_host;
GRANT USAGE ON SEQUENCE jitd.requests_id_seq TO jitd_host;
GRANT SELECT ON jitd.requests TO jitd_admin;
CREATE POLICY host_read ON jitd.requests FOR SELECT TO jitd_host
	USING (requested_on = session_user OR state = 'pending' OR jitd.host_matches(selector)
	       OR EXISTS (SELECT 1 FROM jitd.actions a WHERE a.request_id = requests.id));
CREATE POLICY host_request ON jitd.requests FOR INSERT TO jitd_host
	WITH CHECK (requested_on = session_user);
CREATE POLICY admin_read ON jitd.requests FOR SELECT TO jitd_admin USING (true);

GRANT SELECT, INSERT ON jitd.actions TO jitd_host;
GRANT USAGE ON SEQUENCE jitd.actions_id_seq TO jitd_host;
GRANT SELECT ON jitd.actions TO jitd_admin;
CREATE POLICY host_read ON jitd.actions FOR SELECT TO jitd_host USING (host = session_user);
CREATE POLICY host_act ON jitd.actions FOR INSERT TO jitd_host
	WITH CHECK (host = session_user);
CREATE POLICY admin_read ON jitd.actions FOR SELECT TO jitd_admin USING (true);

GRANT SELECT ON jitd.schema_version TO jitd_host, jitd_admin;
