import Foundation
import LedgerCore
import LedgerCrypto
import LedgerPostgres
import LedgerStore
import LedgerTesting
import Testing

/// The sealed-value rows (`SealedValueRow`, `WrappedKeyRow`) as every store keeps them: read
/// back inside and after the writing transaction, in the stated order, deleted per reader and
/// erased, and all or nothing with the transaction's other rows.
@Suite("Sealed values kept by each store (SQLite, PostgreSQL, memory)")
final class SealedStorageTests {
    let dir = TemporaryDirectory()
    /// The test's places (a database is dropped when its place goes).
    var places: [TestPlace] = []

    func makeLedger(_ store: StoreKind) throws -> (place: TestPlace, ledger: Ledger) {
        let made = try StoreFixtures.standardLedger(store, dir: dir)
        places.append(made.place)
        return made
    }

    /// A commitment: 64 lowercase hex digits starting with `prefix`.
    static func commitment(_ prefix: String) -> String { prefix + String(repeating: "0", count: 64 - prefix.count) }

    static func value(_ prefix: String, index: UInt64, subject: String = "incident:m10-a") -> SealedValueRow {
        SealedValueRow(
            commitment: commitment(prefix), index: index, subject: subject, field: "body.location.coordinates",
            ciphertext: Array("ciphertext of \(prefix)".utf8) + [0, 255, 1])
    }

    static func key(_ v: SealedValueRow, _ reader: String) -> WrappedKeyRow {
        WrappedKeyRow(commitment: v.commitment, reader: reader, wrapped: Array("key of \(v.commitment) for \(reader)".utf8) + [0])
    }

    static let alice = "reader:alice"
    static let bob = "reader:bob"

    /// Byte order puts digits before letters: b9 < ba < c0.
    static let a = value("ba", index: 3)
    static let b = value("ff", index: 1)
    static let c = value("b9", index: 3)
    static let d = value("0c", index: 7)

    @Test("a sealed value and its keys, read back in the same transaction and later; order; one reader's keys deleted; erased", arguments: StoreKind.inProcess)
    func lifecycle(store: StoreKind) throws {
        let (_, ledger) = try makeLedger(store)
        defer { try? ledger.close() }
        let (a, b, c, d) = (Self.a, Self.b, Self.c, Self.d)
        try ledger.storage.write { (w) throws(LedgerError) in
            #expect(try w.sealedValue(a.commitment) == nil)
            try w.insertSealedValue(a, keys: [Self.key(a, Self.alice), Self.key(a, Self.bob)])
            #expect(try w.sealedValue(a.commitment) == a)
            #expect(try w.wrappedKey(a.commitment, reader: Self.alice) == Self.key(a, Self.alice).wrapped)
            #expect(try w.wrappedKey(a.commitment, reader: Self.bob) == Self.key(a, Self.bob).wrapped)
            #expect(try w.wrappedKey(a.commitment, reader: "reader:carol") == nil)
            for v in [b, c, d] { try w.insertSealedValue(v, keys: [Self.key(v, Self.bob)]) }
            #expect(try w.sealedValues(from: 0, below: 100) == [b, c, a, d])
        }
        try ledger.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(a.commitment) == a)
            #expect(try r.sealedValue(Self.commitment("ee")) == nil)
            #expect(try r.wrappedKey(a.commitment, reader: Self.alice) == Self.key(a, Self.alice).wrapped)
            #expect(try r.wrappedKey(a.commitment, reader: Self.bob) == Self.key(a, Self.bob).wrapped)
            #expect(try r.sealedValues(from: 0, below: UInt64.max) == [b, c, a, d])
            #expect(try r.sealedValues(from: 3, below: 7) == [c, a])
            #expect(try r.sealedValues(from: 4, below: 7) == [])
            #expect(try r.sealedValues(from: 7, below: 3) == [])
        }

        // A revoked reader: every key wrapped for it goes, the others stay.
        try ledger.storage.write { (w) throws(LedgerError) in
            try w.deleteWrappedKeys(reader: Self.bob)
            #expect(try w.wrappedKey(a.commitment, reader: Self.bob) == nil)
            #expect(try w.wrappedKey(d.commitment, reader: Self.bob) == nil)
            #expect(try w.wrappedKey(a.commitment, reader: Self.alice) == Self.key(a, Self.alice).wrapped)
        }
        try ledger.storage.read { (r) throws(LedgerError) in
            for v in [a, b, c, d] { #expect(try r.wrappedKey(v.commitment, reader: Self.bob) == nil) }
            #expect(try r.wrappedKey(a.commitment, reader: Self.alice) == Self.key(a, Self.alice).wrapped)
            #expect(try r.sealedValues(from: 0, below: 100) == [b, c, a, d])
        }

        // Erased: the value and every key of it; the other values stay.
        try ledger.storage.write { (w) throws(LedgerError) in
            try w.insertSealedValue(Self.value("aa", index: 5), keys: [Self.key(Self.value("aa", index: 5), Self.alice)])
            try w.eraseSealedValue(a.commitment)
            // The row stays without its ciphertext: the commitment is erased, never stored again.
            #expect(try w.sealedValue(a.commitment)?.ciphertext == [])
            #expect(try w.wrappedKey(a.commitment, reader: Self.alice) == nil)
            try w.eraseSealedValue(Self.commitment("ee"))  // none: nothing happens
        }
        try ledger.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(a.commitment)?.ciphertext == [])
            #expect(try r.wrappedKey(a.commitment, reader: Self.alice) == nil)
            #expect(try r.wrappedKey(Self.commitment("aa"), reader: Self.alice) == Self.key(Self.value("aa", index: 5), Self.alice).wrapped)
            #expect(try r.sealedValues(from: 0, below: 100) == [b, c, Self.value("aa", index: 5), d])
        }
    }

    @Test("a write transaction that throws after inserting sealed values and other rows leaves nothing", arguments: StoreKind.inProcess)
    func rolledBack(store: StoreKind) throws {
        let (place, ledger) = try makeLedger(store)
        defer { try? ledger.close() }
        let before = try place.fingerprint()
        let subject = "incident:rolled-back"
        do {
            try ledger.storage.write { (w) throws(LedgerError) in
                // Rows held in the write buffer (on PostgreSQL) before and after the sealed value,
                // some sent by a read of their table, some still held when the transaction fails.
                try w.bumpRevision(of: subject)
                #expect(try w.revision(of: subject) == 1)
                try w.insertSealedValue(Self.a, keys: [Self.key(Self.a, Self.alice), Self.key(Self.a, Self.bob)])
                try w.insertConcern(entity: subject, index: 0)
                try w.bumpRevision(of: subject)
                #expect(try w.sealedValue(Self.a.commitment) == Self.a)
                #expect(try w.wrappedKey(Self.a.commitment, reader: Self.bob) == Self.key(Self.a, Self.bob).wrapped)
                #expect(try w.sealedValues(from: 0, below: 10) == [Self.a])
                try w.deleteWrappedKeys(reader: Self.bob)
                #expect(try w.wrappedKey(Self.a.commitment, reader: Self.bob) == nil)
                throw LedgerError(.refused, "the test gives up")
            }
            Issue.record("the transaction committed")
        } catch {
            #expect(error.message == "the test gives up")
        }
        try ledger.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(Self.a.commitment) == nil)
            #expect(try r.wrappedKey(Self.a.commitment, reader: Self.alice) == nil)
            #expect(try r.sealedValues(from: 0, below: UInt64.max) == [])
            #expect(try r.revision(of: subject) == 0)
        }
        #expect(try place.fingerprint() == before)
        // The storage goes on working after the rollback.
        try ledger.storage.write { (w) throws(LedgerError) in try w.insertSealedValue(Self.b, keys: []) }
        #expect(try ledger.storage.read { (r) throws(LedgerError) in try r.sealedValue(Self.b.commitment) } == Self.b)
    }

    @Test("a second sealed value with a stored commitment is refused, and its transaction leaves nothing", arguments: StoreKind.inProcess)
    func duplicateCommitment(store: StoreKind) throws {
        let (place, ledger) = try makeLedger(store)
        defer { try? ledger.close() }
        try ledger.storage.write { (w) throws(LedgerError) in try w.insertSealedValue(Self.a, keys: [Self.key(Self.a, Self.alice)]) }
        let before = try place.fingerprint()
        var other = Self.value("ba", index: 9, subject: "incident:other")
        other.ciphertext = [1, 2, 3]
        #expect(other.commitment == Self.a.commitment)
        #expect(throws: LedgerError.self) {
            try ledger.storage.write { (w) throws(LedgerError) in
                try w.insertSealedValue(Self.b, keys: [Self.key(Self.b, Self.bob)])
                try w.insertSealedValue(other, keys: [Self.key(other, Self.bob)])
            }
        }
        // Within one transaction too (the second insert of the same value).
        #expect(throws: LedgerError.self) {
            try ledger.storage.write { (w) throws(LedgerError) in
                try w.insertSealedValue(Self.c, keys: [])
                try w.insertSealedValue(Self.c, keys: [])
            }
        }
        #expect(try place.fingerprint() == before)
        try ledger.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(Self.a.commitment) == Self.a)
            #expect(try r.wrappedKey(Self.a.commitment, reader: Self.alice) == Self.key(Self.a, Self.alice).wrapped)
            #expect(try r.wrappedKey(Self.a.commitment, reader: Self.bob) == nil)
            #expect(try r.sealedValue(Self.b.commitment) == nil)
            #expect(try r.sealedValue(Self.c.commitment) == nil)
        }
    }
}

/// A PostgreSQL ledger made before the sealed-value tables (FORMAT.md §16: its structure is its
/// version): read as it is, upgraded at the first write open.
@Suite("PostgreSQL: a ledger database made before the sealed-value tables", .enabled(if: TestCluster.adminURL != nil))
final class SealedStoragePostgresUpgradeTests {
    let dir = TemporaryDirectory()
    let trust = KeyID.of(Fixtures.admin.publicKey)

    /// A new ledger database whose sealed-value tables were dropped: the structure of one made
    /// before them.
    func olderLedger() throws -> TestPlace {
        let (place, ledger) = try StoreFixtures.standardLedger(.postgres, dir: dir)
        try ledger.close()
        _ = try place.psql("DROP TABLE sealed_keys; DROP TABLE sealed_values")
        return place
    }

    @Test("read-only: no sealed values, verify passes, nothing changes; opened for writing: the tables are added and used")
    func upgrade() throws {
        let place = try olderLedger()
        let before = try place.fingerprint()
        let reader = try Ledger.open(at: place.location, readOnly: true)
        defer { try? reader.close() }
        try reader.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(SealedStorageTests.a.commitment) == nil)
            #expect(try r.sealedValues(from: 0, below: UInt64.max) == [])
            #expect(try r.wrappedKey(SealedStorageTests.a.commitment, reader: SealedStorageTests.alice) == nil)
        }
        #expect(try reader.verify(trust: trust).size == 4)
        #expect(try place.fingerprint() == before)

        let writer = try Ledger.open(at: place.location)
        defer { try? writer.close() }
        #expect(try place.psql("SELECT count(*) FROM sealed_values, sealed_keys") == "0\n")
        #expect(try writer.verify(trust: trust).size == 4)
        let a = SealedStorageTests.a
        try writer.storage.write { (w) throws(LedgerError) in
            try w.insertSealedValue(a, keys: [SealedStorageTests.key(a, SealedStorageTests.alice)])
        }
        // The read-only storage opened before the upgrade sees the tables at its next transaction.
        try reader.storage.read { (r) throws(LedgerError) in
            #expect(try r.sealedValue(a.commitment) == a)
            #expect(try r.wrappedKey(a.commitment, reader: SealedStorageTests.alice) == SealedStorageTests.key(a, SealedStorageTests.alice).wrapped)
        }
        // A second writer finds the current structure.
        let again = try Ledger.open(at: place.location)
        try again.close()
    }

    @Test("only one of the two tables is damage, not an older structure: refused for writing and by verify, unchanged")
    func halfUpgraded() throws {
        let (place, ledger) = try StoreFixtures.standardLedger(.postgres, dir: dir)
        try ledger.close()
        _ = try place.psql("DROP TABLE sealed_keys")
        let before = try place.fingerprint()
        #expect {
            _ = try Ledger.open(at: place.location)
        } throws: { error in
            guard let e = error as? LedgerError else { return false }
            return e.code == .notALedger && e.message.contains("missing column sealed_keys.commitment")
        }
        let reader = try Ledger.open(at: place.location, readOnly: true)
        defer { try? reader.close() }
        #expect(throws: LedgerError.self) { _ = try reader.verify(trust: self.trust) }
        #expect(try place.fingerprint() == before)
    }
}
