import Foundation
import LedgerTesting
import Testing

// Runs on SQLite and PostgreSQL (`arguments: StoreKind.all`), except:
// - newShowAndOverwrite: it opens no ledger at all (key files, their 0600 mode, `key show`), so
//   there is no store to vary; it runs once.

@Suite("ledger CLI: key files")
struct CLIKeyTests {
    @Test("key new writes a 0600 file, never overwrites it, and key show prints its id")
    func newShowAndOverwrite() throws {
        let s = try Sandbox()
        let id = try s.newKey("archivist", holder: "Archivist A.")
        let path = s.keyPath("archivist")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = try #require(attributes[.posixPermissions] as? NSNumber).intValue
        #expect(mode & 0o777 == 0o600, "key file mode is \(String(mode & 0o777, radix: 8)), expected 600")
        let original = try #require(FileManager.default.contents(atPath: path))

        // Refuses to overwrite.
        let r = try s.run(["key", "new", "--name", "Someone else", "--out", path, "--unencrypted"])
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains(path) && r.stderr.contains("already exists"), "\(r)")
        #expect(FileManager.default.contents(atPath: path) == original, "the existing key file is untouched")

        // key show, text and JSON.
        let show = try s.run(["key", "show", path])
        #expect(show.status == 0, "\(show)")
        #expect(Sandbox.field("key id", in: show.stdout) == id)
        #expect(show.stdout.contains("Archivist A."))
        #expect(show.stdout.contains("encrypted:  NO"))
        let json = try s.run(["key", "show", "--json", path]).jsonLines()
        #expect(json.first?["keyid"] as? String == id)
        #expect(json.first?["encrypted"] as? Bool == false)

        // A key file for a path in a missing directory: I/O error.
        let bad = try s.run(["key", "new", "--name", "X", "--out", s.path("no/such/dir.key"), "--unencrypted"])
        #expect(bad.status == 74, "\(bad)")
        // An invalid holder name is a usage error.
        let badName = try s.run(["key", "new", "--name", " padded ", "--out", s.path("n.key"), "--unencrypted"])
        #expect(badName.status == 64, "\(badName)")
        #expect(!FileManager.default.fileExists(atPath: s.path("n.key")))
    }

    @Test("an encrypted key: right passphrase works, wrong passphrase exits 6, show needs none", arguments: StoreKind.all)
    func encryptedKey(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        let id = try s.newKey("admin", holder: "Encrypted admin", encrypted: true)
        let path = s.keyPath("admin")
        let text = String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self)
        #expect(text.contains("argon2id+xchacha20poly1305"))
        #expect(!text.contains("\"seed\""), "an encrypted key file holds no clear seed")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
        #expect(mode & 0o777 == 0o600)

        // key show --json without any passphrase in the environment.
        let show = try s.run(["key", "show", "--json", path], passphrase: nil, timeout: 20)
        #expect(show.status == 0, "\(show)")
        let o = try #require(try show.jsonLines().first)
        #expect(o["keyid"] as? String == id)
        #expect(o["encrypted"] as? Bool == true)
        #expect(o["name"] as? String == "Encrypted admin")

        // The right passphrase unlocks it: init a ledger with it.
        #expect(try s.initLedger() == id)

        // The wrong passphrase: exit 6, saying so, naming the file; nothing is written.
        let event = s.write("e.json", EventJSON.make(subject: "incident:inc-1"))
        var r = try s.run(["sign", "--key", path, "--origin", s.origin, event], passphrase: "not the passphrase")
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("wrong passphrase"), "\(r)")
        #expect(r.stderr.contains(path), "\(r)")
        #expect(r.stdout.isEmpty, "no envelope is printed")

        _ = try s.newKey("archivist")
        let before = try s.fingerprint()
        r = try s.run(
            ["key", "enroll", "--ledger", s.ledger, "--key", path, "--public-key-file", s.keyPath("archivist"), "--roles", "archivist"],
            passphrase: "not the passphrase")
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("wrong passphrase"), "\(r)")
        #expect(try s.fingerprint() == before, "a key error leaves the ledger unchanged")
        #expect(try s.verifiedSize() == 1)

        // An empty passphrase for a new key is refused.
        r = try s.run(["key", "new", "--name", "X", "--out", s.path("x.key"), "--kdf", "interactive"], passphrase: "")
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("LEDGER_PASSPHRASE"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: s.path("x.key")))
    }

    @Test("a damaged or foreign key file: exit 6 naming the file", arguments: StoreKind.all)
    func damagedKeyFile(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.newKey("admin")
        let path = s.keyPath("admin")
        let text = String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self)
        // Swap the key id for another valid-looking one.
        let altered = s.write("altered.key", text.replacingOccurrences(of: s.keyID("admin"), with: String(repeating: "a", count: 64)))
        var r = try s.run(["key", "show", altered])
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("altered.key") && r.stderr.contains("keyid"), "\(r)")
        let notJSON = s.write("junk.key", "hello")
        // A place holding no ledger: a path with no file, or an empty database.
        let fresh = try s.newPlace("l.ledger")
        let empty = try fresh.fingerprint()
        r = try s.run(["init", "--ledger", fresh.location.description, "--origin", "test.example/x", "--admin-key", notJSON])
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("junk.key"), "\(r)")
        if store == .sqlite { #expect(!FileManager.default.fileExists(atPath: s.path("l.ledger")), "no ledger is created") }
        #expect(try fresh.fingerprint() == empty, "no ledger is created")
        r = try s.run(["key", "show", s.path("missing.key")])
        #expect(r.status == 6, "\(r)")
        #expect(r.stderr.contains("missing.key"), "\(r)")
    }

    @Test("revoking the last admin key is refused (exit 3); with a second admin it works", arguments: StoreKind.all)
    func lastAdmin(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        let adminID = try s.newKey("admin")
        try s.initLedger()
        try expectRefusal(
            s, ["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--reason", "rotation", adminID], status: 3,
            mentions: ["last active admin", adminID])

        // Enroll a second admin; now the first can be revoked, and can no longer sign.
        let second = try s.newKey("admin2")
        #expect(try s.enroll("admin2", roles: "admin") == 1)
        var r = try s.run(["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin2"), "--reason", "rotation", adminID])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("revoked \(adminID) at entry 2"))
        try s.newKey("archivist")
        try expectRefusal(
            s, ["key", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("archivist"), "--roles", "archivist"],
            status: 3, mentions: [adminID, "revoked at entry 2"])
        // The second admin is now the last one.
        try expectRefusal(
            s, ["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin2"), "--reason", "oops", second], status: 3,
            mentions: ["last active admin", second])
        // Revoking an already revoked key or an unknown key is refused.
        try expectRefusal(
            s, ["key", "revoke", "--ledger", s.ledger, "--key", s.keyPath("admin2"), "--reason", "again", adminID], status: 3,
            mentions: [adminID, "already revoked at entry 2"])
        // Enrolling the same key twice is refused.
        r = try s.run([
            "key", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin2"), "--public-key-file", s.keyPath("archivist"), "--roles", "archivist",
        ])
        #expect(r.status == 0, "\(r)")
        try expectRefusal(
            s, ["key", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin2"), "--public-key-file", s.keyPath("archivist"), "--roles", "reviewer"],
            status: 3, mentions: [s.keyID("archivist"), "already enrolled"])
        #expect(try s.verifiedSize(trust: adminID) == 4)
    }
}
