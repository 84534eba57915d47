import GRDB
import LedgerCore

/// The SQLite schema of a ledger file (format version 1), made and upgraded by a GRDB
/// `DatabaseMigrator` (docs/FORMAT.md §15, docs/DECISIONS.md 59).
enum Schema {
    /// `PRAGMA application_id`: "ILDG".
    static let applicationID: Int32 = 0x494C_4447
    /// The version of the ledger's rows (tables, columns, `meta` records), the same on every
    /// storage: 3 added the checkpoint record in `meta` (docs/FORMAT.md §15) to version 2's
    /// tables. A reader whose `schemaVersion()` is below it has no checkpoint record yet. (The
    /// sealed-value tables came with file version 5; a file below it has none.)
    static let version: Int32 = 3
    /// `PRAGMA user_version` of the files this code writes: 4 is version 3's tables and rows plus
    /// GRDB's record of the migrations that made them (`grdb_migrations`); 5 added the
    /// sealed-value tables; 6 keeps entry lines, current states and state checkpoints written from
    /// then on in their compact forms (`CompactLine`, `CompactState`).
    static let fileVersion: Int32 = 6
    /// The oldest version this code opens: read as it is, upgraded when opened for writing.
    static let oldestReadable: Int32 = 2

    /// The named migrations, in order, and the `user_version` each leaves. Each runs in one
    /// transaction that also records its name in `grdb_migrations` and sets `user_version`, so
    /// the two always agree. Never edit one that has shipped: add the next.
    static let migrations: [(identifier: String, version: Int32)] = [
        ("v2-tables", 2), ("v3-checkpoint-record", 3), ("v4-migration-record", 4), ("v5-sealed-values", 5),
        ("v6-compact-forms", 6),
    ]

    /// Sealed values and their wrapped data keys (version 5): kept beside the log, never in it;
    /// not projections (`rebuild` leaves them), and erased by deleting rows.
    static let sealedStatements = [
        """
        CREATE TABLE sealed_values (
            commitment TEXT PRIMARY KEY, idx INTEGER NOT NULL, subject TEXT NOT NULL, field TEXT NOT NULL, ciphertext BLOB NOT NULL) WITHOUT ROWID
        """,
        "CREATE INDEX sealed_values_by_idx ON sealed_values (idx, commitment)",
        "CREATE TABLE sealed_keys (commitment TEXT NOT NULL, reader TEXT NOT NULL, wrapped BLOB NOT NULL, PRIMARY KEY (commitment, reader)) WITHOUT ROWID",
        "CREATE INDEX sealed_keys_by_reader ON sealed_keys (reader)",
    ]

    /// The statement GRDB's migrator runs before any migration (DatabaseMigrator.swift), run the
    /// same way when an older file is adopted so that its `sqlite_master` text is the same.
    static let migrationsTableStatement = "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)"

    /// The migrator that makes a new file and upgrades an adopted one; `location` names the file
    /// in messages.
    static func migrator(location: String) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v2-tables") { db in
            for s in tableStatements + projectionStatements { try db.execute(sql: s) }
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(sql: "PRAGMA user_version = 2")
        }
        // The checkpoint record from the stored notes (none in a new file).
        migrator.registerMigration("v3-checkpoint-record") { db in
            let rows = SQLiteRows(db: db, path: location)
            try CheckpointRecord.write(rows, try CheckpointRecord.computed(rows, location: location))
            try db.execute(sql: "PRAGMA user_version = 3")
        }
        // Only the version: the migrator made `grdb_migrations` before the first migration.
        migrator.registerMigration("v4-migration-record") { db in
            try db.execute(sql: "PRAGMA user_version = 4")
        }
        migrator.registerMigration("v5-sealed-values") { db in
            for s in sealedStatements { try db.execute(sql: s) }
            try db.execute(sql: "PRAGMA user_version = 5")
        }
        // Only the version: entry lines, current states and state checkpoints written from now
        // on go in their compact forms (`CompactLine`, `CompactState`), and a tool that reads only up to version 5
        // must refuse the file rather than report them as damage. Rows already stored stay as
        // they are (both forms are read in every version).
        migrator.registerMigration("v6-compact-forms") { db in
            try db.execute(sql: "PRAGMA user_version = 6")
        }
        return migrator
    }

    /// The log's tables (version 2, unchanged since).
    static let tableStatements = [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        """
        CREATE TABLE entries (
            idx INTEGER PRIMARY KEY,
            recorded_at TEXT NOT NULL,
            event_id BLOB NOT NULL UNIQUE,
            type TEXT NOT NULL,
            subject TEXT NOT NULL,
            signer TEXT NOT NULL,
            leaf BLOB NOT NULL,
            line BLOB NOT NULL)
        """,
        // Perfect-subtree hashes at levels 1 and up; level 0 (leaf hashes) is entries.leaf.
        "CREATE TABLE merkle (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
        "CREATE TABLE subjects (subject TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID",
        """
        CREATE TABLE keys (
            keyid TEXT PRIMARY KEY,
            public_key BLOB NOT NULL,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            enrolled_at INTEGER NOT NULL,
            revoked_at INTEGER) WITHOUT ROWID
        """,
        "CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL)",
    ]

    /// The archive's projections: derived from the log, updated in each append's transaction,
    /// recomputed by `ledger rebuild` (docs/EVENTS.md §5).
    static let projectionTables = ["entities", "incident_index", "incident_links", "concerns", "state_versions"]
    /// Incidents by the facility hit or the actor named as perpetrator (`incident_links`).
    static let linksByOther = "CREATE INDEX incident_links_by_other ON incident_links (other, role)"

    /// The projection indexes `rebuild` makes once the rows are written
    /// (`SQLiteRows.indexProjections`): the rows reach `incident_links_by_other` in no useful
    /// order (by incident, not by facility or actor), and one sort at the end costs less than
    /// a B-tree insert at a random place for each. (At a million events, about 260,000 links
    /// took 0.63 s to write with the index, on the one thread that writes, after the fold.)
    static let deferredProjectionIndexes = [linksByOther]

    static let projectionStatements = [
        // Every entity's current state as canonical JSON.
        "CREATE TABLE entities (id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, state BLOB NOT NULL)",
        """
        CREATE TABLE incident_index (
            id TEXT PRIMARY KEY, earliest INTEGER, latest INTEGER, admin1 TEXT, admin2 TEXT, town TEXT,
            status TEXT NOT NULL, certainty TEXT, verification TEXT NOT NULL) WITHOUT ROWID
        """,
        // Incidents by facility hit (role 'facility') and by actor named as perpetrator ('perpetrator').
        "CREATE TABLE incident_links (incident TEXT NOT NULL, role TEXT NOT NULL, other TEXT NOT NULL, PRIMARY KEY (incident, role, other)) WITHOUT ROWID",
        Schema.linksByOther,
        // Which entries concern which entity (subject, changed or mentioned): history and views as of a moment.
        "CREATE TABLE concerns (entity TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (entity, idx)) WITHOUT ROWID",
        // State checkpoints (a cache for views as of a moment): at every multiple C of the
        // interval, the state after entries 0…C−1 of each entity changed since the previous one.
        "CREATE TABLE state_versions (id TEXT NOT NULL, size INTEGER NOT NULL, state BLOB NOT NULL, UNIQUE (id, size))",
        "CREATE INDEX state_versions_by_size ON state_versions (size, id)",
    ]

    /// One row of `sqlite_master`: what it is, its name, its table, and its SQL with runs of
    /// white space collapsed (SQLite keeps the statement text as written).
    struct Object: Hashable, Comparable {
        var type: String
        var name: String
        var table: String
        var sql: String

        /// Type, name and table: what an object is, whatever its definition.
        var identity: [String] { [type, name, table] }
        /// How a message names it.
        var label: String { "\(type.prefix(20)) `\(name.prefix(80))` on `\(table.prefix(80))`" }

        static func < (a: Object, b: Object) -> Bool {
            (a.identity + [a.sql]).lexicographicallyPrecedes(b.identity + [b.sql])
        }
    }

    /// Every schema object a file of each version from 4 holds (tables, indexes, triggers,
    /// views), made once in memory by the migrator itself, `grdb_migrations` included as GRDB
    /// creates it.
    static let objectsByVersion: [Int32: [Object]] = {
        var out: [Int32: [Object]] = [:]
        for m in migrations where m.version >= 4 {
            do {
                let queue = try DatabaseQueue()
                try migrator(location: ":memory:").migrate(queue, upTo: m.identifier)
                out[m.version] = try queue.read { db in try objects(db) }
            } catch {
                fatalError("the ledger schema does not build in memory: \(error)")
            }
        }
        return out
    }()

    /// The objects of a file of the current version.
    static var expectedObjects: [Object] { objectsByVersion[fileVersion]! }

    /// The objects of a version 2 or 3 file made before the migrator: version 4's without
    /// `grdb_migrations`.
    static let adoptableObjects: [Object] = objectsByVersion[4]!.filter { $0.table != "grdb_migrations" }

    /// The statistics tables ANALYZE makes, exactly as SQLite defines them: left out of the
    /// comparison, since they only steer query plans. Anything else with a `sqlite_` name counts.
    static let statisticsTables: Set<Object> = [
        Object(type: "table", name: "sqlite_stat1", table: "sqlite_stat1", sql: "CREATE TABLE sqlite_stat1(tbl,idx,stat)"),
        Object(type: "table", name: "sqlite_stat4", table: "sqlite_stat4", sql: "CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)"),
    ]

    /// The schema objects of `db`, sorted, without SQLite's statistics tables.
    static func objects(_ db: Database) throws -> [Object] {
        try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master").compactMap { row -> Object? in
            let sql: String = row[3] ?? ""
            let object = Object(
                type: row[0] ?? "?", name: row[1] ?? "", table: row[2] ?? "?",
                sql: sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " "))
            return statisticsTables.contains(object) ? nil : object
        }.sorted()
    }

    /// Refuses a file whose schema differs in any way from the one this code creates: a
    /// planted trigger or view, an added or dropped table or index, an altered definition; and
    /// a file whose `grdb_migrations` does not list exactly the migrations its `user_version`
    /// implies. A version 2 or 3 file may lack `grdb_migrations` (made before the migrator) or
    /// hold it (an upgrade cut short after adoption, finished at the next write).
    static func check(_ db: Database, path: String, code: LedgerError.Code) throws {
        let version = try Int32.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let found = try objects(db)
        let adopted = found.contains { $0.type == "table" && $0.name == "grdb_migrations" }
        let wanted = version >= fileVersion ? expectedObjects : adopted ? objectsByVersion[max(4, version)] ?? expectedObjects : adoptableObjects
        if found != wanted { throw refusal(found: found, expected: wanted, path: path, code: code) }
        guard adopted else { return }
        let recorded = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
        let implied = migrations.filter { $0.version <= version }.map(\.identifier).sorted()
        guard recorded == implied else {
            throw LedgerError(
                code,
                "\(path) is ledger file version \(version), but its record of schema migrations (grdb_migrations) lists "
                    + "[\(recorded.prefix(5).map { "`\($0.prefix(40))`" }.joined(separator: ", "))], not [\(implied.joined(separator: ", "))]. "
                    + "Someone changed the file's structure; restore it from a backup or an export")
        }
    }

    private static func refusal(found: [Object], expected expectedObjects: [Object], path: String, code: LedgerError.Code) -> LedgerError {
        let expected = Dictionary(expectedObjects.map { ($0.identity, $0) }, uniquingKeysWith: { a, _ in a })
        let present = Dictionary(found.map { ($0.identity, $0) }, uniquingKeysWith: { a, _ in a })
        var problems: [String] = []
        for o in found where expected[o.identity] != o {
            problems.append((expected[o.identity] == nil ? "unexpected " : "altered ") + o.label)
        }
        for o in expectedObjects where present[o.identity] == nil { problems.append("missing \(o.label)") }
        if problems.isEmpty { problems.append("an object listed twice in sqlite_master") }
        let shown = problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
        return LedgerError(
            code,
            "\(path) does not have the ledger schema: \(shown). Someone changed the file's structure (a trigger could silently alter or delete rows "
                + "on every append); restore it from a backup or an export")
    }
}
