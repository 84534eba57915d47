import GRDB

/// The SQLite schema of a ledger file (format version 1).
enum Schema {
    /// `PRAGMA application_id`: "ILDG".
    static let applicationID: Int32 = 0x494C_4447
    /// `PRAGMA user_version`: the schema version this code reads and writes.
    static let version: Int32 = 2

    static let statements = [
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
}
