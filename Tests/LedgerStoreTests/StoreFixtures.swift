import Foundation
import LedgerCrypto
import LedgerStore
import LedgerTesting

/// Ledgers and file fingerprints shared by the store tests.
enum StoreFixtures {
    /// A new ledger at `path` holding the fixture genesis and the standard enrollments (4 entries).
    static func standardLedger(at path: String, clock: ManualClock = ManualClock(), interval: UInt64 = Ledger.defaultStateCheckpointInterval)
        throws -> Ledger
    {
        let l = try Ledger.create(path: path, genesis: Fixtures.genesis(), clock: clock, stateCheckpointInterval: interval)
        _ = try l.append(Array(Fixtures.standardPrefix().dropFirst()))
        return l
    }

    /// SHA-256 of the ledger file and its WAL, to prove a refusal changed nothing.
    static func fingerprint(_ path: String) -> [String] {
        ["", "-wal"].map { s in FileManager.default.contents(atPath: path + s).map { SHA256.hash(Array($0)).hex } ?? "absent" }
    }
}
