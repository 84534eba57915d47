import Foundation
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

/// Ledgers and fingerprints shared by the store tests.
enum StoreFixtures {
    /// A new ledger at `path` holding the fixture genesis and the standard enrollments (4 entries).
    static func standardLedger(at path: String, clock: ManualClock = ManualClock(), interval: UInt64 = Ledger.defaultStateCheckpointInterval)
        throws -> Ledger
    {
        try standardLedger(at: SQLiteLocation(path: path), clock: clock, interval: interval)
    }

    /// The same at any location.
    static func standardLedger(
        at location: any LedgerLocation, clock: ManualClock = ManualClock(), interval: UInt64 = Ledger.defaultStateCheckpointInterval
    ) throws -> Ledger {
        let l = try Ledger.create(at: location, genesis: Fixtures.genesis(), clock: clock, stateCheckpointInterval: interval)
        _ = try l.append(Array(Fixtures.standardPrefix().dropFirst()))
        return l
    }

    /// A new place of `store` in `dir` (a file, a fresh database, or memory) holding the
    /// standard ledger; the place must outlive the test (a database is dropped with it).
    static func standardLedger(
        _ store: StoreKind, dir: TemporaryDirectory, file: String = "t.ledger", clock: ManualClock = ManualClock(),
        interval: UInt64 = Ledger.defaultStateCheckpointInterval
    ) throws -> (place: TestPlace, ledger: Ledger) {
        let place = try TestPlace(store, dir: dir, file: file)
        return (place, try standardLedger(at: place.location, clock: clock, interval: interval))
    }

    /// SHA-256 of the ledger file and its WAL, to prove a refusal changed nothing.
    static func fingerprint(_ path: String) -> [String] {
        ["", "-wal"].map { s in FileManager.default.contents(atPath: path + s).map { SHA256.hash(Array($0)).hex } ?? "absent" }
    }
}

@Suite("The store tests' PostgreSQL cases")
struct TestClusterPresence {
    @Test("run whenever Tools/test.sh asks for them (LEDGER_REQUIRE_POSTGRES=1), never skipped silently")
    func required() {
        if TestCluster.env["LEDGER_REQUIRE_POSTGRES"] == "1" {
            #expect(TestCluster.adminURL != nil, "LEDGER_REQUIRE_POSTGRES=1 but no LEDGER_TEST_DATABASE_URL: the PostgreSQL cases would not run")
            #expect(StoreKind.all.contains(.postgres))
        }
    }
}
