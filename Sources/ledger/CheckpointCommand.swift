import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `ledger checkpoint`: sign the current tree.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the current tree as a C2SP tlog-checkpoint (signed note) and store it.",
        discussion: "Refuses when the tree is not consistent with the previous checkpoint. Prints the signed note. With --list, prints every stored checkpoint instead (no key needed).")

    @OptionGroup var ledger: LedgerOption
    @Option(help: ArgumentHelp("Private key file holding the log role.", valueName: "file"))
    var key: String?
    @Flag(help: "Print every stored signed checkpoint, oldest first, one empty line between two notes.")
    var list = false

    func validate() throws {
        guard list != (key != nil) else { throw ValidationError("give --key to sign a checkpoint, or --list to print the stored ones") }
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
            let signer = SigningKeyOption(key: key!)
            let store = try ledger.open()
            let key = try signer.load()
            let note = try store.checkpoint(signingKey: key)
            FileHandle.standardOutput.write(Data(note.encoded()))
        }
    }
}
