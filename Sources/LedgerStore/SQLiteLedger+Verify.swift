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
        func checkCheckpoints() throws(LedgerError) {
            while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].size == verifier.size {
                try verifier.checkCheckpoint(checkpoints[nextCheckpoint].note)
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
                    if want > verifier.size, want - verifier.size < UInt64(end - start) { end = start + Int(want - verifier.size) }
                }
                let slice = batch[start..<end]
                guard slice.first!.index == verifier.size else {
                    throw LedgerError(.verificationFailed, "entry \(verifier.size) is missing from the ledger file", index: verifier.size)
                }
                try verifier.process(slice.map(\.line), storedLeaves: slice.map(\.leaf))
                try checkCheckpoints()
                start = end
            }
            progress?(verifier.size, total)
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
