#!/usr/bin/env python3
"""Concurrency test for `ledger append` (issue 6, "evidence it holds").

Several writers append to one ledger at the same time. Each writer is a thread that runs one
`ledger` process after another (so up to W ledger processes run at once), with its own
archivist key:

  * reports on subjects of its own (`incident:wK-N`, expects 0), sometimes as a small `--batch`,
    and corrections of its own earlier reports (expects known locally: never a conflict);
  * corrections of one SHARED subject that every writer corrects: read its current revision
    first (`ledger log --json`, counting the entries on that subject), sign with that
    `expects`, and on exit 4 (another writer came first) re-read and retry with the same id.

Checks:

  * exit 4 names the conflict and says what to do (`re-read`), and happens only on the shared
    subject;
  * no run ever fails because the database is busy/locked (writers must wait for each other):
    an exit 74 naming busy, or any other unexpected exit, is a failure;
  * at the end every acknowledged event id is in the log exactly once, no id twice, the number
    of entries equals acknowledged appends + setup entries, the shared subject's revision is
    1 + the acknowledged corrections of it, and `ledger verify` exits 0.

PostgreSQL mode (`--postgres`): the script starts its own throwaway cluster with `Tools/pg.sh
start` (Unix socket only), makes a fresh database in it with `createdb`, and runs the same setup,
writers, checks and verdicts with the database's `postgres://` URL as `--ledger`. Writers then
serialise on the ledger's advisory lock (FORMAT.md §16) with a 60 s `lock_timeout`: an exit 74
naming busy or the write lock (a lock timeout) is a failure, as SQLite's busy is. The cluster is
stopped and deleted at the end, also on failure, Ctrl-C or SIGTERM.

Python 3 standard library only. Usage:

    python3 Tools/concurrency.py [--ledger-bin PATH] [--writers N] [--appends N | --quick] [--seed S] [--keep] [--postgres]

Exit status 0 when everything held, 1 otherwise, 2 when the setup failed.
"""

import argparse
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evidence_common import Failure as ClusterFailure, log_argv, parse_log_page, throwaway_cluster, uuid7  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORIGIN = "test.example/concurrency"
SHARED = "incident:shared"
MAX_RETRIES = 500


def report(subject, eid, title):
    return {"id": eid, "type": "incident.reported", "subject": subject, "expects": 0,
            "body": {"title": {"en": title}, "occurred": "2016-07", "place": {"admin1": "Aleppo"}}}


def correction(subject, eid, expects, title):
    return {"id": eid, "type": "incident.corrected", "subject": subject, "expects": expects,
            "body": {"changes": {"title": {"en": title}}, "reason": "concurrency test"}}


class Failure(Exception):
    pass


class Test:
    def __init__(self, args):
        self.args = args
        self.bin = args.ledger_bin
        self.dir = args.workdir
        self.ledger = args.ledger_url if args.pg else os.path.join(self.dir, "concurrency.ledger")
        self.env = dict(os.environ)
        self.env.pop("LEDGER_PASSPHRASE", None)
        self.lock = threading.Lock()
        self.acked = {}  # event id -> index
        self.stats = collections.Counter()
        self.problems = []
        self.latencies = []

    def run(self, argv, stdin=None, timeout=180):
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.bin, *argv], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.dir,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("`ledger %s` did not finish in %d s" % (" ".join(argv[:1]), timeout))
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace").strip(), time.monotonic() - t0

    def must(self, argv):
        rc, out, err, _ = self.run(argv)
        if rc != 0:
            raise Failure("`ledger %s` exited %d: %s" % (" ".join(argv), rc, err))
        return out

    def fail(self, what, counter=None):
        with self.lock:
            self.problems.append(what)
            if counter:
                self.stats[counter] += 1

    def classify(self, who, rc, err, what):
        """Records an unexpected exit: busy/locked failures separately (PostgreSQL: a writer that
        waited out the 60 s lock_timeout on the write lock)."""
        low = err.lower()
        if "busy" in low or "locked" in low or "write lock" in low or "lock timeout" in low or "lock_timeout" in low:
            self.fail("%s: %s exited %d with a busy/locked failure: %s" % (who, what, rc, err), "busy failures")
        else:
            self.fail("%s: %s exited %d: %s" % (who, what, rc, err), "unexpected exits")

    def log_entries(self, who="final"):
        """Every entry of `ledger log --json` (paged: --limit defaults to 1000)."""
        entries = []
        while True:
            rc, out, err, _ = self.run(log_argv(self.ledger, len(entries)))
            if rc != 0:
                self.classify(who, rc, err, "ledger log")
                return None
            got, last = parse_log_page(out)
            entries.extend(got)
            if last:
                return entries

    def setup(self):
        admin = os.path.join(self.dir, "admin.key")
        self.must(["key", "new", "--name", "admin", "--out", admin, "--unencrypted"])
        self.must(["init", "--ledger", self.ledger, "--origin", ORIGIN, "--admin-key", admin])
        for w in range(self.args.writers):
            k = os.path.join(self.dir, "w%d.key" % w)
            self.must(["key", "new", "--name", "writer %d" % w, "--out", k, "--unencrypted"])
            self.must(["key", "enroll", "--ledger", self.ledger, "--key", admin, "--public-key-file", k, "--roles", "archivist"])
        rc, out, err, _ = self.run(["append", "--ledger", self.ledger, "--key", os.path.join(self.dir, "w0.key"), "-"],
                                   stdin=json.dumps(report(SHARED, uuid7(), "shared")).encode())
        if rc != 0:
            raise Failure("the shared subject's report exited %d: %s" % (rc, err))
        self.setup_entries = 1 + self.args.writers + 1

    def append(self, who, key, events, batch):
        argv = ["append", "--ledger", self.ledger, "--key", key] + (["--batch"] if batch else []) + ["-"]
        data = "".join(json.dumps(e) + "\n" for e in events).encode()
        rc, out, err, dt = self.run(argv, stdin=data)
        with self.lock:
            self.latencies.append(dt)
        if rc == 0:
            lines = [l.split() for l in out.splitlines() if l.strip()]
            if len(lines) != len(events) or any(len(l) != 2 or l[0] != "appended" or not l[1].isdigit() for l in lines):
                self.fail("%s: exit 0 but output %r for %d events" % (who, out, len(events)), "unexpected exits")
                return rc, err
            with self.lock:
                for l, e in zip(lines, events):
                    if e["id"] in self.acked:
                        self.stats["acknowledged twice"] += 1
                        self.problems.append("%s: id %s acknowledged twice" % (who, e["id"]))
                    self.acked[e["id"]] = int(l[1])
                    self.stats["acknowledged"] += 1
        return rc, err

    def writer(self, w, seed, start):
        rng = random.Random(seed)
        who = "writer %d" % w
        key = os.path.join(self.dir, "w%d.key" % w)
        mine = []  # [subject, revision]
        n = 0
        start.wait()
        try:
            while n < self.args.appends:
                r = rng.random()
                if r < 0.25:
                    # correct the shared subject: read its revision, sign, retry on conflict
                    eid = uuid7()
                    title = "by %s, change %d" % (who, n)
                    for attempt in range(MAX_RETRIES):
                        entries = self.log_entries(who)
                        if entries is None:
                            break
                        rev = sum(1 for e in entries if e["subject"] == SHARED)
                        rc, err = self.append(who, key, [correction(SHARED, eid, rev, title)], False)
                        if rc == 0:
                            with self.lock:
                                self.stats["shared corrections"] += 1
                            break
                        if rc == 4:
                            with self.lock:
                                self.stats["conflicts retried"] += 1
                            if "re-read" not in err or "expects" not in err:
                                self.fail("%s: exit 4 does not say what to do: %s" % (who, err), "unhelpful conflicts")
                            continue
                        self.classify(who, rc, err, "append (shared correction)")
                        break
                    else:
                        self.fail("%s: gave up on a shared correction after %d conflicts" % (who, MAX_RETRIES), "gave up")
                    n += 1
                elif r < 0.40 and mine:
                    s = rng.choice(mine)
                    rc, err = self.append(who, key, [correction(s[0], uuid7(), s[1], "%s rev %d" % (s[0], s[1]))], False)
                    if rc == 0:
                        s[1] += 1
                    else:
                        self.classify(who, rc, err, "append (own correction, expects %d)" % s[1])
                    n += 1
                else:
                    k = 1 if r < 0.85 else rng.randint(2, 5)
                    subjects = ["incident:w%d-%d" % (w, n + i) for i in range(k)]
                    events = [report(s, uuid7(), s) for s in subjects]
                    rc, err = self.append(who, key, events, k > 1)
                    if rc == 0:
                        mine.extend([s, 1] for s in subjects)
                    else:
                        self.classify(who, rc, err, "append (%d reports)" % k)
                    n += k
        except Failure as e:
            self.fail("%s: %s" % (who, e), "unexpected exits")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build/release/ledger"),
                    help="the ledger binary (default: .build/release/ledger under the repository root)")
    ap.add_argument("--writers", type=int, default=6, help="concurrent writers (default 6, at least 4 recommended)")
    ap.add_argument("--appends", type=int, default=60, help="events each writer appends (default 60)")
    ap.add_argument("--quick", action="store_true", help="4 writers x 25 appends (for CI)")
    ap.add_argument("--seed", type=int, default=None, help="seed for the writers' choices (printed when not given)")
    ap.add_argument("--workdir", default=None, help="directory for the ledger and keys (default: a new temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--postgres", action="store_true",
                    help="keep the ledger in a database of a throwaway PostgreSQL cluster (Tools/pg.sh) instead of a SQLite file")
    args = ap.parse_args()
    if args.quick:
        args.writers, args.appends = 4, 25
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    args.ledger_bin = os.path.abspath(args.ledger_bin)
    if not os.access(args.ledger_bin, os.X_OK):
        print("concurrency.py: no ledger binary at %s (build it, or pass --ledger-bin)" % args.ledger_bin, file=sys.stderr)
        return 2
    made_dir = args.workdir is None
    args.workdir = os.path.abspath(tempfile.mkdtemp(prefix="ledger-conc-") if made_dir else args.workdir)
    os.makedirs(args.workdir, exist_ok=True)
    print("concurrency.py: seed %d, %d writers x %d appends, binary %s, work dir %s"
          % (args.seed, args.writers, args.appends, args.ledger_bin, args.workdir), flush=True)
    args.pg = None
    if not args.postgres:
        return run(args, made_dir)
    # PostgreSQL mode: a cluster of our own, stopped and deleted whatever happens (SIGTERM too).
    try:
        with throwaway_cluster("concurrency.py") as pg:
            try:
                args.ledger_url = pg.createdb("ledger_concurrency")
            except (ClusterFailure, subprocess.TimeoutExpired) as e:
                print("concurrency.py: making the database failed: %s" % e, file=sys.stderr)
                return 2
            args.pg = pg
            print("concurrency.py: PostgreSQL cluster %s, ledger %s" % (pg.dir, args.ledger_url), flush=True)
            return run(args, made_dir)
    except (ClusterFailure, subprocess.TimeoutExpired) as e:
        print("concurrency.py: starting PostgreSQL failed: %s" % e, file=sys.stderr)
        return 2


def run(args, made_dir):
    t = Test(args)
    t0 = time.monotonic()
    try:
        t.setup()
    except Failure as e:
        print("concurrency.py: setup failed: %s" % e, file=sys.stderr)
        return 2

    start = threading.Barrier(args.writers)
    threads = [threading.Thread(target=t.writer, args=(w, args.seed * 1000 + w, start)) for w in range(args.writers)]
    done = threading.Event()
    waits = collections.Counter()  # PostgreSQL: samples by how many sessions waited on the advisory lock

    def sample_lock_waits():
        # what the server says every 0.2 s: sessions on the ledger's database waiting on an advisory lock
        while not done.wait(0.2):
            try:
                n = int(args.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"))
            except (ClusterFailure, subprocess.TimeoutExpired, ValueError):
                continue
            waits[n] += 1

    sampler = threading.Thread(target=sample_lock_waits) if args.pg else None
    t1 = time.monotonic()
    for th in threads:
        th.start()
    if sampler:
        sampler.start()
    for th in threads:
        th.join()
    t2 = time.monotonic()
    done.set()
    if sampler:
        sampler.join()

    # -- final checks --
    entries = t.log_entries()
    lost = duplicated = 0
    verify_ok = False
    if entries is not None:
        ids = collections.defaultdict(list)
        for i, e in enumerate(entries):
            if e["index"] != i:
                t.fail("log line %d has index %s" % (i, e["index"]))
            ids[e["id"]].append(e["index"])
        for eid, idx in t.acked.items():
            got = ids.get(eid, [])
            if not got:
                lost += 1
                t.fail("acknowledged event %s (index %d) is not in the log" % (eid, idx))
            elif got != [idx]:
                if len(got) > 1:
                    duplicated += 1
                t.fail("acknowledged event %s (index %d) is in the log at %s" % (eid, idx, got))
        for eid, got in ids.items():
            if len(got) > 1 and eid not in t.acked:
                duplicated += 1
                t.fail("event id %s is in the log %d times" % (eid, len(got)))
        if len(entries) != len(t.acked) + t.setup_entries:
            t.fail("the log has %d entries, expected %d acknowledged + %d setup" % (len(entries), len(t.acked), t.setup_entries))
        shared_rev = sum(1 for e in entries if e["subject"] == SHARED)
        if shared_rev != 1 + t.stats["shared corrections"]:
            t.fail("the shared subject is at revision %d, expected 1 + %d acknowledged corrections" % (shared_rev, t.stats["shared corrections"]))
    rc, out, err, _ = t.run(["verify", "--ledger", t.ledger])
    verify_ok = rc == 0
    if not verify_ok:
        t.fail("ledger verify exited %d: %s %s" % (rc, out.strip(), err))
    t3 = time.monotonic()

    lat = sorted(t.latencies)
    print("%d events in %.1f s of concurrent appending (%.0f events/s); ledger append wall time median %.0f ms, max %.0f ms"
          % (len(t.acked), t2 - t1, len(t.acked) / max(t2 - t1, 1e-9), 1e3 * lat[len(lat) // 2] if lat else 0, 1e3 * lat[-1] if lat else 0))
    print("shared subject: %d corrections acknowledged after %d conflicts (exit 4) retried; log: %d entries (%d setup); %s"
          % (t.stats["shared corrections"], t.stats["conflicts retried"], len(entries or []), t.setup_entries,
             out.strip().splitlines()[0] if out.strip() else err))
    if args.pg:
        print("PostgreSQL: writers waiting on the ledger's advisory lock, sampled every 0.2 s: %s (%d of %d samples with a waiter)"
              % (", ".join("%d waiting in %d" % (k, v) for k, v in sorted(waits.items())) or "no samples",
                 sum(v for k, v in waits.items() if k > 0), sum(waits.values())))
    for pr in t.problems[:50]:
        print("FAIL: " + pr)
    if len(t.problems) > 50:
        print("FAIL: … and %d more" % (len(t.problems) - 50))
    print("writers %d, appends acknowledged %d, conflicts retried %d, busy failures %d, lost %d, duplicated %d, %s"
          % (args.writers, len(t.acked), t.stats["conflicts retried"], t.stats["busy failures"], lost, duplicated,
             "verify ok" if verify_ok else "VERIFY FAILED"))
    if t.stats["unexpected exits"] or t.stats["unhelpful conflicts"]:
        print("other failures: %d unexpected exits, %d unhelpful conflict messages" % (t.stats["unexpected exits"], t.stats["unhelpful conflicts"]))
    print("wall time %.1f s, seed %d" % (t3 - t0, args.seed))
    if made_dir and not args.keep and not t.problems:
        shutil.rmtree(args.workdir, ignore_errors=True)
    elif t.problems or args.keep:
        print("work directory kept: %s" % args.workdir)
    return 1 if t.problems else 0


if __name__ == "__main__":
    sys.exit(main())
