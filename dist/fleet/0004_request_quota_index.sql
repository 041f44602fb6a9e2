-- SPDX-License-Identifier: GPL-2.0-only
-- jitd fleet schema, version 4.
--
-- Before it inserts a fleet request, a host's jitd counts the user's open requests from that
-- host (jitd --max-open, one statement: agent/fleet.c). An index on (requested_on,
-- requested_uid) over the open rows lets that count read the user's own rows, not every
-- open request of the host or of the fleet. jitd does not need it to work: a database at
-- version 3 is served as before.

CREATE INDEX requests_open_host_uid ON jitd.requests (requested_on, requested_uid)
	WHERE state IN ('pending', 'active');
