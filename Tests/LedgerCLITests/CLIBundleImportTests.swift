import Foundation
import LedgerTesting
import Testing

// Runs on SQLite and PostgreSQL (`arguments: StoreKind.all`): the campaign archive's bundle is
// imported into the store under test and compared with a SQLite ledger imported from it.

@Suite("ledger import of the campaign bundle: the same bytes out of every store")
struct CLIBundleImportTests {
    /// The repository's `Ledger/bundle` (found from this file, like docs/ and Tools/ elsewhere).
    static let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Ledger/bundle").standardized.path
    /// The demo genesis key id published in Ledger/README.md.
    static let trust = "9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"

    @Test(
        "import Ledger/bundle and export it: the same entries.jsonl, a bundle audit accepts; views print the bytes a SQLite import prints",
        arguments: StoreKind.all)
    func roundTrip(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        // The sandbox's ledger place holds no ledger yet: a new file, or a fresh empty database.
        let imported = try s.run(["import", Self.bundle, "--trust", Self.trust, "--ledger", s.ledger])
        try #require(imported.status == 0, "\(imported)")

        let exported = s.path("exported")
        let export = try s.run(["export", "--ledger", s.ledger, "--out", exported])
        try #require(export.status == 0, "\(export)")
        let original = try #require(FileManager.default.contents(atPath: Self.bundle + "/data/entries.jsonl"))
        let again = try #require(FileManager.default.contents(atPath: exported + "/data/entries.jsonl"))
        #expect(again == original, "data/entries.jsonl exported from \(store) differs from Ledger/bundle's (\(again.count) vs \(original.count) bytes)")
        let audit = try s.run(["audit", exported, "--trust", Self.trust])
        #expect(audit.status == 0, "\(audit)")

        // The reference: a SQLite ledger imported from the same bundle.
        let reference = s.path("reference.ledger")
        let referenceImport = try s.run(["import", Self.bundle, "--trust", Self.trust, "--ledger", reference])
        try #require(referenceImport.status == 0, "\(referenceImport)")
        for view in [
            ["show", "incident:2012-08-dar-al-shifa", "--as-of", "2019-06-01T00:00:00Z"], ["history", "incident:2012-08-dar-al-shifa"],
            ["list", "--place", "Idlib"], ["verify", "--json"], ["verify"],
        ] {
            var ours = try s.run(view + ["--ledger", s.ledger])
            var theirs = try s.run(view + ["--ledger", reference])
            if view == ["verify", "--json"] {
                // The one field about where the ledger lives: a file's mode, none for a database.
                let mode = store == .postgres ? #","fileMode":null}"# : #","fileMode":"600"}"#
                #expect(ours.stdout.hasSuffix(mode + "\n"), "\(ours)")
                #expect(theirs.stdout.hasSuffix(#","fileMode":"600"}"# + "\n"), "\(theirs)")
                ours.stdout = String(ours.stdout.dropLast(mode.count + 1))
                theirs.stdout = String(theirs.stdout.dropLast(#","fileMode":"600"}"#.count + 1))
            }
            #expect(ours.status == 0 && !ours.stdout.isEmpty, "\(ours)")
            #expect(theirs.status == 0 && !theirs.stdout.isEmpty, "\(theirs)")
            let command = view.joined(separator: " ")
            #expect(
                ours.stdout == theirs.stdout,
                "`ledger \(command)` prints other bytes on \(store) than on SQLite:\n--- \(store) ---\n\(ours.stdout)--- sqlite ---\n\(theirs.stdout)")
        }
        let ours = try s.run(["snapshot", "--as-of", "2019-06-01T00:00:00Z", "--ledger", s.ledger, "--out", s.path("ours.json")])
        let theirs = try s.run(["snapshot", "--as-of", "2019-06-01T00:00:00Z", "--ledger", reference, "--out", s.path("theirs.json")])
        #expect(ours.status == 0, "\(ours)")
        #expect(theirs.status == 0, "\(theirs)")
        let a = try #require(FileManager.default.contents(atPath: s.path("ours.json")))
        let b = try #require(FileManager.default.contents(atPath: s.path("theirs.json")))
        #expect(!a.isEmpty && a == b, "the snapshot as of 2019-06-01 from \(store) differs from SQLite's (\(a.count) vs \(b.count) bytes)")
    }
}
