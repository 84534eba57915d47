import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

/// Issue 14: a checkpoint commits to the archive's view (the snapshot at its size).
@Suite("Checkpoints commit to the archive's view; audits check it; format 1 bundles still import")
final class CheckpointViewTests {
    let dir = TemporaryDirectory()

    /// The campaign archive's genesis key id.
    static let campaignTrust = "9d97dda2b27b3eb35077f686518ee348b1e3b4725178f25dc1962a1e563519d1"

    static var repository: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path }

    @Test("the view line: written, parsed, refused when malformed")
    func parse() throws {
        let root = SHA256.hash(Array("r".utf8))
        let view = SHA256.hash(Array("v".utf8))
        let cp = Checkpoint(origin: "o.example/x", size: 5, root: root, view: view)
        #expect(String(decoding: cp.text, as: UTF8.self).hasSuffix("\nincidentledger-view \(view.hex)\n"))
        #expect(try Checkpoint(text: cp.text) == cp)
        #expect(try Checkpoint(text: Checkpoint(origin: "o.example/x", size: 5, root: root).text).view == nil)
        for bad in ["other-extension \(view.hex)", "incidentledger-view \(view.hex.uppercased())", "incidentledger-view  \(view.hex)", "incidentledger-view"] {
            let text = Array("o.example/x\n5\n\(root.base64)\n\(bad)\n".utf8)
            #expect(throws: LedgerError.self, "\(bad)") { try Checkpoint(text: text) }
        }
        let five = Array("o.example/x\n5\n\(root.base64)\nincidentledger-view \(view.hex)\nincidentledger-view \(view.hex)\n".utf8)
        #expect(throws: LedgerError.self) { try Checkpoint(text: five) }
    }

    @Test("a signed checkpoint's view is the snapshot at its size, now and after more appends; the audit's fold agrees")
    func viewMatchesSnapshot() throws {
        let made = try StoreFixtures.standardLedger(.sqlite, dir: dir)
        let l = made.ledger
        _ = try l.append([Fixtures.report(subject: "a", n: 20), Fixtures.report(subject: "b", n: 21)])
        let note = try l.checkpoint(signingKey: Fixtures.logKey)
        let cp = try Checkpoint(text: note.text)
        let view = try #require(cp.view)
        _ = try l.append([Fixtures.report(subject: "c", n: 22)])
        #expect(SHA256.hash(try l.snapshot(atSize: cp.size, asOf: nil).bytes) == view)
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        _ = try l.export(to: dir.file("bundle"), exportTime: Fixtures.epoch)
        let info = String(decoding: try #require(FileManager.default.contents(atPath: dir.file("bundle/bag-info.txt"))), as: UTF8.self)
        #expect(info.contains("IncidentLedger-Format: 2\n") && info.contains("(format 2)\n"))
        var auditor = BagAudit(directory: dir.file("bundle"), trust: KeyID.of(Fixtures.admin.publicKey))
        auditor.keepNotes = true
        let report = try auditor.run()
        #expect(report.ok)
        #expect(try ViewCheck.check(bag: dir.file("bundle"), report: report) == nil)
        // The same when the fold puts every entity away as bytes before each entry.
        let everyEntry = ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)
        #expect(try ViewCheck.check(bag: dir.file("bundle"), report: report, cooling: everyEntry) == nil)
        // A checkpoint signed by the log key over a wrong view: the log verifies, the view does not.
        var forged = report
        let wrong = Checkpoint(origin: cp.origin, size: cp.size, root: cp.root, view: SHA256.hash(Array("not the view".utf8)))
        let i = try #require(forged.checkpoints.firstIndex { $0.size == cp.size })
        forged.checkpoints[i].note = SignedNote.sign(text: wrong.text, name: cp.origin, key: Fixtures.logKey).encoded()
        let failure = try #require(try ViewCheck.check(bag: dir.file("bundle"), report: forged))
        #expect(failure.step == .view && failure.file == Bag.checkpointPath(cp.size))
        #expect(try ViewCheck.check(bag: dir.file("bundle"), report: forged, cooling: everyEntry)?.file == Bag.checkpointPath(cp.size))
        #expect(failure.reason.contains(wrong.view!.hex))
        // The same forged note stored in the ledger: `verify` names it.
        _ = try l.verify(trust: nil)
        let forgedNote = forged.checkpoints[i].note
        try l.storage.write { (w) throws(LedgerError) in try w.replaceCheckpoint(size: cp.size, note: forgedNote) }
        do {
            _ = try l.verify(trust: nil)
            Issue.record("a checkpoint over a wrong view verified")
        } catch { #expect(error.code == .verificationFailed && error.message.contains("tree size \(cp.size) commits to the view")) }
        try l.close()
    }

    @Test("the audit's own fold, run beside its signature checks, names a checkpoint over a wrong view that the log's checks pass")
    func auditFoldsAsItGoes() throws {
        let made = try StoreFixtures.standardLedger(.sqlite, dir: dir)
        let l = made.ledger
        _ = try l.append([Fixtures.report(subject: "a", n: 20), Fixtures.report(subject: "b", n: 21)])
        let early = try Checkpoint(text: try l.checkpoint(signingKey: Fixtures.logKey).text)
        _ = try l.append([Fixtures.report(subject: "c", n: 22)])
        _ = try l.checkpoint(signingKey: Fixtures.logKey)
        let bundle = dir.file("bundle")
        _ = try l.export(to: bundle, exportTime: Fixtures.epoch)
        try l.close()
        let trust = KeyID.of(Fixtures.admin.publicKey)
        func audit() throws -> (BagAudit.Report, BagAudit.Failure?) {
            var auditor = BagAudit(directory: bundle, trust: trust)
            let fold = ViewFold()
            auditor.observer = fold
            auditor.parallelism = 2
            let report = try auditor.run()
            return (report, fold.finish(sealed: report.sealed))
        }
        let (good, none) = try audit()
        #expect(good.ok && none == nil, "\(String(describing: good.failure)) \(String(describing: none))")
        // The earlier checkpoint re-signed by the log key over a wrong view, the manifests made to match:
        // every check of the log passes, the fold names the file.
        let wrong = Checkpoint(origin: early.origin, size: early.size, root: early.root, view: SHA256.hash(Array("not the view".utf8)))
        let forged = SignedNote.sign(text: wrong.text, name: early.origin, key: Fixtures.logKey).encoded()
        let file = Bag.checkpointPath(early.size)
        try Data(forged).write(to: URL(fileURLWithPath: bundle + "/" + file))
        var digests: [(path: String, digest: Digest32)] = []
        for (path, _) in try Bag.parseManifest(Array(try Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest-sha256.txt"))), file: "m") {
            digests.append((path, SHA256.hash(Array(try Data(contentsOf: URL(fileURLWithPath: bundle + "/" + path))))))
        }
        try Data(Bag.manifest(digests)).write(to: URL(fileURLWithPath: bundle + "/manifest-sha256.txt"))
        let tags = try Bag.tagFiles.map { ($0, SHA256.hash(Array(try Data(contentsOf: URL(fileURLWithPath: bundle + "/" + $0))))) }
        try Data(Bag.manifest(tags)).write(to: URL(fileURLWithPath: bundle + "/tagmanifest-sha256.txt"))
        let (report, failure) = try audit()
        #expect(report.ok, "\(String(describing: report.failure))")
        let f = try #require(failure)
        #expect(f.step == .view && f.file == file && f.reason.contains(wrong.view!.hex), "\(f)")
        // A format 1 bundle (no view line, no sealed value) is folded too, and passes.
        var old = BagAudit(directory: Self.repository + "/Tests/Fixtures/campaign-v1-bundle", trust: Self.campaignTrust)
        let oldFold = ViewFold()
        old.observer = oldFold
        let oldReport = try old.run()
        #expect(oldReport.ok && oldFold.finish(sealed: oldReport.sealed) == nil, "\(String(describing: oldReport.failure))")
    }

    @Test("migration: a format 1 bundle (the campaign archive before views) imports, verifies, and exports the same entries")
    func formatOneBundle() throws {
        let v1 = Self.repository + "/Tests/Fixtures/campaign-v1-bundle"
        let trust = Self.campaignTrust
        var auditor = BagAudit(directory: v1, trust: trust)
        auditor.keepNotes = true
        let report = try auditor.run()
        #expect(report.ok, "\(String(describing: report.failure))")
        #expect(report.checkpoints.allSatisfy { (try? Checkpoint(text: SignedNote(bytes: $0.note).text))?.view == nil })
        let l = try Ledger.importBundle(
            at: SQLiteLocation(path: dir.file("migrated.ledger")), entries: v1 + "/data/entries.jsonl",
            checkpoints: report.checkpoints.map { ($0.size, $0.note) },
            size: report.treeSize, root: report.root!)
        _ = try l.verify(trust: trust)
        _ = try l.export(to: dir.file("again"), exportTime: Fixtures.epoch)
        #expect(FileManager.default.contents(atPath: dir.file("again/data/entries.jsonl")) == FileManager.default.contents(atPath: v1 + "/data/entries.jsonl"))
        let info = String(decoding: try #require(FileManager.default.contents(atPath: dir.file("again/bag-info.txt"))), as: UTF8.self)
        #expect(info.contains("IncidentLedger-Format: 1\n"))
        try l.close()
    }
}
