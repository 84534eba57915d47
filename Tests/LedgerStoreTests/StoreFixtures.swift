import Foundation
import LedgerCrypto
import LedgerPostgres
import LedgerStore
import LedgerTesting
import Testing

/// Ledgers and fingerprints shared by the store tests.
enum StoreFixtures {
    /// A new ledger at `path` holding the fixture genesis and the standard enrollments (4 entries).
    static func standardLedger(at path: String, clock: ManualClock = ManualClock(), interval: UInt64 = Ledger.defaultStateCheckpointInterval)
        throws -> Ledger
    {
        try standardLedger(at: SQLiteLocation(path: path), clock: clock, interval: interval)
    }

    /// The same at any location.
    static func standardLedger(
        at location: any LedgerLocation, clock: ManualClock = ManualClock(), interval: UInt64 = Ledger.defaultStateCheckpointInterval
    ) throws -> Ledger {
        let l = try Ledger.create(at: location, genesis: Fixtures.genesis(), clock: clock, stateCheckpointInterval: interval)
        _ = try l.append(Array(Fixtures.standardPrefix().dropFirst()))
        return l
    }

    /// SHA-256 of the ledger file and its WAL, to prove a refusal changed nothing.
    static func fingerprint(_ path: String) -> [String] {
        ["", "-wal"].map { s in FileManager.default.contents(atPath: path + s).map { SHA256.hash(Array($0)).hex } ?? "absent" }
    }
}

/// The stores the store-level tests run against: SQLite always; PostgreSQL when a test cluster
/// is given (`LEDGER_TEST_DATABASE_URL`, set by Tools/test.sh through Tools/pg.sh).
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var all: [StoreKind] { TestCluster.adminURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// The throwaway PostgreSQL cluster of Tools/pg.sh.
enum TestCluster {
    static let env = ProcessInfo.processInfo.environment
    static var adminURL: String? { env["LEDGER_TEST_DATABASE_URL"] }
    static var socketDirectory: String { env["LEDGER_TEST_PGDIR"] ?? "" }
    static var user: String { env["LEDGER_TEST_PGUSER"] ?? "postgres" }
    static let bin = "/usr/lib/postgresql/15/bin/"

    /// Runs a PostgreSQL client program against the cluster; its standard output.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin + program)
        p.arguments = ["-h", socketDirectory, "-U", user] + arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw LedgerTestError("\(program) \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return data
    }

    /// The URL of database `name` in the cluster.
    static func url(_ name: String) -> String { "postgres://\(user)@localhost/\(name)?host=\(socketDirectory)" }
}

struct LedgerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// One test's ledger: a file in the test's temporary folder, or a new database in the test
/// cluster, dropped when this object goes.
final class TestPlace: @unchecked Sendable {
    let kind: StoreKind
    let location: any LedgerLocation
    /// The file path, or the database name.
    let name: String

    init(_ kind: StoreKind, dir: TemporaryDirectory, file: String = "t.ledger") throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            name = dir.file(file)
            location = SQLiteLocation(path: name)
        case .postgres:
            name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try TestCluster.run("createdb", [name])
            location = try PostgresLocation(url: TestCluster.url(name))
        }
    }

    /// What proves a refusal changed nothing: the file and WAL hashes, or the hash of a
    /// `pg_dump` of the database (schema and every row).
    func fingerprint() throws -> [String] {
        switch kind {
        case .sqlite: return StoreFixtures.fingerprint(name)
        case .postgres:
            // pg_dump's `\restrict` lines carry a random key each run; everything else is the data.
            let dump = String(decoding: try TestCluster.run("pg_dump", ["--no-owner", name]), as: UTF8.self)
            let lines = dump.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
            return [SHA256.hash(Array(lines.joined(separator: "\n").utf8)).hex]
        }
    }

    /// Runs SQL in the database (for tests that damage it on purpose).
    func psql(_ sql: String) throws -> String {
        String(decoding: try TestCluster.run("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", sql]), as: UTF8.self)
    }

    deinit {
        if kind == .postgres { _ = try? TestCluster.run("dropdb", ["--force", name]) }
    }
}

@Suite("The store tests' PostgreSQL cases")
struct TestClusterPresence {
    @Test("run whenever Tools/test.sh asks for them (LEDGER_REQUIRE_POSTGRES=1), never skipped silently")
    func required() {
        if TestCluster.env["LEDGER_REQUIRE_POSTGRES"] == "1" {
            #expect(TestCluster.adminURL != nil, "LEDGER_REQUIRE_POSTGRES=1 but no LEDGER_TEST_DATABASE_URL: the PostgreSQL cases would not run")
            #expect(StoreKind.all.contains(.postgres))
        }
    }
}
