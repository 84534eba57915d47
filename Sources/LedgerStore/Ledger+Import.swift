import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

extension Ledger {
    /// Builds a new ledger file at `path` from an audited bundle's entry lines and checkpoints,
    /// keeping every entry byte for byte (index, record time, envelope). The log rules and the
    /// archive's state rules are applied again as the entries are stored; signatures are not
    /// checked a second time, because the Merkle root of what was stored must equal `root`,
    /// the audited root (so the bytes are the audited bytes). Built under a temporary name and
    /// linked into place: a failure or crash leaves nothing at `path`.
    public static func importBundle(
        path: String, entries: String, checkpoints: [(size: UInt64, note: [UInt8])], size: UInt64, root: Digest32,
        stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> Ledger {
        try importBundle(
            at: SQLiteLocation(path: path), entries: entries, checkpoints: checkpoints, size: size, root: root,
            stateCheckpointInterval: stateCheckpointInterval, progress: progress)
    }

    /// The same at any location (a file or a PostgreSQL database).
    ///
    /// `sealed`: a keeper's bundle's sealed values (FORMAT.md §11), stored with the entries.
    public static func importBundle(
        at location: any LedgerLocation, entries: String, checkpoints: [(size: UInt64, note: [UInt8])], size: UInt64, root: Digest32,
        sealed: [Bag.SealedLine] = [], stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> Ledger {
        try location.create { (storage) throws(LedgerError) in
            try importEntries(
                into: storage, entries: entries, checkpoints: checkpoints, size: size, root: root, stateCheckpointInterval: stateCheckpointInterval,
                progress: progress)
            if !sealed.isEmpty { try storeSealedLines(sealed, into: storage) }
        }
        return try open(at: location)
    }

    /// Fills new, empty storage from an audited bundle's entry lines (one transaction per read
    /// batch) and then its checkpoints; throws, leaving the storage to be discarded, when what
    /// was stored is not the audited log.
    public static func importEntries(
        into storage: any LedgerStorage, entries: String, checkpoints: [(size: UInt64, note: [UInt8])], size: UInt64, root: Digest32,
        stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) {
        var tip = Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil)
        var origin: String?
        let interval = max(1, stateCheckpointInterval)
        let reader = JSONLinesReader(path: entries)
        let result: JSONLinesReader.Result
        do {
            result = try reader.read { lines in
                // Each line's leaf hash too, on every core: the stored line is these bytes.
                let parsed = Parallel.map(count: lines.count, parallelism: System.activeProcessorCount) {
                    i -> Result<(EntryLine, EventPayload, PreparedEntry), LedgerError> in
                    do throws(LedgerError) {
                        let line = try EntryLine(bytes: lines[i])
                        let payload = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
                        return .success((line, payload, PreparedEntry(parsed: line, line: lines[i])))
                    } catch { return .failure(error) }
                }
                let batch = try parsed.map { try $0.get() }
                if origin == nil, let (line0, payload0, _) = batch.first {
                    origin = payload0.ledger
                    try storage.write { (w) throws(LedgerError) in
                        try writeMeta(w, origin: payload0.ledger, genesisKeyID: line0.envelope.keyID, interval: interval)
                    }
                }
                try storeVerbatim(batch, into: storage, origin: origin ?? "", interval: interval, tip: &tip)
                progress?(tip.size, size)
            }
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError(.io, "\(entries): \(error)")
        }
        guard result.trailing.isEmpty, result.tooLong == nil, tip.size == size, tip.frontier.root == root else {
            throw LedgerError(
                .verificationFailed,
                "the entries read for import (\(tip.size), root \(tip.frontier.root.hex)) are not the \(size) audited ones (root \(root.hex)): "
                    + "the bundle changed during the import; nothing was imported")
        }
        try storage.write { (w) throws(LedgerError) in
            for cp in checkpoints.sorted(by: { $0.size < $1.size }) where cp.size <= size {
                try w.insertCheckpoint(size: cp.size, note: cp.note)
            }
            try CheckpointRecord.write(w, try CheckpointRecord.computed(w, location: storage.location))
        }
    }

    /// Stores entries exactly as given (their indexes must continue the log and their record
    /// times never decrease), applying the log and archive rules, in one transaction.
    private static func storeVerbatim(
        _ entries: [(EntryLine, EventPayload, PreparedEntry)], into storage: any LedgerStorage, origin: String, interval: UInt64, tip: inout Tip
    ) throws(LedgerError) {
        let start = tip
        tip = try storage.write { (w) throws(LedgerError) in
            var local = start
            let projection = ProjectionWriter(rows: w, location: storage.location, interval: interval)
            let state = StorageLogState(rows: w, origin: origin)
            for (line, payload, prepared) in entries {
                let index = local.size
                do throws(LedgerError) {
                    guard line.index == index else {
                        throw LedgerError(.verificationFailed, "entry says it is index \(line.index) but stands at position \(index)")
                    }
                    if let last = local.lastRecordTime, line.recordedAt < last {
                        throw LedgerError(.verificationFailed, "record time \(line.recordedAt) is earlier than the previous entry's")
                    }
                    let decision = try EventRules.check(
                        envelope: line.envelope, payload: payload, index: index, recordTime: line.recordedAt, state: state, verifySignature: false)
                    if index > 0 { try projection.apply(payload, index: index, recordTime: line.recordedAt, subjectIsNew: payload.expects == 0) }
                    _ = try insert(
                        w, state: state, envelope: line.envelope, payload: payload, decision: decision, tip: &local, recordTime: line.recordedAt,
                        prepared: prepared)
                    // An erased value: a row without ciphertext, so that it is never stored again here.
                    if payload.eventType == .valueErased, let c = payload.body["value"]?.stringValue, try w.sealedValue(c) == nil {
                        try w.insertSealedValue(
                            SealedValueRow(commitment: c, index: index, subject: payload.subject, field: "", ciphertext: []), keys: [])
                    }
                } catch {
                    throw error.at(index)
                }
            }
            try projection.flush()
            return local
        }
    }
}
