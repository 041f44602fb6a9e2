-- SPDX-License-Identifier: GPL-2.0-only
-- jitd fleet schema, version 2. jitd.host_matches() of version 1 compared hosts.name (text,
-- default collation) with session_user (type name, collation "C"): the comparison took
-- collation "C", the primary key could not serve it, and every call scanned jitd.hosts. It
-- runs for each request row a host reads (row-level security and the rows' own columns), so
-- one notification cost the fleet O(hosts^2). Found by tests/fleet/fleet_bench.py.
CREATE OR REPLACE FUNCTION jitd.host_matches(selector jsonb) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
	SELECT coalesce((SELECT h.labels @> selector FROM jitd.hosts h
	                 WHERE h.name = session_user::text COLLATE "default"), false)
$$;
