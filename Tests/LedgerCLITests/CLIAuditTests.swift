import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

// Every test here runs on SQLite and PostgreSQL (`arguments: StoreKind.all`): the ledger that is
// exported, and the one `ledger import` builds (a new file, or a fresh empty database), are of
// the store under test; the bundles are files either way.

/// A sandbox ledger with two checkpoints (the second cosigned by witness w1), exported as a bundle.
struct AuditFixture {
    let s: Sandbox
    let bag: String
    let logVKey: String
    let w1VKey: String
    let w2VKey: String
    let w1Key: Ed25519.PrivateKey
    let logKey: Ed25519.PrivateKey
    let strangerKey: Ed25519.PrivateKey
    var trust: String { s.keyID("admin") }

    static func make(_ store: StoreKind = .sqlite) throws -> AuditFixture {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append(
            (0..<12).map {
                EventJSON.make(subject: "incident:inc-\($0)", body: EventJSON.reportBody(title: ["en": "Event \($0)", "ar": "قصف مستشفى \($0)"]))
            })
        try #require(try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")]).status == 0)
        try s.append([EventJSON.make(type: "incident.corrected", subject: "incident:inc-0", expects: 1, body: EventJSON.correctionBody(title: "A correction"))])
        let cp = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        try #require(cp.status == 0, "\(cp)")
        let cpFile = s.write("cp16.note", cp.stdout)
        try s.newKey("w1")
        try s.newKey("w2")
        try s.newKey("stranger")
        let logVKey = try s.run(["key", "vkey", s.keyPath("log"), "--name", s.origin]).stdout.trimmingCharacters(in: .newlines)
        let w1 = try s.run(["key", "vkey", s.keyPath("w1"), "--name", "w1.example/witness", "--witness"]).stdout.trimmingCharacters(in: .newlines)
        let w2 = try s.run(["key", "vkey", s.keyPath("w2"), "--name", "w2.example/witness", "--witness"]).stdout.trimmingCharacters(in: .newlines)
        let cosigned = try s.run([
            "witness", "--key", s.keyPath("w1"), "--state", s.path("w1-state"), "--name", "w1.example/witness", "--log-key", logVKey, cpFile, "--time",
            "1764000000",
        ])
        try #require(cosigned.status == 0, "\(cosigned)")
        try #require(try s.run(["checkpoint", "--ledger", s.ledger, "--attach", s.write("cp16.cosigned", cosigned.stdout), "--witness", w1]).status == 0)
        let bag = s.path("bag")
        let export = try s.run(["export", "--ledger", s.ledger, "--out", bag, "--export-time", "2026-01-02T03:04:05Z"])
        try #require(export.status == 0, "\(export)")
        return AuditFixture(
            s: s, bag: bag, logVKey: logVKey, w1VKey: w1, w2VKey: w2, w1Key: try seed(s.keyPath("w1")), logKey: try seed(s.keyPath("log")),
            strangerKey: try seed(s.keyPath("stranger")))
    }

    /// The private key of an unencrypted key file.
    static func seed(_ path: String) throws -> Ed25519.PrivateKey {
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return try Ed25519.PrivateKey(seed: SecureBytes(Base64.decode(o["seed"] as! String)!))
    }

    /// A fresh copy of the bag to tamper with.
    func copy(_ name: String) throws -> String {
        let p = s.path(name)
        try FileManager.default.copyItem(atPath: bag, toPath: p)
        return p
    }
}

/// Bag-editing helpers for tamper cases.
enum BagEdit {
    static func read(_ bag: String, _ rel: String) -> [UInt8] { Array(FileManager.default.contents(atPath: bag + "/" + rel) ?? Data()) }
    static func write(_ bag: String, _ rel: String, _ bytes: [UInt8]) { _ = FileManager.default.createFile(atPath: bag + "/" + rel, contents: Data(bytes)) }
    static func lines(_ bag: String) -> [[UInt8]] { read(bag, Bag.entriesPath).split(separator: 0x0A).map(Array.init) }
    static func setLines(_ bag: String, _ lines: [[UInt8]]) { write(bag, Bag.entriesPath, lines.flatMap { $0 + [0x0A] }) }

    /// Recomputes both manifests so that only the intended change remains.
    static func reseal(_ bag: String) throws {
        var files: [(path: String, digest: Digest32)] = []
        let fm = FileManager.default
        for rel in ["data/entries.jsonl", "data/checkpoint"] + (try fm.contentsOfDirectory(atPath: bag + "/data/checkpoints")).map({ "data/checkpoints/" + $0 })
        {
            files.append((rel, SHA256.hash(read(bag, rel))))
        }
        write(bag, "manifest-sha256.txt", Bag.manifest(files))
        write(bag, "tagmanifest-sha256.txt", Bag.manifest(Bag.tagFiles.map { ($0, SHA256.hash(read(bag, $0))) }))
    }

    /// Re-signs checkpoint file(s) of `size` with new text and signer (and the same other lines dropped).
    static func resign(_ bag: String, size: UInt64, text: String, name: String, key: Ed25519.PrivateKey, alsoLatest: Bool) {
        let note = SignedNote.sign(text: Array(text.utf8), name: name, key: key).encoded()
        write(bag, Bag.checkpointPath(size), note)
        if alsoLatest { write(bag, Bag.latestPath, note) }
    }

    static func replace(_ bag: String, _ rel: String, _ from: String, _ to: String) {
        let text = String(decoding: read(bag, rel), as: UTF8.self)
        write(bag, rel, Array(text.replacingOccurrences(of: from, with: to).utf8))
    }
}

@Suite("ledger export / audit / import, and Tools/verify.py agreeing with audit", .serialized)
struct CLIAuditTests {
    static let verifyScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Tools/verify.py").standardized.path

    /// `ledger audit --json` on a bag: exit status and parsed report.
    func audit(_ f: AuditFixture, _ bag: String, extra: [String] = []) throws -> (Int32, [String: Any]) {
        let r = try f.s.run(["audit", bag, "--trust", f.trust, "--json"] + extra)
        let report = try #require(try r.jsonLines().first, "audit printed no JSON: \(r)")
        return (r.status, report)
    }

    /// `python3 Tools/verify.py --json` on a bag.
    func python(_ bag: String, trust: String, extra: [String] = []) throws -> (Int32, [String: Any])? {
        guard CrossVerifier.python3 != nil, FileManager.default.fileExists(atPath: CLIAuditTests.verifyScript) else { return nil }
        let child = try Child(
            executable: CrossVerifier.python3!, arguments: [CLIAuditTests.verifyScript, bag, "--trust", trust, "--json"] + extra, stdin: nil, passphrase: nil,
            directory: nil)
        let r = try child.wait(timeout: 120)
        let o = try #require(try r.jsonLines().first, "verify.py printed no JSON: \(r)")
        return (r.status, o)
    }

    @Test(
        "a good bundle: audit, verify.py and the Library of Congress bagit tool accept it; export is reproducible; import rebuilds the same ledger",
        arguments: StoreKind.all)
    func good(store: StoreKind) throws {
        let f = try AuditFixture.make(store)
        let (status, report) = try audit(f, f.bag, extra: ["--witness", f.w1VKey, "--quorum", "1"])
        #expect(status == 0, "\(report)")
        #expect(report["treeSize"] as? Int == 16)
        #expect((report["failure"] as? NSNull) != nil)
        let checkpoints = try #require(report["checkpoints"] as? [[String: Any]])
        #expect(checkpoints.map { $0["size"] as? Int } == [15, 16])
        #expect(((checkpoints.last?["cosigners"] as? [[String: Any]])?.first?["name"] as? String) == "w1.example/witness")
        if let (pstatus, p) = try python(f.bag, trust: f.trust, extra: ["--witness", f.w1VKey, "--quorum", "1"]) {
            #expect(pstatus == 0, "\(p)")
            #expect(p["root"] as? String == report["root"] as? String)
        }
        // BagIt validity, judged by the reference implementation.
        let bagit = try Child(
            executable: CrossVerifier.python3!, arguments: ["-c", "import bagit,sys; bagit.Bag(sys.argv[1]).validate(); print('valid')", f.bag], stdin: nil,
            passphrase: nil, directory: nil
        ).wait(timeout: 60)
        #expect(bagit.status == 0 && bagit.stdout.contains("valid"), "\(bagit)")
        // Same prefix, same export time: byte-identical files.
        let again = f.s.path("bag-again")
        #expect(try f.s.run(["export", "--ledger", f.s.ledger, "--out", again, "--export-time", "2026-01-02T03:04:05Z"]).status == 0)
        for rel in [
            "bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", Bag.entriesPath, Bag.latestPath, "data/checkpoints/15",
            "data/checkpoints/16",
        ] {
            #expect(BagEdit.read(f.bag, rel) == BagEdit.read(again, rel), "\(rel) differs between two exports")
        }
        // An existing directory is never overwritten.
        let clash = try f.s.run(["export", "--ledger", f.s.ledger, "--out", again])
        #expect(clash.status == 74, "\(clash)")
        // --upto a checkpointed size; --upto an uncheckpointed size is refused.
        let prefix = f.s.path("bag-15")
        #expect(try f.s.run(["export", "--ledger", f.s.ledger, "--out", prefix, "--upto", "15"]).status == 0)
        #expect(try audit(f, prefix).0 == 0)
        #expect(!FileManager.default.fileExists(atPath: prefix + "/data/checkpoints/16"))
        let uncovered = try f.s.run(["export", "--ledger", f.s.ledger, "--out", f.s.path("bag-14"), "--upto", "14"])
        #expect(uncovered.status == 3 && uncovered.stderr.contains("no signed checkpoint covers exactly 14"), "\(uncovered)")
        #expect(!FileManager.default.fileExists(atPath: f.s.path("bag-14")))
        // Import: the same entries and checkpoints, the same archive view.
        let imported = try f.s.newPlace("imported.ledger").location.description
        let imp = try f.s.run(["import", f.bag, "--ledger", imported, "--trust", f.trust])
        #expect(imp.status == 0, "\(imp)")
        #expect(try f.s.run(["verify", "--ledger", imported, "--trust", f.trust]).status == 0)
        #expect(try f.s.run(["log", "--ledger", imported, "--raw"]).stdout == String(decoding: BagEdit.read(f.bag, Bag.entriesPath), as: UTF8.self))
        #expect(try f.s.run(["checkpoint", "--ledger", imported, "--list"]).stdout == (try f.s.run(["checkpoint", "--ledger", f.s.ledger, "--list"]).stdout))
        let a = try f.s.run(["snapshot", "--ledger", f.s.ledger, "--out", f.s.path("a.snapshot")])
        let b = try f.s.run(["snapshot", "--ledger", imported, "--out", f.s.path("b.snapshot")])
        #expect(a.status == 0 && b.status == 0)
        #expect(BagEdit.read(f.s.path(""), "a.snapshot") == BagEdit.read(f.s.path(""), "b.snapshot"), "the imported archive's snapshot differs")
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var step: String
        var index: Int?
        var extra: [String] = []
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "truncated entries file", step: "entries", index: 15),
        Case(name: "manifest line missing", step: "layout"),
        Case(name: "manifest digest wrong", step: "fixity"),
        Case(name: "extra file in data/", step: "layout"),
        Case(name: "extra file at the top", step: "layout"),
        Case(name: "checkpoint file missing", step: "layout"),
        Case(name: "bagit.txt altered", step: "layout"),
        Case(name: "entry lines 3 and 4 swapped", step: "entries", index: 3),
        Case(name: "entry line 5 duplicated", step: "entries", index: 6),
        Case(name: "payload byte of entry 7 flipped", step: "entries", index: 7),
        Case(name: "record time of entry 9 changed, manifests resealed", step: "entries"),
        Case(name: "last entry removed, manifests resealed (checkpoint for a larger tree)", step: "entries"),
        Case(name: "latest checkpoint differs from checkpoints/16", step: "latest-checkpoint"),
        Case(name: "checkpoint with a foreign origin", step: "entries"),
        Case(name: "checkpoint signed by an unenrolled key", step: "entries"),
        Case(name: "bag-info root wrong, tag manifest resealed", step: "bag-info"),
        Case(name: "bag-info tree size wrong, tag manifest resealed", step: "bag-info"),
        Case(name: "bag-info genesis key id wrong, tag manifest resealed", step: "bag-info"),
        Case(name: "trusted witness's cosignature altered", step: "cosignatures", extra: ["--witness", "W1"]),
        Case(name: "cosigned only by a witness not trusted (quorum 1 of w2)", step: "cosignatures", extra: ["--witness", "W2", "--quorum", "1"]),
        Case(name: "pinned genesis key is another key", step: "entries", index: 0, extra: ["--trust-other"]),
        Case(name: "bag-info claims smuggled in with CRLF, tag manifest resealed", step: "bag-info"),
        Case(name: "entry 3 altered and a 9 MiB line without newline at the end", step: "entries", index: 3),
    ]

    func tamper(_ c: Case, _ f: AuditFixture, _ bag: String) throws {
        var lines = BagEdit.lines(bag)
        switch c.name {
        case "truncated entries file":
            let bytes = BagEdit.read(bag, Bag.entriesPath)
            BagEdit.write(bag, Bag.entriesPath, Array(bytes.dropLast(40)))
        case "manifest line missing":
            let text = String(decoding: BagEdit.read(bag, "manifest-sha256.txt"), as: UTF8.self)
            BagEdit.write(
                bag, "manifest-sha256.txt", Array(text.split(separator: "\n").filter { !$0.hasSuffix("data/checkpoint") }.map { $0 + "\n" }.joined().utf8))
        case "manifest digest wrong":
            var m = BagEdit.read(bag, "manifest-sha256.txt")
            let at =
                try #require(String(decoding: m, as: UTF8.self).range(of: "  data/entries.jsonl")).lowerBound.utf16Offset(
                    in: String(decoding: m, as: UTF8.self)) - 1
            m[at] = m[at] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            BagEdit.write(bag, "manifest-sha256.txt", m)
        case "extra file in data/":
            BagEdit.write(bag, "data/notes.txt", Array("hello\n".utf8))
        case "extra file at the top":
            BagEdit.write(bag, "README.txt", Array("hello\n".utf8))
        case "checkpoint file missing":
            try FileManager.default.removeItem(atPath: bag + "/data/checkpoints/15")
        case "bagit.txt altered":
            BagEdit.write(bag, "bagit.txt", Array("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n".utf8))
        case "entry lines 3 and 4 swapped":
            lines.swapAt(3, 4)
            BagEdit.setLines(bag, lines)
        case "entry line 5 duplicated":
            lines.insert(lines[5], at: 6)
            BagEdit.setLines(bag, lines)
        case "payload byte of entry 7 flipped":
            let text = String(decoding: lines[7], as: UTF8.self)
            let at = text.utf8.count - 200
            lines[7][at] = lines[7][at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            BagEdit.setLines(bag, lines)
        case "record time of entry 9 changed, manifests resealed":
            let text = String(decoding: lines[9], as: UTF8.self)
            let r = try #require(text.range(of: #""recordedAt":""#))
            var chars = Array(text)
            let at = text.distance(from: text.startIndex, to: r.upperBound) + 25  // a microsecond digit
            chars[at] = chars[at] == "0" ? "1" : "0"
            lines[9] = Array(String(chars).utf8)
            BagEdit.setLines(bag, lines)
            try BagEdit.reseal(bag)
        case "last entry removed, manifests resealed (checkpoint for a larger tree)":
            BagEdit.setLines(bag, Array(lines.dropLast()))
            try BagEdit.reseal(bag)
        case "latest checkpoint differs from checkpoints/16":
            BagEdit.write(bag, Bag.latestPath, BagEdit.read(bag, "data/checkpoints/15"))
            try BagEdit.reseal(bag)
        case "checkpoint with a foreign origin":
            let note = try SignedNote(bytes: BagEdit.read(bag, "data/checkpoints/16"))
            let cp = try Checkpoint(text: note.text)
            BagEdit.resign(bag, size: 16, text: "other.example/log\n16\n\(cp.root.base64)\n", name: "other.example/log", key: f.logKey, alsoLatest: true)
            try BagEdit.reseal(bag)
        case "checkpoint signed by an unenrolled key":
            let note = try SignedNote(bytes: BagEdit.read(bag, "data/checkpoints/16"))
            BagEdit.resign(bag, size: 16, text: String(decoding: note.text, as: UTF8.self), name: f.s.origin, key: f.strangerKey, alsoLatest: true)
            try BagEdit.reseal(bag)
        case "bag-info root wrong, tag manifest resealed":
            let cp = try Checkpoint(text: try SignedNote(bytes: BagEdit.read(bag, Bag.latestPath)).text)
            BagEdit.replace(bag, "bag-info.txt", "IncidentLedger-Root: \(cp.root.hex)", "IncidentLedger-Root: \(String(repeating: "ab", count: 32))")
            try BagEdit.reseal(bag)
        case "bag-info tree size wrong, tag manifest resealed":
            BagEdit.replace(bag, "bag-info.txt", "IncidentLedger-Tree-Size: 16", "IncidentLedger-Tree-Size: 17")
            try BagEdit.reseal(bag)
        case "bag-info genesis key id wrong, tag manifest resealed":
            BagEdit.replace(bag, "bag-info.txt", "IncidentLedger-Genesis-Key-ID: \(f.trust)", "IncidentLedger-Genesis-Key-ID: \(f.s.keyID("archivist"))")
            try BagEdit.reseal(bag)
        case "trusted witness's cosignature altered":
            for rel in [Bag.latestPath, "data/checkpoints/16"] {
                var note = try SignedNote(bytes: BagEdit.read(bag, rel))
                let i = try #require(note.signatures.firstIndex { $0.name == "w1.example/witness" })
                note.signatures[i].signature[20] ^= 0x01
                BagEdit.write(bag, rel, note.encoded())
            }
            try BagEdit.reseal(bag)
        case "bag-info claims smuggled in with CRLF, tag manifest resealed":
            BagEdit.replace(bag, "bag-info.txt", "External-Description: ", "External-Description: x\r\nIncidentLedger-Format: 2\r\nY: ")
            try BagEdit.reseal(bag)
        case "entry 3 altered and a 9 MiB line without newline at the end":
            let at = lines[3].count - 150
            lines[3][at] = lines[3][at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            BagEdit.write(bag, Bag.entriesPath, lines.flatMap { $0 + [0x0A] } + [UInt8](repeating: UInt8(ascii: "x"), count: 9 << 20))
        default:
            break
        }
    }

    @Test("a checkpoint file that is a link to /dev/zero fails the audit at its layout step, read by nothing before")
    func linkedCheckpoint() throws {
        // The view fold once peeked at the checkpoint files before the audit checked what they
        // are; a link to an endless device then hung `ledger audit` (DECISIONS 87).
        let f = try AuditFixture.make(.sqlite)
        let bag = try f.copy("linked")
        let file = bag + "/" + Bag.checkpointPath(15)
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: "/dev/zero")
        let r = try f.s.run(["audit", bag, "--trust", f.trust, "--json"], timeout: 30)
        #expect(r.status == 1, "\(r)")
        let failure = try #require(try r.jsonLines().first?["failure"] as? [String: Any], "\(r)")
        #expect(failure["step"] as? String == "layout" && (failure["reason"] as? String ?? "").contains("symbolic link"), "\(failure)")
    }

    @Test(
        "each tampered bundle fails the audit at the same step (and entry index) in ledger audit and Tools/verify.py", arguments: StoreKind.all, cases)
    func tampered(store: StoreKind, _ c: Case) throws {
        let f = try AuditFixture.make(store)
        let bag = try f.copy("tampered")
        try tamper(c, f, bag)
        var extra = c.extra.map { $0 == "W1" ? f.w1VKey : $0 == "W2" ? f.w2VKey : $0 }
        var trust = f.trust
        if extra == ["--trust-other"] {
            extra = []
            trust = f.s.keyID("archivist")
        }
        let r = try f.s.run(["audit", bag, "--trust", trust, "--json"] + extra)
        #expect(r.status == 1, "\(c): \(r)")
        let report = try #require(try r.jsonLines().first)
        let failure = try #require(report["failure"] as? [String: Any], "\(c): no failure in \(report)")
        #expect(failure["step"] as? String == c.step, "\(c): \(failure)")
        if let index = c.index { #expect(failure["index"] as? Int == index, "\(c): \(failure)") }
        #expect(r.stderr.contains("audit failed: \(c.step)"), "\(c): \(r.stderr)")
        if let (status, p) = try python(bag, trust: trust, extra: extra) {
            #expect(status == 1, "verify.py accepted \(c): \(p)")
            #expect(p["step"] as? String == c.step, "verify.py on \(c): \(p) — ledger audit said \(failure)")
            if let index = c.index { #expect(p["index"] as? Int == index, "verify.py on \(c): \(p)") }
        }
        // Import refuses it and leaves nothing behind: no file, or the database still empty.
        let place = try f.s.newPlace("refused.ledger")
        let empty = try place.fingerprint()
        let imp = try f.s.run(["import", bag, "--ledger", place.location.description, "--trust", trust] + extra)
        #expect(imp.status == 1, "\(c): \(imp)")
        if store == .sqlite { #expect(!FileManager.default.fileExists(atPath: place.name)) }
        #expect(try place.fingerprint() == empty, "\(c): the refused import left something in \(place.location.description)")
    }
}
