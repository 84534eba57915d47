import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// `ledger sign`: sign events offline, with no database.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign events offline as DSSE envelopes (no ledger file needed); append them later with `ledger append --signed`.",
        discussion: "Input as for `ledger append`; output is one envelope per line.")

    @OptionGroup var signer: SigningKeyOption
    @Option(help: ArgumentHelp("Origin of the ledger the events are for (it is signed into each payload).", valueName: "name"))
    var origin: String
    @Flag(help: "The input holds one event per line.")
    var batch = false
    @Option(help: ArgumentHelp("Write envelopes to this new file instead of standard output.", valueName: "file"))
    var out: String?
    @Argument(help: ArgumentHelp("Event file; `-` or nothing for standard input.", valueName: "file"))
    var input: String?

    func validate() throws {
        guard Origin.isValid(origin) else { throw ValidationError("origin must be 1–255 printable ASCII characters without spaces or '+'") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (name, docs) = try Input.documents(input, batch: batch)
            let key = try signer.load()
            let now = SystemClock().now()
            var text: [UInt8] = []
            for doc in docs {
                let location = "\(name):\(doc.line)"
                let draft = try EventDraft(bytes: doc.bytes, where: location)
                // The body schema needs no ledger: refuse a bad event before it is signed.
                do throws(LedgerError) { try Archive.checkBody(type: draft.type, subject: draft.subject, body: draft.body) } catch {
                    var e = error
                    e.message = "\(location): \(error.message)"
                    throw e
                }
                text += try draft.sign(origin: origin, key: key, now: now, where: location).encoded()
                text.append(0x0A)
            }
            if let out {
                try KeyFile.writeNew(path: out, bytes: text)
            } else {
                FileHandle.standardOutput.write(Data(text))
            }
        }
    }
}
