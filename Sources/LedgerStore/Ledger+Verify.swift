import Foundation
import LedgerCore
import LedgerArchive
import LedgerCrypto

/// A storage's own structural check (`LedgerStorage.structuralDamage`) on a background thread.
final class StructureCheck: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: LedgerError?

    init(_ storage: any LedgerStorage) {
        Thread.detachNewThread { [self] in
            result = storage.structuralDamage()
            done.signal()
        }
    }

    /// Waits for the check; the damage found, if any.
    func damage() -> LedgerError? {
        done.wait()
        done.signal()
        return result
    }
}

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
    /// Tree size of the latest checkpoint (0 when there is none).
    public var lastCheckpointSize: UInt64
    /// Keys enrolled (including revoked ones).
    public var keys: Int
    /// The ledger's origin.
    public var origin: String
    /// False for a version 2 file, which has no checkpoint record yet (added at its next write).
    public var checkpointRecordChecked: Bool = true
    /// The tree size of the outsider's checkpoint (`verify --checkpoint`) confirmed, if one was given.
    public var confirmedCheckpointSize: UInt64?
}

extension Ledger {
    /// Re-checks the whole file inside one read transaction, trusting none of the derived
    /// tables: SQLite's own page structure (`quick_check`); every entry from its stored bytes
    /// (signatures, signer rights at each index, origin, record-time order, `expects`, ids);
    /// the Merkle root against every stored checkpoint; and every derived table (leaf hashes and
    /// index columns beside each entry, all stored Merkle nodes, keys, subject revisions, the
    /// origin and genesis key in `meta`) against what the entries say. Streams in batches.
    ///
    /// `outside`, a signed checkpoint note someone outside kept (`verify --checkpoint`), must be
    /// signed by a log key of this ledger, match the verified tree at its size (so the log is
    /// consistent with it), and still be held among the stored checkpoints.
    public func verify(
        trust: String?, outside: (note: [UInt8], name: String)? = nil, parallelism: Int = System.activeProcessorCount,
        progress: ((UInt64, UInt64) -> Void)? = nil, projectionProgress: ((UInt64, UInt64) -> Void)? = nil, cooling: ArchiveState.Cooling = .standard
    ) throws(LedgerError) -> VerifyReport {
        // SQLite's structural check reads the whole file; it runs on its own read-only
        // connection beside the entry checks, which are bound by signature verification.
        let structure = StructureCheck(storage)
        let report: (report: VerifyReport, views: [UInt64: Digest32])
        do throws(LedgerError) {
            report = try read { (r) throws(LedgerError) in
                // The projections are folded from the entries the log checks pass, as they pass
                // (one parse of each entry; the fold runs while the next batch's signatures are
                // checked). Nothing is written: the state checkpoints are compared with the
                // stored ones as the fold gives them, and the other tables' rows at the end.
                let versions = StateVersionCheck(stored: r)
                var fold = ProjectionFold(checking: versions, interval: stateCheckpointInterval, cooling: cooling)
                let (report, ruleFailure, views) = try self.verify(
                    r, trust: trust, outside: outside, parallelism: parallelism, fold: &fold, progress: progress)
                try self.checkProjectionVersion(r)
                if let ruleFailure { throw ruleFailure }
                let (concerns, entities) = (fold.concernRows(), fold.entityRows())
                defer { entities.discard() }
                try self.compareProjections(r, versions: versions, concerns: concerns, entities: entities, progress: projectionProgress)
                return (report, views)
            }
        } catch {
            if let damage = structure.damage() { throw damage }
            throw error
        }
        if let damage = structure.damage() { throw damage }
        try checkViews(folded: report.views)
        return report.report
    }

    /// Every stored checkpoint's view line (FORMAT.md §7) against the snapshot at its size:
    /// `folded`'s hash when it has one for that size (`verify` hashes its fold's states as it
    /// passes each stored checkpoint with a view line, so that no snapshot is read back after
    /// the projections verified equal), otherwise the snapshot built from the stored
    /// projections. Snapshots at a size are the same whatever was appended since, so this may
    /// run after the read above.
    func checkViews(folded: [UInt64: Digest32]) throws(LedgerError) {
        for stored in try checkpoints() {
            guard let view = try Checkpoint(text: SignedNote(bytes: stored.note).text).view else { continue }
            let hash: Digest32
            if let known = folded[stored.size] { hash = known } else { hash = try snapshotHash(atSize: stored.size) }
            guard hash == view else {
                throw LedgerError(
                    .verificationFailed,
                    "the checkpoint at tree size \(stored.size) commits to the view \(view.hex), but the archive's snapshot at that size hashes to "
                        + "\(hash.hex): the checkpoint was signed over another archive, or the fold changed; run `ledger snapshot --at-size "
                        + "\(stored.size)` and compare")
            }
        }
    }

    /// The log's checks, folding the archive from each batch that passes them into `fold`. The
    /// first entry that breaks an archive rule is returned (not thrown), so that a failure of the
    /// log's own checks anywhere in the file is reported first, as when the fold ran after them.
    /// Also returned: the snapshot hash of the fold's states at each stored checkpoint that
    /// carries a view line (none after a rule failure), for `checkViews`.
    private func verify(
        _ r: any StorageReader, trust: String?, outside: (note: [UInt8], name: String)?, parallelism: Int, fold: inout ProjectionFold,
        progress: ((UInt64, UInt64) -> Void)?
    ) throws(LedgerError) -> (VerifyReport, LedgerError?, [UInt64: Digest32]) {
        var verifier = LogVerifier(trustedGenesisKeyID: trust, parallelism: parallelism)
        verifier.collectsNodes = true
        verifier.collectsPayloads = true
        var ruleFailure: LedgerError?
        func foldVerified() {
            let entries = verifier.takeVerified()
            guard ruleFailure == nil, !entries.isEmpty else { return }
            let decoded = entries.map {
                DecodedEntry(index: $0.index, type: $0.type, subject: $0.subject, body: $0.body, latestDay: Archive.latestDay(recordedAt: $0.recordedAt))
            }
            // The entries (the trees of bodies not read as bytes) are freed on another thread, as
            // the fold frees its batches.
            let done = Handoff(entries)
            DispatchQueue.global().async { done.drop() }
            do throws(LedgerError) {
                // Nothing to write: this fold checks its state checkpoints as it makes them.
                _ = try fold.fold(decoded)
            } catch { ruleFailure = error }
        }
        var nodesChecked: UInt64 = 0
        var nodeReader = StoredNodeReader(rows: r)
        let total = try r.entryCount()
        let stored = try r.checkpoints().map { (size: $0.size, note: $0.note, outside: false) }
        var checkpoints = stored
        let outsideSize = try outside.map { (o) throws(LedgerError) in try Self.outsideCheckpointSize(o, origin: origin, total: total) }
        if let outside, let outsideSize {
            checkpoints.append((outsideSize, outside.note, true))
            checkpoints.sort { $0.size < $1.size }
        }
        var record = CheckpointRecord()
        var views: [UInt64: Digest32] = [:]
        var nextCheckpoint = 0
        var given: UInt64 = 0  // entries handed to the verifier (it checks them a batch behind)
        func checkCheckpoints() throws(LedgerError) {
            while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].size == given {
                let c = checkpoints[nextCheckpoint]
                if c.outside {
                    do throws(LedgerError) { _ = try verifier.checkCheckpoint(c.note) } catch {
                        throw LedgerError(.verificationFailed, "the checkpoint in \(outside!.name): \(error.message)")
                    }
                } else {
                    let cp = try verifier.checkCheckpoint(c.note)  // finishes pending work first
                    record.add(size: cp.size, root: cp.root)
                    if cp.view != nil {
                        foldVerified()  // every entry below the checkpoint's size
                        if ruleFailure == nil, let last = verifier.lastRecordTime {
                            views[cp.size] = fold.snapshotHash(origin: origin, size: cp.size, root: cp.root, asOf: last.recordTimeText)
                        }
                    }
                }
                nextCheckpoint += 1
            }
        }
        try checkCheckpoints()
        while true {
            // Lines as the store keeps them: the verifier expands compact ones on all cores.
            let rows = try r.storedEntries(from: given, below: UInt64.max, limit: 4096)
            let lines = rows.map(\.line)
            let indexes = rows.map(\.index)
            let stored = rows.map {
                StoredEntry(leaf: $0.leaf, recordedAt: $0.recordedAt, type: $0.type, subject: $0.subject, signer: $0.signer, eventID: $0.eventID)
            }
            if lines.isEmpty { break }
            // Split the batch so that every checkpoint size falls on a boundary.
            var start = 0
            while start < lines.count {
                var end = lines.count
                if nextCheckpoint < checkpoints.count {
                    let want = checkpoints[nextCheckpoint].size
                    if want > given, want - given < UInt64(end - start) { end = start + Int(want - given) }
                }
                guard indexes[start] == given else {
                    try verifier.finish()
                    throw LedgerError(.verificationFailed, "entry \(given) is missing from the ledger file", index: given)
                }
                try verifier.process(Array(lines[start..<end]), stored: Array(stored[start..<end]), compact: r.keepsCompactForms)
                foldVerified()
                try nodeReader.check(verifier.takeNodes(), count: &nodesChecked, damage: merkleDamage)
                given += UInt64(end - start)
                try checkCheckpoints()
                start = end
            }
            progress?(given, total)
        }
        try verifier.finish()
        foldVerified()
        guard verifier.size > 0 else { throw LedgerError(.verificationFailed, "the ledger holds no entries, not even the genesis") }
        guard verifier.size == total else {
            throw LedgerError(.verificationFailed, "the ledger holds \(total) entries but only the first \(verifier.size) could be read in order")
        }
        if nextCheckpoint < checkpoints.count {
            throw LedgerError(
                .verificationFailed,
                "checkpoint for tree size \(checkpoints[nextCheckpoint].size) is larger than the log (\(verifier.size) entries): entries were removed")
        }
        try nodeReader.check(verifier.takeNodes(), count: &nodesChecked, damage: merkleDamage)
        let storedNodes = try r.merkleNodeCount()
        if storedNodes != nodesChecked {
            throw LedgerError(
                .verificationFailed, "the Merkle table holds \(storedNodes) nodes but the log forms \(nodesChecked): the file's derived data was altered")
        }
        try checkDerivedTables(r, verifier: verifier)
        let recordChecked = try checkCheckpointRecord(r, computed: record)
        if let outside, let outsideSize {
            guard stored.contains(where: { $0.size == outsideSize }) else {
                throw LedgerError(
                    .verificationFailed,
                    "the log is consistent with the checkpoint in \(outside.name) (tree size \(outsideSize)), but the ledger file no longer holds that "
                        + "checkpoint: it was deleted from the file; find out who removed it, and restore the file from a backup or by importing an "
                        + "export that holds it")
            }
        }
        let report = VerifyReport(
            size: verifier.size, root: verifier.root, genesisKeyID: verifier.genesisKeyID ?? "", checkpoints: stored.count,
            lastCheckpointSize: stored.last?.size ?? 0, keys: verifier.state.keys.count, origin: verifier.state.origin ?? "",
            checkpointRecordChecked: recordChecked, confirmedCheckpointSize: outsideSize)
        return (report, ruleFailure, views)
    }

    /// The outsider's note's tree size, after checking it is a checkpoint of this ledger that
    /// the log is long enough to hold.
    private static func outsideCheckpointSize(_ outside: (note: [UInt8], name: String), origin: String, total: UInt64) throws(LedgerError) -> UInt64 {
        let cp: Checkpoint
        do throws(LedgerError) { cp = try Checkpoint(text: SignedNote(bytes: outside.note).text) } catch {
            throw LedgerError(.malformed, "\(outside.name) is not a signed checkpoint note: \(error.message)")
        }
        guard cp.origin == origin else {
            throw LedgerError(.verificationFailed, "the checkpoint in \(outside.name) is for the log \"\(cp.origin.prefix(80))\", not \"\(origin)\"")
        }
        guard cp.size > 0 else {
            throw LedgerError(.verificationFailed, "the checkpoint in \(outside.name) is for an empty tree, which no ledger has (its genesis is entry 0)")
        }
        guard cp.size <= total else {
            throw LedgerError(
                .verificationFailed,
                "the checkpoint in \(outside.name) covers \(cp.size) entries but the ledger holds \(total): entries were removed since it was signed "
                    + "(or it is not from this copy of the ledger)")
        }
        return cp.size
    }

    /// The checkpoint record in `meta` must be exactly what the stored checkpoints give. False
    /// when the file is version 2 (no record yet; it is added at the next write).
    private func checkCheckpointRecord(_ r: any StorageReader, computed: CheckpointRecord) throws(LedgerError) -> Bool {
        func unusable(_ how: String) -> LedgerError {
            LedgerError(
                .verificationFailed,
                "meta.\(CheckpointRecord.metaKey) is \(how), so the file cannot show that no checkpoint was deleted from it; restore it from a "
                    + "backup or an export")
        }
        guard let record = try CheckpointRecord.stored(r, malformed: unusable("malformed")) else {
            if try r.schemaVersion() < Int(Schema.version) { return false }
            throw unusable("missing")
        }
        guard record == computed else {
            throw LedgerError(
                .verificationFailed,
                "the file records \(record.count) checkpoints up to tree size \(record.latestSize), but its checkpoints table holds "
                    + "\(computed.count) up to size \(computed.latestSize)\(record.count == computed.count ? " with other roots" : ""): checkpoints "
                    + "were deleted or replaced (the log itself verified); restore the file from a backup or by importing an export, and check it "
                    + "against the notes witnesses hold (verify --checkpoint)")
        }
        return true
    }

    /// The archive's projections (docs/EVENTS.md §5) must be exactly what folding the verified
    /// entries gives. The fold runs as `rebuild` does (`ProjectionFold`), fed with the entries as
    /// the log's checks pass them, and writes nothing; every projection table is compared with
    /// its rows row by row in key order (`StateVersionCheck`, `compareProjections`); the first
    /// difference names the table and the row. The projections are derived data, but `show`, `list` and the
    /// views as of a moment read them, so an altered row would mislead a reader without this
    /// check. First of all, they must have been built by this fold's version.
    private func checkProjectionVersion(_ r: any StorageReader) throws(LedgerError) {
        let version = try r.meta()["projection_version"]
        guard version == String(Archive.projectionVersion) else {
            throw LedgerError(
                .verificationFailed,
                "meta.projection_version is \(version ?? "missing"), not \(Archive.projectionVersion): the projections were not built by this fold "
                    + "(or the file was altered); `ledger rebuild` recomputes them from the verified log")
        }
    }

    /// Compares every stored projection table with the fold's, row by row: `concerns` with
    /// `concerns`, the tables of entities with the rows `entities` makes (whose states are freed
    /// once those are compared), and `state_versions` by what `versions` found as the fold went.
    private func compareProjections(
        _ r: any StorageReader, versions: StateVersionCheck, concerns: consuming ConcernRows, entities: EntityRows,
        progress: ((UInt64, UInt64) -> Void)?
    ) throws(LedgerError) {
        let tables = ProjectionTable.allCases
        for (done, table) in tables.enumerated() {
            progress?(UInt64(done), UInt64(tables.count))
            func difference(_ stored: [StorageValue]?, _ expected: [StorageValue]?) -> LedgerError {
                let key = String(((stored ?? expected)?.first?.description ?? "?").prefix(100))
                let what =
                    stored == nil
                    ? "a row the log gives is missing (key \(key))"
                    : expected == nil ? "it holds a row the log does not give (key \(key))" : "the row with key \(key) differs from what the log gives"
                return LedgerError(
                    .verificationFailed,
                    "the projection table `\(table.rawValue)`: \(what); the entries verified, so the file's derived data was altered or damaged: `ledger "
                        + "rebuild` recomputes it")
            }
            func compare(_ next: () -> [StorageValue]?) throws(LedgerError) {
                try r.forEachProjectionRow(table) { (stored) throws(LedgerError) in
                    let expected = next()
                    guard expected == stored else { throw difference(stored, expected) }
                }
                if let extra = next() { throw difference(nil, extra) }
            }
            switch table {
            case .stateVersions: if let found = try versions.remaining() { throw difference(found.stored, found.expected) }
            case .concerns: try compare { concerns.next() }
            case .entities, .incidentIndex, .incidentLinks:
                var rows = entities.rows(table)
                try compare { rows.next() }
                if table == .incidentLinks { entities.discard() }
            }
        }
        progress?(UInt64(tables.count), UInt64(tables.count))
    }

    private func merkleDamage(_ level: Int, _ index: UInt64) -> LedgerError {
        LedgerError(
            .verificationFailed,
            "the stored Merkle node at level \(level), index \(index) does not match the entries (the entries themselves verified); the file's "
                + "derived data was altered: restore it from a backup or an export")
    }

    /// Keys, subject revisions and meta must say what the verified entries say.
    private func checkDerivedTables(_ r: any StorageReader, verifier: LogVerifier) throws(LedgerError) {
        func fail(_ what: String) -> LedgerError {
            LedgerError(
                .verificationFailed,
                "the \(what) stored in the ledger file differs from what the verified entries say: the file was edited; restore it from a backup or an export")
        }
        let keys = try r.keys()
        guard keys.count == verifier.state.keys.count, keys.allSatisfy({ verifier.state.keys[$0.keyID] == $0 }) else { throw fail("key table") }
        let revisions = verifier.state.subjectRevisions
        let stored = try r.revisions()
        for (subject, revision) in stored where revisions[subject] != revision { throw fail("subject revision of \(subject)") }
        guard stored.count == revisions.count else { throw fail("subject table") }
        let meta = try r.meta()
        guard meta["origin"] == verifier.state.origin, meta["genesis_keyid"] == verifier.genesisKeyID else { throw fail("origin or genesis key") }
    }
}

/// Reads the stored Merkle nodes of each level in index order, a batch at a time, for `verify`:
/// every node the verified entries form must be stored with the same hash, and nodes of each
/// level form in index order.
struct StoredNodeReader {
    let rows: any StorageReader
    private var buffered: [Int: (nodes: [(index: UInt64, hash: Digest32?)], position: Int, next: UInt64)] = [:]

    init(rows: any StorageReader) { self.rows = rows }

    mutating func check(_ nodes: [MerkleNode], count: inout UInt64, damage: (Int, UInt64) -> LedgerError) throws(LedgerError) {
        for node in nodes {
            var level = buffered[node.level] ?? ([], 0, 0)
            if level.position == level.nodes.count {
                level = (try rows.merkleNodes(level: node.level, from: level.next, limit: 4096), 0, level.next)
                if let last = level.nodes.last { level.next = last.index + 1 }
            }
            guard level.position < level.nodes.count, level.nodes[level.position].index == node.index, level.nodes[level.position].hash == node.hash else {
                throw damage(node.level, node.index)
            }
            level.position += 1
            buffered[node.level] = level
            count += 1
        }
    }
}
