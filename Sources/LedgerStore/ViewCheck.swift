import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// The archive's view a checkpoint commits to (FORMAT.md §7): the SHA-256 of the snapshot at its
/// tree size. An audit folds the bundle's entries once, in memory, and checks every checkpoint
/// that carries the line.
public enum ViewCheck {
    /// Checks each checkpoint of an audited bundle that carries a view line, and a keeper's
    /// bundle's sealed values against the log's readers and erasures; nil when all hold, else the
    /// failure to report.
    public static func check(bag: String, report: BagAudit.Report) throws(LedgerError) -> BagAudit.Failure? {
        var wanted: [UInt64: (root: Digest32, view: Digest32, file: String)] = [:]
        for cp in report.checkpoints {
            guard let note = try? SignedNote(bytes: cp.note), let c = try? Checkpoint(text: note.text), let view = c.view else { continue }
            wanted[cp.size] = (c.root, view, Bag.checkpointPath(cp.size))
        }
        if wanted.isEmpty, report.sealed.isEmpty { return nil }
        // A keeper's bundle: each line's reader must be enrolled by the log, and its value not
        // erased by it (the log's own erasure events, read as the entries are folded).
        var readers = Set<String>()
        var erased: [String: UInt64] = [:]
        var state = ArchiveState()
        var index: UInt64 = 0
        var lastRecordedAt = ""
        var failure: BagAudit.Failure?
        let reader = JSONLinesReader(path: bag + "/" + Bag.entriesPath)
        do {
            _ = try reader.read { lines in
                for bytes in lines where failure == nil {
                    let line = try EntryLine(bytes: bytes)
                    let payload = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
                    if payload.eventType == .readerEnrolled { readers.insert(payload.subject) }
                    if payload.eventType == .valueErased, let c = payload.body["value"]?.stringValue { erased[c] = index }
                    if index > 0 {
                        do throws(LedgerError) {
                            try state.applyOwning(
                                type: payload.eventType!, subject: payload.subject, body: payload.body, index: index,
                                latestDay: Archive.latestDay(recordedAt: line.recordedAt))
                        } catch {
                            failure = BagAudit.Failure(
                                step: .view, index: index, file: Bag.entriesPath,
                                reason: "the entry breaks an archive rule, so no view can be built: \(error.message)")
                            return
                        }
                    }
                    lastRecordedAt = line.recordedAt.recordTimeText
                    index += 1
                    if let w = wanted[index] {
                        let hash = SHA256.hash(snapshot(state, origin: report.origin ?? "", size: index, root: w.root, asOf: lastRecordedAt))
                        if hash != w.view {
                            failure = BagAudit.Failure(
                                step: .view, index: nil, file: w.file,
                                reason: "the checkpoint commits to the view \(w.view.hex), but the archive folded from the bundle's first \(index) entries "
                                    + "has the snapshot \(hash.hex) (`ledger snapshot --at-size \(index)`)")
                        }
                    }
                }
            }
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError(.io, "\(bag)/\(Bag.entriesPath): \(error)")
        }
        if failure == nil {
            for s in report.sealed {
                if !readers.contains(s.reader) {
                    return BagAudit.Failure(step: .sealed, index: nil, file: Bag.sealedPath, reason: "\(s.reader) is not a reader the log enrols")
                }
                if let at = erased[s.commitment] {
                    return BagAudit.Failure(
                        step: .sealed, index: s.index, file: Bag.sealedPath,
                        reason: "sealed value \(s.commitment) was erased at entry \(at); a keeper's bundle never carries an erased value")
                }
            }
        }
        return failure
    }

    /// The snapshot bytes (docs/EVENTS.md §6) of `state` at tree size `size`.
    public static func snapshot(_ state: ArchiveState, origin: String, size: UInt64, root: Digest32, asOf: String) -> [UInt8] {
        var out: [UInt8] = []
        let header = Snapshot.Header(origin: origin, treeSize: size, rootHash: root.base64, asOf: asOf)
        Snapshot.write(header: header, entities: state.sortedIDs.lazy.map { Canonical.encode(.object(state.entities[$0]!)) }, into: &out)
        return out
    }
}
