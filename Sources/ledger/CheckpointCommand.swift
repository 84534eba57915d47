import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `ledger checkpoint`: sign the current tree.
struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the current tree as a C2SP tlog-checkpoint (signed note) and store it.",
        discussion: "Refuses when the tree is not consistent with the previous checkpoint. Prints the signed note.")

    @OptionGroup var ledger: LedgerOption
    @OptionGroup var signer: SigningKeyOption

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.open()
            let key = try signer.load()
            let note = try store.checkpoint(signingKey: key)
            FileHandle.standardOutput.write(Data(note.encoded()))
        }
    }
}
