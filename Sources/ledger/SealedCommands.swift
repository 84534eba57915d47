import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `--reader-key FILE`: a reader's key file, to see sealed values (docs/EVENTS.md §9).
struct ReaderKeyOption: ParsableArguments {
    @Option(
        name: .customLong("reader-key"),
        help: ArgumentHelp(
            "A reader's key file: show the sealed values wrapped for it (passphrase from the terminal or LEDGER_PASSPHRASE).", valueName: "file"))
    var readerKey: String?

    /// The reader's X25519 key, or nil when none was given.
    func load() throws(LedgerError) -> ValueSealing.ReaderKey? {
        guard let readerKey else { return nil }
        let key = try SigningKeyOption(key: readerKey).load()
        do { return try ValueSealing.ReaderKey(key) } catch { throw LedgerError(.keyFile, "\(readerKey): \(error)") }
    }
}

/// `ledger reader enroll|revoke|list`: who may read sealed values.
struct ReaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reader",
        abstract: "Enrol, revoke and list the readers of sealed values (docs/EVENTS.md §9).",
        subcommands: [Enroll.self, Revoke.self, List.self])

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol a reader (signed by an admin key): values sealed from now on are readable with its key file.",
            discussion: """
                The reader's key is an ordinary key file (`ledger key new`); only its public part is read here. Use a key that signs \
                nothing: one key for reading, others for signing. Values sealed before the enrolment stay unreadable to it.
                """)

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var signer: SigningKeyOption
        @Option(name: .customLong("public-key-file"), help: ArgumentHelp("The reader's key file (only its public part is read).", valueName: "file"))
        var publicKeyFile: String
        @Option(help: "The reader's name (defaults to the name in the key file).")
        var name: String?
        @Argument(help: ArgumentHelp("The reader's id, e.g. reader:keeper-geneva.", valueName: "id"))
        var id: String

        func run() throws {
            try guarded { () throws(LedgerError) in
                try requireEntityID(id)
                guard id.hasPrefix("reader:") else { throw LedgerError(.malformed, "a reader's id starts with `reader:`, e.g. reader:keeper-geneva") }
                let file = try KeyFile(path: publicKeyFile)
                let store = try ledger.open()
                if let signing = try store.keys().first(where: { $0.publicKey == file.publicKey }) {
                    throw LedgerError(
                        .refused,
                        "\(publicKeyFile) is the signing key \(signing.keyID) (\(signing.name)); a reader needs a key of its own (`ledger key new`)")
                }
                let encryptionKey: [UInt8]
                do { encryptionKey = try ValueSealing.ReaderKey.publicKey(of: file.publicKey) } catch {
                    throw LedgerError(.keyFile, "\(publicKeyFile): \(error)")
                }
                let body = JSONObject(uniqueMembers: [
                    ("encryptionKey", .string(Base64.encode(encryptionKey))), ("name", .string(NFC.normalize(name ?? file.name))),
                ])
                let key = try signer.load()
                let outcome = try store.appendSigned(type: EventType.readerEnrolled.name, subject: id, body: body, key: key, where: "reader enroll")
                print("enrolled \(id) as a reader at entry \(outcome.index)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a reader (signed by an admin key): every data key wrapped for it is destroyed, and no new one is made.",
            discussion: "What the reader has already read, or copied, cannot be taken back.")

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var signer: SigningKeyOption
        @Option(help: "Why the reader is revoked (recorded in the log).")
        var reason: String
        @Argument(help: ArgumentHelp("The reader's id.", valueName: "id"))
        var id: String

        func run() throws {
            try guarded { () throws(LedgerError) in
                try requireEntityID(id)
                let store = try ledger.open()
                let key = try signer.load()
                let body = JSONObject(uniqueMembers: [("reason", .string(NFC.normalize(reason)))])
                let outcome = try store.appendSigned(type: EventType.readerRevoked.name, subject: id, body: body, key: key, where: "reader revoke")
                print("revoked reader \(id) at entry \(outcome.index)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the readers of sealed values, with their status.")

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var output: JSONOutputOption

        func run() throws {
            try guarded { () throws(LedgerError) in
                let store = try ledger.open(readOnly: true)
                for r in try store.readers() {
                    if output.json {
                        printJSON([
                            ("id", .string(r.id)), ("encryptionKey", .string(Base64.encode(r.encryptionKey))),
                            ("status", .string(r.active ? "active" : "revoked")),
                        ])
                    } else {
                        print("\(r.id)  \(r.active ? "active " : "revoked")  \(Base64.encode(r.encryptionKey))")
                    }
                }
            }
        }
    }
}

/// `ledger erase VALUE`: destroy a sealed value for good.
struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a sealed value: destroy its data keys and ciphertext and record a signed erasure (admin key).",
        discussion: """
            VALUE is the commitment a view shows for the value (`ledger show ID --json`: the 64 hex digits of \
            {"sealed": …}). After it no command, export, snapshot or earlier view can show the value again; every signature, \
            root, checkpoint and proof stays valid, since the signed log only ever held the commitment.
            """)

    @OptionGroup var ledger: LedgerOption
    @OptionGroup var signer: SigningKeyOption
    @Option(help: "Why the value is erased (recorded in the log, e.g. the lawful request it answers).")
    var reason: String
    @Argument(help: ArgumentHelp("The sealed value's commitment (64 hex digits).", valueName: "value"))
    var value: String

    func validate() throws {
        guard Sealing.isCommitment(value) else { throw ValidationError("VALUE must be a sealed value's commitment: 64 lowercase hex digits") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.open()
            guard let row = try store.sealedValue(value) else {
                throw LedgerError(.refused, "no sealed value \(value) is held in \(store.path) (it was never stored here)")
            }
            guard !row.ciphertext.isEmpty else { throw LedgerError(.refused, "sealed value \(value) is erased already (\(row.subject))") }
            let key = try signer.load()
            let body = JSONObject(uniqueMembers: [("reason", .string(NFC.normalize(reason))), ("value", .string(value))])
            let outcome = try store.appendSigned(type: EventType.valueErased.name, subject: row.subject, body: body, key: key, where: "erase")
            print("erased \(value) (\(row.subject), entry \(row.index), \(row.field)) at entry \(outcome.index)")
        }
    }
}
