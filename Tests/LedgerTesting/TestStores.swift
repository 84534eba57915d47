import Foundation
import LedgerCore
import LedgerCrypto
import LedgerPostgres
import LedgerStore
import Testing

/// The stores the store-level tests run against: SQLite always; PostgreSQL when a test cluster
/// is given (`LEDGER_TEST_DATABASE_URL`, set by Tools/test.sh through Tools/pg.sh).
public enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres
    /// `MemoryStorage`: in this process only (not for tests that run the CLI).
    case memory

    public static var all: [StoreKind] { TestCluster.adminURL == nil ? [.sqlite] : [.sqlite, .postgres] }
    /// For tests that use the store in this process: the real stores and the in-memory one.
    public static var inProcess: [StoreKind] { all + [.memory] }

    public var testDescription: String { rawValue }
}

/// The throwaway PostgreSQL cluster of Tools/pg.sh.
public enum TestCluster {
    public static let env = ProcessInfo.processInfo.environment
    public static var adminURL: String? { env["LEDGER_TEST_DATABASE_URL"] }
    public static var socketDirectory: String { env["LEDGER_TEST_PGDIR"] ?? "" }
    public static var user: String { env["LEDGER_TEST_PGUSER"] ?? "postgres" }
    public static let bin = "/usr/lib/postgresql/15/bin/"

    /// Runs a PostgreSQL client program against the cluster; its standard output.
    @discardableResult
    public static func run(_ program: String, _ arguments: [String]) throws -> Data {
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
    public static func url(_ name: String) -> String { "postgres://\(user)@localhost/\(name)?host=\(socketDirectory)" }
}

public struct LedgerTestError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// One test's ledger: a file in the test's temporary folder, or a new database in the test
/// cluster, dropped when this object goes.
public final class TestPlace: @unchecked Sendable {
    public let kind: StoreKind
    public let location: any LedgerLocation
    /// The file path, or the database name.
    public let name: String

    public init(_ kind: StoreKind, dir: TemporaryDirectory, file: String = "t.ledger") throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            name = dir.file(file)
            location = SQLiteLocation(path: name)
        case .postgres:
            name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try TestCluster.run("createdb", [name])
            location = try PostgresLocation(url: TestCluster.url(name))
        case .memory:
            let storage = MemoryStorage(name: file)
            name = storage.location
            location = MemoryLocation(storage)
        }
    }

    /// What proves a refusal changed nothing: the file and WAL hashes, or the hash of a
    /// `pg_dump` of the database (schema and every row).
    public func fingerprint() throws -> [String] {
        switch kind {
        case .sqlite: return ["", "-wal"].map { s in FileManager.default.contents(atPath: name + s).map { SHA256.hash(Array($0)).hex } ?? "absent" }
        case .postgres:
            // pg_dump's `\restrict` lines carry a random key each run; everything else is the data.
            let dump = String(decoding: try TestCluster.run("pg_dump", ["--no-owner", name]), as: UTF8.self)
            let lines = dump.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
            return [SHA256.hash(Array(lines.joined(separator: "\n").utf8)).hex]
        case .memory:
            return [SHA256.hash(Array(((location as! MemoryLocation).storage.dump()).utf8)).hex]
        }
    }

    /// Runs SQL in the database (for tests that damage it on purpose).
    public func psql(_ sql: String) throws -> String {
        String(decoding: try TestCluster.run("psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", sql]), as: UTF8.self)
    }

    deinit {
        if kind == .postgres { _ = try? TestCluster.run("dropdb", ["--force", name]) }
    }
}
