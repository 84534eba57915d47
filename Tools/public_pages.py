#!/usr/bin/env python3
"""Every page of the campaign archive is public (issue 13): none shows a sensitive field.

The bundled campaign archive records no coordinates and no deconfliction record (its source text
supports none), so a crawl of it alone could not fail. This script imports it, then appends with
its DEMO archivist key what the pages must never show: a deconfliction record and an exact
location for Kafr Nabl Surgical Hospital, and exact coordinates for the incident that hit it;
signs a checkpoint with the DEMO log key (so the incident's proof covers the new entry); starts
`ledger serve` on loopback; and follows every link of the web pages from /incidents, /facilities,
/actors, /sources, /aggregates, /charts and /log (pages only, at most 3,000), now, and as of every
moment a page as it stands now links to (each incident after each of its entries). No page, and no entry line an incident page carries for the
browser's check (its payload decoded from base64), may hold a sensitive value; every page must
answer 200; the crawl must reach every incident, its history, and the facility changed. The
server is stopped at the end, also on failure.

    python3 Tools/public_pages.py [--ledger-bin PATH]

Exit 0 when every page holds, 1 otherwise, 2 when the setup failed.
"""

import argparse
import base64
import collections
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ed25519_points import ED_B, ed_encode, ed_mul  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENESIS = "9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"
FACILITY = "facility:kafr-nabl-surgical-hospital"
INCIDENT = "incident:2019-05-05-kafr-nabl-surgical"
# Values no public page may show, each distinctive enough that finding it anywhere is a leak.
SECRETS = ["35.4172613", "36.5637381", "35.4283946", "36.5741852", "35.4391537", "36.5829463",
           "DCX-CAMPAIGN-7", "deconfliction note never public"]
LIMIT = 3000


def demo_key(label, name, path):
    """Writes the unencrypted key file (docs/KEYS.md) of the DEMO key whose seed is SHA-256(label)."""
    seed = hashlib.sha256(label.encode()).digest()
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    public = ed_encode(ed_mul(a, ED_B))
    key = {"format": "incidentledger-key/1", "name": name, "keyid": hashlib.sha256(public).hexdigest(),
           "publicKey": base64.b64encode(public).decode(), "encryption": "none", "seed": base64.b64encode(seed).decode()}
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        json.dump(key, f)


def revisions():
    """Events per subject in the bundle (an event's `expects`)."""
    count = collections.Counter()
    with open(os.path.join(REPO, "Ledger/bundle/data/entries.jsonl")) as f:
        for line in f:
            payload = json.loads(base64.b64decode(json.loads(line)["envelope"]["payload"]))
            count[payload["subject"]] += 1
    return count


def coordinates(lat, lon):
    return {"lat": float(lat), "lon": float(lon), "precision": "exact"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build/release/ledger"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ledger-public-")
    ledger = os.path.join(work, "campaign.ledger")
    run = lambda *a: subprocess.run([args.ledger_bin, *a], check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    run("import", os.path.join(REPO, "Ledger/bundle"), "--ledger", ledger, "--trust", GENESIS)
    archivist, log = os.path.join(work, "archivist.key"), os.path.join(work, "log.key")
    demo_key("IncidentLedger DEMO archivist key (never for real use)", "DEMO archivist", archivist)
    demo_key("IncidentLedger DEMO log key (never for real use)", "DEMO log key", log)
    # The exact coordinates and the deconfliction note are sealed fields (docs/EVENTS.md §9):
    # `ledger append --key` seals them, for a reader enrolled first.
    admin, reader = os.path.join(work, "admin.key"), os.path.join(work, "reader.key")
    demo_key("IncidentLedger DEMO admin key (never for real use)", "DEMO admin", admin)
    demo_key("IncidentLedger DEMO reader key (never for real use)", "DEMO reader", reader)
    run("reader", "enroll", "--ledger", ledger, "--key", admin, "--public-key-file", reader, "reader:demo-keeper")
    n = revisions()
    place = {"admin1": "Idlib", "town": "Kafr Nabl", "coordinates": coordinates(SECRETS[4], SECRETS[5])}
    events = [
        {"type": "facility.deconfliction-recorded", "subject": FACILITY, "expects": n[FACILITY],
         "body": {"sharedWith": "UN deconfliction cell " + SECRETS[6], "sharedOn": "2019-04",
                  "coordinates": coordinates(SECRETS[0], SECRETS[1]), "note": SECRETS[7]}},
        {"type": "facility.corrected", "subject": FACILITY, "expects": n[FACILITY] + 1,
         "body": {"changes": {"location": {"admin1": "Idlib", "town": "Kafr Nabl", "coordinates": coordinates(SECRETS[2], SECRETS[3])}}, "reason": "an exact position (test of the public pages)"}},
        {"type": "incident.corrected", "subject": INCIDENT, "expects": n[INCIDENT],
         "body": {"changes": {"place": place}, "reason": "an exact position (test of the public pages)"}},
    ]
    failures = []
    for e in events:
        path = os.path.join(work, "event.json")
        with open(path, "w") as f:
            json.dump(e, f)
        r = subprocess.run([args.ledger_bin, "append", "--ledger", ledger, "--key", archivist, path], capture_output=True, text=True)
        if r.returncode != 0:
            print("public_pages.py: cannot append %s: %s" % (e["type"], r.stderr.strip()), file=sys.stderr)
            return 2
    run("checkpoint", "--ledger", ledger, "--key", log)
    server = subprocess.Popen([args.ledger_bin, "serve", "--ledger", ledger, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    seen = set()
    try:
        line = server.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            print("public_pages.py: the server did not start: %r" % line, file=sys.stderr)
            return 2
        base = line[len("listening on "):]
        # The values are in the archive (the API serves entity states whole, as `ledger show`
        # does: the restricted deconfliction cell in the clear, the sealed coordinates as their
        # commitments): so their absence from the pages is the pages' doing.
        for api, secret in [("/v1/entities/" + FACILITY, SECRETS[6]), ("/v1/entities/" + INCIDENT, '"sealed"')]:
            with urllib.request.urlopen(base + api, timeout=30) as r:
                if secret not in r.read().decode("utf-8"):
                    failures.append("%s does not hold %r: the appended values are not in the archive" % (api, secret))
        with urllib.request.urlopen(base + "/v1/log", timeout=30) as r:
            size = json.loads(r.read())["treeSize"]
        # Also the changed facility and incident, and the lists, as of each of the appended entries.
        moments = ["%s?atSize=%d" % (p, size - k) for k in range(3) for p in
                   ["/facilities/kafr-nabl-surgical-hospital", "/incidents/2019-05-05-kafr-nabl-surgical", "/incidents", "/charts"]]
        queue = collections.deque(["/incidents", "/facilities", "/actors", "/sources", "/aggregates", "/charts", "/log"] + moments)
        started = time.monotonic()
        while queue and len(seen) < LIMIT and time.monotonic() - started < 600:
            path = queue.popleft()
            if path in seen:
                continue
            seen.add(path)
            try:
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    page = r.read().decode("utf-8")
            except urllib.error.HTTPError as e:
                failures.append("%s: %d" % (path, e.code))
                continue
            texts = [page]
            m = re.search(r'<script type="application/json" id="ledger-proof">(.*?)</script>', page, re.S)
            if m:
                for entry in json.loads(m.group(1))["entries"]:
                    if "line" in entry:
                        texts.append(base64.b64decode(json.loads(entry["line"])["envelope"]["payload"]).decode("utf-8"))
            for text in texts:
                for secret in SECRETS:
                    if secret in text:
                        failures.append("%s shows %r" % (path, secret))
            for href in re.findall(r'href="([^"]+)"', page):
                href = html.unescape(href)
                # A page as of a moment is visited from a page as it stands now (the history's
                # links to each moment, the date form's moments); its own links to other
                # moments are not followed further, or the crawl would visit every entity at
                # every moment.
                if "atSize=" in href and "atSize=" in path:
                    continue
                if href.startswith("/") and not href.startswith(("/v1/", "/tlog/", "/static/", "/openapi")) and href not in seen:
                    queue.append(href)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    incidents = {p for p in seen if re.fullmatch(r"/incidents/[^/?]+", p)}
    kinds = collections.Counter(p.split("/")[1].split("?")[0] + ("/history" if p.endswith("/history") else "") +
                                (" as of a moment" if "atSize=" in p or "asOf=" in p else "") for p in seen)
    print("public_pages.py: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    for must in ["/incidents/2019-05-05-kafr-nabl-surgical", "/incidents/2019-05-05-kafr-nabl-surgical/history",
                 "/facilities/kafr-nabl-surgical-hospital", "/actors/ru-forces", "/charts"]:
        if must not in seen:
            failures.append("the crawl did not reach %s" % must)
    if len(incidents) != 25:
        failures.append("the crawl reached %d incident pages, not 25" % len(incidents))
    if len(seen) >= LIMIT:
        failures.append("the crawl stopped at %d pages" % LIMIT)
    for f in failures[:50]:
        print("FAIL: " + f)
    print("public_pages.py: %d pages (%d incidents, with their histories and every moment linked) with a deconfliction record and exact "
          "coordinates in the archive: %s" % (len(seen), len(incidents), "%d failures" % len(failures) if failures else "none shown"))
    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work folder kept: %s" % work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
