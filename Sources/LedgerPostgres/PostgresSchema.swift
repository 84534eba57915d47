/// The PostgreSQL tables of a ledger (docs/FORMAT.md §16): the SQLite file's tables with the
/// same names, columns and keys. Text keys use the "C" collation, so that every `ORDER BY`
/// gives UTF-8 byte order and `lower()` folds ASCII only, exactly as SQLite does.
enum PostgresSchema {
    /// The schema version (the SQLite file's `user_version` for the same rows). It is the
    /// version of the rows and stays 3 as `Schema.version` does: a database records no version,
    /// its tables' structure is the version (`Structure`), as docs/FORMAT.md §16 says.
    static let version = 3

    /// The structures a ledger database may have. Only the current one is ever written: a
    /// database made before the sealed-value tables is read as it is and gains them (one
    /// transaction under the writers' lock) when it is first opened for writing.
    enum Structure: Equatable {
        /// Every table, the sealed-value ones included.
        case current
        /// The eleven tables of a database made before sealed values (no `sealed_values`, no
        /// `sealed_keys`): it holds no sealed value.
        case beforeSealedValues
    }

    /// Every table of a ledger, as the schema check lists them.
    static let tables =
        [
            "meta", "entries", "merkle", "subjects", "keys", "checkpoints", "entities", "incident_index", "incident_links", "concerns", "state_versions",
        ] + sealedTables

    /// The sealed-value tables, which a database made before them lacks.
    static let sealedTables = ["sealed_values", "sealed_keys"]

    /// Everything a new ledger database is made with.
    static let statements = tablesBeforeSealedValues + sealedStatements

    /// Sealed values and their wrapped data keys (the SQLite file's version 5 tables,
    /// `Schema.sealedStatements`): kept beside the log, never in it; not projections (`rebuild`
    /// leaves them); erased by deleting rows. Also run, alone, to upgrade an older database.
    static let sealedStatements = [
        #"""
        CREATE TABLE sealed_values (
            commitment text COLLATE "C" PRIMARY KEY, idx bigint NOT NULL, subject text COLLATE "C" NOT NULL, field text COLLATE "C" NOT NULL,
            ciphertext bytea NOT NULL)
        """#,
        "CREATE INDEX sealed_values_by_idx ON sealed_values (idx, commitment)",
        #"""
        CREATE TABLE sealed_keys (
            commitment text COLLATE "C" NOT NULL, reader text COLLATE "C" NOT NULL, wrapped bytea NOT NULL, PRIMARY KEY (commitment, reader))
        """#,
        "CREATE INDEX sealed_keys_by_reader ON sealed_keys (reader)",
    ]

    /// The statements of the eleven tables every ledger database has had from the start.
    private static let tablesBeforeSealedValues = [
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

    /// One line per schema fact about the ledger's tables (kind and row security, every column
    /// with its type, collation, nullability and default, every constraint, every index, and any
    /// trigger, rule or policy), as PostgreSQL's catalogs describe them. `$1` is the table names.
    static let descriptionQuery = """
        WITH t AS (SELECT c.oid, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
          WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1))
        SELECT 'table ' || relname || ' kind ' || relkind::text || CASE WHEN relrowsecurity THEN ' row-security' ELSE '' END || CASE WHEN relforcerowsecurity THEN ' forced' ELSE '' END FROM t
        UNION ALL
        SELECT 'column ' || t.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
          || CASE WHEN a.attcollation <> 0 THEN ' collate ' || co.collnamespace::regnamespace::text || '.' || co.collname ELSE '' END
          || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
          || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
          || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
        FROM t JOIN pg_attribute a ON a.attrelid = t.oid LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped
        UNION ALL
        SELECT 'constraint ' || t.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid) FROM t JOIN pg_constraint con ON con.conrelid = t.oid
        UNION ALL
        SELECT 'index ' || t.relname || '.' || ic.relname || ' ' || replace(pg_get_indexdef(i.indexrelid), ' ON ' || quote_ident(current_schema()) || '.', ' ON ')
        FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
        UNION ALL
        SELECT 'trigger ' || t.relname || '.' || tg.tgname FROM t JOIN pg_trigger tg ON tg.tgrelid = t.oid WHERE NOT tg.tgisinternal
        UNION ALL
        SELECT 'rule ' || t.relname || '.' || r.rulename FROM t JOIN pg_rewrite r ON r.ev_class = t.oid
        UNION ALL
        SELECT 'policy ' || t.relname || '.' || p.polname FROM t JOIN pg_policy p ON p.polrelid = t.oid
        """

    /// What `descriptionQuery` gives on a ledger made by this code (PostgreSQL 15), sorted in
    /// byte order. Any other line, or a missing one, is a changed structure: a trigger, rule or
    /// policy (none is expected) could alter or hide rows on every append; another collation
    /// would change every order; a dropped constraint would let a duplicate index in.
    static let expectedDescription: [String] = [
        "column checkpoints.note bytea not null",
        "column checkpoints.size bigint not null",
        "column concerns.entity text collate pg_catalog.C not null",
        "column concerns.idx bigint not null",
        "column entities.id text collate pg_catalog.C not null",
        "column entities.kind text collate pg_catalog.C not null",
        "column entities.state bytea not null",
        "column entries.event_id bytea not null",
        "column entries.idx bigint not null",
        "column entries.leaf bytea not null",
        "column entries.line bytea not null",
        "column entries.recorded_at text collate pg_catalog.C not null",
        "column entries.signer text collate pg_catalog.C not null",
        "column entries.subject text collate pg_catalog.C not null",
        "column entries.type text collate pg_catalog.C not null",
        "column incident_index.admin1 text collate pg_catalog.C",
        "column incident_index.admin2 text collate pg_catalog.C",
        "column incident_index.certainty text collate pg_catalog.C",
        "column incident_index.earliest bigint",
        "column incident_index.id text collate pg_catalog.C not null",
        "column incident_index.latest bigint",
        "column incident_index.status text collate pg_catalog.C not null",
        "column incident_index.town text collate pg_catalog.C",
        "column incident_index.verification text collate pg_catalog.C not null",
        "column incident_links.incident text collate pg_catalog.C not null",
        "column incident_links.other text collate pg_catalog.C not null",
        "column incident_links.role text collate pg_catalog.C not null",
        "column keys.enrolled_at bigint not null",
        "column keys.keyid text collate pg_catalog.C not null",
        "column keys.name text collate pg_catalog.default not null",
        "column keys.public_key bytea not null",
        "column keys.revoked_at bigint",
        "column keys.roles text collate pg_catalog.default not null",
        "column merkle.hash bytea not null",
        "column merkle.idx bigint not null",
        "column merkle.level integer not null",
        "column meta.key text collate pg_catalog.C not null",
        "column meta.value text collate pg_catalog.default not null",
        "column sealed_keys.commitment text collate pg_catalog.C not null",
        "column sealed_keys.reader text collate pg_catalog.C not null",
        "column sealed_keys.wrapped bytea not null",
        "column sealed_values.ciphertext bytea not null",
        "column sealed_values.commitment text collate pg_catalog.C not null",
        "column sealed_values.field text collate pg_catalog.C not null",
        "column sealed_values.idx bigint not null",
        "column sealed_values.subject text collate pg_catalog.C not null",
        "column state_versions.id text collate pg_catalog.C not null",
        "column state_versions.size bigint not null",
        "column state_versions.state bytea not null",
        "column subjects.revision bigint not null",
        "column subjects.subject text collate pg_catalog.C not null",
        "constraint checkpoints.checkpoints_pkey PRIMARY KEY (size)",
        "constraint concerns.concerns_pkey PRIMARY KEY (entity, idx)",
        "constraint entities.entities_pkey PRIMARY KEY (id)",
        "constraint entries.entries_event_id_key UNIQUE (event_id)",
        "constraint entries.entries_idx_check CHECK ((idx >= 0))",
        "constraint entries.entries_pkey PRIMARY KEY (idx)",
        "constraint incident_index.incident_index_pkey PRIMARY KEY (id)",
        "constraint incident_links.incident_links_pkey PRIMARY KEY (incident, role, other)",
        "constraint keys.keys_pkey PRIMARY KEY (keyid)",
        "constraint merkle.merkle_pkey PRIMARY KEY (level, idx)",
        "constraint meta.meta_pkey PRIMARY KEY (key)",
        "constraint sealed_keys.sealed_keys_pkey PRIMARY KEY (commitment, reader)",
        "constraint sealed_values.sealed_values_pkey PRIMARY KEY (commitment)",
        "constraint state_versions.state_versions_id_size_key UNIQUE (id, size)",
        "constraint subjects.subjects_pkey PRIMARY KEY (subject)",
        "index checkpoints.checkpoints_pkey CREATE UNIQUE INDEX checkpoints_pkey ON checkpoints USING btree (size)",
        "index concerns.concerns_pkey CREATE UNIQUE INDEX concerns_pkey ON concerns USING btree (entity, idx)",
        "index entities.entities_pkey CREATE UNIQUE INDEX entities_pkey ON entities USING btree (id)",
        "index entries.entries_by_type CREATE INDEX entries_by_type ON entries USING btree (type, idx)",
        "index entries.entries_event_id_key CREATE UNIQUE INDEX entries_event_id_key ON entries USING btree (event_id)",
        "index entries.entries_pkey CREATE UNIQUE INDEX entries_pkey ON entries USING btree (idx)",
        "index incident_index.incident_index_pkey CREATE UNIQUE INDEX incident_index_pkey ON incident_index USING btree (id)",
        "index incident_links.incident_links_by_other CREATE INDEX incident_links_by_other ON incident_links USING btree (other, role)",
        "index incident_links.incident_links_pkey CREATE UNIQUE INDEX incident_links_pkey ON incident_links USING btree (incident, role, other)",
        "index keys.keys_pkey CREATE UNIQUE INDEX keys_pkey ON keys USING btree (keyid)",
        "index merkle.merkle_pkey CREATE UNIQUE INDEX merkle_pkey ON merkle USING btree (level, idx)",
        "index meta.meta_pkey CREATE UNIQUE INDEX meta_pkey ON meta USING btree (key)",
        "index sealed_keys.sealed_keys_by_reader CREATE INDEX sealed_keys_by_reader ON sealed_keys USING btree (reader)",
        "index sealed_keys.sealed_keys_pkey CREATE UNIQUE INDEX sealed_keys_pkey ON sealed_keys USING btree (commitment, reader)",
        "index sealed_values.sealed_values_by_idx CREATE INDEX sealed_values_by_idx ON sealed_values USING btree (idx, commitment)",
        "index sealed_values.sealed_values_pkey CREATE UNIQUE INDEX sealed_values_pkey ON sealed_values USING btree (commitment)",
        "index state_versions.state_versions_by_size CREATE INDEX state_versions_by_size ON state_versions USING btree (size, id)",
        "index state_versions.state_versions_id_size_key CREATE UNIQUE INDEX state_versions_id_size_key ON state_versions USING btree (id, size)",
        "index subjects.subjects_pkey CREATE UNIQUE INDEX subjects_pkey ON subjects USING btree (subject)",
        "table checkpoints kind r",
        "table concerns kind r",
        "table entities kind r",
        "table entries kind r",
        "table incident_index kind r",
        "table incident_links kind r",
        "table keys kind r",
        "table merkle kind r",
        "table meta kind r",
        "table sealed_keys kind r",
        "table sealed_values kind r",
        "table state_versions kind r",
        "table subjects kind r",
    ]

    /// What `descriptionQuery` gives on a database made before the sealed-value tables: the
    /// same without their lines.
    static let descriptionBeforeSealedValues: [String] = expectedDescription.filter { !describesSealedTable($0) }

    /// Whether a line of `descriptionQuery` describes one of the sealed-value tables (its second
    /// word is the table, or the table, a dot and the object).
    static func describesSealedTable(_ line: String) -> Bool {
        let words = line.split(separator: " ", maxSplits: 2)
        guard words.count >= 2, let table = words[1].split(separator: ".", maxSplits: 1).first else { return false }
        return sealedTables.contains(String(table))
    }
}
