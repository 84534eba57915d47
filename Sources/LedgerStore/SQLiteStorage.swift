import Foundation
import GRDB
import GRDBSQLite
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
            // `secure_delete` is off, except in a transaction that writes the sealed tables
            // (`SQLiteRows.secureDelete`): only those hold secrets, and zeroing every freed page
            // made a rebuild's dropping of the projection tables ten times slower.
            try db.execute(sql: "PRAGMA secure_delete = OFF")
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
    /// every append), and brings an older file to version 4. A version 2 or 3 file made before
    /// the migrator is adopted first, in one transaction: `grdb_migrations` is made as GRDB makes
    /// it and given the migrations its `user_version` implies. The migrator then runs the rest,
    /// each in its own transaction with its `user_version` (docs/DECISIONS.md 59).
    private func prepareForWriting() throws(LedgerError) {
        let version = try read { (r) throws(LedgerError) in
            try (r as! SQLiteRows).checkSchema(code: .notALedger)
            return try r.schemaVersion()
        }
        guard version < Int(Schema.fileVersion) else { return }
        let migrator = Schema.migrator(location: path)
        do {
            try queue.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    // Again under the write lock: another writer may have adopted it meanwhile.
                    guard try !db.tableExists("grdb_migrations") else { return .commit }
                    let version = try Int32.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                    try db.execute(sql: Schema.migrationsTableStatement)
                    for m in Schema.migrations where m.version <= version {
                        try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [m.identifier])
                    }
                    return .commit
                }
            }
            do { try migrator.migrate(queue) } catch {
                // Another writer may have run the same migration first (the migrator decides
                // what to run before its transaction); then there is nothing left to do.
                guard try queue.read(migrator.hasCompletedMigrations) else { throw error }
            }
            try queue.read { db in try Schema.check(db, path: path, code: .notALedger) }
        } catch {
            throw LedgerError.database(error, path: path)
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
                try Schema.migrator(location: path).migrate(queue)
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
                let rows = SQLiteRows(db: db, path: path)
                defer { rows.secureDeleteEnded() }
                try db.inTransaction(.immediate) {
                    result = try body(rows)
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

    /// Copies the write-ahead log into the file and truncates it to zero bytes, so that pages
    /// holding deleted rows (zeroed in the file by `secure_delete`) are not left in the log.
    /// Another process reading the ledger at that moment can keep the log from being truncated:
    /// then it is truncated at a later erasure or checkpoint.
    public func scrub() throws(LedgerError) {
        do { _ = try queue.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") } } catch {
            throw LedgerError.database(error, path: path)
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
    private typealias E = EntryRecord.Columns

    let db: Database
    let path: String
    /// Entity states and state checkpoints are written packed (`CompactState`).
    let packsStates = true
    /// What this transaction keeps: whether it turned `secure_delete` on, and the statements
    /// its row writes used.
    private let transaction = TransactionState()

    private final class TransactionState {
        var secureDelete = false
        var statements: [(sql: String, statement: Statement)] = []
    }

    /// GRDB's cached statement for `sql`, kept for the rest of the transaction: a transaction
    /// writes its rows through a handful of statements, found here by comparing the texts'
    /// lengths and bytes, where GRDB's cache hashed each text (about 950 instructions a row).
    func statement(_ sql: String) throws(LedgerError) -> Statement {
        for kept in transaction.statements where kept.sql.sameBytes(sql) { return kept.statement }
        do {
            let made = try db.cachedStatement(sql: sql)
            transaction.statements.append((sql, made))
            return made
        } catch { throw fail(error) }
    }

    /// Turns `secure_delete` on for the rest of this transaction, before any write to the sealed
    /// tables: every cell they delete, and every page they free (B-tree pages merged or split
    /// included), is overwritten with zeros, so that an erased sealed value's wrapped keys and
    /// ciphertext do not linger in free space (docs/FORMAT.md §9). The sealed tables are written
    /// in no other way, so none of their bytes is ever freed without it.
    private func secureDelete() throws(LedgerError) {
        guard !transaction.secureDelete else { return }
        try execute("PRAGMA secure_delete = ON")
        transaction.secureDelete = true
    }

    /// Turns `secure_delete` off again once the transaction has ended (committed or not).
    func secureDeleteEnded() {
        guard transaction.secureDelete else { return }
        try? db.execute(sql: "PRAGMA secure_delete = OFF")
        transaction.secureDelete = false
    }

    private func fail(_ error: any Error) -> LedgerError { LedgerError.database(error, path: path) }

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

    /// Fetches records of `R` with a cached statement.
    private func records<R: StoredRecord>(_ type: R.Type, _ sql: String, _ arguments: StatementArguments = []) throws(LedgerError) -> [R] {
        do { return try R.fetchAll(db.cachedStatement(sql: sql), arguments: arguments) } catch { throw fail(error) }
    }

    private func record<R: StoredRecord>(_ type: R.Type, _ sql: String, _ arguments: StatementArguments = []) throws(LedgerError) -> R? {
        do { return try R.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) } catch { throw fail(error) }
    }

    /// Runs a GRDB record operation (the writes off the hot paths).
    private func persist(_ body: () throws -> Void) throws(LedgerError) {
        do { try body() } catch { throw fail(error) }
    }

    static func clamp(_ v: UInt64) -> Int64 { Int64(min(v, UInt64(Int64.max))) }

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
        guard let data = try Data.fetchOne(statement, arguments: arguments), let d = data.withUnsafeBytes({ Digest32(raw: $0) }) else {
            throw LedgerError(.notALedger, "Merkle node (level \(level), index \(index)) is missing from the ledger file")
        }
        return d
    }

    func meta() throws(LedgerError) -> [String: String] {
        Dictionary(try records(MetaRow.self, MetaRow.all).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
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
        try entryRows(from: from, below: below, limit: limit, expanding: true)
    }

    var keepsCompactForms: Bool { true }

    func storedEntries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow] {
        try entryRows(from: from, below: below, limit: limit, expanding: false)
    }

    private func entryRows(from: UInt64, below: UInt64, limit: Int, expanding: Bool) throws(LedgerError) -> [EntryRow] {
        var out: [EntryRow] = []
        // Hot (verify): read at the record's column positions, not by name (DECISIONS 59).
        try each(Self.entryRange, [Self.clamp(from), Self.clamp(below), limit]) { (r) throws(LedgerError) in
            out.append(try EntryRecord(selected: r, expanding: expanding).entry)
        }
        return out
    }

    static let entryRange = EntryRecord.selectSQL("WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?")
    static let entryLineRange = "SELECT \(E.idx.rawValue), \(E.line.rawValue) FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?"

    func entryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        try lines(from: from, below: below, limit: limit, expanding: true)
    }

    func storedEntryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        try lines(from: from, below: below, limit: limit, expanding: false)
    }

    private func lines(from: UInt64, below: UInt64, limit: Int, expanding: Bool) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        var out: [(index: UInt64, line: [UInt8])] = []
        out.reserveCapacity(min(limit, 8192))
        // Hot (the fold, export, rebuild): positions 0 and 1 of `entryLineRange` (DECISIONS 59).
        try each(Self.entryLineRange, [Self.clamp(from), Self.clamp(below), limit]) { (r) throws(LedgerError) in
            let stored = try r.bytes(1)
            out.append((try r.count(0), expanding ? CompactLine.expand(stored) : stored))
        }
        return out
    }

    func recordedAt(_ index: UInt64) throws(LedgerError) -> String? {
        try row("SELECT recorded_at FROM entries WHERE idx = ?", [Self.clamp(index)])?.text(E.recordedAt)
    }

    func lastEntry() throws(LedgerError) -> (index: UInt64, recordedAt: String)? {
        guard let r = try row("SELECT idx, recorded_at FROM entries ORDER BY idx DESC LIMIT 1") else { return nil }
        return (try r.count(E.idx), try r.text(E.recordedAt))
    }

    func entry(eventID: [UInt8]) throws(LedgerError) -> (index: UInt64, line: [UInt8])? {
        // Per appended event: through SQLite's C interface (`one`), positions 0 and 1 (DECISIONS 59).
        try one("SELECT idx, line FROM entries WHERE event_id = ?", bound: [.blob(eventID)]) { (h) throws(LedgerError) in
            guard sqlite3_column_type(h, 0) == SQLITE_INTEGER, case let idx = sqlite3_column_int64(h, 0), idx >= 0 else {
                throw LedgerError.damagedColumn("idx", "a non-negative integer")
            }
            return (UInt64(idx), CompactLine.expand(ColumnBytes(sqliteStatement: h, index: 1)?.bytes ?? []))
        }
    }

    func subjects(from: UInt64, below: UInt64) throws(LedgerError) -> Set<String> {
        Set(
            try rows("SELECT DISTINCT subject FROM entries WHERE idx >= ? AND idx < ?", [Self.clamp(from), Self.clamp(below)]).map { (r) throws(LedgerError) in
                try r.text(E.subject)
            })
    }

    func entryLines(type: String, from: UInt64, below: UInt64) throws(LedgerError) -> [[UInt8]] {
        try rows("SELECT line FROM entries WHERE idx >= ? AND idx < ? AND type = ?", [Self.clamp(from), Self.clamp(below), type]).map {
            (r) throws(LedgerError) in CompactLine.expand(try r.bytes(E.line))
        }
    }

    func merkleNodes(level: Int, from: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, hash: Digest32?)] {
        var out: [(index: UInt64, hash: Digest32?)] = []
        try each("SELECT idx, hash FROM merkle WHERE level = ? AND idx >= ? ORDER BY idx LIMIT ?", [level, Self.clamp(from), limit]) {
            (r) throws(LedgerError) in out.append((try r.count(0), r.digest(1)))
        }
        return out
    }

    func merkleNodeCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*) FROM merkle")?.count(0) ?? 0
    }

    func stateVersionCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*) FROM state_versions")?.count(0) ?? 0
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? {
        // Per appended event: positional (DECISIONS 59).
        try row(KeyRow.byKey, [keyID]).map { (r) throws(LedgerError) in try KeyRow(selected: r).key }
    }

    func keys() throws(LedgerError) -> [KeyRecord] {
        try records(KeyRow.self, KeyRow.all).map(\.key)
    }

    func revision(of subject: String) throws(LedgerError) -> UInt64 {
        // Per appended event: positional (DECISIONS 59).
        try row(SubjectRecord.byKey, [subject]).map { (r) throws(LedgerError) in try SubjectRecord(selected: r).revision } ?? 0
    }

    func revisions() throws(LedgerError) -> [(subject: String, revision: UInt64)] {
        try records(SubjectRecord.self, SubjectRecord.selectSQL("ORDER BY subject")).map { ($0.subject, $0.revision) }
    }

    func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] {
        try records(CheckpointRow.self, CheckpointRow.all).map { ($0.size, $0.note) }
    }

    func checkpoint(size: UInt64) throws(LedgerError) -> [UInt8]? {
        try record(CheckpointRow.self, CheckpointRow.byKey, [Self.clamp(size)])?.note
    }

    func lastCheckpoint() throws(LedgerError) -> (size: UInt64, note: [UInt8])? {
        try record(CheckpointRow.self, CheckpointRow.last, []).map { ($0.size, $0.note) }
    }

    func entityState(_ id: String) throws(LedgerError) -> [UInt8]? {
        // Per folded event: position 0 (DECISIONS 59).
        try row(EntityRecord.stateByKey, [id]).map { (r) throws(LedgerError) in CompactState.expand(try r.bytes(0)) }
    }

    func entityCount() throws(LedgerError) -> Int {
        Int(try row("SELECT COUNT(*) FROM entities")?.count(0) ?? 0)
    }

    func forEachEntity(_ body: (String, [UInt8]) throws(LedgerError) -> Void) throws(LedgerError) {
        try each(EntityRecord.idAndState) { (r) throws(LedgerError) in
            try body(try r.text(EntityRecord.Columns.id), CompactState.expand(try r.bytes(EntityRecord.Columns.state)))
        }
    }

    func concerning(_ entity: String, from: UInt64, below: UInt64) throws(LedgerError) -> [EntryRow] {
        var out: [EntryRow] = []
        try each(Self.concerningRange, [entity, Self.clamp(from), Self.clamp(below)]) { (r) throws(LedgerError) in
            do { out.append(try EntryRecord(row: r).entry) } catch { throw fail(error) }
        }
        return out
    }

    static let concerningRange =
        "SELECT \(EntryRecord.columnNames.map { "e." + $0 }.joined(separator: ", ")) FROM concerns c "
        + "JOIN entries e ON e.idx = c.idx WHERE c.entity = ? AND c.idx >= ? AND c.idx < ? ORDER BY c.idx"

    func stateVersion(_ id: String, atMost: UInt64) throws(LedgerError) -> (size: UInt64, state: [UInt8])? {
        try record(StateVersionRecord.self, StateVersionRecord.latestAtMost, [id, Self.clamp(atMost)]).map { ($0.size, $0.state.canonical) }
    }

    func latestStateVersionSize(atMost: UInt64) throws(LedgerError) -> UInt64 {
        try row("SELECT COALESCE(MAX(size), 0) FROM state_versions WHERE size <= ?", [Self.clamp(atMost)])?.count(0) ?? 0
    }

    func stateVersionIDs(after size: UInt64) throws(LedgerError) -> Set<String> {
        Set(
            try rows("SELECT DISTINCT id FROM state_versions WHERE size > ?", [Self.clamp(size)]).map { (r) throws(LedgerError) in
                try r.text(StateVersionRecord.Columns.id)
            })
    }

    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, state: [UInt8])] {
        let (condition, args) = Self.incidentCondition(filter)
        return try rows("SELECT e.id, e.state FROM incident_index i JOIN entities e ON e.id = i.id" + condition + " ORDER BY i.id", args).map {
            (r) throws(LedgerError) in
            (try r.text(EntityRecord.Columns.id), CompactState.expand(try r.bytes(EntityRecord.Columns.state)))
        }
    }

    func incidentKeys(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, earliest: Int?)] {
        let (condition, args) = Self.incidentCondition(filter)
        return try rows("SELECT i.id, i.earliest FROM incident_index i" + condition + " ORDER BY i.id", args).map { (r) throws(LedgerError) in
            (try r.text(EntityRecord.Columns.id), r["earliest"] as Int?)
        }
    }

    /// The WHERE clause (empty when the filter is empty) and its arguments for `filter` over
    /// `incident_index i`.
    static func incidentCondition(_ filter: IncidentFilter) -> (String, StatementArguments) {
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
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), StatementArguments(args.map { $0?.databaseValue ?? .null }))
    }

    func forEachProjectionRow(_ table: ProjectionTable, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        try each(Self.projectionQuery(table)) { (r) throws(LedgerError) in try body(Self.values(r, table)) }
    }

    func forEachStateVersionRow(size: UInt64, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        let sql = "SELECT \(ProjectionTable.stateVersions.columns.joined(separator: ", ")) FROM state_versions WHERE size = ? ORDER BY id"
        try each(sql, [Self.clamp(size)]) { (r) throws(LedgerError) in try body(Self.values(r, .stateVersions)) }
    }

    static func projectionQuery(_ table: ProjectionTable) -> String {
        "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.rawValue) ORDER BY \(table.order.joined(separator: ", "))"
    }

    /// The row's values, read from the statement (`ColumnValue`): as GRDB's `DatabaseValue`
    /// gives them, without making one for each column.
    /// An entity's state and a state checkpoint's are given as the canonical states the file
    /// keeps packed.
    static func values(_ r: Row, _ table: ProjectionTable) -> [StorageValue] {
        expandingState((0..<r.count).map { i in ((try? r.decode(ColumnValue?.self, atIndex: i)) ?? nil)?.value ?? .null }, table)
    }

    /// The values `values(_:_:)` gives for a row inserted with `bound`, without storing it: a
    /// text as `ColumnValue` reads it back (up to its first NUL byte, which SQLite keeps but
    /// the C string read stops at). `verify` compares the rows its fold would write with
    /// these.
    static func values(bound: [SQLiteValue], _ table: ProjectionTable) -> [StorageValue] {
        expandingState(
            bound.map { v in
                switch v {
                case .null: return .null
                case .integer(let i): return .integer(i)
                case .text(let t): return .text(t.utf8.contains(0) ? String(decoding: t.utf8.prefix { $0 != 0 }, as: UTF8.self) : t)
                case .blob(let b): return .blob(b)
                }
            }, table)
    }

    private static func expandingState(_ values: [StorageValue], _ table: ProjectionTable) -> [StorageValue] {
        var out = values
        if table == .stateVersions || table == .entities, out.count == 3, case .blob(let b) = out[2] { out[2] = .blob(CompactState.expand(b)) }
        return out
    }

    // MARK: Writer

    // The append's inserts (entries, merkle, subjects, entities, incident_index, incident_links,
    // concerns, state_versions) run one cached statement each, made from the record's column
    // list, with the record's values in that order (DECISIONS 59); the rest go through GRDB's
    // record methods.

    func insertEntry(_ e: EntryRow) throws(LedgerError) {
        guard e.leaf != nil else { throw LedgerError(.malformed, "entry \(e.index) has no leaf hash") }
        try execute(EntryRecord.insert, bound: EntryRecord(e).values)
    }

    func insertMerkleNode(level: Int, index: UInt64, hash: Digest32) throws(LedgerError) {
        try execute(MerkleRecord.insert, bound: MerkleRecord(level: level, index: index, hash: hash).values)
    }

    func bumpRevision(of subject: String) throws(LedgerError) {
        try execute(SubjectRecord.bump, bound: [.text(subject)])
    }

    func insertKey(_ r: KeyRecord) throws(LedgerError) {
        try persist { try KeyRow(r).insert(db) }
    }

    func revokeKey(_ keyID: String, at index: UInt64) throws(LedgerError) {
        try persist { _ = try KeyRow.filter(key: keyID).updateAll(db, KeyRow.Columns.revokedAt.set(to: Self.clamp(index))) }
    }

    func insertCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        try persist { try CheckpointRow(size: size, note: note).insert(db) }
    }

    func replaceCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        try persist { _ = try CheckpointRow.filter(key: Self.clamp(size)).updateAll(db, CheckpointRow.Columns.note.set(to: Data(note))) }
    }

    func setMeta(_ key: String, _ value: String) throws(LedgerError) {
        try persist { try MetaRow(key: key, value: value).insert(db, onConflict: .replace) }
    }

    func putEntity(id: String, kind: String, state: [UInt8], replace: Bool) throws(LedgerError) {
        try execute(
            replace ? EntityRecord.replace : EntityRecord.insert, bound: EntityRecord(id: id, kind: kind, state: .canonical(state), packed: packsStates).values)
    }

    func putIncidentIndex(id: String, row r: IncidentIndexRow, replace: Bool) throws(LedgerError) {
        try execute(IncidentIndexRecord.replace, bound: IncidentIndexRecord(id: id, row: r).values)
        if replace { try execute(IncidentLinkRecord.deleteForIncident, bound: [.text(id)]) }
        for f in r.facilities { try execute(IncidentLinkRecord.insertIgnoring, bound: IncidentLinkRecord(incident: id, role: "facility", other: f).values) }
        for a in r.perpetrators {
            try execute(IncidentLinkRecord.insertIgnoring, bound: IncidentLinkRecord(incident: id, role: "perpetrator", other: a).values)
        }
    }

    func insertConcern(entity: String, index: UInt64) throws(LedgerError) {
        try execute(ConcernRecord.insert, bound: ConcernRecord(entity: entity, index: index).values)
    }

    /// 32 rows a statement (`MultiRowInsert`; a rebuild writes about one row an event; one
    /// statement a row cost about 7,200 instructions a row, 3,300 now).
    func insertConcerns(_ rows: [(entity: String, index: UInt64)]) throws(LedgerError) {
        try execute(ConcernRecord.insertMany, rows.count) { i, values in
            values.append(.text(rows[i].entity))
            values.append(.count(rows[i].index))
        }
    }

    /// Entities, index rows and links, each several rows a statement (`MultiRowInsert`).
    func insertEntities(_ rows: [ArchiveState.EntityRow]) throws(LedgerError) {
        try execute(EntityRecord.insertMany, rows.count) { i, values in
            values += EntityRecord(id: rows[i].id, kind: rows[i].kind, state: rows[i].state, packed: packsStates).values
        }
        let indexed = rows.compactMap { r in r.index.map { (id: r.id, row: $0) } }
        try execute(IncidentIndexRecord.replaceMany, indexed.count) { i, values in
            values += IncidentIndexRecord(id: indexed[i].id, row: indexed[i].row).values
        }
        var links: [IncidentLinkRecord] = []
        for (id, row) in indexed {
            for f in row.facilities { links.append(IncidentLinkRecord(incident: id, role: "facility", other: f)) }
            for a in row.perpetrators { links.append(IncidentLinkRecord(incident: id, role: "perpetrator", other: a)) }
        }
        try execute(IncidentLinkRecord.insertIgnoringMany, links.count) { i, values in values += links[i].values }
    }

    /// Runs `insert` for `count` rows, `insert.rows` a statement and the rest one by one;
    /// `values(i, &v)` appends row `i`'s values to `v`.
    private func execute(_ insert: MultiRowInsert, _ count: Int, values: (Int, inout [SQLiteValue]) -> Void) throws(LedgerError) {
        var bound = [SQLiteValue]()
        bound.reserveCapacity(insert.rows * insert.columns)
        var start = 0
        while count - start >= insert.rows {
            bound.removeAll(keepingCapacity: true)
            for i in start..<start + insert.rows { values(i, &bound) }
            try execute(insert.many, bound: bound)
            start += insert.rows
        }
        for i in start..<count {
            bound.removeAll(keepingCapacity: true)
            values(i, &bound)
            try execute(insert.one, bound: bound)
        }
    }

    func insertStateVersion(id: String, size: UInt64, state: StateBytes) throws(LedgerError) {
        try execute(StateVersionRecord.insert, bound: StateVersionRecord(id: id, size: size, state: state, packed: packsStates).values)
    }

    /// 21 rows a statement (`MultiRowInsert`): a rebuild at a million events writes about 200,000.
    func insertStateVersions(size: UInt64, _ rows: [(id: String, state: StateBytes)]) throws(LedgerError) {
        try execute(StateVersionRecord.insertMany, rows.count) { i, values in
            values += StateVersionRecord(id: rows[i].id, size: size, state: rows[i].state, packed: packsStates).values
        }
    }

    /// Whether this file has the sealed-value tables (file version 5; an older file opened
    /// read-only has none, and so no sealed values).
    private func hasSealedTables() throws(LedgerError) -> Bool {
        do { return try db.tableExists("sealed_values") } catch { throw fail(error) }
    }

    func entityIDs(prefix: String) throws(LedgerError) -> [String] {
        guard let range = entityIDRange(prefix: prefix) else { return [] }
        return try rows("SELECT id FROM entities WHERE id >= ? AND id < ? ORDER BY id", [range.lower, range.upper]).map { $0[0] ?? "" }
    }

    func sealedValue(_ commitment: String) throws(LedgerError) -> SealedValueRow? {
        guard try hasSealedTables() else { return nil }
        return try row("SELECT commitment, idx, subject, field, ciphertext FROM sealed_values WHERE commitment = ?", [commitment]).map(Self.sealedRow)
    }

    func sealedValues(from: UInt64, below: UInt64) throws(LedgerError) -> [SealedValueRow] {
        guard try hasSealedTables() else { return [] }
        return try rows(
            "SELECT commitment, idx, subject, field, ciphertext FROM sealed_values WHERE idx >= ? AND idx < ? AND length(ciphertext) > 0 ORDER BY idx, commitment",
            [Self.clamp(from), Self.clamp(below)]
        ).map(Self.sealedRow)
    }

    private static func sealedRow(_ r: Row) -> SealedValueRow {
        SealedValueRow(
            commitment: r[0] ?? "", index: UInt64(max(0, r[1] as Int64? ?? 0)), subject: r[2] ?? "", field: r[3] ?? "",
            ciphertext: (r[4] as Data?).map { Array($0) } ?? [])
    }

    func wrappedKey(_ commitment: String, reader: String) throws(LedgerError) -> [UInt8]? {
        guard try hasSealedTables() else { return nil }
        return try row("SELECT wrapped FROM sealed_keys WHERE commitment = ? AND reader = ?", [commitment, reader]).flatMap {
            ($0[0] as Data?).map { Array($0) }
        }
    }

    func insertSealedValue(_ v: SealedValueRow, keys: [WrappedKeyRow]) throws(LedgerError) {
        try secureDelete()
        do {
            try db.cachedStatement(sql: "INSERT INTO sealed_values (commitment, idx, subject, field, ciphertext) VALUES (?, ?, ?, ?, ?)").execute(
                arguments: [v.commitment, Self.clamp(v.index), v.subject, v.field, Data(v.ciphertext)])
            for k in keys {
                try db.cachedStatement(sql: "INSERT INTO sealed_keys (commitment, reader, wrapped) VALUES (?, ?, ?)").execute(
                    arguments: [k.commitment, k.reader, Data(k.wrapped)])
            }
        } catch { throw fail(error) }
    }

    func eraseSealedValue(_ commitment: String) throws(LedgerError) {
        try secureDelete()
        do {
            try db.execute(sql: "DELETE FROM sealed_keys WHERE commitment = ?", arguments: [commitment])
            // The row stays, without its ciphertext: the commitment is erased, never stored again.
            try db.execute(sql: "UPDATE sealed_values SET ciphertext = x'' WHERE commitment = ?", arguments: [commitment])
        } catch { throw fail(error) }
    }

    func deleteWrappedKeys(reader: String) throws(LedgerError) {
        try secureDelete()
        do { try db.execute(sql: "DELETE FROM sealed_keys WHERE reader = ?", arguments: [reader]) } catch { throw fail(error) }
    }

    func clearProjections() throws(LedgerError) {
        // Dropped and made again (as new, empty B-trees) rather than emptied row by row; the
        // indexes whose rows would come in no useful order wait for `indexProjections`.
        for t in Schema.projectionTables { try execute("DROP TABLE \(t)") }
        for statement in Schema.projectionStatements where !Schema.deferredProjectionIndexes.contains(statement) { try execute(statement) }
    }

    func indexProjections() throws(LedgerError) {
        for statement in Schema.deferredProjectionIndexes { try execute(statement) }
    }
}
