import Foundation
import LedgerTesting
import Testing

// Runs on SQLite and PostgreSQL (`arguments: StoreKind.all`): every test about what a refused
// input does to the ledger. SQLite only, because they are about the file itself:
// - truncatedDatabase: cuts the ledger file in half (bytes of a file);
// - foreignSQLite: a SQLite file made by another program (sqlite3);
// - notADatabase: a text file and an empty file given as the ledger;
// - missingLedger: a path where no file exists, and that no file or -wal appears there.

/// Runs a command that must fail, and checks its exit status, that stderr names the problem,
/// that the ledger is unchanged (`Sandbox.fingerprint()`: the file and its WAL byte for byte, or
/// a `pg_dump` of the database), and that `ledger log --json` is unchanged. With `ledger` (a
/// file other than the sandbox's ledger, in the SQLite-only tests of damaged files), that file
/// and its WAL are compared byte for byte (`FileSnapshot`).
@discardableResult
func expectRefusal(
    _ s: Sandbox, _ args: [String], stdin: Data? = nil, status: Int32, mentions: [String], ledger: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> CLIResult {
    let path = ledger ?? s.ledger
    let logBefore = try? s.run(["log", "--ledger", path, "--json", "--limit", "100000"])
    // The file's bytes, for the file-level tests and for naming what changed in a SQLite failure.
    let before = ledger != nil || s.store == .sqlite ? FileSnapshot(path) : nil
    let fingerprintBefore = ledger == nil ? try s.fingerprint() : nil
    let r = try s.run(args, stdin: stdin)
    #expect(r.status == status && !r.signaled, "expected exit \(status): \(r)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("ledger: error: ") || status == 64, "stderr starts with `ledger: error:`: \(r)", sourceLocation: sourceLocation)
    for m in mentions {
        #expect(r.stderr.contains(m), "stderr should name \(m.debugDescription): \(r.stderr)", sourceLocation: sourceLocation)
    }
    #expect(!r.stdout.contains("appended"), "nothing may be reported as appended: \(r)", sourceLocation: sourceLocation)
    let changed = { before.map { $0.difference(to: FileSnapshot(path)) } ?? "the pg_dump of the database differs" }
    if let fingerprintBefore {
        #expect(try s.fingerprint() == fingerprintBefore, "the ledger must be unchanged after a refusal: \(changed())", sourceLocation: sourceLocation)
    } else if let before {
        #expect(FileSnapshot(path) == before, "the ledger file must be byte-for-byte unchanged after a refusal: \(changed())", sourceLocation: sourceLocation)
    }
    if let logBefore, logBefore.status == 0 {
        let logAfter = try s.run(["log", "--ledger", path, "--json", "--limit", "100000"])
        #expect(logAfter.status == 0 && logAfter.stdout == logBefore.stdout, "ledger log --json changed", sourceLocation: sourceLocation)
    }
    return r
}

@Suite("ledger CLI: bad input is refused and leaves the ledger unchanged")
struct CLIBadInputTests {
    /// A sandbox with the standard keys and one incident (subject incident:inc-1 at revision 1).
    private func sandbox(_ store: StoreKind = .sqlite) throws -> Sandbox {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append([EventJSON.make(subject: "incident:inc-1")])
        return s
    }

    private func appendArgs(_ s: Sandbox, key: String = "archivist", _ extra: String...) -> [String] {
        ["append", "--ledger", s.ledger, "--key", s.keyPath(key)] + extra
    }

    @Test("malformed JSON: exit 65 naming file, line and column", arguments: StoreKind.all)
    func malformedJSON(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("bad.json", "{\"type\": \"incident.reported\",\n  \"subject\": oops}")
        try expectRefusal(s, appendArgs(s, f), status: 65, mentions: ["bad.json", "line 2, column 14"])
        // The same through standard input.
        try expectRefusal(s, appendArgs(s), stdin: Data("{\"type\": ".utf8), status: 65, mentions: ["<stdin>", "line 1, column"])
        // A malformed envelope with --signed.
        let e = s.write("bad.env", "{\"payloadType\": \"application/vnd.incidentledger.event+json\",, }")
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--signed", e], status: 65, mentions: ["bad.env", "line 1, column 61"])
        // A duplicate key, text not in NFC, two documents without --batch, a batch with no events.
        let dup = s.write(
            "dup.json",
            #"{"type":"incident.reported","type":"incident.corrected","subject":"incident:x","expects":0,"body":{"title":{"en":"x"},"#
                + #""occurred":"2019-05-05","place":{"admin1":"Idlib"}}}"#)
        try expectRefusal(s, appendArgs(s, dup), status: 65, mentions: ["dup.json", "duplicate key \"type\"", "line 1, column"])
        // Names that collide once normalised to NFC ("é" precomposed and decomposed).
        let collide = s.write(
            "collide.json",
            "{\"type\":\"incident.reported\",\"subject\":\"incident:x\",\"expects\":0,\"body\":{\"title\":{\"en\":\"x\"},\"occurred\":\"2019-05-05\","
                + "\"place\":{\"admin1\":\"Idlib\"},\"\u{E9}\":1,\"e\u{301}\":2}}")
        try expectRefusal(s, appendArgs(s, collide), status: 65, mentions: ["collide.json", "NFC"])
        // An envelope signed elsewhere whose payload is not NFC is refused at the door.
        let signed = try s.run([
            "sign", "--key", s.keyPath("archivist"), "--origin", s.origin,
            s.write("cafe.json", EventJSON.make(subject: "incident:cafe", body: EventJSON.reportBody(title: ["en": "Cafe"]))),
        ])
        try #require(signed.status == 0, "\(signed)")
        let payload = String(decoding: try Envelopes.payload(signed.lines[0]), as: UTF8.self).replacingOccurrences(of: "Cafe", with: "Cafe\u{301}")
        let nfdEnvelope = s.write("nfd.env", try Envelopes.replacingPayload(signed.lines[0], with: Data(payload.utf8)) + "\n")
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--signed", nfdEnvelope], status: 65, mentions: ["nfd.env", "NFC"])
        let two = s.write("two.json", EventJSON.make(subject: "incident:x") + "\n" + EventJSON.make(subject: "incident:y") + "\n")
        try expectRefusal(s, appendArgs(s, two), status: 65, mentions: ["two.json", "line 2, column 1"])
        let blank = s.write("blank.jsonl", "\n   \n")
        try expectRefusal(s, appendArgs(s, "--batch", blank), status: 65, mentions: ["blank.jsonl", "no events"])
        #expect(try s.verifiedSize() == 4)
    }

    @Test("a batch whose line 1 has a forged signature and line 2 a stale expects: line 1 is reported", arguments: StoreKind.all)
    func firstFailureFirst(store: StoreKind) throws {
        let s = try sandbox(store)
        let signed = try s.run([
            "sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--batch",
            s.write(
                "two.jsonl",
                EventJSON.make(subject: "incident:f1", body: EventJSON.reportBody(title: ["en": "Forged"])) + "\n"
                    + EventJSON.make(subject: "incident:inc-1", expects: 0) + "\n"),
        ])
        try #require(signed.status == 0, "\(signed)")
        let forgedPayload = String(decoding: try Envelopes.payload(signed.lines[0]), as: UTF8.self).replacingOccurrences(of: "Forged", with: "Forgex")
        let forged = try Envelopes.replacingPayload(signed.lines[0], with: Data(forgedPayload.utf8))
        let batch = s.write("forged.jsonl", forged + "\n" + signed.lines[1] + "\n")
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--signed", "--batch", batch], status: 3, mentions: ["forged.jsonl:1", "signature"])
    }

    @Test("an event drafted in decomposed Unicode is signed in NFC", arguments: StoreKind.all)
    func draftsAreNormalised(store: StoreKind) throws {
        let s = try sandbox(store)
        let nfd = s.write(
            "nfd.json",
            "{\"type\":\"incident.reported\",\"subject\":\"incident:x\",\"expects\":0,\"body\":{\"title\":{\"en\":\"Cafe\u{301}\"},"
                + "\"occurred\":\"2019-05-05\",\"place\":{\"admin1\":\"Idlib\"}}}")
        let r = try s.run(appendArgs(s, nfd))
        #expect(r.status == 0, "\(r)")
        let raw = try s.run(["log", "--ledger", s.ledger, "--raw", "--from", "4"])
        let entry = try #require(try JSONSerialization.jsonObject(with: Data(raw.lines[0].utf8)) as? [String: Any])
        let envelope = try #require(entry["envelope"] as? [String: Any])
        let base64 = try #require(envelope["payload"] as? String)
        let payload = String(decoding: try #require(Data(base64Encoded: base64)), as: UTF8.self)
        #expect(payload.unicodeScalars.contains("\u{E9}"), "precomposed é stored: \(payload)")
        #expect(!payload.unicodeScalars.contains("\u{301}"), "no combining accent stored")
    }

    @Test("wrong field type: exit 65 naming the field", arguments: StoreKind.all)
    func wrongFieldType(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2", expects: "0"))
        try expectRefusal(s, appendArgs(s, f), status: 65, mentions: ["e.json", "`expects`"])
        let g = s.write("g.json", #"{"type":"incident.reported","subject":"incident:inc-2","expects":0,"body":"not an object"}"#)
        try expectRefusal(s, appendArgs(s, g), status: 65, mentions: ["`body`"])
        let h = s.write(
            "h.json",
            #"{"type":"incident.reported","subject":"incident:inc-2","expects":-1,"body":{"title":{"en":"x"},"occurred":"2019-05-05","#
                + #""place":{"admin1":"Idlib"}}}"#)
        try expectRefusal(s, appendArgs(s, h), status: 65, mentions: ["`expects`"])
        let i = s.write("i.json", EventJSON.make(subject: "incident:inc-2", id: "0190b3d8-1111-4111-8111-111111111111"))  // a UUIDv4-shaped id
        try expectRefusal(s, appendArgs(s, i), status: 65, mentions: ["`id`"])
    }

    @Test("unknown field: exit 65 naming it", arguments: StoreKind.all)
    func unknownField(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2", extra: ["colour": "red"]))
        try expectRefusal(s, appendArgs(s, f), status: 65, mentions: ["e.json", "colour"])
    }

    @Test("payload over 1 MiB: exit 65", arguments: StoreKind.all)
    func oversizedPayload(store: StoreKind) throws {
        let s = try sandbox(store)
        // The event text itself is over the limit.
        // (A valid incident body whose summary carries the padding, spread over enough languages
        // to keep each text within the 5000 code point limit: only the size is wrong.)
        let big = s.write("big.json", EventJSON.make(subject: "incident:inc-2", body: EventJSON.reportBody(summary: EventJSON.padding((1 << 20) + 100))))
        try expectRefusal(s, appendArgs(s, big), status: 65, mentions: ["big.json", "1048576"])
        // The event text is just under the limit, the signed payload (with ledger, id, signedAt) just over.
        let parts = 220  // fixed, so the text grows by one byte per padding character
        let skeleton = EventJSON.make(subject: "incident:inc-2", body: EventJSON.reportBody(summary: EventJSON.padding(0, parts: parts)))
        let edge = s.write(
            "edge.json",
            EventJSON.make(
                subject: "incident:inc-2", body: EventJSON.reportBody(summary: EventJSON.padding((1 << 20) - skeleton.utf8.count - 1, fill: "y", parts: parts)))
        )
        #expect(FileManager.default.contents(atPath: edge)!.count == (1 << 20) - 1)
        try expectRefusal(s, appendArgs(s, edge), status: 65, mentions: ["edge.json", "payload is", "1048576"])
        // Envelopes carrying a payload just over 1 MiB, and one of 1.5 MiB (the envelope itself is then too large).
        func envelope(payloadBytes: Int) -> String {
            let payload = Data(repeating: UInt8(ascii: "z"), count: payloadBytes)
            return #"{"payloadType":"application/vnd.incidentledger.event+json","payload":""# + payload.base64EncodedString()
                + #"","signatures":[{"keyid":""# + s.keyID("archivist") + #"","sig":""# + Data(count: 64).base64EncodedString() + #""}]}"#
        }
        try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--signed", s.write("over.env", envelope(payloadBytes: (1 << 20) + 1000))], status: 65,
            mentions: ["over.env", "payload is 1049576 bytes", "1048576"])
        try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--signed", s.write("huge.env", envelope(payloadBytes: 3 << 19))], status: 65,
            mentions: ["huge.env", "larger than"])
    }

    @Test("a key that is not enrolled: exit 3 naming the key id", arguments: StoreKind.all)
    func unknownKey(store: StoreKind) throws {
        let s = try sandbox(store)
        let stranger = try s.newKey("stranger")
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        try expectRefusal(s, appendArgs(s, key: "stranger", f), status: 3, mentions: [stranger, "not enrolled"])
    }

    @Test("a revoked key: exit 3 saying `revoked at entry N`", arguments: StoreKind.all)
    func revokedKey(store: StoreKind) throws {
        let s = try sandbox(store)
        let id = try s.newKey("archivist2")
        #expect(try s.enroll("archivist2", roles: "archivist") == 4)
        try s.append([EventJSON.make(subject: "incident:inc-by-2")], key: "archivist2")
        let r = try s.run(["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--reason", "laptop stolen", id])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("revoked \(id) at entry 6"), "\(r)")
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-3"))
        try expectRefusal(s, appendArgs(s, key: "archivist2", f), status: 3, mentions: [id, "revoked at entry 6"])
        // Envelopes it signed offline are refused too.
        let signed = try s.run(["sign", "--key", s.keyPath("archivist2"), "--origin", s.origin, f])
        #expect(signed.status == 0, "\(signed)")
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--signed", s.write("e.env", signed.stdout)], status: 3, mentions: [id, "revoked at entry 6"])
        // Its earlier entry still verifies.
        #expect(try s.verifiedSize() == 7)
        let keys = try s.run(["key", "list", "--ledger", s.ledger, "--json"]).jsonLines()
        #expect((keys.first { $0["keyid"] as? String == id }?["revokedAt"] as? NSNumber)?.intValue == 6)
    }

    @Test("a key without the needed role: exit 3 naming the role", arguments: StoreKind.all)
    func missingRole(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        try expectRefusal(s, appendArgs(s, key: "log", f), status: 3, mentions: [s.keyID("log"), "archivist role", "incident.reported"])
        // An archivist cannot enroll keys.
        _ = try s.newKey("other")
        try expectRefusal(
            s, ["key", "enroll", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--public-key-file", s.keyPath("other"), "--roles", "admin"],
            status: 3, mentions: [s.keyID("archivist"), "admin role"])
    }

    @Test("stale expects: exit 4 naming subject and revision", arguments: StoreKind.all)
    func staleExpects(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(type: "incident.corrected", subject: "incident:inc-1", expects: 0))
        try expectRefusal(s, appendArgs(s, f), status: 4, mentions: ["stale expects", "incident:inc-1", "revision 1", "expects 0"])
        let g = s.write("g.json", EventJSON.make(subject: "incident:inc-new", expects: 2))
        try expectRefusal(s, appendArgs(s, g), status: 4, mentions: ["incident:inc-new", "revision 0", "expects 2"])
    }

    @Test("an envelope signed for another ledger origin: exit 3", arguments: StoreKind.all)
    func foreignOrigin(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        let r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", "other.example/x", f])
        #expect(r.status == 0, "\(r)")
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--signed", s.write("e.env", r.stdout)], status: 3, mentions: ["other.example/x", s.origin])
    }

    @Test("a payload altered after signing: exit 3", arguments: StoreKind.all)
    func alteredPayload(store: StoreKind) throws {
        let s = try sandbox(store)
        let f = s.write("e.json", EventJSON.make(subject: "incident:inc-2", body: EventJSON.reportBody(title: ["en": "Hospital hit at 10:00"])))
        let r = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, f])
        #expect(r.status == 0, "\(r)")
        let line = try #require(r.lines.first)
        var payload = [UInt8](try Envelopes.payload(line))
        let text = String(decoding: payload, as: UTF8.self)
        let at = try #require(text.range(of: "10:00"))
        let offset = text.utf8.distance(from: text.startIndex, to: at.lowerBound)
        payload[offset] = UInt8(ascii: "2")  // 10:00 → 20:00, still valid JSON
        let forged = try Envelopes.replacingPayload(line, with: Data(payload))
        #expect(forged != line)
        try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--signed", s.write("forged.env", forged + "\n")], status: 3,
            mentions: ["signature does not verify", s.keyID("archivist")])
        // The original still appends.
        let ok = try s.run(["append", "--ledger", s.ledger, "--signed", s.write("ok.env", line + "\n")])
        #expect(ok.status == 0 && ok.lines == ["appended 4"], "\(ok)")
    }

    @Test("a batch whose line 3 of 5 is malformed: exit 65 naming line 3, nothing appended", arguments: StoreKind.all)
    func batchMalformedLine(store: StoreKind) throws {
        let s = try sandbox(store)
        var lines = (0..<5).map { EventJSON.make(subject: "incident:b-\($0)") }
        lines[2] = EventJSON.make(subject: "incident:b-2", expects: "zero")
        let f = s.write("batch.jsonl", lines.joined(separator: "\n") + "\n")
        try expectRefusal(s, appendArgs(s, "--batch", f), status: 65, mentions: ["batch.jsonl:3", "`expects`"])
        // The same for signed envelopes: line 3 is not an envelope.
        let signed = try s.run([
            "sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--batch",
            s.write("good.jsonl", (0..<5).map { EventJSON.make(subject: "incident:c-\($0)") }.joined(separator: "\n")),
        ])
        #expect(signed.status == 0, "\(signed)")
        var envs = signed.lines
        #expect(envs.count == 5)
        envs[2] = #"{"payloadType":"application/vnd.incidentledger.event+json","payload":"!!","signatures":[]}"#
        try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--signed", "--batch", s.write("b.env", envs.joined(separator: "\n"))], status: 65, mentions: ["b.env:3"])
        #expect(try s.verifiedSize() == 4)
    }

    @Test("a batch whose line 3 of 5 is refused by the rules: exit 3 naming it, nothing appended", arguments: StoreKind.all)
    func batchRefusedLine(store: StoreKind) throws {
        let s = try sandbox(store)
        var lines = (0..<5).map { EventJSON.make(subject: "incident:b-\($0)") }
        lines[2] = EventJSON.make(type: "incident.exploded", subject: "incident:b-2")
        let f = s.write("batch.jsonl", lines.joined(separator: "\n") + "\n")
        let r = try expectRefusal(s, appendArgs(s, "--batch", f), status: 3, mentions: ["batch.jsonl", "incident.exploded", "nothing was appended"])
        #expect(r.stderr.contains("#3") || r.stderr.contains(":3") || r.stderr.contains("line 3"), "names line 3: \(r.stderr)")
        // Signed batch where line 3 is signed by a key that is not enrolled.
        _ = try s.newKey("stranger")
        var envs: [String] = []
        for i in 0..<5 {
            let r = try s.run([
                "sign", "--key", s.keyPath(i == 2 ? "stranger" : "archivist"), "--origin", s.origin,
                s.write("s\(i).json", EventJSON.make(subject: "incident:s-\(i)")),
            ])
            envs.append(r.stdout.trimmingCharacters(in: .newlines))
        }
        let r2 = try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--signed", "--batch", s.write("b.env", envs.joined(separator: "\n"))], status: 3,
            mentions: [s.keyID("stranger"), "nothing was appended"])
        #expect(r2.stderr.contains("#3") || r2.stderr.contains(":3") || r2.stderr.contains("line 3"), "names line 3: \(r2.stderr)")
        #expect(try s.verifiedSize() == 4)
    }

    @Test("a refused batch event is located by its line in the file, not its position among non-blank lines", arguments: StoreKind.all)
    func batchRefusedLineAfterBlankLine(store: StoreKind) throws {
        let s = try sandbox(store)
        // Line 2 is blank, so the bad event on line 4 is the batch's third event.
        let text =
            [
                EventJSON.make(subject: "incident:b-0"), "", EventJSON.make(subject: "incident:b-1"),
                EventJSON.make(type: "incident.exploded", subject: "incident:b-2"), EventJSON.make(subject: "incident:b-3"),
            ]
            .joined(separator: "\n") + "\n"
        let r = try expectRefusal(s, appendArgs(s, "--batch", s.write("batch.jsonl", text)), status: 3, mentions: ["incident.exploded"])
        #expect(
            r.stderr.contains("batch.jsonl:4") || r.stderr.contains("line 4"),
            "a refusal in a batch should name the file line (4) like parse errors do, not only the event's position: \(r.stderr)")
        // Parse errors do name the file line.
        let bad =
            [
                EventJSON.make(subject: "incident:b-0"), "", EventJSON.make(subject: "incident:b-1"), EventJSON.make(subject: "incident:b-2", expects: "0"),
                EventJSON.make(subject: "incident:b-3"),
            ]
            .joined(separator: "\n") + "\n"
        try expectRefusal(s, appendArgs(s, "--batch", s.write("bad.jsonl", bad)), status: 65, mentions: ["bad.jsonl:4", "`expects`"])
    }

    @Test("a truncated database: exit 5, the file untouched")
    func truncatedDatabase() throws {
        let s = try sandbox()
        try s.append(
            (0..<30).map { EventJSON.make(subject: "incident:pad-\($0)", body: EventJSON.reportBody(summary: ["en": String(repeating: "p", count: 500)])) })
        let copy = s.path("copy.ledger")
        try FileManager.default.copyItem(atPath: s.ledger, toPath: copy)
        let full = try #require(FileManager.default.contents(atPath: copy))
        #expect(full.count >= 8 * 4096, "the ledger spans several pages")
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: copy))
        for args in [["verify", "--ledger", copy], ["log", "--ledger", copy], appendArgs(s, s.write("e.json", EventJSON.make(subject: "incident:x")))] {
            var a = args
            if let i = a.firstIndex(of: s.ledger) { a[i] = copy }
            try expectRefusal(s, a, status: 5, mentions: ["copy.ledger", "truncated"], ledger: copy)
        }
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal") || FileSnapshot(copy).wal.isEmpty)
        #expect(try s.verifiedSize() == 34, "the original is intact")
    }

    @Test("a foreign SQLite database: exit 5, the file untouched", .enabled(if: SQLTool.isAvailable))
    func foreignSQLite() throws {
        let s = try sandbox()
        let foreign = s.path("foreign.db")
        try SQLTool.run(foreign, "CREATE TABLE entries (idx INTEGER PRIMARY KEY, line BLOB);\nINSERT INTO entries VALUES (0, x'00');")
        #expect(FileManager.default.fileExists(atPath: foreign))
        for args in [["verify", "--ledger", foreign], ["log", "--ledger", foreign], appendArgs(s, s.write("e.json", EventJSON.make(subject: "incident:x")))] {
            var a = args
            if let i = a.firstIndex(of: s.ledger) { a[i] = foreign }
            try expectRefusal(s, a, status: 5, mentions: ["foreign.db", "not an IncidentLedger ledger"], ledger: foreign)
        }
    }

    @Test("a file that is not a database, or is empty: exit 5, untouched")
    func notADatabase() throws {
        let s = try sandbox()
        let text = s.write("notes.txt", String(repeating: "These are not the droids you are looking for.\n", count: 200))
        let empty = s.write("empty.ledger", "")
        for path in [text, empty] {
            for args in [["verify", "--ledger", path], ["log", "--ledger", path], appendArgs(s, s.write("e.json", EventJSON.make(subject: "incident:x")))] {
                var a = args
                if let i = a.firstIndex(of: s.ledger) { a[i] = path }
                try expectRefusal(s, a, status: 5, mentions: [(path as NSString).lastPathComponent, "not a SQLite database"], ledger: path)
            }
        }
    }

    @Test("a missing ledger path: exit 5, nothing created")
    func missingLedger() throws {
        let s = try sandbox()
        let missing = s.path("nowhere.ledger")
        for args in [
            ["verify", "--ledger", missing], ["log", "--ledger", missing],
            ["append", "--ledger", missing, "--key", s.keyPath("archivist"), s.write("e.json", EventJSON.make(subject: "incident:x"))],
        ] {
            try expectRefusal(s, args, status: 5, mentions: ["nowhere.ledger", "does not exist"], ledger: missing)
            #expect(!FileManager.default.fileExists(atPath: missing))
            #expect(!FileManager.default.fileExists(atPath: missing + "-wal"))
        }
    }
}
