#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""
fleet_bench.py BUILD [--hosts 1000] [--procs 4] [--rounds 20] [--idle 30] [--gap 1]
               [--state-dir DIR] [--web-every M] [--history N] [--sql FILE]... [--keep]

The fleet benchmark: HOSTS simulated hosts (BUILD/tests/fleet_sim: the real fleet link, grant
store, verbs and policy application of jitd, a recorder in place of the kernel) against one
real PostgreSQL 15 on this machine (tests/fleet/pg.sh, under BUILD/fleet-bench/pg). Each host
holds its own connection, LISTENs and applies request rows as jitd does.

Steps: a primary with max_connections = HOSTS + 100 (pg_stat_statements loaded and commit
timestamps on, for the figures); `jitctl fleet init`; HOSTS login roles in jitd_host made by
one DO block (what `jitctl fleet add-host` does for one); a fleet policy whose rule for "logs"
needs no approval; PROCS fleet_sim processes sharing the hosts, all labelled role=db (with
--web-every M, every M-th host is role=web instead: it must never get the grant, and shows what
hosts outside a selector cost). Then ROUNDS rounds: a host requests "logs" for role=db, the
harness waits until every db host holds it (grant fan-out), then another host revokes it and
the harness waits until every db host lost it (revoke fan-out). Latencies are taken from the
"grants HOST ... at REALTIME_NS" lines of the sims, from just before the harness sent the
verb ("from send") and from the commit timestamp of the database transaction ("from commit").
Then IDLE seconds without requests: heartbeats and full resyncs (every host every 30 s).

--history N puts N ended requests for role=db in the database first (a fleet that has run a
while); --state-dir puts the hosts' state files elsewhere (e.g. on tmpfs: each host fsyncs its
state file before it changes its kernel image, and here all of them share one disk); --sql
runs a file as superuser after the schema is in place, to measure a schema change (e.g.
tests/fleet/bench_host_matches_indexed.sql).

What this measures is the simulation: each fleet_sim process serves its hosts one after the
other on one sd-event loop, with blocking queries, so a notification fans out serially within
a process and the PROCS processes share 2 CPUs with PostgreSQL and with the harness. A real
fleet has one jitd per machine, each applying its own notification in parallel. Try several
--procs to see which side is the bottleneck.

Prints a table and a line "fleet-bench-json {...}"; exits 1 when a round did not complete
(a host that never got or never lost a grant, or a web host that got one).
"""
import argparse, json, math, os, queue, subprocess, sys, threading, time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG = os.path.join(SRC, "tests/fleet/pg.sh")
CLK = os.sysconf("SC_CLK_TCK")
PW = "bench-" + os.urandom(8).hex()
RESYNC_S = 30  # FLEET_RESYNC_S of agent/fleet.h

POLICY = {
    "version": 1, "serial": 20,
    "resources": {"logs": {"open": ["/var/log/app/"]}},
    "admins": ["user:bin"],
    "rules": [{"resources": ["logs"], "requesters": ["user:daemon"], "max_duration": "1h"}],
}
LOCAL_POLICY = {"version": 1, "serial": 1, "resources": {"logs": {"open": ["/var/log/app/"]}}}
REQUESTER_UID = 1  # daemon on Debian


def sh(*args, env=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r.stdout


def psql(conninfo, sql):
    return sh("psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql).strip()


class DB:
    """One persistent superuser session (psql on a pipe): sampling costs no new backend."""

    def __init__(self, conninfo):
        self.p = subprocess.Popen(["psql", "-X", "-qAt", "-F", "\t", "-d", conninfo],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)

    def rows(self, sql):
        self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __end__\n")
        self.p.stdin.flush()
        out = []
        for line in self.p.stdout:
            if line.startswith("__end__"):
                return out
            if line.startswith(("ERROR", "psql:")):
                raise RuntimeError("%s: %s" % (sql, line.strip()))
            out.append(line.rstrip("\n").split("\t"))
        raise RuntimeError("psql exited")

    def one(self, sql):
        return self.rows(sql)[0][0]

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class Heartbeats(threading.Thread):
    """Samples, every 0.25 s in a session of its own, how many host-row updates (one per host
    resync: the heartbeat) and commits the database has counted. Backends report their
    counts when they go idle, at most once a second: the series is right to about a second."""

    def __init__(self, conninfo):
        super().__init__(daemon=True)
        self.db, self.series, self.done = DB(conninfo), [], threading.Event()

    def run(self):
        while not self.done.wait(0.25):
            r = self.db.rows("SELECT n_tup_upd + n_tup_ins, (SELECT xact_commit FROM "
                             "pg_stat_database WHERE datname = 'jitd') FROM pg_stat_user_tables "
                             "WHERE relid = 'jitd.hosts'::regclass")[0]
            self.series.append((time.time_ns(), int(r[0]), int(r[1])))

    def between(self, t0, t1, col=1):
        """Count (col 1: resyncs, 2: commits) from t0 to t1 (realtime ns), from the samples
        around them."""
        a = [x for x in self.series if x[0] <= t0]
        b = [x for x in self.series if x[0] >= t1]
        if not a or not b:
            return None
        return b[0][col] - a[-1][col]

    def per_second(self, t0, t1, col):
        s = [x for x in self.series if t0 <= x[0] <= t1]
        out = []
        for i in range(4, len(s), 4):
            out.append(s[i][col] - s[i - 4][col])
        return out

    def close(self):
        self.done.set()
        self.join()
        self.db.close()


class Sim:
    """One fleet_sim process with hosts first..first+n-1: replies, grant sets, events."""

    def __init__(self, build, tmpl, local, state, first, n, labels, log):
        args = [os.path.join(build, "tests/fleet_sim"), "--db", tmpl, "--policy", local,
                "--dir", state, "--hosts", str(n), "--first", str(first)]
        for h in range(first, first + n):
            args += ["--label", "%d:role=%s" % (h, labels[h])]
        self.hosts = range(first, first + n)
        self.log = open(log, "w")
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log, text=True, bufsize=1, errors="replace")
        self.q = queue.Queue()
        self.grants = {}  # host -> frozenset of "fID"
        self.events = []  # (realtime_ns, host, frozenset), in the order the sim printed them
        self.up, self.downs, self.tail = set(), 0, []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            w = line.split()
            if w[:1] == ["grants"]:
                h, ids = int(w[1]), frozenset(w[3:-2])
                self.grants[h] = ids
                self.events.append((int(w[-1]), h, ids))
            elif w[:1] == ["reply"]:
                self.q.put(json.loads(line.split(" ", 2)[2]))
            elif w[:1] == ["up"]:
                self.up.add(int(w[1]))
            elif w[:1] == ["down"]:
                self.up.discard(int(w[1]))
                self.downs += 1
                self.tail = (self.tail + [line.strip()])[-3:]

    def call(self, host, uid, req):
        self.p.stdin.write("%d %d %s\n" % (host, uid, json.dumps(req)))
        self.p.stdin.flush()
        try:
            return self.q.get(timeout=60)
        except queue.Empty:
            raise RuntimeError("no reply from host %d in 60 s" % host)

    def stop(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=20)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.p.kill()
            self.p.wait()
        self.log.close()


# --- /proc: CPU and memory of the server's and the sims' processes -----------------------

def stat_of(pid):
    """(ppid, own CPU ticks, reaped children's CPU ticks) or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    w = s[s.rfind(")") + 2:].split()
    return int(w[1]), int(w[11]) + int(w[12]), int(w[13]) + int(w[14])


def server_pids(postmaster):
    pids = [postmaster]
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(int(d))
            if st and st[0] == postmaster:
                pids.append(int(d))
    return pids


def pg_cpu(postmaster):
    """CPU seconds of the server so far: live processes, and the ended ones the postmaster
    reaped (autovacuum workers, the harness's short sessions)."""
    total = 0
    for pid in server_pids(postmaster):
        st = stat_of(pid)
        if st:
            total += st[1] + (st[2] if pid == postmaster else 0)
    return total / CLK


def machine_cpu():
    """CPU seconds the machine's processes used so far: user, nice, system, irq, softirq
    (not idle, iowait or a hypervisor's steal)."""
    with open("/proc/stat") as f:
        w = [int(x) for x in f.readline().split()[1:8]]
    return (w[0] + w[1] + w[2] + w[5] + w[6]) / CLK


def sims_cpu(sims):
    return sum((stat_of(s.p.pid) or (0, 0, 0))[1] for s in sims) / CLK


def status_kb(pid, key, name="status"):
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- figures ------------------------------------------------------------------------------

def pct(v, p):
    """Nearest-rank percentile of a sorted list."""
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)] if v else float("nan")


def dist(v):
    v = sorted(v)
    return {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95), "p99": pct(v, 99),
            "max": v[-1] if v else float("nan")}


def short(q):
    """A statement of pg_stat_statements on one line, agent/fleet.c's ROW_COLUMNS shortened."""
    q = " ".join(q.split())
    if q.startswith("SELECT id, rev, array_to_json") and " FROM " in q:
        q = "SELECT <ROW_COLUMNS>" + q[q.index(" FROM "):]
    return q[:110]


def rounded(x):
    if isinstance(x, float):
        return round(x, 3)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return x


def first_times(sims, marks, fid, present, hosts):
    """host -> realtime ns of its first grant-set change after marks where fid is (present)
    or is not (not present) in its set."""
    seen = {}
    for s, m in zip(sims, marks):
        for t, h, ids in s.events[m:]:
            if h in hosts and h not in seen and (fid in ids) == present:
                seen[h] = t
    return seen


def wait_until(cond, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.005)
    return cond()


class Bench:
    """One run: server, roles, policy, sims; rounds, idle; figures and report."""

    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.top = os.path.join(self.build, "fleet-bench")
        self.dir = os.path.join(self.top, "pg")
        self.state = os.path.join(os.path.abspath(a.state_dir or self.top), "fleet-bench-state")
        self.sims, self.rounds, self.out = [], [], {}
        self.labels = {h: "web" if a.web_every and h % a.web_every == a.web_every - 1
                       else "db" for h in range(a.hosts)}
        self.db_hosts = [h for h in range(a.hosts) if self.labels[h] == "db"]
        self.web_hosts = set(range(a.hosts)) - set(self.db_hosts)
        self.failed = 0

    # -- setup --

    def start_server(self):
        sh(PG, "stop-all", self.dir)
        env = dict(os.environ, PG_MAX_CONNECTIONS=str(self.a.hosts + 100))
        self.su = sh(PG, "start", self.dir, "primary", env=env).strip()
        sh(PG, "stop", self.dir, "primary")
        with open(os.path.join(self.dir, "primary", "postgresql.conf"), "a") as f:
            f.write("shared_preload_libraries = 'pg_stat_statements'\n"
                    "pg_stat_statements.max = 20000\n"  # an entry per statement and host role
                    "track_commit_timestamp = on\n")
        sh(PG, "resume", self.dir, "primary")
        with open(os.path.join(self.dir, "primary", "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.base = " ".join(w for w in self.su.split() if not w.startswith(("user=", "password=")))

    def make_schema_and_roles(self):
        env = dict(os.environ, JITD_FLEET_DB=self.su)
        sh(os.path.join(self.build, "jitctl"), "fleet", "init", "--migrations",
           os.path.join(SRC, "dist/fleet"), env=env)
        pwf = os.path.join(self.top, "pw")
        with open(os.open(pwf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(PW + "\n")
        sh(os.path.join(self.build, "jitctl"), "fleet", "add-admin", "fadmin", "--password-file",
           pwf, env=env)
        psql(self.su, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # one SCRAM verifier for all: the server need not hash the password 1000 times
        psql(self.su, "CREATE ROLE sim0 LOGIN PASSWORD '%s' IN ROLE jitd_host" % PW)
        verifier = psql(self.su, "SELECT rolpassword FROM pg_authid WHERE rolname = 'sim0'")
        psql(self.su, "DO $$ BEGIN FOR i IN 1..%d LOOP EXECUTE format('CREATE ROLE %%I LOGIN "
                      "PASSWORD %%L IN ROLE jitd_host', 'sim' || i, '%s'); END LOOP; END $$"
             % (self.a.hosts - 1, verifier))
        if self.a.history:
            self.add_history(self.a.history)
        for path in self.a.sql:
            with open(path) as f:
                psql(self.su, f.read())

    def add_history(self, n):
        """n revoked requests for role=db, as a fleet that has run a while has them (written
        as the triggers would have: revisions from the counter)."""
        psql(self.su, """BEGIN; SET LOCAL session_replication_role = replica;
            INSERT INTO jitd.requests (resources, user_name, selector, duration_s,
                approvals_needed, requested_by, requested_uid, requested_on, state,
                created_at, pending_until, starts_at, expires_at, ended_at, ended_by, rev)
            SELECT '{logs}', 'daemon', '{"role": "db"}', 600, 0, 'daemon', 1, 'sim0',
                'revoked', t, t, t, t + interval '10 min', t + interval '1 min', 'daemon', g
            FROM generate_series(1, %d) g,
                 LATERAL (SELECT now() - interval '30 days' + g * interval '1 min') x(t);
            UPDATE jitd.counter SET rev = %d; COMMIT;""" % (n, n))

    def push_policy(self):
        path = os.path.join(self.top, "fleet-policy.json")
        with open(path, "w") as f:
            json.dump(POLICY, f)
        sh(os.path.join(self.build, "jitctl"), "fleet", "policy", "push", path, "--db",
           "%s user=fadmin password=%s" % (self.base, PW))

    def start_sims(self):
        local = os.path.join(self.top, "local-policy.json")
        with open(local, "w") as f:
            json.dump(LOCAL_POLICY, f)
        subprocess.run(["rm", "-rf", self.state], check=True)
        os.makedirs(self.state)
        tmpl = "%s user=sim%%d password=%s" % (self.base, PW)
        k, n = self.a.procs, self.a.hosts
        first = 0
        t0 = time.time()
        for i in range(k):
            share = n // k + (i < n % k)
            self.sims.append(Sim(self.build, tmpl, local, self.state, first, share, self.labels,
                                 os.path.join(self.top, "sim%d.log" % i)))
            first += share
        self.sim_of = {h: s for s in self.sims for h in s.hosts}
        ok = wait_until(lambda: sum(len(s.up) for s in self.sims) == n, self.a.connect_timeout)
        self.out["connect_s"] = time.time() - t0
        self.out["connect_link_drops"] = sum(s.downs for s in self.sims)
        if not ok:
            raise RuntimeError("only %d of %d hosts up after %d s; %s" % (
                sum(len(s.up) for s in self.sims), n, self.a.connect_timeout,
                [s.tail for s in self.sims if s.tail]))

    # -- rounds --

    def commit_ns(self, fid):
        return int(self.db.one("SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) "
                               "* 1e9)::bigint FROM jitd.requests WHERE id = %d" % fid))

    def fan_out(self, host, req, present):
        """Send req to host, wait until every db host has (present) or lacks its fleet id.
        A dict of the times."""
        sim = self.sim_of[host]
        marks = [len(s.events) for s in self.sims]
        t0 = time.time_ns()
        r = sim.call(host, REQUESTER_UID, req)
        t_reply = time.time_ns()
        fid = r.get("fleet", {}).get("fleet_id") or req.get("fleet_id")
        if not r.get("ok") or not fid:
            raise RuntimeError("host %d: %s -> %s" % (host, req, r))
        key = "f%d" % fid
        done = wait_until(lambda: all((key in self.sim_of[h].grants.get(h, ())) == present
                                      for h in self.db_hosts), self.a.fanout_timeout)
        t = first_times(self.sims, marks, key, present, set(self.db_hosts))
        return {"fid": fid, "t0": t0, "reply": t_reply, "commit": self.commit_ns(fid),
                "times": t, "missing": len(self.db_hosts) - len(t), "done": done,
                "marks": marks}

    def one_round(self, i):
        n = len(self.db_hosts)
        requester = self.db_hosts[(i * 7919) % n]
        revoker = self.db_hosts[(i * 7919 + n // 2) % n]
        g = self.fan_out(requester, {"op": "request", "resources": ["logs"], "duration_s": 900,
                                     "reason": "bench round %d" % i, "hosts": {"role": "db"}},
                         True)
        time.sleep(self.a.gap)
        v = self.fan_out(revoker, {"op": "revoke", "fleet_id": g["fid"]}, False)
        key = "f%d" % g["fid"]
        leaked = len(first_times(self.sims, g["marks"], key, True, self.web_hosts))
        self.rounds.append({"grant": g, "revoke": v, "web_leaks": leaked})
        if g["missing"] or v["missing"] or leaked:
            self.failed += 1
            print("round %d: f%d: %d hosts never got it, %d never lost it, %d web hosts got "
                  "it" % (i, g["fid"], g["missing"], v["missing"], leaked), flush=True)
        time.sleep(self.a.gap)

    # -- samples --

    def sample(self):
        wal = self.db.rows("SELECT wal_records, wal_sync FROM pg_stat_wal")[0]
        return {"t": time.time(), "pg": pg_cpu(self.postmaster), "sims": sims_cpu(self.sims),
                "me": sum(os.times()[:2]), "machine": machine_cpu(),
                "commits": int(self.db.one("SELECT xact_commit FROM pg_stat_database "
                                           "WHERE datname = 'jitd'")),
                "wal_records": int(wal[0]), "wal_syncs": int(wal[1])}

    def phase(self, a, b):
        d = {k: b[k] - a[k] for k in a}
        d["wall"] = d.pop("t")
        d["other"] = d.pop("machine") - d["pg"] - d["sims"] - d["me"]
        return d

    def top_statements(self, n=6):
        return [{"calls": int(c), "total_ms": float(t), "mean_ms": float(m), "rows": int(r),
                 "query": short(q)}
                for c, t, m, r, q in self.db.rows(
                    "SELECT sum(calls), round(sum(total_exec_time)::numeric, 1), "
                    "round((sum(total_exec_time) / sum(calls))::numeric, 3), sum(rows), "
                    "regexp_replace(min(query), '\\s+', ' ', 'g') FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM "
                    "pg_database WHERE datname = 'jitd') GROUP BY queryid "
                    "ORDER BY 2 DESC LIMIT %d" % n)]

    def idle(self):
        """IDLE seconds of heartbeats alone: CPU, commits, resyncs per second."""
        time.sleep(2)
        self.db.rows("SELECT pg_stat_statements_reset()")
        a = self.sample()
        time.sleep(self.a.idle)
        b = self.sample()
        self.out["idle"] = self.phase(a, b)
        per_s = self.beats.per_second(int(a["t"] * 1e9), int(b["t"] * 1e9), 1)
        self.out["idle"]["resyncs_per_s"] = per_s
        self.out["idle_statements"] = self.top_statements()

    def memory(self):
        rss = sum(status_kb(s.p.pid, "VmRSS") for s in self.sims)
        pss = sum(status_kb(p, "Pss", "smaps_rollup") for p in server_pids(self.postmaster))
        self.out["sim_rss_kb"] = rss
        self.out["pg_pss_kb"] = pss
        self.out["connections"] = int(self.db.one("SELECT count(*) FROM pg_stat_activity"))
        self.out["host_connections"] = int(self.db.one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jitd'"))

    # -- run --

    def run(self):
        os.makedirs(self.top, exist_ok=True)
        try:
            self.start_server()
            self.make_schema_and_roles()
            self.push_policy()
            self.db = DB(self.su)
            self.beats = Heartbeats(self.su)
            self.beats.start()
            c0 = self.sample()
            self.start_sims()
            time.sleep(2)
            self.out["connect"] = self.phase(c0, self.sample())
            self.memory()
            self.db.rows("SELECT pg_stat_statements_reset()")
            r0 = self.sample()
            for i in range(self.a.rounds):
                self.one_round(i)
            self.out["rounds_phase"] = self.phase(r0, self.sample())
            self.out["round_statements"] = self.top_statements()
            self.idle()
            self.memory()
        finally:
            for s in self.sims:
                s.stop()
            if hasattr(self, "beats"):
                self.beats.close()
            if hasattr(self, "db"):
                self.db.close()
            if not self.a.keep:
                subprocess.run([PG, "stop-all", self.dir], capture_output=True)
        self.figures()
        self.report()
        return 1 if self.failed else 0

    def figures(self):
        lat = {k: [] for k in ("grant_send", "grant_commit", "revoke_send", "revoke_commit",
                               "revoke_reply", "revoke_commit_wait")}
        spread = []
        for r in self.rounds:
            for kind in ("grant", "revoke"):
                x = r[kind]
                for t in x["times"].values():
                    lat[kind + "_send"].append((t - x["t0"]) / 1e6)
                    lat[kind + "_commit"].append((t - x["commit"]) / 1e6)
            v = r["revoke"]
            lat["revoke_reply"].append((v["reply"] - v["t0"]) / 1e6)
            lat["revoke_commit_wait"].append((v["commit"] - v["t0"]) / 1e6)
            # within one process, hosts are served one after the other: the last one's
            # latency minus the first one's, per host of that process
            for s in self.sims:
                ts = sorted(v["times"][h] for h in s.hosts if h in v["times"])
                if len(ts) > 1:
                    spread.append({"first": (ts[0] - v["commit"]) / 1e6,
                                   "last": (ts[-1] - v["commit"]) / 1e6,
                                   "per_host": (ts[-1] - ts[0]) / 1e6 / (len(ts) - 1)})
        self.out["per_round"] = [{
            "grant_max_ms": max((t - r["grant"]["t0"]) / 1e6 for t in r["grant"]["times"].values()),
            "revoke_max_ms": max((t - r["revoke"]["t0"]) / 1e6
                                 for t in r["revoke"]["times"].values()),
            "resyncs_during_revoke": self.beats.between(
                r["revoke"]["t0"], max(r["revoke"]["times"].values()))}
            for r in self.rounds if r["grant"]["times"] and r["revoke"]["times"]]
        self.out["lat"] = {k: dist(v) for k, v in lat.items()}
        # CPU a fan-out costs per host, heartbeats (the idle rate) taken out: what fan-out time
        # the CPUs allow at best, however the work is spread (each process's own CPU time:
        # other load on the machine barely changes it)
        ph, idle = self.out["rounds_phase"], self.out["idle"]
        fanouts = 2 * len(self.rounds) * len(self.db_hosts)
        for k in ("pg", "sims"):
            self.out["%s_ms_per_host_fanout" % k] = 1000 * max(
                0, ph[k] - idle[k] / idle["wall"] * ph["wall"]) / max(1, fanouts)
        self.out["cpu_bound_fanout_ms"] = len(self.db_hosts) * (
            self.out["pg_ms_per_host_fanout"] + self.out["sims_ms_per_host_fanout"]) / (
            os.cpu_count())
        self.out["proc_first_ms"] = dist([x["first"] for x in spread])
        self.out["proc_last_ms"] = dist([x["last"] for x in spread])
        self.out["proc_per_host_ms"] = dist([x["per_host"] for x in spread])
        self.out["samples_per_round"] = len(self.db_hosts)

    def report(self):
        a, o = self.a, self.out
        w = lambda *x: print(*x, flush=True)
        w()
        w("fleet benchmark: %d simulated hosts (%d role=db, %d role=web) in %d fleet_sim "
          "processes, one PostgreSQL 15 on 127.0.0.1, %d CPUs, %d rounds, state files in %s%s"
          % (a.hosts, len(self.db_hosts), len(self.web_hosts), a.procs, os.cpu_count(),
             len(self.rounds), self.state, ", %d ended requests in history" % a.history
             if a.history else ""))
        w("NOTE: each fleet_sim process serves its hosts one after the other on one loop "
          "(blocking queries, one state-file fsync per change), so a notification fans out "
          "serially within a process, and the processes share the CPUs with PostgreSQL. A real "
          "fleet has one jitd per machine, all applying in parallel: the figures bound the "
          "database side from above, not a real fleet's latency.")
        w()
        w("%-44s %9s %9s %9s %9s %7s" % ("latency (ms)", "p50", "p95", "p99", "max", "n"))
        names = [("grant_send", "grant fan-out, from send"),
                 ("grant_commit", "grant fan-out, from commit"),
                 ("revoke_send", "revoke fan-out, from send"),
                 ("revoke_commit", "revoke fan-out, from commit"),
                 ("revoke_commit_wait", "revoke: send to commit"),
                 ("revoke_reply", "revoke: send to reply")]
        for k, label in names:
            d = o["lat"][k]
            w("%-44s %9.1f %9.1f %9.1f %9.1f %7d" % (label, d["p50"], d["p95"], d["p99"],
                                                     d["max"], d["n"]))
        w("(from send: from just before the harness wrote the verb to the sim; from commit: "
          "from the commit timestamp of the database transaction)")
        for k, label in (("proc_first_ms", "revoke: first host of a process, from commit"),
                         ("proc_last_ms", "revoke: last host of a process, from commit"),
                         ("proc_per_host_ms", "revoke: serial cost per host in a process")):
            d = o[k]
            w("%-44s %9.2f %9.2f %9.2f %9.2f %7d" % (label, d["p50"], d["p95"], d["p99"],
                                                     d["max"], d["n"]))
        w("CPU per host and fan-out (heartbeats taken out): PostgreSQL %.2f ms, fleet_sim "
          "%.2f ms: %d hosts need %.0f ms of the %d CPUs at best"
          % (o["pg_ms_per_host_fanout"], o["sims_ms_per_host_fanout"], len(self.db_hosts),
             o["cpu_bound_fanout_ms"], os.cpu_count()))
        p99 = o["lat"]["revoke_send"]["p99"]
        w()
        w("target revoke p99 < 1000 ms (from send): %s (%.0f ms)"
          % ("MET" if p99 < 1000 else "NOT MET", p99))
        busy = o["rounds_phase"]["other"] / (o["rounds_phase"]["wall"] * os.cpu_count())
        if busy > 0.1:
            w("WARNING: other processes used %.0f%% of the machine's CPU during the rounds: "
              "the latencies are worse than on a quiet machine" % (100 * busy))
        w("hosts up %.1f s after start (all connecting at once), %d link drops while connecting"
          % (o["connect_s"], o["connect_link_drops"]))
        w("connections: %d in pg_stat_activity, %d of them hosts (the rest: the harness's 2 "
          "sessions, the server's own processes)"
          % (o["connections"], o["host_connections"]))
        w("memory: fleet_sim RSS %.0f MiB = %.0f KiB per host; PostgreSQL PSS %.0f MiB = %.0f "
          "KiB per connection" % (o["sim_rss_kb"] / 1024, o["sim_rss_kb"] / a.hosts,
                                  o["pg_pss_kb"] / 1024, o["pg_pss_kb"] / o["connections"]))
        w()
        w("%-26s %7s %10s %10s %8s %8s %9s %9s" % (
            "CPU seconds", "wall", "PostgreSQL", "fleet_sims", "harness", "other", "commits",
            "WAL syncs"))
        for k, label in (("connect", "connect (%d hosts)" % a.hosts),
                         ("rounds_phase", "%d rounds" % len(self.rounds)),
                         ("idle", "idle")):
            d = o[k]
            w("%-26s %7.1f %10.2f %10.2f %8.2f %8.2f %9d %9d" % (
                label, d["wall"], d["pg"], d["sims"], d["me"], d["other"], d["commits"],
                d["wal_syncs"]))
        d = o["idle"]
        w("%-26s %7s %10.3f %10.3f %8s %8.3f %9.1f %9.1f" % (
            "idle, per second", "", d["pg"] / d["wall"], d["sims"] / d["wall"], "",
            d["other"] / d["wall"], d["commits"] / d["wall"], d["wal_syncs"] / d["wall"]))
        w("(other: the rest of the machine, kernel work for these processes included, e.g. "
          "softirq, and whatever else runs here: a busy machine makes the figures worse)")
        w("idle: %d hosts resync every %d s = %.0f resyncs/s on average; counted per second "
          "(+-1 s): %s" % (a.hosts, RESYNC_S, a.hosts / RESYNC_S,
                           " ".join(str(x) for x in d["resyncs_per_s"])))
        w()
        w("per round: the slowest host, ms; host resyncs (heartbeats) while the revoke fanned "
          "out")
        w("  grant:  " + " ".join("%5.0f" % x["grant_max_ms"] for x in o["per_round"]))
        w("  revoke: " + " ".join("%5.0f" % x["revoke_max_ms"] for x in o["per_round"]))
        w("  resyncs:" + " ".join("%5s" % x["resyncs_during_revoke"] for x in o["per_round"]))
        for k, label in (("round_statements", "during the rounds"), ("idle_statements", "idle")):
            w()
            w("top statements by execution time, %s (pg_stat_statements, all hosts):" % label)
            w("%8s %10s %9s %8s  %s" % ("calls", "total ms", "mean ms", "rows", "query"))
            for s in o[k]:
                w("%8d %10.1f %9.3f %8d  %s" % (s["calls"], s["total_ms"], s["mean_ms"],
                                               s["rows"], s["query"]))
        summary = {"hosts": a.hosts, "db_hosts": len(self.db_hosts), "procs": a.procs,
                   "rounds": len(self.rounds), "history": a.history, "state_dir": self.state,
                   "failed_rounds": self.failed, "cpus": os.cpu_count()}
        summary.update({k: v for k, v in o.items() if not k.endswith("statements")})
        w()
        w("fleet-bench-json " + json.dumps(rounded(summary), sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=4, help="fleet_sim processes")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--idle", type=float, default=30, help="seconds of idle measurement")
    ap.add_argument("--gap", type=float, default=1.0, help="seconds between fan-outs")
    ap.add_argument("--state-dir", help="where the hosts' state files go (default BUILD)")
    ap.add_argument("--web-every", type=int, default=0, help="every M-th host is role=web")
    ap.add_argument("--history", type=int, default=0, help="ended requests put in first")
    ap.add_argument("--sql", action="append", default=[], metavar="FILE",
                    help="SQL run as superuser after the schema (to try a schema change)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the server running (stop: tests/fleet/pg.sh stop-all "
                    "BUILD/fleet-bench/pg)")
    ap.add_argument("--connect-timeout", type=float, default=300)
    ap.add_argument("--fanout-timeout", type=float, default=120)
    a = ap.parse_args()
    if not 1 <= a.procs <= a.hosts <= 4096:
        ap.error("need 1 <= procs <= hosts <= 4096")
    for f in ("jitctl", "tests/fleet_sim"):
        if not os.access(os.path.join(a.build, f), os.X_OK):
            ap.error("%s/%s missing: make %s/%s" % (a.build, f, a.build, f))
    return Bench(a).run()


if __name__ == "__main__":
    sys.exit(main())
