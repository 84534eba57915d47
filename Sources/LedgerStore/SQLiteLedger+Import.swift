import Foundation
import GRDB
import LedgerArchive
import LedgerCore
import LedgerCrypto

extension SQLiteLedger {
    /// Builds a new ledger file at `path` from an audited bundle's entry lines and checkpoints,
    /// keeping every entry byte for byte (index, record time, envelope). The log rules and the
    /// archive's state rules are applied again as the entries are stored; signatures are not
    /// checked a second time, because the Merkle root of what was stored must equal `root`,
    /// the audited root (so the bytes are the audited bytes). Built under a temporary name and
    /// linked into place: a failure or crash leaves nothing at `path`.
    public static func importBundle(
        path: String, entries: String, checkpoints: [(size: UInt64, note: [UInt8])], size: UInt64, root: Digest32,
        stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> SQLiteLedger {
        try requireNewPath(path)
        let temp = path + ".importing-\(getpid())"
        removeDatabaseFiles(temp)
        try PrivateFiles.createEmpty(temp)
        do {
            let queue = try DatabaseQueue(path: temp, configuration: configuration(readOnly: false))
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            var building: SQLiteLedger?
            var tip = Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil)
            let interval = max(1, stateCheckpointInterval)
            let reader = JSONLinesReader(path: entries)
            let result = try reader.read { lines in
                var parsed = [Result<(EntryLine, EventPayload), LedgerError>?](repeating: nil, count: lines.count)
                parsed.withUnsafeMutableBufferPointer { out in
                    nonisolated(unsafe) let out = out
                    Parallel.forEachChunk(count: lines.count, parallelism: System.activeProcessorCount) { range in
                        for i in range {
                            do throws(LedgerError) {
                                let line = try EntryLine(bytes: lines[i])
                                out[i] = .success((line, try EventPayload(bytes: line.envelope.payload, requireNFC: false)))
                            } catch {
                                out[i] = .failure(error)
                            }
                        }
                    }
                }
                if building == nil {
                    let (line0, payload0) = try parsed[0]!.get()
                    try queue.write { db in try initialize(db, origin: payload0.ledger, genesisKeyID: line0.envelope.keyID, interval: interval) }
                    building = SQLiteLedger(
                        unchecked: temp, queue: queue, origin: payload0.ledger, genesisKeyID: line0.envelope.keyID, clock: SystemClock(), interval: interval)
                }
                try building!.storeVerbatim(parsed.map { try $0!.get() }, tip: &tip)
                progress?(tip.size, size)
            }
            guard result.trailing.isEmpty, result.tooLong == nil, tip.size == size, tip.frontier.root == root else {
                throw LedgerError(
                    .verificationFailed,
                    "the entries read for import (\(tip.size), root \(tip.frontier.root.hex)) are not the \(size) audited ones (root \(root.hex)): "
                        + "the bundle changed during the import; nothing was imported")
            }
            try queue.write { db in
                for cp in checkpoints.sorted(by: { $0.size < $1.size }) where cp.size <= size {
                    try db.execute(sql: "INSERT INTO checkpoints (size, note) VALUES (?, ?)", arguments: [Int64(cp.size), Data(cp.note)])
                }
                try CheckpointRecord.write(db, try CheckpointRecord.computed(db, path: path))
            }
            try queue.close()
        } catch {
            removeDatabaseFiles(temp)
            if let e = error as? LedgerError { throw e }
            throw LedgerError.database(error, path: path)
        }
        try linkIntoPlace(temp, path)
        return try open(path: path)
    }

    /// Stores entries exactly as given (their indexes must continue the log and their record
    /// times never decrease), applying the log and archive rules, in one transaction.
    private func storeVerbatim(_ entries: [(EntryLine, EventPayload)], tip: inout Tip) throws {
        var local = tip
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let projection = ProjectionWriter(db: db, path: path, interval: stateCheckpointInterval)
                for (line, payload) in entries {
                    let index = local.size
                    do throws(LedgerError) {
                        guard line.index == index else {
                            throw LedgerError(.verificationFailed, "entry says it is index \(line.index) but stands at position \(index)")
                        }
                        if let last = local.lastRecordTime, line.recordedAt < last {
                            throw LedgerError(.verificationFailed, "record time \(line.recordedAt) is earlier than the previous entry's")
                        }
                        let state = SQLLogState(db: db, origin: origin, path: path)
                        let decision = try EventRules.check(
                            envelope: line.envelope, payload: payload, index: index, recordTime: line.recordedAt, state: state, verifySignature: false)
                        if index > 0 { try projection.apply(payload, index: index, recordTime: line.recordedAt, subjectIsNew: payload.expects == 0) }
                        do {
                            _ = try insert(db: db, envelope: line.envelope, payload: payload, decision: decision, tip: &local, recordTime: line.recordedAt)
                        } catch {
                            throw LedgerError.database(error, path: path)
                        }
                    } catch {
                        throw error.at(index)
                    }
                }
                try projection.flush()
                return .commit
            }
        }
        tip = local
    }
}
