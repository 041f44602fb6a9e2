#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
fleet_test.py BUILD_DIR: fleet mode against a real PostgreSQL 15 (tests/fleet/pg.sh, under
BUILD_DIR/pg) with three simulated hosts (BUILD_DIR/tests/fleet_sim: the real fleet link,
grant store and verbs of jitd, a recorder in place of the kernel; the VM tests enforce with the
real one). Prints PASS/FAIL lines; exits 1 when one failed.

Hosts: sim0 role=db, sim1 role=db, sim2 role=web. Users (Debian's uids): daemon (1) requests,
sys (3) approves, nobody (65534) is nobody, bin (2) is a fleet-policy admin.
"""
import json, os, queue, re, subprocess, sys, threading, time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG = os.path.join(SRC, "tests/fleet/pg.sh")
DIR = os.path.join(BUILD, "pg")
JITCTL = os.path.join(BUILD, "jitctl")
SIM = os.path.join(BUILD, "tests/fleet_sim")
HOST_PW = "host-secret-" + os.urandom(6).hex()
failed = 0

POLICY = {
    "version": 1, "serial": 20,
    "resources": {"prod-db": {"connect": ["10.0.5.0/24:5432"]},
                  "logs": {"open": ["/var/log/app/"]}, "tmp": {"open": ["/var/tmp/app/"]},
                  "webroot": {"open": ["/srv/www/"]}, "webadmin": {"open": ["/srv/admin/"]}},
    "admins": ["user:bin"],
    "rules": [
        {"resources": ["prod-db"], "requesters": ["user:daemon"], "max_duration": "1h",
         "approvals": 1, "approvers": ["user:sys"], "reason": "required"},
        {"resources": ["logs"], "requesters": ["user:daemon"], "max_duration": "1h"},
        {"resources": ["tmp"], "requesters": ["user:daemon"], "max_duration": "1h"},
        {"resources": ["webroot"], "requesters": ["user:daemon"], "max_duration": "1h",
         "hosts": {"role": "web"}},
        {"resources": ["webadmin"], "requesters": ["user:daemon"], "max_duration": "1h",
         "approvals": 1, "approvers": ["user:sys"], "hosts": {"role": "web"}},
    ],
    "grants": [{"resource": "webroot", "uid": 5, "not_after": "2099-01-01T00:00:00Z",
                "hosts": {"role": "web"}}],
}
LOCAL_POLICY = {"version": 1, "serial": 1, "resources": {"prod-db": {"connect": ["10.0.5.0/24:5432"]}}}


def check(name, ok, why=""):
    global failed
    print(("PASS fleet-%s" % name) if ok else ("FAIL fleet-%s: %s" % (name, why)), flush=True)
    failed += not ok
    return ok


def sh(*args, env=None, check_rc=True):
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if check_rc and r.returncode:
        raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def conninfo_of(name):
    return sh(PG, "conninfo", DIR, name).stdout.strip()


def psql(conninfo, sql):
    """Run sql; (ok, output or error)."""
    r = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout if r.returncode == 0 else r.stderr).strip()


class Sim:
    """fleet_sim: send "HOST UID JSON", read replies and grant changes with their times."""

    def __init__(self, conninfo_tmpl, policy, labels, n, first=0):
        args = [SIM, "--db", conninfo_tmpl, "--policy", policy, "--dir",
                os.path.join(BUILD, "fleet-sim"), "--hosts", str(n), "--first", str(first)]
        for i, l in labels.items():
            args += ["--label", "%d:%s" % (i, l)]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1,
                                  errors="replace")
        self.q = queue.Queue()
        self.grants = {}  # host -> set of fleet ids
        self.events = []  # (time_ns, host, set)
        self.up = set()
        self.log = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            self.log.append(line.rstrip())
            w = line.split()
            if w[:1] == ["reply"]:
                self.q.put(json.loads(line.split(" ", 2)[2]))
            elif w[:1] == ["grants"]:
                h, ids, t = int(w[1]), set(x for x in w[3:-2]), int(w[-1])
                self.grants[h] = ids
                self.events.append((t, h, ids))
            elif w[:1] == ["up"]:
                self.up.add(int(w[1]))
            elif w[:1] == ["down"]:
                self.up.discard(int(w[1]))

    def call(self, host, uid, req):
        self.p.stdin.write("%d %d %s\n" % (host, uid, json.dumps(req)))
        self.p.stdin.flush()
        try:
            return self.q.get(timeout=30)
        except queue.Empty:
            raise RuntimeError("no reply from host %d; last output: %s" % (host, self.log[-5:]))

    def wait(self, cond, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            time.sleep(0.02)
        return cond()

    def has(self, host, fid):
        return ("f%d" % fid) in self.grants.get(host, set())

    def stop(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def setup():
    """A fresh primary, the schema (twice: idempotent), three host roles, the policy."""
    sh(PG, "stop-all", DIR, check_rc=False)
    su = sh(PG, "start", DIR, "primary").stdout.strip()
    env = dict(os.environ, JITD_FLEET_DB=su)
    mig = os.path.join(SRC, "dist/fleet")
    r1 = sh(JITCTL, "fleet", "init", "--migrations", mig, env=env, check_rc=False)
    r2 = sh(JITCTL, "fleet", "init", "--migrations", mig, env=env, check_rc=False)
    check("init-applies-then-is-idempotent",
          r1.returncode == 0 and "applied 0001" in r1.stdout and r2.returncode == 0
          and "applied" not in r2.stdout, r1.stderr + r2.stderr)
    pwf = os.path.join(BUILD, "fleet-host.pw")
    with open(pwf, "w") as f:
        f.write(HOST_PW + "\n")
    for i in range(4):
        sh(JITCTL, "fleet", "add-host", "sim%d" % i, "--password-file", pwf, env=env)
    sh(JITCTL, "fleet", "add-admin", "fadmin", "--password-file", pwf, env=env)
    base = re.sub(r" user=\S+ password=\S+", "", su)
    return su, base


def push_policy(base, policy, who="fadmin"):
    path = os.path.join(BUILD, "fleet-policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return sh(JITCTL, "fleet", "policy", "push", path, "--db",
              "%s user=%s password=%s" % (base, who, HOST_PW), check_rc=False)


def request(sim, host, hosts, res="prod-db", dur=600, reason="INC-1", uid=1):
    return sim.call(host, uid, {"op": "request", "resources": [res], "duration_s": dur,
                                "reason": reason, "hosts": hosts})


def test_selectors(sim):
    """Rules and policy grants with "hosts" apply only on hosts carrying those labels."""
    local = lambda h: sim.call(h, 1, {"op": "request", "resources": ["webroot"], "duration_s": 60})
    r0, r2 = local(0), local(2)
    check("rule-with-hosts-selector-applies-only-there",
          not r0.get("ok") and r0.get("errno") == "EPERM" and r2.get("ok"), (r0, r2))
    g = lambda h: [x for x in sim.call(h, 0, {"op": "list"}).get("grants", [])
                   if x.get("kind") == "fleet" and x.get("resource") == "webroot"]
    check("policy-grant-with-hosts-selector-only-there", not g(0) and len(g(2)) == 1, (g(0), g(2)))


def revision(sim, host):
    return sim.call(host, 0, {"op": "status"}).get("fleet", {}).get("revision")


def test_rules_for_other_hosts(sim, su):
    """A rule with a "hosts" selector: requested and approved from hosts outside it, granted
    only on hosts inside it; hosts that may not read a change still move past it."""
    r = request(sim, 0, {"role": "db"}, res="webroot", dur=600)
    check("fleet-request-outside-a-rules-hosts-refused",
          not r.get("ok") and r.get("errno") == "EPERM", r)
    r = request(sim, 0, {}, res="webroot", dur=600)
    f = r.get("fleet", {})
    check("fleet-request-narrowed-to-the-rules-hosts",
          r.get("ok") and f.get("hosts") == {"role": "web"} and f.get("state") == "active", r)
    fid = f.get("fleet_id", 0)
    check("granted-only-where-the-rule-holds",
          sim.wait(lambda: sim.has(2, fid), 1.0) and not sim.has(0, fid) and not sim.has(1, fid),
          sim.grants)
    ok, head = psql(su, "SELECT rev FROM jitd.counter")
    check("host-that-may-not-read-a-change-moves-past-it",
          sim.wait(lambda: str(revision(sim, 1)) == head, 2.0), (revision(sim, 1), head))
    r = request(sim, 0, {}, res="webadmin", dur=600)
    fid = r.get("fleet", {}).get("fleet_id", 0)
    r = sim.call(1, 3, {"op": "approve", "fleet_id": fid})
    check("approver-on-a-host-outside-the-rules-hosts-approves",
          r.get("ok") and r["fleet"]["state"] == "active", r)
    check("approved-grant-only-where-the-rule-holds",
          sim.wait(lambda: sim.has(2, fid), 1.0) and not sim.has(1, fid), sim.grants)
    sim.call(0, 1, {"op": "revoke", "fleet_id": fid})


def test_quotas(base):
    """A host's credentials cannot flood the fleet (sim3: not running yet)."""
    host3 = "%s user=sim3 password=%s" % (base, HOST_PW)
    ins = ("INSERT INTO jitd.requests (resources, user_name, selector, duration_s, "
           "approvals_needed, requested_by, requested_uid) VALUES ('{prod-db}', 'daemon', "
           "'{\"role\": \"none\"}', 60, 1, 'daemon', 1)")
    ok, out = psql(host3, "INSERT INTO jitd.requests (resources, user_name, selector, "
                          "duration_s, approvals_needed, requested_by, requested_uid) VALUES "
                          "('{webroot}', 'daemon', '{}', 60, 0, 'daemon', 1)")
    check("database-refuses-a-selector-wider-than-the-rules",
          not ok and "no rule of fleet policy" in out, out)
    ok, fid = psql(host3, "INSERT INTO jitd.requests (resources, user_name, selector, "
                          "duration_s, approvals_needed, requested_by, requested_uid) VALUES "
                          "('{logs}', 'daemon', '{\"role\": \"none\"}', 60, 0, 'daemon', 1) "
                          "RETURNING id")
    ok, out = psql(host3, "DO $$ BEGIN FOR i IN 1..100 LOOP %s; END LOOP; END $$" % ins)
    ok2, out2 = psql(host3, ins)
    check("pending-requests-per-host-capped",
          ok and not ok2 and "100 fleet requests pending" in out2, (out, out2))
    act = ("INSERT INTO jitd.actions (request_id, action, by_user, by_uid, extend_s) "
           "VALUES (%s, 'extend', 'sys', 3, 1)" % fid.split("\n")[0])
    ok, out = psql(host3, "DO $$ BEGIN FOR i IN 1..600 LOOP %s; END LOOP; END $$" % act)
    ok2, out2 = psql(host3, act)
    check("actions-per-host-and-minute-capped",
          ok and not ok2 and "600 fleet actions" in out2, (out, out2))


def test_request_approve_revoke(sim):
    r = request(sim, 0, {"role": "db"})
    fid = r.get("fleet", {}).get("fleet_id", 0)
    check("request-is-pending", r.get("ok") and r["fleet"]["state"] == "pending", r)
    r = sim.call(1, 1, {"op": "approve", "fleet_id": fid})
    check("requester-cannot-approve", not r.get("ok") and "own" in r.get("error", ""), r)
    r = sim.call(1, 65534, {"op": "approve", "fleet_id": fid})
    check("non-approver-cannot-approve", not r.get("ok") and r.get("errno") == "EPERM", r)
    time.sleep(0.3)
    check("pending-grants-nothing", not any(sim.has(h, fid) for h in range(3)), sim.grants)
    t0 = time.time_ns()
    r = sim.call(2, 3, {"op": "approve", "fleet_id": fid, "reason": "ok"})
    check("approver-approves-from-another-host", r.get("ok") and r["fleet"]["state"] == "active", r)
    both = sim.wait(lambda: sim.has(0, fid) and sim.has(1, fid), 1.0)
    check("approved-enforced-on-matching-hosts-within-1s", both, sim.grants)
    time.sleep(0.5)
    check("not-on-hosts-whose-labels-differ", not sim.has(2, fid), sim.grants)
    r = sim.call(1, 1, {"op": "extend", "fleet_id": fid, "duration_s": 60})
    check("extend-refused-to-requester-of-approved-request", not r.get("ok"), r)
    r = sim.call(0, 3, {"op": "extend", "fleet_id": fid, "duration_s": 60})
    check("approver-extends", r.get("ok"), r)
    r = sim.call(0, 3, {"op": "extend", "fleet_id": fid, "duration_s": 3600})
    check("extend-capped-by-rules-maximum", not r.get("ok") and "maximum" in r.get("error", ""), r)
    r = sim.call(1, 65534, {"op": "revoke", "fleet_id": fid})
    check("stranger-cannot-revoke", not r.get("ok") and r.get("errno") == "EPERM", r)
    t0 = time.time_ns()
    r = sim.call(1, 1, {"op": "revoke", "fleet_id": fid})
    gone = sim.wait(lambda: not sim.has(0, fid) and not sim.has(1, fid), 1.0)
    check("revoke-ends-it-on-every-host-within-1s", r.get("ok") and gone, (r, sim.grants))
    lat = [(t - t0) / 1e6 for t, h, ids in sim.events if t > t0 and ("f%d" % fid) not in ids]
    print("fleet revoke fan-out (3 hosts, simulated): %s ms" % ", ".join("%.1f" % x for x in lat))
    return fid


def test_rls(su, base, fid):
    host2 = "%s user=sim2 password=%s" % (base, HOST_PW)
    host3 = "%s user=sim3 password=%s" % (base, HOST_PW)  # not registered yet: no labels
    ok, out = psql(host3, "SELECT count(*) FROM jitd.requests WHERE id = %d" % fid)
    check("host-cannot-read-rows-not-for-it", ok and out == "0", out)
    ok, out = psql(host2, "SELECT count(*) FROM jitd.hosts")
    check("host-reads-only-its-own-host-row", ok and out == "1", out)
    ok, out = psql(host2, "INSERT INTO jitd.actions (request_id, action, by_user, by_uid, host) "
                          "VALUES (%d, 'revoke', 'sys', 3, 'sim0')" % fid)
    check("host-cannot-act-for-another-host", not ok and "only for itself" in out, out)
    ok, out = psql(host2, "UPDATE jitd.requests SET state = 'active' WHERE id = %d" % fid)
    check("host-cannot-change-requests-directly", not ok and "permission denied" in out, out)
    ok, out = psql(host2, "UPDATE jitd.hosts SET labels = '{}' WHERE name = 'sim0'")
    check("host-cannot-touch-another-hosts-row", ok and out == "", out)
    ok, out = psql(host2, "INSERT INTO jitd.requests (resources, user_name, duration_s, "
                          "approvals_needed, requested_by, requested_uid) VALUES "
                          "('{prod-db}', 'daemon', 60, 0, 'daemon', 1)")
    check("host-cannot-claim-no-approval-where-rules-want-one",
          not ok and "no rule of fleet policy" in out, out)
    r = push_policy(base, dict(POLICY, serial=99), who="sim2")
    check("host-cannot-push-policy", r.returncode == 1 and "permission denied" in r.stderr, r.stderr)


def test_join_and_missed(sim, su, base, tmpl, local):
    r = request(sim, 0, {"role": "db"}, res="logs", dur=900)
    fid = r.get("fleet", {}).get("fleet_id", 0)
    check("rule-without-approval-is-active-at-once", r.get("ok") and r["fleet"]["state"] == "active", r)
    check("active-on-matching-hosts", sim.wait(lambda: sim.has(0, fid) and sim.has(1, fid), 1.0),
          sim.grants)
    late = Sim(tmpl, local, {3: "role=db"}, 1, first=3)  # host 3 as a second process
    check("host-joining-later-gets-what-is-active",
          late.wait(lambda: late.has(3, fid), 10.0), late.log[-5:])
    late.stop()
    # sim1 cannot log in: it misses the revoke, keeps enforcing, then resyncs
    psql(su, "ALTER ROLE sim1 NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
             "WHERE usename = 'sim1'")
    check("cut-off-host-notices", sim.wait(lambda: 1 not in sim.up, 5.0), sim.log[-3:])
    r = sim.call(0, 1, {"op": "revoke", "fleet_id": fid})
    check("revoked-on-connected-host", r.get("ok") and sim.wait(lambda: not sim.has(0, fid), 1.0),
          r)
    time.sleep(1)
    check("cut-off-host-keeps-its-last-state", sim.has(1, fid), sim.grants)
    r = sim.call(1, 1, {"op": "request", "resources": ["logs"], "duration_s": 60,
                        "hosts": {"role": "db"}})
    check("cut-off-host-refuses-fleet-operations-clearly",
          not r.get("ok") and r.get("errno") == "ENOTCONN" and "not reachable" in r["error"], r)
    psql(su, "ALTER ROLE sim1 LOGIN")
    check("reconnected-host-catches-up-on-missed-revoke",
          sim.wait(lambda: not sim.has(1, fid) and 1 in sim.up, 40.0), sim.log[-3:])


def test_outage(sim, su):
    r = request(sim, 0, {"role": "db"}, res="tmp", dur=4)
    fid = r.get("fleet", {}).get("fleet_id", 0)
    r2 = request(sim, 0, {"role": "db"}, res="logs", dur=900)
    fid2 = r2.get("fleet", {}).get("fleet_id", 0)
    check("grants-before-outage",
          sim.wait(lambda: all(sim.has(h, f) for h in (0, 1) for f in (fid, fid2)), 2.0), sim.grants)
    sh(PG, "stop", DIR, "primary")
    check("hosts-notice-the-database-is-gone", sim.wait(lambda: not sim.up, 10.0), sim.log[-3:])
    check("enforcement-holds-without-the-database", sim.has(0, fid2) and sim.has(1, fid2), sim.grants)
    time.sleep(5)
    st = [g for g in sim.call(0, 0, {"op": "list", "all": True}).get("grants", [])
          if g.get("fleet_id") == fid]
    check("expiry-holds-without-the-database",
          st and st[0]["state"] == "expired", st)
    sh(PG, "resume", DIR, "primary")
    check("hosts-reconnect-after-restart", sim.wait(lambda: sim.up >= {0, 1, 2}, 40.0), sim.log[-3:])
    r = sim.call(0, 1, {"op": "revoke", "fleet_id": fid2})
    check("fleet-operations-work-again",
          r.get("ok") and sim.wait(lambda: not sim.has(0, fid2) and not sim.has(1, fid2), 1.0), r)


def test_schema_check(su, tmpl, local):
    """A database whose schema is older than this jitd reads (at version 2): said, not used."""
    psql(su, "DELETE FROM jitd.schema_version WHERE version >= 3")
    old = Sim(tmpl, local, {3: "role=db"}, 1, first=3)
    said = old.wait(lambda: any("jitctl fleet init" in l for l in old.log), 10.0)
    check("older-schema-refused-saying-what-to-do", said and 3 not in old.up, old.log[-3:])
    old.stop()
    psql(su, "INSERT INTO jitd.schema_version (version) VALUES (3), (4)")


def test_failover(sim_tmpl_fn, su, local):
    sh(PG, "standby", DIR, "standby", "primary")
    p1, p2 = (sh(PG, "port", DIR, n).stdout.strip() for n in ("primary", "standby"))
    tmpl = ("host=127.0.0.1,127.0.0.1 port=%s,%s dbname=jitd target_session_attrs=read-write "
            "user=sim%%d password=%s" % (p1, p2, HOST_PW))
    sim = Sim(tmpl, local, {0: "role=db", 1: "role=db", 2: "role=web"}, 3)
    check("multi-host-conninfo-connects", sim.wait(lambda: sim.up == {0, 1, 2}, 15.0), sim.log[-3:])
    r = request(sim, 0, {"role": "db"}, res="logs", dur=900)
    fid = r.get("fleet", {}).get("fleet_id", 0)
    sim.wait(lambda: sim.has(1, fid), 2.0)
    time.sleep(0.5)  # replicated
    sh(PG, "stop", DIR, "primary")
    sh(PG, "promote", DIR, "standby")
    check("hosts-fail-over-to-the-promoted-standby",
          sim.wait(lambda: sim.up == {0, 1, 2}, 40.0) and sim.has(1, fid), sim.log[-4:])
    r = sim.call(0, 1, {"op": "revoke", "fleet_id": fid})
    check("promoted-standby-takes-writes-and-notifies",
          r.get("ok") and sim.wait(lambda: not sim.has(0, fid) and not sim.has(1, fid), 1.0), r)
    sim.stop()


def main():
    for f in (SIM, JITCTL):
        if not os.access(f, os.X_OK):
            check("built", False, "%s missing: make %s" % (f, f))
            return 1
    os.makedirs(os.path.join(BUILD, "fleet-sim"), exist_ok=True)
    sh("rm", "-rf", os.path.join(BUILD, "fleet-sim"))
    os.makedirs(os.path.join(BUILD, "fleet-sim"))
    local = os.path.join(BUILD, "fleet-local-policy.json")
    with open(local, "w") as f:
        json.dump(LOCAL_POLICY, f)
    try:
        su, base = setup()
        r = push_policy(base, POLICY)
        check("admin-pushes-policy", r.returncode == 0, r.stderr)
        r = push_policy(base, POLICY)
        check("same-serial-refused", r.returncode == 1 and "not above" in r.stderr, r.stderr)
        tmpl = "%s user=sim%%d password=%s" % (base, HOST_PW)
        sim = Sim(tmpl, local, {0: "role=db", 1: "role=db", 2: "role=web"}, 3)
        check("hosts-connect", sim.wait(lambda: sim.up == {0, 1, 2}, 15.0), sim.log[-5:])
        check("hosts-put-fleet-policy-in-force",
              sim.wait(lambda: sum("policy" in l and l.endswith(" 20") for l in sim.log) >= 3, 5.0),
              sim.log[-5:])
        hosts = json.loads(sh(JITCTL, "fleet", "hosts", "--json", "--db",
                              "%s user=fadmin password=%s" % (base, HOST_PW)).stdout)
        check("fleet-hosts-lists-labels-and-serial",
              [(h["role"], h["labels"], h["serial"]) for h in hosts] ==
              [("sim0", {"role": "db"}, 20), ("sim1", {"role": "db"}, 20),
               ("sim2", {"role": "web"}, 20)], hosts)
        test_selectors(sim)
        t0 = time.time()
        r = push_policy(base, dict(POLICY, serial=21))
        check("pushed-policy-in-force-on-every-host-within-2s",
              r.returncode == 0 and
              sim.wait(lambda: sum("policy" in l and l.endswith(" 21") for l in sim.log) >= 3, 2.0),
              (r.stderr, sim.log[-5:]))
        print("fleet policy push to 3 hosts: %.0f ms" % ((time.time() - t0) * 1000))
        test_rules_for_other_hosts(sim, su)
        test_quotas(base)
        fid = test_request_approve_revoke(sim)
        test_rls(su, base, fid)
        test_join_and_missed(sim, su, base, tmpl, local)
        test_outage(sim, su)
        sim.stop()
        test_schema_check(su, tmpl, local)
        test_failover(None, su, local)
    except Exception as e:  # a step that could not run is a failure, never a skip
        import traceback
        traceback.print_exc()
        check("ran", False, repr(e))
    finally:
        sh(PG, "stop-all", DIR, check_rc=False)
    print("fleet: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
