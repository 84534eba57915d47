import GRDB
import LedgerCore

/// The SQLite schema of a ledger file (format version 1).
enum Schema {
    /// `PRAGMA application_id`: "ILDG".
    static let applicationID: Int32 = 0x494C_4447
    /// `PRAGMA user_version`: the schema version this code writes. Version 3 adds the
    /// checkpoint record in `meta` (docs/FORMAT.md §15) to version 2's tables, which are the same.
    static let version: Int32 = 3
    /// The oldest version this code opens: read as it is, upgraded when opened for writing.
    static let oldestReadable: Int32 = 2

    static let statements =
        [
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
        ] + projectionStatements + [
            "PRAGMA application_id = \(applicationID)",
            "PRAGMA user_version = \(version)",
        ]

    /// The archive's projections: derived from the log, updated in each append's transaction,
    /// recomputed by `ledger rebuild` (docs/EVENTS.md §5).
    static let projectionTables = ["entities", "incident_index", "incident_links", "concerns", "state_versions"]
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
        "CREATE INDEX incident_links_by_other ON incident_links (other, role)",
        // Which entries concern which entity (subject, changed or mentioned): history and views as of a moment.
        "CREATE TABLE concerns (entity TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (entity, idx)) WITHOUT ROWID",
        // State checkpoints (a cache for views as of a moment): at every multiple C of the
        // interval, the state after entries 0…C−1 of each entity changed since the previous one.
        "CREATE TABLE state_versions (id TEXT NOT NULL, size INTEGER NOT NULL, state BLOB NOT NULL, UNIQUE (id, size))",
        "CREATE INDEX state_versions_by_size ON state_versions (size, id)",
    ]

    /// Every schema object a ledger file holds (tables, indexes, triggers, views), as
    /// `type name on table: normalised SQL`, built once from `statements` in memory.
    static let expectedObjects: [String] = {
        do {
            let queue = try DatabaseQueue()
            return try queue.write { db in
                for s in statements { try db.execute(sql: s) }
                return try objects(db)
            }
        } catch {
            fatalError("the ledger schema does not build in memory: \(error)")
        }
    }()

    /// The statistics tables ANALYZE makes, exactly as SQLite defines them: left out of the
    /// comparison, since they only steer query plans. Anything else with a `sqlite_` name counts.
    static let statisticsTables: Set<String> = [
        "table sqlite_stat1 on sqlite_stat1: CREATE TABLE sqlite_stat1(tbl,idx,stat)",
        "table sqlite_stat4 on sqlite_stat4: CREATE TABLE sqlite_stat4(tbl,idx,neq,nlt,ndlt,sample)",
    ]

    /// The schema objects of `db` as `type name on table: SQL` (white space runs collapsed),
    /// sorted, without SQLite's statistics tables (`statisticsTables`).
    static func objects(_ db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master").compactMap { row -> String? in
            let name: String = row[1] ?? ""
            let sql: String = row[3] ?? ""
            let normalised = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            let object = "\(row[0] as String? ?? "?") \(name) on \(row[2] as String? ?? "?"): \(normalised)"
            return statisticsTables.contains(object) ? nil : object
        }.sorted()
    }

    /// Refuses a file whose schema differs in any way from the one this code creates: a
    /// planted trigger or view, an added or dropped table or index, an altered definition.
    static func check(_ db: Database, path: String, code: LedgerError.Code) throws {
        let found = try objects(db)
        guard found != expectedObjects else { return }
        let expected = Set(expectedObjects)
        let present = Set(found)
        func describe(_ object: String) -> String {
            let head = object.prefix(while: { $0 != ":" })
            let parts = head.split(separator: " ")
            return parts.count >= 4 ? "\(parts[0]) `\(parts[1].prefix(80))` on `\(parts[3].prefix(80))`" : String(head.prefix(120))
        }
        var problems: [String] = []
        for o in found where !expected.contains(o) {
            let altered = expectedObjects.contains { $0.prefix(while: { $0 != ":" }) == o.prefix(while: { $0 != ":" }) }
            problems.append(altered ? "altered \(describe(o))" : "unexpected \(describe(o))")
        }
        for o in expectedObjects where !present.contains(o) {
            let altered = found.contains { $0.prefix(while: { $0 != ":" }) == o.prefix(while: { $0 != ":" }) }
            if !altered { problems.append("missing \(describe(o))") }
        }
        let shown = problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
        throw LedgerError(
            code,
            "\(path) does not have the ledger schema: \(shown). Someone changed the file's structure (a trigger could silently alter or delete rows "
                + "on every append); restore it from a backup or an export")
    }
}
