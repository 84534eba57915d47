import ArgumentParser
import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger prove inclusion|consistency`: print proof files (docs/FORMAT.md §13).
struct ProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print an inclusion or consistency proof against stored signed checkpoints (docs/FORMAT.md §13).",
        subcommands: [Inclusion.self, Consistency.self])

    struct Inclusion: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove that entry N is in the tree of a signed checkpoint (C2SP tlog-proof, with the entry line as extra data).")

        @OptionGroup var ledger: LedgerOption
        @Option(parsing: .unconditional, help: "The entry's index.")
        var index: UInt64
        @Option(parsing: .unconditional, help: "Tree size of the signed checkpoint to prove against (default: the latest checkpoint).")
        var size: UInt64?
        @Option(help: ArgumentHelp("Write the proof to this new file instead of standard output.", valueName: "file"))
        var out: String?

        func run() throws {
            try guarded { () throws(LedgerError) in
                let store = try ledger.open(readOnly: true)
                let (treeSize, note) = try ProveCommand.checkpoint(store, size: size)
                guard index < treeSize else {
                    throw LedgerError(.refused, "entry \(index) is not in the tree of size \(treeSize); sign a newer checkpoint or give --size")
                }
                let proof = InclusionProofFile(
                    entryLine: try store.entryLine(at: index), index: index, path: try store.inclusionProof(index: index, size: treeSize), note: note)
                try OutputFile.emit(proof.encoded(), out: out)
            }
        }
    }

    struct Consistency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prove that the signed checkpoint of size --to extends the one of size --from (nothing rewritten).")

        @OptionGroup var ledger: LedgerOption
        @Option(parsing: .unconditional, help: "Tree size of the older signed checkpoint.")
        var from: UInt64
        @Option(parsing: .unconditional, help: "Tree size of the newer signed checkpoint (default: the latest).")
        var to: UInt64?
        @Option(help: ArgumentHelp("Write the proof to this new file instead of standard output.", valueName: "file"))
        var out: String?

        func run() throws {
            try guarded { () throws(LedgerError) in
                let store = try ledger.open(readOnly: true)
                let (newSize, newNote) = try ProveCommand.checkpoint(store, size: to)
                guard from <= newSize else { throw LedgerError(.refused, "--from \(from) is larger than --to \(newSize)") }
                let (oldSize, oldNote) = try ProveCommand.checkpoint(store, size: from)
                let proof = ConsistencyProofFile(
                    oldSize: oldSize, proof: try store.consistencyProof(from: oldSize, to: newSize), oldNote: oldNote, newNote: newNote)
                try OutputFile.emit(proof.encoded(), out: out)
            }
        }
    }

    static func checkpoint(_ store: Ledger, size: UInt64?) throws(LedgerError) -> (UInt64, [UInt8]) {
        let all = try store.checkpoints()
        if let size {
            guard let note = try store.checkpointNote(size: size) else {
                let sizes = all.suffix(8).map { String($0.size) }.joined(separator: ", ")
                throw LedgerError(.refused, "no signed checkpoint for tree size \(size) (latest stored sizes: \(sizes.isEmpty ? "none" : sizes))")
            }
            return (size, note)
        }
        guard let last = all.last else {
            throw LedgerError(.refused, "the ledger has no signed checkpoint yet; sign one with `ledger checkpoint --key LOGKEY`")
        }
        return (last.size, last.note)
    }
}

/// `ledger check-proof`: verify a proof file offline.
struct CheckProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-proof",
        abstract: "Verify an inclusion or consistency proof file offline against the log's verifier keys (and witnesses).",
        discussion: "Exit 0 when the proof holds, 1 when it does not, 64 for bad arguments, 65 when the file is not a proof.")

    @Argument(help: ArgumentHelp("The proof file.", valueName: "file"))
    var file: String
    @Option(
        name: .customLong("log-key"),
        help: ArgumentHelp("The log's verifier key (ORIGIN+HASH+BASE64, or a file holding it); repeat for several.", valueName: "vkey"))
    var logKeyArgs: [String] = []
    @OptionGroup var policy: WitnessPolicyOption
    @Option(help: ArgumentHelp("For a consistency proof: the older checkpoint as you saved it; the proof must start from it.", valueName: "file"))
    var old: String?
    @Option(help: ArgumentHelp("For an inclusion proof without extra data: the entry line.", valueName: "file"))
    var entry: String?

    func validate() throws {
        guard !logKeyArgs.isEmpty else { throw ValidationError("give the log's verifier key with --log-key (see `ledger key vkey`)") }
        _ = try logKeys()
        _ = try policy.witnesses()
    }

    func logKeys() throws -> [VerifierKey] {
        let keys = try logKeyArgs.map { try readVerifierKey($0, option: "--log-key") }
        for k in keys where k.kind != .log { throw ValidationError("--log-key \(k.name): this is a witness key (type 0x04), not a log key (type 0x01)") }
        return keys
    }

    func run() throws {
        let keys = try logKeys()
        let witnesses = try policy.witnesses()
        try guarded { () throws(LedgerError) in
            let bytes = try Input.read(file, limit: Limits.proof, what: Limits.proofName).bytes
            let checker = NoteChecker(logKeys: keys, witnesses: witnesses, quorum: policy.effectiveQuorum)
            if bytes.starts(with: Array(InclusionProofFile.header.utf8)) {
                let proof = try InclusionProofFile(bytes: bytes)
                let cp = try checker.check(proof.note, what: "the proof's checkpoint")
                var line = proof.entryLine
                if let entry {
                    var given = try Input.read(entry, limit: Limits.proof, what: "an entry line (at most 8 MiB)").bytes
                    if given.last == 0x0A { given.removeLast() }
                    if let line, line != given { throw LedgerError(.verificationFailed, "the entry line in \(entry) differs from the one the proof carries") }
                    line = given
                }
                guard let line else { throw LedgerError(.malformed, "the proof carries no entry line (no extra line); give it with --entry") }
                let parsed: EntryLine
                do throws(LedgerError) { parsed = try EntryLine(bytes: line) } catch {
                    throw LedgerError(.verificationFailed, "the proof's entry line is not a valid entry: \(error.message)")
                }
                guard parsed.index == proof.index else {
                    throw LedgerError(.verificationFailed, "the entry line says index \(parsed.index) but the proof is for index \(proof.index)")
                }
                guard proof.index < cp.size,
                    MerkleTree.verifyInclusion(leaf: MerkleHash.leaf(line), index: proof.index, size: cp.size, proof: proof.path, root: cp.root)
                else {
                    throw LedgerError(.verificationFailed, "the inclusion path does not lead from entry \(proof.index) to the root of tree size \(cp.size)")
                }
                let payload = try? EventPayload(bytes: parsed.envelope.payload, requireNFC: false)
                print(
                    "ok: entry \(proof.index) (\(payload.map { "\($0.type) \(Terminal.safe($0.subject))" } ?? "?"), recorded \(parsed.recordedAt)) "
                        + "is in the tree of size \(cp.size)")
                print("root:   \(cp.root.hex)")
                print("origin: \(cp.origin)")
            } else if bytes.starts(with: Array(ConsistencyProofFile.header.utf8)) {
                let proof = try ConsistencyProofFile(bytes: bytes)
                let oldCP = try checker.check(proof.oldNote, what: "the older checkpoint", requireQuorum: false)
                let newCP = try checker.check(proof.newNote, what: "the newer checkpoint")
                guard oldCP.origin == newCP.origin else { throw LedgerError(.verificationFailed, "the two checkpoints name different origins") }
                guard oldCP.size == proof.oldSize, oldCP.size >= 1, oldCP.size <= newCP.size else {
                    throw LedgerError(
                        .verificationFailed, "the proof says old size \(proof.oldSize) but its checkpoints are for sizes \(oldCP.size) and \(newCP.size)")
                }
                if let old {
                    let saved = try SignedNote(bytes: try Input.read(old, limit: Limits.note, what: Limits.noteName).bytes)
                    guard saved.text == (try SignedNote(bytes: proof.oldNote)).text else {
                        throw LedgerError(.verificationFailed, "the proof starts from another checkpoint than the one in \(old)")
                    }
                }
                guard MerkleTree.verifyConsistency(from: oldCP.size, to: newCP.size, fromRoot: oldCP.root, toRoot: newCP.root, proof: proof.proof) else {
                    throw LedgerError(
                        .verificationFailed,
                        "the tree of size \(newCP.size) is NOT consistent with the checkpoint of size \(oldCP.size): the log was rewritten (or the "
                            + "proof altered)")
                }
                print("ok: the checkpoint of size \(newCP.size) extends the one of size \(oldCP.size) (append-only)")
                print("old root: \(oldCP.root.hex)")
                print("new root: \(newCP.root.hex)")
            } else {
                throw LedgerError(.malformed, "\(file) is not a proof file (it must start with \(InclusionProofFile.header) or \(ConsistencyProofFile.header))")
            }
        }
    }
}

/// Checks a signed checkpoint against trusted log keys and witnesses.
struct NoteChecker {
    var logKeys: [VerifierKey]
    var witnesses: [VerifierKey]
    var quorum: Int

    func check(_ bytes: [UInt8], what: String, requireQuorum: Bool = true) throws(LedgerError) -> Checkpoint {
        let note: SignedNote
        let cp: Checkpoint
        do throws(LedgerError) {
            note = try SignedNote(bytes: bytes)
            cp = try Checkpoint(text: note.text)
        } catch {
            throw LedgerError(.verificationFailed, "\(what) cannot be read: \(error.message)")
        }
        guard logKeys.contains(where: { $0.name == cp.origin && note.isSigned(name: cp.origin, publicKey: $0.publicKey) }) else {
            throw LedgerError(.verificationFailed, "\(what) (origin \(cp.origin.prefix(80)), size \(cp.size)) is not signed by any of the log keys given")
        }
        let (valid, failure) = Cosignature.cosigners(of: note, among: witnesses)
        if let failure { throw LedgerError(.verificationFailed, "\(what): \(failure.message)") }
        if requireQuorum, !witnesses.isEmpty, valid.count < quorum {
            throw LedgerError(.verificationFailed, "\(what) carries valid cosignatures of \(valid.count) trusted witnesses; the quorum is \(quorum)")
        }
        return cp
    }
}
