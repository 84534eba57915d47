import Foundation
import LedgerCrypto
import LedgerTesting
import Testing

// Runs on SQLite and PostgreSQL (`arguments: StoreKind.all`), except these, SQLite only:
// - schema: alters the schema with `sqlite3` edits of the file;
// - deletedCheckpoints: deletes and forges checkpoint rows with `sqlite3` edits of the file;
// - noSidecars: about the -wal and -shm files beside a ledger file;
// - ledgerMode: about the ledger file's mode bits.
// privateFiles runs on both; its checks of the ledger file's own mode and its -wal/-shm (and the
// imported file's mode) are made on SQLite, where the ledger is a file; the bundle, snapshot,
// GeoJSON and witness state it writes are files on both.

/// Issue 16 at the command line: key and file permissions, an altered schema, deleted
/// checkpoints, impossible dates, sidecar files, numeric options.
@Suite("ledger CLI: hardening")
struct CLIHardeningTests {
    func sandbox(_ store: StoreKind = .sqlite) throws -> Sandbox {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append([EventJSON.make(subject: "incident:inc-1")])
        return s
    }

    /// Runs `ledger` under `/bin/sh` with `umask` and extra environment assignments.
    func runShell(_ s: Sandbox, umask: String = "022", env: [String] = [], _ args: [String]) throws -> CLIResult {
        let child = try Child(
            executable: "/bin/sh", arguments: ["-c", "umask \(umask); exec env \(env.joined(separator: " ")) \"$0\" \"$@\"", try CLI.binary()] + args,
            stdin: nil, passphrase: CLI.passphrase, directory: s.dir.path)
        return try child.wait(timeout: 60)
    }

    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? NSNumber)?.intValue ?? -1
    }

    @Test("a key file others can read is refused (exit 6, the chmod fix named), encrypted or not; the override variable allows it", arguments: StoreKind.all)
    func keyPermissions(store: StoreKind) throws {
        let s = try sandbox(store)
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        for m in [0o644, 0o640, 0o604, 0o666, 0o660] {
            chmod(s.keyPath("archivist"), mode_t(m))
            let r = try expectRefusal(
                s, ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event], status: 6, mentions: ["chmod 600", s.keyPath("archivist")])
            #expect(r.stderr.contains(String(m, radix: 8)), "\(r.stderr)")
        }
        try s.newKey("sealed", encrypted: true)
        chmod(s.keyPath("sealed"), 0o644)
        try expectRefusal(s, ["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("sealed")], status: 6, mentions: ["chmod 600"])
        chmod(s.keyPath("archivist"), 0o644)
        let allowed = try runShell(s, env: ["LEDGER_ALLOW_SHARED_KEY_FILE=1"], ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event])
        #expect(allowed.status == 0, "\(allowed)")
        chmod(s.keyPath("archivist"), 0o600)
        #expect(
            try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), s.write("f.json", EventJSON.make(subject: "incident:inc-3"))]).status
                == 0)
    }

    @Test(
        "ledger files, their -wal/-shm, bundles, snapshots and sensitive GeoJSON are owner-only whatever the umask; public CSV is not forced",
        arguments: StoreKind.all)
    func privateFiles(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        // A new file, or a fresh empty database.
        let ledger = try s.newPlace("open.ledger").location.description
        #expect(try runShell(s, umask: "000", ["init", "--ledger", ledger, "--origin", s.origin, "--admin-key", s.keyPath("admin")]).status == 0)
        if store == .sqlite { #expect(mode(ledger) == 0o600) }
        let enroll = try runShell(
            s, umask: "000", ["key", "enroll", "--ledger", ledger, "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("log"), "--roles", "log"])
        #expect(enroll.status == 0, "\(enroll)")
        #expect(try runShell(s, umask: "000", ["checkpoint", "--ledger", ledger, "--key", s.keyPath("log")]).status == 0)
        for sidecar in ["-wal", "-shm"] where store == .sqlite && FileManager.default.fileExists(atPath: ledger + sidecar) {
            #expect(mode(ledger + sidecar) == 0o600, "\(sidecar)")
        }
        #expect(try runShell(s, umask: "000", ["export", "--ledger", ledger, "--out", s.path("bag")]).status == 0)
        let bag = s.path("bag")
        for d in ["", "/data", "/data/checkpoints"] { #expect(mode(bag + d) == 0o700, "folder bag\(d)") }
        let files = FileManager.default.enumerator(atPath: bag)!.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: bag + "/" + $0, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
        #expect(files.count >= 5)
        for f in files { #expect(mode(bag + "/" + f) == 0o600, "\(f)") }
        #expect(try runShell(s, umask: "000", ["snapshot", "--ledger", ledger, "--out", s.path("snap.json")]).status == 0)
        #expect(mode(s.path("snap.json")) == 0o600)
        #expect(try runShell(s, umask: "000", ["export-geojson", "--ledger", ledger, "--include-sensitive", "--out", s.path("all.geojson")]).status == 0)
        #expect(mode(s.path("all.geojson")) == 0o600)
        #expect(try runShell(s, umask: "022", ["export-csv", "--ledger", ledger, "--out", s.path("public.csv")]).status == 0)
        #expect(mode(s.path("public.csv")) == 0o644)
        // A witness's state: whoever could write it could make the witness cosign a fork.
        try s.newKey("witness")
        let vkey = try s.run(["key", "vkey", s.keyPath("log"), "--name", s.origin]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let note = s.write("latest.note", try s.run(["checkpoint", "--ledger", ledger, "--list"]).stdout)
        let w = try runShell(
            s, umask: "000", ["witness", "--key", s.keyPath("witness"), "--state", s.path("wstate/a"), "--name", "w.example/w1", "--log-key", vkey, note])
        #expect(w.status == 0, "\(w)")
        for d in ["wstate", "wstate/a"] { #expect(mode(s.path(d)) == 0o700, "witness folder \(d)") }
        // An imported ledger is owner-only too.
        let copy = try s.newPlace("copy.ledger").location.description
        #expect(try runShell(s, umask: "000", ["import", bag, "--ledger", copy, "--trust", s.keyID("admin")]).status == 0)
        if store == .sqlite { #expect(mode(copy) == 0o600) }
    }

    static let schemaTampers: [(String, String, String)] = [
        ("trigger", "CREATE TRIGGER forget AFTER INSERT ON entries BEGIN DELETE FROM checkpoints; END", "unexpected trigger `forget` on `entries`"),
        ("table", "CREATE TABLE notes (x)", "unexpected table `notes`"),
        ("dropped index", "DROP INDEX incident_links_by_other", "missing index `incident_links_by_other`"),
        ("view", "CREATE VIEW v AS SELECT * FROM entries", "unexpected view `v`"),
        ("index", "CREATE INDEX extra ON entries (type)", "unexpected index `extra`"),
        ("altered table", "ALTER TABLE meta ADD COLUMN extra TEXT", "altered table `meta`"),
        // SQLite refuses `sqlite_` names in CREATE, but loads whatever the schema table holds.
        (
            "trigger named like a statistics table",
            "PRAGMA writable_schema=ON;\nINSERT INTO sqlite_master VALUES('trigger', 'sqlite_stat_forget', 'entries', 0, "
                + "'CREATE TRIGGER sqlite_stat_forget AFTER INSERT ON entries BEGIN DELETE FROM checkpoints; END')",
            "unexpected trigger `sqlite_stat_forget` on `entries`"
        ),
    ]

    /// The same on PostgreSQL, where the catalogs describe each table's columns (type,
    /// collation, nullability, default), constraints, indexes, row security, triggers, rules and
    /// policies.
    static let postgresTampers: [(String, String, String)] = [
        (
            "trigger",
            "CREATE FUNCTION forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM checkpoints; RETURN NEW; END $$; "
                + "CREATE TRIGGER forget AFTER INSERT ON entries FOR EACH ROW EXECUTE FUNCTION forget()",
            "unexpected trigger entries.forget"
        ),
        ("rule", "CREATE RULE keep AS ON INSERT TO checkpoints DO INSTEAD NOTHING", "unexpected rule checkpoints.keep"),
        ("row security", "ALTER TABLE entries ENABLE ROW LEVEL SECURITY", "altered table entries kind r row-security"),
        ("policy", "CREATE POLICY hide ON entries USING (false)", "unexpected policy entries.hide"),
        ("collation", #"ALTER TABLE entities ALTER COLUMN id TYPE text COLLATE "POSIX""#, "altered column entities.id text collate pg_catalog.POSIX"),
        ("default", "ALTER TABLE keys ALTER COLUMN revoked_at SET DEFAULT 0", "altered column keys.revoked_at bigint default 0"),
        ("nullable", "ALTER TABLE entries ALTER COLUMN line DROP NOT NULL", "altered column entries.line bytea ("),
        ("dropped constraint", "ALTER TABLE entries DROP CONSTRAINT entries_event_id_key", "missing constraint entries.entries_event_id_key"),
        ("index", "CREATE INDEX extra ON entries (type)", "unexpected index entries.extra"),
        ("column", "ALTER TABLE meta ADD COLUMN extra text", "unexpected column meta.extra"),
    ]

    @Test(
        "PostgreSQL: an altered schema fails verify naming the object (exit 1) and refuses writes (exit 5), changing nothing",
        arguments: TestCluster.adminURL == nil ? [] : postgresTampers.map(\.0))
    func postgresSchema(name: String) throws {
        let (_, sql, named) = Self.postgresTampers.first { $0.0 == name }!
        let s = try sandbox(.postgres)
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        try TestCluster.run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", s.place.name, "-c", sql])
        let v = try s.run(["verify", "--ledger", s.ledger])
        #expect(v.status == 1 && v.stderr.contains(named) && v.stderr.contains("does not have the ledger schema"), "\(v)")
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event], status: 5, mentions: [named])
    }

    @Test("an altered schema fails verify naming the object (exit 1) and refuses writes (exit 5), changing nothing", arguments: schemaTampers.map(\.0))
    func schema(name: String) throws {
        let (_, sql, named) = Self.schemaTampers.first { $0.0 == name }!
        let s = try sandbox()
        // ANALYZE's statistics tables are no tampering.
        try SQLTool.run(s.ledger, "ANALYZE")
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        try SQLTool.run(s.ledger, sql)
        let v = try s.run(["verify", "--ledger", s.ledger])
        #expect(v.status == 1 && v.stderr.contains(named) && v.stderr.contains("does not have the ledger schema"), "\(v)")
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-2"))
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), event], status: 5, mentions: [named])
        try expectRefusal(s, ["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")], status: 5, mentions: [named])
    }

    /// The chain value of a checkpoint record holding one checkpoint (docs/FORMAT.md §15).
    func chain(size: UInt64, rootBase64: String) -> String {
        var input = [UInt8](repeating: 0, count: 32)
        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: size >> UInt64(shift))) }
        input += Base64.decode(rootBase64)!
        return SHA256.hash(input).hex
    }

    @Test("deleted checkpoints: verify reports the count, refuses a file whose record disagrees, and --checkpoint catches a consistent forgery")
    func deletedCheckpoints() throws {
        let s = try sandbox()
        let first = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(first.status == 0)
        let kept = s.write("kept.note", first.stdout)
        try s.append([EventJSON.make(subject: "incident:inc-2")])
        let second = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(second.status == 0)
        let lines = second.stdout.split(separator: "\n")
        let (size2, root2) = (UInt64(lines[1])!, String(lines[2]))
        var r = try s.run(["verify", "--ledger", s.ledger, "--json", "--checkpoint", kept])
        var o = try #require(try r.jsonLines().first)
        #expect(r.status == 0 && o["checkpoints"] as? Int == 2 && (o["lastCheckpointSize"] as? NSNumber)?.uint64Value == size2, "\(r)")
        #expect((o["confirmedCheckpointSize"] as? NSNumber)?.uint64Value == UInt64(first.stdout.split(separator: "\n")[1]), "\(r)")
        // Delete the first: the file's record disagrees.
        try SQLTool.run(s.ledger, "DELETE FROM checkpoints WHERE size = \(first.stdout.split(separator: "\n")[1])")
        r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1 && r.stderr.contains("records 2 checkpoints") && r.stderr.contains("holds 1"), "\(r)")
        // Forge the record too: the file is consistent with itself, but not with the note kept outside.
        try SQLTool.run(s.ledger, "UPDATE meta SET value = '1 \(size2) \(chain(size: size2, rootBase64: root2))' WHERE key = 'checkpoint_record'")
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        r = try s.run(["verify", "--ledger", s.ledger, "--checkpoint", kept, "--json"])
        o = try #require(try r.jsonLines().first)
        #expect(r.status == 1 && (o["reason"] as? String ?? "").contains("no longer holds that checkpoint"), "\(r)")
        // Removing the record altogether is refused as well.
        try SQLTool.run(s.ledger, "DELETE FROM meta WHERE key = 'checkpoint_record'")
        r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1 && r.stderr.contains("checkpoint_record is missing"), "\(r)")
    }

    @Test("verify --checkpoint refuses a note of another log, one beyond the log, and one that is no note", arguments: StoreKind.all)
    func outsideNotes(store: StoreKind) throws {
        let s = try sandbox(store)
        let other = try Sandbox(store: store)
        try other.standardSetup()
        try other.append([EventJSON.make(subject: "incident:x"), EventJSON.make(subject: "incident:y"), EventJSON.make(subject: "incident:z")])
        let foreign = try other.run(["checkpoint", "--ledger", other.ledger, "--key", other.keyPath("log")])
        var r = try s.run(["verify", "--ledger", s.ledger, "--checkpoint", s.write("foreign.note", foreign.stdout)])
        #expect(r.status == 1 && r.stderr.contains("is for the log"), "\(r)")
        // The same origin but more entries than this copy holds.
        let twin = try Sandbox(store: store, origin: s.origin)
        try twin.standardSetup()
        try twin.append([EventJSON.make(subject: "incident:x"), EventJSON.make(subject: "incident:y"), EventJSON.make(subject: "incident:z")])
        let longer = try twin.run(["checkpoint", "--ledger", twin.ledger, "--key", twin.keyPath("log")])
        r = try s.run(["verify", "--ledger", s.ledger, "--checkpoint", s.write("longer.note", longer.stdout)])
        #expect(r.status == 1 && r.stderr.contains("entries were removed"), "\(r)")
        r = try s.run(["verify", "--ledger", s.ledger, "--checkpoint", s.write("junk.note", "hello\n")])
        #expect(r.status == 65 && r.stderr.contains("not a signed checkpoint note"), "\(r)")
    }

    @Test("impossible dates: signedAt far ahead (exit 3) and an incident that begins after its record day (exit 65) change nothing", arguments: StoreKind.all)
    func impossibleDates(store: StoreKind) throws {
        let s = try sandbox(store)
        let future = s.write("f.json", EventJSON.make(subject: "incident:inc-2", extra: ["signedAt": "9999-12-31T23:59:59Z"]))
        try expectRefusal(
            s, ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), future], status: 3, mentions: ["signedAt", "more than 1 hour after"])
        var body = EventJSON.defaultBody(type: "incident.reported")
        body["occurred"] = "2999-05"
        let late = s.write("o.json", EventJSON.make(subject: "incident:inc-3", body: body))
        try expectRefusal(s, ["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), late], status: 65, mentions: ["body.occurred", "begins after"])
    }

    @Test("read-only commands leave no -wal or -shm file beside a ledger that had none")
    func noSidecars() throws {
        let s = try sandbox()
        for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: s.ledger + suffix), "\(suffix) after append") }
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")]).status == 0)
        let l = ["--ledger", s.ledger]
        let commands = [
            ["verify"] + l, ["show", "incident:inc-1"] + l, ["history", "incident:inc-1"] + l, ["list"] + l, ["log"] + l, ["checkpoint", "--list"] + l,
            ["prove", "inclusion", "--index", "1"] + l, ["export-csv"] + l, ["export-geojson"] + l, ["export", "--out", s.path("bag")] + l,
        ]
        for args in commands {
            let r = try s.run(args)
            #expect(r.status == 0, "\(r)")
            for suffix in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: s.ledger + suffix), "\(suffix) left by \(args[0])") }
        }
    }

    @Test("verify points out a ledger file others can read, and reports its mode")
    func ledgerMode() throws {
        let s = try sandbox()
        chmod(s.ledger, 0o644)
        var r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 0 && r.stdout.contains("accessible by group or others (mode 644)"), "\(r)")
        r = try s.run(["verify", "--ledger", s.ledger, "--json"])
        #expect(try r.jsonLines().first?["fileMode"] as? String == "644", "\(r)")
        chmod(s.ledger, 0o600)
        r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 0 && !r.stdout.contains("accessible by group"), "\(r)")
    }

    @Test("a negative number for a numeric option names the bad value (exit 64)", arguments: StoreKind.all)
    func negativeNumbers(store: StoreKind) throws {
        let s = try sandbox(store)
        let witness = try s.run(["key", "vkey", s.keyPath("log"), "--name", "w.example/w", "--witness"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for (args, option) in [
            (["prove", "inclusion", "--ledger", s.ledger, "--index", "-1"], "--index"), (["log", "--ledger", s.ledger, "--from", "-5"], "--from"),
            (["show", "--ledger", s.ledger, "incident:inc-1", "--at-size", "-1"], "--at-size"),
        ] {
            let r = try s.run(args)
            #expect(r.status == 64 && r.stderr.contains("is invalid for '\(option)"), "\(r)")
        }
        let r = try s.run(["log", "--ledger", s.ledger, "--limit", "-1"])
        #expect(r.status == 64 && r.stderr.contains("--limit must be at least 1"), "\(r)")
        let q = try s.run(["audit", s.path("bag"), "--trust", String(repeating: "a", count: 64), "--witness", witness, "--quorum", "-1"])
        #expect(q.status == 64 && q.stderr.contains("--quorum must be between 1"), "\(q)")
    }

    @Test("show --json names the tree size its state belongs to while appends run (bounded: 60 views)", arguments: StoreKind.all)
    func showConsistent(store: StoreKind) throws {
        let s = try sandbox(store)
        let writer = Thread {
            for n in 0..<60 {
                let e = EventJSON.make(type: "incident.corrected", subject: "incident:inc-1", expects: n + 1)
                _ = try? s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), s.write("c\(n).json", e)])
            }
        }
        writer.start()
        var views: [(size: UInt64, updated: UInt64)] = []
        for _ in 0..<60 {
            let r = try s.run(["show", "--ledger", s.ledger, "incident:inc-1", "--json"])
            guard r.status == 0, let o = try r.jsonLines().first, let size = (o["treeSize"] as? NSNumber)?.uint64Value,
                let updated = ((o["state"] as? [String: Any])?["updated"] as? NSNumber)?.uint64Value
            else { Issue.record("show failed: \(r)"); continue }
            views.append((size, updated))
        }
        while writer.isExecuting || !writer.isFinished { usleep(50_000) }
        let log = try s.logJSON().split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let touching = log.filter { $0["subject"] as? String == "incident:inc-1" }.compactMap { ($0["index"] as? NSNumber)?.uint64Value }
        #expect(touching.count > 1)
        for v in views {
            // The state folds every entry on the incident below the size it names, and none after.
            let latest = touching.filter { $0 < v.size }.max()
            #expect(latest == v.updated, "treeSize \(v.size) but state updated at \(v.updated); entries on it: \(touching)")
        }
    }
}
