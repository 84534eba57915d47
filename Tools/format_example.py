#!/usr/bin/env python3
"""Builds the worked example of docs/FORMAT.md independently of the Swift code.

It uses only hashlib, base64, json and the `cryptography` package (Ed25519), following
docs/FORMAT.md. `swift test` checks that the Swift verifier accepts what this prints
(Tests/LedgerCoreTests/FormatDocumentTests.swift reads the example out of FORMAT.md).

    python3 Tools/format_example.py > /tmp/example.md
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

ORIGIN = "demo.incidentledger.example/format"
PAYLOAD_TYPE = "application/vnd.incidentledger.event+json"


def key(byte):
    sk = Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32)
    pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sk, pk


def b64(b):
    return base64.b64encode(b).decode()


def keyid(pk):
    return hashlib.sha256(pk).hexdigest()


def compact(value, sort):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort)


def payload(i, type_, subject, expects, body):
    head = {
        "ledger": ORIGIN,
        "id": "019b76da-a800-7000-8000-%012x" % i,
        "type": type_,
        "subject": subject,
        "expects": expects,
        "signedAt": "2026-01-01T00:00:0%d.000Z" % i,
    }
    text = compact(head, False)[:-1] + ',"body":' + compact(body, True) + "}"
    return text.encode("utf-8")


def pae(type_, body):
    t = type_.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def entry(i, sk, pk, data):
    sig = sk.sign(pae(PAYLOAD_TYPE, data))
    return (
        '{"index":%d,"recordedAt":"2026-01-01T00:00:%02d.000000Z","envelope":{"payloadType":"%s","payload":"%s",'
        '"signatures":[{"keyid":"%s","sig":"%s"}]}}' % (i, 10 + i, PAYLOAD_TYPE, b64(data), keyid(pk), b64(sig))
    ).encode()


def leaf(b):
    return hashlib.sha256(b"\x00" + b).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def root(leaves):
    if len(leaves) == 0:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(root(leaves[:k]), root(leaves[k:]))


admin_sk, admin_pk = key(0x11)
arch_sk, arch_pk = key(0x22)
log_sk, log_pk = key(0x44)


def descriptor(pk, name, roles):
    return {"name": name, "publicKey": b64(pk), "roles": roles}


payloads = [
    (admin_sk, admin_pk, payload(0, "ledger.genesis", keyid(admin_pk), 0, {"admin": descriptor(admin_pk, "Demo admin (not for real use)", ["admin"])})),
    (admin_sk, admin_pk, payload(1, "key.enrolled", keyid(arch_pk), 0, descriptor(arch_pk, "Demo archivist", ["archivist"]))),
    (admin_sk, admin_pk, payload(2, "key.enrolled", keyid(log_pk), 0, descriptor(log_pk, "Demo log key", ["log"]))),
    (arch_sk, arch_pk, payload(3, "incident.reported", "incident:2016-07-m2", 0,
                               {"title": {"ar": "قصف مستشفى", "en": "Strike on a hospital"}, "occurred": "2016-07",
                                "place": {"admin1": "Aleppo", "town": "Aleppo"}})),
]
lines = [entry(i, sk, pk, p) for i, (sk, pk, p) in enumerate(payloads)]
leaves = [leaf(l) for l in lines]
r = root(leaves)
checkpoint_text = ("%s\n%d\n%s\n" % (ORIGIN, len(lines), b64(r))).encode()
name = ORIGIN.encode()
keyhash = hashlib.sha256(name + b"\n" + b"\x01" + log_pk).digest()[:4]
note = checkpoint_text + b"\n" + "\u2014 ".encode() + name + b" " + b64(keyhash + log_sk.sign(checkpoint_text)).encode() + b"\n"

print("Keys (demo seeds: 32 bytes of 0x11, 0x22 and 0x44; never use them for real):")
print()
for label, pk in (("admin", admin_pk), ("archivist", arch_pk), ("log", log_pk)):
    print("- %s public key `%s`, key id `%s`" % (label, b64(pk), keyid(pk)))
print()
print("Payload of entry 3 (the exact signed bytes, UTF-8):")
print()
print("```json")
print(payloads[3][2].decode())
print("```")
print()
print("PAE of that payload starts with `%s`." % pae(PAYLOAD_TYPE, payloads[3][2])[:60].decode())
print()
print("The four entry lines (the file `entries.jsonl` would hold exactly these lines, each followed by a newline):")
print()
print("```jsonl example-entries")
for l in lines:
    print(l.decode())
print("```")
print()
print("Leaf hashes: ")
print()
for i, h in enumerate(leaves):
    print("- leaf %d: `%s`" % (i, h.hex()))
print("- node(0,1) = SHA-256(0x01 ‖ leaf 0 ‖ leaf 1): `%s`" % node(leaves[0], leaves[1]).hex())
print("- node(2,3): `%s`" % node(leaves[2], leaves[3]).hex())
print("- root of tree size 4: `%s` (base64 `%s`)" % (r.hex(), b64(r)))
print("- root of tree size 3: `%s`" % root(leaves[:3]).hex())
print()
print("Checkpoint at size 4, signed by the log key (key hash `%s`):" % keyhash.hex())
print()
print("```text example-checkpoint")
print(note.decode(), end="")
print("```")
