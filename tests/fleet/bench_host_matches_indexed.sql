-- SPDX-License-Identifier: GPL-2.0-only
-- What-if for tests/fleet/fleet_bench.py --sql: jitd.host_matches() of dist/fleet/0001_init.sql
-- compares hosts.name (text, default collation) with session_user (type name, collation "C"):
-- the comparison takes collation "C", the primary key's index (default collation) cannot serve
-- it, and every call scans all of jitd.hosts, evaluating session_user for each row. It is
-- called for each request row a host's query reads (row-level security and ROW_COLUMNS), so
-- a notification costs the fleet O(hosts^2). Comparing under the column's collation lets the
-- index serve it. Not a migration: the benchmark's measure of what the change would save.
CREATE OR REPLACE FUNCTION jitd.host_matches(selector jsonb) RETURNS boolean
	LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, jitd AS $$
	SELECT coalesce((SELECT h.labels @> selector FROM jitd.hosts h
	                 WHERE h.name = session_user::text COLLATE "default"), false)
$$;
