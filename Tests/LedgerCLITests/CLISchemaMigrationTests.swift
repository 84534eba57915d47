import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

// The SQLite file's schema as GRDB's DatabaseMigrator makes it (docs/FORMAT.md §15, docs/DECISIONS.md 59):
// a new file's exact schema, files of versions 2 and 3 made the old way (the schema SQL run by
// hand, no `grdb_migrations`) read unchanged and adopted when written, and tampering refused.
@Suite("ledger CLI: the SQLite schema and its migrations")
struct CLISchemaMigrationTests {
    /// The schema SQL exactly as the code before the migrator ran it, frozen here: files made
    /// then hold this text in `sqlite_master`, so the migrations must make exactly the same.
    static let oldStatements = [
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
        "CREATE TABLE entities (id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, state BLOB NOT NULL)",
        """
        CREATE TABLE incident_index (
            id TEXT PRIMARY KEY, earliest INTEGER, latest INTEGER, admin1 TEXT, admin2 TEXT, town TEXT,
            status TEXT NOT NULL, certainty TEXT, verification TEXT NOT NULL) WITHOUT ROWID
        """,
        "CREATE TABLE incident_links (incident TEXT NOT NULL, role TEXT NOT NULL, other TEXT NOT NULL, PRIMARY KEY (incident, role, other)) WITHOUT ROWID",
        "CREATE INDEX incident_links_by_other ON incident_links (other, role)",
        "CREATE TABLE concerns (entity TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (entity, idx)) WITHOUT ROWID",
        "CREATE TABLE state_versions (id TEXT NOT NULL, size INTEGER NOT NULL, state BLOB NOT NULL, UNIQUE (id, size))",
        "CREATE INDEX state_versions_by_size ON state_versions (size, id)",
    ]
    static let tables = [
        "meta", "entries", "merkle", "subjects", "keys", "checkpoints", "entities", "incident_index", "incident_links", "concerns", "state_versions",
    ]
    static let schemaQuery = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    static let migrationsRows = [
        "table|grdb_migrations|grdb_migrations|CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)",
        "index|sqlite_autoindex_grdb_migrations_1|grdb_migrations|",
    ]
    static let allMigrations = "v2-tables\nv3-checkpoint-record\nv4-migration-record\nv5-sealed-values\nv6-compact-forms"
    /// What version 5 adds: the sealed values and their wrapped keys (docs/FORMAT.md §9, §15).
    static let sealedStatements = [
        """
        CREATE TABLE sealed_values (
            commitment TEXT PRIMARY KEY, idx INTEGER NOT NULL, subject TEXT NOT NULL, field TEXT NOT NULL, ciphertext BLOB NOT NULL) WITHOUT ROWID
        """,
        "CREATE INDEX sealed_values_by_idx ON sealed_values (idx, commitment)",
        "CREATE TABLE sealed_keys (commitment TEXT NOT NULL, reader TEXT NOT NULL, wrapped BLOB NOT NULL, PRIMARY KEY (commitment, reader)) WITHOUT ROWID",
        "CREATE INDEX sealed_keys_by_reader ON sealed_keys (reader)",
    ]

    /// A ledger with keys, entries and a stored checkpoint.
    func sandbox() throws -> Sandbox {
        let s = try Sandbox(store: .sqlite)
        try s.standardSetup()
        try s.append([EventJSON.make(subject: "incident:inc-1"), EventJSON.make(subject: "incident:inc-2")])
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")]).status == 0)
        return s
    }

    /// A copy of the sandbox's ledger made the way the code before the migrator made files: its
    /// schema SQL run by hand, `user_version` `version`, every row copied (version 2 files have no
    /// checkpoint record), every entry line as it is (the compact form came with version 6).
    func oldFile(_ s: Sandbox, version: Int, name: String = "old.ledger") throws -> String {
        let path = s.path(name)
        var sql = ["PRAGMA journal_mode = WAL"] + Self.oldStatements
        sql += ["PRAGMA application_id = \(0x494C_4447)", "PRAGMA user_version = \(version)", "ATTACH DATABASE '\(s.ledger)' AS src"]
        sql += Self.tables.map { "INSERT INTO main.\($0) SELECT * FROM src.\($0)" }
        if version == 2 { sql.append("DELETE FROM main.meta WHERE key = 'checkpoint_record'") }
        sql += try Self.linesAsTheyAre(s.ledger, table: "main.entries")
        try SQLTool.run(path, sql.joined(separator: ";\n"))
        return path
    }

    /// Statements that put back every entry line of `ledger` as it is, in `table`.
    static func linesAsTheyAre(_ ledger: String, table: String) throws -> [String] {
        try SQLTool.run(ledger, "SELECT idx, lower(hex(line)) FROM entries ORDER BY idx").split(separator: "\n").map { row in
            let parts = row.split(separator: "|")
            let line = CompactLine.expand(try #require(Hex.decode(String(parts[1]))))
            return "UPDATE \(table) SET line = x'\(Hex.encode(line))' WHERE idx = \(parts[0])"
        }
    }

    /// Appends one event to the ledger at `path` (opening it for writing); expects success.
    func appendOne(_ s: Sandbox, _ path: String) throws {
        let event = s.write("e-\(UUID().uuidString).json", EventJSON.make(subject: "incident:inc-\(UUID().uuidString.prefix(8).lowercased())"))
        let r = try s.run(["append", "--ledger", path, "--key", s.keyPath("archivist"), event])
        #expect(r.status == 0, "\(r)")
    }

    func fingerprint(_ path: String) -> [String] {
        ["", "-wal", "-shm"].map { s in FileManager.default.contents(atPath: path + s).map { SHA256.hash(Array($0)).hex } ?? "absent" }
    }

    @Test("a new file has exactly the old schema, grdb_migrations as GRDB makes it and the sealed-value tables, user_version 6, every migration recorded")
    func newFileSchema() throws {
        let s = try sandbox()
        let reference = s.path("reference.sqlite")
        try SQLTool.run(reference, (Self.oldStatements + Self.sealedStatements).joined(separator: ";\n"))
        let expected = (try SQLTool.run(reference, Self.schemaQuery).components(separatedBy: "\n") + Self.migrationsRows).sorted()
        let found = try SQLTool.run(s.ledger, Self.schemaQuery).components(separatedBy: "\n").sorted()
        #expect(found == expected)
        #expect(try SQLTool.run(s.ledger, "PRAGMA user_version") == "6")
        #expect(try SQLTool.run(s.ledger, "SELECT identifier FROM grdb_migrations ORDER BY identifier") == Self.allMigrations)
    }

    @Test("lines kept as they are and lines in the compact form side by side: every reader sees the same lines; verify passes")
    func mixedLineForms() throws {
        let s = try sandbox()
        let log = try s.run(["log", "--ledger", s.ledger, "--json"])
        let bag = s.path("before.bag")
        #expect(try s.run(["export", "--ledger", s.ledger, "--out", bag, "--export-time", "2026-01-02T03:04:05Z"]).status == 0)
        // Every other line put back as it is (a file written before version 6 holds only those).
        let statements = try Self.linesAsTheyAre(s.ledger, table: "entries").enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        try SQLTool.run(s.ledger, statements.joined(separator: ";\n"))
        #expect(
            try SQLTool.run(s.ledger, "SELECT group_concat(hex(substr(line, 1, 1)), ',') FROM (SELECT line FROM entries ORDER BY idx)").hasPrefix("7B,02,7B,02")
        )
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        #expect(try s.run(["log", "--ledger", s.ledger, "--json"]).stdout == log.stdout)
        let again = s.path("after.bag")
        #expect(try s.run(["export", "--ledger", s.ledger, "--out", again, "--export-time", "2026-01-02T03:04:05Z"]).status == 0)
        // The manifest lists every file's SHA-256: the same manifest, the same bundle.
        for file in ["data/entries.jsonl", "manifest-sha256.txt"] {
            let a = FileManager.default.contents(atPath: "\(bag)/\(file)")
            #expect(a != nil && a == FileManager.default.contents(atPath: "\(again)/\(file)"), "\(file)")
        }
    }

    @Test("a version 2 or 3 file made the old way reads unchanged, is adopted and upgraded when written, then verifies", arguments: [2, 3])
    func oldFileUpgrade(version: Int) throws {
        let s = try sandbox()
        let old = try oldFile(s, version: version)
        let before = fingerprint(old)
        #expect(before[1] == "absent" && before[2] == "absent")
        // Read-only commands change no byte and leave no sidecar.
        let v = try s.run(["verify", "--ledger", old])
        #expect(v.status == 0, "\(v)")
        #expect(try s.run(["log", "--ledger", old, "--json"]).status == 0)
        #expect(try s.run(["snapshot", "--ledger", old, "--out", s.path("old.json")]).status == 0)
        #expect(try s.run(["snapshot", "--ledger", s.ledger, "--out", s.path("new.json")]).status == 0)
        #expect(FileManager.default.contents(atPath: s.path("old.json")) == FileManager.default.contents(atPath: s.path("new.json")))
        #expect(fingerprint(old) == before)
        // Written: adopted and upgraded to version 4, the same schema as a new file.
        try appendOne(s, old)
        #expect(try SQLTool.run(old, "PRAGMA user_version") == "6")
        #expect(try SQLTool.run(old, "SELECT identifier FROM grdb_migrations ORDER BY identifier") == Self.allMigrations)
        #expect(try SQLTool.run(old, Self.schemaQuery) == (try SQLTool.run(s.ledger, Self.schemaQuery)))
        // Version 2 had no checkpoint record: the upgrade computed the one the original holds.
        let record = "SELECT value FROM meta WHERE key = 'checkpoint_record'"
        #expect(try SQLTool.run(old, record) == (try SQLTool.run(s.ledger, record)))
        let after = try s.run(["verify", "--ledger", old])
        #expect(after.status == 0, "\(after)")
    }

    @Test("an upgrade cut short after adoption (grdb_migrations present, user_version 3) reads, and the next write finishes it")
    func interruptedUpgrade() throws {
        let s = try sandbox()
        let old = try oldFile(s, version: 3)
        try SQLTool.run(
            old,
            "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);\n"
                + "INSERT INTO grdb_migrations VALUES ('v2-tables'), ('v3-checkpoint-record')")
        #expect(try s.run(["verify", "--ledger", old]).status == 0)
        try appendOne(s, old)
        #expect(try SQLTool.run(old, "PRAGMA user_version") == "6")
        #expect(try SQLTool.run(old, "SELECT identifier FROM grdb_migrations ORDER BY identifier") == Self.allMigrations)
        #expect(try s.run(["verify", "--ledger", old]).status == 0)
    }

    @Test("a planted trigger on an old file is refused before the upgrade, changing nothing")
    func plantedTriggerOnOldFile() throws {
        let s = try sandbox()
        let old = try oldFile(s, version: 3)
        try SQLTool.run(old, "CREATE TRIGGER forget AFTER INSERT ON entries BEGIN DELETE FROM checkpoints; END")
        let before = fingerprint(old)
        let v = try s.run(["verify", "--ledger", old])
        #expect(v.status == 1 && v.stderr.contains("unexpected trigger `forget` on `entries`"), "\(v)")
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-3"))
        let r = try s.run(["append", "--ledger", old, "--key", s.keyPath("archivist"), event])
        #expect(r.status == 5 && r.stderr.contains("unexpected trigger `forget`"), "\(r)")
        #expect(fingerprint(old) == before)
        #expect(try SQLTool.run(old, "PRAGMA user_version") == "3")
    }

    @Test("grdb_migrations that disagrees with user_version, or is missing from a version 4 file, is refused", arguments: [0, 1, 2])
    func migrationRecordTampering(kind: Int) throws {
        let s = try sandbox()
        let (sql, named) = [
            ("DELETE FROM grdb_migrations WHERE identifier = 'v3-checkpoint-record'", "grdb_migrations"),
            ("INSERT INTO grdb_migrations VALUES ('v5-something')", "grdb_migrations"),
            ("DROP TABLE grdb_migrations", "missing table `grdb_migrations`"),
        ][kind]
        try SQLTool.run(s.ledger, sql)
        let before = fingerprint(s.ledger)
        let v = try s.run(["verify", "--ledger", s.ledger])
        #expect(v.status == 1 && v.stderr.contains(named), "\(v)")
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-3"))
        let r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event])
        #expect(r.status == 5 && r.stderr.contains(named), "\(r)")
        #expect(fingerprint(s.ledger) == before)
    }
}
