import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

/// Issue 14: sealed values kept beside the log, read by enrolled readers, erased for good.
@Suite("Sealed values: commitments in the log, ciphertexts beside it, erasure")
final class SealedValueTests {
    let dir = TemporaryDirectory()
    var places: [TestPlace] = []
    static let keeper = Fixtures.key(60)
    static let other = Fixtures.key(61)
    /// A value whose bytes must never reach a file.
    static let secretTown = "Qx7-Witness-Zaynab"
    static let coordinates: JSONValue = .object(
        JSONObject(uniqueMembers: [("lat", .number("36.2021")), ("lon", .number("37.1343")), ("precision", .string("exact"))]))

    func makeLedger(_ store: StoreKind) throws -> Ledger {
        let made = try StoreFixtures.standardLedger(store, dir: dir, file: "s\(places.count).ledger")
        places.append(made.place)
        return made.ledger
    }

    static func reader(_ key: Ed25519.PrivateKey) -> ValueSealing.ReaderKey { try! ValueSealing.ReaderKey(key) }

    static func enrollReader(_ name: String, _ key: Ed25519.PrivateKey, n: UInt64) -> Envelope {
        let body = JSONObject(uniqueMembers: [
            ("encryptionKey", .string(Base64.encode(reader(key).publicKey))), ("name", .string(name)),
        ])
        return Fixtures.envelope(type: EventType.readerEnrolled.name, subject: "reader:\(name)", expects: 0, body: body, key: Fixtures.admin, n: n)
    }

    /// A facility with sealed coordinates and a sealed deconfliction note: the envelopes and openings.
    static func facility(_ name: String, n: UInt64, note: String = secretTown) -> ([Envelope], [String: Sealing.Opening]) {
        let body = JSONObject(uniqueMembers: [
            ("location", .object(JSONObject(uniqueMembers: [("coordinates", coordinates), ("town", .string("Aleppo"))]))),
            ("names", .object(JSONObject(uniqueMembers: [("en", .string("Hospital \(name)"))]))), ("type", .string("hospital")),
        ])
        let (sealed, taken) = Sealing.seal(type: .facilityRegistered, body: body)
        let deconfliction = JSONObject(uniqueMembers: [("note", .string(note)), ("sharedOn", .string("2019-05")), ("sharedWith", .string("UN OCHA"))])
        let (sealed2, taken2) = Sealing.seal(type: .facilityDeconflictionRecorded, body: deconfliction)
        let envelopes = [
            Fixtures.envelope(type: "facility.registered", subject: "facility:\(name)", expects: 0, body: sealed, key: Fixtures.archivist, n: n),
            Fixtures.envelope(
                type: "facility.deconfliction-recorded", subject: "facility:\(name)", expects: 1, body: sealed2, key: Fixtures.archivist, n: n + 1),
        ]
        return (envelopes, Dictionary(uniqueKeysWithValues: (taken + taken2).map { ($0.commitment, $0.opening) }))
    }

    static func erase(_ commitment: String, subject: String, expects: UInt64, n: UInt64, key: Ed25519.PrivateKey = Fixtures.admin) -> Envelope {
        Fixtures.envelope(
            type: EventType.valueErased.name, subject: subject, expects: expects,
            body: JSONObject(uniqueMembers: [("reason", .string("erasure request 7")), ("value", .string(commitment))]), key: key, n: n)
    }

    func state(_ l: Ledger, _ id: String, reader: ValueSealing.ReaderKey?) throws -> JSONObject {
        try l.openSealed(.object(try #require(try l.entityState(id))), reader: reader).objectValue!
    }

    @Test("a reader sees the sealed values; the log, other keys and no key see commitments", arguments: StoreKind.inProcess)
    func roundTrip(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        #expect(try l.append(envelopes, openings: openings) == [.appended(5), .appended(6)])
        for e in envelopes { #expect(!String(decoding: e.payload, as: UTF8.self).contains("36.2021")) }
        let opened = try state(l, "facility:m10", reader: Self.reader(Self.keeper))
        #expect(opened["location"]?.objectValue?["coordinates"] == Self.coordinates)
        #expect(opened["deconfliction"]?.arrayValue?.first?.objectValue?["note"] == .string(Self.secretTown))
        let shown = try state(l, "facility:m10", reader: nil)
        #expect(shown["location"]?.objectValue?["coordinates"].flatMap(Sealing.commitment) != nil)
        // A key that is no reader's is refused, not shown everything sealed.
        #expect(throws: LedgerError.self) { try state(l, "facility:m10", reader: Self.reader(Self.other)) }
        #expect(try l.verify(trust: nil).size == 7)
    }

    @Test("refused, changing nothing: a plain sealed field, a marker without or with a wrong opening, a stray opening, no reader")
    func refusals() throws {
        let l = try makeLedger(.sqlite)
        let path = places[0].name
        let (envelopes, openings) = Self.facility("m10", n: 101)
        // No reader enrolled yet.
        var before = StoreFixtures.fingerprint(path)
        #expect(throws: LedgerError.self) { try l.append(envelopes, openings: openings) }
        #expect(StoreFixtures.fingerprint(path) == before)
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        before = StoreFixtures.fingerprint(path)
        // The coordinates in the clear.
        let plain = JSONObject(uniqueMembers: [
            ("location", .object(JSONObject(uniqueMembers: [("coordinates", Self.coordinates)]))),
            ("names", .object(JSONObject(uniqueMembers: [("en", .string("X"))]))), ("type", .string("hospital")),
        ])
        let plainEnvelope = Fixtures.envelope(type: "facility.registered", subject: "facility:x", expects: 0, body: plain, key: Fixtures.archivist, n: 110)
        do {
            _ = try l.append([plainEnvelope])
            Issue.record("a plain sealed field was accepted")
        } catch { #expect(error.message.contains("body.location.coordinates") && error.code == .malformed) }
        // Without openings; with one opening's salt changed; with an extra opening.
        #expect(throws: LedgerError.self) { try l.append(envelopes) }
        var wrong = openings
        let first = openings.keys.sorted()[0]
        wrong[first]!.salt[0] ^= 1
        do {
            _ = try l.append(envelopes, openings: wrong)
            Issue.record("a wrong opening was accepted")
        } catch { #expect(error.message.contains("does not match its commitment")) }
        var extra = openings
        let stray = Sealing.Opening(salt: [UInt8](repeating: 7, count: 32), value: .string("stray"))
        extra[stray.commitment] = stray
        do {
            _ = try l.append(envelopes, openings: extra)
            Issue.record("a stray opening was accepted")
        } catch { #expect(error.message.contains(stray.commitment)) }
        // An opened value that breaks the body's schema.
        let badValue = Sealing.Opening(salt: [UInt8](repeating: 1, count: 32), value: .string("not coordinates"))
        var body = plain
        Sealing.setValue(Sealing.marker(badValue.commitment), at: "body.location.coordinates", in: &body)
        let bad = Fixtures.envelope(type: "facility.registered", subject: "facility:y", expects: 0, body: body, key: Fixtures.archivist, n: 111)
        do {
            _ = try l.append([bad], openings: [badValue.commitment: badValue])
            Issue.record("a sealed value breaking the schema was accepted")
        } catch { #expect(error.message.contains("body.location.coordinates")) }
        #expect(StoreFixtures.fingerprint(path) == before)
        try l.close()
    }

    @Test("erasure destroys the data keys and ciphertext; verify, rebuild and the views still work", arguments: StoreKind.inProcess)
    func erase(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        let shown = try state(l, "facility:m10", reader: nil)
        let c = try #require(shown["location"]?.objectValue?["coordinates"].flatMap(Sealing.commitment))
        // Only an admin erases; only the subject the value belongs to.
        #expect(throws: LedgerError.self) { try l.append([Self.erase(c, subject: "facility:m10", expects: 2, n: 120, key: Fixtures.archivist)]) }
        #expect(throws: LedgerError.self) { try l.append([Self.erase(c, subject: "incident:none", expects: 0, n: 121)]) }
        #expect(try l.append([Self.erase(c, subject: "facility:m10", expects: 2, n: 122)]) == [.appended(7)])
        #expect(try l.sealedValue(c)?.ciphertext == [])
        let after = try state(l, "facility:m10", reader: Self.reader(Self.keeper))
        #expect(after["location"]?.objectValue?["coordinates"]?.objectValue?["erased"] == .bool(true))
        #expect(after["erased"] == .array([.string(c)]))
        // The other sealed value (the note) is still readable.
        #expect(after["deconfliction"]?.arrayValue?.first?.objectValue?["note"] == .string(Self.secretTown))
        // The earlier view cannot show it either.
        let earlier = try l.openSealed(.object(try #require(try l.entityState("facility:m10", atSize: 7))), reader: Self.reader(Self.keeper))
        #expect(earlier.objectValue?["location"]?.objectValue?["coordinates"]?.objectValue?["erased"] == .bool(true))
        // Erasing again is refused; so is storing the erased value again, under another subject,
        // by anyone who kept its opening (from a keeper's bundle made before the erasure).
        #expect(throws: LedgerError.self) { try l.append([Self.erase(c, subject: "facility:m10", expects: 3, n: 123)]) }
        var body = JSONObject(uniqueMembers: [
            ("location", .object(JSONObject(uniqueMembers: [("coordinates", Sealing.marker(c))]))),
            ("names", .object(JSONObject(uniqueMembers: [("en", .string("Again"))]))), ("type", .string("hospital")),
        ])
        let again = Fixtures.envelope(type: "facility.registered", subject: "facility:again", expects: 0, body: body, key: Fixtures.archivist, n: 124)
        do {
            _ = try l.append([again], openings: [c: openings[c]!])
            Issue.record("an erased value was stored again")
        } catch { #expect(error.message.contains("was erased")) }
        // An opening whose value is itself a marker (of another value) is refused.
        let other = openings.keys.first { $0 != c }!
        let nested = Sealing.Opening(salt: [UInt8](repeating: 3, count: 32), value: Sealing.marker(other))
        Sealing.setValue(Sealing.marker(nested.commitment), at: "body.location.coordinates", in: &body)
        let markerValue = Fixtures.envelope(type: "facility.registered", subject: "facility:nested", expects: 0, body: body, key: Fixtures.archivist, n: 125)
        do {
            _ = try l.append([markerValue], openings: [nested.commitment: nested])
            Issue.record("a marker was accepted as an opened value")
        } catch { #expect(error.message.contains("itself a sealed marker")) }
        #expect(try l.verify(trust: nil).size == 8)
        _ = try l.rebuildProjections()
        #expect(try state(l, "facility:m10", reader: nil)["erased"] == .array([.string(c)]))
    }

    @Test("no plaintext in the file, its WAL, an export or a snapshot; after erasure, not the wrapped key nor the ciphertext either")
    func noPlaintextOnDisk() throws {
        let l = try makeLedger(.sqlite)
        let path = places[0].name
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        let note = try #require(openings.first { $0.value.value == .string(Self.secretTown) })
        let row = try #require(try l.sealedValue(note.key))
        let wrapped = try l.storage.read { (r) throws(LedgerError) in try r.wrappedKey(note.key, reader: "reader:keeper") } ?? []
        #expect(wrapped.count == ValueSealing.wrappedLength)
        let secret = Array(Self.secretTown.utf8)
        func onDisk(_ needle: [UInt8]) -> Bool {
            ["", "-wal"].contains { s in
                guard let d = FileManager.default.contents(atPath: path + s) else { return false }
                return Array(d).firstRange(of: needle) != nil
            }
        }
        #expect(!onDisk(secret))
        #expect(onDisk(Array(row.ciphertext.suffix(32))))
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        _ = try l.export(to: dir.file("bundle"), exportTime: Fixtures.epoch)
        let entries = try #require(FileManager.default.contents(atPath: dir.file("bundle/data/entries.jsonl")))
        #expect(Array(entries).firstRange(of: secret) == nil)
        let snapshot = try l.snapshot(atSize: nil, asOf: nil).bytes
        #expect(snapshot.firstRange(of: secret) == nil)
        let keeperSnapshot = try l.openSealedSnapshot(snapshot, reader: Self.reader(Self.keeper))
        #expect(keeperSnapshot.firstRange(of: secret) != nil)
        _ = try l.append([Self.erase(note.key, subject: "facility:m10", expects: 2, n: 130)])
        try l.close()
        #expect(!onDisk(Array(row.ciphertext.suffix(32))))
        #expect(!onDisk(Array(wrapped.suffix(32))))
        #expect(!onDisk(secret))
    }

    @Test("PostgreSQL: no plaintext in a dump of the database; after erasure, not the wrapped key nor the ciphertext either")
    func noPlaintextInPostgres() throws {
        guard StoreKind.all.contains(.postgres) else { return }
        let l = try makeLedger(.postgres)
        let name = places[0].name
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        let note = try #require(openings.first { $0.value.value == .string(Self.secretTown) })
        let row = try #require(try l.sealedValue(note.key))
        let wrapped = try l.storage.read { (r) throws(LedgerError) in try r.wrappedKey(note.key, reader: "reader:keeper") } ?? []
        // pg_dump writes bytea as \x and lowercase hex.
        func dump() throws -> String { String(decoding: try TestCluster.run("pg_dump", ["--no-owner", "--data-only", name]), as: UTF8.self) }
        let before = try dump()
        #expect(!before.contains(Self.secretTown))
        #expect(before.contains(Hex.encode(row.ciphertext.suffix(32))) && before.contains(Hex.encode(wrapped.suffix(32))))
        _ = try l.append([Self.erase(note.key, subject: "facility:m10", expects: 2, n: 130)])
        let after = try dump()
        #expect(!after.contains(Self.secretTown))
        #expect(!after.contains(Hex.encode(row.ciphertext.suffix(32))))
        #expect(!after.contains(Hex.encode(wrapped.suffix(32))))
        try l.close()
    }

    @Test("a ciphertext moved to another value is refused, naming the value", arguments: StoreKind.inProcess)
    func swapped(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        // Another value's ciphertext and wrapped key stored under a new commitment: its data key
        // opens, but the ciphertext is bound to the commitment it was made for.
        let b = try #require(try l.sealedValue(openings.keys.sorted()[1]))
        let kb = try #require(try l.storage.read { (r) throws(LedgerError) in try r.wrappedKey(b.commitment, reader: "reader:keeper") })
        let moved = Sealing.Opening(salt: [UInt8](repeating: 9, count: 32), value: .string("x")).commitment
        try l.storage.write { (w) throws(LedgerError) in
            var row = b
            row.commitment = moved
            try w.insertSealedValue(row, keys: [WrappedKeyRow(commitment: moved, reader: "reader:keeper", wrapped: kb)])
        }
        do {
            _ = try l.openSealed(.object(JSONObject(uniqueMembers: [("x", Sealing.marker(moved))])), reader: Self.reader(Self.keeper))
            Issue.record("a moved ciphertext was opened")
        } catch {
            #expect(error.code == .verificationFailed)
            #expect(error.message.contains("sealed value \(moved)") && error.message.contains("belongs to another value"))
        }
    }

    @Test("a revoked reader loses its wrapped keys and gets none for new values", arguments: StoreKind.inProcess)
    func revokedReader(store: StoreKind) throws {
        let l = try makeLedger(store)
        _ = try l.append([Self.enrollReader("keeper", Self.keeper, n: 100), Self.enrollReader("other", Self.other, n: 99)])
        let (envelopes, openings) = Self.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        #expect(try state(l, "facility:m10", reader: Self.reader(Self.other))["location"]?.objectValue?["coordinates"] == Self.coordinates)
        let commitment = try #require(openings.keys.first)
        let wrapped = try l.storage.read { (r) throws(LedgerError) in try r.wrappedKey(commitment, reader: "reader:other") } ?? []
        #expect(wrapped.count == ValueSealing.wrappedLength)
        let revoke = Fixtures.envelope(
            type: EventType.readerRevoked.name, subject: "reader:other", expects: 1, body: JSONObject(uniqueMembers: [("reason", .string("left"))]),
            key: Fixtures.admin, n: 140)
        _ = try l.append([revoke])
        if store == .sqlite {
            // The revoked reader's wrapped keys are zeroed in the file and gone from its journal.
            let path = places[0].name
            for suffix in ["", "-wal"] {
                let bytes = Array(FileManager.default.contents(atPath: path + suffix) ?? Data())
                #expect(bytes.firstRange(of: Array(wrapped.suffix(32))) == nil, "\(suffix)")
            }
        }
        let again = Fixtures.envelope(
            type: EventType.readerRevoked.name, subject: "reader:other", expects: 2, body: JSONObject(uniqueMembers: [("reason", .string("again"))]),
            key: Fixtures.admin, n: 142)
        #expect(throws: LedgerError.self) { try l.append([again]) }
        let (more, moreOpenings) = Self.facility("m11", n: 143)
        _ = try l.append(more, openings: moreOpenings)
        for id in ["facility:m10", "facility:m11"] {
            let c = try state(l, id, reader: Self.reader(Self.other))["location"]?.objectValue?["coordinates"]
            #expect(c.flatMap(Sealing.commitment) != nil)
            #expect(try state(l, id, reader: Self.reader(Self.keeper))["location"]?.objectValue?["coordinates"] == Self.coordinates)
        }
        #expect(try l.readers().map(\.active) == [true, false])
    }
}

@Suite("Keeper's bundles: the sealed values for one reader, audited and imported")
final class KeeperBundleTests {
    let dir = TemporaryDirectory()

    @Test("a public bundle holds commitments only; a keeper's bundle audits, imports, and its reader sees the values; a moved line is refused")
    func keeperBundle() throws {
        let made = try StoreFixtures.standardLedger(.sqlite, dir: dir)
        let l = made.ledger
        _ = try l.append([SealedValueTests.enrollReader("keeper", SealedValueTests.keeper, n: 100)])
        _ = try l.append([SealedValueTests.enrollReader("other", SealedValueTests.other, n: 99)])
        let (envelopes, openings) = SealedValueTests.facility("m10", n: 101)
        _ = try l.append(envelopes, openings: openings)
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        let trust = KeyID.of(Fixtures.admin.publicKey)
        _ = try l.export(to: dir.file("public"), exportTime: Fixtures.epoch)
        #expect(!FileManager.default.fileExists(atPath: dir.file("public/data/sealed.jsonl")))
        let report = try l.export(to: dir.file("keeper"), exportTime: Fixtures.epoch, reader: "reader:keeper")
        #expect(report.sealedValues == 2)
        var auditor = BagAudit(directory: dir.file("keeper"), trust: trust)
        auditor.keepNotes = true
        let audit = try auditor.run()
        #expect(audit.ok, "\(String(describing: audit.failure))")
        #expect(audit.sealed.map(\.reader) == ["reader:keeper", "reader:keeper"])
        #expect(audit.sealed.map(\.index) == [6, 7])
        // Imported, the keeper reads the values; the other reader, enrolled too, gets nothing.
        let imported = try Ledger.importBundle(
            at: SQLiteLocation(path: dir.file("imported.ledger")), entries: dir.file("keeper/data/entries.jsonl"),
            checkpoints: audit.checkpoints.map { ($0.size, $0.note) }, size: audit.treeSize, root: audit.root!, sealed: audit.sealed)
        let opened = try imported.openSealed(
            .object(try #require(try imported.entityState("facility:m10"))), reader: SealedValueTests.reader(SealedValueTests.keeper))
        #expect(opened.objectValue?["location"]?.objectValue?["coordinates"] == SealedValueTests.coordinates)
        let other = try imported.openSealed(
            .object(try #require(try imported.entityState("facility:m10"))), reader: SealedValueTests.reader(SealedValueTests.other))
        #expect(other.objectValue?["location"]?.objectValue?["coordinates"].flatMap(Sealing.commitment) != nil)
        try imported.close()
        // A line pointing at another entry, with its manifest fixed, fails the audit at `sealed`.
        let sealedPath = dir.file("keeper/data/sealed.jsonl")
        var text = String(decoding: try #require(FileManager.default.contents(atPath: sealedPath)), as: UTF8.self)
        text = text.replacingOccurrences(of: "{\"index\":7,", with: "{\"index\":6,")
        try Data(text.utf8).write(to: URL(fileURLWithPath: sealedPath))
        let moved = try BagAudit(directory: dir.file("keeper"), trust: trust).run()
        #expect(moved.failure?.step == .sealed, "\(String(describing: moved.failure))")
        // Lines whose wrapped key or ciphertext cannot be what they say are refused by their form.
        let line = audit.sealed[0]
        var short = line
        short.wrapped.removeLast()
        #expect(throws: LedgerError.self) { try Bag.SealedLine(line: short.encoded(), number: 1) }
        var tiny = line
        tiny.ciphertext = [1, 2, 3]
        #expect(throws: LedgerError.self) { try Bag.SealedLine(line: tiny.encoded(), number: 1) }
        // After an erasure, the old keeper's lines with the new log: the audit and the import refuse the erased value.
        let erasure = Fixtures.envelope(
            type: EventType.valueErased.name, subject: "facility:m10", expects: 2,
            body: JSONObject(uniqueMembers: [("reason", .string("request")), ("value", .string(audit.sealed[0].commitment))]), key: Fixtures.admin, n: 130)
        _ = try l.append([erasure])
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        _ = try l.export(to: dir.file("after"), exportTime: Fixtures.epoch)
        var afterAuditor = BagAudit(directory: dir.file("after"), trust: trust)
        afterAuditor.keepNotes = true
        var after = try afterAuditor.run()
        #expect(after.ok)
        after.sealed = audit.sealed
        let stale = try #require(try ViewCheck.check(bag: dir.file("after"), report: after))
        #expect(stale.step == .sealed && stale.reason.contains("was erased at entry"), "\(stale)")
        #expect(throws: LedgerError.self) {
            try Ledger.importBundle(
                at: SQLiteLocation(path: dir.file("resurrected.ledger")), entries: dir.file("after/data/entries.jsonl"),
                checkpoints: after.checkpoints.map { ($0.size, $0.note) }, size: after.treeSize, root: after.root!, sealed: audit.sealed)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("resurrected.ledger")))
        try l.close()
    }
}
