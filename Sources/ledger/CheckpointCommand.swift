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
    @Option(help: ArgumentHelp("A cosigned checkpoint from a witness: store its cosignatures with the checkpoint.", valueName: "file"))
    var attach: String?

    func validate() throws {
        guard [list, key != nil, attach != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give --key to sign a checkpoint, --list to print the stored ones, or --attach FILE to store witness cosignatures")
        }
    }

    func run() throws {
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
                guard let data = FileManager.default.contents(atPath: attach) else { throw LedgerError(.io, "\(attach) cannot be read") }
                let store = try ledger.open()
                let (note, added) = try store.attachCosignatures(try SignedNote(bytes: Array(data)))
                let size = (try? Checkpoint(text: note.text).size).map(String.init) ?? "?"
                print(added.isEmpty ? "nothing new: the stored checkpoint for tree size \(size) already carries these cosignatures"
                    : "attached cosignatures of \(added.map { Terminal.safe($0) }.joined(separator: ", ")) to the checkpoint for tree size \(size)")
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
