import GRDB

/// The SQLite schema of a ledger file (format version 1).
enum Schema {
    /// `PRAGMA application_id`: "ILDG".
    static let applicationID: Int32 = 0x494C_4447
    /// `PRAGMA user_version`: the schema version this code reads and writes.
    static let version: Int32 = 1

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
        "PRAGMA application_id = \(applicationID)",
        "PRAGMA user_version = \(version)",
    ]
}
