import Foundation
import LedgerTesting
import Testing

// Every test here runs on SQLite and PostgreSQL (`arguments: StoreKind.all`); none is about the
// ledger being a file.

@Suite("ledger CLI: happy path and idempotency")
struct CLIHappyPathTests {
    @Test("keys, init, enroll, append (file, stdin, batch, signed), checkpoint, log, verify", arguments: StoreKind.all)
    func fullWorkflow(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        let adminID = try s.newKey("admin", holder: "Admin A.")
        let archivistID = try s.newKey("archivist", holder: "Archivist B. (Aleppo desk)")
        let logID = try s.newKey("log", holder: "Log operator")
        #expect(Set([adminID, archivistID, logID]).count == 3)
        for id in [adminID, archivistID, logID] { #expect(id.count == 64 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }) }

        let genesis = try s.initLedger()
        #expect(genesis == adminID, "the genesis key id printed by init is the admin key's id")
        switch store {
        case .sqlite: #expect(FileManager.default.fileExists(atPath: s.ledger))
        case .postgres: #expect(try s.place.psql("SELECT count(*) FROM entries") == "1\n", "init wrote the genesis entry into the database")
        case .memory: Issue.record("the CLI cannot use an in-memory store")
        }

        #expect(try s.enroll("archivist", roles: "archivist") == 1)
        #expect(try s.enroll("log", roles: "log") == 2)

        // 3: an event file.
        let file = s.write(
            "event.json",
            EventJSON.make(subject: "incident:inc-aleppo-1", body: EventJSON.reportBody(title: ["en": "Strike on hospital", "ar": "قصف مشفى"])))
        var r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), file])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["appended 3"])

        // 4: from standard input (no file argument), JSON output.
        r = try s.run(
            ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--json"],
            stdin: Data(EventJSON.make(type: "facility.registered", subject: "facility:fac-1", body: ["names": ["en": "Al-Razi"], "type": "hospital"]).utf8))
        #expect(r.status == 0, "\(r)")
        let stdinOut = try r.jsonLines()
        #expect(stdinOut.count == 1)
        #expect(stdinOut.first?["status"] as? String == "appended")
        #expect((stdinOut.first?["index"] as? NSNumber)?.intValue == 4)
        #expect((stdinOut.first?["id"] as? String)?.count == 36)

        // 5–8: a batch, two events on the same subject with expects 0 then 1.
        let batch = s.write(
            "batch.jsonl",
            [
                EventJSON.make(subject: "incident:inc-homs-7", expects: 0),
                EventJSON.make(
                    type: "source.registered", subject: "source:src-1",
                    body: ["publisher": "SAMS", "title": "Report", "lang": "en", "type": "report", "url": "https://example.org/report"]),
                EventJSON.make(type: "incident.corrected", subject: "incident:inc-homs-7", expects: 1, body: EventJSON.correctionBody(title: "Corrected")),
                EventJSON.make(
                    type: "casualties.reported", subject: "incident:inc-aleppo-1", expects: 1,
                    body: ["source": "source:src-1", "category": "killed", "min": 3, "max": 3]),
            ].joined(separator: "\n") + "\n")
        r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--batch", batch])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["appended 5", "appended 6", "appended 7", "appended 8"])

        // 9: signed offline with `ledger sign`, appended with --signed.
        let toSign = s.write(
            "offline.json", EventJSON.make(type: "actor.registered", subject: "actor:actor-1", body: ["names": ["en": "Unknown"], "type": "other"]))
        r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--out", s.path("offline.env"), toSign])
        #expect(r.status == 0, "\(r)")
        let envelope = try #require(FileManager.default.contents(atPath: s.path("offline.env")).map { String(decoding: $0, as: UTF8.self) })
        #expect(envelope.hasSuffix("\n") && envelope.split(separator: "\n").count == 1)
        let envObject = try Envelopes.parse(String(envelope.split(separator: "\n")[0]))
        #expect(envObject["payloadType"] as? String == "application/vnd.incidentledger.event+json")
        #expect(((envObject["signatures"] as? [[String: Any]])?.first?["keyid"] as? String) == archivistID)
        r = try s.run(["append", "--ledger", s.ledger, "--signed", s.path("offline.env")])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["appended 9"])

        // Checkpoint signed by the log key.
        r = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(r.status == 0, "\(r)")
        let note = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(note.count >= 5, "\(r)")
        #expect(note.first == s.origin)
        #expect(note.dropFirst().first == "10", "checkpoint covers the 10 entries")
        #expect(note.contains { $0.hasPrefix("— \(s.origin) ") }, "the note carries a signature line by the origin")

        // log --json: indexes, types, signer names.
        r = try s.run(["log", "--ledger", s.ledger, "--json"])
        #expect(r.status == 0, "\(r)")
        let rows = try r.jsonLines()
        #expect(rows.map { ($0["index"] as? NSNumber)?.intValue ?? -1 } == Array(0..<10))
        #expect(
            rows.map { $0["type"] as? String ?? "" } == [
                "ledger.genesis", "key.enrolled", "key.enrolled", "incident.reported", "facility.registered", "incident.reported",
                "source.registered", "incident.corrected", "casualties.reported", "actor.registered",
            ])
        #expect(
            rows.map { $0["signerName"] as? String ?? "" } == ["Admin A.", "Admin A.", "Admin A."] + Array(repeating: "Archivist B. (Aleppo desk)", count: 7))
        #expect(rows.map { $0["signer"] as? String ?? "" } == Array(repeating: adminID, count: 3) + Array(repeating: archivistID, count: 7))
        #expect(rows[1]["subject"] as? String == archivistID)
        #expect(rows[2]["subject"] as? String == logID)
        #expect(rows[7]["subject"] as? String == "incident:inc-homs-7")
        #expect(Set(rows.compactMap { $0["id"] as? String }).count == 10, "every entry has its own event id")

        // key list shows the three keys, all active.
        r = try s.run(["key", "list", "--ledger", s.ledger, "--json"])
        #expect(r.status == 0, "\(r)")
        let keys = try r.jsonLines()
        #expect(keys.compactMap { $0["keyid"] as? String } == [adminID, archivistID, logID])
        #expect(keys.allSatisfy { $0["revokedAt"] is NSNull })

        // verify, unpinned and pinned.
        r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("ok: 10 entries, 1 checkpoints, 3 keys verified"), "\(r)")
        #expect(r.stdout.contains("NOT pinned"), "an unpinned verify says so")
        r = try s.run(["verify", "--ledger", s.ledger, "--trust", genesis])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("(pinned)"))
        #expect(try s.verifiedSize(trust: genesis) == 10)

        // Pinning another key id fails verification at entry 0.
        r = try s.run(["verify", "--ledger", s.ledger, "--trust", archivistID])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("entry 0"), "\(r)")
        #expect(r.stderr.contains(archivistID) && r.stderr.contains(adminID), "names the pinned and the actual genesis key: \(r)")

        // A malformed --trust is a usage error.
        r = try s.run(["verify", "--ledger", s.ledger, "--trust", "ABC"])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("--trust"))
    }

    @Test("re-submitting an event id prints `exists N` and adds nothing; reusing it for another body is a conflict", arguments: StoreKind.all)
    func idempotentResubmission(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append([EventJSON.make(subject: "incident:inc-1")])
        let id = EventJSON.uuidv7()
        let event = s.write("event.json", EventJSON.make(subject: "incident:inc-2", body: EventJSON.reportBody(title: ["en": "Shelling"]), id: id))
        var r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, event])
        #expect(r.status == 0, "\(r)")
        let env = s.write("event.env", r.stdout)
        let payload = try JSONSerialization.jsonObject(with: Envelopes.payload(r.lines[0])) as? [String: Any]
        #expect(payload?["id"] as? String == id, "the explicit id is signed into the payload")

        r = try s.run(["append", "--ledger", s.ledger, "--signed", env])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["appended 4"])
        let sizeAfterFirst = try s.verifiedSize()
        let logAfterFirst = try s.logJSON()

        r = try s.run(["append", "--ledger", s.ledger, "--signed", env])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["exists 4"], "the second submission names the same index")
        r = try s.run(["append", "--ledger", s.ledger, "--signed", "--json", env])
        #expect(r.status == 0, "\(r)")
        let json = try r.jsonLines()
        #expect(json.first?["status"] as? String == "existing")
        #expect((json.first?["index"] as? NSNumber)?.intValue == 4)
        #expect(json.first?["id"] as? String == id)

        // Re-signing the same event (new signedAt) through `append --key` is the same event too.
        r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["exists 4"])

        #expect(try s.verifiedSize() == sizeAfterFirst)
        #expect(try s.logJSON() == logAfterFirst, "the log did not change")

        // The same id with another body: conflict, naming the id and the entry that holds it.
        let other = s.write("other.json", EventJSON.make(subject: "incident:inc-2", body: EventJSON.reportBody(title: ["en": "Something else"]), id: id))
        r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, other])
        #expect(r.status == 0, "\(r)")
        let otherEnv = s.write("other.env", r.stdout)
        r = try s.run(["append", "--ledger", s.ledger, "--signed", otherEnv])
        #expect(r.status == 4, "\(r)")
        #expect(r.stderr.contains(id), "\(r)")
        #expect(r.stderr.contains("entry 4"), "\(r)")
        #expect(r.stdout.isEmpty)
        #expect(try s.verifiedSize() == sizeAfterFirst)
        #expect(try s.logJSON() == logAfterFirst)
    }

    @Test("one batch with the same event id twice appends it once", arguments: StoreKind.all)
    func duplicateWithinBatch(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        let id = EventJSON.uuidv7()
        let e = EventJSON.make(subject: "incident:inc-dup", id: id)
        let r = try s.run(
            ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--batch", s.write("dup.jsonl", e + "\n" + e + "\n")])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines == ["appended 3", "exists 3"])
        #expect(try s.verifiedSize() == 4)
    }

    @Test("usage errors exit 64 naming the option", arguments: StoreKind.all)
    func usageErrors(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        let e = s.write("e.json", EventJSON.make(subject: "incident:x"))
        // Neither --key nor --signed.
        var r = try s.run(["append", "--ledger", s.ledger, e])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("--key") && r.stderr.contains("--signed"), "\(r)")
        // Both.
        r = try s.run(["append", "--ledger", s.ledger, "--signed", "--key", s.keyPath("archivist"), e])
        #expect(r.status == 64, "\(r)")
        // An invalid origin.
        r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", "has space", e])
        #expect(r.status == 64, "\(r)")
        #expect(r.stderr.contains("origin"), "\(r)")
        // A malformed key id to revoke.
        r = try s.run(["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--reason", "x", "nothex"])
        #expect(r.status == 64, "\(r)")
        #expect(try s.verifiedSize() == 3)
    }
}
