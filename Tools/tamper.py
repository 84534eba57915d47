#!/usr/bin/env python3
"""Tamper sweep (issue 6): single-byte changes, one at a time, must all be detected.

Standard library only. Changes one byte at a random position (to a different value), runs the
tool on the altered copy, restores the byte, and repeats. Six classes:

  bundle-entries      a byte of data/entries.jsonl of a copy of the bundle  -> ledger audit --json
  bundle-checkpoints  a byte of data/checkpoints/* or data/checkpoint       -> ledger audit --json
  bundle-tags         a byte of bagit.txt, bag-info.txt, manifest-sha256.txt,
                      tagmanifest-sha256.txt                                -> ledger audit --json
  db-file             a byte anywhere in a ledger's SQLite file             -> ledger verify --json
  db-checkpoint-rows  a byte of one stored checkpoint note (SQL UPDATE)     -> ledger verify --json
  db-entry-rows       a byte of one stored entry line (SQL UPDATE)          -> ledger verify --json

    python3 Tools/tamper.py [--ledger-bin PATH] [--seed S] [--count N | --quick]
        [--classes LIST] [--bundle DIR] [--trust KEYID] [--keep]
    python3 Tools/tamper.py --replay CLASS TARGET OFFSET NEWBYTE     # one change, verbosely
    python3 Tools/tamper.py --postgres [--count N | --quick] [--classes LIST] [--replay ...]

PostgreSQL mode (`--postgres`): the script starts its own throwaway cluster (`Tools/pg.sh start`,
Unix socket only; stopped and deleted at the end, also on failure, Ctrl-C or SIGTERM), imports the
bundle into a fresh database (`ledger import`), keeps it as the pristine reference and tampers a
copy of it (`createdb -T`) with SQL through psql. Classes (default: all four; the bundle classes
may be added with --classes, they need no database; db-file and db-structure are SQLite's):

  db-entry-rows       a byte of one stored `entries.line`                   -> verify names its index
  db-checkpoint-rows  a byte of one stored `checkpoints.note`               -> verify fails
  db-leaf-rows        a byte of one stored `entries.leaf` (the leaf hash)   -> verify names its index
  db-merkle-rows      a byte of one stored `merkle.hash` (an inner node)    -> verify fails

Each trial changes the byte with `UPDATE … SET col = set_byte(col, OFFSET, NEW)`, runs `ledger
verify --ledger postgres://… --trust KEYID --json`, and puts the byte back the same way, checking
that the row's md5 is the pristine one again (so every trial starts from the pristine content).
Detected (PostgreSQL): exit 1 (verification failed); anything else is a miss.

Definitions (see also the summary it prints):

* Detected (audit): exit 1 with a JSON report whose `failure` is set. Detected (verify): exit 1
  (verification failed) or 5 (not a readable ledger). Anything else (exit 0, a crash, a
  timeout, another code) is a miss.
* Inside an entry (bundle): entries.jsonl is a sequence of lines, each with its terminating LF;
  every byte of line i, LF included, is "inside entry i" (the file ends with LF, so every byte
  of the file belongs to exactly one entry). Such a change must be reported at step `entries`
  with `index` = i; detected at another step or index counts as a wrong-index failure.
* Database file: every trial is classified by comparing a logical dump (schema; application_id,
  user_version, encoding; every row of every table, with the rowid of rowid tables) and
  `PRAGMA integrity_check` of the altered file with those of the original, read with Python's
  sqlite3 (immutable, read-only):
    - slack: dump identical and integrity_check ok. The byte is not part of anything the file
      holds (unused page space, header counters): reported, never counted as tried-to-detect.
    - content: the dump differs, the file cannot be read, or integrity_check fails. verify must
      fail. When the file is structurally sound (integrity_check ok) and rows of `entries`
      differ, the byte is "inside an entry": the reported index must be the lowest entry index
      whose row changed. A structurally damaged file may be refused as a whole (exit 5, no index).
* Database rows: one byte of `entries.line` of row i (or of `checkpoints.note`) is changed with
  SQL UPDATE in a copy; verify must fail, and for entries name index i.

Exit 0 when every content change was detected (at the right index where one applies), 1 on any
miss or wrong index, 2 on a setup problem (binary missing, the pristine bundle or ledger does
not verify).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evidence_common import Failure as ClusterFailure, throwaway_cluster  # noqa: E402

CLASSES = ["bundle-entries", "bundle-checkpoints", "bundle-tags", "db-file", "db-checkpoint-rows", "db-entry-rows", "db-structure"]
PG_CLASSES = ["db-checkpoint-rows", "db-entry-rows", "db-leaf-rows", "db-merkle-rows"]  # the default with --postgres
TAG_FILES = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"]
DEFAULT_COUNT = 250  # per class: 1,500 changes, of which well over 1,000 change content
QUICK_COUNT = 17  # per class: 102 changes
TIMEOUT = 120


class SetupError(Exception):
    pass


class Trial:
    def __init__(self, cls, target, offset, old, new):
        self.cls, self.target, self.offset, self.old, self.new = cls, target, offset, old, new
        self.must_detect = True  # False only for database slack
        self.detected = False
        self.expected_index = None  # the entry index the tool must name, when the byte is inside an entry
        self.index_ok = None
        self.category = ""  # db-file: slack / content / damaged / structure-only / unreadable
        self.page = ""  # db-file: what the changed page held in the original file
        self.rc = None
        self.tables = []  # db-file: tables whose rows changed
        self.step = None
        self.said = ""

    def where(self):
        return f"{self.target} offset {self.offset} byte 0x{self.old:02x}->0x{self.new:02x}"

    def failed(self):
        return self.must_detect and (not self.detected or self.index_ok is False)


def run(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"
    return p.returncode, p.stdout, p.stderr


def parse_json(out):
    try:
        return json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def last_line(err):
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else ""


# ---------------------------------------------------------------------------------- bundles


class BundleSweep:
    def __init__(self, ctx):
        self.ctx = ctx
        self.bag = os.path.join(ctx.work, "bag")
        shutil.copytree(ctx.bundle, self.bag)
        with open(os.path.join(self.bag, "data", "entries.jsonl"), "rb") as f:
            entries = f.read()
        self.line_starts = [0] + [i + 1 for i, b in enumerate(entries) if b == 0x0A][:-1]
        if not entries.endswith(b"\n"):
            raise SetupError("the pristine data/entries.jsonl does not end with LF")
        cps = sorted(os.listdir(os.path.join(self.bag, "data", "checkpoints")), key=lambda s: int(s) if s.isdigit() else 0)
        self.files = {
            "bundle-entries": ["data/entries.jsonl"],
            "bundle-checkpoints": ["data/checkpoint"] + [f"data/checkpoints/{c}" for c in cps],
            "bundle-tags": list(TAG_FILES),
        }
        rc, out, err = self.audit()
        report = parse_json(out)
        if rc != 0 or not report or not report.get("ok"):
            raise SetupError(f"the pristine bundle {ctx.bundle} does not audit: exit {rc}: {last_line(err)}")

    def audit(self):
        return run([self.ctx.bin, "audit", self.bag, "--trust", self.ctx.trust, "--json"])

    def entry_of(self, offset):
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def positions(self, cls, rng, count):
        """count (file, offset) pairs, uniform over the class's bytes, without repetition when possible."""
        sizes = [(f, os.path.getsize(os.path.join(self.bag, f))) for f in self.files[cls]]
        total = sum(s for _, s in sizes)
        flat = rng.sample(range(total), count) if count <= total else [rng.randrange(total) for _ in range(count)]
        out = []
        for x in flat:
            for f, s in sizes:
                if x < s:
                    out.append((f, x))
                    break
                x -= s
        return out

    def trial(self, cls, target, offset, new):
        path = os.path.join(self.bag, target)
        with open(path, "r+b") as f:
            f.seek(offset)
            old = f.read(1)[0]
            if new is None:
                new = (old + self.ctx.rng_for_bytes.randrange(1, 256)) % 256
            t = Trial(cls, target, offset, old, new)
            if new == old:
                raise SetupError("the new byte equals the old one")
            f.seek(offset)
            f.write(bytes([new]))
        try:
            rc, out, err = self.audit()
            t.rc = rc
        finally:
            with open(path, "r+b") as f:
                f.seek(offset)
                f.write(bytes([old]))
        report = parse_json(out)
        failure = report.get("failure") if isinstance(report, dict) else None
        t.detected = rc == 1 and isinstance(failure, dict)
        if isinstance(failure, dict):
            t.step = failure.get("step")
            t.said = f"exit {rc}: {t.step}: {failure.get('file')}: index {failure.get('index')}: {str(failure.get('reason'))[:160]}"
        else:
            t.said = f"exit {rc}: {last_line(err) or ('audit passed (ok: true)' if rc == 0 else 'no failure reported')}"
        if cls == "bundle-entries":
            t.expected_index = self.entry_of(offset)
            t.index_ok = t.detected and t.step == "entries" and failure.get("index") == t.expected_index
        return t


# ---------------------------------------------------------------------------------- ledger file


def checkpoint_wal(path):
    c = sqlite3.connect(path)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        c.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(path + suffix):
            if suffix == "-wal" and os.path.getsize(path + suffix) > 0:
                raise SetupError(f"{path}-wal is not empty after a checkpoint")
            os.remove(path + suffix)


def page_owners(path):
    """page number -> what the page holds in the original file (b-tree name from dbstat, or a
    freelist page); page 1 also holds the 100-byte file header."""
    c = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        owners = {pg: name for name, pg in c.execute("SELECT name, pageno FROM dbstat")}
    except sqlite3.Error:
        owners = {}  # SQLite built without dbstat: no attribution
    finally:
        c.close()
    return owners


def logical_dump(path):
    """(dump, integrity) of the database at path, read without writing anything; dump is None
    when the file cannot be read as a database."""
    try:
        c = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    except (sqlite3.Error, ValueError) as e:
        return None, f"open: {e}"
    c.text_factory = bytes
    try:
        dump = {}
        dump["#pragmas"] = [c.execute(f"PRAGMA {p}").fetchall() for p in ("application_id", "user_version", "encoding")]
        schema = c.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master ORDER BY rowid").fetchall()
        dump["#schema"] = schema
        for typ, name, _, _, _ in schema:
            if typ != b"table":
                continue
            n = name.decode("utf-8", "replace").replace('"', '""')
            try:
                rows = c.execute(f'SELECT rowid, * FROM "{n}"').fetchall()
            except sqlite3.OperationalError as e:
                if "no such column: rowid" not in str(e):
                    raise
                rows = c.execute(f'SELECT * FROM "{n}"').fetchall()
            dump[name.decode("utf-8", "replace")] = rows
        integrity = [r[0] for r in c.execute("PRAGMA integrity_check(20)").fetchall()]
        integrity = "ok" if integrity == [b"ok"] else b"; ".join(integrity).decode("utf-8", "replace")[:200]
        return dump, integrity
    except (sqlite3.Error, ValueError, OverflowError, MemoryError) as e:  # ValueError: undecodable names
        return None, f"read: {type(e).__name__}: {e}"
    finally:
        c.close()


class LedgerSweep:
    def __init__(self, ctx):
        self.ctx = ctx
        self.base_path = os.path.join(ctx.work, "base.ledger")
        if ctx.db:
            shutil.copyfile(ctx.db, self.base_path)
            for suffix in ("-wal",):
                if os.path.exists(ctx.db + suffix):
                    shutil.copyfile(ctx.db + suffix, self.base_path + suffix)
        else:
            rc, _, err = run([ctx.bin, "import", ctx.bundle, "--ledger", self.base_path, "--trust", ctx.trust])
            if rc != 0:
                raise SetupError(f"ledger import of {ctx.bundle} failed: exit {rc}: {last_line(err)}")
        checkpoint_wal(self.base_path)
        with open(self.base_path, "rb") as f:
            self.base = f.read()
        self.path = os.path.join(ctx.work, "t.ledger")
        self.base_dump, integrity = logical_dump(self.base_path)
        if self.base_dump is None or integrity != "ok":
            raise SetupError(f"the pristine ledger file is not sound: {integrity}")
        self.base_entries = {r[0]: r for r in self.base_dump["entries"]}
        self.checkpoint_sizes = [r[1] for r in self.base_dump["checkpoints"]]
        self.page_owner = page_owners(self.base_path)
        self.page_size = int.from_bytes(self.base[16:18], "big") or 65536
        self.entry_indexes = sorted(self.base_entries)
        self.write(self.base)
        rc, out, err = self.verify()
        if rc != 0:
            raise SetupError(f"the pristine ledger does not verify: exit {rc}: {last_line(err)}")

    def write(self, data):
        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        with open(self.path, "wb") as f:
            f.write(data)

    def verify(self):
        return run([self.ctx.bin, "verify", "--ledger", self.path, "--trust", self.ctx.trust, "--json"])

    def judge(self, t):
        rc, out, err = self.verify()
        report = parse_json(out)
        t.rc = rc
        t.detected = rc in (1, 5)
        got = report.get("index") if isinstance(report, dict) else None
        reason = report.get("reason") if isinstance(report, dict) and report.get("reason") else last_line(err)
        if rc == 0:
            reason = "verify passed (ok: true)"
        t.said = f"exit {rc}: index {got}: {str(reason)[:180]}"
        t.step = "damaged" if rc == 5 else ("verify" if rc == 1 else f"exit {rc}")
        if t.expected_index is not None:
            t.index_ok = t.detected and got == t.expected_index
        return t

    # --- db-file: bytes of the file itself
    def file_trial(self, offset, new):
        old = self.base[offset]
        if new is None:
            new = (old + self.ctx.rng_for_bytes.randrange(1, 256)) % 256
        t = Trial("db-file", "ledger file", offset, old, new)
        page = offset // self.page_size + 1
        t.page = "file header" if offset < 100 else self.page_owner.get(page, "free page" if self.page_owner else "?")
        data = bytearray(self.base)
        data[offset] = new
        self.write(bytes(data))
        dump, integrity = logical_dump(self.path)
        if dump is None:
            t.category, t.tables = "unreadable", [integrity]
        else:
            t.tables = sorted(k for k in set(dump) | set(self.base_dump) if dump.get(k) != self.base_dump.get(k))
            if not t.tables and integrity == "ok":
                t.category, t.must_detect = "slack", False
            elif integrity != "ok":
                t.category = "damaged" if t.tables else "structure-only"
                if not t.tables:
                    t.tables = ["(indexes or page structure): " + integrity[:120]]
            else:
                t.category = "content"
                if "entries" in t.tables:
                    after = {r[0]: r for r in dump["entries"]}
                    changed = [i for i in set(after) | set(self.base_entries) if after.get(i) != self.base_entries.get(i)]
                    t.expected_index = min(changed)
        self.write(bytes(data))  # the reader above wrote nothing (immutable); rewrite anyway
        return self.judge(t)

    # --- db rows: one byte of a stored value, changed with SQL UPDATE
    def row_trial(self, cls, key, offset, new):
        table, col, keycol = ("entries", "line", "idx") if cls == "db-entry-rows" else ("checkpoints", "note", "size")
        self.write(self.base)
        c = sqlite3.connect(self.path)
        try:
            value = bytes(c.execute(f"SELECT {col} FROM {table} WHERE {keycol} = ?", (key,)).fetchone()[0])
            old = value[offset]
            if new is None:
                new = (old + self.ctx.rng_for_bytes.randrange(1, 256)) % 256
            changed = value[:offset] + bytes([new]) + value[offset + 1:]
            c.execute(f"UPDATE {table} SET {col} = ? WHERE {keycol} = ?", (changed, key))
            c.commit()
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            c.close()
        t = Trial(cls, f"{table}/{key}", offset, old, new)
        if cls == "db-entry-rows":
            t.expected_index = key
        return self.judge(t)

    # --- db-structure: the file's schema and checkpoints changed with SQL (issue 16); a fixed list,
    # judged by `verify --checkpoint` with the latest checkpoint note kept outside the file
    def structure_changes(self):
        latest = self.base_dump["checkpoints"][-1]
        size, note = latest[1], bytes(latest[2])
        # The record the remaining checkpoints give once the latest is deleted (FORMAT.md §15).
        chain = bytes(32)
        for row in self.base_dump["checkpoints"][:-1]:
            root = base64.b64decode(bytes(row[2]).split(b"\n")[2])
            chain = hashlib.sha256(chain + row[1].to_bytes(8, "big") + root).digest()
        others = len(self.base_dump["checkpoints"]) - 1
        return [
            ("trigger deleting checkpoints on every append", "CREATE TRIGGER t AFTER INSERT ON entries BEGIN DELETE FROM checkpoints; END"),
            ("trigger on a projection table", "CREATE TRIGGER t AFTER UPDATE ON entities BEGIN SELECT 1; END"),
            ("trigger named like a statistics table", "PRAGMA writable_schema=ON; INSERT INTO sqlite_master VALUES('trigger', 'sqlite_stat_t', "
             "'entries', 0, 'CREATE TRIGGER sqlite_stat_t AFTER INSERT ON entries BEGIN DELETE FROM checkpoints; END')"),
            ("view", "CREATE VIEW v AS SELECT * FROM entries"),
            ("added table", "CREATE TABLE extra (x)"),
            ("added index", "CREATE INDEX extra ON entries (signer)"),
            ("dropped index", "DROP INDEX incident_links_by_other"),
            ("added column", "ALTER TABLE keys ADD COLUMN note TEXT"),
            ("one checkpoint deleted", f"DELETE FROM checkpoints WHERE size = {self.checkpoint_sizes[0]}"),
            ("every checkpoint deleted", "DELETE FROM checkpoints"),
            ("checkpoint record deleted", "DELETE FROM meta WHERE key = 'checkpoint_record'"),
            ("checkpoint record altered", "UPDATE meta SET value = '0 0 ' || hex(zeroblob(32)) WHERE key = 'checkpoint_record'"),
            ("latest checkpoint deleted, record count and size adjusted",
             f"DELETE FROM checkpoints WHERE size = {size}; UPDATE meta SET value = '{others} {self.checkpoint_sizes[-2] if others else 0} ' || "
             f"'forged' WHERE key = 'checkpoint_record'"),
            ("latest checkpoint deleted, record recomputed consistently",
             f"DELETE FROM checkpoints WHERE size = {size}; UPDATE meta SET value = '{others} {self.checkpoint_sizes[-2] if others else 0} "
             f"{chain.hex()}' WHERE key = 'checkpoint_record'"),
            ("downgraded to version 2 with checkpoints and record deleted",
             "DELETE FROM checkpoints; DELETE FROM meta WHERE key = 'checkpoint_record'; PRAGMA user_version = 2"),
        ], note

    def structure_trial(self, name, sql, kept):
        self.write(self.base)
        c = sqlite3.connect(self.path)
        try:
            c.executescript(sql)
            c.commit()
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            c.close()
        t = Trial("db-structure", name, 0, 0, 0)
        rc, out, err = run([self.ctx.bin, "verify", "--ledger", self.path, "--trust", self.ctx.trust, "--json", "--checkpoint", kept])
        report = parse_json(out)
        t.rc = rc
        t.detected = rc in (1, 5)
        reason = report.get("reason") if isinstance(report, dict) and report.get("reason") else last_line(err)
        t.said = "verify passed (ok: true)" if rc == 0 else f"exit {rc}: {str(reason)[:180]}"
        t.step = "damaged" if rc == 5 else ("verify" if rc == 1 else f"exit {rc}")
        return t

    def value_len(self, cls, key):
        table, col, keycol = ("entries", "line", "idx") if cls == "db-entry-rows" else ("checkpoints", "note", "size")
        c = sqlite3.connect(f"file:{self.base_path}?immutable=1", uri=True)
        try:
            return len(c.execute(f"SELECT {col} FROM {table} WHERE {keycol} = ?", (key,)).fetchone()[0])
        finally:
            c.close()


# ---------------------------------------------------------------------------------- PostgreSQL


class PgLedgerSweep:
    """--postgres: the bundle imported into a database of a throwaway cluster (`pristine`, never
    changed) and a copy of it (`tampered`, createdb -T) whose rows are changed one byte at a time
    with SQL and put back after each verify."""

    # class -> (table, column, key columns)
    ROWS = {
        "db-entry-rows": ("entries", "line", ("idx",)),
        "db-checkpoint-rows": ("checkpoints", "note", ("size",)),
        "db-leaf-rows": ("entries", "leaf", ("idx",)),
        "db-merkle-rows": ("merkle", "hash", ("level", "idx")),
    }

    def __init__(self, ctx, pg):
        self.ctx, self.pg = ctx, pg
        pg.createdb("pristine")
        pristine = pg.url("pristine")
        rc, _, err = run([ctx.bin, "import", ctx.bundle, "--ledger", pristine, "--trust", ctx.trust])
        if rc != 0:
            raise SetupError(f"ledger import of {ctx.bundle} into {pristine} failed: exit {rc}: {last_line(err)}")
        self.url = pg.createdb("tampered", template="pristine")
        self.rows = {}  # class -> {key tuple: (length, md5 of the pristine value)}
        for cls, (table, col, keys) in self.ROWS.items():
            out = pg.psql(f"SELECT {', '.join(keys)}, length({col}), md5({col}) FROM {table} ORDER BY {', '.join(keys)}", db="tampered")
            rows = {}
            for line in out.splitlines():
                parts = line.split("|")
                rows[tuple(int(x) for x in parts[:len(keys)])] = (int(parts[len(keys)]), parts[len(keys) + 1])
            if not rows:
                raise SetupError(f"the imported ledger has no rows in {table}")
            self.rows[cls] = rows
        self.entry_indexes = sorted(k[0] for k in self.rows["db-entry-rows"])
        rc, out, err = self.verify()
        if rc != 0:
            raise SetupError(f"the pristine ledger in PostgreSQL does not verify: exit {rc}: {last_line(err)}")

    def verify(self):
        return run([self.ctx.bin, "verify", "--ledger", self.url, "--trust", self.ctx.trust, "--json"])

    def set_byte(self, cls, key, offset, new_sql):
        """Sets byte `offset` of the row's value to the SQL expression new_sql (in terms of b, the
        byte it holds); returns (old byte, new byte, md5 of the changed value)."""
        table, col, keys = self.ROWS[cls]
        where = " AND ".join(f"{table}.{k} = {int(v)}" for k, v in zip(keys, key))
        out = self.pg.psql(f"UPDATE {table} SET {col} = set_byte({table}.{col}, {int(offset)}, {new_sql}) "
                           f"FROM (SELECT get_byte({col}, {int(offset)}) AS b FROM {table} WHERE {where}) o WHERE {where} "
                           f"RETURNING o.b, get_byte({table}.{col}, {int(offset)}), md5({table}.{col})", db="tampered")
        lines = out.splitlines()
        if len(lines) != 1:
            raise SetupError(f"UPDATE of {table} {key} changed {len(lines)} rows: {out!r}")
        old, new, md5 = lines[0].split("|")
        return int(old), int(new), md5

    @staticmethod
    def target(cls, key):
        table = PgLedgerSweep.ROWS[cls][0]
        return f"{table}/{':'.join(str(k) for k in key)}"

    def row_trial(self, cls, key, offset, new):
        length, md5 = self.rows[cls][key]
        if not 0 <= offset < length:
            raise SetupError(f"offset {offset} is outside the value ({length} bytes)")
        if new is None:
            new_sql = f"(o.b + {self.ctx.rng_for_bytes.randrange(1, 256)}) % 256"
        else:
            new_sql = str(int(new))
        old, new, changed = self.set_byte(cls, key, offset, new_sql)
        try:
            if new == old or changed == md5:
                raise SetupError(f"{self.target(cls, key)} offset {offset}: the new byte equals the old one")
            t = Trial(cls, self.target(cls, key), offset, old, new)
            if cls in ("db-entry-rows", "db-leaf-rows"):
                t.expected_index = key[0]
            rc, out, err = self.verify()
        finally:
            _, back, restored = self.set_byte(cls, key, offset, str(old))
            if restored != md5:
                raise SetupError(f"{self.target(cls, key)}: the value is not the pristine one after putting byte {offset} back")
        report = parse_json(out)
        t.rc = rc
        t.detected = rc == 1
        got = report.get("index") if isinstance(report, dict) else None
        reason = report.get("reason") if isinstance(report, dict) and report.get("reason") else last_line(err)
        if rc == 0:
            reason = "verify passed (ok: true)"
        t.said = f"exit {rc}: index {got}: {str(reason)[:180]}"
        # what verify said, numbers and quoted names elided, for the "reported as" tally
        said = re.sub(r"(?<![\w-])\d+\b", "N", str(reason))
        said = re.sub(r"(names origin|has root|, not) [^\s,]+", r"\1 …", re.sub(r"`[^`]*`", "`…`", said))
        t.step = said[:90] if rc == 1 else f"exit {rc}"
        if t.expected_index is not None:
            t.index_ok = t.detected and got == t.expected_index
        return t

    def positions(self, cls, rng, count):
        keys = sorted(self.rows[cls])
        out = []
        for _ in range(count):
            key = rng.choice(keys)
            out.append((key, rng.randrange(self.rows[cls][key][0])))
        return out

    def check_pristine(self):
        """After a class: the tampered copy holds the pristine rows again and verifies."""
        for cls, (table, col, keys) in self.ROWS.items():
            out = self.pg.psql(f"SELECT {', '.join(keys)}, length({col}), md5({col}) FROM {table} ORDER BY {', '.join(keys)}", db="tampered")
            rows = {}
            for line in out.splitlines():
                parts = line.split("|")
                rows[tuple(int(x) for x in parts[:len(keys)])] = (int(parts[len(keys)]), parts[len(keys) + 1])
            if rows != self.rows[cls]:
                raise SetupError(f"the tampered copy's {table}.{col} is not the pristine one after the trials")
        rc, _, err = self.verify()
        if rc != 0:
            raise SetupError(f"the tampered copy does not verify after the trials were put back: exit {rc}: {last_line(err)}")


# ---------------------------------------------------------------------------------- driver


class Context:
    pass


def sweep(ctx, cls, count, bundle, ledger):
    rng = random.Random(f"{ctx.seed}:{cls}")
    ctx.rng_for_bytes = random.Random(f"{ctx.seed}:{cls}:bytes")
    trials = []
    if cls.startswith("bundle-"):
        for target, offset in bundle.positions(cls, rng, count):
            trials.append(bundle.trial(cls, target, offset, None))
    elif cls == "db-file":
        for offset in rng.sample(range(len(ledger.base)), count):
            trials.append(ledger.file_trial(offset, None))
    elif cls in PgLedgerSweep.ROWS and isinstance(ledger, PgLedgerSweep):
        for key, offset in ledger.positions(cls, rng, count):
            trials.append(ledger.row_trial(cls, key, offset, None))
        ledger.check_pristine()
    elif cls == "db-structure":
        changes, note = ledger.structure_changes()
        kept = os.path.join(ctx.work, "kept.note")
        with open(kept, "wb") as f:
            f.write(note)
        for name, sql in changes:
            trials.append(ledger.structure_trial(name, sql, kept))
    else:
        keys = ledger.entry_indexes if cls == "db-entry-rows" else ledger.checkpoint_sizes
        lengths = {k: ledger.value_len(cls, k) for k in keys}
        for _ in range(count):
            key = rng.choice(keys)
            trials.append(ledger.row_trial(cls, key, rng.randrange(lengths[key]), None))
    return trials


def tally(items):
    counts = {}
    for x in items:
        counts[x] = counts.get(x, 0) + 1
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(cls, trials):
    must = [t for t in trials if t.must_detect]
    det = [t for t in must if t.detected]
    indexed = [t for t in must if t.expected_index is not None]
    right = [t for t in indexed if t.index_ok]
    idx = f" (at the right index: {len(right)} of {len(indexed)})" if indexed or cls in ("bundle-entries", "db-entry-rows", "db-leaf-rows") else ""
    if cls == "db-structure":
        for t in trials:
            print(f"    {'detected' if t.detected else 'MISSED'}: {t.target}: {t.said[:140]}")
    if cls == "db-file":
        slack = len(trials) - len(must)
        print(f"{cls}: detected {len(det)} of {len(must)}{idx}; tried {len(trials)}, content-changing {len(must)}, no content changed (slack) {slack}")
        print(f"    kinds of change: {tally(t.category for t in must)}")
        print(f"    tables changed: {tally(tb for t in must for tb in (t.tables if t.category == 'content' else [t.category]))}")
        owners = sorted({t.page for t in trials}, key=lambda o: (-sum(1 for t in trials if t.page == o), o))
        cells = []
        for o in owners:
            m = [t for t in must if t.page == o]
            n_slack = sum(1 for t in trials if t.page == o and not t.must_detect)
            cells.append(f"{o} {sum(1 for t in m if t.detected)}/{len(m)}" + (f" +{n_slack} slack" if n_slack else ""))
        print("    by what the changed page held (detected/content-changing):")
        for i in range(0, len(cells), 4):
            print("      " + "; ".join(cells[i:i + 4]))
    else:
        print(f"{cls}: detected {len(det)} of {len(must)}{idx}")
    print(f"    reported as: {tally(t.step or 'nothing' for t in must)}")
    return len(det), len(must)


def main():
    ap = argparse.ArgumentParser(description="Single-byte tamper sweep over bundles and ledger files (issue 6).")
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build", "release", "ledger"), help="the ledger binary (default: .build/release/ledger)")
    ap.add_argument("--seed", default="1", help="seed for positions and new bytes (default 1)")
    ap.add_argument("--count", type=int, help=f"changes per class (default {DEFAULT_COUNT}; {QUICK_COUNT} with --quick)")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_COUNT} per class (~100 in all), for CI")
    ap.add_argument("--classes", help="comma-separated subset of: " + ", ".join(CLASSES) + " (default: all); with --postgres of: "
                    + ", ".join(CLASSES[:3] + PG_CLASSES) + " (default: " + ", ".join(PG_CLASSES) + ")")
    ap.add_argument("--bundle", default=os.path.join(REPO, "Ledger", "bundle"), help="pristine bundle (default Ledger/bundle)")
    ap.add_argument("--trust", help="genesis key id (default: the bundle's IncidentLedger-Genesis-Key-ID; the pristine copy must audit with it)")
    ap.add_argument("--db", help="tamper this ledger file instead of one imported from --bundle (it is copied, never changed)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--replay", nargs=4, metavar=("CLASS", "TARGET", "OFFSET", "NEWBYTE"),
                    help="run one change and print it: e.g. bundle-entries data/entries.jsonl 1234 0x41; db-file - 5000 0x00; db-entry-rows 17 40 0x41; "
                    "db-checkpoint-rows 209 3 0x41; with --postgres also db-leaf-rows 17 5 0x41, db-merkle-rows LEVEL:INDEX 5 0x41")
    ap.add_argument("--postgres", action="store_true",
                    help="tamper rows of the ledger imported into a database of a throwaway PostgreSQL cluster (Tools/pg.sh) instead of a SQLite file")
    args = ap.parse_args()

    ctx = Context()
    ctx.bin = os.path.abspath(args.ledger_bin)
    ctx.bundle = os.path.abspath(args.bundle)
    ctx.db = os.path.abspath(args.db) if args.db else None
    ctx.seed = args.seed
    if not os.access(ctx.bin, os.X_OK):
        print(f"tamper: no ledger binary at {ctx.bin} (build it, or pass --ledger-bin)", file=sys.stderr)
        return 2
    trust = args.trust
    if not trust:
        with open(os.path.join(ctx.bundle, "bag-info.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("IncidentLedger-Genesis-Key-ID: "):
                    trust = line.split(": ", 1)[1].strip()
    if not trust:
        print("tamper: no --trust and no genesis key id in the bundle's bag-info.txt", file=sys.stderr)
        return 2
    ctx.trust = trust
    known = CLASSES[:3] + PG_CLASSES if args.postgres else CLASSES
    classes = [c.strip() for c in (args.classes or ",".join(PG_CLASSES if args.postgres else CLASSES)).split(",") if c.strip()]
    if args.replay:
        classes = [args.replay[0]]
    for c in classes:
        if c not in known:
            print(f"tamper: unknown class {c!r}{' with --postgres' if args.postgres else ''}; classes: {', '.join(known)}", file=sys.stderr)
            return 2
    if args.postgres and ctx.db:
        print("tamper: --db names a SQLite file; with --postgres the ledger is imported from --bundle", file=sys.stderr)
        return 2
    count = args.count if args.count is not None else (QUICK_COUNT if args.quick else DEFAULT_COUNT)

    ctx.work = tempfile.mkdtemp(prefix="tamper-")
    try:
        if args.postgres and any(c.startswith("db-") for c in classes):
            # a cluster of our own, stopped and deleted whatever happens (SIGTERM too)
            try:
                with throwaway_cluster("tamper") as pg:
                    print(f"tamper: PostgreSQL cluster {pg.dir}", flush=True)
                    return sweep_all(args, ctx, classes, count, pg)
            except (ClusterFailure, subprocess.TimeoutExpired) as e:
                print(f"tamper: PostgreSQL: {e}", file=sys.stderr)
                return 2
        return sweep_all(args, ctx, classes, count, None)
    finally:
        if args.keep:
            print(f"work directory kept: {ctx.work}", file=sys.stderr)
        else:
            shutil.rmtree(ctx.work, ignore_errors=True)


def sweep_all(args, ctx, classes, count, pg):
    started = time.monotonic()
    try:
        bundle = BundleSweep(ctx) if any(c.startswith("bundle-") for c in classes) else None
        if pg is not None:
            ledger = PgLedgerSweep(ctx, pg) if any(c.startswith("db-") for c in classes) else None
        else:
            ledger = LedgerSweep(ctx) if any(c.startswith("db-") for c in classes) else None
        if args.replay:
            cls, target, offset, new = args.replay
            if cls == "db-structure":
                print("tamper: db-structure is a fixed list; run it with --classes db-structure", file=sys.stderr)
                return 2
            offset, new = int(offset, 0), int(new, 0)
            if cls.startswith("bundle-"):
                t = bundle.trial(cls, target, offset, new)
            elif cls == "db-file":
                t = ledger.file_trial(offset, new)
            elif pg is not None:
                t = ledger.row_trial(cls, tuple(int(x) for x in target.split(":")), offset, new)
            else:
                t = ledger.row_trial(cls, int(target), offset, new)
            print(f"{cls}: {t.where()}")
            if t.category:
                print(f"  classified: {t.category} {t.tables} (the page held {t.page})")
            print(f"  expected index: {t.expected_index}")
            print(f"  tool said: {t.said}")
            verdict = "not needed (slack)" if not t.must_detect else ("FAILED" if t.failed() else "detected")
            print(f"  verdict: {verdict}")
            return 1 if t.failed() else 0

        print(f"tamper sweep: seed {ctx.seed}, {count} changes per class, binary {ctx.bin}"
              + (f", ledger {ledger.url}" if pg is not None and ledger is not None else ""))
        all_trials = []
        detected = tried = 0
        for cls in classes:
            t0 = time.monotonic()
            trials = sweep(ctx, cls, count, bundle, ledger)
            d, n = summarize(cls, trials)
            print(f"    ({time.monotonic() - t0:.1f} s)")
            detected, tried = detected + d, tried + n
            all_trials += trials
        failures = [t for t in all_trials if t.failed()]
        slack = sum(1 for t in all_trials if not t.must_detect)
        right = sum(1 for t in all_trials if t.must_detect and t.expected_index is not None and t.index_ok)
        indexed = sum(1 for t in all_trials if t.must_detect and t.expected_index is not None)
        print(f"total: detected {detected} of {tried} (at the right index: {right} of {indexed}; "
              f"{len(all_trials)} changes made, {slack} in database slack, not counted)")
        if failures:
            print(f"FAILURES ({len(failures)}): replay one with  python3 Tools/tamper.py --replay CLASS TARGET OFFSET NEWBYTE")
            for t in failures:
                if t.detected:
                    what = f"WRONG INDEX (expected {t.expected_index})"
                elif t.rc in (0, None):
                    what = "MISSED"
                else:
                    what = f"WRONG EXIT CODE ({t.rc})"
                target = "-" if t.cls == "db-file" else (t.target.split("/", 1)[1] if t.cls.startswith("db-") else t.target)
                extra = f" [page of {t.page}; {t.category}: {', '.join(t.tables)}]" if t.category else ""
                print(f"  {what}: seed {ctx.seed}: {t.cls} {t.where()}{extra}: {t.said}")
                print(f"      {'--postgres ' if pg is not None else ''}--replay {t.cls} {target} {t.offset} 0x{t.new:02x}")
        print(f"wall time {time.monotonic() - started:.1f} s")
        return 1 if failures else 0
    except SetupError as e:
        print(f"tamper: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
