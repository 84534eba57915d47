import LedgerCore
import LedgerCrypto

/// What `verify` found when everything held.
public struct VerifyReport: Sendable {
    /// Entries verified.
    public var size: UInt64
    /// Root of the whole log.
    public var root: Digest32
    /// Key id that signed entry 0.
    public var genesisKeyID: String
    /// Checkpoints checked.
    public var checkpoints: Int
    /// Keys enrolled (including revoked ones).
    public var keys: Int
    /// The ledger's origin.
    public var origin: String
}

extension SQLiteLedger {
    /// Re-checks every entry from the stored bytes, trusting none of the derived tables:
    /// envelope signatures, signer rights at each index, origin, record-time order, stored leaf
    /// hashes, and the Merkle root against every stored checkpoint. Streams in batches.
    public func verify(
        trust: String?, parallelism: Int = System.activeProcessorCount, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> VerifyReport {
        var verifier = LogVerifier(trustedGenesisKeyID: trust, parallelism: parallelism)
        let total = try size()
        let checkpoints = try self.checkpoints()
        var nextCheckpoint = 0
        var given: UInt64 = 0  // entries handed to the verifier (it checks them a batch behind)
        func checkCheckpoints() throws(LedgerError) {
            while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].size == given {
                try verifier.checkCheckpoint(checkpoints[nextCheckpoint].note)  // finishes pending work first
                nextCheckpoint += 1
            }
        }
        try checkCheckpoints()
        try forEachBatch(batchSize: 8192) { (batch) throws(LedgerError) in
            // Split the batch so that every checkpoint size falls on a boundary.
            var start = 0
            while start < batch.count {
                var end = batch.count
                if nextCheckpoint < checkpoints.count {
                    let want = checkpoints[nextCheckpoint].size
                    if want > given, want - given < UInt64(end - start) { end = start + Int(want - given) }
                }
                let slice = batch[start..<end]
                guard slice.first!.index == given else {
                    try verifier.finish()
                    throw LedgerError(.verificationFailed, "entry \(given) is missing from the ledger file", index: given)
                }
                try verifier.process(slice.map(\.line), storedLeaves: slice.map(\.leaf))
                given += UInt64(slice.count)
                try checkCheckpoints()
                start = end
            }
            progress?(given, total)
        }
        try verifier.finish()
        guard verifier.size == total, verifier.size > 0 else {
            throw LedgerError(.verificationFailed, "the ledger holds \(total) entries but only \(verifier.size) could be read in order")
        }
        if nextCheckpoint < checkpoints.count {
            throw LedgerError(
                .verificationFailed,
                "checkpoint for tree size \(checkpoints[nextCheckpoint].size) is larger than the log (\(verifier.size) entries): entries were removed")
        }
        let storedRoot: Digest32
        do { storedRoot = try root(size: verifier.size) } catch {
            throw LedgerError(.verificationFailed, "stored Merkle nodes are unreadable: \(error.message)")
        }
        guard storedRoot == verifier.root else {
            throw LedgerError(.verificationFailed, "stored Merkle nodes give root \(storedRoot.hex) but the entries hash to \(verifier.root.hex); run a rebuild of the Merkle table from a verified export")
        }
        return VerifyReport(
            size: verifier.size, root: verifier.root, genesisKeyID: verifier.genesisKeyID ?? "", checkpoints: checkpoints.count,
            keys: verifier.state.keys.count, origin: verifier.state.origin ?? "")
    }
}
