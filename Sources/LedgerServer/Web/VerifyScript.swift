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
          const say = (state, text) => {
            status.dataset.state = state;
            status.dataset.ms = (performance.now() - started).toFixed(1);
            status.textContent = text;
          };
          const mark = (index, ok, text) => {
            const cell = document.querySelector('tr[data-index="' + index + '"] td.check');
            if (cell) { cell.textContent = text; cell.className = "check " + (ok ? "ok" : "bad"); }
          };
          class Failure extends Error {}
          const fail = (text) => { throw new Failure(text); };
          const bytes = (text, what, length) => {
            let bin;
            try { bin = atob(text); } catch (e) { fail(what + " is not base64"); }
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
            const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
            return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
          };
          const node = (l, r) => sha256(join(Uint8Array.of(1), l, r));

          // The checkpoint (FORMAT.md §7): three text lines, an empty line, signature lines.
          async function checkpoint(data) {
            const note = data.checkpoint;
            const cut = note.indexOf("\n\n");
            if (cut < 0) fail("the checkpoint has no signature lines");
            const text = note.slice(0, cut + 1);
            const lines = text.split("\n");
            if (lines.length !== 4) fail("the checkpoint's text is not three lines");
            if (lines[0] !== data.origin) fail("the checkpoint is of another log (" + lines[0] + ")");
            if (!/^[1-9][0-9]*$/.test(lines[1]) || !Number.isSafeInteger(Number(lines[1]))) fail("the checkpoint's size is not a number");
            const size = Number(lines[1]);
            const root = bytes(lines[2], "the checkpoint's root", 32);
            const message = enc.encode(text);
            const signatures = note.slice(cut + 2).split("\n").filter((l) => l.startsWith("\u2014 "));
            for (const vkey of data.logKeys) {
              const plus = vkey.indexOf("+"), plus2 = vkey.indexOf("+", plus + 1);
              const name = vkey.slice(0, plus), keyHash = vkey.slice(plus + 1, plus2);
              const typed = bytes(vkey.slice(plus2 + 1), "the log key " + name, 33);
              if (typed[0] !== 1) fail("the log key is not an Ed25519 log key");
              const publicKey = typed.slice(1);
              const computed = (await sha256(join(enc.encode(name), Uint8Array.of(10, 1), publicKey))).slice(0, 4);
              if (hex(computed) !== keyHash) fail("the log key's key hash does not match its key");
              for (const line of signatures) {
                const space = line.indexOf(" ", 2);
                if (line.slice(2, space) !== name) continue;
                const sig = bytes(line.slice(space + 1), "a checkpoint signature");
                if (sig.length === 68 && same(sig.slice(0, 4), computed) && (await ed25519(publicKey, sig.slice(4), message))) {
                  return { size, root, rootText: lines[2], key: name + "+" + keyHash };
                }
              }
            }
            fail("the checkpoint's signature does not verify under the log key");
          }

          // One entry line (FORMAT.md §3, §4): its index, subject and DSSE signature; its leaf hash.
          async function line(data, entry) {
            const text = entry.line;
            let parsed, payload, event;
            try { parsed = JSON.parse(text); } catch (e) { fail("entry " + entry.index + ": its line is not JSON"); }
            if (parsed.index !== entry.index) fail("entry " + entry.index + ": its line says index " + parsed.index);
            const envelope = parsed.envelope || {};
            if (!Array.isArray(envelope.signatures) || envelope.signatures.length !== 1) fail("entry " + entry.index + ": not one signature");
            const signature = envelope.signatures[0];
            const signer = data.signers[signature.keyid];
            if (!signer) fail("entry " + entry.index + ": its signer's key is not on the page");
            const publicKey = bytes(signer, "the key of entry " + entry.index, 32);
            if (hex(await sha256(publicKey)) !== signature.keyid) fail("entry " + entry.index + ": the key given is not key " + signature.keyid);
            payload = bytes(envelope.payload, "the payload of entry " + entry.index);
            const type = envelope.payloadType;
            const pae = join(enc.encode("DSSEv1 " + enc.encode(type).length + " " + type + " " + payload.length + " "), payload);
            if (!(await ed25519(publicKey, bytes(signature.sig, "the signature of entry " + entry.index, 64), pae))) {
              fail("entry " + entry.index + ": its signature does not verify");
            }
            try { event = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload)); } catch (e) { fail("entry " + entry.index + ": its payload is not JSON"); }
            const body = JSON.stringify(event.body || {});
            if (!data.subjects.some((s) => event.subject === s || body.includes(JSON.stringify(s)))) fail("entry " + entry.index + ": it is about " + event.subject + ", not this incident");
            const leaf = await sha256(join(Uint8Array.of(0), enc.encode(text)));
            if (!same(leaf, bytes(entry.leafHash, "the leaf hash of entry " + entry.index, 32))) {
              fail("entry " + entry.index + ": its line does not hash to the leaf hash shown");
            }
            return leaf;
          }

          // RFC 9162 §2.1.3.2.
          async function included(entry, leaf, cp) {
            if (!Array.isArray(entry.path)) fail("entry " + entry.index + ": no inclusion proof");
            let fn = entry.index, sn = cp.size - 1, r = leaf;
            if (fn > sn) fail("entry " + entry.index + ": beyond the checkpoint");
            for (const h of entry.path) {
              const p = bytes(h, "a hash in the proof of entry " + entry.index, 32);
              if (sn === 0) fail("entry " + entry.index + ": its inclusion proof is too long");
              if (fn % 2 === 1 || fn === sn) {
                r = await node(p, r);
                if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
              } else {
                r = await node(r, p);
              }
              fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
            }
            if (sn !== 0 || !same(r, cp.root)) fail("entry " + entry.index + ": its inclusion proof does not lead to the checkpoint's root");
          }

          async function run() {
            if (!window.crypto || !crypto.subtle) {
              say("unavailable", "Not checked: this browser offers WebCrypto only to pages served over HTTPS or from this machine. Check the log with ledger audit instead.");
              return;
            }
            let data;
            try { data = JSON.parse(source.textContent); } catch (e) { fail("the proof data on this page is not JSON"); }
            say("checking", "Checking the signed entries of this page…");
            const cp = await checkpoint(data);
            let signed = 0, pending = 0;
            for (const entry of data.entries) {
              try {
                if (!Number.isSafeInteger(entry.index) || entry.index < 0) fail("an entry index is not a number");
                const leaf = entry.line !== undefined ? await line(data, entry) : bytes(entry.leafHash, "the leaf hash of entry " + entry.index, 32);
                if (entry.pending) {
                  if (entry.index < cp.size) fail("entry " + entry.index + ": said to be after the checkpoint, but is not");
                  pending++;
                  mark(entry.index, true, "newer than the checkpoint");
                  continue;
                }
                await included(entry, leaf, cp);
                if (entry.line !== undefined) signed++;
                mark(entry.index, true, entry.line !== undefined ? "signature and inclusion verified" : "inclusion verified (line withheld)");
              } catch (e) {
                mark(entry.index, false, "FAILED");
                throw e;
              }
            }
            const proven = data.entries.length - pending;
            say("verified", "Verified in this browser against checkpoint " + cp.size + ", root " + cp.rootText + " (log key " + cp.key + "): " +
              proven + " of " + data.entries.length + " entries are in the log" +
              (signed ? ", " + signed + " of them with their Ed25519 signatures checked" : "") +
              (pending ? "; " + pending + " newer than that checkpoint, not yet provable" : "") + ".");
          }

          run().catch((e) => {
            say("failed", "Verification FAILED: " + (e instanceof Failure ? e.message : "the browser could not check this page (" + e + ")") + ".");
          });
        })();

        """#
}
