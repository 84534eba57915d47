import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@testable import LedgerStore

/// `verify` folds the archive from the entries as its log checks pass them (DECISIONS, issue
/// 15). An entry whose signature, signer and place in the log hold but whose event breaks an
/// archive rule cannot be appended through the ledger; these tests write one straight into the
/// storage, with every derived row of the log (leaf, Merkle nodes, revision) made consistent, as
/// a tool that bypassed the rules would.
@Suite("verify: archive rules over a log whose own checks pass")
final class VerifyFoldTests {
    let dir = TemporaryDirectory()
    var place: TestPlace?

    /// Appends `envelope` as entry `size` behind the ledger's back: the line, its leaf and the
    /// Merkle nodes it completes, and the subject's revision, in one write.
    func smuggle(_ envelope: Envelope, into l: Ledger, at recordedAt: Timestamp) throws {
        let size = try l.size()
        let line = EntryLine(index: size, recordedAt: recordedAt, envelope: envelope).encoded()
        let payload = try EventPayload(bytes: envelope.payload, requireNFC: false)
        var leaves = try l.storage.read { (r) throws(LedgerError) in try r.entryLines(from: 0, below: size, limit: Int(size)) }.map {
            MerkleHash.leaf($0.line)
        }
        leaves.append(MerkleHash.leaf(line))
        // Perfect subtrees (levels 1 and up) that end at the new leaf.
        var nodes: [(level: Int, index: UInt64, hash: Digest32)] = []
        var level = leaves
        var height = 0
        while level.count > 1 {
            height += 1
            var up: [Digest32] = []
            for i in stride(from: 0, to: level.count - 1, by: 2) { up.append(MerkleHash.node(level[i], level[i + 1])) }
            let width = UInt64(1) << UInt64(height)
            for (i, h) in up.enumerated() where (UInt64(i) + 1) * width == size + 1 { nodes.append((height, UInt64(i), h)) }
            level = up
        }
        try l.storage.write { (w) throws(LedgerError) in
            try w.insertEntry(
                EntryRow(
                    index: size, recordedAt: recordedAt.recordTimeText, eventID: UUIDv7.parse(payload.id)!, type: payload.type,
                    subject: payload.subject, signer: envelope.keyID, leaf: MerkleHash.leaf(line), line: line))
            for n in nodes { try w.insertMerkleNode(level: n.level, index: n.index, hash: n.hash) }
            try w.bumpRevision(of: payload.subject)
        }
    }

    /// A correction of incident `inc-1` that sets its title to the title it already has.
    func noOpCorrection(_ l: Ledger, n: UInt64) throws -> Envelope {
        let title = try #require(try l.entityState("incident:inc-1")?["title"])
        let body = JSONObject(uniqueMembers: [
            ("changes", .object(JSONObject(uniqueMembers: [("title", title)]))), ("reason", .string("the same title again")),
        ])
        return Fixtures.envelope(type: "incident.corrected", subject: "incident:inc-1", expects: 1, body: body, key: Fixtures.archivist, n: n)
    }

    func ledger(_ store: StoreKind) throws -> (Ledger, Timestamp) {
        let clock = ManualClock()
        let made = try StoreFixtures.standardLedger(store, dir: dir, clock: clock)
        place = made.place
        _ = try made.ledger.append([Fixtures.report(subject: "incident:inc-1", n: 10)])
        return (made.ledger, clock.now())
    }

    @Test("an entry that breaks an archive rule is named, at its index, once the log's checks pass", arguments: StoreKind.inProcess)
    func ruleBreakNamed(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        let bad = try noOpCorrection(l, n: 11)
        try smuggle(bad, into: l, at: Timestamp(microseconds: now.microseconds + 1_000_000))
        for cooling in [ArchiveState.Cooling.standard, ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)] {
            let error = try #require(throws: LedgerError.self) { try l.verify(trust: KeyID.of(Fixtures.admin.publicKey), cooling: cooling) }
            #expect(error.code == .verificationFailed)
            #expect(error.index == 5, "\(error)")
            #expect(error.message.contains("entry 5 breaks an archive rule") && error.message.contains("equals the current one"), "\(error)")
        }
    }

    @Test("a later failure of the log's own checks is reported before an earlier rule break", arguments: StoreKind.inProcess)
    func logFailureFirst(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        try smuggle(try noOpCorrection(l, n: 11), into: l, at: Timestamp(microseconds: now.microseconds + 1_000_000))
        // A checkpoint at size 6 makes `verify` check entries 0…5 as one batch and fold them
        // before it reads entry 6, so the rule break is found first; it must still be reported last.
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        // Entry 6: signed by a key this ledger never enrolled.
        let stranger = Fixtures.envelope(
            type: "incident.reported", subject: "incident:inc-2", expects: 0, body: Fixtures.reportBody(n: 12), key: Fixtures.key(77), n: 12)
        try smuggle(stranger, into: l, at: Timestamp(microseconds: now.microseconds + 2_000_000))
        let error = try #require(throws: LedgerError.self) { try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)) }
        #expect(error.index == 6, "\(error)")
        #expect(error.message.contains("unknown key"), "\(error)")
    }

    @Test(
        "rebuild: a schema break is found on the decode threads but reported in its entry's turn, after an earlier rule break", arguments: StoreKind.inProcess)
    func rebuildOrder(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        // Entry 5 breaks a rule that needs the state; entry 6's body breaks its schema (checked ahead, with no state).
        try smuggle(try noOpCorrection(l, n: 11), into: l, at: Timestamp(microseconds: now.microseconds + 1_000_000))
        let malformed = JSONObject(uniqueMembers: [
            ("changes", .object(JSONObject(uniqueMembers: [("title", .string("another title"))]))), ("reason", .string("a reason")),
            ("stray", .number("1")),
        ])
        let stray = Fixtures.envelope(type: "incident.corrected", subject: "incident:inc-1", expects: 2, body: malformed, key: Fixtures.archivist, n: 12)
        try smuggle(stray, into: l, at: Timestamp(microseconds: now.microseconds + 2_000_000))
        let first = try #require(throws: LedgerError.self) { try l.rebuildProjections() }
        #expect(first.index == 5 && first.message.contains("entry 5 breaks an archive rule") && first.message.contains("equals the current one"), "\(first)")
    }

    /// Writes entry `size` behind the ledger's back with a signed payload that is not an event.
    func smuggleDamaged(into l: Ledger, at recordedAt: Timestamp) throws {
        let size = try l.size()
        let envelope = Envelope.sign(payload: Array("not an event".utf8), with: Fixtures.archivist)
        let line = EntryLine(index: size, recordedAt: recordedAt, envelope: envelope).encoded()
        try l.storage.write { (w) throws(LedgerError) in
            try w.insertEntry(
                EntryRow(
                    index: size, recordedAt: recordedAt.recordTimeText, eventID: UUIDv7.parse(Fixtures.eventID(99))!, type: "incident.reported",
                    subject: "incident:inc-9", signer: envelope.keyID, leaf: MerkleHash.leaf(line), line: line))
        }
    }

    @Test("rebuild: a rule broken before a damaged entry is reported first, in the damaged entry's batch or an earlier one", arguments: StoreKind.inProcess)
    func rebuildOrderAcrossBatches(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        try smuggle(try noOpCorrection(l, n: 11), into: l, at: Timestamp(microseconds: now.microseconds + 1_000_000))
        try smuggleDamaged(into: l, at: Timestamp(microseconds: now.microseconds + 2_000_000))
        // In batches of one, two or three, entry 5's batch is still folding (on the fold's
        // thread) when entry 6 fails to decode; in one batch, entry 6 fails to decode before
        // any of its batch is folded. Either way the rule broken at entry 5 must come first.
        for batch in [1, 2, 3, 4096] {
            let first = try #require(throws: LedgerError.self) { try l.rebuildProjections(progress: nil, cooling: .standard, batchSize: batch) }
            #expect(
                first.index == 5 && first.message.contains("entry 5 breaks an archive rule") && first.message.contains("equals the current one"),
                "batches of \(batch): \(first)")
        }
    }

    @Test("rebuild: a damaged entry alone is named at its own index, in batches or in one", arguments: StoreKind.inProcess)
    func rebuildDamagedEntry(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        try smuggleDamaged(into: l, at: Timestamp(microseconds: now.microseconds + 1_000_000))
        for batch in [3, 4096] {
            let damaged = try #require(throws: LedgerError.self) { try l.rebuildProjections(progress: nil, cooling: .standard, batchSize: batch) }
            #expect(damaged.index == 5 && damaged.message.contains("is damaged at entry 5"), "\(damaged)")
        }
    }

    @Test("rebuild: a schema break alone is named at its own index", arguments: StoreKind.inProcess)
    func rebuildSchemaBreak(store: StoreKind) throws {
        let (l, now) = try ledger(store)
        let malformed = JSONObject(uniqueMembers: [
            ("changes", .object(JSONObject(uniqueMembers: [("title", .string("another title"))]))), ("reason", .string("a reason")),
            ("stray", .number("1")),
        ])
        try smuggle(
            Fixtures.envelope(type: "incident.corrected", subject: "incident:inc-1", expects: 1, body: malformed, key: Fixtures.archivist, n: 13), into: l,
            at: Timestamp(microseconds: now.microseconds + 1_000_000))
        let alone = try #require(throws: LedgerError.self) { try l.rebuildProjections() }
        #expect(alone.index == 5 && alone.message.contains("entry 5 breaks an archive rule") && alone.message.contains("body.stray"), "\(alone)")
    }
}
