#!/usr/bin/env python3
"""Self-contained tests for Tools/verify.py (export bundles and proof files, FORMAT.md §11-§14).

    python3 Tools/test_verify.py

Builds ledgers, checkpoints, cosignatures, BagIt bundles and proof files here, from
docs/FORMAT.md only (hashlib, base64, json and `cryptography` with fixed demo seeds), then
runs verify.py on good and altered bundles and checks the verdict: exit status, and for
failures the step, file and entry index reported in the --json output.

The last line printed is "N passed, M failed"; the exit status is non-zero on failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFY = os.path.join(HERE, "verify.py")
TMP = tempfile.mkdtemp(prefix="verify-bundle-test-")
PASSED = 0
FAILED = 0
_counter = 0

ORIGIN = "test.incidentledger.example/bundle"
PT = b"application/vnd.incidentledger.event+json"
BAGIT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
DASH = "\u2014 "


VERBOSE = bool(os.environ.get("VERBOSE"))


def check(name: str, cond: bool, detail: str = "") -> None:
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print(f"PASS {name}" + (f" {detail}" if VERBOSE and detail else ""))
    else:
        FAILED += 1
        print(f"FAIL {name} {detail}")


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def tmpdir() -> str:
    global _counter
    _counter += 1
    return os.path.join(TMP, f"t{_counter}")


def tmpfile(data: bytes) -> str:
    global _counter
    _counter += 1
    p = os.path.join(TMP, f"f{_counter}")
    with open(p, "wb") as f:
        f.write(data)
    return p


# ---------------------------------------------------------------------------
# keys, entries, Merkle tree (FORMAT.md §1-§5)

class Key:
    def __init__(self, seed: int, name: str = "", roles=()):
        self.sk = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
        self.pub = self.sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.kid = hashlib.sha256(self.pub).hexdigest()
        self.name = name
        self.roles = list(roles)

    def descriptor(self):
        return {"name": self.name, "publicKey": b64(self.pub), "roles": self.roles}


ADMIN = Key(0x11, "Demo admin", ["admin"])
ARCHIVIST = Key(0x22, "Demo archivist", ["archivist"])
LOGKEY = Key(0x44, "Demo log key", ["log"])
ROGUE = Key(0x88)
W1, W2, W3 = Key(0x55), Key(0x66), Key(0x77)
W1_NAME, W2_NAME, W3_NAME = "witness.example.org/w1", "witness.example.org/w2", "witness.example.net/w3"


def compact(v, sort=False) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=sort)


def leaf(line: bytes) -> bytes:
    return sha(b"\x00" + line)


def node(l: bytes, r: bytes) -> bytes:
    return sha(b"\x01" + l + r)


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def inclusion_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(leaves)
    if n <= 1:
        return []
    k = split(n)
    if m < k:
        return inclusion_path(m, leaves[:k]) + [mth(leaves[k:])]
    return inclusion_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n])."""
    def sub(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = split(n)
        if m <= k:
            return sub(m, d[:k], b) + [mth(d[k:])]
        return sub(m - k, d[k:], False) + [mth(d[:k])]
    if m == len(leaves):
        return []
    return sub(m, leaves, True)


class Log:
    def __init__(self, origin=ORIGIN):
        self.origin = origin
        self.lines: list[bytes] = []
        self.revs: dict[str, int] = {}

    @staticmethod
    def record_time(i: int) -> str:
        """The record time entry i gets: one second apart, from 2026-01-02T03:04:00."""
        t = 3 * 3600 + 4 * 60 + i
        return "2026-01-02T%02d:%02d:%02d.%06dZ" % (t // 3600, t // 60 % 60, t % 60, i)

    def event(self, signer: Key, typ: str, subject: str, body: dict, signed_at: str | None = None) -> None:
        i = len(self.lines)
        head = {"ledger": self.origin, "id": "019b76da-a800-7000-8000-%012x" % (i + 1), "type": typ,
                "subject": subject, "expects": self.revs.get(subject, 0),
                "signedAt": signed_at or "2026-01-01T00:00:%02d.000Z" % (i % 60)}
        payload = (compact(head)[:-1] + ',"body":' + compact(body, True) + "}").encode()
        sig = signer.sk.sign(b"DSSEv1 %d %s %d %s" % (len(PT), PT, len(payload), payload))
        line = ('{"index":%d,"recordedAt":"%s","envelope":{"payloadType":"%s",'
                '"payload":"%s","signatures":[{"keyid":"%s","sig":"%s"}]}}' % (
                    i, self.record_time(i), PT.decode(), b64(payload), signer.kid, b64(sig))).encode()
        self.lines.append(line)
        self.revs[subject] = self.revs.get(subject, 0) + 1

    def leaves(self, size=None):
        return [leaf(l) for l in self.lines[:size]]

    def root(self, size: int) -> bytes:
        return mth(self.leaves(size))


def demo_log(n: int = 9) -> Log:
    log = Log()
    log.event(ADMIN, "ledger.genesis", ADMIN.kid, {"admin": ADMIN.descriptor()})
    log.event(ADMIN, "key.enrolled", ARCHIVIST.kid, ARCHIVIST.descriptor())
    log.event(ADMIN, "key.enrolled", LOGKEY.kid, LOGKEY.descriptor())
    for i in range(3, n):
        log.event(ARCHIVIST, "incident.reported", "incident:%d" % (i % 3),
                  {"title": {"en": "Event %d" % i}, "occurred": "2016-07"})
    return log


# ---------------------------------------------------------------------------
# checkpoints, cosignatures, vkeys (§7, §12)

def cp_text(origin: str, size: int, root: bytes) -> bytes:
    return f"{origin}\n{size}\n{b64(root)}\n".encode()


def log_sig_line(name: str, key: Key, text: bytes) -> str:
    kh = sha(name.encode() + b"\n\x01" + key.pub)[:4]
    return f"{DASH}{name} {b64(kh + key.sk.sign(text))}\n"


def cosig_line(name: str, key: Key, text: bytes, ts: int = 1767225600) -> str:
    kh = sha(name.encode() + b"\n\x04" + key.pub)[:4]
    msg = b"cosignature/v1\ntime %d\n" % ts + text
    return f"{DASH}{name} {b64(kh + ts.to_bytes(8, 'big') + key.sk.sign(msg))}\n"


def make_note(log: Log, size: int, signer: Key = LOGKEY, origin: str | None = None,
              witnesses=((W1_NAME, W1), (W2_NAME, W2))) -> bytes:
    origin = origin or log.origin
    text = cp_text(origin, size, log.root(size))
    out = text.decode() + "\n" + log_sig_line(origin, signer, text)
    for name, key in witnesses:
        out += cosig_line(name, key, text)
    return out.encode()


def vkey(name: str, typ: int, key: Key) -> str:
    kh = sha(name.encode() + b"\n" + bytes([typ]) + key.pub)[:4]
    return f"{name}+{kh.hex()}+{b64(bytes([typ]) + key.pub)}"


VK_W1, VK_W2, VK_W3 = vkey(W1_NAME, 4, W1), vkey(W2_NAME, 4, W2), vkey(W3_NAME, 4, W3)
VK_LOG = vkey(ORIGIN, 1, LOGKEY)


# ---------------------------------------------------------------------------
# bundles (§11)

class Bag:
    """Files of a bundle.  `write` hashes them into manifests (what `ledger export` or an
    attacker who re-bags would do); `post` hooks then alter the written directory."""

    def __init__(self, log: Log, sizes=(3, 4, 5, 8, 9), notes: dict | None = None):
        self.log = log
        n = len(log.lines)
        self.data: dict[str, bytes] = {"data/entries.jsonl": b"".join(l + b"\n" for l in log.lines)}
        for s in sizes:
            self.data[f"data/checkpoints/{s}"] = (notes or {}).get(s) or make_note(log, s)
        if f"data/checkpoints/{n}" in self.data:
            self.data["data/checkpoint"] = self.data[f"data/checkpoints/{n}"]
        self.info = [
            ("Bag-Software-Agent", "IncidentLedger ledger export (format 1)"),
            ("Bagging-Date", "2026-02-03"),
            ("Payload-Oxum", None),                      # computed on write
            ("External-Description", f"IncidentLedger log {log.origin}, tree size {n}"),
            ("IncidentLedger-Format", "1"),
            ("IncidentLedger-Origin", log.origin),
            ("IncidentLedger-Tree-Size", str(n)),
            ("IncidentLedger-Root", log.root(n).hex()),
            ("IncidentLedger-Genesis-Key-ID", ADMIN.kid),
            ("IncidentLedger-Export-Time", "2026-02-03T04:05:06Z"),
        ]

    def set_info(self, label, value):
        self.info = [(l, value if l == label else v) for l, v in self.info]

    def write(self, post=()) -> str:
        d = tmpdir()
        os.makedirs(os.path.join(d, "data", "checkpoints"))
        for path, content in self.data.items():
            with open(os.path.join(d, *path.split("/")), "wb") as f:
                f.write(content)
        paths = sorted(self.data, key=lambda p: p.encode())
        manifest = "".join(f"{hashlib.sha256(self.data[p]).hexdigest()}  {p}\n" for p in paths).encode()
        oxum = f"{sum(len(v) for v in self.data.values())}.{len(self.data)}"
        info = "".join(f"{l}: {oxum if v is None else v}\n" for l, v in self.info).encode()
        tags = {"bag-info.txt": info, "bagit.txt": BAGIT, "manifest-sha256.txt": manifest}
        tagmanifest = "".join(f"{hashlib.sha256(tags[p]).hexdigest()}  {p}\n" for p in sorted(tags)).encode()
        tags["tagmanifest-sha256.txt"] = tagmanifest
        for name, content in tags.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(content)
        for fn in post:
            fn(d)
        return d


def rehash_tags(d: str) -> None:
    """Rewrite tagmanifest-sha256.txt for the current tag files (an attacker's re-bagging)."""
    lines = []
    for p in ("bag-info.txt", "bagit.txt", "manifest-sha256.txt"):
        with open(os.path.join(d, p), "rb") as f:
            lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {p}\n")
    with open(os.path.join(d, "tagmanifest-sha256.txt"), "w") as f:
        f.write("".join(lines))


def edit(path: str, fn):
    def hook(d):
        p = os.path.join(d, *path.split("/"))
        with open(p, "rb") as f:
            data = f.read()
        with open(p, "wb") as f:
            f.write(fn(data))
    return hook


def run(args: list[str]) -> tuple[int, dict | None, str]:
    p = subprocess.run([sys.executable, VERIFY] + args, capture_output=True, text=True)
    try:
        obj = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        obj = None
    return p.returncode, obj, p.stderr.strip()


def audit(d: str, trust: str = ADMIN.kid, extra=()) -> tuple[int, dict | None, str]:
    return run([d, "--trust", trust, "--json"] + list(extra))


def expect_ok(name: str, d: str, extra=(), **want) -> dict | None:
    rc, obj, err = audit(d, extra=extra)
    good = rc == 0 and obj is not None and obj.get("ok") is True and obj.get("step") is None
    for k, v in want.items():
        good = good and obj.get(k) == v
    check(name, good, f"-> rc={rc} {obj} {err}")
    return obj


def expect_fail(name: str, d: str, step: str, file: str | None = None, index=None, extra=(), trust=ADMIN.kid,
                reason: str | None = None):
    rc, obj, err = audit(d, trust=trust, extra=extra)
    good = (rc == 1 and obj is not None and obj.get("ok") is False and obj.get("step") == step
            and obj.get("index") == index and (file is None or obj.get("file") == file)
            and (reason is None or reason in (obj.get("reason") or ""))
            and err.startswith(f"FAIL [{step}]") and "\n" not in err)
    check(name, good, f"-> rc={rc} {obj} {err}" if not good else f"-> {err}")


# ---------------------------------------------------------------------------
# bundle tests

def bundle_tests() -> None:
    log = demo_log(9)
    n = 9
    root = log.root(n).hex()
    base = Bag(log)

    # --- good bundles
    d = base.write()
    obj = expect_ok("good bundle, no witnesses", d, treeSize=n, root=root, origin=ORIGIN,
                    genesisKeyID=ADMIN.kid, checkpoints=5, cosigners=[], index=None, file=None, reason=None)
    rc, _, _ = run([d, "--trust", ADMIN.kid])
    check("good bundle, plain output exits 0", rc == 0)
    expect_ok("good bundle, witnesses w1+w2 quorum 2", d, extra=["--witness", VK_W1, "--witness", VK_W2,
                                                                  "--quorum", "2"],
              cosigners=[W1_NAME, W2_NAME])
    expect_ok("good bundle, witness w1 (default quorum = all)", d, extra=["--witness", VK_W1],
              cosigners=[W1_NAME])
    expect_ok("good bundle, w1+w3 quorum 1 (w3 never cosigned)", d,
              extra=["--witness", VK_W1, "--witness", VK_W3, "--quorum", "1"], cosigners=[W1_NAME])
    expect_ok("good bundle, witness given twice counts once", d,
              extra=["--witness", VK_W1, "--witness", VK_W1, "--quorum", "1"], cosigners=[W1_NAME])
    one = Log()
    one.lines = log.lines[:1]
    # a log key is enrolled only at index 2: a 1-entry bundle can have no valid checkpoint
    expect_fail("1-entry bundle: checkpoint 1 has no active log key", Bag(one, sizes=(1,)).write(),
                "entries", "data/checkpoints/1")
    small = Log()
    small.lines = log.lines[:3]
    expect_ok("3-entry bundle with one checkpoint", Bag(small, sizes=(3,)).write(), treeSize=3, checkpoints=1)
    # no cosignatures at all on the notes, untrusted witness lines are ignored
    b = Bag(log, notes={s: make_note(log, s, witnesses=((W3_NAME, W3),)) for s in (3, 4, 5, 8, 9)})
    expect_ok("good bundle cosigned only by an untrusted witness, no --witness", b.write())

    # --- step 1: layout
    expect_fail("truncated bagit.txt", base.write([edit("bagit.txt", lambda x: x[:-1])]), "layout", "bagit.txt")
    expect_fail("bagit.txt of 55 bytes (extra newline)", base.write([edit("bagit.txt", lambda x: x + b"\n")]),
                "layout", "bagit.txt")
    expect_fail("tag manifest missing", base.write([lambda d: os.remove(os.path.join(d, "tagmanifest-sha256.txt"))]),
                "layout", "tagmanifest-sha256.txt")
    expect_fail("manifest line missing",
                base.write([edit("manifest-sha256.txt",
                                 lambda x: b"".join(l for l in x.splitlines(True) if b"checkpoints/5" not in l))]),
                "layout", "data/checkpoints/5")
    expect_fail("manifest line duplicated",
                base.write([edit("manifest-sha256.txt", lambda x: x + x.splitlines(True)[0])]), "layout")
    expect_fail("manifest separated by a tab",
                base.write([edit("manifest-sha256.txt", lambda x: x.replace(b"  data/entries", b"\tdata/entries"))]),
                "layout", "manifest-sha256.txt")
    expect_fail("manifest path with ./",
                base.write([edit("manifest-sha256.txt", lambda x: x.replace(b" data/entries", b" ./data/entries"))]),
                "layout", "manifest-sha256.txt")
    expect_fail("manifest with uppercase hex digest",
                base.write([edit("manifest-sha256.txt", lambda x: x[:64].upper() + x[64:])]),
                "layout", "manifest-sha256.txt")
    expect_fail("tag manifest lists data/entries.jsonl",
                base.write([edit("tagmanifest-sha256.txt", lambda x: x + b"0" * 64 + b"  data/entries.jsonl\n")]),
                "layout", "tagmanifest-sha256.txt")
    expect_fail("tag manifest missing bagit.txt",
                base.write([edit("tagmanifest-sha256.txt",
                                 lambda x: b"".join(l for l in x.splitlines(True) if b"bagit.txt" not in l))]),
                "layout", "tagmanifest-sha256.txt")

    def add_file(rel, content=b"x\n"):
        def hook(d):
            p = os.path.join(d, *rel.split("/"))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(content)
        return hook

    b = Bag(log)
    b.data["data/notes.txt"] = b"hello\n"           # listed in the manifest, still not allowed
    expect_fail("extra file in data/ (listed)", b.write(), "layout", "data/notes.txt")
    expect_fail("extra file in data/ (unlisted)", base.write([add_file("data/x")]), "layout", "data/x")
    expect_fail("extra file at top level", base.write([add_file("README.txt")]), "layout", "README.txt")
    expect_fail("fetch.txt at top level", base.write([add_file("fetch.txt")]), "layout", "fetch.txt")
    expect_fail("extra manifest algorithm", base.write([add_file("manifest-md5.txt")]), "layout", "manifest-md5.txt")
    expect_fail("empty directory in data/", base.write([lambda d: os.mkdir(os.path.join(d, "data", "sub"))]),
                "layout", "data/sub")
    expect_fail("checkpoint file name with leading zero",
                base.write([lambda d: os.rename(os.path.join(d, "data", "checkpoints", "5"),
                                                os.path.join(d, "data", "checkpoints", "05"))]),
                "layout", "data/checkpoints/05")
    expect_fail("missing data file (listed checkpoint deleted)",
                base.write([lambda d: os.remove(os.path.join(d, "data", "checkpoints", "4"))]),
                "layout", "data/checkpoints/4")
    expect_fail("missing data/checkpoint",
                base.write([lambda d: os.remove(os.path.join(d, "data", "checkpoint"))]),
                "layout", "data/checkpoint")
    b = Bag(log)
    del b.data["data/entries.jsonl"]
    expect_fail("missing data/entries.jsonl (re-bagged)", b.write(), "layout", "data/entries.jsonl")
    if hasattr(os, "symlink"):
        def link2(d):
            p = os.path.join(d, "data", "checkpoints", "8")
            os.remove(p)
            os.symlink("9", p)
        expect_fail("symbolic link in data/checkpoints", base.write([link2]), "layout", "data/checkpoints/8")

    # --- step 2: entries
    expect_fail("truncated entries.jsonl (last line cut)",
                base.write([edit("data/entries.jsonl", lambda x: x[:-40])]), "entries", "data/entries.jsonl", 8)
    expect_fail("entries.jsonl without its final newline",
                base.write([edit("data/entries.jsonl", lambda x: x[:-1])]), "entries", "data/entries.jsonl", 8)

    def relines(fn):
        b = Bag(log)
        lines = b.data["data/entries.jsonl"].split(b"\n")[:-1]
        b.data["data/entries.jsonl"] = b"".join(l + b"\n" for l in fn(lines))
        return b

    expect_fail("entry lines 4 and 5 swapped (re-bagged)", relines(lambda l: l[:4] + [l[5], l[4]] + l[6:]).write(),
                "entries", "data/entries.jsonl", 4)
    expect_fail("entry line 5 duplicated (re-bagged)", relines(lambda l: l[:6] + [l[5]] + l[6:]).write(),
                "entries", "data/entries.jsonl", 6)

    def flip_payload(line: bytes) -> bytes:
        s = line.decode()
        a = s.index('"payload":"') + len('"payload":"') + 60
        return (s[:a] + ("A" if s[a] != "A" else "B") + s[a + 1:]).encode()

    expect_fail("flipped payload base64 byte in entry 6 (re-bagged)",
                relines(lambda l: l[:6] + [flip_payload(l[6])] + l[7:]).write(), "entries", "data/entries.jsonl", 6)
    expect_fail("flipped payload base64 byte in entry 6 (manifest stale)",
                base.write([edit("data/entries.jsonl",
                                 lambda x: b"\n".join(flip_payload(l) if l.startswith(b'{"index":6,') else l
                                                      for l in x.split(b"\n")))]),
                "entries", "data/entries.jsonl", 6)
    def resign_payload(line: bytes) -> bytes:
        # a valid payload with other content, under the original signature
        s = line.decode()
        a = s.index('"payload":"') + len('"payload":"')
        z = s.index('"', a)
        payload = base64.b64decode(s[a:z]).replace(b"Event 7", b"Event 8")
        return (s[:a] + b64(payload) + s[z:]).encode()

    expect_fail("entry 7 payload altered (valid JSON, old signature)",
                relines(lambda l: l[:7] + [resign_payload(l[7])] + l[8:]).write(), "entries",
                "data/entries.jsonl", 7)
    rc, obj, _ = audit(relines(lambda l: l[:7] + [resign_payload(l[7])] + l[8:]).write())
    check("JSON of an entries failure: no tree size or root, origin and genesis known",
          obj is not None and obj["treeSize"] is None and obj["root"] is None and obj["origin"] == ORIGIN
          and obj["genesisKeyID"] == ADMIN.kid and obj["cosigners"] == [] and obj["checkpoints"] == 3, str(obj))
    expect_fail("wrong --trust pin", base.write(), "entries", "data/entries.jsonl", 0, trust=ARCHIVIST.kid)
    b = Bag(log)
    b.data["data/entries.jsonl"] = b""
    expect_fail("empty entries.jsonl", b.write(), "entries", "data/entries.jsonl", 0)

    # a checkpoint for a size larger than the entries: the last entry removed and re-bagged
    short = Log()
    short.lines = log.lines[:8]
    b = Bag(short, sizes=(3, 4, 5, 8))
    b.data["data/checkpoints/9"] = make_note(log, 9)
    expect_fail("checkpoint for tree size 9 with 8 entries", b.write(), "entries", "data/checkpoints/9")
    b = Bag(log)
    b.data["data/entries.jsonl"] = b"".join(l + b"\n" for l in log.lines[:8])
    expect_fail("last entry removed (checkpoints 9 remains)", b.write(), "entries", "data/checkpoints/9")

    b = Bag(log)
    b.data["data/checkpoints/5"] = make_note(log, 5, origin="other.example/log")
    expect_fail("checkpoint with a foreign origin", b.write(), "entries", "data/checkpoints/5")
    b = Bag(log)
    b.data["data/checkpoints/5"] = make_note(log, 5, signer=ARCHIVIST)
    expect_fail("checkpoint signed by an enrolled key without the log role", b.write(),
                "entries", "data/checkpoints/5")
    b = Bag(log)
    b.data["data/checkpoints/5"] = make_note(log, 5, signer=ROGUE)
    expect_fail("checkpoint signed by a key never enrolled", b.write(), "entries", "data/checkpoints/5")
    b = Bag(log)
    b.data["data/checkpoints/5"] = b.data["data/checkpoints/4"]
    expect_fail("checkpoint file 5 holding the note for size 4", b.write(), "entries", "data/checkpoints/5")
    b = Bag(log)
    b.data["data/checkpoints/8"] = make_note(log, 8).replace(b"\n\n", b"\n\n\n", 1)
    expect_fail("malformed checkpoint note", b.write(), "entries", "data/checkpoints/8")
    b = Bag(log)
    forged = Log()
    forged.lines = list(log.lines)
    forged.lines[7] = log.lines[6].replace(b'"index":6', b'"index":7')
    b.data["data/checkpoints/8"] = make_note(forged, 8)
    expect_fail("checkpoint 8 with a root over other entries", b.write(), "entries", "data/checkpoints/8")

    # --- step 3: latest checkpoint
    b = Bag(log)
    b.data["data/checkpoint"] = b.data["data/checkpoints/8"]
    expect_fail("data/checkpoint differs from data/checkpoints/9", b.write(), "latest-checkpoint", "data/checkpoint")
    b = Bag(log)
    b.data["data/checkpoint"] = make_note(log, 9, witnesses=((W1_NAME, W1),))
    expect_fail("data/checkpoint same checkpoint, other cosignatures", b.write(), "latest-checkpoint",
                "data/checkpoint")
    b = Bag(log, sizes=(3, 4, 5, 8))
    b.data["data/checkpoint"] = make_note(log, 9)
    expect_fail("no checkpoint at n (data/checkpoints/9 absent)", b.write(), "latest-checkpoint",
                "data/checkpoints/9")

    # --- step 4: fixity
    def bad_digest(path):
        def fn(x):
            out = []
            for l in x.splitlines(True):
                if l.rstrip(b"\n").endswith(b"  " + path):
                    l = (b"0" if l[:1] != b"0" else b"1") + l[1:]
                out.append(l)
            return b"".join(out)
        return fn

    expect_fail("manifest digest wrong (tag manifest stale)",
                base.write([edit("manifest-sha256.txt", bad_digest(b"data/checkpoints/3"))]),
                "fixity", "data/checkpoints/3")
    expect_fail("manifest digest wrong (tag manifest updated)",
                base.write([edit("manifest-sha256.txt", bad_digest(b"data/entries.jsonl")), rehash_tags]),
                "fixity", "data/entries.jsonl")
    expect_fail("tag manifest digest wrong", base.write([edit("tagmanifest-sha256.txt", bad_digest(b"bagit.txt"))]),
                "fixity", "bagit.txt")
    expect_fail("bag-info.txt edited, tag manifest stale",
                base.write([edit("bag-info.txt", lambda x: x.replace(b"2026-02-03\n", b"2026-02-04\n"))]),
                "fixity", "bag-info.txt")
    expect_fail("extra cosignature appended to checkpoint 3 (manifest stale)",
                base.write([edit("data/checkpoints/3",
                                 lambda x: x + cosig_line(W3_NAME, W3, cp_text(ORIGIN, 3, log.root(3))).encode())]),
                "fixity", "data/checkpoints/3")

    # --- step 5: bag-info claims (tag manifest updated to match)
    for label, value in (("IncidentLedger-Root", log.root(8).hex()),
                         ("IncidentLedger-Tree-Size", "8"),
                         ("IncidentLedger-Tree-Size", "09"),
                         ("IncidentLedger-Origin", "other.example/log"),
                         ("IncidentLedger-Genesis-Key-ID", ARCHIVIST.kid),
                         ("IncidentLedger-Format", "2"),
                         ("IncidentLedger-Export-Time", "2026-02-30T04:05:06Z"),
                         ("IncidentLedger-Export-Time", "2026-02-03T04:05:06.5Z"),
                         ("Payload-Oxum", "1.7")):
        b = Bag(log)
        b.set_info(label, value)
        expect_fail(f"bag-info {label} = {value}", b.write(), "bag-info", "bag-info.txt")
    b = Bag(log)
    b.info = [(l, v) for l, v in b.info if l != "IncidentLedger-Root"]
    expect_fail("bag-info IncidentLedger-Root missing", b.write(), "bag-info", "bag-info.txt")
    b = Bag(log)
    b.info.append(("IncidentLedger-Origin", ORIGIN))
    expect_fail("bag-info IncidentLedger-Origin twice", b.write(), "bag-info", "bag-info.txt")
    b = Bag(log)
    b.info.append(("IncidentLedger-Comment", "x"))
    expect_fail("bag-info unknown IncidentLedger-* label", b.write(), "bag-info", "bag-info.txt")
    b = Bag(log)
    b.info.append(("Contact-Name", "Someone"))
    b.info = [(l, v) for l, v in b.info if l != "Payload-Oxum"]
    expect_ok("bag-info with another label and without Payload-Oxum", b.write())
    expect_fail("bag-info continuation line",
                base.write([edit("bag-info.txt", lambda x: x.replace(b"(format 1)\n", b"(format\n  1)\n")),
                            rehash_tags]), "bag-info", "bag-info.txt")

    # --- step 6: cosignatures
    wit12 = ["--witness", VK_W1, "--witness", VK_W2]
    b = Bag(log, notes={9: make_note(log, 9, witnesses=((W3_NAME, W3),))})
    expect_fail("latest cosigned only by an unknown witness, quorum 1 of w1", b.write(), "cosignatures",
                "data/checkpoint", extra=["--witness", VK_W1, "--quorum", "1"])
    b = Bag(log, notes={9: make_note(log, 9, witnesses=((W1_NAME, W1),))})
    d = b.write()
    expect_fail("latest cosigned by w1 only, quorum 2", d, "cosignatures", "data/checkpoint",
                extra=wit12 + ["--quorum", "2"])
    expect_ok("latest cosigned by w1 only, quorum 1 of w1,w2", d, extra=wit12 + ["--quorum", "1"],
              cosigners=[W1_NAME])
    t9 = cp_text(ORIGIN, 9, log.root(9))
    first = (t9 + b"\n" + cosig_line(W1_NAME, W1, t9).encode() + log_sig_line(ORIGIN, LOGKEY, t9).encode())
    expect_ok("cosignature before the log's signature line accepted", Bag(log, notes={9: first}).write(),
              extra=["--witness", VK_W1], cosigners=[W1_NAME])
    b = Bag(log, notes={9: make_note(log, 9, witnesses=((W1_NAME, W3),))})
    expect_ok("line under w1's name but another key is ignored (quorum 0)", b.write(),
              extra=["--witness", VK_W1, "--quorum", "0"], cosigners=[])

    def alter_cosig(note: bytes, wname: str, pos: int = 20) -> bytes:
        lines = note.decode().split("\n")
        for k, l in enumerate(lines):
            if l.startswith(DASH + wname + " "):
                blob = bytearray(base64.b64decode(l.split(" ")[2]))
                blob[pos] ^= 0x01
                lines[k] = f"{DASH}{wname} {b64(bytes(blob))}"
        return "\n".join(lines).encode()

    b = Bag(log)
    b.data["data/checkpoints/5"] = alter_cosig(b.data["data/checkpoints/5"], W1_NAME)
    d = b.write()
    expect_fail("altered cosignature of trusted w1 on checkpoint 5", d, "cosignatures", "data/checkpoints/5",
                extra=["--witness", VK_W1, "--quorum", "1"])
    expect_ok("altered cosignature of w1 ignored when w1 is not trusted", d, extra=["--witness", VK_W2])
    expect_ok("altered cosignature not checked without witnesses", d)
    b = Bag(log)
    b.data["data/checkpoints/9"] = alter_cosig(b.data["data/checkpoints/9"], W2_NAME, pos=6)   # timestamp byte
    b.data["data/checkpoint"] = b.data["data/checkpoints/9"]
    expect_fail("altered cosignature timestamp of trusted w2 on the latest", b.write(), "cosignatures",
                "data/checkpoints/9", extra=wit12 + ["--quorum", "1"])
    b = Bag(log)
    t = cp_text(ORIGIN, 4, log.root(4))
    kh1 = sha(W1_NAME.encode() + b"\n\x04" + W1.pub)[:4]
    short_line = f"{DASH}{W1_NAME} {b64(kh1 + b'x' * 60)}\n"
    b.data["data/checkpoints/4"] = t + b"\n" + log_sig_line(ORIGIN, LOGKEY, t).encode() + short_line.encode()
    expect_fail("trusted witness line of 64 bytes", b.write(), "cosignatures", "data/checkpoints/4",
                extra=["--witness", VK_W1, "--quorum", "1"])

    # --- order of the steps: the first failure is the verdict
    b = Bag(log)
    b.data["data/checkpoints/5"] = alter_cosig(b.data["data/checkpoints/5"], W1_NAME)
    b.set_info("IncidentLedger-Root", "00" * 32)
    expect_fail("bag-info failure reported before cosignature failure", b.write(), "bag-info",
                extra=["--witness", VK_W1])
    expect_fail("layout failure reported before entries failure",
                base.write([edit("data/entries.jsonl", lambda x: x[:-1]), add_file("extra")]), "layout", "extra")

    # --- usage errors
    rc, _, _ = run([os.path.join(TMP, "no-such-bag"), "--trust", ADMIN.kid])
    check("missing bag directory exits 2", rc == 2, str(rc))
    rc, _, _ = run([base.write(), "--trust", "ABC"])
    check("malformed --trust exits 2", rc == 2, str(rc))
    rc, _, _ = run([base.write()])
    check("missing --trust exits 2", rc == 2, str(rc))
    bad = VK_W1[:-3] + ("A" if VK_W1[-3] != "A" else "B") + VK_W1[-2:]
    rc, _, _ = run([base.write(), "--trust", ADMIN.kid, "--witness", bad])
    check("witness vkey whose key hash does not match exits 2", rc == 2, str(rc))
    rc, _, _ = run([base.write(), "--trust", ADMIN.kid, "--witness", VK_W1, "--quorum", "2"])
    check("quorum above the number of witnesses exits 2", rc == 2, str(rc))
    rc, _, _ = run([base.write(), "--trust", ADMIN.kid, "--witness", VK_LOG])
    check("log vkey (type 0x01) given as a witness exits 2", rc == 2, str(rc))


def example_test() -> None:
    """A bundle around the worked example of FORMAT.md §10 (4 entries, checkpoint at 4)."""
    import re
    with open(os.path.join(os.path.dirname(HERE), "docs", "FORMAT.md"), encoding="utf-8") as f:
        doc = f.read()
    m = re.search(r"```jsonl example-entries\n(.*?)```", doc, re.S)
    c = re.search(r"```text example-checkpoint\n(.*?)```", doc, re.S)
    admin = re.search(r"admin public key `[^`]+`, key id `([0-9a-f]{64})`", doc)
    root = re.search(r"root of tree size 4: `([0-9a-f]{64})`", doc)
    check("§10 example blocks found", bool(m and c and admin and root))
    if not (m and c and admin and root):
        return
    log = Log(origin="demo.incidentledger.example/format")
    log.lines = m.group(1).encode().split(b"\n")[:-1]
    b = Bag(log, sizes=(4,), notes={4: c.group(1).encode()})
    b.set_info("IncidentLedger-Genesis-Key-ID", admin.group(1))
    d = b.write()
    rc, obj, err = run([d, "--trust", admin.group(1), "--json"])
    check("bundle of the §10 example accepted", rc == 0 and obj and obj["root"] == root.group(1)
          and obj["treeSize"] == 4 and obj["checkpoints"] == 1, f"-> rc={rc} {obj} {err}")


# ---------------------------------------------------------------------------
# log rules of FORMAT.md §6: usable keys only, signedAt not more than 1 hour after the record time

from ed25519_points import ED_P, ed_add, ed_decode, ed_encode, order8_point  # noqa: E402


def at_offset(record_time: str, micros: int) -> str:
    """An RFC 3339 time `micros` microseconds after a 27-byte record time (6 fraction digits)."""
    import datetime
    t = datetime.datetime.strptime(record_time, "%Y-%m-%dT%H:%M:%S.%fZ") + datetime.timedelta(microseconds=micros)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rules_tests() -> None:
    # --- usable keys only: refused at the enrolling entry, reported by the entries step
    t8 = order8_point()
    a_pt = ed_decode(ROGUE.pub)
    cases = [
        ("all-zero 32 bytes (small order)", bytes(32)),
        ("the identity, y = 1 (small order)", b"\x01" + bytes(31)),
        ("non-canonical: y = p + 1", (ED_P + 1).to_bytes(32, "little")),
        ("non-canonical: y = p + 3", (ED_P + 3).to_bytes(32, "little")),
        ("a valid key plus a point of order 8 (outside the prime-order subgroup)", ed_encode(ed_add(a_pt, t8))),
        ("not on the curve (y = 2)", (2).to_bytes(32, "little")),
    ]
    for label, pub in cases:
        log = demo_log(4)
        log.event(ADMIN, "key.enrolled", sha(pub).hex(), {"name": "weak", "publicKey": b64(pub), "roles": ["reviewer"]})
        for i in range(5, 9):
            log.event(ARCHIVIST, "incident.reported", "incident:x%d" % i, {"title": {"en": "E"}})
        expect_fail(f"usable keys: key.enrolled at entry 4 with {label}", Bag(log, sizes=(3, 4, 9)).write(),
                    "entries", "data/entries.jsonl", 4,
                    reason="body.publicKey is not a usable Ed25519 public key")
    log = demo_log(4)
    log.event(ADMIN, "key.enrolled", ROGUE.kid, {"name": "ok", "publicKey": b64(ROGUE.pub), "roles": ["reviewer"]})
    expect_ok("usable keys: key.enrolled with a key made from a seed", Bag(log, sizes=(3, 5)).write())
    zero = Key(0x12, "Zero", ["admin"])
    zero.pub, zero.kid = bytes(32), sha(bytes(32)).hex()
    log = Log()
    log.event(zero, "ledger.genesis", zero.kid, {"admin": zero.descriptor()})
    b = Bag(log, sizes=(1,))
    b.set_info("IncidentLedger-Genesis-Key-ID", zero.kid)
    rc, obj, err = audit(b.write(), trust=zero.kid)
    check("usable keys: genesis admin key of 32 zero bytes refused at entry 0",
          rc == 1 and obj is not None and obj["step"] == "entries" and obj["index"] == 0
          and "body.admin.publicKey is not a usable Ed25519 public key" in obj["reason"], f"-> rc={rc} {obj} {err}")

    # --- signedAt at most 3600 s after the record time
    for label, at, k, ok in (
            ("exactly 3600 s after the record time", 3600_000_000, 5, True),
            ("3600.000001 s after the record time", 3600_000_001, 5, False),
            ("ten years before the record time", -10 * 365 * 86400_000_000, 5, True),
            ("3600.000001 s after, on the genesis", 3600_000_001, 0, False),
            ("exactly 3600 s after, on the genesis", 3600_000_000, 0, True)):
        log = Log()
        for i in range(9):
            signed = at_offset(Log.record_time(i), at) if i == k else None
            if i == 0:
                log.event(ADMIN, "ledger.genesis", ADMIN.kid, {"admin": ADMIN.descriptor()}, signed_at=signed)
            elif i == 1:
                log.event(ADMIN, "key.enrolled", ARCHIVIST.kid, ARCHIVIST.descriptor(), signed_at=signed)
            elif i == 2:
                log.event(ADMIN, "key.enrolled", LOGKEY.kid, LOGKEY.descriptor(), signed_at=signed)
            else:
                log.event(ARCHIVIST, "incident.reported", "incident:%d" % i, {"title": {"en": "E"}},
                          signed_at=signed)
        d = Bag(log).write()
        if ok:
            expect_ok(f"signedAt {label} accepted", d)
        else:
            expect_fail(f"signedAt {label} refused at entry {k}", d, "entries", "data/entries.jsonl", k,
                        reason="is more than 1 hour after the entry's record time")


def large_test() -> None:
    """1,500 entries, a checkpoint every 97 entries and at n, cosigned: streaming and many sizes."""
    log = demo_log(1500)
    sizes = sorted(set(range(97, 1500, 97)) | {3, 4, 1500})
    d = Bag(log, sizes=sizes).write()
    expect_ok("1,500-entry bundle with 18 checkpoints, quorum 2", d,
              extra=["--witness", VK_W1, "--witness", VK_W2], treeSize=1500, checkpoints=len(sizes),
              root=log.root(1500).hex())


# ---------------------------------------------------------------------------
# proof files (§13)

def tlog_proof(log: Log, index: int, size: int, extra: bool = True, note: bytes | None = None,
               path: list[bytes] | None = None, index_text: str | None = None) -> bytes:
    path = inclusion_path(index, log.leaves(size)) if path is None else path
    out = "c2sp.org/tlog-proof@v1\n"
    if extra:
        out += f"extra {b64(log.lines[index])}\n"
    out += f"index {index if index_text is None else index_text}\n"
    out += "".join(b64(h) + "\n" for h in path) + "\n"
    return out.encode() + (note or make_note(log, size))


def cons_proof(log: Log, s1: int, s2: int, note1=None, note2=None, proof=None, old_text=None) -> bytes:
    proof = consistency_proof(s1, log.leaves(s2)) if proof is None else proof
    out = f"incidentledger/consistency-proof@v1\nold {s1 if old_text is None else old_text}\n"
    out += "".join(b64(h) + "\n" for h in proof) + "\n"
    return out.encode() + (note1 or make_note(log, s1)) + b"\n" + (note2 or make_note(log, s2))


def proof_run(data: bytes, extra=(), keys=(VK_LOG,)) -> tuple[int, dict | None, str]:
    args = ["--proof", tmpfile(data), "--json"]
    for k in keys:
        args += ["--log-key", k]
    return run(args + list(extra))


def expect_proof(name: str, data: bytes, ok: bool, extra=(), keys=(VK_LOG,), rc_want=None):
    rc, obj, err = proof_run(data, extra, keys)
    want = rc_want if rc_want is not None else (0 if ok else 1)
    good = rc == want and (want == 2 or (obj is not None and obj.get("ok") is ok))
    check(name, good, f"-> rc={rc} {obj} {err}" if not good else (f"-> {err}" if err else ""))
    return obj


def proof_tests() -> None:
    log = demo_log(13)

    # the RFC 9162 algorithms in verify.py against PATH/PROOF built here, every size up to 13
    sys.path.insert(0, HERE)
    sys.dont_write_bytecode = True
    import verify  # noqa: E402
    leaves = log.leaves()
    bad_incl = bad_cons = 0
    for n in range(1, 14):
        r = mth(leaves[:n])
        for m in range(n):
            p = inclusion_path(m, leaves[:n])
            if not verify.verify_inclusion(m, n, leaves[m], p, r):
                bad_incl += 1
            if verify.verify_inclusion(m, n, leaves[(m + 1) % n], p, r) and n > 1:
                bad_incl += 1
            if verify.verify_inclusion((m + 1) % n, n, leaves[m], p, r) and n > 1 and \
                    leaves[(m + 1) % n] != leaves[m]:
                if p != inclusion_path((m + 1) % n, leaves[:n]):
                    bad_incl += 1
            if p and verify.verify_inclusion(m, n, leaves[m], p[:-1], r):
                bad_incl += 1
        for m in range(1, n + 1):
            p = consistency_proof(m, leaves[:n])
            if not verify.verify_consistency(m, n, mth(leaves[:m]), r, p):
                bad_cons += 1
            if m < n and verify.verify_consistency(m, n, mth(leaves[:m]), mth(leaves[:n - 1]) if n > 1 else r, p):
                bad_cons += 1
            if p and verify.verify_consistency(m, n, mth(leaves[:m]), r, p[:-1]):
                bad_cons += 1
    check("RFC 9162 inclusion: every (index, size <= 13) accepted, altered ones refused", bad_incl == 0, str(bad_incl))
    check("RFC 9162 consistency: every (m, n <= 13) accepted, altered ones refused", bad_cons == 0, str(bad_cons))

    # --- inclusion proofs
    obj = expect_proof("inclusion proof of entry 4 in size 9", tlog_proof(log, 4, 9), True)
    check("inclusion proof JSON names index and size",
          obj is not None and obj.get("index") == 4 and obj.get("treeSize") == 9 and obj.get("kind") == "inclusion")
    expect_proof("inclusion proof of entry 0 in size 3", tlog_proof(log, 0, 3), True)
    expect_proof("inclusion proof of entry 12 in size 13", tlog_proof(log, 12, 13), True)
    t1 = cp_text(ORIGIN, 3, log.root(3))
    expect_proof("inclusion proof, size-3 note with log signature only",
                 tlog_proof(log, 2, 3, note=t1 + b"\n" + log_sig_line(ORIGIN, LOGKEY, t1).encode()), True)
    expect_proof("inclusion proof with witness quorum 2",
                 tlog_proof(log, 4, 9), True, extra=["--witness", VK_W1, "--witness", VK_W2])
    expect_proof("inclusion proof, quorum of w3 not met",
                 tlog_proof(log, 4, 9), False, extra=["--witness", VK_W3, "--quorum", "1"])
    expect_proof("inclusion proof without extra, entry via --entry",
                 tlog_proof(log, 4, 9, extra=False), True, extra=["--entry", tmpfile(log.lines[4] + b"\n")])
    expect_proof("inclusion proof without extra, wrong --entry",
                 tlog_proof(log, 4, 9, extra=False), False, extra=["--entry", tmpfile(log.lines[5] + b"\n")])
    expect_proof("inclusion proof without extra and without --entry is a usage error",
                 tlog_proof(log, 4, 9, extra=False), False, rc_want=2)
    good = tlog_proof(log, 4, 9)
    other = good.replace(b"extra " + b64(log.lines[4]).encode(), b"extra " + b64(log.lines[5]).encode())
    expect_proof("tampered extra line (another entry)", other, False)
    altered = log.lines[4].replace(b'"recordedAt":"2026-01-02T03:04:04', b'"recordedAt":"2026-01-02T03:04:05')
    expect_proof("tampered extra line (record time changed)",
                 good.replace(b64(log.lines[4]).encode(), b64(altered).encode()), False)
    expect_proof("wrong index line", good.replace(b"\nindex 4\n", b"\nindex 5\n"), False)
    expect_proof("wrong index, extra line of the same index",
                 tlog_proof(log, 5, 9, path=inclusion_path(4, log.leaves(9))), False)
    expect_proof("index with leading zero", good.replace(b"\nindex 4\n", b"\nindex 04\n"), False)
    path = inclusion_path(4, log.leaves(9))
    expect_proof("wrong hash in the inclusion path",
                 tlog_proof(log, 4, 9, path=[path[0], sha(b"x")] + path[2:]), False)
    expect_proof("inclusion path with a hash missing", tlog_proof(log, 4, 9, path=path[:-1]), False)
    expect_proof("inclusion path with an extra hash", tlog_proof(log, 4, 9, path=path + [sha(b"x")]), False)
    expect_proof("inclusion proof against another size's checkpoint",
                 tlog_proof(log, 4, 9, note=make_note(log, 8)), False)
    expect_proof("inclusion proof, checkpoint by an untrusted log key", good, False,
                 keys=(vkey(ORIGIN, 1, ROGUE),))
    expect_proof("inclusion proof, checkpoint signed by the archivist key",
                 tlog_proof(log, 4, 9, note=make_note(log, 9, signer=ARCHIVIST)), False)
    expect_proof("inclusion proof, several --log-key, one trusted", good, True,
                 keys=(vkey(ORIGIN, 1, ROGUE), VK_LOG))
    n9 = make_note(log, 9).decode().split("\n")
    for k, l in enumerate(n9):
        if l.startswith(DASH + W1_NAME):
            blob = bytearray(base64.b64decode(l.split(" ")[2]))
            blob[40] ^= 1
            n9[k] = f"{DASH}{W1_NAME} {b64(bytes(blob))}"
    expect_proof("inclusion proof with an altered trusted cosignature (w1 trusted)",
                 tlog_proof(log, 4, 9, note="\n".join(n9).encode()), False,
                 extra=["--witness", VK_W1, "--quorum", "1"])
    expect_proof("not a proof file", b"hello\n", False)
    expect_proof("inclusion proof with a trailing empty line", good + b"\n", False)

    # --- consistency proofs
    for s1, s2 in ((3, 9), (4, 9), (8, 9), (5, 8), (1, 13), (9, 9), (2, 4)):
        expect_proof(f"consistency proof {s1} -> {s2}", cons_proof(log, s1, s2), True)
    expect_proof("consistency proof with witnesses quorum 2", cons_proof(log, 3, 9), True,
                 extra=["--witness", VK_W1, "--witness", VK_W2])
    expect_proof("consistency proof, --old is the first checkpoint", cons_proof(log, 3, 9), True,
                 extra=["--old", tmpfile(make_note(log, 3, witnesses=()))])
    expect_proof("consistency proof, --old is another checkpoint", cons_proof(log, 3, 9), False,
                 extra=["--old", tmpfile(make_note(log, 4))])
    expect_proof("swapped checkpoints (old 9, notes 9 then 3)",
                 cons_proof(log, 9, 3, proof=consistency_proof(3, log.leaves(9))), False)
    expect_proof("swapped checkpoints (old 3, notes 9 then 3)",
                 cons_proof(log, 3, 9, note1=make_note(log, 9), note2=make_note(log, 3)), False)
    p = consistency_proof(3, log.leaves(9))
    expect_proof("wrong hash in the consistency proof", cons_proof(log, 3, 9, proof=[sha(b"x")] + p[1:]), False)
    expect_proof("consistency proof with a hash missing", cons_proof(log, 3, 9, proof=p[:-1]), False)
    expect_proof("old line not equal to the first size", cons_proof(log, 3, 9, old_text="4"), False)
    expect_proof("equal sizes with a non-empty proof", cons_proof(log, 9, 9, proof=[log.root(9)]), False)
    forged = Log()
    forged.lines = list(log.lines)
    forged.lines[5] = log.lines[5].replace(b"T03:04:05.", b"T03:04:06.")
    expect_proof("second checkpoint over forged entries", cons_proof(
        log, 3, 9, note2=make_note(forged, 9)), False)
    expect_proof("second checkpoint signed by an untrusted key",
                 cons_proof(log, 3, 9, note2=make_note(log, 9, signer=ROGUE)), False)
    expect_proof("first checkpoint with a foreign origin",
                 cons_proof(log, 3, 9, note1=make_note(log, 3, origin="other.example/log")), False)
    expect_proof("consistency proof without its final newline", cons_proof(log, 3, 9)[:-1], False)
    expect_proof("two empty lines between the checkpoints",
                 cons_proof(log, 3, 9, note1=make_note(log, 3) + b"\n"), False)
    rc, _, _ = proof_run(cons_proof(log, 3, 9), keys=())
    check("--proof without --log-key exits 2", rc == 2, str(rc))


def main() -> int:
    start = time.time()
    try:
        example_test()
        bundle_tests()
        rules_tests()
        large_test()
        proof_tests()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"({time.time() - start:.1f}s)")
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
