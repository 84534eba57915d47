import Foundation
import LedgerCore
import LedgerCrypto
import Testing

@Suite("ledger CLI: verify catches tampering with the stored file", .enabled(if: SQLTool.isAvailable))
struct CLITamperTests {
    static let k: UInt64 = 11

    /// A ledger of 23 entries (genesis, two enrollments, 20 incidents) with a checkpoint at 23.
    private func sandbox() throws -> Sandbox {
        let s = try Sandbox()
        try s.standardSetup()
        try s.append((0..<20).map { EventJSON.make(subject: "incident:inc-\($0)", body: EventJSON.reportBody(title: ["en": "Event number \($0)"])) })
        let cp = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        try #require(cp.status == 0, "\(cp)")
        #expect(try s.verifiedSize() == 23)
        return s
    }

    private func storedLine(_ s: Sandbox, _ idx: UInt64) throws -> String {
        try SQLTool.entryLine(s.ledger, idx)
    }

    private func storeLine(_ s: Sandbox, _ idx: UInt64, _ line: String) throws {
        let hex = line.utf8.map { String(format: "%02x", $0) }.joined()
        try SQLTool.run(s.ledger, "UPDATE entries SET line = x'\(hex)' WHERE idx = \(idx)")
        #expect(try storedLine(s, idx) == line, "the tampered line was written")
    }

    /// Replaces the character at `offset` (ASCII text) with `replacement`.
    private func replacing(_ text: String, at offset: Int, with replacement: Character) -> String {
        var chars = Array(text)
        chars[offset] = replacement
        return String(chars)
    }

    private func expectVerifyFails(_ s: Sandbox, at index: UInt64, mentioning extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "verify must fail: \(r)", sourceLocation: sourceLocation)
        #expect(
            r.stderr.contains("entry \(index):") || r.stderr.contains("entry \(index) "), "stderr names entry \(index): \(r.stderr)",
            sourceLocation: sourceLocation)
        for m in extra { #expect(r.stderr.contains(m), "stderr mentions \(m): \(r.stderr)", sourceLocation: sourceLocation) }
        let j = try s.run(["verify", "--ledger", s.ledger, "--json"])
        #expect(j.status == 1, "\(j)", sourceLocation: sourceLocation)
        let o = try j.jsonLines().first
        #expect(o?["ok"] as? Bool == false, sourceLocation: sourceLocation)
        #expect((o?["index"] as? NSNumber)?.uint64Value == index, "verify --json reports index \(index): \(j.stdout)", sourceLocation: sourceLocation)
    }

    @Test("the file keeps lines in their compact form; one byte changed in any part of entry k's compact form: verify exits 1 naming entry k")
    func compactFormByteChanged() throws {
        let s = try sandbox()
        #expect(try SQLTool.run(s.ledger, "SELECT DISTINCT hex(substr(line, 1, 1)) FROM entries") == "02")
        let original = try SQLTool.run(s.ledger, "SELECT lower(hex(line)) FROM entries WHERE idx = \(Self.k)")
        let stored = try #require(Hex.decode(original))
        // The form byte, the index, the record time, the key id, the signature, the payload (a
        // token near its start, a copied byte at its end).
        for offset in [0, 8, 30, 40, 100, 133, stored.count - 2] {
            var damaged = stored
            damaged[offset] ^= 0x01
            try SQLTool.run(s.ledger, "UPDATE entries SET line = x'\(Hex.encode(damaged))' WHERE idx = \(Self.k)")
            try expectVerifyFails(s, at: Self.k)
        }
        try SQLTool.run(s.ledger, "UPDATE entries SET line = x'\(original)' WHERE idx = \(Self.k)")
        #expect(try s.verifiedSize() == 23)
    }

    @Test("one byte changed in the middle of entry k's base64 payload: verify exits 1 naming entry k")
    func payloadByteFlipped() throws {
        let s = try sandbox()
        let line = try storedLine(s, Self.k)
        let start = try #require(line.range(of: "\"payload\":\"")).upperBound
        let end = try #require(line.range(of: "\",\"signatures\"")).lowerBound
        let chars = Array(line)
        let from = line.distance(from: line.startIndex, to: start)
        let to = line.distance(from: line.startIndex, to: end)
        let mid = (from + to) / 2
        let tampered = replacing(line, at: mid, with: chars[mid] == "A" ? "B" : "A")
        #expect(tampered.count == line.count && tampered != line)
        try storeLine(s, Self.k, tampered)
        try expectVerifyFails(s, at: Self.k)
    }

    @Test("a fractional digit of entry k's record time changed: verify exits 1 naming entry k")
    func recordTimeChanged() throws {
        let s = try sandbox()
        let line = try storedLine(s, Self.k)
        let start = try #require(line.range(of: "\"recordedAt\":\"")).upperBound
        let offset = line.distance(from: line.startIndex, to: start) + 25  // the 6th fraction digit of YYYY-MM-DDTHH:MM:SS.ffffffZ
        let digit = Array(line)[offset]
        #expect(digit.isNumber)
        let tampered = replacing(line, at: offset, with: digit == "9" ? "8" : Character(String(digit.wholeNumberValue! + 1)))
        let newTime = String(Array(tampered)[(offset - 25)..<(offset + 2)])
        #expect(Timestamp.parseRecordTime(newTime) != nil, "still a valid record time: \(newTime)")
        try storeLine(s, Self.k, tampered)
        try expectVerifyFails(s, at: Self.k, mentioning: ["leaf hash"])
    }

    @Test("entry k's body rewritten and its stored leaf hash recomputed: the signature still catches it at entry k")
    func bodyRewrittenWithLeafHash() throws {
        let s = try sandbox()
        let line = try storedLine(s, Self.k)
        let envelope = try #require(line.range(of: "\"envelope\":").map { String(line[$0.upperBound...].dropLast()) })
        let payload = String(decoding: try Envelopes.payload(envelope), as: UTF8.self)
        #expect(payload.contains("Event number 8"))
        let forgedEnvelope = try Envelopes.replacingPayload(
            envelope, with: Data(payload.replacingOccurrences(of: "Event number 8", with: "Event number 9").utf8))
        let forged = line.replacingOccurrences(of: envelope, with: forgedEnvelope)
        #expect(forged != line)
        try storeLine(s, Self.k, forged)
        let leaf = Array(forged.utf8).withUnsafeBytes { MerkleHash.leaf($0) }
        // The leaf hash is kept in entries.leaf (older files: merkle level 0).
        let hasLeafColumn = try SQLTool.run(s.ledger, "SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'leaf'") == "1"
        if hasLeafColumn {
            try SQLTool.run(s.ledger, "UPDATE entries SET leaf = x'\(leaf.hex)' WHERE idx = \(Self.k)")
            #expect(try SQLTool.run(s.ledger, "SELECT lower(hex(leaf)) FROM entries WHERE idx = \(Self.k)") == leaf.hex)
        } else {
            try SQLTool.run(s.ledger, "UPDATE merkle SET hash = x'\(leaf.hex)' WHERE level = 0 AND idx = \(Self.k)")
            #expect(try SQLTool.run(s.ledger, "SELECT lower(hex(hash)) FROM merkle WHERE level = 0 AND idx = \(Self.k)") == leaf.hex)
        }
        try expectVerifyFails(s, at: Self.k, mentioning: ["signature"])
    }

    @Test("the last entries deleted after a checkpoint: verify exits 1")
    func entriesRemoved() throws {
        let s = try sandbox()
        try SQLTool.run(s.ledger, "DELETE FROM entries WHERE idx >= 21")
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("23") && r.stderr.contains("21"), "names the checkpoint size and the entries left: \(r.stderr)")
        // A checkpoint now refuses to sign over the shrunken log.
        let cp = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(cp.status == 1, "\(cp)")
        #expect(cp.stderr.contains("lost entries"), "\(cp)")
    }

    @Test("stored Merkle nodes rewritten after a checkpoint (history rewritten): the next checkpoint is refused, verify fails")
    func inconsistentTree() throws {
        let s = try sandbox()
        try s.append([EventJSON.make(subject: "incident:inc-after", body: EventJSON.reportBody(title: ["en": "after the checkpoint"]))])
        // The perfect subtree over entries 0–15 (level 4, index 0) now hashes to something else:
        // the tree no longer extends the one signed at size 23.
        try SQLTool.run(s.ledger, "UPDATE merkle SET hash = x'\(String(repeating: "ab", count: 32))' WHERE level = 4 AND idx = 0")
        let cp = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(cp.status == 1, "checkpoint must refuse: \(cp)")
        #expect(cp.stderr.contains("not consistent with the checkpoint at size 23"), "\(cp.stderr)")
        #expect(try SQLTool.run(s.ledger, "SELECT COUNT(*) FROM checkpoints") == "1", "no checkpoint was stored")
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("stored Merkle node at level 4, index 0"), "\(r.stderr)")
    }

    @Test(
        "edits to the derived tables are caught by verify",
        arguments: [
            ("UPDATE keys SET roles = 'admin,archivist' WHERE roles = 'archivist'", "key table"),
            ("UPDATE keys SET revoked_at = 5 WHERE roles = 'log'", "key table"),
            ("UPDATE subjects SET revision = 0 WHERE subject = 'incident:inc-3'", "subject revision"),
            ("DELETE FROM subjects WHERE subject = 'incident:inc-4'", "subject table"),
            ("UPDATE meta SET value = 'evil.example/x' WHERE key = 'origin'", "origin"),
            ("UPDATE entries SET type = 'incident.retracted' WHERE idx = 11", "type"),
            ("UPDATE entries SET subject = 'incident:inc-FAKE' WHERE idx = 11", "subject"),
            ("UPDATE entries SET signer = (SELECT keyid FROM keys WHERE roles = 'admin') WHERE idx = 11", "signer"),
            ("UPDATE entries SET recorded_at = '2000-01-01T00:00:00.000000Z' WHERE idx = 11", "stored recorded_at column"),
            ("UPDATE entries SET recorded_at = lower(recorded_at) WHERE idx = 11", "stored recorded_at column"),
            ("UPDATE entries SET event_id = zeroblob(16) WHERE idx = 11", "stored event_id column"),
            ("UPDATE entries SET event_id = substr(event_id, 1, 15) WHERE idx = 11", "stored event_id column"),
            ("UPDATE merkle SET hash = zeroblob(32) WHERE level = 1 AND idx = 3", "level 1, index 3"),
            ("DELETE FROM merkle WHERE level = 2 AND idx = 0", "level 2, index 0"),
        ])
    func derivedTables(_ sql: String, _ mention: String) throws {
        let s = try sandbox()
        try SQLTool.run(s.ledger, sql)
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "\(sql): \(r)")
        #expect(r.stderr.contains(mention), "\(sql): \(r.stderr)")
    }

    @Test("damage to SQLite's own page structure is reported as a damaged file (exit 5), not verified")
    func pageDamage() throws {
        let s = try sandbox()
        // Close cleanly so everything is in the main file, then corrupt the header of the
        // largest table page (a B-tree page header starts at the page's first byte).
        let pageSize = Int(try SQLTool.run(s.ledger, "PRAGMA page_size")) ?? 4096
        let page = Int(try SQLTool.run(s.ledger, "SELECT rootpage FROM sqlite_master WHERE name = 'entries'")) ?? 2
        var bytes = try #require(FileManager.default.contents(atPath: s.ledger))
        bytes[(page - 1) * pageSize + 5] ^= 0x01  // the cell-content-area offset
        try bytes.write(to: URL(fileURLWithPath: s.ledger))
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 5 || r.status == 1, "\(r)")
        #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)")
    }
}
