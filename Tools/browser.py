#!/usr/bin/env python3
"""The web archive in a real browser (issue 13): headless Chromium (Debian's `chromium`, installed
by Tools/setup.sh) against `ledger serve` on loopback over the bundled campaign archive.

Loads each kind of page, checks the DOM Chromium built for the expected content (the four
hospitals bombed on 5-6 May 2019, their attribution now and as of 1 June 2019, before the
investigation that tied them to Russian pilots), basic accessibility (the page's language,
headings in order, table headers with scope), and saves a screenshot of each page. The server
is stopped at the end, also on failure.

    python3 Tools/browser.py [--ledger-bin PATH] [--screenshots DIR] [--keep]

`--screenshots docs/screenshots` refreshes the pictures the README shows. Exit 0 when every
check holds, 1 otherwise, 2 when the setup failed.
"""

import argparse
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENESIS = "9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"
MAY_2019 = {
    "2019-05-05-kafr-nabl-surgical": "Kafr Nabl Surgical Hospital",
    "2019-05-05-nabad-al-hayat": "Nabad al Hayat",
    "2019-05-05-kafr-zita-cave": "Kafr Zita Cave Hospital",
    "2019-05-05-al-amal-orthopedic": "Al Amal Orthopedic Hospital",
}


class Outline(html.parser.HTMLParser):
    """Headings in document order, the <html lang>, and <th> elements without scope."""

    def __init__(self):
        super().__init__()
        self.headings, self.lang, self.th_without_scope = [], None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "th" and "scope" not in a:
            self.th_without_scope += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build/release/ledger"))
    ap.add_argument("--screenshots", default=None, help="folder for the screenshots (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("browser.py: no chromium (run Tools/setup.sh)", file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="ledger-browser-")
    shots = os.path.abspath(args.screenshots or os.path.join(work, "screenshots"))
    os.makedirs(shots, exist_ok=True)
    ledger = os.path.join(work, "campaign.ledger")
    subprocess.run([args.ledger_bin, "import", os.path.join(REPO, "Ledger/bundle"), "--ledger", ledger, "--trust", GENESIS],
                   check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([args.ledger_bin, "serve", "--ledger", ledger, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    failures = []
    try:
        line = server.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            print("browser.py: the server did not start: %r" % line, file=sys.stderr)
            return 2
        base = line[len("listening on "):]
        profile = os.path.join(work, "profile")

        def chrome(*extra):
            argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                    "--user-data-dir=" + profile, *extra]
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)

        def page(path, expect=(), absent=(), shot=None, height=1600):
            t0 = time.monotonic()
            dom = chrome("--dump-dom", base + path).stdout.decode("utf-8", errors="replace")
            took = time.monotonic() - t0
            for text in expect:
                if text not in dom:
                    failures.append("%s: expected %r in the page" % (path, text))
            for text in absent:
                if text in dom:
                    failures.append("%s: %r must not be in the page" % (path, text))
            outline = Outline()
            outline.feed(dom)
            if outline.lang != "en":
                failures.append("%s: <html lang> is %r" % (path, outline.lang))
            if not outline.headings or outline.headings[0] != 1:
                failures.append("%s: the first heading is not an h1 (%s)" % (path, outline.headings[:3]))
            for a, b in zip(outline.headings, outline.headings[1:]):
                if b > a + 1:
                    failures.append("%s: heading h%d follows h%d" % (path, b, a))
                    break
            if outline.th_without_scope:
                failures.append("%s: %d table headers without scope" % (path, outline.th_without_scope))
            if shot:
                chrome("--window-size=1280,%d" % height, "--screenshot=" + os.path.join(shots, shot), base + path)
            print("browser.py: %-62s %6d bytes of DOM, %.2f s with Chromium's start" % (path, len(dom), took), flush=True)
            return dom

        page("/incidents", expect=["25 incidents"] + list(MAY_2019.values()), shot="incidents.png", height=1900)
        page("/incidents?place=Idlib&sort=title", expect=list(MAY_2019.values()), absent=["Dar al-Shifa"])
        for name, hospital in MAY_2019.items():
            page("/incidents/" + name, expect=[hospital, "Russian armed forces", "confirmed", "verified"],
                 absent=["Shown as the archive held it"], shot="incident.png" if "kafr-nabl" in name else None)
            page("/incidents/%s?asOf=2019-06-01" % name,
                 expect=["Shown as the archive held it at <strong>2019-06-01T00:00:00.000000Z</strong>",
                         "either Russian armed forces or Syrian government forces"],
                 absent=["confirmed"], shot="incident-as-of-2019-06-01.png" if "kafr-nabl" in name else None)
        page("/incidents/2019-05-05-kafr-nabl-surgical/history", expect=["attribution.assessed", "Entry", "Reason:"], shot="history.png",
             height=2400)
        page("/facilities/kafr-nabl-surgical-hospital", expect=["Kafr Nabl Surgical Hospital", "Attacks on this facility", "Bombing of Kafr Nabl"],
             shot="facility.png", height=1000)
        page("/log", expect=[GENESIS, "How to audit", "ledger audit bundle/ --trust " + GENESIS], shot="log.png", height=1200)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            failures.append("the server did not stop on SIGTERM within 30 s")
        else:
            if server.returncode != 0:
                failures.append("the server exited %d on SIGTERM" % server.returncode)
    for f in failures:
        print("FAIL: " + f)
    print("browser.py: %s; screenshots in %s" % ("%d failures" % len(failures) if failures else "every check held", shots))
    if not args.keep and not failures and args.screenshots:
        shutil.rmtree(work, ignore_errors=True)
    elif failures or args.keep:
        print("work folder kept: %s" % work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
