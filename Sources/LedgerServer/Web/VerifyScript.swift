/// The script an incident page runs in the reader's browser (`/static/verify.js`; docs/SERVER.md,
/// "Checked in the reader's browser"). It trusts nothing the server computed: from the page's
/// `ledger-proof` data it checks the checkpoint's Ed25519 signature with a log key (whose key hash
/// it recomputes), hashes every entry line it is given into its leaf hash, checks that line's
/// index, subject and DSSE signature (with the signer key, whose id is its SHA-256), and walks every
/// inclusion path to the checkpoint's root (RFC 9162 §2.1.3.2). WebCrypto only (SHA-256,
/// Ed25519), no library, no request to any server.
enum WebScript {
    static let verify = #"""
        "use strict";
        (function () {
          const status = document.getElementById("verify-status");
          const source = document.getElementById("ledger-proof");
          if (!status || !source) return;
          const started = performance.now();
          const enc = new TextEncoder();
          const PAYLOAD_TYPE = "application/vnd.incidentledger.event+json";
          const say = (state, text) => {
            status.dataset.state = state;
            status.dataset.ms = (performance.now() - started).toFixed(1);
            status.textContent = text;
          };
          const row = (index) => document.querySelector('table.entries tbody tr[data-index="' + index + '"]');
          const mark = (index, state, text) => {
            const r = row(index);
            const cell = r && r.querySelector("td.check");
            if (cell) { cell.textContent = text; cell.className = "check " + state; }
          };
          class Failure extends Error {}
          class Unavailable extends Error {}
          const fail = (text) => { throw new Failure(text); };
          // Standard base64 with padding, nothing else (FORMAT.md: other spellings are refused).
          const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
          const bytes = (text, what, length) => {
            if (typeof text !== "string" || !BASE64.test(text)) fail(what + " is not base64");
            const bin = atob(text);
            const out = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
            if (length !== undefined && out.length !== length) fail(what + " is " + out.length + " bytes, not " + length);
            return out;
          };
          const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
          const join = (...parts) => {
            const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts) { out.set(p, at); at += p.length; }
            return out;
          };
          const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
          const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", b));
          const ed25519 = async (publicKey, signature, message) => {
            let key;
            try {
              key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
            } catch (e) {
              if (e && e.name === "NotSupportedError") throw new Unavailable("this browser's WebCrypto has no Ed25519");
              throw e;
            }
            return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
          };
          const node = (l, r) => sha256(join(Uint8Array.of(1), l, r));

          // The checkpoint (FORMAT.md §7): three text lines, an empty line, signature lines, each
          // well-formed; one by the origin's log key must verify over the text.
          async function checkpoint(data) {
            const note = data.checkpoint;
            if (typeof note !== "string" || !note.endsWith("\n")) fail("the checkpoint does not end with a line feed");
            const cut = note.indexOf("\n\n");
            if (cut < 0) fail("the checkpoint has no signature lines");
            const text = note.slice(0, cut + 1);
            const lines = text.split("\n");
            // Three lines, then at most the view line (FORMAT.md §7), signed with the rest.
            if (lines.length === 5 && !/^incidentledger-view [0-9a-f]{64}$/.test(lines[3])) fail("the checkpoint's extension line is not the view hash");
            if (lines.length !== 4 && lines.length !== 5) fail("the checkpoint's text is not three lines and a view line");
            if (lines[0] !== data.origin) fail("the checkpoint is of another log (" + lines[0] + ")");
            if (!/^[1-9][0-9]*$/.test(lines[1]) || !Number.isSafeInteger(Number(lines[1]))) fail("the checkpoint's size is not a number");
            const size = Number(lines[1]);
            const root = bytes(lines[2], "the checkpoint's root", 32);
            const message = enc.encode(text);
            const signatures = note.slice(cut + 2, -1).split("\n").map((line) => {
              const m = /^\u2014 ([^\s+]+) (\S+)$/u.exec(line);
              if (!m) fail("the checkpoint has a malformed signature line");
              const sig = bytes(m[2], "a checkpoint signature");
              if (sig.length < 5) fail("a checkpoint signature is too short");
              return { name: m[1], sig };
            });
            if (!Array.isArray(data.logKeys) || data.logKeys.length === 0) fail("the page names no log key");
            for (const vkey of data.logKeys) {
              const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey);
              if (!m) fail("a log key on the page is not a verifier key");
              const [, name, keyHash, blob] = m;
              if (name !== data.origin) fail("a log key on the page is named " + name + ", not the log's origin");
              const typed = bytes(blob, "the log key " + name, 33);
              if (typed[0] !== 1) fail("the log key is not an Ed25519 log key");
              const publicKey = typed.slice(1);
              const computed = (await sha256(join(enc.encode(name), Uint8Array.of(10, 1), publicKey))).slice(0, 4);
              if (hex(computed) !== keyHash) fail("the log key's key hash does not match its key");
              for (const line of signatures) {
                if (line.name !== name || line.sig.length !== 68 || !same(line.sig.slice(0, 4), computed)) continue;
                if (await ed25519(publicKey, line.sig.slice(4), message)) return { size, root, rootText: lines[2], key: vkey };
              }
            }
            fail("the checkpoint's signature does not verify under the log key");
          }

          // One entry line (FORMAT.md §3, §4): its canonical form, index, DSSE signature, payload
          // type and log; its leaf hash. Returns the event.
          async function line(data, entry) {
            const text = entry.line;
            const where = "entry " + entry.index + ": ";
            let parsed, event;
            try { parsed = JSON.parse(text); } catch (e) { fail(where + "its line is not JSON"); }
            const envelope = parsed.envelope || {};
            const signature = (Array.isArray(envelope.signatures) && envelope.signatures.length === 1) ? envelope.signatures[0] : fail(where + "not one signature");
            const canonical = '{"index":' + parsed.index + ',"recordedAt":"' + parsed.recordedAt + '","envelope":{"payloadType":"' +
              envelope.payloadType + '","payload":"' + envelope.payload + '","signatures":[{"keyid":"' + signature.keyid + '","sig":"' +
              signature.sig + '"}]}}';
            if (canonical !== text || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(parsed.recordedAt) || !/^[0-9a-f]{64}$/.test(signature.keyid)) {
              fail(where + "its line is not in the canonical form");
            }
            if (parsed.index !== entry.index) fail(where + "its line says index " + parsed.index);
            if (envelope.payloadType !== PAYLOAD_TYPE) fail(where + "its payload type is " + envelope.payloadType);
            const publicKey = bytes(data.signers[signature.keyid] || fail(where + "its signer's key is not on the page"), "the key of entry " + entry.index, 32);
            if (hex(await sha256(publicKey)) !== signature.keyid) fail(where + "the key given is not key " + signature.keyid);
            const payload = bytes(envelope.payload, "the payload of entry " + entry.index);
            const pae = join(enc.encode("DSSEv1 " + PAYLOAD_TYPE.length + " " + PAYLOAD_TYPE + " " + payload.length + " "), payload);
            if (!(await ed25519(publicKey, bytes(signature.sig, "the signature of entry " + entry.index, 64), pae))) fail(where + "its signature does not verify");
            try { event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload)); } catch (e) { fail(where + "its payload is not JSON"); }
            if (event.ledger !== data.origin) fail(where + "it is an event of another log (" + event.ledger + ")");
            const leaf = await sha256(join(Uint8Array.of(0), enc.encode(text)));
            if (!same(leaf, bytes(entry.leafHash, "the leaf hash of entry " + entry.index, 32))) fail(where + "its line does not hash to the leaf hash shown");
            const cells = row(entry.index).cells;
            if (cells[0].textContent !== String(parsed.index)) fail(where + "the page shows it as entry " + cells[0].textContent);
            if (cells[1].textContent !== event.type) fail(where + "the page shows it as another event type");
            if (cells[2].textContent !== parsed.recordedAt) fail(where + "the page shows another record time");
            return event;
          }

          // RFC 9162 §2.1.3.2.
          async function included(entry, leaf, cp) {
            const where = "entry " + entry.index + ": ";
            if (!Array.isArray(entry.path)) fail(where + "no inclusion proof");
            let fn = entry.index, sn = cp.size - 1, r = leaf;
            if (fn > sn) fail(where + "beyond the checkpoint");
            for (const h of entry.path) {
              const p = bytes(h, "a hash in the proof of entry " + entry.index, 32);
              if (sn === 0) fail(where + "its inclusion proof is too long");
              if (fn % 2 === 1 || fn === sn) {
                r = await node(p, r);
                if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
              } else {
                r = await node(r, p);
              }
              fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
            }
            if (sn !== 0 || !same(r, cp.root)) fail(where + "its inclusion proof does not lead to the checkpoint's root");
          }

          async function run() {
            if (!window.crypto || !crypto.subtle) {
              throw new Unavailable("this browser offers WebCrypto only to pages served over HTTPS or from this machine");
            }
            let data;
            try { data = JSON.parse(source.textContent); } catch (e) { fail("the proof data on this page is not JSON"); }
            say("checking", "Checking the signed entries of this page…");
            // The proof data must list exactly the entries the page's table shows, each once.
            const entries = Array.isArray(data.entries) ? data.entries : fail("the page carries no entries");
            if (entries.length === 0) fail("the page carries no entry to check");
            const indexes = new Set();
            for (const e of entries) {
              if (!Number.isSafeInteger(e.index) || e.index < 0) fail("an entry index is not a number");
              if (indexes.has(e.index)) fail("entry " + e.index + " is listed twice");
              indexes.add(e.index);
              const r = row(e.index);
              if (!r) fail("entry " + e.index + " is checked but not shown");
              if (r.querySelector("code.hash").textContent !== e.leafHash) fail("entry " + e.index + ": the leaf hash shown is not the one checked");
            }
            // Every row of the entries table is an entry checked here, and no other row anywhere
            // claims to be one; every mark in the table is written by this script.
            const shown = document.querySelectorAll("table.entries tbody tr");
            if (shown.length !== indexes.size) fail("the page shows " + shown.length + " entries but carries proofs for " + indexes.size);
            if (document.querySelectorAll("tr[data-index]").length !== shown.length || document.querySelectorAll("table.entries").length !== 1) {
              fail("the page shows entry rows outside its table of entries");
            }
            for (const r of shown) {
              if (!r.dataset.index || !indexes.has(Number(r.dataset.index))) fail("a row of the table of entries is not an entry checked here");
              const cell = r.querySelector("td.check");
              if (cell) { cell.textContent = "not checked"; cell.className = "check"; }
            }
            // The log key this page names is the one checked.
            const named = Array.from(document.querySelectorAll("code.vkey"), (c) => c.textContent);
            if (named.length !== data.logKeys.length || named.some((k, i) => k !== data.logKeys[i])) fail("the log key the page shows is not the key checked");
            const cp = await checkpoint(data);
            // The incident of this page (its address), and the incidents merged into it or that it
            // was merged into, as the signed merge entries on the page say.
            const name = decodeURIComponent(location.pathname.split("/")[2] || "");
            const allowed = new Set(["incident:" + name]);
            const events = new Map();
            for (const entry of entries) {
              if (entry.line === undefined) continue;
              try {
                events.set(entry.index, await line(data, entry));
              } catch (e) {
                mark(entry.index, "bad", "FAILED");
                throw e;
              }
            }
            for (let grew = true; grew;) {
              grew = false;
              for (const event of events.values()) {
                const into = event.type === "incident.merged" && event.body ? event.body.into : undefined;
                if (into === undefined) continue;
                if (allowed.has(event.subject) && !allowed.has(into)) { allowed.add(into); grew = true; }
                if (allowed.has(into) && !allowed.has(event.subject)) { allowed.add(event.subject); grew = true; }
              }
            }
            for (const [index, event] of events) {
              if (!allowed.has(event.subject)) {
                mark(index, "bad", "FAILED");
                fail("entry " + index + ": it is about " + event.subject + ", not this incident");
              }
            }
            let pending = 0, withheld = 0;
            for (const entry of entries) {
              try {
                const leaf = events.has(entry.index) ? await sha256(join(Uint8Array.of(0), enc.encode(entry.line)))
                  : bytes(entry.leafHash, "the leaf hash of entry " + entry.index, 32);
                if (entry.pending) {
                  if (entry.index < cp.size) fail("entry " + entry.index + ": said to be after the checkpoint, but is not");
                  pending++;
                  mark(entry.index, "pending", "newer than the checkpoint: not proven");
                  continue;
                }
                await included(entry, leaf, cp);
                if (events.has(entry.index)) {
                  mark(entry.index, "ok", "signature and inclusion verified");
                } else {
                  withheld++;
                  mark(entry.index, "partial", "inclusion verified; line withheld, content not checked");
                }
              } catch (e) {
                mark(entry.index, "bad", "FAILED");
                throw e;
              }
            }
            const proven = entries.length - pending;
            const head = "against checkpoint " + cp.size + ", root " + cp.rootText + ", signed by the log key " + cp.key;
            if (pending === 0 && withheld === 0) {
              say("verified", "Verified in this browser " + head + ": all " + entries.length +
                " entries of this page are in the log, each with its Ed25519 signature checked (by the key its id names; the signer's name is the archive's record). " +
                "The facts above are the server's reading of these entries, not proven here.");
            } else {
              say("partial", "Partly verified in this browser " + head + ": " + proven + " of " + entries.length + " entries are in the log" +
                (withheld ? "; " + withheld + " of them are shown by leaf hash only (their lines hold fields these pages never show), so their content and signature are not checked" : "") +
                (pending ? "; " + pending + " are newer than that checkpoint and cannot be proven until the next one" : "") +
                ". The facts above are the server's reading of these entries, not proven here.");
            }
          }

          run().catch((e) => {
            if (e instanceof Unavailable) {
              say("unavailable", "Not checked: " + e.message + ". Check the log with ledger audit instead.");
            } else {
              say("failed", "Verification FAILED: " + (e instanceof Failure ? e.message : "the browser could not check this page (" + e + ")") + ".");
            }
          });
        })();

        """#
}
