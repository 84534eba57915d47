/// The PostgreSQL tables of a ledger (docs/FORMAT.md §16): the SQLite file's tables with the
/// same names, columns and keys. Text keys use the "C" collation, so that every `ORDER BY`
/// gives UTF-8 byte order and `lower()` folds ASCII only, exactly as SQLite does.
enum PostgresSchema {
    /// The schema version (the SQLite file's `user_version` for the same rows).
    static let version = 3

    static let tables = [
        "meta", "entries", "merkle", "subjects", "keys", "checkpoints", "entities", "incident_index", "incident_links", "concerns", "state_versions",
    ]

    static let statements = [
        #"CREATE TABLE meta (key text COLLATE "C" PRIMARY KEY, value text NOT NULL)"#,
        #"""
        CREATE TABLE entries (
            idx bigint PRIMARY KEY CHECK (idx >= 0),
            recorded_at text COLLATE "C" NOT NULL,
            event_id bytea NOT NULL UNIQUE,
            type text COLLATE "C" NOT NULL,
            subject text COLLATE "C" NOT NULL,
            signer text COLLATE "C" NOT NULL,
            leaf bytea NOT NULL,
            line bytea NOT NULL)
        """#,
        "CREATE INDEX entries_by_type ON entries (type, idx)",
        "CREATE TABLE merkle (level integer NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx))",
        #"CREATE TABLE subjects (subject text COLLATE "C" PRIMARY KEY, revision bigint NOT NULL)"#,
        #"""
        CREATE TABLE keys (
            keyid text COLLATE "C" PRIMARY KEY,
            public_key bytea NOT NULL,
            name text NOT NULL,
            roles text NOT NULL,
            enrolled_at bigint NOT NULL,
            revoked_at bigint)
        """#,
        "CREATE TABLE checkpoints (size bigint PRIMARY KEY, note bytea NOT NULL)",
        #"CREATE TABLE entities (id text COLLATE "C" PRIMARY KEY, kind text COLLATE "C" NOT NULL, state bytea NOT NULL)"#,
        #"""
        CREATE TABLE incident_index (
            id text COLLATE "C" PRIMARY KEY, earliest bigint, latest bigint, admin1 text COLLATE "C", admin2 text COLLATE "C",
            town text COLLATE "C", status text COLLATE "C" NOT NULL, certainty text COLLATE "C", verification text COLLATE "C" NOT NULL)
        """#,
        #"""
        CREATE TABLE incident_links (
            incident text COLLATE "C" NOT NULL, role text COLLATE "C" NOT NULL, other text COLLATE "C" NOT NULL,
            PRIMARY KEY (incident, role, other))
        """#,
        "CREATE INDEX incident_links_by_other ON incident_links (other, role)",
        #"CREATE TABLE concerns (entity text COLLATE "C" NOT NULL, idx bigint NOT NULL, PRIMARY KEY (entity, idx))"#,
        #"CREATE TABLE state_versions (id text COLLATE "C" NOT NULL, size bigint NOT NULL, state bytea NOT NULL, UNIQUE (id, size))"#,
        "CREATE INDEX state_versions_by_size ON state_versions (size, id)",
    ]

    /// `table.column data_type` of every column, sorted as PostgreSQL sorts them (C collation).
    static let expectedColumns: [String] = [
        "checkpoints.note bytea", "checkpoints.size bigint",
        "concerns.entity text", "concerns.idx bigint",
        "entities.id text", "entities.kind text", "entities.state bytea",
        "entries.event_id bytea", "entries.idx bigint", "entries.leaf bytea", "entries.line bytea", "entries.recorded_at text", "entries.signer text",
        "entries.subject text", "entries.type text",
        "incident_index.admin1 text", "incident_index.admin2 text", "incident_index.certainty text", "incident_index.earliest bigint",
        "incident_index.id text", "incident_index.latest bigint", "incident_index.status text", "incident_index.town text",
        "incident_index.verification text",
        "incident_links.incident text", "incident_links.other text", "incident_links.role text",
        "keys.enrolled_at bigint", "keys.keyid text", "keys.name text", "keys.public_key bytea", "keys.revoked_at bigint", "keys.roles text",
        "merkle.hash bytea", "merkle.idx bigint", "merkle.level integer",
        "meta.key text", "meta.value text",
        "state_versions.id text", "state_versions.size bigint", "state_versions.state bytea",
        "subjects.revision bigint", "subjects.subject text",
    ]
}
