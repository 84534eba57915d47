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

Python 3 standard library only. Usage:

    python3 Tools/crash.py [--ledger-bin PATH] [--trials KILLS | --quick] [--seed S] [--keep] [--workdir DIR]

Exit status 0 when nothing was lost, duplicated, partial or unverifiable; 1 otherwise; 2 when the
setup itself failed.
"""

import argparse
import collections
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evidence_common import log_argv, parse_log_page, uuid7  # noqa: E402

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


class Failure(Exception):
    pass


class Harness:
    def __init__(self, args):
        self.bin = args.ledger_bin
        self.dir = args.workdir
        self.ledger = os.path.join(self.dir, "crash.ledger")
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

    def leftovers(self):
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
    args = ap.parse_args()
    if args.quick:
        args.trials = 20
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

    # -- the trials --
    stats = collections.Counter()
    leftover_seen = collections.Counter()
    max_wal = 0
    trial = 0
    # Trials go on until the wanted number of kills has landed while the work ran (a kill that
    # comes after the process finished proves nothing); the cap only guards against a machine
    # so fast that kills never land.
    while stats["kills landed while running"] < args.trials and trial < 50 * args.trials:
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


if __name__ == "__main__":
    sys.exit(main())
