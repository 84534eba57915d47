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
    /// failure to report. Reads and folds the entries again, one by one, with the report's notes:
    /// `ledger audit` runs the same fold beside its signature checks instead (`BagAudit.observer`).
    public static func check(bag: String, report: BagAudit.Report, cooling: ArchiveState.Cooling = .standard) throws(LedgerError) -> BagAudit.Failure? {
        let fold = ViewFold(cooling: cooling)
        let notes = Dictionary(report.checkpoints.map { ($0.size, $0.note) }, uniquingKeysWith: { a, _ in a })
        var index: UInt64 = 0
        let reader = JSONLinesReader(path: bag + "/" + Bag.entriesPath)
        do {
            _ = try reader.read { lines in
                var entries: [LogVerifier.VerifiedEntry] = []
                for bytes in lines {
                    let line = try EntryLine(bytes: bytes)
                    let payload = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
                    entries.append(LogVerifier.VerifiedEntry(index: index, payload: payload, recordedAt: line.recordedAt))
                    index += 1
                    if let note = notes[index] {
                        fold.verified(entries)
                        entries = []
                        if let c = try? Checkpoint(text: SignedNote(bytes: note).text) { fold.checkpoint(c) }
                    }
                }
                fold.verified(entries)
            }
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError(.io, "\(bag)/\(Bag.entriesPath): \(error)")
        }
        return fold.finish(sealed: report.sealed)
    }

    /// The SHA-256 of the snapshot (docs/EVENTS.md §6) of `state` at tree size `size`.
    public static func snapshotHash(_ state: ArchiveState, origin: String, size: UInt64, root: Digest32, asOf: String) -> Digest32 {
        let header = Snapshot.Header(origin: origin, treeSize: size, rootHash: root.base64, asOf: asOf)
        return Snapshot.hash(header: header, entities: state.sortedIDs.lazy.map { state.encoded($0)! })
    }
}

/// The archive folded from an audited bundle's entries in memory: checks every checkpoint's view
/// line against the snapshot at its size, and records the log's readers and erasures for the
/// keeper's lines. The first failure is kept; the fold stops there. It is handed every bundle
/// (`BagAudit.observer`): deciding from a first look at the files whether a bundle needs it would
/// read them before the audit has checked what they are (links, devices, sizes), and could miss
/// a view line the audit then accepts; so the fold's verdict counts only when a checkpoint the
/// audit passed carries a view line, or the bundle is a keeper's with sealed values (a format 1
/// bundle is folded, and judged as before).
public final class ViewFold: BagAuditObserver {
    private var state: ArchiveState
    private var readers = Set<String>()
    private var erased: [String: UInt64] = [:]
    private var lastRecordedAt = ""
    private var failure: BagAudit.Failure?
    /// Whether a checkpoint handed over carries a view line.
    private var sawView = false

    /// `cooling`: when the fold puts entities away as bytes; the verdict is the same whatever it is.
    public init(cooling: ArchiveState.Cooling = .standard) { state = ArchiveState(cooling: cooling) }

    public func verified(_ entries: [LogVerifier.VerifiedEntry]) {
        for e in entries where failure == nil {
            if e.type == .readerEnrolled { readers.insert(e.subject) }
            if e.type == .valueErased, let c = e.body["value"]?.stringValue { erased[c] = e.index }
            lastRecordedAt = e.recordedAt.recordTimeText
            guard e.index > 0, let type = e.type else { continue }
            state.coolIfDue(before: e.index)
            do throws(LedgerError) {
                let latestDay = Archive.latestDay(recordedAt: e.recordedAt)
                switch e.body {
                case .canonical(let body):
                    try state.applyOwning(
                        Archive.Prechecked(type: type, subject: e.subject, body: body, latestDay: latestDay), subject: e.subject, body: body,
                        index: e.index)
                case .tree(let body): try state.applyOwning(type: type, subject: e.subject, body: body, index: e.index, latestDay: latestDay)
                }
            } catch {
                failure = BagAudit.Failure(
                    step: .view, index: e.index, file: Bag.entriesPath, reason: "the entry breaks an archive rule, so no view can be built: \(error.message)")
            }
        }
    }

    public func checkpoint(_ c: Checkpoint) {
        guard let view = c.view else { return }
        sawView = true
        guard failure == nil else { return }
        let size = c.size
        let hash = ViewCheck.snapshotHash(state, origin: c.origin, size: size, root: c.root, asOf: lastRecordedAt)
        if hash != view {
            failure = BagAudit.Failure(
                step: .view, index: nil, file: Bag.checkpointPath(size),
                reason: "the checkpoint commits to the view \(view.hex), but the archive folded from the bundle's first \(size) entries "
                    + "has the snapshot \(hash.hex) (`ledger snapshot --at-size \(size)`)")
        }
    }

    /// The first failure of the fold, else of the keeper's lines (`sealed`): each line's reader
    /// must be enrolled by the log and its value not erased by it. Nil for a bundle with no view
    /// line and no sealed value, whose archive no checkpoint commits to.
    public func finish(sealed: [Bag.SealedLine]) -> BagAudit.Failure? {
        guard sawView || !sealed.isEmpty else { return nil }
        if let failure { return failure }
        for s in sealed {
            if !readers.contains(s.reader) {
                return BagAudit.Failure(step: .sealed, index: nil, file: Bag.sealedPath, reason: "\(s.reader) is not a reader the log enrols")
            }
            if let at = erased[s.commitment] {
                return BagAudit.Failure(
                    step: .sealed, index: s.index, file: Bag.sealedPath,
                    reason: "sealed value \(s.commitment) was erased at entry \(at); a keeper's bundle never carries an erased value")
            }
        }
        return nil
    }
}
