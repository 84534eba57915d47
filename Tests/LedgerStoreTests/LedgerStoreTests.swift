import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

@Suite("Ledger over each store (SQLite, PostgreSQL)")
final class LedgerStoreTests {
    let dir = TemporaryDirectory()
    var place: TestPlace?

    func makeLedger(_ store: StoreKind = .sqlite, clock: ManualClock = ManualClock()) throws -> Ledger {
        let made = try StoreFixtures.standardLedger(store, dir: dir, clock: clock)
        place = made.place
        return made.ledger
    }

    func fingerprint(_ path: String) -> [String] { StoreFixtures.fingerprint(path) }

    @Test("append, idempotent resubmission, log rows and verify", arguments: StoreKind.inProcess)
    func appendAndVerify(store: StoreKind) throws {
        let l = try makeLedger(store)
        let e = Fixtures.report(subject: "incident:inc-1", n: 10)
        #expect(try l.append([e]) == [.appended(4)])
        #expect(try l.append([e]) == [.existing(4)])
        #expect(try l.size() == 5)
        #expect(try l.revision(of: "incident:inc-1") == 1)
        let rows = try l.logRows(from: 0, limit: 10)
        #expect(rows.map(\.type) == ["ledger.genesis", "key.enrolled", "key.enrolled", "key.enrolled", "incident.reported"])
        #expect(rows[4].signerName == "Fixture archivist")
        let report = try l.verify(trust: KeyID.of(Fixtures.admin.publicKey))
        #expect(report.size == 5)
        #expect(report.root == (try l.root(size: 5)))
    }

    @Test("an append through a read-only open fails with the typed read-only fault and changes nothing", arguments: StoreKind.all)
    func readOnlyFault(store: StoreKind) throws {
        let l = try makeLedger(store)
        try l.close()
        let place = try #require(place)
        let before = try place.fingerprint()
        let reader = try Ledger.open(at: place.location, readOnly: true)
        do {
            _ = try reader.append([Fixtures.report(subject: "incident:ro", n: 10)])
            Issue.record("a read-only open accepted an append")
        } catch {
            #expect(error.code == .io && error.fault == .readOnly && error.fault?.nothingWritten == true, "\(error)")
            #expect(error.message.contains("nothing was written"), "\(error)")
        }
        try reader.close()
        #expect(try place.fingerprint() == before)
    }

    @Test("refused appends leave the file byte-for-byte unchanged", arguments: StoreKind.inProcess)
    func refusalsChangeNothing(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append([Fixtures.report(subject: "incident:inc-1", n: 10)])
        try l.close()
        let place = try #require(place)
        let before = try place.fingerprint()
        var tampered = Fixtures.report(subject: "incident:inc-2", n: 20)
        let at = try #require(tampered.payload.firstRange(of: Array("Report".utf8)))
        tampered.payload[at.lowerBound + 1] = UInt8(ascii: "0")  // "R0port": still valid JSON, no longer what was signed
        let cases: [(String, [Envelope], LedgerError.Code)] = [
            ("unknown key", [Fixtures.report(subject: "incident:inc-2", n: 20, key: Fixtures.stranger)], .refused),
            ("missing role", [Fixtures.report(subject: "incident:inc-2", n: 20, key: Fixtures.logKey)], .refused),
            ("stale expects", [Fixtures.report(subject: "incident:inc-1", expects: 0, n: 21)], .conflict),
            (
                "foreign ledger",
                [
                    Fixtures.envelope(
                        type: "incident.reported", subject: "incident:x", expects: 0, body: Fixtures.reportBody(n: 22), key: Fixtures.archivist, n: 22,
                        origin: "other.example/y")
                ], .refused
            ),
            ("altered payload", [tampered], .refused),
            (
                "unknown type",
                [
                    Fixtures.envelope(
                        type: "incident.invented", subject: "incident:x", expects: 0, body: Fixtures.reportBody(n: 23), key: Fixtures.archivist, n: 23)
                ], .refused
            ),
            ("id reused for another event", [Fixtures.report(subject: "incident:inc-9", n: 10)], .conflict),
            (
                "bad event inside a batch",
                [
                    Fixtures.report(subject: "incident:inc-3", n: 30), Fixtures.report(subject: "incident:inc-4", n: 31),
                    Fixtures.report(subject: "incident:inc-5", n: 32, key: Fixtures.stranger),
                ], .refused
            ),
            ("bad signature inside a batch", [Fixtures.report(subject: "incident:inc-3", n: 30), tampered], .refused),
        ]
        for (name, batch, code) in cases {
            let reopened = try Ledger.open(at: place.location, clock: ManualClock())
            do {
                _ = try reopened.append(batch)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.code == code, "\(name): \(error)")
            }
            try reopened.close()
            #expect(try place.fingerprint() == before, "\(name) changed the stored rows")
        }
        let reopened = try Ledger.open(at: place.location)
        #expect(try reopened.size() == 5)
    }

    @Test("durability: WAL journal and synchronous FULL on every connection")
    func durability() throws {
        let l = try makeLedger()
        let settings = try #require(l.storage as? SQLiteStorage).durabilitySettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)  // FULL
    }

    @Test("a batch refusal names the event's position in the batch", arguments: StoreKind.inProcess)
    func batchPosition(store: StoreKind) throws {
        let l = try makeLedger(store)
        do {
            _ = try l.append([Fixtures.report(subject: "incident:a", n: 30), Fixtures.report(subject: "incident:b", n: 31, key: Fixtures.reviewer)])
            Issue.record("accepted")
        } catch {
            #expect(error.position == 1)
            #expect(error.description.hasPrefix("event #2 of the batch"))
        }
        #expect(try l.size() == 4)
    }

    @Test("revoked key: refused after revocation, keys enrolled within a batch are usable", arguments: StoreKind.inProcess)
    func revocation(store: StoreKind) throws {
        let l = try makeLedger(store)
        let fresh = Fixtures.key(20)
        #expect(
            try l.append([
                Fixtures.enroll(fresh, name: "Fresh", roles: [.archivist], n: 40),
                Fixtures.report(subject: "incident:f-1", n: 41, key: fresh),
            ]).map(\.index) == [4, 5])
        _ = try l.append([Fixtures.revoke(fresh, n: 42)])
        #expect(throws: LedgerError.self) { try l.append([Fixtures.report(subject: "incident:f-2", n: 43, key: fresh)]) }
        do { _ = try l.append([Fixtures.report(subject: "incident:f-2", n: 43, key: fresh)]) } catch {
            #expect(error.message.contains("revoked at entry 6"))
        }
        // Within one batch: a key used, then revoked, then used again (a transaction remembers
        // the keys it has read; the revocation must make it read the key again).
        let other = Fixtures.key(21)
        _ = try l.append([Fixtures.enroll(other, name: "Other", roles: [.archivist], n: 44)])
        let size = try l.size()
        do {
            _ = try l.append([
                Fixtures.report(subject: "incident:f-3", n: 45, key: other), Fixtures.revoke(other, n: 46),
                Fixtures.report(subject: "incident:f-4", n: 47, key: other),
            ])
            Issue.record("accepted an event signed by a key revoked earlier in its batch")
        } catch {
            #expect(error.position == 2, "\(error)")
            #expect(error.message.contains("revoked at entry \(size + 1)"), "\(error)")
        }
        #expect(try l.size() == size)
        _ = try l.verify(trust: nil)
    }

    @Test("large batches: a bad signature anywhere is refused at its position; keys enrolled in the batch work", arguments: StoreKind.inProcess)
    func largeBatches(store: StoreKind) throws {
        let l = try makeLedger(store)
        var batch = (0..<40).map { Fixtures.report(subject: "incident:big-\($0)", n: 100 + UInt64($0)) }
        let at = try #require(batch[17].payload.firstRange(of: Array("Report".utf8)))
        batch[17].payload[at.lowerBound + 1] = UInt8(ascii: "0")
        do { _ = try l.append(batch); Issue.record("accepted") } catch {
            #expect(error.code == .refused)
            #expect(error.position == 17, "\(error)")
        }
        #expect(try l.size() == 4)
        // A key enrolled inside the batch signs 20 events of the same batch (checked after the rules).
        let fresh = Fixtures.key(30)
        var withEnrollment = [Fixtures.enroll(fresh, name: "In-batch", roles: [.archivist], n: 200)]
        withEnrollment += (0..<20).map { Fixtures.report(subject: "incident:fresh-\($0)", n: 201 + UInt64($0), key: fresh) }
        var bad = withEnrollment
        let at2 = try #require(bad[20].payload.firstRange(of: Array("Report".utf8)))
        bad[20].payload[at2.lowerBound + 1] = UInt8(ascii: "0")
        do { _ = try l.append(bad); Issue.record("accepted") } catch {
            #expect(error.position == 20, "\(error)")
        }
        #expect(try l.size() == 4)
        #expect(try l.append(withEnrollment).count == 21)
        #expect(try l.verify(trust: nil).size == 25)
    }

    @Test(
        "a batch longer than the rows a networked store sends ahead (every 1,024 events): a refusal after them rolls all back",
        arguments: StoreKind.inProcess)
    func refusalAfterRowsSentAhead(store: StoreKind) throws {
        let l = try makeLedger(store)
        try l.close()
        let place = try #require(place)
        let before = try place.fingerprint()
        let batch = (0..<2_100).map { Fixtures.report(subject: "incident:ahead-\($0)", n: 5_000 + UInt64($0)) }
        // A rule refusal in the loop, after two sends; a bad signature, found after the loop.
        var unauthorised = batch
        unauthorised[1_500] = Fixtures.report(subject: "incident:ahead-1500", n: 5_000 + 1_500, key: Fixtures.reviewer)
        var tampered = batch
        let at = try #require(tampered[2_050].payload.firstRange(of: Array("Report".utf8)))
        tampered[2_050].payload[at.lowerBound + 1] = UInt8(ascii: "0")
        for (bad, position, code) in [(unauthorised, 1_500, LedgerError.Code.refused), (tampered, 2_050, .refused)] {
            let reopened = try Ledger.open(at: place.location, clock: ManualClock())
            do {
                _ = try reopened.append(bad)
                Issue.record("accepted")
            } catch {
                #expect(error.position == position, "\(error)")
                #expect(error.code == code, "\(error)")
            }
            try reopened.close()
            #expect(try place.fingerprint() == before, "nothing written (refused at \(position))")
        }
        let reopened = try Ledger.open(at: place.location, clock: ManualClock())
        defer { try? reopened.close() }
        #expect(try reopened.append(batch) == (4..<2_104).map { AppendOutcome.appended(UInt64($0)) })
        #expect(try reopened.verify(trust: nil).size == 2_104)
    }

    @Test("roots of every earlier size, inclusion and consistency proofs from the stored nodes verify", arguments: StoreKind.inProcess)
    func proofs(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append((0..<33).map { Fixtures.report(subject: "incident:p-\($0)", n: 300 + UInt64($0)) })
        let size = try l.size()
        #expect(size == 37)
        var lines: [[UInt8]] = []
        try l.forEachBatch(batchSize: 10) { (b) throws(LedgerError) in lines += b.map(\.line) }
        var reference = InMemoryMerkleNodes()
        var roots: [Digest32] = [MerkleHash.empty]
        for line in lines {
            reference.append(leafBytes: line)
            roots.append(reference.root)
        }
        for n in 1...size { #expect(try l.root(size: n) == roots[Int(n)], "root at size \(n)") }
        for (index, n) in [(0, 1), (0, 37), (5, 6), (16, 17), (31, 37), (36, 37), (12, 20)] as [(UInt64, UInt64)] {
            let proof = try l.inclusionProof(index: index, size: n)
            let leaf = lines[Int(index)].withUnsafeBytes { MerkleHash.leaf($0) }
            #expect(MerkleTree.verifyInclusion(leaf: leaf, index: index, size: n, proof: proof, root: roots[Int(n)]), "inclusion \(index) in \(n)")
        }
        for (a, b) in [(1, 37), (4, 5), (7, 32), (16, 33), (36, 37), (20, 20)] as [(UInt64, UInt64)] {
            let proof = try l.consistencyProof(from: a, to: b)
            #expect(MerkleTree.verifyConsistency(from: a, to: b, fromRoot: roots[Int(a)], toRoot: roots[Int(b)], proof: proof), "consistency \(a)→\(b)")
        }
        do { _ = try l.inclusionProof(index: 37, size: 37); Issue.record("accepted") } catch { #expect(error.code == .malformed, "\(error)") }
    }

    @Test("the last active admin cannot be revoked", arguments: StoreKind.inProcess)
    func lastAdmin(store: StoreKind) throws {
        let l = try makeLedger(store)
        let e = Fixtures.envelope(
            type: EventTypes.keyRevoked, subject: KeyID.of(Fixtures.admin.publicKey), expects: 1,
            body: JSONObject(uniqueMembers: [("reason", .string("test"))]), key: Fixtures.admin, n: 50)
        do { _ = try l.append([e]); Issue.record("accepted") } catch { #expect(error.message.contains("last active admin")) }
    }

    @Test("record time never decreases even when the clock goes back", arguments: StoreKind.inProcess)
    func recordTime(store: StoreKind) throws {
        let clock = ManualClock()
        let l = try makeLedger(store, clock: clock)
        clock.advance(-3_600_000_000)
        _ = try l.append([Fixtures.report(subject: "incident:inc-1", n: 10)])
        let rows = try l.logRows(from: 0, limit: 10)
        #expect(rows[4].recordedAt >= rows[3].recordedAt)
        _ = try l.verify(trust: nil)
    }

    @Test("checkpoints: signed by the log key, refused for others, consistent over time, verified", arguments: StoreKind.inProcess)
    func checkpoints(store: StoreKind) throws {
        let l = try makeLedger(store)
        #expect(try l.lastCheckpoint() == nil)
        #expect(throws: LedgerError.self) { try l.checkpoint(signingKey: Fixtures.archivist) }
        #expect(throws: LedgerError.self) { try l.checkpoint(signingKey: Fixtures.stranger) }
        let first = try l.checkpoint(signingKey: Fixtures.logKey)
        #expect(try Checkpoint(text: first.text).size == 4)
        _ = try l.append([Fixtures.report(subject: "incident:inc-1", n: 10)])
        let second = try l.checkpoint(signingKey: Fixtures.logKey)
        let cp = try Checkpoint(text: second.text)
        #expect(cp.size == 5)
        #expect(cp.root == (try l.root(size: 5)))
        #expect(try l.checkpoints().count == 2)
        #expect(try l.lastCheckpoint()?.size == 5 && l.lastCheckpoint()?.note == second.encoded())
        // Proofs read together equal proofs read one by one.
        #expect(try l.inclusionProofs(indexes: [0, 3, 4], size: 5) == [0, 3, 4].map { try l.inclusionProof(index: $0, size: 5) })
        #expect(try l.entryLines(at: [4, 0]) == [l.entryLine(at: 4), l.entryLine(at: 0)])
        #expect(try l.verify(trust: nil).checkpoints == 2)
    }

    @Test("a foreign, truncated or missing file is refused and left untouched")
    func foreignFiles() throws {
        let l = try makeLedger()
        try l.close()
        let text = dir.file("notes.txt")
        try Data("just some text, not a database at all.........................................................................................".utf8).write(
            to: URL(fileURLWithPath: text))
        let truncated = dir.file("truncated.ledger")
        let full = try Data(contentsOf: URL(fileURLWithPath: dir.file("t.ledger")))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: truncated))
        for path in [text, truncated] {
            let before = fingerprint(path)
            do { _ = try Ledger.open(path: path); Issue.record("opened \(path)") } catch { #expect(error.code == .notALedger, "\(error)") }
            #expect(fingerprint(path) == before)
        }
        do { _ = try Ledger.open(path: dir.file("absent.ledger")); Issue.record("opened") } catch { #expect(error.code == .notALedger) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("absent.ledger")))
        #expect(throws: LedgerError.self) { try Ledger.create(path: dir.file("t.ledger"), genesis: Fixtures.genesis()) }
    }
}
