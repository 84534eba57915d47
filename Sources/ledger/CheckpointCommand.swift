import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `ledger checkpoint`: sign the current tree.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the current tree as a C2SP tlog-checkpoint (signed note) and store it.",
        discussion: """
            Refuses when the tree is not consistent with the previous checkpoint. Prints the signed note. With --list, prints every \
            stored checkpoint instead (no key needed). With --attach FILE, adds the witness cosignatures in FILE (a checkpoint \
            returned by `ledger witness`) to the stored checkpoint of the same tree size; its text must be identical.
            """)

    @OptionGroup var ledger: LedgerOption
    @Option(help: ArgumentHelp("Private key file holding the log role.", valueName: "file"))
    var key: String?
    @Flag(help: "Print every stored signed checkpoint, oldest first, one empty line between two notes.")
    var list = false
    @Option(help: ArgumentHelp("A cosigned checkpoint from a witness: store its cosignatures with the checkpoint (needs --witness).", valueName: "file"))
    var attach: String?
    @Option(
        name: .customLong("witness"),
        help: ArgumentHelp(
            "With --attach: a witness whose cosignature to store (its verifier key, or a file holding it); repeat for several.", valueName: "vkey"))
    var witnessArgs: [String] = []

    func validate() throws {
        guard [list, key != nil, attach != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give --key to sign a checkpoint, --list to print the stored ones, or --attach FILE to store witness cosignatures")
        }
        if attach != nil {
            guard !witnessArgs.isEmpty else { throw ValidationError("--attach needs --witness VKEY: the witnesses whose cosignatures to check and store") }
            for w in try witnessArgs.map({ try readVerifierKey($0, option: "--witness") }) where w.kind != .cosigner {
                throw ValidationError("--witness \(w.name): this is a log key (type 0x01), not a witness key (type 0x04)")
            }
        } else if !witnessArgs.isEmpty {
            throw ValidationError("--witness goes with --attach")
        }
    }

    func run() throws {
        let witnesses = try witnessArgs.map { try readVerifierKey($0, option: "--witness") }
        try guarded { () throws(LedgerError) in
            if list {
                let store = try ledger.open(readOnly: true)
                var out: [UInt8] = []
                for (i, cp) in try store.checkpoints().enumerated() {
                    if i > 0 { out.append(0x0A) }
                    out += cp.note
                }
                FileHandle.standardOutput.write(Data(out))
                return
            }
            if let attach {
                let data = try Input.read(attach, limit: Limits.note, what: Limits.noteName).bytes
                let store = try ledger.open()
                let offered: SignedNote
                do throws(LedgerError) { offered = try SignedNote(bytes: data) } catch {
                    throw LedgerError(.malformed, "\(attach) is not a signed checkpoint: \(error.message)")
                }
                let (note, added, ignored) = try store.attachCosignatures(offered, witnesses: witnesses)
                let size = (try? Checkpoint(text: note.text).size).map(String.init) ?? "?"
                print(
                    added.isEmpty
                        ? "nothing new: the stored checkpoint for tree size \(size) already carries these cosignatures (or later ones)"
                        : "attached cosignatures of \(added.map { Terminal.safe($0) }.joined(separator: ", ")) to the checkpoint for tree size \(size)")
                if !ignored.isEmpty { Terminal.note("not attached (not a --witness given): \(ignored.map { Terminal.safe($0) }.joined(separator: ", "))") }
                return
            }
            let signer = SigningKeyOption(key: key!)
            let store = try ledger.open()
            let key = try signer.load()
            let note = try store.checkpoint(signingKey: key)
            FileHandle.standardOutput.write(Data(note.encoded()))
        }
    }
}
