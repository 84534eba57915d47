#!/usr/bin/env python3
"""The side-by-side peer of `ledger-bench suite --peer` (issue 17).

What a Python developer would build instead of IncidentLedger: the `eventsourcing` library
(9.5.6, pinned in requirements.txt) with its SQLite persistence, one aggregate per archive
subject, every event's payload Ed25519-signed with PyNaCl and verified before it is stored and
again on a signed replay. SQLite runs in WAL mode (the library's choice) with
`PRAGMA synchronous=FULL` (set here on every connection and checked), as the ledger's file does.

Input: the same events the Swift harness times, one unsigned event per line
(`{"type", "subject", "expects", "body", ...}`, the canonical JSON the ledger would sign).
The peer signs each line's bytes with its own demo key.

Operations, each timed as the best of --rounds:

  bulk     verify each pre-signed event, apply it to its aggregate (kept in memory, as a batch
           writer would), save the batch's aggregates in one transaction (batches of --batch
           events, 10,000 as the ledger's bulk append);
  durable  sign, verify and save one event of a new aggregate per transaction (one commit, one
           WAL fsync each), --durable times;
  replay   read every stored event in notification order through the library's mapper, fold
           each into a per-subject state (a JSON object: the report's body, then each
           correction's changes merged in), and write the states into a table in one
           transaction: the peer's projection rebuild;
  verify   the same read, with every event's signature verified: the peer's signed replay.

What it does not do, unlike the ledger: no Merkle tree, no checkpoints, no key roles or
revocation, no archive rules beyond the version check the library makes (expects+1), one
projection table instead of five, no canonical-JSON re-encoding, single-threaded.

Prints one JSON object: {"events": N, "bulk": per_s, "durable": per_s, "replay": per_s,
"verify": per_s, "versions": {...}, "synchronous": 2}.
"""

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from uuid import NAMESPACE_URL, uuid5

import eventsourcing
import nacl
import nacl.signing
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnectionPool

# Every connection the library opens runs with synchronous=FULL (the library leaves the
# compile-time default; the ledger's file runs FULL).
_create = SQLiteConnectionPool._create_connection


def _create_full(self):
    c = _create(self)
    c._sqlite_conn.execute("PRAGMA synchronous=FULL")
    return c


SQLiteConnectionPool._create_connection = _create_full


class Subject(Aggregate):
    """One archive subject (incident, facility, actor, source, aggregate count)."""

    @staticmethod
    def create_id(name: str, **_):
        return subject_id(name)

    @event("Created")
    def __init__(self, name: str, type: str, payload: str, sig: str):
        self.name = name
        self.log = [(type, payload, sig)]

    @event("Recorded")
    def record(self, type: str, payload: str, sig: str):
        self.log.append((type, payload, sig))


class Archive(Application):
    snapshotting_intervals = None


def subject_id(name):
    return uuid5(NAMESPACE_URL, name)


def open_app(path):
    return Archive(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "60"})


def fold(states, type_, payload):
    """The peer's projection: a report's body, then each correction's changes merged in."""
    ev = json.loads(payload)
    body = ev.get("body", {})
    s = states.get(ev["subject"])
    if s is None:
        s = dict(body)
        states[ev["subject"]] = s
    else:
        s.update(body.get("changes", body))
    s["revision"] = ev.get("expects", 0) + 1


def bulk(path, lines, sigs, vk, batch):
    app = open_app(path)
    live = {}
    t = time.perf_counter()
    for start in range(0, len(lines), batch):
        touched = {}
        for i in range(start, min(start + batch, len(lines))):
            vk.verify(lines[i], sigs[i])  # raises BadSignatureError
            ev = json.loads(lines[i])
            name = ev["subject"]
            payload = lines[i].decode()
            agg = live.get(name)
            if agg is None:
                agg = Subject(name=name, type=ev["type"], payload=payload, sig=sigs[i].hex())
                live[name] = agg
            else:
                agg.record(type=ev["type"], payload=payload, sig=sigs[i].hex())
            touched[name] = agg
        app.save(*touched.values())
    seconds = time.perf_counter() - t
    app.close()
    return seconds


def durable(path, count, sk, vk, round_):
    app = open_app(path)
    lines = [json.dumps({"type": "incident.reported", "subject": "incident:durable-%d-%d" % (round_, i), "expects": 0,
                         "body": {"title": {"en": "Durable append %d" % i}, "occurred": "2016-07", "place": {"admin1": "Aleppo"},
                                  "summary": "x" * 480}}, separators=(",", ":"), sort_keys=True).encode() for i in range(count)]
    t = time.perf_counter()
    for line in lines:
        sig = sk.sign(line).signature
        vk.verify(line, sig)
        ev = json.loads(line)
        app.save(Subject(name=ev["subject"], type=ev["type"], payload=line.decode(), sig=sig.hex()))
    seconds = time.perf_counter() - t
    app.close()
    return seconds


def replay(path, vk, verify, table_db):
    app = open_app(path)
    states = {}
    n = 0
    t = time.perf_counter()
    start = 1
    while True:
        page = app.recorder.select_notifications(start, 1000)
        if not page:
            break
        for note in page:
            e = app.mapper.to_domain_event(note)
            payload, sig = e.payload, e.sig
            if verify:
                vk.verify(payload.encode(), bytes.fromhex(sig))
            fold(states, e.type, payload)
            n += 1
        start = page[-1].id + 1
    db = sqlite3.connect(table_db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("DROP TABLE IF EXISTS projection")
    db.execute("CREATE TABLE projection (subject TEXT PRIMARY KEY, state TEXT NOT NULL)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO projection VALUES (?, ?)",
                   ((k, json.dumps(v, separators=(",", ":"), sort_keys=True)) for k, v in states.items()))
    db.execute("COMMIT")
    seconds = time.perf_counter() - t
    db.close()
    app.close()
    return seconds, n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", required=True, help="JSON Lines file of unsigned events, in log order")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--durable", type=int, default=500)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--dir", help="working directory (default: a new temporary one, removed at the end)")
    a = ap.parse_args()
    with open(a.events, "rb") as f:
        lines = [l.rstrip(b"\n") for l in f if l.strip()]
    sk = nacl.signing.SigningKey(bytes(range(32)))
    vk = sk.verify_key
    sigs = [sk.sign(l).signature for l in lines]
    work = a.dir or tempfile.mkdtemp(prefix="ledger-peer-")
    os.makedirs(work, exist_ok=True)
    try:
        best = {"bulk": None, "durable": None, "replay": None, "verify": None}
        db = None
        for r in range(a.rounds):
            db = os.path.join(work, "peer-%d.sqlite" % r)
            s = bulk(db, lines, sigs, vk, a.batch)
            best["bulk"] = min(best["bulk"] or s, s)
        for r in range(a.rounds):
            s = durable(db, a.durable, sk, vk, r)
            best["durable"] = min(best["durable"] or s, s)
        stored = None
        for key, verify in (("replay", False), ("verify", True)):
            for r in range(a.rounds):
                s, stored = replay(db, vk, verify, os.path.join(work, "projection.sqlite"))
                best[key] = min(best[key] or s, s)
        check = open_app(db)
        # The library's own connections: the patched pool must have set FULL (2).
        with check.recorder.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA synchronous")
            lib_sync = c.fetchone()[0]
        check.close()
        out = {
            "events": len(lines),
            "stored": stored,
            "bulk": len(lines) / best["bulk"],
            "durable": a.durable / best["durable"],
            "replay": stored / best["replay"],
            "verify": stored / best["verify"],
            "synchronous": lib_sync,
            "versions": {"eventsourcing": getattr(eventsourcing, "__version__", "9.5.6"), "pynacl": nacl.__version__,
                         "sqlite": sqlite3.sqlite_version, "python": sys.version.split()[0]},
        }
        print(json.dumps(out))
    finally:
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
