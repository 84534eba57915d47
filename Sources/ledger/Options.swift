import ArgumentParser
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `--ledger PATH`, shared by every command that opens a ledger.
struct LedgerOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path of the ledger file (SQLite).", valueName: "path"))
    var ledger: String

    func open(readOnly: Bool = false) throws(LedgerError) -> SQLiteLedger {
        try SQLiteLedger.open(path: ledger, readOnly: readOnly)
    }

    /// Opens the ledger read-only for archive views, refusing projections of another version.
    func openArchive() throws(LedgerError) -> SQLiteLedger {
        let store = try open(readOnly: true)
        try store.requireCurrentProjections()
        return store
    }
}

/// `--key FILE`, a private key file that signs.
struct SigningKeyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Private key file that signs (passphrase from the terminal or LEDGER_PASSPHRASE).", valueName: "file"))
    var key: String

    func load() throws(LedgerError) -> Ed25519.PrivateKey {
        let file = try KeyFile(path: key)
        return try file.unlock { () throws(LedgerError) in try Passphrase.forUnlocking(key) }
    }
}

/// `--json` for machine-readable output.
struct JSONOutputOption: ParsableArguments {
    @Flag(name: .long, help: "Write JSON instead of text.")
    var json = false
}

/// Prints one JSON value on a line of standard output.
func printJSON(_ members: [(key: String, value: JSONValue)]) {
    print(String(decoding: JSONWriter.encode(.object(JSONObject(uniqueMembers: members))), as: UTF8.self))
}

extension JSONValue {
    static func int(_ v: UInt64) -> JSONValue { .number(String(v)) }
}
