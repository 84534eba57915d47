import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

// Every test here runs on SQLite and PostgreSQL (`arguments: StoreKind.all`): the ledger whose
// checkpoints are proved, cosigned and attached is of the store under test; witness states,
// notes and proofs are files either way.

@Suite("witness cosigning, forks, proofs and check-proof")
struct CLIWitnessTests {
    /// A ledger with a checkpoint at 15 and 16, a witness state that cosigned 15.
    func setup(_ store: StoreKind) throws -> (AuditFixture, String, String) {
        let f = try AuditFixture.make(store)
        let s = f.s
        let notes = try s.run(["prove", "consistency", "--ledger", s.ledger, "--from", "15", "--to", "15"])
        try #require(notes.status == 0, "\(notes)")
        // The checkpoint of size 15, as stored.
        let cp15 = s.write("cp15.note", String(decoding: try ConsistencyProofFile(bytes: Array(notes.stdout.utf8)).oldNote, as: UTF8.self))
        let state = s.path("w2-state")
        let first = try s.run([
            "witness", "--key", s.keyPath("w2"), "--state", state, "--name", "w2.example/witness", "--log-key", f.logVKey, cp15, "--time", "1764000000",
        ])
        try #require(first.status == 0, "\(first)")
        return (f, state, cp15)
    }

    @Test("a consistent larger checkpoint is cosigned with a proof; audit with two witnesses and quorum 2 passes after attaching", arguments: StoreKind.all)
    func consistent(store: StoreKind) throws {
        let (f, state, _) = try setup(store)
        let s = f.s
        let cp16 = s.write(
            "cp16-latest.note",
            try s.run(["checkpoint", "--ledger", s.ledger, "--list"]).stdout.components(separatedBy: "\n\n").suffix(2).joined(separator: "\n\n"))
        let noProof = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, cp16])
        #expect(noProof.status == 3 && noProof.stderr.contains("--from 15 --to 16"), "\(noProof)")
        let proof = try s.run(["prove", "consistency", "--ledger", s.ledger, "--from", "15", "--out", s.path("c.proof")])
        #expect(proof.status == 0, "\(proof)")
        let check = try s.run(["check-proof", s.path("c.proof"), "--log-key", f.logVKey])
        #expect(check.status == 0 && check.stdout.contains("extends"), "\(check)")
        let cosigned = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, cp16, "--proof", s.path("c.proof"), "--time", "1764000100"])
        #expect(cosigned.status == 0, "\(cosigned)")
        let attach = try s.run(["checkpoint", "--ledger", s.ledger, "--attach", s.write("cp16.w2", cosigned.stdout), "--witness", f.w2VKey])
        #expect(attach.status == 0 && attach.stdout.contains("w2.example/witness"), "\(attach)")
        let bag = s.path("bag-two-witnesses")
        #expect(try s.run(["export", "--ledger", s.ledger, "--out", bag]).status == 0)
        let audit = try s.run(["audit", bag, "--trust", f.trust, "--witness", f.w1VKey, "--witness", f.w2VKey, "--quorum", "2"])
        #expect(audit.status == 0 && audit.stdout.contains("w1.example/witness") && audit.stdout.contains("w2.example/witness"), "\(audit)")
        // Inclusion proof of entry 5 against the cosigned checkpoint, checked with both witnesses.
        let inc = try s.run(["prove", "inclusion", "--ledger", s.ledger, "--index", "5", "--out", s.path("e5.tlog-proof")])
        #expect(inc.status == 0, "\(inc)")
        let ok = try s.run(["check-proof", s.path("e5.tlog-proof"), "--log-key", f.logVKey, "--witness", f.w1VKey, "--witness", f.w2VKey])
        #expect(ok.status == 0 && ok.stdout.contains("entry 5"), "\(ok)")
    }

    @Test("forks are refused with exit 1 and kept as evidence: same size other root, smaller tree, bad proof", arguments: StoreKind.all)
    func forks(store: StoreKind) throws {
        let (f, state, cp15) = try setup(store)
        let s = f.s
        let evidence = { (n: Int) in FileManager.default.fileExists(atPath: try! self.forkDirectory(state) + "/\(n)/offered") }
        // Same size, another root, validly signed by the log key.
        let text = "\(s.origin)\n15\n\(Digest32(hex: String(repeating: "cd", count: 32))!.base64)\n"
        let forged = s.write("forged15.note", String(decoding: SignedNote.sign(text: Array(text.utf8), name: s.origin, key: f.logKey).encoded(), as: UTF8.self))
        let r1 = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, forged])
        #expect(r1.status == 1 && r1.stderr.contains("FORK"), "\(r1)")
        #expect(evidence(1))
        // A proof that does not verify (a larger forged tree).
        let text17 = "\(s.origin)\n17\n\(Digest32(hex: String(repeating: "ef", count: 32))!.base64)\n"
        let forged17 = s.write(
            "forged17.note", String(decoding: SignedNote.sign(text: Array(text17.utf8), name: s.origin, key: f.logKey).encoded(), as: UTF8.self))
        let bad = ConsistencyProofFile(
            oldSize: 15, proof: [Digest32.zero, Digest32.zero], oldNote: Array(try String(contentsOfFile: cp15, encoding: .utf8).utf8),
            newNote: SignedNote.sign(text: Array(text17.utf8), name: s.origin, key: f.logKey).encoded())
        let badPath = s.write("bad.proof", String(decoding: bad.encoded(), as: UTF8.self))
        let r2 = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, forged17, "--proof", badPath])
        #expect(r2.status == 1 && r2.stderr.contains("no valid consistency proof"), "\(r2)")
        #expect(evidence(2))
        let check = try s.run(["check-proof", badPath, "--log-key", f.logVKey])
        #expect(check.status == 1 && check.stderr.contains("NOT consistent"), "\(check)")
        // After a good cosign at 16, offering 15 again is a smaller tree.
        let proof = try s.run(["prove", "consistency", "--ledger", s.ledger, "--from", "15", "--out", s.path("c.proof")])
        #expect(proof.status == 0)
        let cp16 = s.write(
            "cp16b.note",
            String(decoding: try ConsistencyProofFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: s.path("c.proof"))))).newNote, as: UTF8.self))
        #expect(try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, cp16, "--ledger", s.ledger]).status == 0)
        let r3 = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, cp15])
        #expect(r3.status == 1 && r3.stderr.contains("smaller"), "\(r3)")
        #expect(evidence(3))
        // A checkpoint not signed by a trusted log key is refused outright (not a fork).
        let stranger = s.write(
            "stranger.note", String(decoding: SignedNote.sign(text: Array(text.utf8), name: s.origin, key: f.strangerKey).encoded(), as: UTF8.self))
        let r4 = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, stranger])
        #expect(r4.status == 1 && r4.stderr.contains("not signed by any log key"), "\(r4)")
        #expect(!evidence(4))
    }

    @Test("check-proof rejects an altered entry line, a wrong index and an altered path hash", arguments: StoreKind.all)
    func badInclusionProofs(store: StoreKind) throws {
        let (f, _, _) = try setup(store)
        let s = f.s
        #expect(try s.run(["prove", "inclusion", "--ledger", s.ledger, "--index", "3", "--size", "15", "--out", s.path("p")]).status == 0)
        let good = try InclusionProofFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: s.path("p")))))
        var wrongIndex = good
        wrongIndex.index = 4
        var altered = good
        altered.entryLine![100] ^= 0x01
        var badHash = good
        badHash.path[0] = Digest32.zero
        for (name, proof, expected) in [("wrong index", wrongIndex, "index"), ("altered line", altered, "entry"), ("bad hash", badHash, "does not lead")] {
            let path = s.write("bad-\(name).proof", String(decoding: proof.encoded(), as: UTF8.self))
            let r = try s.run(["check-proof", path, "--log-key", f.logVKey])
            #expect(r.status == 1 && r.stderr.contains(expected), "\(name): \(r)")
        }
        let noSuchSize = try s.run(["prove", "inclusion", "--ledger", s.ledger, "--index", "3", "--size", "14"])
        #expect(noSuchSize.status == 3 && noSuchSize.stderr.contains("no signed checkpoint for tree size 14"), "\(noSuchSize)")
        let wrongKey = try s.run(["check-proof", s.path("p"), "--log-key", f.w1VKey])
        #expect(wrongKey.status == 64, "\(wrongKey)")
    }

    @Test("attach stores only verified cosignatures of the witnesses named, and never replaces a later one with an earlier one", arguments: StoreKind.all)
    func attach(store: StoreKind) throws {
        let (f, state, cp15) = try setup(store)
        let s = f.s
        let cosigned = try #require(
            try? String(
                contentsOfFile: state + "/logs/" + (try FileManager.default.contentsOfDirectory(atPath: state + "/logs"))[0] + "/latest", encoding: .utf8))
        let file = s.write("cp15.w2", cosigned)
        // No --witness: refused before anything is read.
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--attach", file]).status == 64)
        // Only w1 named: w2's line is not taken.
        let other = try s.run(["checkpoint", "--ledger", s.ledger, "--attach", file, "--witness", f.w1VKey])
        #expect(other.status == 3 && other.stderr.contains("no cosignature by the witnesses given"), "\(other)")
        // An altered cosignature is refused.
        var bad = try SignedNote(bytes: Array(cosigned.utf8))
        bad.signatures[bad.signatures.count - 1].signature[30] ^= 1
        let badFile = s.write("cp15.bad", String(decoding: bad.encoded(), as: UTF8.self))
        let refused = try s.run(["checkpoint", "--ledger", s.ledger, "--attach", badFile, "--witness", f.w2VKey])
        #expect(refused.status == 3 && refused.stderr.contains("does not verify"), "\(refused)")
        // The real one is stored; an earlier cosignature by the same witness does not replace it.
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--attach", file, "--witness", f.w2VKey]).status == 0)
        let earlier = try s.run([
            "witness", "--key", s.keyPath("w2"), "--state", s.path("w2-other"), "--name", "w2.example/witness", "--log-key", f.logVKey, cp15, "--time", "1000",
        ])
        #expect(earlier.status == 0, "\(earlier)")
        let kept = try s.run(["checkpoint", "--ledger", s.ledger, "--attach", s.write("cp15.early", earlier.stdout), "--witness", f.w2VKey])
        #expect(kept.status == 0 && kept.stdout.contains("nothing new"), "\(kept)")
        #expect(try s.run(["checkpoint", "--ledger", s.ledger, "--list"]).stdout.contains(cosigned.split(separator: "\n").last.map(String.init) ?? "?"))
        // A damaged witness state is named, not trusted.
        try "bad name with spaces\n".write(toFile: state + "/name", atomically: true, encoding: .utf8)
        let damaged = try s.run(["witness", "--key", s.keyPath("w2"), "--state", state, cp15])
        #expect(damaged.status == 74 && damaged.stderr.contains("name"), "\(damaged)")
    }

    private func forkDirectory(_ state: String) throws -> String {
        let logs = try FileManager.default.contentsOfDirectory(atPath: state + "/logs")
        return state + "/logs/" + logs[0] + "/forks"
    }
}
