#!/usr/bin/env python3
"""The web archive in a real browser (issue 13): headless Chromium (Debian's `chromium`, installed
by Tools/setup.sh, driven through Tools/cdp.py) against `ledger serve` on loopback over the
bundled campaign archive (whose latest checkpoint covers every entry).

Loads each kind of page and checks the DOM Chromium built: the four hospitals bombed on 5-6 May
2019, their attribution now and as of 1 June 2019 (before the investigation that tied them to
Russian pilots); actor, source and count pages; the charts; the log. On every page: the language,
headings in order, table headers with scope, a text alternative for every chart. On every
incident page the page's own script must report its entries verified against the checkpoint;
then the page is served through a proxy on loopback that changes it eight ways (one byte of an
inclusion proof, one byte of a signed line, an entry left out, entries called newer than the
checkpoint, an older checkpoint, another key shown, another record time shown, a row added) and
the script must report each, naming the entry where there is one. Saves a screenshot of each kind of page, and prints the figures of
the issue: the incidents table's load time inside Chromium and the in-browser verification time.
The server and the proxy are stopped at the end, also on failure.

    python3 Tools/browser.py [--ledger-bin PATH] [--screenshots DIR] [--keep] [--rounds N]

`--screenshots docs/screenshots` refreshes the pictures the README shows. Exit 0 when every
check holds, 1 otherwise, 2 when the setup failed. Times are reported, never checked: they are
figures for docs/BENCHMARKS.md, not a timed test.
"""

import argparse
import html.parser
import http.server
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Browser, CDPError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENESIS = "9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"
MAY_2019 = {
    "2019-05-05-kafr-nabl-surgical": "Kafr Nabl Surgical Hospital",
    "2019-05-05-nabad-al-hayat": "Nabad al Hayat",
    "2019-05-05-kafr-zita-cave": "Kafr Zita Cave Hospital",
    "2019-05-05-al-amal-orthopedic": "Al Amal Orthopedic Hospital",
}
VERDICT = "document.getElementById('verify-status') && ['verified','partial','failed','unavailable'].includes(document.getElementById('verify-status').dataset.state)"


class Outline(html.parser.HTMLParser):
    """Headings in document order, the <html lang>, <th> elements without scope, <svg> without a title."""

    def __init__(self):
        super().__init__()
        self.headings, self.lang, self.th_without_scope, self.svgs, self.svg_titles = [], None, 0, 0, 0
        self._in_svg = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        elif tag == "svg":
            self.svgs += 1
            # role "group" for a map whose points are links (an image's content is hidden from
            # assistive technology, its links with it).
            if a.get("role") in ("img", "group") and a.get("aria-labelledby"):
                self.svg_titles += 1


class Tamper(http.server.ThreadingHTTPServer):
    """A proxy on loopback in front of the ledger server that changes one byte of what an incident
    page carries: `proof` flips a character of the first hash of the first inclusion path, `line`
    one character of the first signed payload."""

    daemon_threads = True

    def __init__(self, upstream):
        self.upstream, self.mode = upstream, "proof"
        super().__init__(("127.0.0.1", 0), TamperHandler)


class TamperHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with urllib.request.urlopen(self.server.upstream + self.path, timeout=30) as r:
                status, kind, body = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            status, kind, body = e.code, e.headers.get("Content-Type", ""), e.read()
        if self.path.startswith("/incidents/") and kind.startswith("text/html"):
            body = self.tamper(body.decode("utf-8")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def tamper(self, page):
        if self.server.mode == "vkey":
            # The key the page shows is not the key in the proof data (a forged log would show the
            # archive's real key and check its own).
            return re.sub(r'(<code class="vkey">[^+<]*\+)[0-9a-f]{8}', r"\g<1>00000000", page, count=1)
        if self.server.mode == "recorded":
            return page.replace("<td>2019-05-08T09:01:00.000000Z</td>", "<td>2019-05-04T09:01:00.000000Z</td>", 1)
        if self.server.mode == "extra-row":
            return page.replace("</tbody>\n</table>\n<p>The log's checkpoint key",
                                '<tr><td>160</td><td>attribution.assessed</td><td>x</td><td>x</td><td><code class="hash">x</code></td>'
                                '<td class="check ok">signature and inclusion verified</td></tr></tbody>\n</table>\n<p>The log\'s checkpoint key', 1)
        if self.server.mode in ("drop", "pending", "stale"):
            m = re.search(r'(<script type="application/json" id="ledger-proof">)(.*?)(</script>)', page, re.S)
            data = json.loads(m.group(2))
            if self.server.mode == "drop":
                data["entries"].pop()
            else:
                if self.server.mode == "stale":
                    # An older genuine checkpoint (96, signed by the real log key), from the
                    # consistency proof file: [head, text 1, signatures 1, text 2, signatures 2].
                    with urllib.request.urlopen(self.server.upstream + "/v1/proofs/consistency?from=96", timeout=30) as r:
                        blocks = r.read().decode().split("\n\n")
                    data["checkpoint"] = blocks[1] + "\n\n" + blocks[2] + "\n"
                for e in data["entries"]:
                    e["pending"] = True
                    e.pop("path", None)
            return page[:m.start(2)] + json.dumps(data).replace("<", "\\u003c") + page[m.end(2):]
        if self.server.mode == "proof":
            m = re.search(r'"path":\["([A-Za-z0-9+/])', page)
        else:
            m = re.search(r'\\"payload\\":\\"eyJ([A-Za-z0-9+/])', page)
        if not m:
            return page
        i = m.start(1)
        replacement = "A" if page[i] != "A" else "B"
        return page[:i] + replacement + page[i + 1:]

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger-bin", default=os.path.join(REPO, ".build/release/ledger"))
    ap.add_argument("--screenshots", default=None, help="folder for the screenshots (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--rounds", type=int, default=5, help="loads of the incidents table and of each incident page for the figures")
    args = ap.parse_args()
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
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
    failures, proxy = [], None
    figures = {"table": [], "verify": []}
    try:
        line = server.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            print("browser.py: the server did not start: %r" % line, file=sys.stderr)
            return 2
        base = line[len("listening on "):]
        proxy = Tamper(base)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        tampered_base = "http://127.0.0.1:%d" % proxy.server_address[1]
        with Browser(width=1280, height=900) as b:
            def page(path, expect=(), absent=(), shot=None, at=None):
                b.navigate((at or base) + path)
                dom = b.dom()
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
                for x, y in zip(outline.headings, outline.headings[1:]):
                    if y > x + 1:
                        failures.append("%s: heading h%d follows h%d" % (path, y, x))
                        break
                if outline.th_without_scope:
                    failures.append("%s: %d table headers without scope" % (path, outline.th_without_scope))
                if outline.svgs != outline.svg_titles:
                    failures.append("%s: %d of %d charts without a title and description" % (path, outline.svgs - outline.svg_titles, outline.svgs))
                if shot:
                    b.screenshot(os.path.join(shots, shot), full_page=False)
                print("browser.py: %-58s %7d bytes of DOM" % (path, len(dom)), flush=True)
                return dom

            def verdict(path, at=None):
                """The page's own verification: (state, text, milliseconds)."""
                if at:
                    b.navigate(at + path)
                b.wait_for(VERDICT, timeout=20)
                return b.evaluate("(() => { const s = document.getElementById('verify-status');"
                                  " return [s.dataset.state, s.textContent, Number(s.dataset.ms)]; })()")

            page("/incidents", expect=["25 incidents"] + list(MAY_2019.values()), shot="incidents.png")
            page("/incidents?place=Idlib&sort=title", expect=list(MAY_2019.values()), absent=["Dar al-Shifa"])
            for name, hospital in MAY_2019.items():
                page("/incidents/" + name, expect=[hospital, "Russian armed forces", "confirmed", "verified", "Proof of these entries"],
                     absent=["Shown as the archive held it"])
                state, text, ms = verdict("/incidents/" + name)
                if state != "verified" or "Verified in this browser against checkpoint" not in text:
                    failures.append("/incidents/%s: the page's verification said %s: %s" % (name, state, text))
                elif "kafr-nabl" in name:
                    b.screenshot(os.path.join(shots, "incident.png"), full_page=False)
                    b.evaluate("document.getElementById('verify-status').scrollIntoView({block: 'center'})")
                    b.screenshot(os.path.join(shots, "incident-verified.png"), full_page=False)
                page("/incidents/%s?asOf=2019-06-01" % name,
                     expect=["Shown as the archive held it at <strong>2019-06-01T00:00:00.000000Z</strong>",
                             "either Russian armed forces or Syrian government forces"],
                     absent=["confirmed"], shot="incident-as-of-2019-06-01.png" if "kafr-nabl" in name else None)
                state, text, _ = verdict("/incidents/%s?asOf=2019-06-01" % name)
                if state != "verified":
                    failures.append("/incidents/%s?asOf=2019-06-01: the page's verification said %s: %s" % (name, state, text))

            # One byte of a served proof, then of a signed line, changed on the way: the page must say so.
            kafr_nabl = "/incidents/2019-05-05-kafr-nabl-surgical"
            for mode, want, expected, bad_rows in [
                    ("proof", "failed", "Verification FAILED: entry 101: its inclusion proof does not lead to the checkpoint's root", 1),
                    ("line", "failed", "Verification FAILED: entry 101: its signature does not verify", 1),
                    # Lies that change no byte of a proof: one entry left out of the proof data; every entry
                    # said to be newer than the checkpoint; an older genuine checkpoint that covers none.
                    ("drop", "failed", "the page shows 10 entries but carries proofs for 9", 0),
                    ("pending", "failed", "said to be after the checkpoint, but is not", 1),
                    ("stale", "partial", "Partly verified in this browser against checkpoint 96", 0),
                    # The page around the data: the key it shows, a cell the line holds, a row the data lacks.
                    ("vkey", "failed", "the log key the page shows is not the key checked", 0),
                    ("recorded", "failed", "entry 101: the page shows another record time", 1),
                    ("extra-row", "failed", "the page shows 11 entries but carries proofs for 10", 0)]:
                proxy.mode = mode
                state, text, _ = verdict(kafr_nabl, at=tampered_base)
                if state != want or expected not in text:
                    failures.append("tampered (%s): the page said %s: %r (expected %s: %r)" % (mode, state, text, want, expected))
                else:
                    print("browser.py: served page changed (%s): %s" % (mode, text), flush=True)
                    if mode == "proof":
                        b.evaluate("document.getElementById('verify-status').scrollIntoView({block: 'center'})")
                        b.screenshot(os.path.join(shots, "incident-tampered.png"), full_page=False)
                bad = b.evaluate("document.querySelectorAll('td.check.bad').length")
                if bad != bad_rows:
                    failures.append("tampered (%s): %s entries marked as failed, not %d" % (mode, bad, bad_rows))
                if mode == "stale" and "0 of 10 entries are in the log" not in text:
                    failures.append("tampered (stale): %r does not say that none is proven" % text)

            page(kafr_nabl + "/history", expect=["attribution.assessed", "Entry", "Reason:"], shot="history.png")
            page("/facilities", expect=["Kafr Nabl Surgical Hospital"])
            page("/facilities/kafr-nabl-surgical-hospital", expect=["Kafr Nabl Surgical Hospital", "Attacks on this facility", "Bombing of Kafr Nabl"],
                 shot="facility.png")
            page("/actors", expect=["Russian armed forces", "Syrian government forces"])
            page("/actors/ru-forces", expect=["Russian armed forces", "Incidents the archive attributes to it"] + list(MAY_2019.values()),
                 shot="actor.png")
            page("/sources", expect=["Amnesty International"])
            page("/sources/amnesty-2020-05", expect=["Amnesty International", "Counts it gives"])
            page("/aggregates", expect=["Counts by monitoring groups", "a count is never split into incidents"], shot="aggregates.png")
            page("/aggregates/amnesty-2020-05-attacks", expect=["not an incident", "Incidents known to be among those counted"])
            page("/charts", expect=["Incidents per month by assessed perpetrator", "Russian armed forces</bdi> (", "May 2019",
                                    "Map of incidents at public precision"], shot="charts.png")
            page("/charts?asOf=2019-06-01", expect=["either Russian armed forces or Syrian government forces</bdi> ("])
            page("/log", expect=[GENESIS, "How to audit", "ledger audit bundle/ --trust " + GENESIS, "Log keys"], shot="log.png")

            # The figures: the incidents table's load inside Chromium, and the in-browser verification.
            for _ in range(args.rounds):
                b.navigate(base + "/incidents")
                t = b.navigation_timing()
                figures["table"].append(t["loadEventEnd"])
                for name in MAY_2019:
                    figures["verify"].append(verdict("/incidents/" + name, at=base)[2])
    except CDPError as e:
        failures.append("the browser failed: %s" % e)
    finally:
        if proxy:
            proxy.shutdown()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            failures.append("the server did not stop on SIGTERM within 30 s")
        else:
            if server.returncode != 0:
                failures.append("the server exited %d on SIGTERM" % server.returncode)
    for name, values in [("incidents table, navigation start to load event end", figures["table"]),
                         ("in-browser verification of an incident page (10 entries)", figures["verify"])]:
        if values:
            print("browser.py: %s: median %.1f ms, max %.1f ms over %d loads" % (name, statistics.median(values), max(values), len(values)))
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
