-- SPDX-License-Identifier: GPL-2.0-only
-- jitd fleet schema, version 3.
--
-- jitd.head_rev(): the last revision committed, as the caller's statement sees it. A host
-- sees only the rows that concern it, so the newest revision it could see was the newest row
-- it was shown: after a change to rows it may not read, it asked again from the same place on
-- every notification, and each asking walked all those rows anew. Revisions commit in order
-- (the counter row stays locked until commit), so every row up to the head of the same
-- snapshot is committed and visible to whom it concerns: a host reads up to the head and
-- then stands at the head. It tells a host how many changes the fleet made, nothing else.
--
-- Quotas: a host (jitd with its credentials, or whoever took them) may keep at most 100
-- requests pending and record at most 600 actions a minute; the fleet's other hosts do not
-- drown in its flood of notifications and rows.
--
-- A fleet policy rule with a "hosts" selector lets requests only for those hosts: the rule
-- that admits a request must have a selector the request's own selector includes.

CREATE FUNCTION jitd.head_rev() RETURNS bigint
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
	SELECT rev FROM jitd.counter
$$;
GRANT EXECUTE ON FUNCTION jitd.head_rev() TO jitd_host, jitd_admin;

CREATE INDEX requests_pending_on ON jitd.requests (requested_on) WHERE state = 'pending';
CREATE INDEX actions_host_at ON jitd.actions (host, at);

CREATE OR REPLACE FUNCTION jitd.request_insert() RETURNS trigger
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
	IF (SELECT count(*) FROM jitd.requests WHERE requested_on = session_user::text COLLATE "default"
	    AND state = 'pending' AND pending_until > now()) >= 100 THEN
		RAISE EXCEPTION 'host % has 100 fleet requests pending: approve, deny or let some '
			'expire first', session_user;
	END IF;
	SELECT body::jsonb INTO pol FROM jitd.policies ORDER BY serial DESC LIMIT 1;
	IF pol IS NULL AND NEW.approvals_needed < 1 THEN
		RAISE EXCEPTION 'no fleet policy in force: a fleet request needs an approval';
	END IF;
	IF pol IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM jsonb_array_elements(coalesce(pol->'rules', '[]')) rule
		WHERE coalesce((rule->>'approvals')::int, 0) <= NEW.approvals_needed
		  AND NEW.resources <@ ARRAY(SELECT jsonb_array_elements_text(rule->'resources'))
		  AND NEW.selector @> coalesce(rule->'hosts', '{}'))
	THEN
		RAISE EXCEPTION 'no rule of fleet policy % lets % be requested with % approvals '
			'for hosts %', (SELECT max(serial) FROM jitd.policies), NEW.resources,
			NEW.approvals_needed, NEW.selector;
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

CREATE FUNCTION jitd.action_quota() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
BEGIN
	IF (SELECT count(*) FROM jitd.actions WHERE host = session_user::text COLLATE "default"
	    AND at > now() - interval '1 minute') >= 600 THEN
		RAISE EXCEPTION 'host % recorded 600 fleet actions in the last minute: try again '
			'later', session_user;
	END IF;
	RETURN NEW;
END $$;
-- triggers of one event fire in name order: the quota before action_apply
CREATE TRIGGER action_0quota BEFORE INSERT ON jitd.actions
	FOR EACH ROW EXECUTE FUNCTION jitd.action_quota();
