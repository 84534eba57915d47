import Dispatch
import Foundation
import Synchronization
import GRDB
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// What happened to one submitted envelope.
public enum AppendOutcome: Sendable, Equatable {
    /// Appended at this index.
    case appended(UInt64)
    /// Its event id was already in the log at this index; nothing was added.
    case existing(UInt64)

    /// The entry index either way.
    public var index: UInt64 {
        switch self {
        case .appended(let i), .existing(let i): return i
        }
    }
}

/// One row of `ledger log`.
public struct LogRow: Sendable {
    public var index: UInt64
    public var recordedAt: String
    public var type: String
    public var subject: String
    public var signerKeyID: String
    public var signerName: String
    public var eventID: String
}

/// A ledger kept in one SQLite file (WAL mode, full fsync): entries, Merkle nodes, subject
/// revisions, keys and checkpoints, all written in one transaction per append or batch.
public final class SQLiteLedger: @unchecked Sendable {
    /// The file path.
    public let path: String
    let queue: DatabaseQueue
    /// The ledger's origin.
    public let origin: String
    /// The key id that signed entry 0.
    public let genesisKeyID: String
    /// Entries between state checkpoints (docs/EVENTS.md §5), fixed when the file is created.
    public let stateCheckpointInterval: UInt64
    /// The projection version the file's projections were built with (when opened).
    let storedProjectionVersion: Int
    private let clock: any LedgerClock
    /// The tip after this object's last committed append (see `loadTip`).
    private let tipCache = Mutex<Tip?>(nil)
    /// Opened read-only with no `-wal`/`-shm` beside the file: `close` removes the empty ones
    /// the read-only connection had to create.
    private var tidiesSidecars = false

    static func configuration(readOnly: Bool) -> Configuration {
        var config = Configuration()
        config.readonly = readOnly
        // WAL is set once, when the file is created (it persists in the file). GRDB's own `.wal`
        // setting is not used: it writes a dummy table to every file it opens and lowers
        // `synchronous` to NORMAL, which would both change a file on a refused append and lose
        // acknowledged appends on power failure.
        config.journalMode = .default
        config.busyMode = .timeout(60)
        config.foreignKeysEnabled = false
        config.prepareDatabase { db in
            // Check each B-tree cell's size as it is read, so damage is reported, not followed.
            try db.execute(sql: "PRAGMA cell_size_check = ON")
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        }
        return config
    }

    private init(path: String, queue: DatabaseQueue, clock: any LedgerClock) throws(LedgerError) {
        self.path = path
        self.queue = queue
        self.clock = clock
        do {
            let meta = try queue.read { db in
                Dictionary(try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { (try $0.text(0), try $0.text(1)) }, uniquingKeysWith: { a, _ in a })
            }
            guard let o = meta["origin"], let g = meta["genesis_keyid"] else {
                throw LedgerError(.notALedger, "\(path) has no genesis entry recorded")
            }
            origin = o
            genesisKeyID = g
            storedProjectionVersion = meta["projection_version"].flatMap { Int($0) } ?? 0
            stateCheckpointInterval = meta["state_checkpoint_interval"].flatMap { UInt64($0) }.map { max(1, $0) } ?? SQLiteLedger.defaultStateCheckpointInterval
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    /// Opens an existing ledger; refuses foreign, truncated or other-version files untouched.
    public static func open(path: String, readOnly: Bool = false, clock: any LedgerClock = SystemClock()) throws(LedgerError) -> SQLiteLedger {
        try FileHeader.check(path: path)
        let hadSidecars = FileManager.default.fileExists(atPath: path + "-wal") || FileManager.default.fileExists(atPath: path + "-shm")
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration(readOnly: readOnly))
            if !readOnly { try prepareForWriting(queue, path: path) }
        } catch {
            throw LedgerError.database(error, path: path)
        }
        let ledger = try SQLiteLedger(path: path, queue: queue, clock: clock)
        ledger.tidiesSidecars = readOnly && !hadSidecars
        return ledger
    }

    /// Before any write: refuses a file whose schema was altered (a planted trigger would act on
    /// every append), and upgrades a version 2 file to version 3 by adding its checkpoint record
    /// (docs/FORMAT.md §15) from the stored checkpoints, in one transaction.
    private static func prepareForWriting(_ queue: DatabaseQueue, path: String) throws {
        let version = try queue.read { db in
            try Schema.check(db, path: path, code: .notALedger)
            return try Int32.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        }
        guard version < Schema.version else { return }
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                guard try Int32.fetchOne(db, sql: "PRAGMA user_version") == Schema.oldestReadable else { return .rollback }
                try CheckpointRecord.write(db, try CheckpointRecord.computed(db, path: path))
                try db.execute(sql: "PRAGMA user_version = \(Schema.version)")
                return .commit
            }
        }
    }

    /// Creates a new ledger file whose entry 0 is `genesis`; refuses if the file exists.
    public static let defaultStateCheckpointInterval: UInt64 = 32_768

    public static func create(
        path: String, genesis: Envelope, clock: any LedgerClock = SystemClock(), stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval
    ) throws(LedgerError) -> SQLiteLedger {
        try requireNewPath(path)
        let payload = try EventPayload(bytes: genesis.payload)
        let decision = try EventRules.check(envelope: genesis, payload: payload, index: 0, recordTime: clock.now(), state: MemoryLogState())
        // Build the complete ledger, genesis included, under a temporary name, then link it into
        // place: a crash leaves either no ledger at `path` or a whole one.
        let temp = path + ".creating-\(getpid())"
        removeDatabaseFiles(temp)
        try PrivateFiles.createEmpty(temp)
        do {
            let queue = try DatabaseQueue(path: temp, configuration: configuration(readOnly: false))
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try queue.write { db in
                try initialize(db, origin: payload.ledger, genesisKeyID: decision.signer.keyID, interval: max(1, stateCheckpointInterval))
            }
            let building = SQLiteLedger(
                unchecked: temp, queue: queue, origin: payload.ledger, genesisKeyID: decision.signer.keyID, clock: clock,
                interval: max(1, stateCheckpointInterval))
            _ = try building.appendGenesis(genesis, payload: payload, decision: decision)
            try queue.close()
        } catch {
            removeDatabaseFiles(temp)
            throw LedgerError.database(error, path: path)
        }
        try linkIntoPlace(temp, path)
        return try open(path: path, clock: clock)
    }

    /// Refuses a path where a ledger file, or a `-wal`, `-shm` or `-journal` file left by an
    /// earlier one, exists: SQLite would read a leftover write-ahead log into the new file.
    static func requireNewPath(_ path: String) throws(LedgerError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.io, "\(path) already exists; choose a new path (an existing ledger is never overwritten)")
        }
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            throw LedgerError(
                .io,
                "\(path + suffix) exists, left by an earlier ledger at that path; SQLite would read it into the new one: move it away or choose a new path")
        }
    }

    /// The schema and meta rows of a new ledger file.
    static func initialize(_ db: Database, origin: String, genesisKeyID: String, interval: UInt64) throws {
        for s in Schema.statements { try db.execute(sql: s) }
        try CheckpointRecord.write(db, CheckpointRecord())
        try db.execute(
            sql:
                "INSERT INTO meta (key, value) VALUES ('format', 'incidentledger/1'), ('origin', ?), ('genesis_keyid', ?), ('projection_version', "
                + "'\(Archive.projectionVersion)'), ('state_checkpoint_interval', ?)",
            arguments: [origin, genesisKeyID, String(interval)])
    }

    /// Links a completely built (and closed) database file at `temp` to `path`, removes the
    /// temporary name and makes the new name durable: a crash leaves no ledger at `path` or a
    /// whole one. Refuses to replace an existing file.
    static func linkIntoPlace(_ temp: String, _ path: String) throws(LedgerError) {
        guard link(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            removeDatabaseFiles(temp)
            throw LedgerError(.io, "\(path) could not be created (\(reason))")
        }
        removeDatabaseFiles(temp)
        DurableFile.syncDirectory(PathParts.split(path).directory)
    }

    init(unchecked path: String, queue: DatabaseQueue, origin: String, genesisKeyID: String, clock: any LedgerClock, interval: UInt64) {
        stateCheckpointInterval = interval
        storedProjectionVersion = Archive.projectionVersion
        self.path = path
        self.queue = queue
        self.origin = origin
        self.genesisKeyID = genesisKeyID
        self.clock = clock
    }

    static func removeDatabaseFiles(_ p: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(p + suffix) }
    }

    /// Closes the database; later calls fail. A read-only opening that found no `-wal`/`-shm`
    /// files leaves none behind (when no other connection has the file open).
    public func close() throws(LedgerError) {
        do { try queue.close() } catch { throw LedgerError.database(error, path: path) }
        if tidiesSidecars { FileHeader.removeUnusedSidecars(path: path) }
    }

    // MARK: - Append

    private func appendGenesis(_ envelope: Envelope, payload: EventPayload, decision: EventRules.Decision) throws -> AppendOutcome {
        try queue.writeWithoutTransaction { db in
            var result: AppendOutcome = .appended(0)
            try db.inTransaction(.immediate) {
                var tip = Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil)
                result = try self.insert(db: db, envelope: envelope, payload: payload, decision: decision, tip: &tip, recordTime: clock.now())
                return .commit
            }
            return result
        }
    }

    struct Tip: Sendable {
        var size: UInt64
        var frontier: MerkleFrontier
        var lastRecordTime: Timestamp?
    }

    /// Validates and appends a batch of signed envelopes in one transaction: all or nothing.
    /// An envelope whose event id is already logged (with the same content) returns `.existing`.
    /// A refusal names the envelope's position in the batch; nothing is written.
    ///
    /// Signatures are checked on background threads while the transaction does the rules and
    /// inserts: each against the key its key id names (key ids are hashes of the keys, so the
    /// lookup can happen before the rules); keys enrolled within the batch are checked after.
    /// `progress`, when given, is called now and then with the number of events checked so far.
    public func append(_ envelopes: [Envelope], progress: ((UInt64, UInt64) -> Void)? = nil) throws(LedgerError) -> [AppendOutcome] {
        if envelopes.isEmpty { return [] }
        try requireCurrentProjections()
        let recordTime = clock.now()
        // Large batches: encode each entry line and hash its leaf in parallel, guessing that the
        // entries land at the current size onwards with this record time; the transaction uses
        // a guess only where it came true and encodes the others itself.
        let guessedBase: UInt64? = envelopes.count < 64 ? nil : try size()
        var parsed = [Result<EventPayload, LedgerError>?](repeating: nil, count: envelopes.count)
        var prepared = [PreparedEntry?](repeating: nil, count: envelopes.count)
        parsed.withUnsafeMutableBufferPointer { out in
            prepared.withUnsafeMutableBufferPointer { lines in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let lines = lines
                Parallel.forEachChunk(count: envelopes.count, parallelism: guessedBase == nil ? 1 : System.activeProcessorCount) { range in
                    for i in range {
                        do throws(LedgerError) { out[i] = .success(try EventPayload(bytes: envelopes[i].payload)) } catch { out[i] = .failure(error) }
                        if let guessedBase {
                            lines[i] = PreparedEntry(index: guessedBase + UInt64(i), recordedAt: recordTime, envelope: envelopes[i])
                        }
                    }
                }
            }
        }
        var payloads: [EventPayload] = []
        payloads.reserveCapacity(envelopes.count)
        for (i, p) in parsed.enumerated() {
            do throws(LedgerError) { payloads.append(try p!.get()) } catch {
                throw BatchError(position: i, count: envelopes.count, error: error).ledgerError
            }
        }
        // Small appends check signatures inline: the background machinery costs more than it saves.
        let known = envelopes.count < 16 ? [:] : try knownKeys(Set(envelopes.map(\.keyID)))
        let background = BackgroundSignatureCheck(envelopes: envelopes, keys: envelopes.map { known[$0.keyID] })
        do {
            return try queue.writeWithoutTransaction { db in
                var outcomes: [AppendOutcome] = []
                var tip: Tip?
                try db.inTransaction(.immediate) {
                    (outcomes, tip) = try self.appendLocked(
                        db: db, envelopes: envelopes, payloads: payloads, prepared: prepared, recordTime: recordTime, known: known, background: background,
                        progress: progress)
                    return .commit
                }
                self.tipCache.withLock { $0 = tip }  // only after the commit succeeded
                return outcomes
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    /// Public keys of the given key ids that are already enrolled (revoked or not).
    private func knownKeys(_ keyIDs: Set<String>) throws(LedgerError) -> [String: Ed25519.PublicKey] {
        try read { db in
            var out: [String: Ed25519.PublicKey] = [:]
            let state = SQLLogState(db: db, origin: origin, path: path)
            for id in keyIDs {
                if let record = try state.key(id) { out[id] = record.publicKey }
            }
            return out
        }
    }

    /// The log's tip, read inside the write transaction. The Merkle frontier of the last
    /// append by this process is reused when the log has not moved since (same size and last
    /// record time); otherwise it is rebuilt from the stored nodes.
    private func loadTip(_ db: Database) throws -> Tip {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT idx, recorded_at FROM entries ORDER BY idx DESC LIMIT 1"))
        guard let row else { return Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil) }
        let size = try row.count(0) + 1
        let time = Timestamp.parseRecordTime(try row.text(1))
        if let cached = tipCache.withLock({ $0 }), cached.size == size, cached.lastRecordTime == time {
            return cached
        }
        let frontier = try MerkleFrontier(size: size, source: SQLMerkleNodes(db: db))
        return Tip(size: size, frontier: frontier, lastRecordTime: time)
    }

    private func appendLocked(
        db: Database, envelopes: [Envelope], payloads: [EventPayload], prepared: [PreparedEntry?], recordTime: Timestamp,
        known: [String: Ed25519.PublicKey], background: BackgroundSignatureCheck, progress: ((UInt64, UInt64) -> Void)?
    ) throws -> ([AppendOutcome], Tip) {
        var tip = try loadTip(db)
        guard tip.size > 0 else { throw LedgerError(.notALedger, "\(path) has no genesis entry") }
        var outcomes: [AppendOutcome] = []
        var appended = [Bool](repeating: false, count: envelopes.count)
        var deferredPositions: [Int] = []
        var deferredKeys: [Ed25519.PublicKey?] = []
        let projection = ProjectionWriter(db: db, path: path, interval: stateCheckpointInterval)
        for (i, envelope) in envelopes.enumerated() {
            if i % 1024 == 0 { progress?(UInt64(i), UInt64(envelopes.count)) }
            let payload = payloads[i]
            do throws(LedgerError) {
                if let existing = try existingIndex(db: db, envelope: envelope, payload: payload, index: tip.size) {
                    outcomes.append(.existing(existing))
                    continue
                }
                let state = SQLLogState(db: db, origin: origin, path: path)
                // The record time `insert` gives this entry (record times never decrease).
                let time = max(recordTime, tip.lastRecordTime ?? recordTime)
                let decision = try EventRules.check(
                    envelope: envelope, payload: payload, index: tip.size, recordTime: time, state: state, verifySignature: false)
                // `expects` equals the subject's revision (checked above): 0 means no earlier event.
                try projection.apply(payload, index: tip.size, recordTime: time, subjectIsNew: payload.expects == 0)
                if known[envelope.keyID] == nil {
                    deferredPositions.append(i)
                    deferredKeys.append(decision.signer.publicKey)
                }
                do {
                    outcomes.append(
                        try insert(db: db, envelope: envelope, payload: payload, decision: decision, tip: &tip, recordTime: recordTime, prepared: prepared[i]))
                    appended[i] = true
                } catch {
                    throw LedgerError.database(error, path: path)
                }
            } catch {
                // An earlier event with a bad signature is the first failure, not this one.
                var firstBadSignature = background.failures().filter { $0 < i && appended[$0] }.min()
                for (position, key) in zip(deferredPositions, deferredKeys) where position < (firstBadSignature ?? i) {
                    if !envelopes[position].hasValidSignature(by: key!) { firstBadSignature = position; break }
                }
                if let bad = firstBadSignature {
                    throw BatchError(
                        position: bad, count: envelopes.count,
                        error: LedgerError(
                            .refused,
                            "signature does not verify for key \(envelopes[bad].keyID): the payload was altered after signing or signed by another key")
                    ).ledgerError
                }
                throw BatchError(position: i, count: envelopes.count, error: error).ledgerError
            }
        }
        do { try projection.flush() } catch { throw LedgerError.database(error, path: path) }
        // Signatures: the background checks, then the keys enrolled within this batch.
        let late: [Int]
        if deferredPositions.count < 16 {
            late = zip(deferredPositions, deferredKeys).filter { !envelopes[$0.0].hasValidSignature(by: $0.1!) }.map(\.0)
        } else {
            late = BackgroundSignatureCheck(envelopes: deferredPositions.map { envelopes[$0] }, keys: deferredKeys).failures().map { deferredPositions[$0] }
        }
        if let bad = (background.failures() + late).filter({ appended[$0] }).min() {
            throw BatchError(
                position: bad, count: envelopes.count,
                error: LedgerError(
                    .refused, "signature does not verify for key \(envelopes[bad].keyID): the payload was altered after signing or signed by another key")
            ).ledgerError
        }
        return (outcomes, tip)
    }

    /// If this event id is already logged: its index when the event is the same (same signer,
    /// type, subject and body), a conflict error when the id was used for another event.
    private func existingIndex(db: Database, envelope: Envelope, payload: EventPayload, index: UInt64) throws(LedgerError) -> UInt64? {
        let row: Row?
        do {
            row = try Row.fetchOne(db.cachedStatement(sql: "SELECT idx, line FROM entries WHERE event_id = ?"), arguments: [Data(UUIDv7.parse(payload.id)!)])
        } catch {
            throw LedgerError.database(error, path: path)
        }
        guard let row else { return nil }
        let idx = try row.count(0)
        let line = try EntryLine(bytes: Array(try row.blob(1)))
        // The signer's rights and signature first: an envelope that could not be appended as a new
        // event (unknown, revoked or under-privileged key, bad signature) learns nothing about
        // which ids are in use; it gets the answer it would get with a fresh id. Only the exact
        // bytes already logged are answered with their index whatever the key's state now.
        if line.envelope.payload != envelope.payload || line.envelope.signature != envelope.signature {
            let signer = try EventRules.authorize(envelope: envelope, payload: payload, index: index, state: SQLLogState(db: db, origin: origin, path: path))
            guard envelope.hasValidSignature(by: signer.publicKey) else {
                throw LedgerError(
                    .refused, "signature does not verify for key \(envelope.keyID): the payload was altered after signing or signed by another key")
            }
        }
        guard payload.ledger == origin else {
            throw LedgerError(.refused, "event belongs to ledger \"\(payload.ledger.prefix(80))\", not \"\(origin)\"; it cannot be replayed here")
        }
        let old = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
        // Only the same event, validly signed for this ledger, counts as a re-submission.
        guard old.type == payload.type, old.subject == payload.subject, old.body == payload.body, line.envelope.keyID == envelope.keyID
        else {
            throw LedgerError(.conflict, "event id \(payload.id) is already used at entry \(idx) by a different event; give this event a new id")
        }
        return idx
    }

    func insert(
        db: Database, envelope: Envelope, payload: EventPayload, decision: EventRules.Decision, tip: inout Tip, recordTime: Timestamp,
        prepared: PreparedEntry? = nil
    ) throws -> AppendOutcome {
        let index = tip.size
        let time = max(recordTime, tip.lastRecordTime ?? recordTime)
        let entry =
            prepared.flatMap { $0.index == index && $0.recordedAt == time ? $0 : nil }
            ?? PreparedEntry(index: index, recordedAt: time, envelope: envelope)
        let line = entry.line
        let leaf = entry.leaf
        try db.cachedStatement(sql: "INSERT INTO entries (idx, recorded_at, event_id, type, subject, signer, leaf, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [
                Int64(index), time.recordTimeText, Data(UUIDv7.parse(payload.id)!), payload.type, payload.subject, envelope.keyID,
                Data(leaf.bytes), Data(line),
            ])
        var nodeError: (any Error)?
        let insertNode = try db.cachedStatement(sql: "INSERT INTO merkle (level, idx, hash) VALUES (?, ?, ?)")
        tip.frontier.append(leaf: leaf) { node in
            guard node.level > 0, nodeError == nil else { return }
            do { try insertNode.execute(arguments: [node.level, Int64(node.index), Data(node.hash.bytes)]) } catch { nodeError = error }
        }
        if let nodeError { throw nodeError }
        try db.cachedStatement(sql: "INSERT INTO subjects (subject, revision) VALUES (?, 1) ON CONFLICT(subject) DO UPDATE SET revision = revision + 1")
            .execute(arguments: [payload.subject])
        switch decision.keyEffect {
        case .enroll(let r)?:
            try db.execute(
                sql: "INSERT INTO keys (keyid, public_key, name, roles, enrolled_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)",
                arguments: [r.keyID, Data(r.publicKey.bytes), r.name, r.roles.map(\.rawValue).joined(separator: ","), Int64(r.enrolledAt)])
        case .revoke(let keyID, let at)?:
            try db.execute(sql: "UPDATE keys SET revoked_at = ? WHERE keyid = ?", arguments: [Int64(at), keyID])
        case nil:
            break
        }
        tip.size += 1
        tip.lastRecordTime = time
        return .appended(index)
    }

    /// Refuses to maintain or read projections built by another version of the fold.
    public func requireCurrentProjections() throws(LedgerError) {
        guard storedProjectionVersion == Archive.projectionVersion else {
            throw LedgerError(
                .notALedger,
                "\(path) holds projections of version \(storedProjectionVersion); this tool builds version \(Archive.projectionVersion): run `ledger "
                    + "rebuild --ledger \(path)` first (the log itself is unchanged)")
        }
    }

    // MARK: - Reading

    /// The journal mode and `synchronous` level of the write connection (for tests and `doctor`).
    public func durabilitySettings() throws(LedgerError) -> (journalMode: String, synchronous: Int) {
        do {
            return try queue.writeWithoutTransaction { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    /// Number of entries.
    public func size() throws(LedgerError) -> UInt64 {
        try read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries") ?? 0) }
    }

    /// The RFC 9162 root of the first `size` entries, from the stored nodes.
    public func root(size: UInt64) throws(LedgerError) -> Digest32 {
        try read { db in try MerkleTree.root(size: size, source: SQLMerkleNodes(db: db)) }
    }

    /// An inclusion proof for entry `index` in the tree of `size` entries.
    public func inclusionProof(index: UInt64, size: UInt64) throws(LedgerError) -> [Digest32] {
        try read { db in try MerkleTree.inclusionProof(index: index, size: size, source: SQLMerkleNodes(db: db)) }
    }

    /// A consistency proof between tree sizes `from` and `to`.
    public func consistencyProof(from: UInt64, to: UInt64) throws(LedgerError) -> [Digest32] {
        try read { db in try MerkleTree.consistencyProof(from: from, to: to, source: SQLMerkleNodes(db: db)) }
    }

    /// Every key ever enrolled, in enrollment order.
    public func keys() throws(LedgerError) -> [KeyRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys ORDER BY enrolled_at").map(
                SQLLogState.keyRecord)
        }
    }

    /// The current revision of `subject` (0 if no event names it).
    public func revision(of subject: String) throws(LedgerError) -> UInt64 {
        try read { db in try UInt64.fetchOne(db, sql: "SELECT revision FROM subjects WHERE subject = ?", arguments: [subject]) ?? 0 }
    }

    /// Rows for `ledger log`, from `start`, at most `limit`.
    public func logRows(from start: UInt64, limit: Int) throws(LedgerError) -> [LogRow] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.idx, e.recorded_at, e.type, e.subject, e.signer, COALESCE(k.name, '?'), e.event_id
                    FROM entries e LEFT JOIN keys k ON k.keyid = e.signer WHERE e.idx >= ? ORDER BY e.idx LIMIT ?
                    """, arguments: [Int64(start), limit]
            ).map { r in
                LogRow(
                    index: try r.count(0), recordedAt: try r.text(1), type: try r.text(2), subject: try r.text(3), signerKeyID: try r.text(4),
                    signerName: (try? r.text(5)) ?? "?",
                    eventID: UUIDv7.format(Array(try r.blob(6))))
            }
        }
    }

    /// Calls `body` with consecutive batches of stored entry lines (and the stored leaf hash of
    /// each), in index order, holding one read transaction so the view is consistent.
    public func forEachBatch(
        batchSize: Int = 4096, from first: UInt64 = 0, upTo limit: UInt64? = nil,
        _ body: ([(index: UInt64, line: [UInt8], leaf: Digest32?)]) throws(LedgerError) -> Void
    ) throws(LedgerError) {
        try read { db in
            var next = Int64(min(first, UInt64(Int64.max)))
            let end = Int64(limit ?? UInt64(Int64.max))
            while next < end {
                let count = Int(min(Int64(batchSize), end - next))
                var batch: [(index: UInt64, line: [UInt8], leaf: Digest32?)] = []
                batch.reserveCapacity(count)
                let cursor = try Row.fetchCursor(
                    db,
                    sql: "SELECT idx, line, leaf FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?",
                    arguments: [next, count])
                while let row = try cursor.next() {
                    let line: [UInt8] = try row.withUnsafeData(atIndex: 1) { d in d.map { Array($0) } ?? [] }
                    let leaf: Digest32? = try row.withUnsafeData(atIndex: 2) { d in d.flatMap { $0.withUnsafeBytes { Digest32(raw: $0) } } }
                    batch.append((try row.count(0), line, leaf))
                }
                if batch.isEmpty { break }
                do { try body(batch) } catch let e as LedgerError { throw e }
                next += Int64(batch.count)
                if batch.count < count { break }
            }
        }
    }

    /// Stored signed checkpoints, ascending by tree size.
    public func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size").map { (try $0.count(0), Array(try $0.blob(1))) }
        }
    }

    /// Signs and stores a checkpoint of the current tree with a key holding the log role,
    /// after checking that the tree is consistent with the previous checkpoint.
    public func checkpoint(signingKey: Ed25519.PrivateKey) throws(LedgerError) -> SignedNote {
        let keyID = KeyID.of(signingKey.publicKey)
        do {
            return try queue.writeWithoutTransaction { db in
                var note: SignedNote!
                try db.inTransaction(.immediate) {
                    let state = SQLLogState(db: db, origin: origin, path: path)
                    let size = UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(idx) + 1, 0) FROM entries") ?? 0)
                    guard let key = try state.key(keyID) else {
                        throw LedgerError(.refused, "key \(keyID) is not enrolled in this ledger; enroll it with the log role first")
                    }
                    guard key.roles.contains(.log) else {
                        throw LedgerError(.refused, "key \(keyID) (\(key.name)) lacks the log role needed to sign checkpoints")
                    }
                    guard key.isActive(at: size) else {
                        throw LedgerError(.refused, "key \(keyID) (\(key.name)) is revoked or not yet enrolled at tree size \(size)")
                    }
                    let nodes = SQLMerkleNodes(db: db)
                    let root = try MerkleTree.root(size: size, source: nodes)
                    if let prev = try Row.fetchOne(db, sql: "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1") {
                        let prevSize = try prev.count(0)
                        let prevCP = try Checkpoint(text: SignedNote(bytes: Array(try prev.blob(1))).text)
                        guard prevSize <= size else {
                            throw LedgerError(
                                .verificationFailed, "the tree has \(size) entries but the last checkpoint covers \(prevSize): the log lost entries")
                        }
                        let proof = try MerkleTree.consistencyProof(from: prevSize, to: size, source: nodes)
                        guard MerkleTree.verifyConsistency(from: prevSize, to: size, fromRoot: prevCP.root, toRoot: root, proof: proof) else {
                            throw LedgerError(
                                .verificationFailed,
                                "refusing to sign: the tree of \(size) entries is not consistent with the checkpoint at size \(prevSize) (the log "
                                    + "was rewritten); run `ledger verify`")
                        }
                        if prevSize == size {
                            note = try SignedNote(bytes: Array(try prev.blob(1)))
                            return .rollback
                        }
                    }
                    let cp = Checkpoint(origin: origin, size: size, root: root)
                    note = SignedNote.sign(text: cp.text, name: origin, key: signingKey)
                    try db.execute(sql: "INSERT INTO checkpoints (size, note) VALUES (?, ?)", arguments: [Int64(size), Data(note.encoded())])
                    try CheckpointRecord.append(db, size: size, root: root, path: path)
                    return .commit
                }
                return note
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(LedgerError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }
}

/// An entry line encoded and hashed, for an assumed index and record time.
struct PreparedEntry: Sendable {
    let index: UInt64
    let recordedAt: Timestamp
    let line: [UInt8]
    let leaf: Digest32

    init(index: UInt64, recordedAt: Timestamp, envelope: Envelope) {
        self.index = index
        self.recordedAt = recordedAt
        line = EntryLine(index: index, recordedAt: recordedAt, envelope: envelope).encoded()
        leaf = line.withUnsafeBytes { MerkleHash.leaf($0) }
    }
}

/// A failure inside a batch, located at the envelope's position in the batch.
struct BatchError {
    var position: Int
    var count: Int
    var error: LedgerError

    var ledgerError: LedgerError {
        var e = error
        if count > 1 { e.position = position }
        return e
    }
}
