import Foundation
import LedgerCrypto
import LedgerTesting
import Testing

// Every test here runs on SQLite and PostgreSQL (`arguments: StoreKind.all`).

/// Issue 14 through the binary: sealing on append and offline signing, readers, erasure,
/// keeper's bundles and the view a checkpoint commits to.
@Suite("ledger reader / erase / --reader-key / sign --openings / export --for / snapshot --check")
struct CLISealedTests {
    static let facility = EventJSON.make(
        type: "facility.registered", subject: "facility:m10",
        body: [
            "names": ["en": "M10"], "type": "hospital",
            "location": ["town": "Aleppo", "coordinates": ["lat": 36.2021, "lon": 37.1343, "precision": "exact"]],
        ])

    @Test("sealed on append and on offline signing; read with the reader key; erased for good; kept in a keeper's bundle", arguments: StoreKind.all)
    func sealedFlow(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.newKey("reader")
        // No reader yet: refused, nothing written.
        let event = s.write("facility.json", Self.facility)
        let refused = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event])
        #expect(refused.status == 3 && refused.stderr.contains("no reader is enrolled"), "\(refused)")
        // The archivist's signing key cannot be a reader.
        let own = try s.run(["reader", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("archivist"), "reader:x"])
        #expect(own.status == 3, "\(own)")
        let enrolled = try s.run([
            "reader", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("reader"), "reader:keeper",
        ])
        try #require(enrolled.status == 0, "\(enrolled)")
        #expect(try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event]).status == 0)
        let shown = try s.run(["show", "--ledger", s.ledger, "facility:m10"])
        #expect(shown.stdout.contains("(sealed: ") && !shown.stdout.contains("36.2021"), "\(shown)")
        let opened = try s.run(["show", "--ledger", s.ledger, "facility:m10", "--reader-key", s.keyPath("reader")])
        #expect(opened.stdout.contains("36.2021, 37.1343 (exact)"), "\(opened)")
        // Offline: signing needs --openings; the envelope holds the commitment only.
        let second = s.write("second.json", Self.facility.replacingOccurrences(of: "m10", with: "m11"))
        let noOpenings = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--out", s.path("x.jsonl"), second])
        #expect(noOpenings.status == 65, "\(noOpenings)")
        let signed = try s.run([
            "sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--out", s.path("env.jsonl"), "--openings", s.path("openings.jsonl"), second,
        ])
        try #require(signed.status == 0, "\(signed)")
        let envelope = try String(contentsOfFile: s.path("env.jsonl"), encoding: .utf8)
        #expect(
            !String(
                decoding: Data(base64Encoded: envelope.components(separatedBy: "\"payload\":\"")[1].components(separatedBy: "\"")[0]) ?? Data(), as: UTF8.self
            ).contains("36.2021"))
        #expect(try s.run(["append", "--ledger", s.ledger, "--signed", s.path("env.jsonl")]).status == 65)
        #expect(try s.run(["append", "--ledger", s.ledger, "--signed", "--openings", s.path("openings.jsonl"), s.path("env.jsonl")]).status == 0)
        // A keeper's bundle for the reader, audited; a public one without sealed.jsonl.
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")]).status == 0)
        let keys = try s.run(["key", "list", "--ledger", s.ledger, "--json"]).lines
        let genesis = try #require(keys.first?.components(separatedBy: "\"keyid\":\"").dropFirst().first?.prefix(64)).description
        let keeper = try s.run(["export", "--ledger", s.ledger, "--out", s.path("keeper"), "--for", s.keyPath("reader")])
        #expect(keeper.stdout.contains("keeper's bundle: 2 sealed values"), "\(keeper)")
        let audit = try s.run(["audit", s.path("keeper"), "--trust", genesis])
        #expect(audit.status == 0 && audit.stdout.contains("keeper's bundle: 2 sealed values"), "\(audit)")
        // The snapshot the checkpoint commits to.
        let size = try s.run(["log", "--ledger", s.ledger, "--json"]).lines.count
        #expect(try s.run(["snapshot", "--ledger", s.ledger, "--at-size", String(size), "--out", s.path("snap.json")]).status == 0)
        let vkey = try s.run(["key", "vkey", s.keyPath("log"), "--name", s.origin]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        _ = s.write("cp.txt", try String(contentsOfFile: s.path("keeper/data/checkpoint"), encoding: .utf8))
        let check = try s.run(["snapshot", "--check", s.path("cp.txt"), "--log-key", vkey, s.path("snap.json")])
        #expect(check.status == 0, "\(check)")
        // Erase the first value: gone for the reader too; the log still verifies and audits.
        let json = try s.run(["show", "--ledger", s.ledger, "facility:m10", "--json"]).stdout
        let commitment = try #require(json.components(separatedBy: "{\"sealed\":\"").dropFirst().first?.prefix(64)).description
        let erased = try s.run(["erase", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--reason", "a lawful erasure request", commitment])
        #expect(erased.status == 0, "\(erased)")
        #expect(try s.run(["erase", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--reason", "again", commitment]).status == 3)
        let after = try s.run(["show", "--ledger", s.ledger, "facility:m10", "--reader-key", s.keyPath("reader")])
        #expect(after.stdout.contains("(erased: ") && !after.stdout.contains("36.2021"), "\(after)")
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        if store == .sqlite {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: s.ledger))
            #expect(bytes.range(of: Data("36.2021".utf8)) == nil)
        }
    }
}
