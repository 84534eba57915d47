import ArgumentParser
import Foundation
import LedgerCore
import Synchronization
import LedgerCrypto
import LedgerPostgres
import LedgerStore

/// `--ledger PATH|URL` for the commands that may also run without a ledger (`append --server`,
/// `snapshot --check`, `serve --openapi`): not required when parsing, unlike `LedgerOption`;
/// `ledger.validate()` checks it where one is needed.
struct OptionalLedgerOption: ParsableArguments {
    @Option(
        name: .customLong("ledger"),
        help: ArgumentHelp(
            "Path of the ledger file (SQLite), or a postgres:// URL (PostgreSQL); default: $LEDGER_DATABASE_URL.", valueName: "path|url"))
    var given: String?

    var ledger: LedgerOption {
        var o = LedgerOption()
        o.ledger = given
        return o
    }
}

/// `--ledger PATH|URL`, shared by every command that opens a ledger: a file path is a SQLite
/// ledger, a `postgres://` or `postgresql://` URL a PostgreSQL one; without the option,
/// `LEDGER_DATABASE_URL` names it.
struct LedgerOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Path of the ledger file (SQLite), or a postgres:// URL (PostgreSQL); default: $LEDGER_DATABASE_URL.", valueName: "path|url"))
    var ledger: String?

    /// The ledger named by the option or the environment.
    var value: String { ledger ?? ProcessInfo.processInfo.environment["LEDGER_DATABASE_URL"] ?? "" }

    func validate() throws {
        if value.isEmpty { throw ValidationError("Missing expected argument '--ledger <path|url>' (or set LEDGER_DATABASE_URL)") }
    }

    var location: any LedgerLocation {
        get throws(LedgerError) { try Locations.parse(value) }
    }

    func open(readOnly: Bool = false) throws(LedgerError) -> Ledger {
        try OpenLedgers.open(path: value, readOnly: readOnly)
    }

    /// Opens the ledger read-only for archive views, refusing projections of another version.
    func openArchive() throws(LedgerError) -> Ledger {
        let store = try open(readOnly: true)
        try store.requireCurrentProjections()
        return store
    }
}

/// Where a `--ledger` value points.
enum Locations {
    static func parse(_ value: String) throws(LedgerError) -> any LedgerLocation {
        if PostgresLocation.isURL(value) { return try PostgresLocation(url: value) }
        return SQLiteLocation(path: value)
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

/// Every ledger a command opened, closed when the command ends (`guarded`), so that a read-only
/// opening removes the `-wal`/`-shm` files it had to create (DECISIONS 50).
enum OpenLedgers {
    private static let opened = Mutex<[Ledger]>([])

    /// Opens a ledger and remembers it for `closeAll`.
    static func open(path: String, readOnly: Bool) throws(LedgerError) -> Ledger {
        let store = try Ledger.open(at: Locations.parse(path), readOnly: readOnly)
        opened.withLock { $0.append(store) }
        return store
    }

    /// Remembers a ledger opened otherwise (created or imported) for `closeAll`.
    static func adopt(_ store: Ledger) -> Ledger {
        opened.withLock { $0.append(store) }
        return store
    }

    /// Closes every ledger opened so far (errors on close are of no use to the user any more).
    static func closeAll() {
        let stores = opened.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for s in stores { try? s.close() }
    }
}
