import ArgumentParser
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger init`: create a ledger with its genesis entry.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new ledger whose entry 0 is the self-signed genesis event.",
        discussion: "Prints the genesis key id: the one value an auditor must obtain from you out of band and pin with --trust.")

    @OptionGroup var ledger: LedgerOption
    @Option(help: ArgumentHelp("The ledger's origin, a unique name such as example.org/syria-health-care.", valueName: "name"))
    var origin: String
    @Option(name: .customLong("admin-key"), help: ArgumentHelp("Key file of the first administrator.", valueName: "file"))
    var adminKey: String

    func validate() throws {
        guard Origin.isValid(origin) else {
            throw ValidationError("origin must be 1–255 printable ASCII characters without spaces or '+'")
        }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let file = try KeyFile(path: adminKey)
            let key = try file.unlock { () throws(LedgerError) in try Passphrase.forUnlocking(adminKey) }
            let admin = KeyDescriptor(publicKey: key.publicKey, name: NFC.normalize(file.name), roles: [.admin])
            let draft = EventDraft(
                type: EventTypes.genesis, subject: admin.keyID, expects: 0,
                body: JSONObject(uniqueMembers: [("admin", .object(admin.json))]))
            let envelope = try draft.sign(origin: origin, key: key, now: SystemClock().now(), where: "genesis")
            let store = try OpenLedgers.adopt(Ledger.create(at: ledger.location, genesis: envelope))
            try store.close()
            print("created ledger \(try ledger.location.description) for origin \(origin)")
            print("genesis key id: \(admin.keyID)")
        }
    }
}
