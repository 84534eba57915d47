"""Pieces the evidence scripts (Tools/crash.py, Tools/concurrency.py, Tools/tamper.py) share: event
ids, reading the whole log through `ledger log --json`, and the throwaway PostgreSQL cluster of
their `--postgres` modes. Python 3 standard library only."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_SH = os.path.join(REPO, "Tools", "pg.sh")

# `ledger log` lists at most --limit entries (default 1000); the whole log is read in pages.
LOG_PAGE = 100000


def uuid7():
    """A lowercase canonical UUIDv7 (RFC 9562): 48-bit Unix ms, version 7, variant 10."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    h = "%032x" % value
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


def log_argv(ledger, start):
    """The arguments of one page of `ledger log --json` from entry `start`."""
    return ["log", "--ledger", ledger, "--json", "--from", str(start), "--limit", str(LOG_PAGE)]


def parse_log_page(text):
    """The entries of one page of `ledger log --json` output, and whether it was the last page."""
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return entries, len(entries) < LOG_PAGE


class Failure(Exception):
    pass


class PgCluster:
    """A throwaway PostgreSQL cluster of this run (Tools/pg.sh), and the databases made in it.
    `prog` names the script in the messages of `stop`."""

    def __init__(self, prog):
        self.prog = prog
        self.dir = None
        self.user = None
        self.db = None  # the ledger's database: psql's default, dropped by stop()

    def _run(self, argv, what, timeout=120, stdin=None):
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))
        if p.returncode != 0:
            raise Failure("`%s` exited %d: %s" % (what, p.returncode, (p.stdout + p.stderr).decode(errors="replace").strip()))
        return p.stdout.decode(errors="replace")

    def start(self):
        out = self._run(["bash", PG_SH, "start"], "bash Tools/pg.sh start")
        env = dict(re.findall(r"^export (\w+)='([^']*)'$", out, re.M))
        self.dir, self.user = env.get("LEDGER_TEST_PGDIR"), env.get("LEDGER_TEST_PGUSER")
        if not self.dir or not self.user or not os.path.basename(self.dir).startswith("ledger-pg."):
            raise Failure("`bash Tools/pg.sh start` printed no cluster: %r" % out)

    def url(self, name):
        """The `--ledger` URL of database `name` in this cluster (over its Unix socket)."""
        return "postgres://%s@localhost/%s?host=%s" % (self.user, name, self.dir)

    def createdb(self, name, template=None):
        """Makes database `name` (a copy of `template` when given) and returns its URL. The first
        database made without a template becomes psql's default and is dropped by stop()."""
        argv = [os.path.join(PG_BIN, "createdb"), "-h", self.dir, "-U", self.user]
        if template:
            argv += ["-T", template]
        self._run(argv + [name], "createdb " + name)
        if self.db is None and template is None:
            self.db = name
        return self.url(name)

    def dropdb(self, name):
        self._run([os.path.join(PG_BIN, "dropdb"), "--force", "-h", self.dir, "-U", self.user, name], "dropdb " + name, timeout=60)

    def psql(self, sql, db=None, stdin=None):
        """Runs sql (or, with sql None, the script given as stdin bytes) in database db (default:
        the ledger's); returns psql's unaligned, tuples-only output."""
        argv = [os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-U", self.user,
                "-d", db or self.db]
        if sql is not None:
            argv += ["-c", sql]
        return self._run(argv, "psql -c " + (sql if sql is not None else "(script)")[:200], stdin=stdin).strip()

    def other_sessions(self):
        """Client sessions on the ledger's database other than this query's own."""
        return int(self.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"))

    def pause(self):
        self._run(["bash", PG_SH, "pause", self.dir], "bash Tools/pg.sh pause")

    def resume(self):
        self._run(["bash", PG_SH, "resume", self.dir], "bash Tools/pg.sh resume")

    def stop(self):
        """Drops the ledger's database, stops the cluster and deletes its folder (only the one this
        run started)."""
        if self.dir is None:
            return
        if self.db is not None:
            try:
                self.dropdb(self.db)
            except (Failure, subprocess.TimeoutExpired):
                pass  # e.g. the server is paused: stopping the cluster deletes the database with it
        try:
            self._run(["bash", PG_SH, "stop", self.dir], "bash Tools/pg.sh stop", timeout=120)
        except (Failure, subprocess.TimeoutExpired) as e:
            print("%s: could not stop the cluster %s: %s" % (self.prog, self.dir, e), file=sys.stderr)
        if os.path.exists(self.dir):
            print("%s: the cluster folder %s is still there" % (self.prog, self.dir), file=sys.stderr)
        else:
            print("%s: cluster %s stopped and deleted" % (self.prog, self.dir), flush=True)
        self.dir = None


@contextlib.contextmanager
def throwaway_cluster(prog):
    """A started PgCluster, stopped and deleted when the block ends, also on failure, Ctrl-C or
    SIGTERM (turned into SystemExit). Raises Failure (or TimeoutExpired) when it cannot start."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    pg = PgCluster(prog)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
