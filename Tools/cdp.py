#!/usr/bin/env python3
"""A small Chrome DevTools Protocol client for headless Chromium, standard library only.

Starts Debian's `chromium` headless (as root, hence --no-sandbox) with --remote-debugging-port=0,
reads the `DevTools listening on ws://127.0.0.1:...` line from its stderr, speaks WebSocket
(RFC 6455, implemented here over `socket`) to the browser endpoint, opens one page with
Target.createTarget and drives it through a flattened session. Every call has a deadline; the
browser (and every process it started) and a temporary profile are gone on exit, also on
exceptions.

Loopback only: the DevTools socket must be on 127.0.0.1, and Chromium runs with
--host-resolver-rules mapping every host name but 127.0.0.1 and localhost to "not found" (and
background networking, component updates and sync off). Without that, Debian's chromium looks up
update.googleapis.com, clients2.google.com, accounts.google.com, ... on start. A page can still
reach an IP literal; the pages driven here are on 127.0.0.1.

    from cdp import Browser
    with Browser(width=1280, height=1600) as b:
        b.navigate("http://127.0.0.1:8080/")          # waits for the page's load event
        b.wait_for("document.querySelector('#done')")  # polls until truthy
        title = b.evaluate("document.title")           # awaits promises, returns by value
        html = b.dom()                                 # document.documentElement.outerHTML
        b.screenshot("/tmp/page.png")                  # full page PNG
        timing = b.navigation_timing()                 # PerformanceNavigationTiming as a dict

Errors: CDPError (protocol errors, a browser that does not start or goes away, navigation
errors), JSError (the expression threw; a CDPError), CDPTimeout (a CDPError and a TimeoutError).

    python3 Tools/cdp.py [SCREENSHOT.png]

runs a self-test against a page served from a thread on 127.0.0.1 (WebCrypto SHA-256 and the
Ed25519 verification of RFC 8032 test 1), exit 0 when it holds.
"""

import base64
import collections
import hashlib
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse


class CDPError(RuntimeError):
    pass


class CDPTimeout(CDPError, TimeoutError):
    pass


class JSError(CDPError):
    pass


def _mask(data, key):
    """XOR `data` with the 4-byte `key` repeated (RFC 6455 5.3), fast for large payloads."""
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")


class WebSocket:
    """A minimal RFC 6455 client: text/binary messages, fragmentation, ping/pong, close."""

    CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout=10):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "ws" or u.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise CDPError("refusing a non-loopback WebSocket: %s" % url)
        self.buf, self.fragments, self.closed = bytearray(), None, False
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, u.netloc, key)).encode())
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        status, *lines = head.decode("latin-1").split("\r\n")
        if status.split(" ")[1:2] != ["101"]:
            raise CDPError("WebSocket handshake with %s refused: %s" % (url, status))
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise CDPError("WebSocket handshake with %s: bad Sec-WebSocket-Accept" % url)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise CDPTimeout("no data from the browser in time")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise CDPTimeout("no data from the browser in time") from None
        if not data:
            self.closed = True
            raise CDPError("the browser closed the DevTools connection")
        self.buf += data

    def send(self, payload, opcode=TEXT, timeout=10):
        payload = payload.encode() if isinstance(payload, str) else bytes(payload)
        n, head = len(payload), bytearray([0x80 | opcode])  # FIN + opcode; client frames are masked
        if n < 126:
            head.append(0x80 | n)
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = os.urandom(4)
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(bytes(head) + key + _mask(payload, key))
        except socket.timeout:
            raise CDPTimeout("could not send to the browser in time") from None

    def _frame(self):
        """(fin, opcode, payload) of the first complete frame in the buffer, or None."""
        b = self.buf
        if len(b) < 2:
            return None
        n, i = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack_from("!H", b, 2)[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack_from("!Q", b, 2)[0], 10
        key = None
        if b[1] & 0x80:  # servers must not mask, but accept it
            if len(b) < i + 4:
                return None
            key, i = bytes(b[i:i + 4]), i + 4
        if len(b) < i + n:
            return None
        fin, opcode, payload = b[0] & 0x80, b[0] & 0x0F, bytes(b[i:i + n])
        del b[:i + n]
        return fin, opcode, _mask(payload, key) if key else payload

    def recv(self, deadline):
        """The next whole message (str for text, bytes for binary), answering pings meanwhile."""
        while True:
            frame = self._frame()
            if frame is None:
                self._fill(deadline)
                continue
            fin, opcode, payload = frame
            if opcode == self.PING:
                self.send(payload, self.PONG)
            elif opcode == self.PONG:
                pass
            elif opcode == self.CLOSE:
                if not self.closed:
                    self.closed = True
                    try:
                        self.send(payload[:2], self.CLOSE, timeout=1)
                    except OSError:
                        pass
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                raise CDPError("the browser closed the DevTools WebSocket (%d %s)" % (code, payload[2:].decode(errors="replace")))
            elif opcode in (self.TEXT, self.BINARY) and self.fragments is None:
                if fin:
                    return payload.decode() if opcode == self.TEXT else payload
                self.fragments = (opcode, [payload])
            elif opcode == self.CONT and self.fragments is not None:
                self.fragments[1].append(payload)
                if fin:
                    (first, parts), self.fragments = self.fragments, None
                    data = b"".join(parts)
                    return data.decode() if first == self.TEXT else data
            else:
                raise CDPError("WebSocket protocol error: unexpected opcode %#x" % opcode)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.send(struct.pack("!H", 1000), self.CLOSE, timeout=1)
                deadline = time.monotonic() + 1
                while True:  # until the browser's close frame (or EOF, or the deadline): recv raises
                    self.recv(deadline)
            except (OSError, CDPError):
                pass
        self.sock.close()


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol. Use as a context manager."""

    def __init__(self, chromium_path=None, profile_dir=None, width=1280, height=1600, start_timeout=30):
        self.proc = self.ws = self.session = self._stderr_thread = None
        self.events = collections.deque(maxlen=1000)  # events nobody waited for yet (newest kept)
        self.stderr_tail = collections.deque(maxlen=40)
        self._id = 0
        self._own_profile = profile_dir is None
        self.profile_dir = tempfile.mkdtemp(prefix="cdp-profile-") if profile_dir is None else profile_dir
        chromium = chromium_path or shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
        try:
            self.proc = subprocess.Popen(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
                 "--remote-debugging-port=0", "--user-data-dir=" + self.profile_dir, "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so that close() can end every child
                preexec_fn=_die_with_parent)
            self.ws = WebSocket(self._devtools_url(start_timeout))
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for method in ("Page.enable", "Runtime.enable", "Inspector.enable"):
                self.send(method)
            self.send("Page.setLifecycleEventsEnabled", {"enabled": True})
            self.set_viewport(width, height)
        except BaseException:
            self.close()
            raise

    def _devtools_url(self, timeout):
        found, url = threading.Event(), []

        def drain():  # keep reading stderr for the browser's whole life, or it blocks on a full pipe
            for raw in self.proc.stderr:
                line = raw.decode(errors="replace").rstrip()
                self.stderr_tail.append(line)
                m = re.search(r"DevTools listening on (ws://\S+)", line)
                if m and not url:
                    url.append(m.group(1))
                    found.set()
            found.set()

        self._stderr_thread = threading.Thread(target=drain, daemon=True, name="chromium-stderr")
        self._stderr_thread.start()
        if not found.wait(timeout) or not url:
            if not self._stderr_thread.is_alive():  # its stderr is closed: it is exiting
                try:
                    self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
            what = ("exited with status %s before listening for DevTools" % self.proc.returncode if self.proc.poll() is not None
                    else "did not say where DevTools listens within %s s" % timeout)
            tail = "\n  ".join([line for line in self.stderr_tail if line][-10:]) or "(nothing)"
            raise CDPError("chromium %s; its stderr ends:\n  %s" % (what, tail))
        return url[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """End the browser (Browser.close, then SIGTERM, then SIGKILL) and remove a temporary profile."""
        asked = False
        if self.ws is not None:
            try:
                self.send("Browser.close", session=False, timeout=2)
                asked = True
            except (OSError, CDPError):
                pass
            self.ws.close()
            self.ws = None
        if self.proc is not None:
            # After Browser.close give it 5 s to exit by itself; then SIGTERM, 5 s; then SIGKILL.
            for stop in ([None] if asked else []) + [self.proc.terminate, self.proc.kill]:
                if stop:
                    stop()
                try:
                    self.proc.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    pass
            try:  # zygote, renderers, utility processes left in its group
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self._stderr_thread:
                self._stderr_thread.join(timeout=2)
            if not (self._stderr_thread and self._stderr_thread.is_alive()):
                self.proc.stderr.close()
            self.proc = None
        if self._own_profile and self.profile_dir:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
            self.profile_dir = None

    # -- protocol ---------------------------------------------------------------------------------

    def _read(self, deadline):
        msg = json.loads(self.ws.recv(deadline))
        if msg.get("method") == "Inspector.targetCrashed" and msg.get("sessionId") == self.session:
            raise CDPError("the page crashed")
        if msg.get("method") == "Target.detachedFromTarget" and msg.get("params", {}).get("sessionId") == self.session:
            raise CDPError("the page went away (detached from its target)")
        return msg

    def send(self, method, params=None, timeout=30, session=True):
        """Send a command (to the page's session unless session=False) and return its result."""
        if self.ws is None:
            raise CDPError("%s: the browser is closed" % method)
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        deadline = time.monotonic() + timeout
        self.ws.send(json.dumps(msg), timeout=timeout)
        while True:
            try:
                reply = self._read(deadline)
            except CDPTimeout:
                raise CDPTimeout("%s: no reply within %s s" % (method, timeout)) from None
            if "id" not in reply:
                self.events.append(reply)
            elif reply["id"] == msg["id"]:
                if "error" in reply:
                    e = reply["error"]
                    raise CDPError("%s: %s%s" % (method, e.get("message"), " (%s)" % e["data"] if e.get("data") else ""))
                return reply.get("result", {})
            # else: the late reply to an earlier call that timed out; drop it

    def wait_event(self, method, timeout=30, **params):
        """Wait for an event of this page's session whose params include `params`; return its params."""
        def matches(m):
            p = m.get("params", {})
            return (m.get("method") == method and m.get("sessionId") == self.session
                    and all(p.get(k) == v for k, v in params.items()))

        for m in list(self.events):
            if matches(m):
                self.events.remove(m)
                return m["params"]
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = self._read(deadline)
            except CDPTimeout:
                raise CDPTimeout("no %s %s within %s s" % (method, params or "", timeout)) from None
            if "id" in m:
                continue
            if matches(m):
                return m["params"]
            self.events.append(m)

    # -- page -------------------------------------------------------------------------------------

    def navigate(self, url, timeout=30):
        """Load `url` and wait for the page's load event; return Page.navigate's result."""
        deadline = time.monotonic() + timeout
        stage = "no response"
        try:
            r = self.send("Page.navigate", {"url": url}, timeout)  # replies once the response is in
            if r.get("errorText"):
                raise CDPError("navigating to %s: %s" % (url, r["errorText"]))
            stage = "no load event"
            if r.get("loaderId"):  # none for a same-document navigation (#fragment): no load event then
                self.wait_event("Page.lifecycleEvent", deadline - time.monotonic(),
                                frameId=r["frameId"], loaderId=r["loaderId"], name="load")
            return r
        except CDPTimeout:
            try:  # a pending navigation holds back every later command of the session: cancel it
                self.send("Page.stopLoading", timeout=2)
            except CDPError:
                pass
            raise CDPTimeout("navigating to %s: not loaded within %s s (%s)" % (url, timeout, stage)) from None

    def evaluate(self, expression, await_promise=True, timeout=30):
        """The value of a JS expression (awaited if a promise), by value; JSError if it threw."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": await_promise}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            ex = d.get("exception") or {}
            text = ex.get("description") or (json.dumps(ex["value"]) if "value" in ex else d.get("text", "exception"))
            raise JSError("%s\n  (evaluating %s)" % (text, _short(expression)))
        result = r["result"]
        if "unserializableValue" in result:  # NaN, Infinity, -0, 123n
            u = result["unserializableValue"]
            return int(u[:-1]) if u.endswith("n") else float(u)
        return result.get("value")

    def wait_for(self, expression, timeout=10, interval=0.05):
        """Poll until the JS expression (awaited if a promise) is truthy, JS truthiness, and return
        its value by value (a DOM node comes back as {}). An expression that throws counts as not
        yet, except a SyntaxError."""
        deadline = time.monotonic() + timeout
        probe = "(async () => { const v = await (\n%s\n); return [!!v, v]; })()" % expression
        last = None
        while True:
            try:
                ok, value = self.evaluate(probe, timeout=max(0.1, deadline - time.monotonic()))
                if ok:
                    return value
                last = "last value: %r" % (value,)
            except JSError as e:
                if str(e).startswith("SyntaxError"):
                    raise
                last = "last error: %s" % str(e).split("\n")[0]
            except CDPTimeout:
                last = "the last evaluation did not finish"
            if time.monotonic() + interval > deadline:
                raise CDPTimeout("timed out after %s s waiting for %s (%s)" % (timeout, _short(expression), last))
            time.sleep(interval)

    def dom(self):
        """The serialised DOM as the browser built it (document.documentElement.outerHTML)."""
        return self.evaluate("document.documentElement.outerHTML")

    def set_viewport(self, width, height):
        self.send("Emulation.setDeviceMetricsOverride", {"width": int(width), "height": int(height),
                                                         "deviceScaleFactor": 1, "mobile": False})

    def screenshot(self, path, full_page=True, timeout=30):
        """Save a PNG of the viewport, or of the whole document when full_page; return path."""
        params = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": math.ceil(size["width"]),
                                                             "height": math.ceil(size["height"]), "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", params, timeout)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return path

    def navigation_timing(self):
        """performance.getEntriesByType('navigation')[0].toJSON() (times in ms from startTime)."""
        t = self.evaluate("performance.getEntriesByType('navigation')[0]?.toJSON() ?? null")
        if t is None:
            raise CDPError("no navigation timing entry (no page loaded?)")
        return t


def _die_with_parent():
    """In the child before exec: SIGKILL it when the thread that started it ends (Linux
    PR_SET_PDEATHSIG), so that a parent killed without cleanup leaves no browser behind."""
    if _prctl:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


try:
    import ctypes
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (ImportError, OSError, AttributeError):
    _prctl = None


def _short(expression, n=120):
    s = " ".join(expression.split())
    return repr(s if len(s) <= n else s[:n] + "...")


# -- self-test ------------------------------------------------------------------------------------

TEST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdp.py self-test</title>
<style>body{font:16px sans-serif;margin:2em} td,th{border:1px solid #999;padding:4px 8px;font-family:monospace} th{white-space:nowrap;text-align:left} td{word-break:break-all}</style></head>
<body><h1>cdp.py self-test</h1>
<table><tr><th scope="row">secure context</th><td id="secure"></td></tr>
<tr><th scope="row">SHA-256("abc")</th><td id="sha256"></td></tr>
<tr><th scope="row">Ed25519, RFC 8032 test 1</th><td id="ed25519">pending</td></tr>
<tr><th scope="row">Ed25519, flipped signature bit</th><td id="tampered"></td></tr></table>
<script type="module">
const hex = s => Uint8Array.from(s.match(/../g), b => parseInt(b, 16));
const $ = id => document.getElementById(id);
$("secure").textContent = String(window.isSecureContext);
try {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc")));
  $("sha256").textContent = Array.from(d, b => b.toString(16).padStart(2, "0")).join("");
  const key = await crypto.subtle.importKey("raw",
    hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), {name: "Ed25519"}, false, ["verify"]);
  const sig = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  $("ed25519").textContent = await crypto.subtle.verify({name: "Ed25519"}, key, sig, new Uint8Array(0)) ? "valid" : "invalid";
  sig[0] ^= 1;
  $("tampered").textContent = await crypto.subtle.verify({name: "Ed25519"}, key, sig, new Uint8Array(0)) ? "valid" : "invalid";
} catch (e) {
  $("ed25519").textContent = "error: " + e.name + ": " + e.message;
}
document.body.dataset.done = "1";
</script></body></html>
"""


def _live_group_members(pgid, wait=2.0):
    """Processes of group `pgid` that are not zombies (those wait for init to reap them), after
    giving SIGKILLed ones up to `wait` s to die."""
    deadline = time.monotonic() + wait
    while True:
        live = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/stat" % pid) as f:
                    state, _ppid, pgrp = f.read().rsplit(")", 1)[1].split()[:3]
            except OSError:
                continue
            if int(pgrp) == pgid and state != "Z":
                live.append(int(pid))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.05)


def _self_test(screenshot=None):
    import http.server
    import sys

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = TEST_PAGE.encode()
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d/" % server.server_address[1]
    shots = None if screenshot else tempfile.mkdtemp(prefix="cdp-selftest-")
    path = screenshot or os.path.join(shots, "selftest.png")
    failures = []

    def check(ok, what):
        print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        ok or failures.append(what)

    try:
        t0 = time.monotonic()
        with Browser(width=800, height=600) as b:
            pid, profile = b.proc.pid, b.profile_dir
            print("chromium %s started in %.2f s" % (b.send("Browser.getVersion", session=False)["product"], time.monotonic() - t0))
            t1 = time.monotonic()
            b.navigate(base)
            print("navigate() returned after %.3f s" % (time.monotonic() - t1))
            b.wait_for("document.body.dataset.done")
            got = {k: b.evaluate("document.getElementById(%r).textContent" % k) for k in ("secure", "sha256", "ed25519", "tampered")}
            print("page says: %s" % got)
            check(got["secure"] == "true", "http://127.0.0.1 is a secure context")
            check(got["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "WebCrypto SHA-256")
            check(got["ed25519"] == "valid", "WebCrypto Ed25519 verifies RFC 8032 test 1")
            check(got["tampered"] == "invalid", "WebCrypto Ed25519 rejects a flipped signature bit")
            check('<td id="ed25519">valid</td>' in b.dom(), "dom() holds the result")
            check(b.evaluate("Promise.resolve(6 * 7)") == 42, "evaluate() awaits promises")
            check(b.evaluate("({a: [1, 'x', null]})") == {"a": [1, "x", None]}, "evaluate() returns objects by value")
            try:
                b.evaluate("null.x")
                check(False, "evaluate() raises when the expression throws")
            except JSError as e:
                check("TypeError" in str(e), "evaluate() raises when the expression throws (%s)" % str(e).split("\n")[0])
            try:
                b.wait_for("document.querySelector('#nothing')", timeout=0.3)
                check(False, "wait_for() times out")
            except CDPTimeout as e:
                check("#nothing" in str(e), "wait_for() times out naming the expression")
            b.screenshot(path)
            with open(path, "rb") as f:
                head = f.read(24)
            w, h = struct.unpack("!II", head[16:24])
            check(head[:8] == b"\x89PNG\r\n\x1a\n" and w >= 800 and h >= 600, "screenshot %s is a %dx%d PNG" % (path, w, h))
            timing = b.navigation_timing()
            check(timing.get("responseStatus", 200) == 200 and timing["loadEventEnd"] > 0, "navigation_timing()")
            print("navigation timing (ms): " + ", ".join("%s %.1f" % (k, timing[k]) for k in (
                "domainLookupEnd", "connectEnd", "responseStart", "responseEnd", "domInteractive",
                "domContentLoadedEventEnd", "loadEventEnd", "duration")))
            try:
                with socket.socket() as s:  # a loopback port with nobody listening
                    s.bind(("127.0.0.1", 0))
                    b.navigate("http://127.0.0.1:%d/" % s.getsockname()[1], timeout=10)
                check(False, "navigate() raises on a refused connection")
            except CDPError as e:
                check("ERR_CONNECTION_REFUSED" in str(e), "navigate() raises on a refused connection (%s)" % e)
        left = _live_group_members(pid)
        check(not left, "no chromium process left in its process group" + (" (%s)" % left if left else ""))
        check(not os.path.exists(profile), "the temporary profile is removed")
    finally:
        server.shutdown()
        if shots:
            shutil.rmtree(shots, ignore_errors=True)
    print("cdp.py self-test: %s" % ("%d failures" % len(failures) if failures else "every check held"))
    return 1 if failures else 0


if __name__ == "__main__":
    import sys
    sys.exit(_self_test(sys.argv[1] if len(sys.argv) > 1 else None))
