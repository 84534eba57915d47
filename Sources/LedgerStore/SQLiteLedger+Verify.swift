import Foundation
import GRDB
import LedgerCore
import LedgerArchive
import LedgerCrypto

/// `PRAGMA integrity_check` (pages, cells, and every index against its table) on a separate
/// read-only connection, on a background thread.
final class StructureCheck: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: LedgerError?

    init(path: String) {
        Thread.detachNewThread { [self] in
            do {
                var config = Configuration()
                config.readonly = true
                let queue = try DatabaseQueue(path: path, configuration: config)
                let damage = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
                try queue.close()
                if damage != ["ok"] {
                    result = LedgerError(
                        .notALedger,
                        "\(path) is damaged at the SQLite level: \(damage.prefix(5).joined(separator: "; ")); restore it from a backup or an export")
                }
            } catch {
                result = LedgerError.database(error, path: path)
            }
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

extension SQLiteLedger {
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
        progress: ((UInt64, UInt64) -> Void)? = nil, projectionProgress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> VerifyReport {
        // SQLite's structural check reads the whole file; it runs on its own read-only
        // connection beside the entry checks, which are bound by signature verification.
        let structure = StructureCheck(path: path)
        let report: VerifyReport
        do {
            report = try queue.read { db in
                try Schema.check(db, path: self.path, code: .verificationFailed)
                let report = try self.verify(db: db, trust: trust, outside: outside, parallelism: parallelism, progress: progress)
                try self.checkProjections(db: db, progress: projectionProgress)
                return report
            }
        } catch {
            if let damage = structure.damage() { throw damage }
            throw LedgerError.database(error, path: path)
        }
        if let damage = structure.damage() { throw damage }
        return report
    }

    private func verify(
        db: Database, trust: String?, outside: (note: [UInt8], name: String)?, parallelism: Int, progress: ((UInt64, UInt64) -> Void)?
    ) throws -> VerifyReport {
        var verifier = LogVerifier(trustedGenesisKeyID: trust, parallelism: parallelism)
        verifier.collectsNodes = true
        var nodesChecked: UInt64 = 0
        var nodeCursors: [Int: RowCursor] = [:]
        let total = try Row.fetchOne(db, sql: "SELECT COUNT(*) FROM entries")?.count(0) ?? 0
        let stored = try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size").map {
            (size: try $0.count(0), note: Array(try $0.blob(1)), outside: false)
        }
        var checkpoints = stored
        let outsideSize = try outside.map { (o) throws(LedgerError) in try Self.outsideCheckpointSize(o, origin: origin, total: total) }
        if let outside, let outsideSize {
            checkpoints.append((outsideSize, outside.note, true))
            checkpoints.sort { $0.size < $1.size }
        }
        var record = CheckpointRecord()
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
                }
                nextCheckpoint += 1
            }
        }
        try checkCheckpoints()
        let statement = try db.makeStatement(
            sql: "SELECT idx, line, leaf, recorded_at, type, subject, signer, event_id FROM entries WHERE idx >= ? ORDER BY idx LIMIT 8192")
        while true {
            var lines: [[UInt8]] = []
            var stored: [StoredEntry] = []
            var indexes: [UInt64] = []
            let cursor = try Row.fetchCursor(statement, arguments: [Int64(given)])
            while let row = try cursor.next() {
                indexes.append(try row.count(0))
                lines.append(try row.withUnsafeData(atIndex: 1) { d in d.map { Array($0) } ?? [] })
                let leaf: Digest32? = try row.withUnsafeData(atIndex: 2) { d in d.flatMap { $0.withUnsafeBytes { Digest32(raw: $0) } } }
                stored.append(
                    StoredEntry(
                        leaf: leaf, recordedAt: try row.text(3), type: try row.text(4), subject: try row.text(5), signer: try row.text(6),
                        eventID: Array(try row.blob(7))))
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
                try verifier.process(Array(lines[start..<end]), stored: Array(stored[start..<end]))
                try checkNodes(db: db, verifier.takeNodes(), cursors: &nodeCursors, count: &nodesChecked)
                given += UInt64(end - start)
                try checkCheckpoints()
                start = end
            }
            progress?(given, total)
        }
        try verifier.finish()
        guard verifier.size > 0 else { throw LedgerError(.verificationFailed, "the ledger holds no entries, not even the genesis") }
        guard verifier.size == total else {
            throw LedgerError(.verificationFailed, "the ledger holds \(total) entries but only the first \(verifier.size) could be read in order")
        }
        if nextCheckpoint < checkpoints.count {
            throw LedgerError(
                .verificationFailed,
                "checkpoint for tree size \(checkpoints[nextCheckpoint].size) is larger than the log (\(verifier.size) entries): entries were removed")
        }
        try checkNodes(db: db, verifier.takeNodes(), cursors: &nodeCursors, count: &nodesChecked)
        let storedNodes = try Row.fetchOne(db, sql: "SELECT COUNT(*) FROM merkle")?.count(0) ?? 0
        if storedNodes != nodesChecked {
            throw LedgerError(
                .verificationFailed, "the Merkle table holds \(storedNodes) nodes but the log forms \(nodesChecked): the file's derived data was altered")
        }
        try checkDerivedTables(db: db, verifier: verifier)
        let recordChecked = try checkCheckpointRecord(db: db, computed: record)
        if let outside, let outsideSize {
            guard stored.contains(where: { $0.size == outsideSize }) else {
                throw LedgerError(
                    .verificationFailed,
                    "the log is consistent with the checkpoint in \(outside.name) (tree size \(outsideSize)), but the ledger file no longer holds that "
                        + "checkpoint: it was deleted from the file; find out who removed it, and restore the file from a backup or by importing an "
                        + "export that holds it")
            }
        }
        return VerifyReport(
            size: verifier.size, root: verifier.root, genesisKeyID: verifier.genesisKeyID ?? "", checkpoints: stored.count,
            lastCheckpointSize: stored.last?.size ?? 0, keys: verifier.state.keys.count, origin: verifier.state.origin ?? "",
            checkpointRecordChecked: recordChecked, confirmedCheckpointSize: outsideSize)
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
    private func checkCheckpointRecord(db: Database, computed: CheckpointRecord) throws -> Bool {
        func unusable(_ how: String) -> LedgerError {
            LedgerError(
                .verificationFailed,
                "meta.\(CheckpointRecord.metaKey) is \(how), so the file cannot show that no checkpoint was deleted from it; restore it from a "
                    + "backup or an export")
        }
        guard let record = try CheckpointRecord.stored(db, malformed: unusable("malformed")) else {
            if try Int32.fetchOne(db, sql: "PRAGMA user_version") ?? 0 < Schema.version { return false }
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
    /// entries gives. The fold runs as `rebuild` does, into a scratch database, and every
    /// projection table is compared with it row by row in key order; the first difference names
    /// the table and the row. The projections are derived data, but `show`, `list` and the views
    /// as of a moment read them, so an altered row would mislead a reader without this check.
    private func checkProjections(db: Database, progress: ((UInt64, UInt64) -> Void)?) throws {
        let version = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'projection_version'")
        guard version == String(Archive.projectionVersion) else {
            throw LedgerError(
                .verificationFailed,
                "meta.projection_version is \(version ?? "missing"), not \(Archive.projectionVersion): the projections were not built by this fold "
                    + "(or the file was altered); `ledger rebuild` recomputes them from the verified log")
        }
        let scratch = NSTemporaryDirectory() + "ledger-verify-\(getpid())-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-journal", "-wal", "-shm"] { unlink(scratch + suffix) } }
        try PrivateFiles.createEmpty(scratch)  // it holds every projected field, sensitive ones included
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        let fresh = try DatabaseQueue(path: scratch, configuration: config)
        defer { try? fresh.close() }
        try fresh.write { target in
            for statement in Schema.projectionStatements { try target.execute(sql: statement) }
            _ = try Self.foldProjections(source: db, target: target, interval: stateCheckpointInterval, path: path, progress: progress)
        }
        let tables = [
            ("entities", "id"), ("incident_index", "id"), ("incident_links", "incident, role, other"), ("concerns", "entity, idx"),
            ("state_versions", "size, id"),
        ]
        try fresh.read { expected in
            for (table, order) in tables {
                let storedRows = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY \(order)")
                let expectedRows = try Row.fetchCursor(expected, sql: "SELECT * FROM \(table) ORDER BY \(order)")
                while true {
                    let a = try storedRows.next()
                    let b = try expectedRows.next()
                    if a == nil, b == nil { break }
                    if let a, let b, a == b { continue }
                    let key = String(((a ?? b).map { String(describing: $0[0] as DatabaseValue) } ?? "?").prefix(100))
                    let what =
                        a == nil
                        ? "a row the log gives is missing (key \(key))"
                        : b == nil ? "it holds a row the log does not give (key \(key))" : "the row with key \(key) differs from what the log gives"
                    throw LedgerError(
                        .verificationFailed,
                        "the projection table `\(table)`: \(what); the entries verified, so the file's derived data was altered or damaged: `ledger "
                            + "rebuild` recomputes it")
                }
            }
        }
    }

    /// Every Merkle node the verified entries form (levels ≥ 1) must be stored with the same
    /// hash; `nodesChecked` counts them, so that afterwards no other node may be stored. Nodes
    /// of each level form in index order, so each level is read with one sequential cursor.
    private func checkNodes(db: Database, _ nodes: [MerkleNode], cursors: inout [Int: RowCursor], count nodesChecked: inout UInt64) throws {
        for node in nodes {
            if cursors[node.level] == nil {
                cursors[node.level] = try Row.fetchCursor(db, sql: "SELECT idx, hash FROM merkle WHERE level = ? ORDER BY idx", arguments: [node.level])
            }
            guard let row = try cursors[node.level]!.next(), try row.count(0) == node.index,
                try row.withUnsafeData(atIndex: 1, { $0?.withUnsafeBytes { Digest32(raw: $0) } }) == node.hash
            else { throw merkleDamage(node.level, node.index) }
            nodesChecked += 1
        }
    }

    private func merkleDamage(_ level: Int, _ index: UInt64) -> LedgerError {
        LedgerError(
            .verificationFailed,
            "the stored Merkle node at level \(level), index \(index) does not match the entries (the entries themselves verified); the file's "
                + "derived data was altered: restore it from a backup or an export")
    }

    /// Keys, subject revisions and meta must say what the verified entries say.
    private func checkDerivedTables(db: Database, verifier: LogVerifier) throws {
        func fail(_ what: String) -> LedgerError {
            LedgerError(
                .verificationFailed,
                "the \(what) stored in the ledger file differs from what the verified entries say: the file was edited; restore it from a backup or an export")
        }
        let keys = try Row.fetchAll(db, sql: "SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys").map(SQLLogState.keyRecord)
        guard keys.count == verifier.state.keys.count, keys.allSatisfy({ verifier.state.keys[$0.keyID] == $0 }) else { throw fail("key table") }
        let revisions = verifier.state.subjectRevisions
        var subjects = 0
        let cursor = try Row.fetchCursor(db, sql: "SELECT subject, revision FROM subjects")
        while let row = try cursor.next() {
            subjects += 1
            guard revisions[try row.text(0)] == (try row.count(1)) else { throw fail("subject revision of \((try? row.text(0)) ?? "?")") }
        }
        guard subjects == revisions.count else { throw fail("subject table") }
        let meta = Dictionary(
            try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { (try $0.text(0), try $0.text(1)) }, uniquingKeysWith: { a, _ in a })
        guard meta["origin"] == verifier.state.origin, meta["genesis_keyid"] == verifier.genesisKeyID else { throw fail("origin or genesis key") }
    }
}
