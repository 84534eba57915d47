import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@Suite("Streaming verifier")
struct LogVerifierTests {
    func log(reports: Int = 20) -> [Envelope] {
        var es = Fixtures.standardPrefix()
        for i in 0..<reports { es.append(Fixtures.report(subject: "inc-\(i % 5)", expects: UInt64(i / 5), n: UInt64(10 + i))) }
        return es
    }

    func verify(_ lines: [[UInt8]], trust: String? = nil, batch: Int = 7) throws(LedgerError) -> LogVerifier {
        var v = LogVerifier(trustedGenesisKeyID: trust, parallelism: 2)
        var i = 0
        while i < lines.count {
            try v.process(Array(lines[i..<min(lines.count, i + batch)]))
            i += batch
        }
        try v.finish()
        return v
    }

    @Test("a valid log verifies and its root matches an in-memory tree")
    func valid() throws {
        let lines = Fixtures.lines(log())
        let v = try verify(lines, trust: KeyID.of(Fixtures.admin.publicKey))
        var tree = InMemoryMerkleNodes()
        for l in lines { tree.append(leafBytes: l) }
        #expect(v.size == UInt64(lines.count))
        #expect(v.root == tree.root)
    }

    @Test("a flipped byte inside any entry is reported at that entry's index")
    func tamper() throws {
        let lines = Fixtures.lines(log())
        var rng = SystemRandomNumberGenerator()
        for target in [0, 1, 5, 13, lines.count - 1] {
            for _ in 0..<12 {
                var bad = lines
                let pos = Int.random(in: 0..<bad[target].count, using: &rng)
                bad[target][pos] ^= UInt8.random(in: 1...255, using: &rng)
                do {
                    var v = try verify(bad)
                    // A flip may leave the entry valid only if it changed nothing signed and nothing
                    // structural, e.g. a record-time digit: then the root must differ.
                    var tree = InMemoryMerkleNodes()
                    for l in lines { tree.append(leafBytes: l) }
                    #expect(v.root != tree.root, "flip at \(target):\(pos) left the root unchanged")
                    _ = v.size
                    v.parallelism = 1
                } catch {
                    // Record times are not signed: a flip that makes entry `target`'s time later than the
                    // next entry's is only visible at the next entry, whose message names both.
                    let laterThanNext = error.index == UInt64(target + 1) && error.message.contains("earlier than entry \(target)'s")
                    #expect(error.index == UInt64(target) || laterThanNext, "flip in entry \(target) at byte \(pos) reported as \(error)")
                }
            }
        }
    }

    @Test("a record-time change is caught against the stored leaf hash at that index")
    func storedLeaves() throws {
        var lines = Fixtures.lines(log())
        let leaves = lines.map { l in
            let e = try! EntryLine(bytes: l)
            let p = try! EventPayload(bytes: e.envelope.payload)
            return StoredEntry(
                leaf: l.withUnsafeBytes { MerkleHash.leaf($0) }, recordedAt: e.recordedAt.recordTimeText, type: p.type, subject: p.subject,
                signer: e.envelope.keyID, eventID: UUIDv7.parse(p.id)!)
        }
        // Move entry 9's record time one microsecond later: still ordered, still well-formed.
        var text = String(decoding: lines[9], as: UTF8.self)
        text = text.replacingOccurrences(of: ".000009Z", with: ".000010Z")
        lines[9] = Array(text.utf8)
        var v = LogVerifier(parallelism: 2)
        do {
            try v.process(lines, stored: leaves)
            try v.finish()
            Issue.record("accepted")
        } catch { #expect(error.index == 9) }
    }

    @Test("reordered, missing or duplicated entries are refused at the right index")
    func order() throws {
        let lines = Fixtures.lines(log())
        var swapped = lines
        swapped.swapAt(6, 7)
        #expect(throws: LedgerError.self) { try verify(swapped) }
        do { _ = try verify(swapped) } catch { #expect(error.index == 6) }
        var missing = lines
        missing.remove(at: 4)
        do { _ = try verify(missing); Issue.record("accepted") } catch { #expect(error.index == 4) }
    }

    @Test("record times must not decrease")
    func recordTimeOrder() {
        let es = log(reports: 3)
        var lines = Fixtures.lines(es)
        lines[5] = EntryLine(index: 5, recordedAt: Timestamp(microseconds: Fixtures.epoch.microseconds - 1), envelope: es[5]).encoded()
        do { _ = try verify(lines); Issue.record("accepted") } catch {
            #expect(error.index == 5)
            #expect(error.message.contains("earlier"))
        }
    }

    @Test("signedAt more than one hour after the entry's record time is refused at that entry")
    func signedAtLead() throws {
        // Fixture events are signed at epoch + n ms; entries are recorded at epoch + index µs.
        var es = log(reports: 3)
        es[5] = Fixtures.report(subject: "inc-late", n: 3_600_000)  // exactly one hour ahead: allowed
        _ = try verify(Fixtures.lines(es))
        es[5] = Fixtures.report(subject: "inc-late", n: 3_600_006)  // 1 h + 1 ms after entry 5's record time
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 5, "\(error)")
            #expect(error.message.contains("more than 1 hour after"), "\(error)")
        }
    }

    @Test("a revoked key's later events are refused; earlier ones stay valid")
    func revoked() throws {
        var es = Fixtures.standardPrefix()
        es.append(Fixtures.report(subject: "inc-a", n: 10))  // 4: before revocation: valid
        es.append(Fixtures.revoke(Fixtures.archivist, n: 11))  // 5
        let ok = Fixtures.lines(es)
        _ = try verify(ok)
        es.append(Fixtures.report(subject: "inc-b", n: 12))  // 6: after: refused
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 6)
            #expect(error.message.contains("revoked at entry 5"))
        }
    }

    @Test("rights: unknown key, missing role, foreign origin, wrong genesis pin")
    func rights() throws {
        var es = Fixtures.standardPrefix()
        es.append(Fixtures.report(subject: "inc-a", n: 10, key: Fixtures.stranger))
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 4)
            #expect(error.message.contains(KeyID.of(Fixtures.stranger.publicKey)))
        }
        es[4] = Fixtures.report(subject: "inc-a", n: 10, key: Fixtures.reviewer)
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 4)
            #expect(error.message.contains("archivist role"))
        }
        es[4] = Fixtures.envelope(
            type: "incident.reported", subject: "inc-a", expects: 0, body: JSONObject(), key: Fixtures.archivist, n: 10, origin: "other.example/x")
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 4)
            #expect(error.message.contains("other.example/x"))
        }
        do { _ = try verify(Fixtures.lines(Fixtures.standardPrefix()), trust: KeyID.of(Fixtures.stranger.publicKey)); Issue.record("accepted") } catch {
            #expect(error.index == 0)
        }
    }

    @Test("NFC is an input rule, not a verification rule: a stored non-NFC payload verifies, new input is refused")
    func nfc() throws {
        var es = Fixtures.standardPrefix()
        let decomposed = JSONObject(uniqueMembers: [("title", .string("Re\u{301}sume\u{301}"))])
        es.append(Fixtures.envelope(type: "incident.reported", subject: "inc-nfc", expects: 0, body: decomposed, key: Fixtures.archivist, n: 10))
        _ = try verify(Fixtures.lines(es))
        #expect(throws: LedgerError.self) { try EventPayload(bytes: es[4].payload) }
        #expect(try EventPayload(bytes: es[4].payload, requireNFC: false).subject == "inc-nfc")
    }

    @Test("verified entries: bodies of archive events as their canonical bytes, others as trees, each the signed body")
    func verifiedBodies() throws {
        var es = log(reports: 6)
        // An archive event whose body is valid JSON but not canonical (members out of order,
        // white space), signed as it is: the log takes it, and hands over its tree.
        let p = EventPayload(
            ledger: Fixtures.origin, id: Fixtures.eventID(40), type: "incident.reported", subject: "inc-odd", expects: 0,
            signedAt: Timestamp(microseconds: Fixtures.epoch.microseconds + 40_000).signedTimeText, body: JSONObject())
        var bytes = p.encoded()
        bytes.replaceSubrange((bytes.count - 3)..<bytes.count, with: Array(#"{"b":1, "a":[2]}}"#.utf8))
        es.append(Envelope.sign(payload: bytes, with: Fixtures.archivist))
        let lines = Fixtures.lines(es)
        var v = LogVerifier(parallelism: 2)
        v.collectsPayloads = true
        var got: [LogVerifier.VerifiedEntry] = []
        for start in stride(from: 0, to: lines.count, by: 5) {
            try v.process(Array(lines[start..<min(lines.count, start + 5)]))
            got += v.takeVerified()
        }
        try v.finish()
        got += v.takeVerified()
        #expect(got.map(\.index) == Array(0..<UInt64(es.count)))
        var canonical = 0
        for (e, envelope) in zip(got, es) {
            let whole = try EventPayload(bytes: envelope.payload, requireNFC: false)
            #expect(e.type == whole.eventType && e.subject == whole.subject)
            switch e.body {
            case .canonical(let body):
                canonical += 1
                #expect(!EventRules.readsBody(of: whole.eventType!) && body == CanonicalObject(whole.body), "entry \(e.index)")
            case .tree(let body):
                #expect(EventRules.readsBody(of: whole.eventType!) || whole.subject == "inc-odd", "entry \(e.index)")
                #expect(CanonicalObject(body) == CanonicalObject(whole.body), "entry \(e.index)")
            }
        }
        #expect(canonical == 6)
        guard case .tree(let odd)? = got.last?.body else { throw LedgerError(.malformed, "the last body is not a tree") }
        #expect(CanonicalObject(odd).encoded == Array(#"{"a":[2],"b":1}"#.utf8))
    }

    /// The outcome of the log's rules for each entry in turn, with the body of every payload
    /// whose type the rules are said not to read (`EventRules.readsBody`) replaced by `body`
    /// when it is given; or, with `readBodiesToo`, the body of every payload.
    static func ruleOutcomes(_ lines: [[UInt8]], replacingBodies body: JSONObject?, readBodiesToo: Bool = false) throws -> [String] {
        var state = MemoryLogState()
        var out: [String] = []
        for (i, bytes) in lines.enumerated() {
            let line = try EntryLine(bytes: bytes)
            var payload = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
            if let body, let type = payload.eventType, readBodiesToo || !EventRules.readsBody(of: type) { payload.body = body }
            do {
                let decision = try EventRules.check(
                    envelope: line.envelope, payload: payload, index: UInt64(i), recordTime: line.recordedAt, state: state, verifySignature: false)
                state.apply(payload, decision: decision)
                out.append("\(decision.signer.keyID) \(String(describing: decision.keyEffect))")
            } catch { out.append(error.message) }
        }
        return out
    }

    @Test("the log's rules read no body but those EventRules.readsBody names: any other body, or none, gives the same outcome at every entry")
    func rulesReadOnlyTheirBodies() throws {
        // The campaign archive in Ledger/, and a log with a reader enrolled and a key revoked.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let campaign = try String(contentsOf: root.appendingPathComponent("Ledger/bundle/data/entries.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { Array($0.utf8) }
        var es = log(reports: 6)
        es.append(Fixtures.enrollReader(n: 50))
        es.append(Fixtures.revoke(Fixtures.reviewer, n: 51))
        es.append(Fixtures.report(subject: "inc-late", n: 52, key: Fixtures.reviewer))
        for lines in [campaign, Fixtures.lines(es)] {
            let real = try Self.ruleOutcomes(lines, replacingBodies: nil)
            #expect(real.contains { $0.contains("enroll") } && real.contains { !$0.contains("enroll") })
            #expect(try Self.ruleOutcomes(lines, replacingBodies: JSONObject()) == real)
            #expect(try Self.ruleOutcomes(lines, replacingBodies: JSONObject(uniqueMembers: [("admin", .null), ("reason", .number("1"))])) == real)
            // The check can fail: replacing the bodies the rules do read changes the outcome.
            #expect(try Self.ruleOutcomes(lines, replacingBodies: JSONObject(), readBodiesToo: true) != real)
        }
    }

    @Test("key names: 1–100 code points, no control characters, no outer white space")
    func keyNames() {
        #expect(throws: Never.self) { try KeyDescriptor.validateName(String(repeating: "م", count: 100)) }
        #expect(throws: LedgerError.self) { try KeyDescriptor.validateName(String(repeating: "\u{1F1F8}\u{1F1FE}", count: 60)) }  // 60 flags = 120 code points
        #expect(throws: LedgerError.self) { try KeyDescriptor.validateName("") }
        #expect(throws: LedgerError.self) { try KeyDescriptor.validateName("tab\there") }
        #expect(throws: LedgerError.self) { try KeyDescriptor.validateName("\u{3000}name") }
        #expect(throws: LedgerError.self) { try KeyDescriptor.validateName("name\u{85}") }
    }

    @Test("stale expects and duplicate event ids are refused")
    func expectsAndIDs() {
        var es = Fixtures.standardPrefix()
        es.append(Fixtures.report(subject: "inc-a", n: 10))
        es.append(Fixtures.report(subject: "inc-a", expects: 0, n: 11))
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 5)
            #expect(error.message.contains("stale expects"))
        }
        es[5] = Fixtures.report(subject: "inc-b", n: 10)  // same id (n) as entry 4
        do { _ = try verify(Fixtures.lines(es)); Issue.record("accepted") } catch {
            #expect(error.index == 5)
            #expect(error.message.contains("second time"))
        }
    }

    @Test("checkpoints: signed by a log-role key, right root and size")
    func checkpoints() throws {
        let lines = Fixtures.lines(log())
        var v = try verify(lines)
        let cp = Checkpoint(origin: Fixtures.origin, size: v.size, root: v.root)
        let good = SignedNote.sign(text: cp.text, name: Fixtures.origin, key: Fixtures.logKey).encoded()
        #expect(try v.checkCheckpoint(good) == cp)
        let byArchivist = SignedNote.sign(text: cp.text, name: Fixtures.origin, key: Fixtures.archivist).encoded()
        #expect(throws: LedgerError.self) { try v.checkCheckpoint(byArchivist) }
        let wrongRoot = Checkpoint(origin: Fixtures.origin, size: v.size, root: .zero)
        #expect(throws: LedgerError.self) {
            try v.checkCheckpoint(SignedNote.sign(text: wrongRoot.text, name: Fixtures.origin, key: Fixtures.logKey).encoded())
        }
        var flipped = good
        flipped[flipped.count - 10] ^= 1
        #expect(throws: LedgerError.self) { try v.checkCheckpoint(flipped) }
    }

    @Test("signed note format: key hash and signature line")
    func note() throws {
        let cp = Checkpoint(origin: "example.org/log", size: 3, root: SHA256.hash(utf8: "x"))
        let note = SignedNote.sign(text: cp.text, name: "example.org/log", key: Fixtures.logKey)
        let text = String(decoding: note.encoded(), as: UTF8.self)
        #expect(text.hasPrefix("example.org/log\n3\n\(cp.root.base64)\n\n— example.org/log "))
        let parsed = try SignedNote(bytes: note.encoded())
        #expect(parsed == note)
        #expect(parsed.isSigned(name: "example.org/log", publicKey: Fixtures.logKey.publicKey))
        #expect(try Checkpoint(text: parsed.text) == cp)
    }
}
