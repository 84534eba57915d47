#!/usr/bin/env python3
"""Independent auditor for IncidentLedger export bundles and proof files (format version 1).

Written from docs/FORMAT.md alone (§11-§14 for the bundle, cosignatures and proofs; the
entry lines and checkpoints of §1-§8 are checked by Tools/verify_log.py, which this reuses).
Standard library plus the `cryptography` package (Ed25519 only).

    python3 Tools/verify.py BAG_DIR --trust GENESIS_KEYID [--witness VKEY ...] [--quorum K] [--json]
    python3 Tools/verify.py --proof FILE --log-key VKEY [--log-key VKEY ...]
        [--witness VKEY ... [--quorum K]] [--old CHECKPOINT_FILE] [--entry LINE_FILE] [--json]

Exit 0: everything holds.  Exit 1: invalid; the first failure in the order of §14 is printed
on stderr as one line naming the step, the file and the entry index where there is one.
Exit 2: usage error (bad arguments, bag directory missing, unreadable proof file).

Memory: entries.jsonl is streamed once (hashed for fixity while it is verified); what is kept
is what §8 needs (key table, subject revisions, event ids, O(log n) Merkle frontier) plus the
list of checkpoint sizes and one digest per file.

Where FORMAT.md is silent or ambiguous, the choice made here is marked "CHOICE:".
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True          # leave no __pycache__ in Tools/
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import verify_log as vl  # noqa: E402  (entry lines, checkpoints, strict Ed25519, base64)


# --------------------------------------------------------------------------
# constants from FORMAT.md §11-§13

STEPS = ("layout", "entries", "sealed", "latest-checkpoint", "fixity", "bag-info", "cosignatures")

# (FORMAT.md first said "55 bytes"; the string is 54 bytes and the document now says so.)
# CHOICE: §11 says bagit.txt "is exactly the 55 bytes `BagIt-Version: 1.0\nTag-File-Character-
# Encoding: UTF-8\n`", but that string is 54 bytes.  The string is taken as authoritative.
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"

TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt")
TAGMANIFEST_PATHS = frozenset({"bag-info.txt", "bagit.txt", "manifest-sha256.txt"})
ENTRIES = "data/entries.jsonl"
LATEST = "data/checkpoint"
CP_DIR = "data/checkpoints"
SIZE_NAME_RE = re.compile(r"[1-9][0-9]*\Z")
DATA_PATH_RE = re.compile(r"data/(entries\.jsonl|sealed\.jsonl|checkpoint|checkpoints/[1-9][0-9]*)\Z")
SEALED = "data/sealed.jsonl"   # a keeper's bundle only (§11)
HEX8_RE = re.compile(r"[0-9a-f]{8}\Z")

# CHOICE: FORMAT.md sets no size limit for a checkpoint note file.  Notes are a few hundred
# bytes plus ~100 bytes per cosignature; a file over 1 MiB is refused so that a hostile
# bundle cannot make the auditor read an arbitrarily large file into memory.
MAX_NOTE = 1 << 20

BAG_INFO_CLAIMS = (
    "IncidentLedger-Format",
    "IncidentLedger-Origin",
    "IncidentLedger-Tree-Size",
    "IncidentLedger-Root",
    "IncidentLedger-Genesis-Key-ID",
    "IncidentLedger-Export-Time",
)
EXPORT_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z\Z")
OXUM_RE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")

COSIG_PREFIX = b"cosignature/v1\ntime "
TLOG_PROOF_HEADER = b"c2sp.org/tlog-proof@v1"
CONSISTENCY_HEADER = b"incidentledger/consistency-proof@v1"
DASH = vl.EM_DASH_PREFIX.encode("utf-8")


class AuditFailure(Exception):
    def __init__(self, step: str, reason: str, file: str | None = None, index: int | None = None):
        super().__init__(reason)
        self.step = step
        self.reason = " ".join(str(reason).split())      # always one line
        self.file = file
        self.index = index


class UsageError(Exception):
    pass


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# verifier keys (§12)

class VKey:
    __slots__ = ("name", "keyhash", "public_key", "type", "text")

    def __init__(self, name, keyhash, public_key, type_, text):
        self.name = name
        self.keyhash = keyhash
        self.public_key = public_key
        self.type = type_
        self.text = text


def parse_vkey(text: str, want_type: int) -> VKey:
    """`<name>+<8 hex keyhash>+<base64(type ‖ 32-byte key)>`; ValueError when invalid."""
    # The name has no '+' and the key hash is hex, but the base64 may contain '+':
    # split at the first two only.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise ValueError("a vkey is <name>+<keyhash>+<base64 key>")
    name, kh, b64 = parts
    # CHOICE: §12 gives the name rule for witnesses (printable ASCII but '+', 1-255 bytes);
    # a log vkey's name is the origin, which has the same rule.
    if not vl.ORIGIN_RE.match(name):
        raise ValueError("vkey name is not 1-255 bytes of printable ASCII other than '+'")
    if not HEX8_RE.match(kh):
        raise ValueError("vkey key hash is not 8 lowercase hex digits")
    try:
        raw = vl.b64decode_strict(b64)
    except vl.BadInput as e:
        raise ValueError(f"vkey key: {e}")
    if len(raw) != 33:
        raise ValueError("vkey key is not 1 type byte and 32 key bytes")
    if raw[0] != want_type:
        raise ValueError(f"vkey type is 0x{raw[0]:02x}, expected 0x{want_type:02x}")
    computed = hashlib.sha256(name.encode("ascii") + b"\n" + raw[:1] + raw[1:]).digest()[:4]
    if computed.hex() != kh:
        raise ValueError("vkey key hash does not match its name, type and key")
    return VKey(name, computed, raw[1:], raw[0], text)


def dedupe_witnesses(ws: list[VKey]) -> list[VKey]:
    # CHOICE: §12 asks for "K distinct trusted witnesses" without saying what makes two
    # witnesses distinct.  Here a witness is a (name, public key) pair; a vkey given twice
    # counts once.
    seen, out = set(), []
    for w in ws:
        k = (w.name, w.public_key)
        if k not in seen:
            seen.add(k)
            out.append(w)
    return out


def check_cosignatures(note: "vl.Note", witnesses: list[VKey]) -> tuple[set, str | None]:
    """Returns (set of witness indexes that validly cosigned, first failure reason or None)."""
    valid: set[int] = set()
    for name, blob in note.sigs:
        matching = [k for k, w in enumerate(witnesses) if w.name == name and w.keyhash == blob[:4]]
        if not matching:
            continue            # the log's own line, or a witness not trusted: ignored
        if len(blob) != 76:
            return valid, f"cosignature line of trusted witness {name} is {len(blob)} bytes, not 76"
        ts = int.from_bytes(blob[4:12], "big")
        if ts >= 1 << 63:
            # CHOICE: §12 says the timestamp is "below 2^63" but not what a larger one
            # means; it is treated like a line that does not verify (bundle invalid).
            return valid, f"cosignature of trusted witness {name} has a timestamp >= 2^63"
        msg = COSIG_PREFIX + str(ts).encode("ascii") + b"\n" + note.text
        # CHOICE: when two trusted witnesses share a name and a 4-byte key hash (a
        # collision), a line must verify under at least one of them (as §7 does for log
        # keys); it counts for each one it verifies under.
        ok = [k for k in matching if vl.ed25519_verify(witnesses[k].public_key, blob[12:], msg)]
        if not ok:
            return valid, f"cosignature of trusted witness {name} does not verify (altered)"
        valid.update(ok)
    # CHOICE: the cosignature timestamp is not compared with anything (export time, record
    # times, other cosignatures); FORMAT.md asks for no such check.
    return valid, None


# --------------------------------------------------------------------------
# step 1: layout (§11, §14.1)

def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _show(name) -> str:
    if isinstance(name, bytes):
        return name.decode("utf-8", errors="backslashreplace")
    return name


def _scan(dirpath: str):
    """[(name as bytes, lstat mode)], sorted by name bytes."""
    out = []
    with os.scandir(os.fsencode(dirpath)) as it:
        for e in it:
            out.append((e.name, os.lstat(e.path).st_mode))
    out.sort()
    return out


def parse_manifest(data: bytes, label: str, tag: bool) -> list[tuple[str, str]]:
    def fail(reason, path=None):
        raise AuditFailure("layout", f"{label}: {reason}", path or label)

    if data and not data.endswith(b"\n"):
        # CHOICE: "A manifest line is `<digest> <path>\n`": a last line without its "\n"
        # is malformed (RFC 8493 would also allow CR and CRLF; those are refused too).
        fail("last line is not ended by \\n")
    entries: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k, raw in enumerate(data.split(b"\n")[:-1] if data else []):
        # CHOICE: "one or more spaces" is taken literally: tabs (which RFC 8493 allows as
        # linear whitespace) are refused; an empty line is a malformed line.
        m = re.fullmatch(rb"([0-9a-f]{64}) +([^ ].*)", raw, re.S)
        if not m:
            fail(f"line {k + 1} is not `<64 lowercase hex> <path>`")
        digest = m.group(1).decode("ascii")
        try:
            path = m.group(2).decode("ascii")
        except UnicodeDecodeError:
            fail(f"line {k + 1}: path is not one of the bundle's file names")
        if ("%" in path or "\\" in path or path.startswith("/")
                or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
                or any(seg in (".", "..") for seg in path.split("/"))):
            fail(f"line {k + 1}: invalid path {path!r} (%, backslash, . or .., leading / or control)")
        # CHOICE: "Paths are the names above": a path that is well formed but not one of the
        # layout's names (e.g. a tag file in the payload manifest, `data/x`, an empty segment)
        # is a malformed manifest, reported at layout.
        if tag:
            if path not in TAGMANIFEST_PATHS:
                fail(f"line {k + 1}: {path!r} is not bag-info.txt, bagit.txt or manifest-sha256.txt")
        elif not DATA_PATH_RE.match(path):
            fail(f"line {k + 1}: {path!r} is not a payload file name of the bundle layout")
        if path in seen:
            fail(f"path {path} is listed twice", path)
        seen.add(path)
        entries.append((digest, path))
    return entries


def check_layout(bag: str) -> dict:
    """§14 step 1.  Returns what later steps need."""
    def fail(reason, path=None):
        raise AuditFailure("layout", reason, path)

    j = lambda *p: os.path.join(bag, *p)  # noqa: E731

    # bagit.txt's exact bytes
    p = j("bagit.txt")
    if not _is_regular(p):
        fail("bagit.txt is missing (or is not a regular file)", "bagit.txt")
    with open(p, "rb") as f:
        bagit = f.read(len(BAGIT_TXT) + 1)
    if bagit != BAGIT_TXT:
        fail("bagit.txt is not exactly 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n'",
             "bagit.txt")

    # the four tag files present
    for name in TAG_FILES:
        if not _is_regular(j(name)):
            fail(f"{name} is missing (or is not a regular file)", name)

    # no unexpected file or directory anywhere, no symbolic link.
    # CHOICE: within step 1, checkpoint file names are checked during this walk, before the
    # manifests, although §14.1 lists "the checkpoint file names valid" after them: a file
    # with an invalid name could otherwise only ever be reported as unlisted or as a bad
    # manifest path.  Every such failure is a layout failure either way; only the file named
    # can differ.
    sizes: list[int] = []
    data_files: set[str] = set()
    for name, mode in _scan(bag):
        s = _show(name)
        if stat.S_ISLNK(mode):
            fail(f"{s} is a symbolic link", s)
        if name.decode("utf-8", "replace") in TAG_FILES and stat.S_ISREG(mode):
            continue
        if name == b"data" and stat.S_ISDIR(mode):
            continue
        fail(f"unexpected {'directory' if stat.S_ISDIR(mode) else 'file'} {s} at the top level", s)
    if not os.path.lexists(j("data")):
        fail("data/ is missing", "data")
    have_cp_dir = False
    for name, mode in _scan(j("data")):
        s = "data/" + _show(name)
        if stat.S_ISLNK(mode):
            fail(f"{s} is a symbolic link", s)
        if name in (b"entries.jsonl", b"checkpoint", b"sealed.jsonl") and stat.S_ISREG(mode):
            data_files.add(s)
            continue
        if name == b"checkpoints" and stat.S_ISDIR(mode):
            have_cp_dir = True
            continue
        fail(f"unexpected {'directory' if stat.S_ISDIR(mode) else 'file'} {s}", s)
    if have_cp_dir:
        for name, mode in _scan(j("data", "checkpoints")):
            s = CP_DIR + "/" + _show(name)
            if stat.S_ISLNK(mode):
                fail(f"{s} is a symbolic link", s)
            if not stat.S_ISREG(mode):
                fail(f"unexpected {'directory' if stat.S_ISDIR(mode) else 'file'} {s}", s)
            # the checkpoint file names valid: a size in decimal, no leading zeros, >= 1
            # (the upper bound n is checked in step 2, once n is known)
            if not SIZE_NAME_RE.match(_show(name)):
                fail(f"checkpoint file name {_show(name)!r} is not a tree size "
                     f"(decimal, no leading zeros, at least 1)", s)
            sizes.append(int(name))
            data_files.add(s)
    # §14 step 1: data/checkpoints/ exists and holds at least one checkpoint file.
    if not sizes:
        fail("data/checkpoints/ holds no checkpoint", "data/checkpoints/")

    # both manifests well-formed, no duplicate and no missing path
    with open(j("manifest-sha256.txt"), "rb") as f:
        manifest_bytes = f.read()
    with open(j("tagmanifest-sha256.txt"), "rb") as f:
        tagmanifest_bytes = f.read()
    manifest = parse_manifest(manifest_bytes, "manifest-sha256.txt", tag=False)
    tagmanifest = parse_manifest(tagmanifest_bytes, "tagmanifest-sha256.txt", tag=True)
    listed_tags = {p for _, p in tagmanifest}
    for name in sorted(TAGMANIFEST_PATHS - listed_tags):
        fail(f"tagmanifest-sha256.txt does not list {name}", "tagmanifest-sha256.txt")
    # CHOICE: "no missing path" (§14.1) is read as: every listed path exists.  A payload
    # file that is listed but absent is therefore a layout failure, not a fixity one.
    for _, path in manifest:
        if path not in data_files:
            fail(f"{path} is listed in manifest-sha256.txt but does not exist", path)
    # every file under data/ listed
    listed = {p for _, p in manifest}
    for path in sorted(data_files, key=lambda s: s.encode()):
        if path not in listed:
            fail(f"{path} is not listed in manifest-sha256.txt", path)
    # data/checkpoint present
    if LATEST not in data_files:
        fail("data/checkpoint is missing", LATEST)
    # CHOICE: §14 step 1 does not name data/entries.jsonl among the files that must be
    # present; it is required here (the layout is "exactly this"), so its absence is a
    # layout failure rather than an entries one.
    if ENTRIES not in data_files:
        fail("data/entries.jsonl is missing", ENTRIES)

    sizes.sort()
    return {
        "sizes": sizes,
        "manifest": manifest,
        "tagmanifest": tagmanifest,
        "bagit": bagit,
        "manifest_bytes": manifest_bytes,
    }


# --------------------------------------------------------------------------
# step 2: entries and checkpoints (§8 with the pin, §14.2)

class HashingReader:
    """Wraps a binary file: every byte read is hashed and counted (fixity while streaming)."""

    def __init__(self, f):
        self.f = f
        self.h = hashlib.sha256()
        self.count = 0

    def readline(self, limit=-1):
        line = self.f.readline(limit)
        self.h.update(line)
        self.count += len(line)
        return line


def read_small(path: str, label: str, step: str) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_NOTE + 1)
    if len(data) > MAX_NOTE:
        raise AuditFailure(step, f"{label} is larger than {MAX_NOTE} bytes", label)
    return data


class BagAudit:
    def __init__(self, bag: str, trust: str, witnesses: list[VKey], quorum: int):
        self.bag = bag
        self.trust = trust
        self.witnesses = witnesses
        self.quorum = quorum
        self.digests: dict[str, str] = {}          # path -> sha256 hex of the bytes verified
        self.lengths: dict[str, int] = {}
        self.cosig_failure: AuditFailure | None = None
        self.latest_cosigners: set[int] = set()
        self.last_note_bytes: bytes | None = None
        self.last_note_size = 0
        self.v: vl.Verifier | None = None
        self.n = 0
        self.root: str | None = None
        self.layout: dict | None = None

    def path(self, rel: str) -> str:
        return os.path.join(self.bag, *rel.split("/"))

    # ----
    def check_checkpoint_file(self, s: int) -> None:
        rel = f"{CP_DIR}/{s}"

        def fail(reason):
            raise AuditFailure("entries", f"checkpoint of tree size {s}: {reason}", rel)

        data = read_small(self.path(rel), rel, "entries")
        self.digests[rel] = sha256_hex(data)
        self.lengths[rel] = len(data)
        try:
            note = vl.parse_note(data, rel)
        except vl.Failure as f:
            fail(f.reason)
        if note.size_text != str(s):
            fail(f"the note's size line {note.size_text!r} does not equal its file name")
        try:
            self.v._check_note(note)
        except vl.Failure as f:
            fail(f.reason)
        # CHOICE: §11 says cosignatures come "after the log's signature lines" and §7 that
        # they "may follow the log's own"; the order of signature lines is not enforced (a
        # cosignature before the log's line is accepted), as §7's validity rule ignores order.
        self.last_note_bytes = data
        self.last_note_size = s
        # §14 step 6 is checked here, on the bytes just verified, but reported only after
        # steps 3-5 have passed (the first failure in size order).
        if self.witnesses:
            valid, reason = check_cosignatures(note, self.witnesses)
            if reason and self.cosig_failure is None:
                self.cosig_failure = AuditFailure("cosignatures", f"checkpoint of tree size {s}: {reason}", rel)
            self.latest_cosigners = valid

    def check_entries(self) -> None:
        sizes = self.layout["sizes"]
        self.v = vl.Verifier(self.trust, [])
        pos, n = 0, 0
        with open(self.path(ENTRIES), "rb") as f:
            hr = HashingReader(f)
            try:
                for i, line in vl.read_lines(hr):
                    self.v.entry(i, line)
                    n = i + 1
                    while pos < len(sizes) and sizes[pos] == n:
                        self.check_checkpoint_file(n)
                        pos += 1
            except vl.Failure as e:
                raise AuditFailure("entries", e.reason, ENTRIES, e.index)
        if n == 0:
            raise AuditFailure("entries", "data/entries.jsonl is empty: a log has at least the genesis entry",
                               ENTRIES, 0)
        if pos < len(sizes):
            s = sizes[pos]
            raise AuditFailure("entries", f"checkpoint of tree size {s} is larger than the {n} entries: "
                                          f"entries were removed", f"{CP_DIR}/{s}")
        self.n = n
        self.root = self.v.tree.root().hex()
        self.digests[ENTRIES] = hr.h.hexdigest()
        self.lengths[ENTRIES] = hr.count

    # ----
    def check_latest(self) -> None:
        rel_n = f"{CP_DIR}/{self.n}"
        if self.last_note_size != self.n or self.last_note_bytes is None:
            raise AuditFailure("latest-checkpoint",
                               f"there is no checkpoint for the tree size {self.n} of the entries", rel_n)
        data = read_small(self.path(LATEST), LATEST, "latest-checkpoint")
        self.digests[LATEST] = sha256_hex(data)
        self.lengths[LATEST] = len(data)
        if data != self.last_note_bytes:
            raise AuditFailure("latest-checkpoint", f"data/checkpoint is not byte-for-byte {rel_n}", LATEST)

    # ----
    def check_fixity(self) -> bytes:
        for digest, path in self.layout["manifest"]:
            # Every listed payload file was read (and hashed) by steps 2-3: the digest is that
            # of the very bytes that were verified.
            actual = self.digests[path]
            if actual != digest:
                raise AuditFailure("fixity", f"{path}: SHA-256 {actual} does not match manifest-sha256.txt",
                                   path)
        with open(self.path("bag-info.txt"), "rb") as f:
            bag_info = f.read()
        tag_bytes = {"bagit.txt": self.layout["bagit"], "bag-info.txt": bag_info,
                     "manifest-sha256.txt": self.layout["manifest_bytes"]}
        for digest, path in self.layout["tagmanifest"]:
            actual = sha256_hex(tag_bytes[path])
            if actual != digest:
                raise AuditFailure("fixity", f"{path}: SHA-256 {actual} does not match tagmanifest-sha256.txt",
                                   path)
        return bag_info

    # ----
    def check_bag_info(self, data: bytes) -> None:
        def fail(reason):
            raise AuditFailure("bag-info", reason, "bag-info.txt")

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            fail("bag-info.txt is not valid UTF-8")
        if text.startswith("\ufeff"):
            fail("bag-info.txt begins with a byte-order mark")
        if text and not text.endswith("\n"):
            fail("bag-info.txt: last line is not ended by \\n")
        labels: dict[str, list[str]] = {}
        for k, line in enumerate(text.split("\n")[:-1] if text else []):
            # CHOICE: lines end with LF only (RFC 8493 also allows CR and CRLF); a line is
            # `Label: value` with exactly ": " (colon, one space) after the label, which must
            # be non-empty, contain no colon and not begin or end with white space.  An empty
            # line, or one beginning with white space (a continuation), is malformed.
            if "\r" in line:
                fail(f"bag-info.txt line {k + 1} contains a carriage return")
            if line[:1] in (" ", "\t"):
                fail(f"bag-info.txt line {k + 1} is a continuation line")
            label, sep, value = line.partition(": ")
            if not sep or not label or ":" in label or label != label.strip():
                fail(f"bag-info.txt line {k + 1} is not `Label: value`")
            labels.setdefault(label, []).append(value)

        # CHOICE: an `IncidentLedger-*` label not in the table of §11 cannot be checked
        # against anything the entries prove; it is refused rather than ignored.  Labels are
        # compared case-sensitively.
        for label in labels:
            if label.startswith("IncidentLedger-") and label not in BAG_INFO_CLAIMS:
                fail(f"unknown label {label}")
        for label in BAG_INFO_CLAIMS:
            if label not in labels:
                fail(f"{label} is missing")
            if len(labels[label]) != 1:
                fail(f"{label} appears {len(labels[label])} times")

        # Payload-Oxum (when present) against the payload files.
        # CHOICE: if it appears more than once, every occurrence must be right.
        octets = sum(self.lengths[p] for _, p in self.layout["manifest"])
        count = len(self.layout["manifest"])
        for value in labels.get("Payload-Oxum", []):
            m = OXUM_RE.match(value)
            if not m:
                fail(f"Payload-Oxum {value!r} is not <octets>.<count>")
            if (int(m.group(1)), int(m.group(2))) != (octets, count):
                fail(f"Payload-Oxum {value} but the payload is {octets}.{count}")

        o = self.v.origin
        # §11: format 2 exactly when the bag uses what format 1 lacks: a checkpoint's view line
        # (§7) or data/sealed.jsonl.
        uses_v2 = os.path.lexists(self.path(SEALED))
        for size in self.layout["sizes"]:
            with open(self.path(f"{CP_DIR}/{size}"), "rb") as f:
                text = f.read().split(b"\n\n", 1)[0].split(b"\n")
            if len(text) > 3 and text[3].startswith(b"incidentledger-view "):
                uses_v2 = True
        want = {
            "IncidentLedger-Format": "2" if uses_v2 else "1",
            "IncidentLedger-Origin": o,
            "IncidentLedger-Tree-Size": str(self.n),
            "IncidentLedger-Root": self.root,
            "IncidentLedger-Genesis-Key-ID": self.v.genesis_key,
        }
        for label, expected in want.items():
            got = labels[label][0]
            if got != expected:
                fail(f"{label} is {got!r}, but the entries prove {expected!r}")
        et = labels["IncidentLedger-Export-Time"][0]
        m = EXPORT_TIME_RE.match(et)
        if not m or not vl.valid_calendar(*(int(m.group(k)) for k in range(1, 7))):
            fail(f"IncidentLedger-Export-Time {et!r} is not YYYY-MM-DDTHH:MM:SSZ (a real UTC time)")
        # CHOICE: the export time is checked for syntax only (nothing signed proves it; it
        # is not compared with record times), and Bagging-Date, Bag-Software-Agent and
        # External-Description are not checked at all ("other labels are ignored"), even
        # though §11 says Bagging-Date is the date part of the export time.

    # ----
    def check_cosigs(self) -> None:
        if not self.witnesses:
            return
        if self.cosig_failure is not None:
            raise self.cosig_failure
        # data/checkpoint is byte-identical to data/checkpoints/<n> (step 3), so its
        # cosignatures are those found on that note.
        if len(self.latest_cosigners) < self.quorum:
            raise AuditFailure("cosignatures",
                               f"the latest checkpoint carries valid cosignatures of "
                               f"{len(self.latest_cosigners)} trusted witness(es), quorum is {self.quorum}",
                               LATEST)

    def check_sealed(self) -> None:
        """A keeper's bundle (§11): each line of data/sealed.jsonl canonical, in increasing
        (index, commitment), for one reader, and its entry holds its commitment's marker at its
        field.  The values themselves stay encrypted: opening them needs the reader's key."""
        path = self.path(SEALED)
        if not os.path.lexists(path):
            return
        with open(path, "rb") as f:
            data = f.read()
        self.digests[SEALED] = sha256_hex(data)
        self.lengths[SEALED] = len(data)

        def fail(k, reason, index=None):
            raise AuditFailure("sealed", f"line {k}: {reason}", SEALED, index)

        if not data.endswith(b"\n"):
            raise AuditFailure("sealed", "empty, or the last line is not ended by a newline", SEALED)
        wanted = {}
        last = None
        reader = None
        for k, raw in enumerate(data.split(b"\n")[:-1], 1):
            try:
                o = json.loads(raw.decode("utf-8"), object_pairs_hook=lambda pairs: dict(pairs))
            except (UnicodeDecodeError, ValueError) as e:
                fail(k, f"not JSON ({e})")
            keys = ["index", "commitment", "subject", "field", "reader", "ciphertext", "wrapped"]
            if not isinstance(o, dict) or list(o) != keys:
                fail(k, "members must be exactly " + ", ".join(keys) + ", in this order")
            if not (isinstance(o["index"], int) and not isinstance(o["index"], bool) and 0 <= o["index"] < self.n):
                fail(k, "index must be an entry of the bag")
            if not (isinstance(o["commitment"], str) and re.fullmatch(r"[0-9a-f]{64}", o["commitment"])):
                fail(k, "commitment must be 64 lowercase hex digits")
            for m in ("subject", "field", "reader", "ciphertext", "wrapped"):
                if not isinstance(o[m], str):
                    fail(k, f"{m} must be a string")
            if not o["field"].startswith("body.") or not o["reader"].startswith("reader:"):
                fail(k, "field must start with body. and reader with reader:")
            raw_bytes = {}
            for m in ("ciphertext", "wrapped"):
                try:
                    raw_bytes[m] = vl.b64decode_strict(o[m])
                except vl.BadInput as e:
                    fail(k, f"{m}: {e}")
            # §9: a sealed box of a 32-byte data key is 80 bytes; a ciphertext holds a 24-byte
            # nonce, at least one byte of opening and a 16-byte tag.
            if len(raw_bytes["wrapped"]) != 80:
                fail(k, "wrapped must be 80 bytes (a sealed box of a data key)")
            if len(raw_bytes["ciphertext"]) <= 40:
                fail(k, "ciphertext is too short to hold a nonce, an opening and a tag")
            canonical = json.dumps(o, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if canonical != raw:
                fail(k, "not in canonical form")
            key = (o["index"], o["commitment"].encode())
            if last is not None and key <= last:
                fail(k, "lines must be in increasing order of index, then commitment")
            if reader is not None and o["reader"] != reader:
                fail(k, f"a keeper's bundle is for one reader ({reader})")
            last, reader = key, o["reader"]
            wanted.setdefault(o["index"], []).append(o)
        with open(self.path(ENTRIES), "rb") as f:
            for index, line in enumerate(f):
                for o in wanted.get(index, []):
                    payload = json.loads(base64.b64decode(json.loads(line)["envelope"]["payload"]))
                    if payload["subject"] != o["subject"]:
                        raise AuditFailure("sealed", f"sealed value {o['commitment']}: entry {index} is about "
                                           f"{payload['subject']}, not {o['subject']}", SEALED, index)
                    v = payload["body"]
                    for part in o["field"].split(".")[1:]:
                        v = v.get(part) if isinstance(v, dict) else None
                    if v != {"sealed": o["commitment"]}:
                        raise AuditFailure("sealed", f"sealed value {o['commitment']}: entry {index} does not hold "
                                           f"it at {o['field']}", SEALED, index)

    def run(self) -> None:
        self.layout = check_layout(self.bag)
        self.check_entries()
        self.check_sealed()
        self.check_latest()
        bag_info = self.check_fixity()
        self.check_bag_info(bag_info)
        self.check_cosigs()

    def cosigner_names(self) -> list[str]:
        names = []
        for k in sorted(self.latest_cosigners):
            if self.witnesses[k].name not in names:
                names.append(self.witnesses[k].name)
        return names


# --------------------------------------------------------------------------
# RFC 9162 proofs (§5, §13)

def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = vl.node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = vl.node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 (with §13's rule for equal sizes)."""
    if size1 < 1 or size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = vl.node_hash(c, fr)
            sr = vl.node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = vl.node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


class ProofFailure(Exception):
    pass


def _hash_line(line: bytes, what: str) -> bytes:
    try:
        h = vl.b64decode_strict(line)
    except vl.BadInput as e:
        raise ProofFailure(f"{what}: {e}")
    if len(h) != 32:
        raise ProofFailure(f"{what}: not a 32-byte hash")
    return h


def _parse_note(data: bytes, label: str) -> "vl.Note":
    try:
        return vl.parse_note(data, label)
    except vl.Failure as f:
        raise ProofFailure(f.reason)


def check_log_signature(note: "vl.Note", log_keys: list[VKey], label: str) -> None:
    # CHOICE: §13 allows the log key to be "a vkey, or a key the log's own entries enroll
    # with the log role"; only vkeys (--log-key) are supported here, so whether the key was
    # active at the note's size (§7) cannot be checked.  A log vkey counts only for notes
    # whose origin is its name (§7: the log's signature name is the origin).
    for name, blob in note.sigs:
        if name != note.origin or len(blob) != 68:
            continue
        for k in log_keys:
            if k.name == name and k.keyhash == blob[:4] and \
                    vl.ed25519_verify(k.public_key, blob[4:], note.text):
                return
    raise ProofFailure(f"{label} is not signed by a trusted log key")


def check_witnesses(note, witnesses, quorum, label, need_quorum: bool) -> list[str]:
    if not witnesses:
        return []
    valid, reason = check_cosignatures(note, witnesses)
    if reason:
        raise ProofFailure(f"{label}: {reason}")
    if need_quorum and len(valid) < quorum:
        raise ProofFailure(f"{label} carries valid cosignatures of {len(valid)} trusted witness(es), "
                           f"quorum is {quorum}")
    names = []
    for k in sorted(valid):
        if witnesses[k].name not in names:
            names.append(witnesses[k].name)
    return names


def verify_tlog_proof(data: bytes, log_keys, witnesses, quorum, entry_line: bytes | None) -> dict:
    head, sep, note_bytes = data.partition(b"\n\n")
    if not sep:
        raise ProofFailure("no empty line before the checkpoint")
    lines = head.split(b"\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise ProofFailure("first line is not c2sp.org/tlog-proof@v1")
    k = 1
    extra = None
    # CHOICE: at most one `extra` line, and only right after the header (as in §13's
    # template); anything else before `index` is malformed.
    if k < len(lines) and lines[k].startswith(b"extra "):
        try:
            extra = vl.b64decode_strict(lines[k][6:])
        except vl.BadInput as e:
            raise ProofFailure(f"extra line: {e}")
        k += 1
    if k >= len(lines):
        raise ProofFailure("no index line")
    m = re.fullmatch(rb"index (0|[1-9][0-9]*)", lines[k])
    if not m:
        raise ProofFailure("the line after the header (and extra) is not `index <N>`")
    index = int(m.group(1))
    path = [_hash_line(ln, f"inclusion path line {j + 1}") for j, ln in enumerate(lines[k + 1:])]
    note = _parse_note(note_bytes, "proof checkpoint")

    if extra is not None and entry_line is not None and extra != entry_line:
        # CHOICE: with both an `extra` line and --entry, they must be the same line.
        raise ProofFailure("the extra line is not the entry line given with --entry")
    line = extra if extra is not None else entry_line
    if line is None:
        raise UsageError("the proof has no extra line: give the entry line with --entry FILE")
    # CHOICE: "checks that the line's index member equals N": the line must be a canonical
    # entry line (§4 form) to have an index member at all.  Its payload and signature are
    # not checked (the proof is about inclusion; the log's validity is an audit's job).
    em = vl.ENTRY_RE.match(line)
    if not em:
        raise ProofFailure("the entry line is not in the canonical form of §4")
    if int(em.group(1)) != index:
        raise ProofFailure(f"the entry line's index {em.group(1).decode()} is not the proof's index {index}")
    if not verify_inclusion(index, note.size, vl.leaf_hash(line), path, note.root):
        raise ProofFailure(f"the inclusion path does not lead from entry {index} to the root of tree size "
                           f"{note.size}")
    check_log_signature(note, log_keys, "the checkpoint")
    cos = check_witnesses(note, witnesses, quorum, "the checkpoint", True)
    return {"kind": "inclusion", "index": index, "treeSize": note.size, "root": note.root.hex(),
            "origin": note.origin, "cosigners": cos}


def verify_consistency_proof(data: bytes, log_keys, witnesses, quorum, old: "vl.Note | None") -> dict:
    if not data.endswith(b"\n"):
        raise ProofFailure("the last line is not ended by \\n")
    lines = data[:-1].split(b"\n")
    if lines[0] != CONSISTENCY_HEADER:
        raise ProofFailure("first line is not incidentledger/consistency-proof@v1")
    if len(lines) < 2:
        raise ProofFailure("no `old` line")
    m = re.fullmatch(rb"old (0|[1-9][0-9]*)", lines[1])
    if not m:
        raise ProofFailure("second line is not `old <S1>`")
    s1 = int(m.group(1))
    k = 2
    proof = []
    while k < len(lines) and lines[k] != b"":
        proof.append(_hash_line(lines[k], f"consistency proof line {len(proof) + 1}"))
        k += 1
    if k >= len(lines):
        raise ProofFailure("no empty line before the first checkpoint")
    k += 1

    def take_note(k, label):
        if k + 4 > len(lines) or b"" in lines[k:k + 3] or lines[k + 3] != b"":
            raise ProofFailure(f"{label}: not three text lines and an empty line")
        j = k + 4
        while j < len(lines) and lines[j].startswith(DASH):
            j += 1
        if j == k + 4:
            raise ProofFailure(f"{label}: no signature lines")
        return _parse_note(b"\n".join(lines[k:j]) + b"\n", label), j

    n1, k = take_note(k, "first checkpoint")
    if k >= len(lines) or lines[k] != b"":
        raise ProofFailure("the first checkpoint's signature lines are not followed by one empty line")
    n2, k = take_note(k + 1, "second checkpoint")
    if k != len(lines):
        raise ProofFailure("unexpected lines after the second checkpoint")

    if s1 < 1:
        raise ProofFailure("old size is 0 (S1 must be at least 1)")
    if n1.size != s1:
        raise ProofFailure(f"old {s1} does not equal the first checkpoint's size {n1.size}")
    if n1.size > n2.size:
        raise ProofFailure(f"the first checkpoint's size {n1.size} is larger than the second's {n2.size}")
    if n1.origin != n2.origin:
        raise ProofFailure("the two checkpoints have different origins")
    if old is not None and old.text != n1.text:
        # CHOICE: --old is the checkpoint the auditor already holds; the proof's first note
        # must carry the same text (origin, size, root).  Its signature lines may differ
        # (e.g. other cosignatures), so they are not compared.
        raise ProofFailure("the first checkpoint is not the --old checkpoint")
    if not verify_consistency(n1.size, n2.size, n1.root, n2.root, proof):
        raise ProofFailure(f"the consistency proof from size {n1.size} to {n2.size} does not verify")
    check_log_signature(n1, log_keys, "the first checkpoint")
    check_log_signature(n2, log_keys, "the second checkpoint")
    # CHOICE: §13 does not say which notes of a consistency proof need the witness quorum;
    # every trusted witness's line must verify on both, and the quorum is required on the
    # second (newer) one, as §12 requires it on the latest checkpoint of a bundle.
    check_witnesses(n1, witnesses, quorum, "the first checkpoint", False)
    cos = check_witnesses(n2, witnesses, quorum, "the second checkpoint", True)
    return {"kind": "consistency", "oldSize": n1.size, "treeSize": n2.size, "oldRoot": n1.root.hex(),
            "root": n2.root.hex(), "origin": n2.origin, "cosigners": cos}


# --------------------------------------------------------------------------
# command line

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="verify.py",
        description="Audit an IncidentLedger export bundle (FORMAT.md §14), or check a proof file (§13).")
    ap.add_argument("bag", nargs="?", help="the bag directory")
    ap.add_argument("--trust", metavar="GENESIS_KEYID", help="pinned genesis key id (64 lowercase hex)")
    ap.add_argument("--witness", action="append", default=[], metavar="VKEY",
                    help="a trusted witness verifier key (repeatable)")
    ap.add_argument("--quorum", type=int, metavar="K",
                    help="how many trusted witnesses must cosign (default: all of them)")
    ap.add_argument("--proof", metavar="FILE", help="check a .tlog-proof or consistency proof file")
    ap.add_argument("--log-key", action="append", default=[], metavar="VKEY",
                    help="a trusted log verifier key (proof mode; repeatable)")
    ap.add_argument("--old", metavar="CHECKPOINT_FILE",
                    help="consistency proofs: the checkpoint already held; the proof must start from it")
    ap.add_argument("--entry", metavar="LINE_FILE",
                    help="inclusion proofs without an extra line: the entry line (optionally ended by \\n)")
    ap.add_argument("--json", action="store_true", help="print the verdict as one JSON object on stdout")
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)

    def usage(msg: str) -> int:
        ap.print_usage(sys.stderr)
        print(f"verify.py: error: {msg}", file=sys.stderr)
        return 2

    try:
        witnesses = dedupe_witnesses([parse_vkey(w, 0x04) for w in args.witness])
    except ValueError as e:
        return usage(f"--witness: {e}")
    # CHOICE: §12 does not say what the quorum is when none is given: all named witnesses.
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if quorum < 0:
        return usage("--quorum must not be negative")
    if quorum > len(witnesses):
        # CHOICE: a quorum that can never be met is a usage error, not an invalid bundle.
        return usage(f"--quorum {quorum} is more than the {len(witnesses)} trusted witness(es)")

    if args.proof is not None:
        if args.bag is not None or args.trust is not None:
            return usage("--proof takes no bag directory and no --trust")
        if not args.log_key:
            return usage("--proof needs at least one --log-key VKEY")
        try:
            log_keys = [parse_vkey(k, 0x01) for k in args.log_key]
        except ValueError as e:
            return usage(f"--log-key: {e}")
        return run_proof(args, log_keys, witnesses, quorum, usage)

    if args.bag is None:
        return usage("give a bag directory (or --proof FILE)")
    if args.log_key or args.old or args.entry:
        return usage("--log-key, --old and --entry are for --proof")
    if args.trust is None:
        return usage("--trust GENESIS_KEYID is required to audit a bundle")
    if not vl.HEX64_RE.match(args.trust):
        return usage("--trust must be a key id: 64 lowercase hex digits")
    if not os.path.isdir(args.bag):
        return usage(f"bag directory {args.bag!r} does not exist or is not a directory")

    audit = BagAudit(args.bag, args.trust, witnesses, quorum)
    failure = None
    try:
        audit.run()
    except AuditFailure as f:
        failure = f
    except OSError as e:
        # CHOICE (CLI): a file that exists but cannot be read (permissions, I/O error) says
        # nothing about the bundle: exit 2, like a missing bag directory.
        print(f"verify.py: error: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2

    v = audit.v
    done_entries = failure is None or STEPS.index(failure.step) > STEPS.index("entries")
    result = {
        "ok": failure is None,
        "step": failure.step if failure else None,
        "index": failure.index if failure else None,
        "file": failure.file if failure else None,
        "reason": failure.reason if failure else None,
        # CHOICE (output): tree size and root are reported only once step 2 has passed;
        # origin and genesis key id as soon as entry 0 has been accepted.
        "treeSize": audit.n if done_entries else None,
        "root": audit.root if done_entries else None,
        "origin": v.origin if v else None,
        "genesisKeyID": v.genesis_key if v else None,
        "checkpoints": v.checked_notes if v else 0,
        "cosigners": audit.cosigner_names() if failure is None else [],
    }
    if failure is not None:
        where = f" {failure.file}" if failure.file else ""
        if failure.index is not None:
            where += f" entry {failure.index}"
        print(f"FAIL [{failure.step}]{where}: {failure.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif failure is None:
        cos = ", ".join(result["cosigners"]) if witnesses else ""
        print(f"ok: {result['origin']} tree size {audit.n}, root {audit.root}, "
              f"{result['checkpoints']} checkpoints, cosigners: {cos or 'none checked'}")
    return 0 if failure is None else 1


def run_proof(args, log_keys, witnesses, quorum, usage) -> int:
    try:
        with open(args.proof, "rb") as f:
            data = f.read(16 << 20)
    except OSError as e:
        return usage(f"cannot read {args.proof}: {e.strerror}")
    entry_line = None
    if args.entry is not None:
        try:
            with open(args.entry, "rb") as f:
                entry_line = f.read(vl.MAX_LINE + 2)
        except OSError as e:
            return usage(f"cannot read {args.entry}: {e.strerror}")
        if entry_line.endswith(b"\n"):
            entry_line = entry_line[:-1]
    old = None
    if args.old is not None:
        try:
            with open(args.old, "rb") as f:
                old_bytes = f.read(MAX_NOTE + 1)
        except OSError as e:
            return usage(f"cannot read {args.old}: {e.strerror}")
        try:
            old = vl.parse_note(old_bytes, args.old)
        except vl.Failure as e:
            return usage(f"--old: {e.reason}")

    first = data.split(b"\n", 1)[0]
    result = {"ok": False, "kind": None, "reason": None}
    try:
        if first == TLOG_PROOF_HEADER:
            if old is not None:
                return usage("--old is for consistency proofs")
            result.update(verify_tlog_proof(data, log_keys, witnesses, quorum, entry_line))
        elif first == CONSISTENCY_HEADER:
            if entry_line is not None:
                return usage("--entry is for inclusion proofs")
            result.update(verify_consistency_proof(data, log_keys, witnesses, quorum, old))
        else:
            raise ProofFailure("not a c2sp.org/tlog-proof@v1 or incidentledger/consistency-proof@v1 file")
        result["ok"] = True
    except UsageError as e:
        return usage(str(e))
    except ProofFailure as e:
        result["reason"] = " ".join(str(e).split())
        print(f"FAIL [proof] {args.proof}: {result['reason']}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif result["ok"]:
        if result["kind"] == "inclusion":
            print(f"ok: entry {result['index']} is in {result['origin']} at tree size {result['treeSize']}")
        else:
            print(f"ok: {result['origin']} tree size {result['oldSize']} is consistent with {result['treeSize']}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
