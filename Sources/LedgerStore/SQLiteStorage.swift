import Foundation
import GRDB
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// A ledger kept in one SQLite file (WAL mode, `synchronous = FULL`): the rows of
/// docs/FORMAT.md §15, one transaction per append or batch.
public final class SQLiteStorage: LedgerStorage, @unchecked Sendable {
    /// The file path.
    public let path: String
    let queue: DatabaseQueue
    /// Opened read-only with no `-wal`/`-shm` beside the file: `close` removes the empty ones
    /// the read-only connection had to create.
    private var tidiesSidecars = false

    public var location: String { path }

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

    private init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    /// Opens an existing ledger file; refuses foreign, truncated or other-version files untouched.
    public static func open(path: String, readOnly: Bool = false) throws(LedgerError) -> SQLiteStorage {
        try FileHeader.check(path: path)
        let hadSidecars = FileManager.default.fileExists(atPath: path + "-wal") || FileManager.default.fileExists(atPath: path + "-shm")
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration(readOnly: readOnly))
        } catch {
            throw LedgerError.database(error, path: path)
        }
        let storage = SQLiteStorage(path: path, queue: queue)
        storage.tidiesSidecars = readOnly && !hadSidecars
        if !readOnly {
            do throws(LedgerError) { try storage.prepareForWriting() } catch {
                try? queue.close()
                throw error
            }
        }
        return storage
    }

    /// Before any write: refuses a file whose schema was altered (a planted trigger would act on
    /// every append), and upgrades a version 2 file to version 3 by adding its checkpoint record
    /// (docs/FORMAT.md §15) from the stored checkpoints, in one transaction.
    private func prepareForWriting() throws(LedgerError) {
        let version = try read { (r) throws(LedgerError) in
            try (r as! SQLiteRows).checkSchema(code: .notALedger)
            return try r.schemaVersion()
        }
        guard version < Int(Schema.version) else { return }
        try write { (w) throws(LedgerError) in
            guard try w.schemaVersion() == Int(Schema.oldestReadable) else { return }
            try CheckpointRecord.write(w, try CheckpointRecord.computed(w, location: path))
            try (w as! SQLiteRows).execute("PRAGMA user_version = \(Schema.version)")
        }
    }

    /// Builds a new ledger file at `path` under a temporary name: `build` fills it (the schema is
    /// made first), then the complete file is linked into place, so a crash or failure leaves
    /// either no ledger at `path` or a whole one. Refuses an existing path.
    public static func create(path: String, _ build: (SQLiteStorage) throws(LedgerError) -> Void) throws(LedgerError) {
        try requireNewPath(path)
        let temp = path + ".creating-\(getpid())"
        removeDatabaseFiles(temp)
        try PrivateFiles.createEmpty(temp)
        do throws(LedgerError) {
            let queue: DatabaseQueue
            do {
                queue = try DatabaseQueue(path: temp, configuration: configuration(readOnly: false))
                try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
                try queue.write { db in for s in Schema.statements { try db.execute(sql: s) } }
            } catch {
                throw LedgerError.database(error, path: path)
            }
            let storage = SQLiteStorage(path: temp, queue: queue)
            try build(storage)
            try storage.close()
        } catch {
            removeDatabaseFiles(temp)
            throw error
        }
        try linkIntoPlace(temp, path)
    }

    /// A scratch database for recomputed projections (`verify`): a private temporary file,
    /// without journal or fsync, removed by `discard`.
    static func scratch() throws(LedgerError) -> SQLiteStorage {
        let path = NSTemporaryDirectory() + "ledger-verify-\(getpid())-\(UUID().uuidString).sqlite"
        try PrivateFiles.createEmpty(path)  // it holds every projected field, sensitive ones included
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            try queue.write { db in for statement in Schema.projectionStatements { try db.execute(sql: statement) } }
            return SQLiteStorage(path: path, queue: queue)
        } catch {
            removeDatabaseFiles(path)
            throw LedgerError.database(error, path: path)
        }
    }

    /// Closes and deletes a scratch database.
    func discard() {
        try? queue.close()
        Self.removeDatabaseFiles(path)
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

    /// Links a completely built (and closed) database file at `temp` to `path`, removes the
    /// temporary name and makes the new name durable. Refuses to replace an existing file.
    static func linkIntoPlace(_ temp: String, _ path: String) throws(LedgerError) {
        guard link(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            removeDatabaseFiles(temp)
            throw LedgerError(.io, "\(path) could not be created (\(reason))")
        }
        removeDatabaseFiles(temp)
        DurableFile.syncDirectory(PathParts.split(path).directory)
    }

    static func removeDatabaseFiles(_ p: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(p + suffix) }
    }

    public func close() throws(LedgerError) {
        do { try queue.close() } catch { throw LedgerError.database(error, path: path) }
        if tidiesSidecars { FileHeader.removeUnusedSidecars(path: path) }
    }

    public func read<T>(_ body: (any StorageReader) throws(LedgerError) -> T) throws(LedgerError) -> T {
        do {
            return try queue.read { db in try body(SQLiteRows(db: db, path: path)) }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    public func write<T>(_ body: (any StorageWriter) throws(LedgerError) -> T) throws(LedgerError) -> T {
        do {
            return try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteRows(db: db, path: path))
                    return .commit
                }
                return result!
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    /// The schema check and SQLite's `PRAGMA integrity_check`, on a separate read-only
    /// connection (run by `verify` beside its entry checks).
    public func structuralDamage() -> LedgerError? {
        do {
            var config = Configuration()
            config.readonly = true
            let check = try DatabaseQueue(path: path, configuration: config)
            defer { try? check.close() }
            return try check.read { db in
                try Schema.check(db, path: path, code: .verificationFailed)
                let damage = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
                guard damage == ["ok"] else {
                    return LedgerError(
                        .notALedger,
                        "\(path) is damaged at the SQLite level: \(damage.prefix(5).joined(separator: "; ")); restore it from a backup or an export")
                }
                return nil
            }
        } catch {
            return LedgerError.database(error, path: path)
        }
    }

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
}

/// The rows of one SQLite transaction.
struct SQLiteRows: StorageWriter {
    let db: Database
    let path: String

    private func fail(_ error: any Error) -> LedgerError { LedgerError.database(error, path: path) }

    func run(_ sql: String, _ arguments: StatementArguments = []) throws(LedgerError) {
        do { try db.cachedStatement(sql: sql).execute(arguments: arguments) } catch { throw fail(error) }
    }

    /// A statement that is not cached (schema changes).
    func execute(_ sql: String) throws(LedgerError) {
        do { try db.execute(sql: sql) } catch { throw fail(error) }
    }

    private func rows(_ sql: String, _ arguments: StatementArguments = []) throws(LedgerError) -> [Row] {
        do { return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments) } catch { throw fail(error) }
    }

    private func row(_ sql: String, _ arguments: StatementArguments = []) throws(LedgerError) -> Row? {
        do { return try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) } catch { throw fail(error) }
    }

    private func each(_ sql: String, _ arguments: StatementArguments = [], _ body: (Row) throws(LedgerError) -> Void) throws(LedgerError) {
        do {
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let r = try cursor.next() { try body(r) }
        } catch { throw fail(error) }
    }

    private static func bytes(_ r: Row, _ i: Int) throws(LedgerError) -> [UInt8] {
        do { return try r.withUnsafeData(atIndex: i) { d in d.map { Array($0) } ?? [] } } catch { throw LedgerError(.notALedger, "\(error)") }
    }

    private static func digest(_ r: Row, _ i: Int) -> Digest32? {
        (try? r.withUnsafeData(atIndex: i) { d in d.flatMap { $0.withUnsafeBytes { Digest32(raw: $0) } } }) ?? nil
    }

    /// An entry row selected as `idx, line, leaf, recorded_at, type, subject, signer, event_id`.
    private static func entryRow(_ r: Row) throws(LedgerError) -> EntryRow {
        EntryRow(
            index: try r.count(0), recordedAt: try r.text(3), eventID: Array(try r.blob(7)), type: try r.text(4), subject: try r.text(5),
            signer: try r.text(6), leaf: digest(r, 2), line: try bytes(r, 1))
    }

    static func clamp(_ v: UInt64) -> Int64 { Int64(min(v, UInt64(Int64.max))) }

    /// A `keys` row selected as `keyid, public_key, name, roles, enrolled_at, revoked_at`.
    private static func keyRecord(_ row: Row) throws(LedgerError) -> KeyRecord {
        guard let pk = Ed25519.PublicKey(bytes: Array(try row.blob(1))) else {
            throw LedgerError(.notALedger, "key table holds a malformed public key")
        }
        let roles = try row.text(3).split(separator: ",").compactMap { Role(rawValue: String($0)) }
        return KeyRecord(
            keyID: try row.text(0), publicKey: pk, name: try row.text(2), roles: roles, enrolledAt: try row.count(4),
            revokedAt: try row.optionalCount(5))
    }

    func checkSchema(code: LedgerError.Code) throws(LedgerError) {
        do { try Schema.check(db, path: path, code: code) } catch { throw fail(error) }
    }

    // MARK: Reader

    func node(level: Int, index: UInt64) throws -> Digest32 {
        let statement =
            level == 0
            ? try db.cachedStatement(sql: "SELECT leaf FROM entries WHERE idx = ?")
            : try db.cachedStatement(sql: "SELECT hash FROM merkle WHERE level = ? AND idx = ?")
        let arguments: StatementArguments = level == 0 ? [Int64(index)] : [level, Int64(index)]
        guard let data = try Data.fetchOne(statement, arguments: arguments), let d = Digest32(bytes: data) else {
            throw LedgerError(.notALedger, "Merkle node (level \(level), index \(index)) is missing from the ledger file")
        }
        return d
    }

    func meta() throws(LedgerError) -> [String: String] {
        Dictionary(try rows("SELECT key, value FROM meta").map { (r) throws(LedgerError) in (try r.text(0), try r.text(1)) }, uniquingKeysWith: { a, _ in a })
    }

    func schemaVersion() throws(LedgerError) -> Int {
        Int(try row("PRAGMA user_version")?.count(0) ?? 0)
    }

    func size() throws(LedgerError) -> UInt64 {
        try row("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")?.count(0) ?? 0
    }

    func entryCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*) FROM entries")?.count(0) ?? 0
    }

    func entries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow] {
        var out: [EntryRow] = []
        try each(
            "SELECT idx, line, leaf, recorded_at, type, subject, signer, event_id FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
            [Self.clamp(from), Self.clamp(below), limit]
        ) { (r) throws(LedgerError) in
            out.append(try Self.entryRow(r))
        }
        return out
    }

    func entryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        var out: [(index: UInt64, line: [UInt8])] = []
        out.reserveCapacity(min(limit, 8192))
        try each("SELECT idx, line FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?", [Self.clamp(from), Self.clamp(below), limit]) {
            (r) throws(LedgerError) in out.append((try r.count(0), try Self.bytes(r, 1)))
        }
        return out
    }

    func recordedAt(_ index: UInt64) throws(LedgerError) -> String? {
        try row("SELECT recorded_at FROM entries WHERE idx = ?", [Self.clamp(index)])?.text(0)
    }

    func lastEntry() throws(LedgerError) -> (index: UInt64, recordedAt: String)? {
        guard let r = try row("SELECT idx, recorded_at FROM entries ORDER BY idx DESC LIMIT 1") else { return nil }
        return (try r.count(0), try r.text(1))
    }

    func entry(eventID: [UInt8]) throws(LedgerError) -> (index: UInt64, line: [UInt8])? {
        guard let r = try row("SELECT idx, line FROM entries WHERE event_id = ?", [Data(eventID)]) else { return nil }
        return (try r.count(0), Array(try r.blob(1)))
    }

    func subjects(from: UInt64, below: UInt64) throws(LedgerError) -> Set<String> {
        Set(
            try rows("SELECT DISTINCT subject FROM entries WHERE idx >= ? AND idx < ?", [Self.clamp(from), Self.clamp(below)]).map { (r) throws(LedgerError) in
                try r.text(0)
            })
    }

    func entryLines(type: String, from: UInt64, below: UInt64) throws(LedgerError) -> [[UInt8]] {
        try rows("SELECT line FROM entries WHERE idx >= ? AND idx < ? AND type = ?", [Self.clamp(from), Self.clamp(below), type]).map {
            (r) throws(LedgerError) in Array(try r.blob(0))
        }
    }

    func merkleNodes(level: Int, from: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, hash: Digest32?)] {
        var out: [(index: UInt64, hash: Digest32?)] = []
        try each("SELECT idx, hash FROM merkle WHERE level = ? AND idx >= ? ORDER BY idx LIMIT ?", [level, Self.clamp(from), limit]) {
            (r) throws(LedgerError) in out.append((try r.count(0), Self.digest(r, 1)))
        }
        return out
    }

    func merkleNodeCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*) FROM merkle")?.count(0) ?? 0
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? {
        try row("SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys WHERE keyid = ?", [keyID]).map(Self.keyRecord)
    }

    func keys() throws(LedgerError) -> [KeyRecord] {
        try rows("SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys ORDER BY enrolled_at").map(Self.keyRecord)
    }

    func revision(of subject: String) throws(LedgerError) -> UInt64 {
        try row("SELECT revision FROM subjects WHERE subject = ?", [subject])?.count(0) ?? 0
    }

    func revisions() throws(LedgerError) -> [(subject: String, revision: UInt64)] {
        try rows("SELECT subject, revision FROM subjects ORDER BY subject").map { (r) throws(LedgerError) in (try r.text(0), try r.count(1)) }
    }

    func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] {
        try rows("SELECT size, note FROM checkpoints ORDER BY size").map { (r) throws(LedgerError) in (try r.count(0), Array(try r.blob(1))) }
    }

    func checkpoint(size: UInt64) throws(LedgerError) -> [UInt8]? {
        try row("SELECT note FROM checkpoints WHERE size = ?", [Self.clamp(size)]).map { (r) throws(LedgerError) in Array(try r.blob(0)) }
    }

    func entityState(_ id: String) throws(LedgerError) -> [UInt8]? {
        try row("SELECT state FROM entities WHERE id = ?", [id]).map { (r) throws(LedgerError) in Array(try r.blob(0)) }
    }

    func entityCount() throws(LedgerError) -> Int {
        Int(try row("SELECT COUNT(*) FROM entities")?.count(0) ?? 0)
    }

    func forEachEntity(_ body: (String, [UInt8]) throws(LedgerError) -> Void) throws(LedgerError) {
        try each("SELECT id, state FROM entities ORDER BY id") { (r) throws(LedgerError) in try body(try r.text(0), try Self.bytes(r, 1)) }
    }

    func concerning(_ entity: String, from: UInt64, below: UInt64) throws(LedgerError) -> [EntryRow] {
        var out: [EntryRow] = []
        try each(
            """
            SELECT e.idx, e.line, e.leaf, e.recorded_at, e.type, e.subject, e.signer, e.event_id FROM concerns c
            JOIN entries e ON e.idx = c.idx WHERE c.entity = ? AND c.idx >= ? AND c.idx < ? ORDER BY c.idx
            """, [entity, Self.clamp(from), Self.clamp(below)]
        ) { (r) throws(LedgerError) in
            out.append(try Self.entryRow(r))
        }
        return out
    }

    func stateVersion(_ id: String, atMost: UInt64) throws(LedgerError) -> (size: UInt64, state: [UInt8])? {
        try row("SELECT size, state FROM state_versions WHERE id = ? AND size <= ? ORDER BY size DESC LIMIT 1", [id, Self.clamp(atMost)]).map {
            (r) throws(LedgerError) in (try r.count(0), Array(try r.blob(1)))
        }
    }

    func latestStateVersionSize(atMost: UInt64) throws(LedgerError) -> UInt64 {
        try row("SELECT COALESCE(MAX(size), 0) FROM state_versions WHERE size <= ?", [Self.clamp(atMost)])?.count(0) ?? 0
    }

    func stateVersionIDs(after size: UInt64) throws(LedgerError) -> Set<String> {
        Set(try rows("SELECT DISTINCT id FROM state_versions WHERE size > ?", [Self.clamp(size)]).map { (r) throws(LedgerError) in try r.text(0) })
    }

    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, state: [UInt8])] {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let from = filter.from { clauses.append("(i.latest IS NULL OR i.latest >= ?)"); args.append(from) }
        if let to = filter.to { clauses.append("(i.earliest IS NULL OR i.earliest <= ?)"); args.append(to) }
        if let p = filter.place { clauses.append("(lower(i.admin1) = lower(?) OR lower(i.admin2) = lower(?) OR lower(i.town) = lower(?))"); args += [p, p, p] }
        if let f = filter.facility { clauses.append("i.id IN (SELECT incident FROM incident_links WHERE other = ? AND role = 'facility')"); args.append(f) }
        if let a = filter.perpetrator {
            clauses.append("i.id IN (SELECT incident FROM incident_links WHERE other = ? AND role = 'perpetrator')"); args.append(a)
        }
        if let s = filter.status { clauses.append("i.status = ?"); args.append(s) }
        if let c = filter.certainty { clauses.append("i.certainty = ?"); args.append(c) }
        if let v = filter.verification { clauses.append("i.verification = ?"); args.append(v) }
        var sql = "SELECT e.id, e.state FROM incident_index i JOIN entities e ON e.id = i.id"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY i.id"
        return try rows(sql, StatementArguments(args.map { $0?.databaseValue ?? .null })).map { (r) throws(LedgerError) in (try r.text(0), Array(try r.blob(1)))
        }
    }

    func forEachProjectionRow(_ table: ProjectionTable, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        try each(Self.projectionQuery(table)) { (r) throws(LedgerError) in try body(Self.values(r)) }
    }

    static func projectionQuery(_ table: ProjectionTable) -> String {
        "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.rawValue) ORDER BY \(table.order.joined(separator: ", "))"
    }

    static func values(_ r: Row) -> [StorageValue] {
        r.databaseValues.map { v in
            switch v.storage {
            case .null: return .null
            case .int64(let i): return .integer(i)
            case .double(let d): return .text(String(d))
            case .string(let s): return .text(s)
            case .blob(let b): return .blob(Array(b))
            }
        }
    }

    // MARK: Writer

    func insertEntry(_ e: EntryRow) throws(LedgerError) {
        guard let leaf = e.leaf else { throw LedgerError(.malformed, "entry \(e.index) has no leaf hash") }
        try run(
            "INSERT INTO entries (idx, recorded_at, event_id, type, subject, signer, leaf, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [Self.clamp(e.index), e.recordedAt, Data(e.eventID), e.type, e.subject, e.signer, Data(leaf.bytes), Data(e.line)])
    }

    func insertMerkleNode(level: Int, index: UInt64, hash: Digest32) throws(LedgerError) {
        try run("INSERT INTO merkle (level, idx, hash) VALUES (?, ?, ?)", [level, Self.clamp(index), Data(hash.bytes)])
    }

    func bumpRevision(of subject: String) throws(LedgerError) {
        try run("INSERT INTO subjects (subject, revision) VALUES (?, 1) ON CONFLICT(subject) DO UPDATE SET revision = revision + 1", [subject])
    }

    func insertKey(_ r: KeyRecord) throws(LedgerError) {
        try run(
            "INSERT INTO keys (keyid, public_key, name, roles, enrolled_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
            [r.keyID, Data(r.publicKey.bytes), r.name, r.roles.map(\.rawValue).joined(separator: ","), Self.clamp(r.enrolledAt), r.revokedAt.map(Self.clamp)])
    }

    func revokeKey(_ keyID: String, at index: UInt64) throws(LedgerError) {
        try run("UPDATE keys SET revoked_at = ? WHERE keyid = ?", [Self.clamp(index), keyID])
    }

    func insertCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        try run("INSERT INTO checkpoints (size, note) VALUES (?, ?)", [Self.clamp(size), Data(note)])
    }

    func replaceCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        try run("UPDATE checkpoints SET note = ? WHERE size = ?", [Data(note), Self.clamp(size)])
    }

    func setMeta(_ key: String, _ value: String) throws(LedgerError) {
        try run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
    }

    func putEntity(id: String, kind: String, state: [UInt8], replace: Bool) throws(LedgerError) {
        try run(
            replace ? "INSERT OR REPLACE INTO entities (id, kind, state) VALUES (?, ?, ?)" : "INSERT INTO entities (id, kind, state) VALUES (?, ?, ?)",
            [id, kind, Data(state)])
    }

    func putIncidentIndex(id: String, row r: IncidentIndexRow, replace: Bool) throws(LedgerError) {
        try run(
            """
            INSERT OR REPLACE INTO incident_index (id, earliest, latest, admin1, admin2, town, status, certainty, verification)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [id, r.earliest, r.latest, r.admin1, r.admin2, r.town, r.status, r.certainty, r.verification])
        if replace { try run("DELETE FROM incident_links WHERE incident = ?", [id]) }
        for f in r.facilities { try run("INSERT OR IGNORE INTO incident_links (incident, role, other) VALUES (?, ?, ?)", [id, "facility", f]) }
        for a in r.perpetrators { try run("INSERT OR IGNORE INTO incident_links (incident, role, other) VALUES (?, ?, ?)", [id, "perpetrator", a]) }
    }

    func insertConcern(entity: String, index: UInt64) throws(LedgerError) {
        try run("INSERT INTO concerns (entity, idx) VALUES (?, ?)", [entity, Self.clamp(index)])
    }

    func insertStateVersion(id: String, size: UInt64, state: [UInt8]) throws(LedgerError) {
        try run("INSERT INTO state_versions (id, size, state) VALUES (?, ?, ?)", [id, Self.clamp(size), Data(state)])
    }

    func clearProjections() throws(LedgerError) {
        // Dropped and made again (as new, empty B-trees) rather than emptied row by row.
        for t in Schema.projectionTables { try execute("DROP TABLE \(t)") }
        for statement in Schema.projectionStatements { try execute(statement) }
    }
}

extension SQLiteStorage {
    /// Compares this database's rows of `table` with `other`'s, both in key order, streaming;
    /// throws `difference(stored, expected)` at the first row that differs (`other` holds the
    /// stored rows, this one the expected).
    func compare(
        _ table: ProjectionTable, with other: any StorageReader, difference: ([StorageValue]?, [StorageValue]?) -> LedgerError
    ) throws(LedgerError) {
        do {
            try queue.read { db in
                let expected = try Row.fetchCursor(db, sql: SQLiteRows.projectionQuery(table))
                try other.forEachProjectionRow(table) { (stored) throws(LedgerError) in
                    let next: Row?
                    do { next = try expected.next() } catch { throw LedgerError.database(error, path: path) }
                    let e = next.map(SQLiteRows.values)
                    guard e == stored else { throw difference(stored, e) }
                }
                if let extra = try expected.next() { throw difference(nil, SQLiteRows.values(extra)) }
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }
}
