#!/usr/bin/env python3
"""Independent verifier for IncidentLedger logs (format version 1).

Written from docs/FORMAT.md alone (no other project source was consulted).
Standard library plus the `cryptography` package (Ed25519 only).

    python3 Tools/verify_log.py ENTRIES.jsonl [--checkpoints NOTES.txt]
        [--checkpoint NOTE ...] [--trust GENESIS_KEYID] [--json]

Exit 0: everything holds.  Exit 1: the first failure is printed.
Exit 2: usage error (bad arguments, unreadable file).

Where FORMAT.md is silent or ambiguous, the choice made here is marked
"CHOICE:" in a comment.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import unicodedata
from functools import lru_cache

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    sys.stderr.write("verify_log.py needs the 'cryptography' package (Ed25519)\n")
    sys.exit(2)


# --------------------------------------------------------------------------
# constants from FORMAT.md

PAYLOAD_TYPE = "application/vnd.incidentledger.event+json"
PAYLOAD_TYPE_B = PAYLOAD_TYPE.encode("ascii")
MAX_PAYLOAD = 1_048_576                      # §2
MAX_DEPTH = 64                               # §2 strict JSON rule 5
MAX_EXPECTS = 2 ** 53                        # §2 (exclusive)
PAYLOAD_MEMBERS = ("ledger", "id", "type", "subject", "expects", "signedAt", "body")

ROLE_FOR_TYPE = {                            # §6 role table
    "key.enrolled": "admin",
    "key.revoked": "admin",
    # Sealed values (§9): who may read them, and their erasure.
    "reader.enrolled": "admin",
    "reader.revoked": "admin",
    "value.erased": "admin",
}
for _t in ("facility.registered", "facility.corrected", "facility.alias-added",
           "facility.deconfliction-recorded", "actor.registered", "source.registered",
           "incident.reported", "incident.corrected", "incident.source-cited",
           "attribution.claimed", "casualties.reported", "incident.merged",
           "incident.retracted", "incident.reinstated", "aggregate.reported",
           "aggregate.corrected"):
    ROLE_FOR_TYPE[_t] = "archivist"
for _t in ("attribution.assessed", "casualties.adopted", "incident.certainty-graded",
           "incident.verification-changed"):
    ROLE_FOR_TYPE[_t] = "reviewer"
GENESIS_TYPE = "ledger.genesis"
KNOWN_TYPES = frozenset(ROLE_FOR_TYPE) | {GENESIS_TYPE}
ROLES = frozenset({"admin", "archivist", "reviewer", "log"})

# Unicode White_Space property (PropList.txt).  CHOICE: FORMAT.md says "no
# leading or trailing white space" for key names without defining white space.
WHITE_SPACE = frozenset(
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

# §4 canonical entry line.  Every variable part is restricted to characters
# that need no JSON escape, so a match is also well-formed JSON.
ENTRY_RE = re.compile(
    rb'\{"index":(0|[1-9][0-9]*),'
    rb'"recordedAt":"([^"\\]*)",'
    rb'"envelope":\{"payloadType":"application/vnd\.incidentledger\.event\+json",'
    rb'"payload":"([A-Za-z0-9+/=]*)",'
    rb'"signatures":\[\{"keyid":"([0-9a-f]{64})","sig":"([A-Za-z0-9+/=]{88})"\}\]\}\}\Z'
)
RECORDED_AT_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.[0-9]{6}Z\Z")
SIGNED_AT_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?Z\Z")
UUID7_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
TYPE_RE = re.compile(r"[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+\Z")
SUBJECT_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
DIGITS_RE = re.compile(r"(0|[1-9][0-9]*)\Z")
ORIGIN_RE = re.compile(r"[\x21-\x2a\x2c-\x7e]{1,255}\Z")     # printable ASCII minus '+'
HEX64_RE = re.compile(r"[0-9a-f]{64}\Z")

# Longest possible canonical line: base64 of a 1 MiB payload plus the fixed
# parts.  Used only to bound memory while reading a line.
MAX_LINE = 4 * ((MAX_PAYLOAD + 2) // 3) + 1024

EM_DASH_PREFIX = "\u2014 "


class Failure(Exception):
    """A verification failure. `index` is an entry index, or None with `size`."""

    def __init__(self, reason: str, index: int | None = None, size: str | int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.index = index
        self.size = size


class BadInput(Exception):
    """A payload (or other JSON document) that breaks a rule; carries the reason."""


# --------------------------------------------------------------------------
# primitives

def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def b64decode_strict(text: str | bytes) -> bytes:
    """Standard alphabet, '=' padding, no whitespace, canonical (zero pad bits)."""
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError:
            raise BadInput("base64 contains non-ASCII characters")
    else:
        raw = text
    if len(raw) % 4 != 0:
        raise BadInput("base64 length is not a multiple of 4")
    if not re.fullmatch(rb"[A-Za-z0-9+/]*={0,2}", raw):
        raise BadInput("base64 has characters outside the standard alphabet or bad padding")
    try:
        out = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("invalid base64")
    if base64.b64encode(out) != raw:
        raise BadInput("non-canonical base64 (unused bits not zero or wrong padding)")
    return out


# Ed25519 point checks (RFC 8032 §5.1.3 decoding, plus a small-order test).
_P = 2 ** 255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(b: bytes):
    """RFC 8032 §5.1.3: None when decoding fails (y >= p, no x, x = 0 with sign 1)."""
    if len(b) != 32:
        return None
    n = int.from_bytes(b, "little")
    sign, y = n >> 255, n & ((1 << 255) - 1)
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = (x * _SQRT_M1) % _P
        if (v * x * x - u) % _P != 0:
            return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = _P - x
    return x, y


def _small_order(pt) -> bool:
    """[8]P == identity, by three projective doublings (a = -1 twisted Edwards)."""
    X, Y, Z = pt[0], pt[1], 1
    for _ in range(3):
        B = (X + Y) * (X + Y) % _P
        C = X * X % _P
        D = Y * Y % _P
        E = -C % _P
        F = (E + D) % _P
        J = (F - 2 * Z * Z) % _P
        X, Y, Z = (B - C - D) * J % _P, F * (E - D) % _P, F * J % _P
    return X == 0 and (Y - Z) % _P == 0


@lru_cache(maxsize=4096)
def strict_point_ok(b: bytes) -> bool:
    pt = _decode_point(b)
    return pt is not None and not _small_order(pt)


# §6 rule "usable keys only": libsodium's crypto_core_ed25519_is_valid_point.
_L = 2 ** 252 + 27742317777372353535851937790883648493   # order of the prime-order subgroup


def _ext_add(P, Q):
    """Extended twisted Edwards coordinates (a = -1), complete addition (RFC 8032 §5.1.4)."""
    X1, Y1, Z1, T1 = P
    X2, Y2, Z2, T2 = Q
    A = (Y1 - X1) * (Y2 - X2) % _P
    B = (Y1 + X1) * (Y2 + X2) % _P
    C = 2 * _D * T1 * T2 % _P
    D = 2 * Z1 * Z2 % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return E * F % _P, G * H % _P, F * G % _P, E * H % _P


def _in_prime_order_subgroup(pt) -> bool:
    """[L]P == identity (double-and-add over the bits of L)."""
    x, y = pt
    P = (x, y, 1, x * y % _P)
    R = (0, 1, 1, 0)
    for bit in bin(_L)[2:]:
        R = _ext_add(R, R)
        if bit == "1":
            R = _ext_add(R, P)
    X, Y, Z, _ = R
    return X % _P == 0 and (Y - Z) % _P == 0


@lru_cache(maxsize=4096)
def unusable_key_reason(b: bytes) -> str | None:
    """None when `b` is a usable Ed25519 public key (FORMAT.md §6), else why not.

    Exactly libsodium's crypto_core_ed25519_is_valid_point: the encoding is canonical
    (y, the low 255 bits, < p), it decodes to a curve point, the point is not of small
    order (one of the 8 torsion points) and [L]P is the identity.
    """
    if len(b) != 32:
        return f"{len(b)} bytes, not 32"
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    if y >= _P:
        return "non-canonical encoding: y is not below p = 2^255 - 19"
    pt = _decode_point(b)
    if pt is None:
        if y in (1, _P - 1):
            # x = 0 with the sign bit set: the encoding of a torsion point with the wrong sign
            return "a point of small order"
        return "not the encoding of a point on the curve"
    if _small_order(pt):
        return "a point of small order"
    if not _in_prime_order_subgroup(pt):
        return "not in the prime-order subgroup"
    return None


def usable_public_key(b: bytes) -> bool:
    return unusable_key_reason(b) is None


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    # CHOICE: FORMAT.md only says "RFC 8032".  RFC 8032 decoding is applied to
    # the public key A and to R (canonical y < p, on the curve), S must be < L
    # (OpenSSL checks that), and -- beyond RFC 8032, as libsodium does --
    # small-order A and R are refused: such keys/signatures "verify" for any
    # message.  The ledger tool was observed to refuse them too.
    if len(public_key) != 32 or len(signature) != 64:
        return False
    if not strict_point_ok(public_key) or not strict_point_ok(signature[:32]):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False
    except Exception:  # any library-level refusal of a malformed point
        return False


def pae(payload_type: bytes, body: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding (§3)."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


class MerkleAccumulator:
    """RFC 9162 tree head over a stream of leaves in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []   # (subtree size, hash), sizes decreasing

    def add(self, leaf: bytes) -> None:
        h = leaf_hash(leaf)
        n = 1
        while self._stack and self._stack[-1][0] == n:
            left_n, left_h = self._stack.pop()
            h = node_hash(left_h, h)
            n += left_n
        self._stack.append((n, h))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return sha256(b"")
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


def valid_calendar(y: int, mo: int, d: int, h: int, mi: int, s: int) -> bool:
    # CHOICE: year 0000 is accepted (proleptic Gregorian, leap year); FORMAT.md
    # only says "a real calendar date".  No leap second: seconds 00-59.
    if not (1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= s <= 59):
        return False
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
    return 1 <= d <= days


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (any year, 0000 included)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def timestamp_micros(text: str) -> int:
    """Microseconds since the Unix epoch of a valid RFC 3339 UTC time (§2 signedAt form or
    the §4 record-time form).  A fraction of more than 6 digits is truncated (digits after the
    sixth are dropped, never rounded), as §6 says."""
    m = SIGNED_AT_RE.match(text)
    y, mo, d, h, mi, s = (int(m.group(k)) for k in range(1, 7))
    frac = (m.group(7) or ".")[1:]
    micro = int((frac + "000000")[:6])
    return ((_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1_000_000) + micro


MAX_SIGNED_AT_LEAD = 3600 * 1_000_000            # §6: signedAt <= recordedAt + 3600 s


def check_timestamp(text: str, regex: re.Pattern) -> bool:
    m = regex.match(text)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(m.group(k)) for k in range(1, 7))
    return valid_calendar(y, mo, d, h, mi, s)


# --------------------------------------------------------------------------
# strict JSON (§2)

class JNumber:
    """A JSON number kept as its exact source text (never converted)."""
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"JNumber({self.text!r})"


_STRUCT_RE = re.compile(r'["\\\[\]{}]')
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _max_depth(text: str) -> int:
    """Maximum nesting depth of arrays/objects (top-level container = 1).

    Exact for well-formed JSON; for malformed JSON the parser fails anyway.
    CHOICE: FORMAT.md says "nesting depth at most 64 arrays/objects" without
    saying whether the top-level object counts; here it counts as depth 1.
    """
    depth = best = 0
    in_string = False
    skip_to = -1
    for m in _STRUCT_RE.finditer(text):
        p = m.start()
        if p < skip_to:
            continue
        c = m.group()
        if in_string:
            if c == "\\":
                skip_to = p + 2
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > best:
                best = depth
                if best > MAX_DEPTH:      # no need to look further
                    return best
        elif c in "]}":
            depth -= 1
    return best


def _pairs_hook(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise BadInput(f"duplicate member name {k!r}")
        obj[k] = v
    return obj


def _reject_constant(name):
    raise BadInput(f"{name} is not JSON")


def _check_string(s: str) -> None:
    if _SURROGATE_RE.search(s):
        # Only \u escapes can produce these: strict UTF-8 decoding refused
        # encoded surrogates already.  Python joins valid \uD8xx\uDCxx pairs.
        raise BadInput("string contains an unpaired surrogate escape")
    # NFC is not checked: FORMAT.md §2 leaves it to writers, because the answer can depend on
    # the Unicode version of the verifier's tables.


def _walk_strings(value) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is str:
            _check_string(v)
        elif type(v) is dict:
            for k, x in v.items():
                _check_string(k)
                stack.append(x)
        elif type(v) is list:
            stack.extend(v)


def parse_strict_json(data: bytes):
    """Parse one strict JSON document (§2 rules 1-6). Numbers become JNumber."""
    try:
        text = data.decode("utf-8", errors="strict")   # rejects overlong, surrogates, >U+10FFFF
    except UnicodeDecodeError as e:
        raise BadInput(f"payload is not valid UTF-8 ({e.reason} at byte {e.start})")
    # CHOICE: a byte-order mark is not JSON whitespace; it is refused (the
    # json module refuses it too).  Leading JSON whitespace is allowed (RFC
    # 8259 `ws value ws`); FORMAT.md rule 6 only talks about what follows.
    if _max_depth(text) > MAX_DEPTH:
        raise BadInput(f"nesting deeper than {MAX_DEPTH}")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs_hook,
            parse_int=JNumber,
            parse_float=JNumber,
            parse_constant=_reject_constant,
            strict=True,            # raw control characters in strings are refused
        )
    except BadInput:
        raise
    except json.JSONDecodeError as e:
        raise BadInput(f"payload is not well-formed JSON ({e.msg} at char {e.pos})")
    except RecursionError:
        raise BadInput(f"nesting deeper than {MAX_DEPTH}")
    _walk_strings(value)
    return value


# --------------------------------------------------------------------------
# payload (§2) and key descriptor (§6)

def check_payload(payload: bytes) -> dict:
    if len(payload) > MAX_PAYLOAD:
        raise BadInput(f"payload is {len(payload)} bytes, more than {MAX_PAYLOAD}")
    obj = parse_strict_json(payload)
    if type(obj) is not dict:
        raise BadInput("payload is not a JSON object")
    keys = set(obj)
    if keys != set(PAYLOAD_MEMBERS):
        missing = sorted(set(PAYLOAD_MEMBERS) - keys)
        extra = sorted(keys - set(PAYLOAD_MEMBERS))
        raise BadInput(f"payload members wrong (missing {missing}, unexpected {extra})")
    for name in ("ledger", "id", "type", "subject", "signedAt"):
        if type(obj[name]) is not str:
            raise BadInput(f"payload member {name!r} is not a string")
    if not ORIGIN_RE.match(obj["ledger"]):
        raise BadInput("payload 'ledger' is not a valid origin")
    if not UUID7_RE.match(obj["id"]):
        raise BadInput(f"payload 'id' is not a lowercase canonical UUIDv7: {obj['id']!r}")
    t = obj["type"]
    if not TYPE_RE.match(t) or len(t.encode("utf-8")) > 64:
        raise BadInput(f"payload 'type' has bad syntax: {t!r}")
    if t not in KNOWN_TYPES:
        raise BadInput(f"unknown event type {t!r}")
    if not SUBJECT_RE.match(obj["subject"]):
        raise BadInput(f"payload 'subject' has bad syntax: {obj['subject'][:140]!r}")
    e = obj["expects"]
    if type(e) is not JNumber or not DIGITS_RE.match(e.text) or len(e.text) > 16 \
            or int(e.text) >= MAX_EXPECTS:
        raise BadInput("payload 'expects' is not a non-negative integer below 2^53 written with digits only")
    obj["expects"] = int(e.text)
    if not check_timestamp(obj["signedAt"], SIGNED_AT_RE):
        raise BadInput(f"payload 'signedAt' is not a valid RFC 3339 UTC time: {obj['signedAt']!r}")
    if type(obj["body"]) is not dict:
        raise BadInput("payload 'body' is not an object")
    return obj


def check_key_descriptor(d) -> tuple[str, bytes, frozenset]:
    """Returns (name, public key, roles)."""
    if type(d) is not dict or set(d) != {"name", "publicKey", "roles"}:
        raise BadInput("key descriptor must have exactly name, publicKey, roles")
    name, pk, roles = d["name"], d["publicKey"], d["roles"]
    if type(name) is not str:
        raise BadInput("key name is not a string")
    # CHOICE: "characters" = Unicode code points; "control characters" =
    # general category Cc; "white space" = Unicode White_Space property.
    if not 1 <= len(name) <= 100:
        raise BadInput(f"key name has {len(name)} characters (must be 1-100)")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise BadInput("key name contains a control character")
    if name[0] in WHITE_SPACE or name[-1] in WHITE_SPACE:
        raise BadInput("key name has leading or trailing white space")
    if type(pk) is not str:
        raise BadInput("publicKey is not a string")
    pub = b64decode_strict(pk)
    if len(pub) != 32:
        raise BadInput(f"publicKey is {len(pub)} bytes, not 32")
    if type(roles) is not list or not roles:
        raise BadInput("roles must be a non-empty array")
    for r in roles:
        if type(r) is not str or r not in ROLES:
            raise BadInput(f"unknown role {r!r}")
    if len(set(roles)) != len(roles):
        raise BadInput("roles are not distinct")
    return name, pub, frozenset(roles)


# --------------------------------------------------------------------------
# checkpoints (§7)

class Note:
    def __init__(self, label: str, text: bytes, origin: str, size: int, size_text: str,
                 root: bytes, sigs: list[tuple[str, bytes]]):
        self.label = label
        self.text = text
        self.origin = origin
        self.size = size
        self.size_text = size_text
        self.root = root
        self.sigs = sigs


def parse_note(data: bytes, label: str) -> Note:
    """Parse one C2SP signed note holding a tlog-checkpoint (§7)."""
    size_text = "?"

    def bad(reason):
        return Failure(reason, size=size_text)

    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad(f"{label}: note is not valid UTF-8")
    first = s.split("\n", 2)
    if len(first) >= 2 and DIGITS_RE.match(first[1]):
        size_text = first[1]
    if not s.endswith("\n"):
        raise bad(f"{label}: note does not end with a newline")
    sep = s.find("\n\n")
    if sep < 0:
        raise bad(f"{label}: note has no blank line before its signatures")
    text, sig_part = s[:sep + 1], s[sep + 2:]
    lines = text.split("\n")[:-1]
    if len(lines) >= 2 and DIGITS_RE.match(lines[1]):
        size_text = lines[1]
    if len(lines) not in (3, 4):
        raise bad(f"{label}: checkpoint text has {len(lines)} lines, not 3 plus at most the view line")
    # §7: one optional extension line, `incidentledger-view <64 hex>` (the archive's view; this
    # verifier does not fold the archive, so it checks the line's form and signs it as text).
    if len(lines) == 4 and not re.fullmatch(r"incidentledger-view [0-9a-f]{64}", lines[3]):
        raise bad(f"{label}: checkpoint extension line is not `incidentledger-view` and 64 lowercase hex digits")
    origin, size_line, root_line = lines[:3]
    if not ORIGIN_RE.match(origin):
        raise bad(f"{label}: checkpoint origin line is not a valid origin")
    if not DIGITS_RE.match(size_line):
        raise bad(f"{label}: checkpoint size is not decimal without leading zeros")
    try:
        root = b64decode_strict(root_line)
    except BadInput as e:
        raise bad(f"{label}: checkpoint root: {e}")
    if len(root) != 32:
        raise bad(f"{label}: checkpoint root is {len(root)} bytes, not 32")
    sig_lines = sig_part.split("\n")
    if sig_lines[-1] != "":
        raise bad(f"{label}: signature block does not end with a newline")
    sig_lines = sig_lines[:-1]
    if not sig_lines:
        raise bad(f"{label}: note has no signature lines")
    sigs = []
    for ln in sig_lines:
        # CHOICE: every signature line must be well formed (C2SP signed-note
        # syntax), even lines by keys we do not know.
        if not ln.startswith(EM_DASH_PREFIX):
            raise bad(f"{label}: malformed signature line {ln[:60]!r}")
        parts = ln[len(EM_DASH_PREFIX):].split(" ")
        if len(parts) != 2 or not parts[0] or "+" in parts[0] \
                or any(c in WHITE_SPACE for c in parts[0]):
            raise bad(f"{label}: malformed signature line {ln[:60]!r}")
        try:
            blob = b64decode_strict(parts[1])
        except BadInput as e:
            raise bad(f"{label}: signature line: {e}")
        if len(blob) < 5:
            raise bad(f"{label}: signature line too short")
        sigs.append((parts[0], blob))
    return Note(label, text.encode("utf-8"), origin, int(size_line), size_line, root, sigs)


def split_notes_file(data: bytes, label: str) -> list[bytes]:
    """Split a file of several notes.

    Preferred form: notes separated by a line holding only `---`.  If no such
    line exists, the notes are taken to be separated by blank lines (the form
    `ledger checkpoint --list` prints, or simply back to back).
    """
    if re.search(rb"(?m)^---$", data):
        # Each piece between separator lines is one note, byte for byte
        # (a note ends with its own "\n", then the separator line follows).
        pieces = re.split(rb"(?m)^---\n", data)
        if pieces and pieces[0] == b"":
            pieces = pieces[1:]
        if pieces and pieces[-1] == b"":
            pieces = pieces[:-1]
        return pieces
    # Line-based: a note is text lines, one blank line, then signature lines
    # (each beginning with an em dash and a space).  The next note starts at the
    # first line after the signatures that is not a signature line; blank lines
    # between notes are skipped.  (`ledger checkpoint --list` was observed to
    # print the notes back to back, with no blank line between them.)
    dash = EM_DASH_PREFIX.encode("utf-8")
    lines = data.split(b"\n")
    unterminated = bool(lines) and lines[-1] != b""
    if lines and lines[-1] == b"":
        lines.pop()
    notes: list[bytes] = []
    i, n = 0, len(lines)
    while i < n:
        if lines[i] == b"":
            i += 1
            continue
        start = i
        while i < n and lines[i] != b"" and not lines[i].startswith(dash):
            i += 1
        if i >= n or lines[i] != b"":
            raise Failure(f"{label}: cannot split notes at line {i + 1}", size="?")
        i += 1                                   # the blank line inside the note
        if i >= n or not lines[i].startswith(dash):
            raise Failure(f"{label}: note at line {start + 1} has no signature lines", size="?")
        while i < n and lines[i].startswith(dash):
            i += 1
        last = i >= n and unterminated
        notes.append(b"\n".join(lines[start:i]) + (b"" if last else b"\n"))
    return notes


def log_keyhash(name: str, public_key: bytes) -> bytes:
    return sha256(name.encode("utf-8") + b"\n\x01" + public_key)[:4]


# --------------------------------------------------------------------------
# the log (§6, §8)

class KeyInfo:
    __slots__ = ("public_key", "roles", "enrolled_at", "revoked_at", "name", "usable")

    def __init__(self, public_key, roles, enrolled_at, name):
        self.public_key = public_key
        self.roles = roles
        self.enrolled_at = enrolled_at
        self.revoked_at = None
        self.name = name
        # §6: always true for an enrolled key (an unusable one makes its entry invalid)
        self.usable = usable_public_key(public_key)


class Verifier:
    def __init__(self, trust: str | None, notes: list[Note]):
        self.trust = trust
        self.keys: dict[str, KeyInfo] = {}
        self.revisions: dict[str, int] = {}
        self.ids: set[str] = set()
        self.origin: str | None = None
        self.genesis_key: str | None = None
        self.prev_recorded: bytes | None = None
        self.tree = MerkleAccumulator()
        self.notes_by_size: dict[int, list[Note]] = {}
        for n in notes:
            self.notes_by_size.setdefault(n.size, []).append(n)
        self.checked_notes = 0

    # -- entries ---------------------------------------------------------
    def entry(self, i: int, line: bytes) -> None:
        def fail(reason):
            raise Failure(reason, index=i)

        m = ENTRY_RE.match(line)
        if not m:
            fail("entry line is not in the canonical form of §4")
        idx_b, rec_b, payload_b64, keyid_b, sig_b64 = m.groups()
        if int(idx_b) != i:
            fail(f"index {idx_b.decode()} does not equal position {i}")
        rec = rec_b.decode("ascii", errors="replace")
        if len(rec_b) != 27 or not check_timestamp(rec, RECORDED_AT_RE):
            # CHOICE: §4 gives only the shape of the record time; we also
            # require a real calendar date and time (no leap second).
            fail(f"record time {rec!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ or not a real time")
        try:
            payload = b64decode_strict(payload_b64)
            sig = b64decode_strict(sig_b64)
        except BadInput as e:
            fail(str(e))
        if len(sig) != 64:
            fail("signature is not 64 bytes")
        try:
            ev = check_payload(payload)
        except BadInput as e:
            fail(str(e))
        if self.prev_recorded is not None and rec_b < self.prev_recorded:
            fail(f"record time {rec} is earlier than the previous entry's")
        self.prev_recorded = rec_b
        # §6: signedAt at most 1 hour after the record time (every entry, genesis included)
        if timestamp_micros(ev["signedAt"]) > timestamp_micros(rec) + MAX_SIGNED_AT_LEAD:
            fail(f"signedAt {ev['signedAt']} is more than 1 hour after the entry's record time {rec}")
        keyid = keyid_b.decode("ascii")
        msg = pae(PAYLOAD_TYPE_B, payload)

        if i == 0:
            self._genesis(ev, keyid, sig, msg, fail)
        else:
            self._later(i, ev, keyid, sig, msg, fail)

        self.revisions[ev["subject"]] = self.revisions.get(ev["subject"], 0) + 1
        self.ids.add(ev["id"])
        self.tree.add(line)

    def _genesis(self, ev, keyid, sig, msg, fail):
        if ev["type"] != GENESIS_TYPE:
            fail(f"entry 0 has type {ev['type']!r}, not {GENESIS_TYPE}")
        if ev["expects"] != 0:
            fail("genesis expects is not 0")
        body = ev["body"]
        if set(body) != {"admin"}:
            fail("genesis body is not exactly {\"admin\": KEY}")
        try:
            name, pub, roles = check_key_descriptor(body["admin"])
        except BadInput as e:
            fail(f"genesis admin key: {e}")
        why = unusable_key_reason(pub)
        if why:
            fail(f"body.admin.publicKey is not a usable Ed25519 public key ({why})")
        if "admin" not in roles:
            fail("genesis key does not hold the admin role")
        kid = key_id(pub)
        if ev["subject"] != kid:
            fail("genesis subject is not the admin key's key id")
        if keyid != kid:
            fail("genesis envelope is not signed by the genesis key")
        if self.trust is not None and keyid != self.trust:
            fail(f"genesis key id {keyid} is not the trusted key id {self.trust}")
        if not ed25519_verify(pub, sig, msg):
            fail("signature does not verify")
        self.origin = ev["ledger"]
        self.genesis_key = kid
        self.keys[kid] = KeyInfo(pub, roles, 0, name)

    def _later(self, i, ev, keyid, sig, msg, fail):
        t = ev["type"]
        if t == GENESIS_TYPE or t not in ROLE_FOR_TYPE:
            fail(f"type {t!r} is not allowed after entry 0")
        if ev["ledger"] != self.origin:
            fail(f"payload ledger {ev['ledger']!r} is not the log's origin")
        k = self.keys.get(keyid)
        if k is None:
            fail(f"signing key {keyid} is not enrolled")
        if k.revoked_at is not None:
            fail(f"signing key {keyid} was revoked at index {k.revoked_at}")
        need = ROLE_FOR_TYPE[t]
        if need not in k.roles:
            # CHOICE: roles do not imply one another (admin does not include archivist).
            fail(f"signing key lacks the {need} role needed for {t}")
        if not ed25519_verify(k.public_key, sig, msg):
            fail("signature does not verify")
        subj = ev["subject"]
        rev = self.revisions.get(subj, 0)
        if ev["expects"] != rev:
            fail(f"expects {ev['expects']} but subject revision is {rev}")
        if ev["id"] in self.ids:
            fail(f"event id {ev['id']} was used before")
        body = ev["body"]
        if t == "key.enrolled":
            try:
                name, pub, roles = check_key_descriptor(body)
            except BadInput as e:
                fail(f"key.enrolled: {e}")
            why = unusable_key_reason(pub)
            if why:
                fail(f"body.publicKey is not a usable Ed25519 public key ({why})")
            kid = key_id(pub)
            if subj != kid:
                fail("key.enrolled subject is not the enrolled key's key id")
            if kid in self.keys:
                fail(f"key {kid} was enrolled before")
            # CHOICE: "(so expects is 0)" is not enforced separately; rule 6
            # (expects == revision) already applies.  See the report.
            self.keys[kid] = KeyInfo(pub, roles, i, name)
        elif t == "key.revoked":
            if set(body) != {"reason"} or type(body["reason"]) is not str or all(c in WHITE_SPACE for c in body["reason"]):
                fail("key.revoked body is not exactly {\"reason\": R} with R not only white space")
            target = self.keys.get(subj)
            if target is None:
                fail(f"key.revoked subject {subj} is not an enrolled key")
            if target.revoked_at is not None:
                fail(f"key {subj} is already revoked")
            # §6: only usable admin keys count (with the usable-keys rule every enrolled key
            # is usable, so this is the plain count of unrevoked admin keys).
            if "admin" in target.roles and target.usable:
                others = sum(1 for kid, kk in self.keys.items()
                             if kid != subj and kk.revoked_at is None and "admin" in kk.roles
                             and kk.usable)
                if others == 0:
                    fail("revokes the last unrevoked usable admin key")
            target.revoked_at = i

    # -- checkpoints -----------------------------------------------------
    def checkpoints_at_current_size(self) -> None:
        s = self.tree.size
        for note in self.notes_by_size.pop(s, []):
            self._check_note(note)

    def _check_note(self, note: Note) -> None:
        s = note.size

        def fail(reason):
            raise Failure(reason, size=s)

        if self.origin is None:
            fail("no entries yet: a checkpoint of size 0 cannot be signed by an active log key")
        if note.origin != self.origin:
            fail(f"origin {note.origin!r} is not the log's origin {self.origin!r}")
        if note.root != self.tree.root():
            fail(f"root {note.root.hex()} is not the tree head {self.tree.root().hex()} of size {s}")
        for name, blob in note.sigs:
            if name != self.origin or len(blob) != 68:
                continue        # witness cosignatures or other notes' signatures
            kh, sig = blob[:4], blob[4:]
            for kid, k in self.keys.items():
                # active at index s: enrolled at < s, not revoked at < s
                if "log" not in k.roles or k.enrolled_at >= s:
                    continue
                if k.revoked_at is not None and k.revoked_at < s:
                    continue
                if log_keyhash(name, k.public_key) != kh:
                    continue
                if ed25519_verify(k.public_key, sig, note.text):
                    self.checked_notes += 1
                    return
        fail("no signature line verifies under a log key active at this size")

    def finish(self, n: int) -> None:
        if n == 0:
            # CHOICE: FORMAT.md does not say whether an empty log is valid; a
            # ledger always has a genesis entry, so an empty one is refused.
            raise Failure("log is empty (no genesis entry)", index=0)
        if self.notes_by_size:
            s = min(self.notes_by_size)
            raise Failure(f"checkpoint is larger than the log ({n} entries): entries were removed",
                          size=s)


def read_lines(f):
    """Yield (index, line-without-newline) in constant memory; Failure on bad framing."""
    i = 0
    while True:
        line = f.readline(MAX_LINE + 2)
        if not line:
            return
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise Failure("entry line is longer than any canonical line can be", index=i)
            # CHOICE: §4 says every line in a file is followed by "\n"; a
            # final line without one is refused.
            raise Failure("entry line is not terminated by \\n", index=i)
        yield i, line[:-1]
        i += 1


def verify(entries_path: str, notes: list[Note], trust: str | None):
    v = Verifier(trust, notes)
    n = 0
    # A checkpoint of size 0 is checked before any entry (it cannot be valid:
    # no key is active at index 0).
    with open(entries_path, "rb") as f:
        v.checkpoints_at_current_size()
        for i, line in read_lines(f):
            v.entry(i, line)
            n = i + 1
            v.checkpoints_at_current_size()
    v.finish(n)
    return n, v.checked_notes, v.tree.root().hex(), v.genesis_key


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="verify_log.py",
        description="Verify an IncidentLedger log (entry lines and checkpoints) per docs/FORMAT.md.")
    ap.add_argument("entries", help="entry lines (JSON Lines, each line followed by \\n)")
    ap.add_argument("--checkpoints", action="append", default=[], metavar="NOTES",
                    help="file of signed checkpoint notes separated by lines holding only '---'; "
                         "without such lines, notes may follow one another directly or after "
                         "blank lines (as `ledger checkpoint --list` prints them)")
    ap.add_argument("--checkpoint", action="append", default=[], metavar="NOTE",
                    help="file holding exactly one signed checkpoint note (repeatable)")
    ap.add_argument("--trust", metavar="GENESIS_KEYID", help="pinned genesis key id (64 lowercase hex)")
    ap.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = ap.parse_args(argv)

    if args.trust is not None and not HEX64_RE.match(args.trust):
        ap.error("--trust must be a key id: 64 lowercase hex digits")

    def report_fail(f: Failure) -> int:
        if f.index is not None:
            msg = f"FAIL at entry {f.index}: {f.reason}"
            obj = {"ok": False, "index": f.index, "reason": f.reason}
        else:
            msg = f"FAIL checkpoint size {f.size}: {f.reason}"
            size = int(f.size) if isinstance(f.size, str) and f.size.isdigit() else f.size
            obj = {"ok": False, "checkpointSize": size, "reason": f.reason}
        print(json.dumps(obj) if args.json else msg)
        return 1

    notes: list[Note] = []
    try:
        for path in args.checkpoints:
            with open(path, "rb") as fh:
                data = fh.read()
            for k, raw in enumerate(split_notes_file(data, path)):
                notes.append(parse_note(raw, f"{path} note {k + 1}"))
        for path in args.checkpoint:
            with open(path, "rb") as fh:
                notes.append(parse_note(fh.read(), path))
    except OSError as e:
        print(f"verify_log.py: error: {e}", file=sys.stderr)
        return 2
    except Failure as f:
        return report_fail(f)

    try:
        n, k, root, gk = verify(args.entries, notes, args.trust)
    except OSError as e:
        print(f"verify_log.py: error: {e}", file=sys.stderr)
        return 2
    except Failure as f:
        return report_fail(f)

    if args.json:
        print(json.dumps({"ok": True, "entries": n, "checkpoints": k, "root": root, "genesisKey": gk}))
    else:
        print(f"ok: {n} entries, {k} checkpoints, root {root}, genesis key {gk}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
