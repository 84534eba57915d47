#!/usr/bin/env python3
"""Crash test for `ledger append` / `ledger checkpoint` (issue 6, "evidence it holds").

Runs appenders and kills them with SIGKILL at random moments, then checks that the ledger
still holds what it promised:

  * `ledger verify` exits 0 after every kill (the file reopens and the whole log verifies);
  * every ACKNOWLEDGED event (its process exited 0 and printed `appended INDEX` or
    `exists INDEX` for it) is in `ledger log --json` exactly once;
  * no event id is ever in the log twice;
  * a killed `--batch` append is all-or-nothing: all of its ids are in the log, or none;
  * re-submitting an unacknowledged event (same id) is safe: it ends up in the log exactly once,
    reported as `exists INDEX` if the killed run had committed it, `appended INDEX` otherwise.

Work per trial: a single `ledger append` of one event, an `ledger append --batch` of 1-200
events (one transaction; some batches also correct their own reports), or now and then a
`ledger checkpoint`. The kill delay is drawn uniformly from 0 to 1.5x the measured typical run
time of that kind of work (measured on the same ledger before the trials), so a good share of the
kills land while the process runs. A kill that lands after the process exited is not counted
as "landed".

Durability across power loss is not simulated here (that needs root / a fault-injecting block
device). What makes an acknowledged append survive one is SQLite's WAL journal with
`PRAGMA synchronous = FULL`, which the ledger sets on every writable connection
(Sources/LedgerStore/SQLiteLedger.swift, `SQLiteLedger.configuration`): the WAL is fsynced at
every commit, before `ledger append` prints `appended` and exits 0. GRDB's own `.wal` mode (which
lowers synchronous to NORMAL) is deliberately not used.

PostgreSQL mode (`--postgres`): the script starts its own throwaway cluster with `Tools/pg.sh
start` (Unix socket only), makes a fresh database in it with `createdb`, and runs the same setup
(`init`, key enrollments) with the database's `postgres://` URL as `--ledger`, the same
measurements and the same kill -9 schedule, and after each kill the same checks: `ledger verify`
exits 0, every acknowledged (or printed) event is in the log exactly once at its index, no id is
twice in the log, a killed batch is all in or all out, re-submission answers `exists`/`appended`.
Differences, all because there is no ledger file:

  * the checks of what SQLite leaves beside the file (`-wal`/`-shm`/`-journal`, their sizes in
    bytes) are skipped; the "left beside the ledger" line of the summary says so;
  * after a kill, and before any check, the script waits until the killed process's server
    session has ended (no other client backend on the database in `pg_stat_activity`): a COMMIT
    the client wrote to the socket just before SIGKILL is still executed by the server, so
    checking earlier could count a batch as "not committed" that commits a moment later.

Once in a PostgreSQL run (when half of the kills have landed) the server itself is stopped
(`Tools/pg.sh pause DIR`, `pg_ctl -m immediate`) while an `append --batch` of 200 events runs:
the append must exit 74 with a message saying the server went away (nothing written) or that the
connection was lost while committing (outcome unknown); after `Tools/pg.sh resume DIR` the ledger
must verify, the batch must be all in or all out (none, if the message said nothing was written),
every acknowledged event still in the log exactly once, and the next appends (the same events
again, then a new one) must succeed. If the append finishes before the server stops, it is tried
again (at most 20 times). The cluster is stopped and deleted at the end, also on failure, Ctrl-C
or SIGTERM. An acknowledged append survives a server crash because the ledger commits with the
server's `synchronous_commit = on` (it never lowers it) and the test cluster runs with
`fsync = on`: the commit's WAL record is flushed before COMMIT returns and `append` prints.

Server mode (`--server`, with or without `--postgres`): `ledger serve` is started on loopback
(`--listen 127.0.0.1:0`) over the ledger, four client threads post envelopes signed beforehand with
`ledger sign` (one incident report each, so that any order is valid), and the server is killed
with SIGKILL after a random 50-600 ms; then it is started again for the next trial. After every
kill: `ledger verify` exits 0, every envelope that got a 201 or 200 reply is in the log exactly
once at the index of its reply, no event id is twice in the log. Envelopes whose post got no reply
are posted again in later trials: each is answered 201 (it had not been committed) or 200 with its
index (it had). At the end every envelope has been acknowledged and the log holds exactly them.

Python 3 standard library only. Usage:

    python3 Tools/crash.py [--ledger-bin PATH] [--trials KILLS | --quick] [--seed S] [--keep] [--workdir DIR] [--postgres] [--server]

Exit status 0 when nothing was lost, duplicated, partial or unverifiable; 1 otherwise; 2 when the
setup itself failed.
"""

import argparse
import collections
import http.client
import json
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evidence_common import Failure, PgCluster, log_argv, parse_log_page, uuid7  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORIGIN = "test.example/crash"


def report_event(subject, eid):
    return {
        "id": eid,
        "type": "incident.reported",
        "subject": subject,
        "expects": 0,
        "body": {"title": {"en": "crash test " + subject}, "occurred": "2016-07", "place": {"admin1": "Aleppo"}},
    }


def correction_event(subject, eid, expects):
    return {
        "id": eid,
        "type": "incident.corrected",
        "subject": subject,
        "expects": expects,
        "body": {"changes": {"occurred": "2016-08"}, "reason": "crash test correction"},
    }


class Harness:
    def __init__(self, args):
        self.bin = args.ledger_bin
        self.dir = args.workdir
        self.pg = args.pg  # a PgCluster in PostgreSQL mode, else None
        self.ledger = args.ledger_url if self.pg else os.path.join(self.dir, "crash.ledger")
        self.arch = os.path.join(self.dir, "arch.key")
        self.logkey = os.path.join(self.dir, "log.key")
        self.env = dict(os.environ)
        self.env.pop("LEDGER_PASSPHRASE", None)
        self.verbose = args.verbose

    def run(self, *argv, check=True, stdin_file=None):
        t0 = time.monotonic()
        p = subprocess.run([self.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.dir,
                           stdin=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        if check and p.returncode != 0:
            raise Failure("`ledger %s` exited %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode(errors="replace").strip()))
        return p, dt

    def setup(self):
        a = os.path.join(self.dir, "admin.key")
        self.run("key", "new", "--name", "admin", "--out", a, "--unencrypted")
        self.run("init", "--ledger", self.ledger, "--origin", ORIGIN, "--admin-key", a)
        self.run("key", "new", "--name", "arch", "--out", self.arch, "--unencrypted")
        self.run("key", "enroll", "--ledger", self.ledger, "--key", a, "--public-key-file", self.arch, "--roles", "archivist")
        self.run("key", "new", "--name", "log", "--out", self.logkey, "--unencrypted")
        self.run("key", "enroll", "--ledger", self.ledger, "--key", a, "--public-key-file", self.logkey, "--roles", "log")

    def write_events(self, name, events):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        return path

    def append_argv(self, path, batch):
        return ["append", "--ledger", self.ledger, "--key", self.arch] + (["--batch"] if batch else []) + [path]

    def log_ids(self):
        """Every entry's event id -> list of indexes, plus the entry count."""
        ids = collections.defaultdict(list)
        n = 0
        while True:
            p, _ = self.run(*log_argv(self.ledger, n), check=False)
            if p.returncode != 0:
                raise Failure("`ledger log --json` exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace").strip()))
            entries, last = parse_log_page(p.stdout.decode())
            for o in entries:
                ids[o["id"]].append(o["index"])
                if o["index"] != n:
                    raise Failure("`ledger log --json` line %d has index %s" % (n, o["index"]))
                n += 1
            if last:
                return ids, n

    def verify(self):
        p, _ = self.run("verify", "--ledger", self.ledger, check=False)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace").strip()

    def settle(self, timeout=60.0):
        """PostgreSQL mode: waits until no other session is connected to the ledger's database (the
        killed process's backend has finished, committing or rolling back what it was sent).
        Returns the time waited, in seconds, or None when the sessions did not end in time."""
        t0 = time.monotonic()
        while self.pg.other_sessions() > 0:
            if time.monotonic() - t0 > timeout:
                return None
            time.sleep(0.005)
        return time.monotonic() - t0

    def leftovers(self):
        if self.pg:
            return {}  # no ledger file: nothing of SQLite's to look at (skipped in PostgreSQL mode)
        base = os.path.basename(self.ledger)
        out = {}
        for name in os.listdir(self.dir):
            if name.startswith(base) and name != base:
                out[name[len(base):]] = os.path.getsize(os.path.join(self.dir, name))
        return out


def parse_acks(stdout, n):
    """The `appended INDEX` / `exists INDEX` lines, one per event, in order."""
    lines = [l for l in stdout.decode(errors="replace").splitlines() if l.strip()]
    acks = []
    for l in lines[:n]:
        parts = l.split()
        if len(parts) == 2 and parts[0] in ("appended", "exists") and parts[1].isdigit():
            acks.append((parts[0], int(parts[1])))
        else:
            break
    return acks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build/release/ledger"),
                    help="the ledger binary (default: .build/release/ledger under the repository root)")
    ap.add_argument("--trials", type=int, default=200,
                    help="kills that must land while the work runs (default 200); trials go on until they have")
    ap.add_argument("--quick", action="store_true", help="20 landed kills (for CI)")
    ap.add_argument("--seed", type=int, default=None, help="seed for a reproducible schedule (printed when not given)")
    ap.add_argument("--workdir", default=None, help="directory for the ledger and keys (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per trial")
    ap.add_argument("--server", action="store_true",
                    help="kill `ledger serve` while clients post to it, instead of `ledger append` (every 201/200 must be in the log)")
    ap.add_argument("--postgres", action="store_true",
                    help="keep the ledger in a database of a throwaway PostgreSQL cluster (Tools/pg.sh) instead of a SQLite file")
    args = ap.parse_args()
    if args.quick:
        args.trials = 10 if args.server else 20
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    args.ledger_bin = os.path.abspath(args.ledger_bin)
    if not os.access(args.ledger_bin, os.X_OK):
        print("crash.py: no ledger binary at %s (build it, or pass --ledger-bin)" % args.ledger_bin, file=sys.stderr)
        return 2
    made_dir = args.workdir is None
    if made_dir:
        args.workdir = tempfile.mkdtemp(prefix="ledger-crash-")
    else:
        os.makedirs(args.workdir, exist_ok=True)
    args.workdir = os.path.abspath(args.workdir)
    rng = random.Random(args.seed)
    print("crash.py: seed %d, %d trials, binary %s, work dir %s" % (args.seed, args.trials, args.ledger_bin, args.workdir), flush=True)
    args.pg = None
    trials = run_server_trials if args.server else run_trials
    if not args.postgres:
        return trials(args, rng, made_dir)
    # PostgreSQL mode: a cluster of our own, stopped and deleted whatever happens (SIGTERM too).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args.pg = PgCluster("crash.py")
    try:
        try:
            args.pg.start()
            args.ledger_url = args.pg.createdb("ledger_crash")
        except (Failure, subprocess.TimeoutExpired) as e:
            print("crash.py: starting PostgreSQL failed: %s" % e, file=sys.stderr)
            return 2
        print("crash.py: PostgreSQL cluster %s, ledger %s" % (args.pg.dir, args.ledger_url), flush=True)
        return trials(args, rng, made_dir)
    finally:
        args.pg.stop()


def run_trials(args, rng, made_dir):
    h = Harness(args)
    t_start = time.monotonic()
    try:
        h.setup()
    except Failure as e:
        print("crash.py: setup failed: %s" % e, file=sys.stderr)
        return 2

    problems = []  # human-readable descriptions of every failure
    acked = {}  # event id -> index it was acknowledged at
    submitted = set()  # every event id ever handed to ledger append
    counter = [0]

    def new_subject():
        counter[0] += 1
        return "incident:crash-%06d" % counter[0]

    def make_batch(n):
        events = []
        while len(events) < n:
            s = new_subject()
            events.append(report_event(s, uuid7()))
            if len(events) < n and rng.random() < 0.25:
                events.append(correction_event(s, uuid7(), 1))
        return events

    # -- measure the typical run time of each kind of work (on this machine, this ledger) --
    def timed(argv):
        t0 = time.monotonic()
        p = subprocess.Popen([h.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
        out, err = p.communicate()
        if p.returncode != 0:
            raise Failure("`ledger %s` exited %d: %s" % (" ".join(argv), p.returncode, err.decode(errors="replace").strip()))
        return time.monotonic() - t0, out

    try:
        single_t, batch_pts, cp_t = [], [], []
        for i in range(7):
            ev = make_batch(1)
            dt, out = timed(h.append_argv(h.write_events("measure.json", ev), False))
            single_t.append(dt)
            for (st, idx), e in zip(parse_acks(out, 1), ev):
                acked[e["id"]] = idx
            submitted.update(e["id"] for e in ev)
        for n in (1, 50, 100, 200, 200):
            ev = make_batch(n)
            dt, out = timed(h.append_argv(h.write_events("measure.jsonl", ev), True))
            batch_pts.append((n, dt))
            for (st, idx), e in zip(parse_acks(out, n), ev):
                acked[e["id"]] = idx
            submitted.update(e["id"] for e in ev)
        for i in range(3):
            dt, _ = timed(["checkpoint", "--ledger", h.ledger, "--key", h.logkey])
            cp_t.append(dt)
    except Failure as e:
        print("crash.py: measuring failed: %s" % e, file=sys.stderr)
        return 2
    t_single = statistics.median(single_t)
    t_cp = statistics.median(cp_t)
    # least squares t = a + b n for batches
    xs = [p[0] for p in batch_pts]
    ys = [p[1] for p in batch_pts]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    b = max(b, 0.0)
    a = max(my - b * mx, 0.001)
    print("crash.py: typical run times: single append %.1f ms, batch %.1f ms + %.3f ms/event, checkpoint %.1f ms"
          % (t_single * 1e3, a * 1e3, b * 1e3, t_cp * 1e3), flush=True)

    # -- PostgreSQL mode, once: the server stops (pg_ctl -m immediate) while an append runs --
    pause_done = [False]
    pg_waits = []  # seconds waited for a killed process's server session to end
    pause_report = []

    def cumulative_acked_check(label, ids):
        for eid, idx in acked.items():
            got = ids.get(eid, [])
            if len(got) == 0:
                stats["lost"] += 1
                problems.append("%s: acknowledged event %s (index %d) is not in the log" % (label, eid, idx))
            elif got != [idx]:
                stats["duplicated" if len(got) > 1 else "moved"] += 1
                problems.append("%s: acknowledged event %s (index %d) is in the log at %s" % (label, eid, idx, got))

    def server_stop_test(trial):
        label = "server stop (after trial %d)" % trial
        n = 200
        expected = a + b * n
        for attempt in range(1, 21):
            events = make_batch(n)
            path = h.write_events("pause.jsonl", events)
            argv = h.append_argv(path, True)
            submitted.update(e["id"] for e in events)
            # the pause takes a few ms to reach the server (bash, runuser, pg_ctl): start it early in the run
            delay = rng.uniform(0.0, 0.5) * expected
            p = subprocess.Popen([h.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
            time.sleep(delay)
            t_pause = time.monotonic()
            h.pg.pause()
            pause_ms = (time.monotonic() - t_pause) * 1e3
            try:
                out, err = p.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                problems.append("%s: `ledger append --batch` still ran 120 s after the server stopped (killed)" % label)
            errtext = err.decode(errors="replace").strip()
            acks = parse_acks(out, len(events))
            h.pg.resume()
            if p.returncode == 0:
                # committed before the server went down: acknowledged like any other append; try again
                if len(acks) != len(events):
                    problems.append("%s: exited 0 but printed %d acknowledgements for %d events" % (label, len(acks), len(events)))
                for (st, idx), e in zip(acks, events):
                    acked[e["id"]] = idx
                stats["server stop: append finished first"] += 1
                continue
            stats["server stop: append interrupted"] += 1
            lost_commit = "lost while committing" in errtext and "may or may not have been stored" in errtext
            went_away = "server went away or cannot be reached" in errtext and "nothing was written" in errtext
            if p.returncode != 74 or not (lost_commit or went_away):
                problems.append("%s: `ledger append --batch` exited %d (expected 74, server went away / commit outcome unknown): %s"
                                % (label, p.returncode, errtext))
            rc, text = h.verify()
            if rc != 0:
                stats["verify failures"] += 1
                problems.append("%s: ledger verify after the restart exited %d: %s" % (label, rc, text))
            ids, size = h.log_ids()
            present = [len(ids.get(e["id"], [])) for e in events]
            stored = sum(1 for c in present if c)
            if any(c > 1 for c in present):
                stats["duplicated"] += sum(1 for c in present if c > 1)
                problems.append("%s: the interrupted batch left an event id in the log more than once" % label)
            if 0 < stored < len(events):
                stats["partial batches"] += 1
                problems.append("%s: the interrupted batch of %d events left %d of them in the log" % (label, len(events), stored))
            if went_away and stored:
                problems.append("%s: the append said nothing was written, but %d of its %d events are in the log" % (label, stored, len(events)))
            for (st, idx), e in zip(acks, events):
                if ids.get(e["id"]) != [idx]:
                    stats["lost"] += 1
                    problems.append("%s: event %s printed `%s %d` but the log has it at %s" % (label, e["id"], st, idx, ids.get(e["id"])))
            cumulative_acked_check(label, ids)
            # the next appends: the same events again (idempotent), then a new one
            rp = subprocess.run([h.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
            racks = parse_acks(rp.stdout, len(events))
            if rp.returncode != 0 or len(racks) != len(events):
                problems.append("%s: re-submitting the interrupted batch after the restart exited %d: %s"
                                % (label, rp.returncode, rp.stderr.decode(errors="replace").strip()))
            else:
                for (st, idx), e, c in zip(racks, events, present):
                    want = "exists" if c else "appended"
                    if st != want or (c and ids[e["id"]] != [idx]):
                        problems.append("%s: re-submitted %s answered `%s %d`, expected %s" % (label, e["id"], st, idx, want))
                    acked[e["id"]] = idx
            one = make_batch(1)
            submitted.update(e["id"] for e in one)
            np_ = subprocess.run([h.bin, *h.append_argv(h.write_events("pause-next.json", one), False)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
            nacks = parse_acks(np_.stdout, 1)
            if np_.returncode != 0 or len(nacks) != 1 or nacks[0][0] != "appended":
                problems.append("%s: the next append after the restart exited %d: %s"
                                % (label, np_.returncode, np_.stderr.decode(errors="replace").strip()))
            else:
                acked[one[0]["id"]] = nacks[0][1]
            rc2, _ = h.verify()
            if rc2 != 0:
                stats["verify failures"] += 1
                problems.append("%s: ledger verify after the next appends exited %d" % (label, rc2))
            pause_report.append("server stopped (pg.sh pause, %.0f ms) %.1f ms into a batch of %d, attempt %d: exit %d, %s; batch %s; "
                                "verify after restart %d; re-submitted batch exit %d, next append exit %d"
                                % (pause_ms, delay * 1e3, n, attempt, p.returncode,
                                   "commit outcome unknown" if lost_commit else "server went away" if went_away else "unexpected message",
                                   "all in the log" if stored == len(events) else "none in the log" if stored == 0 else "PARTIAL",
                                   rc, rp.returncode, np_.returncode))
            pause_report.append("  message: " + errtext)
            return
        problems.append("%s: in 20 attempts the append always finished before the server stopped" % label)

    # -- the trials --
    stats = collections.Counter()
    leftover_seen = collections.Counter()
    max_wal = 0
    trial = 0
    # Trials go on until the wanted number of kills has landed while the work ran (a kill that
    # comes after the process finished proves nothing); the cap only guards against a machine
    # so fast that kills never land.
    while stats["kills landed while running"] < args.trials and trial < 50 * args.trials:
        if h.pg and not pause_done[0] and stats["kills landed while running"] >= args.trials // 2:
            pause_done[0] = True
            try:
                server_stop_test(trial)
            except (Failure, subprocess.TimeoutExpired) as e:
                problems.append("server stop (after trial %d): %s" % (trial, e))
        trial += 1
        r = rng.random()
        if r < 0.42:
            kind, events = "single", make_batch(1)
            expected = t_single
        elif r < 0.92:
            kind = "batch"
            n = rng.randint(1, 200)
            events = make_batch(n)
            expected = a + b * n
        else:
            kind, events = "checkpoint", []
            expected = t_cp
        frac = rng.uniform(0.0, 1.5)
        resubmit_if_killed = rng.random() < 0.5
        delay = frac * expected
        if kind == "checkpoint":
            argv = ["checkpoint", "--ledger", h.ledger, "--key", h.logkey]
        else:
            path = h.write_events("trial.jsonl", events)
            argv = h.append_argv(path, kind == "batch")
            submitted.update(e["id"] for e in events)
        stats[kind] += 1
        p = subprocess.Popen([h.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
        t0 = time.monotonic()
        deadline = t0 + delay
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            time.sleep(min(deadline - now, 0.002))
        try:
            p.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        killed = p.returncode == -signal.SIGKILL
        errtext = err.decode(errors="replace").strip()
        note = ""
        if not killed and p.returncode != 0:
            problems.append("trial %d (%s): exited %d without being killed: %s" % (trial, kind, p.returncode, errtext))
            stats["unexpected exits"] += 1
        acks = parse_acks(out, len(events))
        if not killed and p.returncode == 0 and kind != "checkpoint":
            if len(acks) != len(events):
                problems.append("trial %d: exited 0 but printed %d acknowledgements for %d events" % (trial, len(acks), len(events)))
            for (st, idx), e in zip(acks, events):
                acked[e["id"]] = idx
        if killed:
            stats["kills landed while running"] += 1
            stats["killed " + kind] += 1
            if h.pg:
                # the killed client's server session may still run what it was sent (even COMMIT)
                waited = h.settle()
                if waited is None:
                    problems.append("trial %d: the killed %s's PostgreSQL session was still open 60 s after the kill" % (trial, kind))
                    stats["verify failures"] += 1
                elif waited > 0:
                    stats["server sessions still open after the kill"] += 1
                    pg_waits.append(waited)
            for k, size in h.leftovers().items():
                leftover_seen[k] += 1
                if k == "-wal":
                    max_wal = max(max_wal, size)
                    if size > 0:
                        leftover_seen["-wal (non-empty)"] += 1
            # printed before the kill but not acknowledged by exit 0: must still be in the log
            printed = [(st, idx, e) for (st, idx), e in zip(acks, events)]
            if printed:
                stats["printed before kill"] += len(printed)
            rc, text = h.verify()
            if rc != 0:
                problems.append("trial %d (%s killed after %.1f ms): ledger verify exited %d: %s" % (trial, kind, delay * 1e3, rc, text))
                stats["verify failures"] += 1
            try:
                ids, size = h.log_ids()
            except Failure as e:
                problems.append("trial %d: %s" % (trial, e))
                stats["verify failures"] += 1
                continue
            for st, idx, e in printed:
                if ids.get(e["id"]) != [idx]:
                    problems.append("trial %d: event %s printed `%s %d` before the kill but the log has it at %s"
                                    % (trial, e["id"], st, idx, ids.get(e["id"])))
                    stats["lost"] += 1
            if events:
                present = [len(ids.get(e["id"], [])) for e in events]
                if any(c > 1 for c in present):
                    stats["duplicated"] += sum(1 for c in present if c > 1)
                    problems.append("trial %d: killed %s left an event id in the log more than once" % (trial, kind))
                if kind == "batch" and len(events) > 1 and 0 < sum(1 for c in present if c) < len(events):
                    stats["partial batches"] += 1
                    problems.append("trial %d: killed batch of %d events left %d of them in the log"
                                    % (trial, len(events), sum(1 for c in present if c)))
                committed = all(present)
                stats["killed appends committed" if committed else "killed appends not committed"] += 1
                note = "committed" if committed else "not committed"
                if resubmit_if_killed:
                    # re-submit the same events (same ids): must be idempotent
                    rp = subprocess.run([h.bin, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        env=h.env, cwd=h.dir)
                    stats["resubmitted"] += 1
                    racks = parse_acks(rp.stdout, len(events))
                    if rp.returncode != 0 or len(racks) != len(events):
                        problems.append("trial %d: re-submitting the killed %s exited %d: %s"
                                        % (trial, kind, rp.returncode, rp.stderr.decode(errors="replace").strip()))
                        stats["resubmit failures"] += 1
                    else:
                        for (st, idx), e, c in zip(racks, events, present):
                            want = "exists" if c else "appended"
                            if st != want or (c and ids[e["id"]] != [idx]):
                                problems.append("trial %d: re-submitted %s answered `%s %d`, expected %s%s"
                                                % (trial, e["id"], st, idx, want, " %d" % ids[e["id"]][0] if c else ""))
                                stats["resubmit failures"] += 1
                            acked[e["id"]] = idx
                            stats["resubmit " + st] += 1
                        note += ", re-submitted: " + ("exists" if committed else "appended")
        if killed or trial % 25 == 0:
            # the cumulative checks: every acknowledged id exactly once, no id twice
            try:
                ids, size = h.log_ids()
            except Failure as e:
                problems.append("trial %d: %s" % (trial, e))
                stats["verify failures"] += 1
                continue
            for eid, idx in acked.items():
                got = ids.get(eid, [])
                if len(got) == 0:
                    stats["lost"] += 1
                    problems.append("trial %d: acknowledged event %s (index %d) is not in the log" % (trial, eid, idx))
                elif got != [idx]:
                    stats["duplicated" if len(got) > 1 else "moved"] += 1
                    problems.append("trial %d: acknowledged event %s (index %d) is in the log at %s" % (trial, eid, idx, got))
            for eid, got in ids.items():
                if len(got) > 1 and eid not in acked:
                    stats["duplicated"] += 1
                    problems.append("trial %d: event id %s is in the log %d times" % (trial, eid, len(got)))
        if args.verbose:
            print("trial %3d %-10s n=%-3d delay %6.1f ms (%.2fx) %s%s" % (trial, kind, len(events), delay * 1e3, frac,
                  "KILLED " + note if killed else "exit %d" % p.returncode, ""), flush=True)
        elif trial % 25 == 0:
            print("crash.py: %d trials, %d of %d kills landed while running" % (trial, stats["kills landed while running"], args.trials), flush=True)

    # -- final checks --
    rc, text = h.verify()
    if rc != 0:
        stats["verify failures"] += 1
        problems.append("final ledger verify exited %d: %s" % (rc, text))
    ids, size = h.log_ids()
    stray = [eid for eid in ids if eid not in submitted]
    setup_entries = len(stray)  # genesis and key enrollments
    if setup_entries != 3:
        problems.append("the log holds %d entries not submitted by this test (expected 3 setup entries)" % setup_entries)
    elapsed = time.monotonic() - t_start

    print()
    print("kinds: %d single, %d batch, %d checkpoint; killed: %d single, %d batch, %d checkpoint"
          % (stats["single"], stats["batch"], stats["checkpoint"], stats["killed single"], stats["killed batch"], stats["killed checkpoint"]))
    print("killed appends: %d had committed, %d had not; %d re-submitted (%d events `exists`, %d `appended`); %d events printed before their kill"
          % (stats["killed appends committed"], stats["killed appends not committed"], stats["resubmitted"], stats["resubmit exists"],
             stats["resubmit appended"], stats["printed before kill"]))
    left = ", ".join("%s in %d" % (k, v) for k, v in sorted(leftover_seen.items())) or "none"
    if h.pg:
        print("left beside the ledger: not checked (PostgreSQL: no ledger file)")
        print("killed processes whose server session was still open after the kill: %d (longest wait %.1f ms)"
              % (stats["server sessions still open after the kill"], max(pg_waits, default=0.0) * 1e3))
        print("server stop: %d append(s) finished before the server stopped, %d interrupted"
              % (stats["server stop: append finished first"], stats["server stop: append interrupted"]))
        for line in pause_report:
            print(line)
    else:
        print("left beside the ledger right after the kills: %s (largest -wal %d bytes); nothing else (no -journal, no temporary files)"
              % (left, max_wal) if set(leftover_seen) <= {"-wal", "-shm", "-wal (non-empty)"} else
              "left beside the ledger right after the kills: %s (largest -wal %d bytes)" % (left, max_wal))
    print("final log: %d entries (%d setup), %s" % (size, setup_entries, text.splitlines()[0] if text else ""))
    for pr in problems[:50]:
        print("FAIL: " + pr)
    if len(problems) > 50:
        print("FAIL: … and %d more" % (len(problems) - 50))
    print("trials %d, kills landed while running %d, acknowledged appends %d, lost %d, duplicated %d, partial batches %d, verify failures %d"
          % (trial, stats["kills landed while running"], len(acked), stats["lost"], stats["duplicated"], stats["partial batches"],
             stats["verify failures"]))
    print("wall time %.1f s, seed %d" % (elapsed, args.seed))
    if stats["kills landed while running"] < args.trials:
        problems.append("only %d of %d kills landed while the work ran" % (stats["kills landed while running"], args.trials))
        print("FAIL: only %d of %d kills landed while the work ran" % (stats["kills landed while running"], args.trials))
    if made_dir and not args.keep and not problems:
        shutil.rmtree(args.workdir, ignore_errors=True)
    elif problems or args.keep:
        print("work directory kept: %s" % args.workdir)
    return 1 if problems else 0


def start_server(h):
    """Starts `ledger serve` on a free loopback port; (process, base URL)."""
    p = subprocess.Popen([h.bin, "serve", "--ledger", h.ledger, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=h.env, cwd=h.dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], 0.1)
        if ready:
            line = p.stdout.readline().decode(errors="replace").strip()
            if line.startswith("listening on "):
                return p, line[len("listening on "):]
            if not line and p.poll() is not None:
                break
    p.kill()
    p.wait()
    raise Failure("`ledger serve` did not start")


def post(url, envelope, timeout=10):
    """POST one envelope: (status, reply object), or (None, reason) when no reply came."""
    req = urllib.request.Request(url + "/v1/entries", data=envelope, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def run_server_trials(args, rng, made_dir):
    h = Harness(args)
    t_start = time.monotonic()
    try:
        h.setup()
        # A pool of envelopes signed offline: one incident report each (independent of each other).
        per_trial = 800
        events = [report_event("incident:served-%06d" % i, uuid7()) for i in range((args.trials + 2) * per_trial)]
        p, _ = h.run("sign", "--key", h.arch, "--origin", ORIGIN, "--batch", h.write_events("pool.jsonl", events))
        envelopes = [l for l in p.stdout.splitlines() if l.strip()]
        if len(envelopes) != len(events):
            raise Failure("ledger sign gave %d envelopes for %d events" % (len(envelopes), len(events)))
    except Failure as e:
        print("crash.py: setup failed: %s" % e, file=sys.stderr)
        return 2
    ids = [e["id"] for e in events]
    acked = {}  # event id -> index of its 201/200 reply
    problems = []
    stats = collections.Counter()
    lock = threading.Lock()
    waiting = list(range(len(envelopes)))  # positions not acknowledged yet, in posting order
    rng.shuffle(waiting)

    def client(url, stop):
        while not stop.is_set():
            with lock:
                if not waiting:
                    return
                i = waiting.pop()
            status, reply = post(url, envelopes[i])
            with lock:
                if status in (200, 201) and isinstance(reply, dict):
                    idx = reply.get("index")
                    if reply.get("id") != ids[i]:
                        problems.append("reply for %s names event %s" % (ids[i], reply.get("id")))
                    if ids[i] in acked and acked[ids[i]] != idx:
                        problems.append("event %s acknowledged at %d, then at %s" % (ids[i], acked[ids[i]], idx))
                    if ids[i] in acked:
                        stats["re-posted: 200 existing" if status == 200 else "re-posted: 201 again (FAIL)"] += 1
                        if status != 200:
                            problems.append("event %s acknowledged twice with 201" % ids[i])
                    else:
                        stats["201" if status == 201 else "200 (committed before an earlier kill)"] += 1
                    acked[ids[i]] = idx
                elif status is None:
                    stats["posts without a reply"] += 1
                    waiting.insert(0, i)  # posted again later
                    return
                else:
                    problems.append("event %s refused: %s %s" % (ids[i], status, str(reply)[:200]))

    def check(label):
        rc, text = h.verify()
        if rc != 0:
            problems.append("%s: ledger verify exited %d: %s" % (label, rc, text[-400:]))
        logged, _ = h.log_ids()
        for eid, idx in acked.items():
            got = logged.get(eid, [])
            if got != [idx]:
                stats["lost" if not got else "moved or duplicated"] += 1
                problems.append("%s: acknowledged event %s (index %d) is in the log at %s" % (label, eid, idx, got))
        for eid, got in logged.items():
            if len(got) > 1:
                problems.append("%s: event id %s is in the log %d times" % (label, eid, len(got)))
        return logged

    landed = 0
    trial = 0
    while landed < args.trials and trial < args.trials * 3 and waiting:
        trial += 1
        server, url = start_server(h)
        stop = threading.Event()
        before = len(acked)
        threads = [threading.Thread(target=client, args=(url, stop)) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.6))
        running = server.poll() is None
        server.kill()
        server.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        if running and len(acked) > before:
            landed += 1
        if h.pg and h.settle() is None:
            problems.append("trial %d: the killed server's sessions did not end" % trial)
        check("trial %d" % trial)
        if args.verbose:
            print("trial %3d: %d acknowledged so far, %d waiting" % (trial, len(acked), len(waiting)), flush=True)
    # Everything not acknowledged yet is posted again to a server left running, then stopped cleanly.
    server, url = start_server(h)
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(url, stop)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        code = "none (killed after 30 s)"
    if code != 0:
        problems.append("the server exited %s on SIGTERM" % code)
    logged = check("final")
    if waiting:
        problems.append("%d envelopes were never acknowledged" % len(waiting))
    stray = [eid for eid in logged if eid not in acked]
    if len(stray) != 3:
        problems.append("the log holds %d entries that no reply acknowledged (expected the 3 setup entries)" % len(stray))
    for pr in problems[:50]:
        print("FAIL: " + pr)
    print("server mode: %d trials, %d kills landed while posts were being acknowledged; %s" % (
        trial, landed, ", ".join("%s %d" % kv for kv in sorted(stats.items()))))
    print("acknowledged %d of %d envelopes, lost %d; final log %d entries; wall time %.1f s, seed %d" % (
        len(acked), len(envelopes), stats["lost"], len(logged), time.monotonic() - t_start, args.seed))
    if landed < args.trials:
        problems.append("only %d of %d kills landed while posts were acknowledged" % (landed, args.trials))
        print("FAIL: only %d of %d kills landed" % (landed, args.trials))
    if made_dir and not args.keep and not problems:
        shutil.rmtree(args.workdir, ignore_errors=True)
    elif problems or args.keep:
        print("work directory kept: %s" % args.workdir)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
