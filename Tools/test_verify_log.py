#!/usr/bin/env python3
"""Self-contained tests for Tools/verify_log.py.

    python3 Tools/test_verify_log.py

1. Extracts the worked example of docs/FORMAT.md §10 (the ```jsonl example-entries
   and ```text example-checkpoint blocks), checks the verifier accepts it with the
   example's admin key id pinned, and checks the hashes stated in §10.
2. Mutates the example and checks each mutation is rejected at the right place.
3. Builds further ledgers with its own keys, following FORMAT.md only, and checks
   accept/reject verdicts.

The last line printed is "N passed, M failed"; the exit status is non-zero on failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VERIFIER = os.path.join(HERE, "verify_log.py")
FORMAT_MD = os.path.join(ROOT, "docs", "FORMAT.md")

PASSED = 0
FAILED = 0
TMP = tempfile.mkdtemp(prefix="verify-log-test-")
_counter = 0


def check(name: str, cond: bool, detail: str = "") -> None:
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print(f"PASS {name}")
    else:
        FAILED += 1
        print(f"FAIL {name} {detail}")


def tmpfile(data: bytes) -> str:
    global _counter
    _counter += 1
    p = os.path.join(TMP, f"f{_counter}")
    with open(p, "wb") as f:
        f.write(data)
    return p


def run(entries: bytes, notes: list[bytes] = (), trust: str | None = None,
        notes_file: bytes | None = None, extra: list[str] = ()) -> tuple[int, str]:
    args = [sys.executable, VERIFIER, tmpfile(entries)]
    for n in notes:
        args += ["--checkpoint", tmpfile(n)]
    if notes_file is not None:
        args += ["--checkpoints", tmpfile(notes_file)]
    if trust is not None:
        args += ["--trust", trust]
    args += list(extra)
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def expect_ok(name, *a, **kw):
    rc, out = run(*a, **kw)
    check(name, rc == 0 and out.startswith("ok: "), f"-> rc={rc} {out!r}")
    return out


def expect_entry_fail(name, index, *a, reason: str | None = None, **kw):
    rc, out = run(*a, **kw)
    check(name, rc == 1 and out.startswith(f"FAIL at entry {index}:") and (reason is None or reason in out),
          f"-> rc={rc} {out!r}")


def expect_cp_fail(name, size, *a, **kw):
    rc, out = run(*a, **kw)
    check(name, rc == 1 and out.startswith(f"FAIL checkpoint size {size}:"), f"-> rc={rc} {out!r}")


# ---------------------------------------------------------------------------
# 1-2. the worked example of FORMAT.md §10

def example_tests() -> None:
    with open(FORMAT_MD, encoding="utf-8") as f:
        doc = f.read()
    m = re.search(r"```jsonl example-entries\n(.*?)```", doc, re.S)
    n = re.search(r"```text example-checkpoint\n(.*?)```", doc, re.S)
    check("example blocks found in FORMAT.md", bool(m and n))
    if not (m and n):
        return
    entries_text = m.group(1)
    note = n.group(1).encode("utf-8")
    lines = entries_text.encode("utf-8").split(b"\n")[:-1]
    check("example has 4 entry lines", len(lines) == 4, str(len(lines)))
    admin = re.search(r"admin public key `[^`]+`, key id `([0-9a-f]{64})`", doc).group(1)

    def join(ls):
        return b"".join(l + b"\n" for l in ls)

    entries = join(lines)
    out = expect_ok("example accepted with --trust admin key id", entries, [note], trust=admin)
    root = re.search(r"root of tree size 4: `([0-9a-f]{64})`", doc).group(1)
    check("example root matches §10", f"root {root}" in out, out)
    check("example reports 1 checkpoint", "1 checkpoints" in out, out)
    expect_ok("example accepted via --checkpoints file", entries, notes_file=note, trust=admin)
    expect_ok("example accepted with no checkpoint and no pin", entries)

    # the hashes §10 states
    leaves = [hashlib.sha256(b"\x00" + l).digest() for l in lines]
    for i in range(4):
        stated = re.search(rf"leaf {i}: `([0-9a-f]{{64}})`", doc).group(1)
        check(f"§10 leaf {i} hash", leaves[i].hex() == stated)
    n01 = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    n23 = hashlib.sha256(b"\x01" + leaves[2] + leaves[3]).digest()
    check("§10 node(0,1)", n01.hex() in doc)
    check("§10 node(2,3)", n23.hex() in doc)
    r3 = hashlib.sha256(b"\x01" + n01 + leaves[2]).hexdigest()
    check("§10 root of size 3", re.search(r"root of tree size 3: `([0-9a-f]{64})`", doc).group(1) == r3)

    # --- mutations
    def flip_payload_char(line: bytes) -> bytes:
        s = line.decode()
        a = s.index('"payload":"') + len('"payload":"') + 120
        c = "B" if s[a] != "B" else "C"
        return (s[:a] + c + s[a + 1:]).encode()

    l = list(lines); l[3] = flip_payload_char(l[3])
    expect_entry_fail("mutation: flipped base64 payload char in entry 3", 3, join(l), [note], trust=admin)

    l = list(lines); l[1], l[2] = l[2], l[1]
    expect_entry_fail("mutation: entry lines 1 and 2 swapped", 1, join(l), [note], trust=admin)

    l = list(lines); del l[2]
    expect_entry_fail("mutation: entry 2 removed", 2, join(l), [note], trust=admin)

    l = list(lines); l[1] = l[1].replace(b'{"index":', b'{"index": ', 1)
    expect_entry_fail("mutation: space after {\"index\": in entry 1", 1, join(l), [note], trust=admin)

    l = list(lines); l[2] = l[2].replace(b"2026-01-01T00:00:12.000000Z", b"2026-01-01T00:00:10.500000Z")
    expect_entry_fail("mutation: entry 2 recorded before entry 1", 2, join(l), [note], trust=admin)

    expect_entry_fail("mutation: wrong --trust", 0, entries, [note], trust="1" * 64)
    expect_entry_fail("mutation: trust of the archivist key", 0, entries, [note],
                      trust="1325b850c2871916eae203f0efc3c8987f64e5e3cdb27679e6d1fa97808357e6")

    t = note.split(b"\n")
    other_root = base64.b64encode(bytes.fromhex(r3)).decode().encode()
    bad_root = b"\n".join([t[0], t[1], other_root] + t[3:])
    expect_cp_fail("mutation: checkpoint root changed", 4, entries, [bad_root], trust=admin)

    # flip one bit of the signature bytes (not the key hash) in the signature line
    sl = note.decode().split("\n")[4]
    prefix, b64 = sl.rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64)); blob[10] ^= 0x01
    bad_sig = note.decode().replace(sl, prefix + " " + base64.b64encode(bytes(blob)).decode()).encode()
    expect_cp_fail("mutation: checkpoint signature byte flipped", 4, entries, [bad_sig], trust=admin)

    # further example mutations
    expect_cp_fail("mutation: checkpoint size larger than the log", 4, join(lines[:3]), [note], trust=admin)
    bad_size = note.replace(b"\n4\n", b"\n3\n", 1)
    expect_cp_fail("mutation: checkpoint size changed", 3, entries, [bad_size], trust=admin)
    expect_entry_fail("mutation: missing final newline", 3, entries[:-1], [note], trust=admin)
    l = list(lines); l[0] = l[0] + b"\r"
    expect_entry_fail("mutation: CRLF line end", 0, join(l), [note], trust=admin)
    l = list(lines); l[3] = l[3].replace(b"/", b"\\/", 1)
    expect_entry_fail("mutation: escaped solidus in entry 3", 3, join(l), [note], trust=admin)
    l = list(lines); l[2] = l[2].replace(b'{"keyid"', b'{"sig":"x","keyid"', 1)
    expect_entry_fail("mutation: envelope member added in entry 2", 2, join(l), [note], trust=admin)
    expect_entry_fail("mutation: empty log", 0, b"")
    witness = note + ("\u2014 witness.example/w " + base64.b64encode(b"\x00" * 76).decode() + "\n").encode()
    expect_ok("example checkpoint with an extra cosignature line", entries, [witness], trust=admin)
    notes2 = note + b"\n" + note
    expect_ok("--checkpoints with two blank-line-separated notes", entries, notes_file=notes2)
    notes3 = note + b"---\n" + note
    expect_ok("--checkpoints with '---' separated notes", entries, notes_file=notes3)
    rc, _ = run(entries, extra=["--bogus"])
    check("usage error exits 2", rc == 2, str(rc))


# ---------------------------------------------------------------------------
# 3. ledgers built here, following FORMAT.md

PT = b"application/vnd.incidentledger.event+json"


class Key:
    def __init__(self, seed_byte: int, name: str, roles: list[str]):
        self.sk = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
        self.pub = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
        self.kid = hashlib.sha256(self.pub).hexdigest()
        self.name = name
        self.roles = roles

    def descriptor(self) -> dict:
        return {"name": self.name, "publicKey": base64.b64encode(self.pub).decode(), "roles": self.roles}


def jdump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Ledger:
    def __init__(self, origin="test.example/ledger", admin: Key | None = None):
        self.origin = origin
        self.lines: list[bytes] = []
        self.revs: dict[str, int] = {}
        self.n = 0
        self.admin = admin or Key(0x01, "Admin", ["admin"])

    def uuid(self) -> str:
        self.n += 1
        return f"019b76da-a800-7{self.n % 4096:03x}-8{self.n % 4096:03x}-{self.n:012x}"

    def payload(self, typ, subject, body, expects=None, **over) -> bytes:
        fields = {
            "ledger": self.origin, "id": self.uuid(), "type": typ, "subject": subject,
            "expects": self.revs.get(subject, 0) if expects is None else expects,
            "signedAt": "2026-01-01T00:00:00.000Z",
            "body": body,
        }
        fields.update(over)
        parts = []
        for k, v in fields.items():
            if v is DROP:
                continue
            raw = v.raw if isinstance(v, Raw) else jdump(v)
            parts.append(jdump(k) + ":" + raw)
        return ("{" + ",".join(parts) + "}").encode("utf-8")

    def add_payload(self, signer: Key | None, payload: bytes, subject: str | None = None,
                    recorded: str | None = None, keyid: str | None = None,
                    sig: bytes | None = None) -> int:
        i = len(self.lines)
        msg = b"DSSEv1 %d %s %d %s" % (len(PT), PT, len(payload), payload)
        if sig is None:
            sig = signer.sk.sign(msg)
        rec = recorded or f"2026-01-02T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z"
        line = ('{"index":%d,"recordedAt":"%s","envelope":{"payloadType":"%s","payload":"%s",'
                '"signatures":[{"keyid":"%s","sig":"%s"}]}}' % (
                    i, rec, PT.decode(), base64.b64encode(payload).decode(), keyid or signer.kid,
                    base64.b64encode(sig).decode())).encode()
        self.lines.append(line)
        if subject is not None:
            self.revs[subject] = self.revs.get(subject, 0) + 1
        return i

    def event(self, signer: Key, typ, subject, body, expects=None, **over) -> int:
        return self.add_payload(signer, self.payload(typ, subject, body, expects, **over), subject)

    def genesis(self, **over) -> int:
        a = self.admin
        return self.event(a, "ledger.genesis", a.kid, {"admin": a.descriptor()}, **over)

    def enroll(self, key: Key, by: Key | None = None) -> int:
        return self.event(by or self.admin, "key.enrolled", key.kid, key.descriptor())

    def revoke(self, key: Key, by: Key | None = None) -> int:
        return self.event(by or self.admin, "key.revoked", key.kid, {"reason": "test"})

    def incident(self, by: Key, subject="inc-1", body=None, **over) -> int:
        return self.event(by, "incident.reported", subject, body if body is not None else {"t": "x"}, **over)

    def entries(self) -> bytes:
        return b"".join(l + b"\n" for l in self.lines)

    def root(self, size: int) -> bytes:
        def mth(ls):
            if not ls:
                return hashlib.sha256(b"").digest()
            if len(ls) == 1:
                return hashlib.sha256(b"\x00" + ls[0]).digest()
            k = 1
            while k * 2 < len(ls):
                k *= 2
            return hashlib.sha256(b"\x01" + mth(ls[:k]) + mth(ls[k:])).digest()
        return mth(self.lines[:size])

    def checkpoint(self, key: Key, size: int | None = None, origin=None, root=None,
                   name=None, extra_lines=b"") -> bytes:
        size = len(self.lines) if size is None else size
        origin = origin or self.origin
        text = ("%s\n%d\n%s\n" % (origin, size, base64.b64encode(root or self.root(size)).decode())).encode()
        name = name or origin
        kh = hashlib.sha256(name.encode() + b"\n\x01" + key.pub).digest()[:4]
        sig = key.sk.sign(text)
        return text + b"\n" + ("\u2014 %s %s\n" % (name, base64.b64encode(kh + sig).decode())).encode() + extra_lines


class Raw:
    def __init__(self, raw: str):
        self.raw = raw


DROP = object()

ARCH = Key(0x02, "Archivist", ["archivist"])
REV = Key(0x03, "Reviewer", ["reviewer"])
LOGK = Key(0x04, "Log", ["log"])
ADMIN2 = Key(0x05, "Second admin", ["admin"])


def base() -> Ledger:
    g = Ledger()
    g.genesis()
    g.enroll(ARCH)
    g.enroll(REV)
    g.enroll(LOGK)
    return g


def generated_tests() -> None:
    # a good ledger with checkpoints
    g = base()
    g.incident(ARCH)
    cp5 = g.checkpoint(LOGK)
    g.event(REV, "attribution.assessed", "inc-1", {"a": 1})
    g.incident(ARCH, subject="inc-2", body={"deep": [1, 2.5, -3e10, None, True, {"é": "ü"}]})
    cp7 = g.checkpoint(LOGK)
    expect_ok("generated ledger with two checkpoints", g.entries(), [cp5, cp7], trust=g.admin.kid)
    expect_entry_fail("generated ledger, wrong pin", 0, g.entries(), [cp5, cp7], trust=ARCH.kid)
    expect_cp_fail("checkpoint signed by archivist key", 5, g.entries(), [g.checkpoint(ARCH, 5)])
    expect_cp_fail("checkpoint with another origin", 5, g.entries(),
                   [g.checkpoint(LOGK, 5, origin="other.example/x")])
    expect_cp_fail("checkpoint with log key under another name", 5, g.entries(),
                   [g.checkpoint(LOGK, 5, name="other.example/x")])
    expect_cp_fail("checkpoint of size 4 signed by key enrolled at 3 is fine; size 3 is not", 3,
                   g.entries(), [g.checkpoint(LOGK, 4), g.checkpoint(LOGK, 3)])
    expect_ok("checkpoint at size 4 by log key enrolled at index 3", g.entries(), [g.checkpoint(LOGK, 4)])
    expect_cp_fail("checkpoint of size 0", 0, g.entries(), [g.checkpoint(LOGK, 0)])
    expect_cp_fail("checkpoint beyond the log", 8, g.entries(), [g.checkpoint(LOGK, 8, root=b"\x00" * 32)])
    cp_ext = cp5.replace(b"\n\n", b"\nextension line\n\n", 1)
    expect_cp_fail("checkpoint with an extension line", 5, g.entries(), [cp_ext])

    # genesis key that also holds the log role can sign a size-1 checkpoint
    a = Key(0x06, "Admin+log", ["admin", "log"])
    g1 = Ledger(admin=a); g1.genesis()
    expect_ok("genesis key with log role signs size 1", g1.entries(), [g1.checkpoint(a, 1)], trust=a.kid)

    # revoked key used after revocation
    g = base()
    g.incident(ARCH)
    g.revoke(ARCH)
    bad = g.incident(ARCH)
    expect_entry_fail("revoked key used after revocation", bad, g.entries())
    g = base()
    g.incident(ARCH)
    r = g.revoke(LOGK)
    expect_ok("checkpoint by log key at size = revocation index", g.entries(), [g.checkpoint(LOGK, r)])
    expect_cp_fail("checkpoint by log key revoked before size", r + 1, g.entries(), [g.checkpoint(LOGK, r + 1)])

    # missing roles
    g = base()
    bad = g.event(ARCH, "attribution.assessed", "inc-1", {})
    expect_entry_fail("archivist signs a reviewer event", bad, g.entries())
    g = base()
    bad = g.incident(g.admin)
    expect_entry_fail("admin signs an archivist event", bad, g.entries())
    g = base()
    bad = g.enroll(Key(0x07, "X", ["archivist"]), by=ARCH)
    expect_entry_fail("archivist enrolls a key", bad, g.entries())
    g = base()
    bad = g.incident(Key(0x08, "Stranger", ["archivist"]))
    expect_entry_fail("unenrolled key signs", bad, g.entries())
    g = base()
    bad = g.incident(LOGK)
    expect_entry_fail("log key signs an event", bad, g.entries())

    # revision / ids
    g = base(); g.incident(ARCH)
    bad = g.incident(ARCH, expects=0)
    expect_entry_fail("stale expects", bad, g.entries())
    g = base(); g.incident(ARCH); g.incident(ARCH, subject="inc-2")
    g.incident(ARCH)  # revision of inc-1 is 1
    expect_ok("expects counts only the same subject", g.entries())
    g = base()
    p = g.payload("incident.reported", "inc-1", {}, id="019b76da-a800-7001-8001-000000000001")
    bad = g.add_payload(ARCH, p, "inc-1")
    expect_entry_fail("duplicate event id", bad, g.entries())

    # key events
    g = base()
    bad = g.enroll(ARCH)
    expect_entry_fail("key enrolled twice", bad, g.entries())
    g = base(); g.revoke(ARCH)
    bad = g.event(g.admin, "key.enrolled", ARCH.kid, ARCH.descriptor())
    expect_entry_fail("revoked key enrolled again", bad, g.entries())
    g = base()
    bad = g.revoke(g.admin)
    expect_entry_fail("revoking the last admin", bad, g.entries())
    g = base(); g.enroll(ADMIN2); g.revoke(g.admin)
    bad = g.enroll(Key(0x09, "Y", ["reviewer"]))
    expect_entry_fail("self-revoked admin used afterwards", bad, g.entries())
    g = base(); g.enroll(ADMIN2); g.revoke(g.admin); g.enroll(Key(0x09, "Y", ["reviewer"]), by=ADMIN2)
    expect_ok("second admin takes over after revocation", g.entries())
    g = base(); g.revoke(ARCH)
    bad = g.revoke(ARCH)
    expect_entry_fail("key revoked twice", bad, g.entries())
    g = base()
    bad = g.event(g.admin, "key.revoked", ARCH.kid, {"reason": ""})
    expect_entry_fail("revocation with empty reason", bad, g.entries())
    g = base()
    bad = g.event(g.admin, "key.revoked", ARCH.kid, {"reason": "x", "extra": 1})
    expect_entry_fail("revocation body with extra member", bad, g.entries())
    g = base()
    k = Key(0x0A, "Z", ["archivist"])
    bad = g.event(g.admin, "key.enrolled", ARCH.kid, k.descriptor())
    expect_entry_fail("key.enrolled subject is another key id", bad, g.entries())
    for label, desc in [
        ("101 code points", dict(k.descriptor(), name="n" * 101)),
        ("trailing space", dict(k.descriptor(), name="Name ")),
        ("leading no-break space", dict(k.descriptor(), name="\u00a0Name")),
        ("control character", dict(k.descriptor(), name="Na\u0007me")),
        ("empty name", dict(k.descriptor(), name="")),
        ("duplicate roles", dict(k.descriptor(), roles=["archivist", "archivist"])),
        ("empty roles", dict(k.descriptor(), roles=[])),
        ("unknown role", dict(k.descriptor(), roles=["auditor"])),
        ("31-byte key", dict(k.descriptor(), publicKey=base64.b64encode(k.pub[:31]).decode())),
        ("extra member", dict(k.descriptor(), comment="x")),
    ]:
        g = base()
        bad = g.event(g.admin, "key.enrolled", k.kid, desc)
        expect_entry_fail(f"key descriptor: {label}", bad, g.entries())
    g = base()
    g.event(g.admin, "key.enrolled", k.kid, dict(k.descriptor(), name="n" * 100, roles=["reviewer", "archivist"]))
    g.incident(k)
    expect_ok("key descriptor: 100 code points and two roles", g.entries())

    # genesis
    g = Ledger(); g.event(g.admin, "ledger.genesis", ARCH.kid, {"admin": g.admin.descriptor()})
    expect_entry_fail("genesis subject is not the admin key id", 0, g.entries())
    g = Ledger(); g.event(g.admin, "ledger.genesis", g.admin.kid,
                          {"admin": dict(g.admin.descriptor(), roles=["archivist"])})
    expect_entry_fail("genesis key without admin role", 0, g.entries())
    g = Ledger(); g.genesis(expects=1)
    expect_entry_fail("genesis expects 1", 0, g.entries())
    g = Ledger(); g.add_payload(ARCH, g.payload("ledger.genesis", g.admin.kid, {"admin": g.admin.descriptor()}),
                                keyid=g.admin.kid)
    expect_entry_fail("genesis signed by another key", 0, g.entries())
    g = Ledger(origin="bad+origin"); g.genesis()
    expect_entry_fail("origin containing '+'", 0, g.entries())
    g = Ledger(); g.genesis(); g.enroll(ARCH)
    bad = g.event(g.admin, "ledger.genesis", "x", {"admin": g.admin.descriptor()})
    expect_entry_fail("second genesis", bad, g.entries())
    g = Ledger(); g.incident(g.admin)
    expect_entry_fail("first entry is not genesis", 0, g.entries())

    # payload syntax and strict JSON
    cases = [
        ("ledger of another origin", dict(ledger="other.example/x"), False),
        ("unknown type", dict(type="incident.teleported"), False),
        ("uppercase UUID", dict(id="019B76DA-A800-7FFF-8FFF-000000000FFF"), False),
        ("UUID version 4", dict(id="019b76da-a800-4fff-8fff-000000000fff"), False),
        ("UUID variant bits", dict(id="019b76da-a800-7fff-cfff-000000000fff"), False),
        ("subject with space", dict(subject="inc 1", expects=0), False),
        ("subject of 129 bytes", dict(subject="s" * 129, expects=0), False),
        ("subject of 128 bytes", dict(subject="s" * 128, expects=0), True),
        ("expects 0.0", dict(expects=Raw("0.0")), False),
        ("expects -0", dict(expects=Raw("-0")), False),
        ("expects 0e0", dict(expects=Raw("0e0")), False),
        ("expects string", dict(expects="0"), False),
        ("expects 2^53", dict(expects=2 ** 53), False),
        ("signedAt 2026-02-29", dict(signedAt="2026-02-29T00:00:00Z"), False),
        ("signedAt 2024-02-29", dict(signedAt="2024-02-29T23:59:59.123456789Z"), True),
        ("signedAt leap second", dict(signedAt="2026-12-31T23:59:60Z"), False),
        ("signedAt offset", dict(signedAt="2026-01-01T00:00:00+00:00"), False),
        ("signedAt 10 fraction digits", dict(signedAt="2026-01-01T00:00:00.1234567890Z"), False),
        ("signedAt lowercase z", dict(signedAt="2026-01-01T00:00:00z"), False),
        ("missing member", dict(signedAt=DROP), False),
        ("extra member", dict(note="x"), False),
        ("body not object", dict(body=[1]), False),
        ("non-NFC string (NFC is not a verification rule)", dict(body={"t": "e\u0301"}), True),
        ("NFC string", dict(body={"t": "\u00e9"}), True),
        ("non-NFC member name (NFC is not a verification rule)", dict(body={"e\u0301": 1}), True),
        ("duplicate member", dict(body=Raw('{"a":1,"a":2}')), False),
        ("duplicate member via escape", dict(body=Raw('{"a":1,"\\u0061":2}')), False),
        ("lone high surrogate", dict(body=Raw('{"a":"\\ud83d"}')), False),
        ("lone low surrogate", dict(body=Raw('{"a":"\\ude00x"}')), False),
        ("surrogate pair", dict(body=Raw('{"a":"\\ud83d\\ude00"}')), True),
        ("NaN", dict(body=Raw('{"a":NaN}')), False),
        ("depth 64", dict(body=Raw('{"a":' + "[" * 62 + "]" * 62 + "}")), True),
        ("depth 65", dict(body=Raw('{"a":' + "[" * 63 + "]" * 63 + "}")), False),
        ("huge integer in body", dict(body=Raw('{"a":' + "9" * 5000 + "}")), True),
    ]
    for label, over, ok in cases:
        g = base()
        i = g.incident(ARCH, **over)
        if ok:
            expect_ok(f"payload: {label}", g.entries())
        else:
            expect_entry_fail(f"payload: {label}", i, g.entries())

    raw_cases = [
        ("trailing garbage", lambda p: p + b"x", False),
        ("trailing whitespace", lambda p: p + b" \n", True),
        ("leading whitespace", lambda p: b" " + p, True),
        ("byte order mark", lambda p: b"\xef\xbb\xbf" + p, False),
        ("invalid UTF-8", lambda p: p.replace(b'"t":"x"', b'"t":"\xff"'), False),
        ("overlong UTF-8", lambda p: p.replace(b'"t":"x"', b'"t":"\xc1\x81"'), False),
        ("encoded surrogate", lambda p: p.replace(b'"t":"x"', b'"t":"\xed\xa0\x80"'), False),
        ("raw control character", lambda p: p.replace(b'"t":"x"', b'"t":"\x01"'), False),
        ("top-level array", lambda p: b"[" + p + b"]", False),
    ]
    for label, f, ok in raw_cases:
        g = base()
        p = f(g.payload("incident.reported", "inc-1", {"t": "x"}))
        i = g.add_payload(ARCH, p, "inc-1")
        if ok:
            expect_ok(f"raw payload: {label}", g.entries())
        else:
            expect_entry_fail(f"raw payload: {label}", i, g.entries())

    # payload size: exactly 1 MiB accepted, one byte more refused
    for extra, ok in ((0, True), (1, False)):
        g = base()
        p0 = g.payload("incident.reported", "inc-1", {"t": ""})
        pad = 1_048_576 - len(p0) + extra
        g.n -= 1
        p = g.payload("incident.reported", "inc-1", {"t": "a" * pad})
        i = g.add_payload(ARCH, p, "inc-1")
        if ok:
            expect_ok("payload of exactly 1 MiB", g.entries())
        else:
            expect_entry_fail("payload of 1 MiB + 1", i, g.entries())

    # entry line details
    g = base(); g.incident(ARCH)
    ls = list(g.lines)
    ls[4] = ls[4].replace(b'"recordedAt":"2026-01-02T00:00:04.000004Z"', b'"recordedAt":"2026-01-02T00:00:03.000003Z"')
    expect_ok("equal record times", b"".join(l + b"\n" for l in ls))
    ls2 = list(g.lines)
    ls2[2] = ls2[2].replace(b"2026-01-02T00:00:02.000002Z", b"2026-13-02T00:00:02.000002Z")
    expect_entry_fail("record time in month 13", 2, b"".join(l + b"\n" for l in ls2))
    ls3 = list(g.lines)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    s = re.search(rb'"sig":"([^"]{86})==', ls3[4]).group(1)
    # a 64-byte signature ends in one symbol carrying 2 bits: set an unused low bit
    idx = alphabet.index(s[-1:])
    alt = alphabet[idx | 1:(idx | 1) + 1]
    ls3[4] = ls3[4].replace(s + b"==", s[:-1] + alt + b"==")
    expect_entry_fail("non-canonical base64 signature", 4, b"".join(l + b"\n" for l in ls3))
    ls4 = list(g.lines)
    ls4[1] = ls4[1].replace(b'"index":1', b'"index":01')
    expect_entry_fail("index with leading zero", 1, b"".join(l + b"\n" for l in ls4))
    ls5 = list(g.lines); ls5.insert(2, b"")
    expect_entry_fail("blank line between entries", 2, b"".join(l + b"\n" for l in ls5))


from ed25519_points import ED_B, ED_IDENTITY, ED_L, ED_P, T2, ed_add, ed_decode, ed_encode, ed_mul, order8_point  # noqa: E402


def ed25519_tests() -> None:
    """Signatures that RFC 8032 libraries disagree on (FORMAT.md does not say)."""
    identity = b"\x01" + bytes(31)
    for label, pub in (("small-order (identity) key", identity),
                       ("non-canonical identity key (y = p + 1)", (ED_P + 1).to_bytes(32, "little"))):
        g = base()
        kid = hashlib.sha256(pub).hexdigest()
        g.event(g.admin, "key.enrolled", kid,
                {"name": "weak", "publicKey": base64.b64encode(pub).decode(), "roles": ["archivist"]})
        g.add_payload(None, g.payload("incident.reported", "inc-1", {}), "inc-1",
                      keyid=kid, sig=identity + bytes(32))
        # §6 usable keys only: the enrollment itself is refused, before the key could sign
        expect_entry_fail(f"enrolling a {label} is refused (before its signature R = identity, S = 0)",
                          4, g.entries(), reason="body.publicKey is not a usable Ed25519 public key")
    # S + L (malleated signature)
    g = base()
    i = g.incident(ARCH)
    line = g.lines[i].decode()
    sig_b64 = re.search(r'"sig":"([^"]+)"', line).group(1)
    sig = base64.b64decode(sig_b64)
    S = int.from_bytes(sig[32:], "little") + ED_L
    g.lines[i] = line.replace(sig_b64, base64.b64encode(sig[:32] + S.to_bytes(32, "little")).decode()).encode()
    expect_entry_fail("malleated signature (S + L)", i, g.entries())
    # R = identity (nonce r = 0): satisfies the RFC 8032 equation, refused as small-order R
    g = base()
    p = g.payload("incident.reported", "inc-1", {})
    msg = b"DSSEv1 %d %s %d %s" % (len(PT), PT, len(p), p)
    h = hashlib.sha512(bytes([0x02]) * 32).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    k = int.from_bytes(hashlib.sha512(identity + ARCH.pub + msg).digest(), "little") % ED_L
    bad = g.add_payload(None, p, "inc-1", keyid=ARCH.kid, sig=identity + ((k * a) % ED_L).to_bytes(32, "little"))
    expect_entry_fail("signature with small-order R (nonce 0)", bad, g.entries())


class MixedKey:
    """A key A' = [a]B + T2 (a torsion point of order 2 added): canonical, on the curve, not of
    small order, but outside the prime-order subgroup.  It still signs messages whose
    challenge k is even, which cofactorless verifiers accept: [k]T2 is the identity."""

    def __init__(self, seed_byte: int, name: str, roles: list[str]):
        h = hashlib.sha512(bytes([seed_byte]) * 32).digest()
        self.a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)
        self.pub = ed_encode(ed_add(ed_mul(self.a, ED_B), T2))
        self.kid = hashlib.sha256(self.pub).hexdigest()
        self.name = name
        self.roles = roles
        self.sk = self

    def sign(self, msg: bytes) -> bytes:
        for r in range(1, 1000):
            rb = ed_encode(ed_mul(r, ED_B))
            k = int.from_bytes(hashlib.sha512(rb + self.pub + msg).digest(), "little") % ED_L
            if k % 2 == 0:
                return rb + ((r + k * self.a) % ED_L).to_bytes(32, "little")
        raise AssertionError("no even challenge found")

    def descriptor(self) -> dict:
        return {"name": self.name, "publicKey": base64.b64encode(self.pub).decode(), "roles": self.roles}


def usable_key_tests() -> None:
    """§6: the key of the genesis admin descriptor and of every key.enrolled body is usable
    (libsodium's crypto_core_ed25519_is_valid_point)."""
    usable = "not a usable Ed25519 public key"
    good = Key(0x0B, "Fresh", ["archivist"])
    a_pt = ed_decode(good.pub)
    t8 = order8_point()
    check("test helper: order-8 point has order 8",
          ed_mul(8, t8) == ED_IDENTITY and ed_mul(4, t8) != ED_IDENTITY)
    check("test helper: decoded key is [a]B", ed_encode(a_pt) == good.pub)
    off_curve = next(y for y in range(2, 100) if ed_decode(y.to_bytes(32, "little")) is None)
    cases = [
        ("all-zero 32 bytes (y = 0, small order)", bytes(32)),
        ("identity (y = 1)", b"\x01" + bytes(31)),
        ("identity with the sign bit set", b"\x01" + bytes(30) + b"\x80"),
        ("point of order 2 (y = p - 1)", (ED_P - 1).to_bytes(32, "little")),
        ("a point of order 8", ed_encode(t8)),
        ("non-canonical identity (y = p + 1)", (ED_P + 1).to_bytes(32, "little")),
        ("non-canonical y = p + 3 (y = 3 is a curve point of large order)", (ED_P + 3).to_bytes(32, "little")),
        ("non-canonical y = 2^255 - 1 with sign bit", b"\xff" * 32),
        (f"not on the curve (y = {off_curve})", off_curve.to_bytes(32, "little")),
        ("valid key + point of order 8", ed_encode(ed_add(a_pt, t8))),
        ("valid key + point of order 2", ed_encode(ed_add(a_pt, T2))),
        ("valid key + point of order 4", ed_encode(ed_add(a_pt, ed_mul(2, t8)))),
    ]
    for label, pub in cases:
        g = base()
        kid = hashlib.sha256(pub).hexdigest()
        bad = g.event(g.admin, "key.enrolled", kid,
                      {"name": "weak", "publicKey": base64.b64encode(pub).decode(), "roles": ["archivist"]})
        g.incident(ARCH)
        expect_entry_fail(f"usable keys: key.enrolled with {label} refused", bad, g.entries(),
                          reason=f"body.publicKey is {usable}")
    g = base(); g.enroll(good); g.incident(good)
    expect_ok("usable keys: a key made from a seed is usable", g.entries())

    # a mixed-order key can sign (even challenges): before this rule such a log verified
    mixed = MixedKey(0x0C, "Mixed", ["archivist"])
    g = base()
    bad = g.enroll(mixed)
    g.incident(mixed)
    expect_entry_fail("usable keys: mixed-order key refused at its enrollment, not at its signature",
                      bad, g.entries(), reason=f"body.publicKey is {usable}")
    madmin = MixedKey(0x0D, "Mixed admin", ["admin"])
    g = Ledger(admin=madmin); g.genesis(); g.enroll(ARCH); g.incident(ARCH)
    expect_entry_fail("usable keys: genesis admin key outside the prime-order subgroup", 0, g.entries(),
                      reason=f"body.admin.publicKey is {usable}")
    zero = Key(0x0E, "Zero", ["admin"])
    zero.pub, zero.kid = bytes(32), hashlib.sha256(bytes(32)).hexdigest()
    g = Ledger(admin=zero); g.genesis()
    expect_entry_fail("usable keys: genesis admin key of 32 zero bytes", 0, g.entries(),
                      reason=f"body.admin.publicKey is {usable}")
    # revoking the last admin still counts the (usable) admin keys
    g = base(); g.enroll(ADMIN2); g.revoke(ADMIN2)
    bad = g.revoke(g.admin)
    expect_entry_fail("usable keys: revoking the last usable admin refused", bad, g.entries())


def rec_text(i: int) -> str:
    """The record time Ledger.add_payload gives entry i by default."""
    return f"2026-01-02T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z"


def plus_seconds(text: str, seconds: int, frac: str) -> str:
    """`text` (a 2026-01-02 record time of rec_text) plus whole seconds, with fraction `frac`."""
    import datetime
    t = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def signed_at_tests() -> None:
    """§6: signedAt <= recordedAt + 3600 s, at microsecond precision (extra digits truncated)."""
    cases = [
        # (label, signedAt for entry 4 given its record time 2026-01-02T00:00:04.000004Z, ok)
        ("exactly 3600 s after the record time", plus_seconds(rec_text(4), 3600, ".000004"), True),
        ("3600.000001 s after", plus_seconds(rec_text(4), 3600, ".000005"), False),
        ("3600.0000009 s after (digits past the sixth are dropped)",
         plus_seconds(rec_text(4), 3600, ".0000049"), True),
        ("3600.000001 s after, written with 9 digits", plus_seconds(rec_text(4), 3600, ".000005000"), False),
        ("whole seconds, 3601 s after", plus_seconds(rec_text(4), 3601, ""), False),
        ("whole seconds, 3600 s after (fraction 0 < record .000004)", plus_seconds(rec_text(4), 3600, ""), True),
        ("one day after", plus_seconds(rec_text(4), 86400, ".000004"), False),
        ("equal to the record time", rec_text(4), True),
        ("ten years before (signed offline)", "2016-01-02T00:00:00Z", True),
        ("year 0000", "0000-01-01T00:00:00Z", True),
    ]
    for label, signed, ok in cases:
        g = base()
        i = g.incident(ARCH, signedAt=signed)
        g.incident(ARCH, subject="inc-2")
        if ok:
            expect_ok(f"signedAt {label}: accepted", g.entries())
        else:
            expect_entry_fail(f"signedAt {label}: refused", i, g.entries(),
                              reason="is more than 1 hour after the entry's record time")
    # genesis too
    g = Ledger(); g.genesis(signedAt=plus_seconds(rec_text(0), 3600, ".000001")); g.enroll(ARCH)
    expect_entry_fail("signedAt of the genesis 3600.000001 s after its record time", 0, g.entries(),
                      reason="more than 1 hour after")
    g = Ledger(); g.genesis(signedAt=plus_seconds(rec_text(0), 3600, ".000000")); g.enroll(ARCH)
    expect_ok("signedAt of the genesis exactly 3600 s after its record time", g.entries())
    # across a year boundary (and a leap day), and in year 0000 (proleptic Gregorian)
    for rec, signed, ok in (
            ("2026-12-31T23:30:00.000000Z", "2027-01-01T00:30:00Z", True),
            ("2026-12-31T23:30:00.000000Z", "2027-01-01T00:30:00.000001Z", False),
            ("2024-02-28T23:59:59.999999Z", "2024-02-29T00:59:59.999999Z", True),
            ("2024-02-28T23:59:59.999999Z", "2024-02-29T01:00:00Z", False),
            ("0000-02-28T23:30:00.000000Z", "0000-02-29T00:30:00Z", True),
            ("0000-12-31T23:59:59.999999Z", "0001-01-01T00:59:59.999999999Z", True),
            ("0000-12-31T23:59:59.999999Z", "0001-01-01T01:00:00Z", False)):
        g = Ledger()
        g.add_payload(g.admin, g.payload("ledger.genesis", g.admin.kid, {"admin": g.admin.descriptor()},
                                         signedAt=signed), g.admin.kid, recorded=rec)
        name = f"signedAt {signed} with record time {rec}"
        if ok:
            expect_ok(name + ": accepted", g.entries())
        else:
            expect_entry_fail(name + ": refused", 0, g.entries(), reason="more than 1 hour after")


def notes_file_tests() -> None:
    g = base()
    g.incident(ARCH)
    c5 = g.checkpoint(LOGK)
    g.incident(ARCH, subject="inc-2")
    c6 = g.checkpoint(LOGK)
    expect_ok("notes back to back (as `ledger checkpoint --list` prints them)", g.entries(),
              notes_file=c5 + c6 + b"\n")
    rc, out = run(g.entries(), notes_file=c5 + c6)
    check("notes back to back: both checked", rc == 0 and "2 checkpoints" in out, out)
    expect_cp_fail("note file without final newline", 6, g.entries(), [c6[:-1]])
    expect_cp_fail("note with an extra blank line at the end", 6, g.entries(), [c6 + b"\n"])


def main() -> int:
    example_tests()
    generated_tests()
    ed25519_tests()
    usable_key_tests()
    signed_at_tests()
    notes_file_tests()
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
