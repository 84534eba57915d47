import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Process-level harness for the `ledger` command-line tool: finds the built binary, runs it as a
// subprocess with real files in a temporary directory, and captures stdout, stderr and the exit
// status. Output goes to files (never pipes), so a chatty child cannot deadlock the test.

/// A failure of the harness itself (binary not found, a tool missing, a child that hung).
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What one run of `ledger` did.
struct CLIResult: CustomStringConvertible {
    var arguments: [String]
    /// Exit status, or the signal number when `signaled`.
    var status: Int32
    /// True when the child was ended by a signal (e.g. our SIGKILL).
    var signaled: Bool
    var stdout: String
    var stderr: String
    var duration: TimeInterval

    /// Non-empty stdout lines.
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }

    /// Each stdout line parsed as a JSON object.
    func jsonLines() throws -> [[String: Any]] {
        try lines.map { line in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError("stdout line is not a JSON object: \(line)")
            }
            return o
        }
    }

    var description: String {
        "ledger \(arguments.joined(separator: " ")) → \(signaled ? "signal" : "exit") \(status)\n--- stdout ---\n\(stdout.prefix(2000))\n--- "
            + "stderr ---\n\(stderr.prefix(2000))"
    }
}

/// Locating and running the `ledger` executable.
enum CLI {
    /// The passphrase every test key uses unless a test says otherwise.
    static let passphrase = "correct horse battery staple"

    /// The `ledger` binary built next to the test bundle.
    static func binary() throws -> String { try located.get() }

    private static let located: Result<String, HarnessError> = {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["LEDGER_CLI_BINARY"], !env.isEmpty {
            if FileManager.default.isExecutableFile(atPath: env) { return .success(env) }
        }
        let arg0 = ProcessInfo.processInfo.arguments.first ?? ""
        if !arg0.isEmpty { dirs.append((arg0 as NSString).deletingLastPathComponent) }
        let main = Bundle.main.bundlePath
        dirs.append(main)
        dirs.append((main as NSString).deletingLastPathComponent)
        // macOS: the tests live in an .xctest bundle loaded by xctest; the products directory holds it.
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") {
            dirs.append((b.bundlePath as NSString).deletingLastPathComponent)
        }
        for d in dirs {
            let candidate = (d as NSString).appendingPathComponent("ledger")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), !isDir.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return .success(candidate)
            }
        }
        return .failure(
            HarnessError(
                "the `ledger` executable was not found next to the test bundle (looked in: \(dirs.joined(separator: ", "))); "
                    + "build it first with `swift build --build-tests`, or set LEDGER_CLI_BINARY"))
    }()

    /// The child's environment: ours without LEDGER_PASSPHRASE, plus `passphrase` when given.
    static func environment(passphrase: String?, extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LEDGER_PASSPHRASE")
        if let passphrase { env["LEDGER_PASSPHRASE"] = passphrase }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs `ledger args…` to completion (killing it after `timeout` seconds).
    @discardableResult
    static func run(
        _ args: [String], stdin: Data? = nil, passphrase: String? = CLI.passphrase, in directory: String? = nil, timeout: TimeInterval = 60
    ) throws -> CLIResult {
        let child = try Child(arguments: args, stdin: stdin, passphrase: passphrase, directory: directory)
        return try child.wait(timeout: timeout)
    }
}

/// A running `ledger` process.
final class Child: @unchecked Sendable {
    let arguments: [String]
    let process = Process()
    private let outPath: String
    private let errPath: String
    private let inPath: String?
    private let exited = DispatchSemaphore(value: 0)
    private let started = Date()
    private var handles: [FileHandle] = []

    init(executable: String? = nil, arguments: [String], stdin: Data?, passphrase: String?, directory: String?) throws {
        self.arguments = arguments
        let scratch = NSTemporaryDirectory() + "ledger-cli-io-" + UUID().uuidString
        outPath = scratch + ".out"
        errPath = scratch + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        if let stdin {
            inPath = scratch + ".in"
            _ = FileManager.default.createFile(atPath: inPath!, contents: stdin)
        } else {
            inPath = nil
        }
        process.executableURL = URL(fileURLWithPath: try executable ?? CLI.binary())
        process.arguments = arguments
        process.environment = CLI.environment(passphrase: passphrase)
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: outPath)))
        handles.append(try FileHandle(forWritingTo: URL(fileURLWithPath: errPath)))
        process.standardOutput = handles[0]
        process.standardError = handles[1]
        if let inPath {
            handles.append(try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath)))
            process.standardInput = handles[2]
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        let done = exited
        process.terminationHandler = { _ in done.signal() }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// What the child has written to standard output so far.
    var output: String { String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self) }

    /// Sends SIGKILL.
    func kill9() { _ = kill(process.processIdentifier, SIGKILL) }

    /// Waits for the child to end; kills it and throws when it outlives `timeout`.
    func wait(timeout: TimeInterval = 60) throws -> CLIResult {
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill9()
            _ = exited.wait(timeout: .now() + 10)
            cleanup()
            throw HarnessError("`ledger \(arguments.joined(separator: " "))` did not finish within \(timeout) s and was killed")
        }
        // terminationHandler may fire a moment before the status is published.
        while process.isRunning { usleep(1000) }
        let result = CLIResult(
            arguments: arguments,
            status: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal,
            stdout: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self),
            duration: Date().timeIntervalSince(started))
        cleanup()
        return result
    }

    private func cleanup() {
        for h in handles { try? h.close() }
        handles = []
        for p in [outPath, errPath, inPath].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: p) }
    }
}

/// A temporary directory with keys and a ledger, and shortcuts for the common commands.
/// Each helper `#expect`s success, so a broken step is reported where it happened.
final class Sandbox: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let origin: String
    /// The store the ledger lives in.
    let store: StoreKind
    /// The ledger's place: a file in `dir` (SQLite), or a fresh database in the test cluster
    /// (PostgreSQL), dropped when the sandbox goes.
    let place: TestPlace
    /// The `--ledger` value: the file path (SQLite) or the database URL (PostgreSQL).
    let ledger: String
    /// Key ids by key file name ("admin", "archivist", …).
    private(set) var keyIDs: [String: String] = [:]
    /// Further places (import targets), kept alive as long as the sandbox.
    private var others: [TestPlace] = []

    init(store: StoreKind = .sqlite, origin: String = "test.example/cli-\(UUID().uuidString.prefix(8).lowercased())") throws {
        self.origin = origin
        self.store = store
        place = try TestPlace(store, dir: dir, file: "archive.ledger")
        ledger = place.location.description
    }

    /// What proves a refusal changed nothing: the hashes of the ledger file and its WAL (SQLite),
    /// or of a `pg_dump` of the database (PostgreSQL).
    func fingerprint() throws -> [String] { try place.fingerprint() }

    /// A new place of the sandbox's store holding no ledger yet, for `ledger import` or `init`:
    /// a path in the sandbox that does not exist (SQLite) or a fresh empty database (PostgreSQL).
    func newPlace(_ file: String) throws -> TestPlace {
        let p = try TestPlace(store, dir: dir, file: file)
        others.append(p)
        return p
    }

    func path(_ name: String) -> String { dir.file(name) }
    func keyPath(_ name: String) -> String { dir.file("\(name).key") }
    func keyID(_ name: String) -> String { keyIDs[name] ?? "" }

    /// Runs `ledger` with the sandbox as working directory.
    @discardableResult
    func run(_ args: [String], stdin: Data? = nil, passphrase: String? = CLI.passphrase, timeout: TimeInterval = 60) throws -> CLIResult {
        try CLI.run(args, stdin: stdin, passphrase: passphrase, in: dir.path, timeout: timeout)
    }

    /// `ledger key new`; returns the key id it printed.
    @discardableResult
    func newKey(_ name: String, holder: String? = nil, encrypted: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        var args = ["key", "new", "--name", holder ?? "\(name.capitalized) holder", "--out", keyPath(name)]
        args += encrypted ? ["--kdf", "interactive"] : ["--unencrypted"]
        let r = try run(args)
        try #require(r.status == 0, "key new failed: \(r)", sourceLocation: sourceLocation)
        let id = try #require(Self.field("key id", in: r.stdout), "key new printed no key id: \(r)", sourceLocation: sourceLocation)
        keyIDs[name] = id
        return id
    }

    /// `ledger init` with the admin key; returns the genesis key id printed.
    @discardableResult
    func initLedger(admin: String = "admin", sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try run(["init", "--ledger", ledger, "--origin", origin, "--admin-key", keyPath(admin)])
        try #require(r.status == 0, "init failed: \(r)", sourceLocation: sourceLocation)
        return try #require(Self.field("genesis key id", in: r.stdout), "init printed no genesis key id: \(r)", sourceLocation: sourceLocation)
    }

    /// `ledger key enroll`; returns the entry index printed.
    @discardableResult
    func enroll(_ name: String, roles: String, by admin: String = "admin", sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
        let r = try run(["key", "enroll", "--ledger", ledger, "--key", keyPath(admin), "--public-key-file", keyPath(name), "--roles", roles])
        try #require(r.status == 0, "key enroll failed: \(r)", sourceLocation: sourceLocation)
        let words = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return try #require(words.last.flatMap { UInt64($0) }, "key enroll printed no index: \(r)", sourceLocation: sourceLocation)
    }

    /// The usual cast: admin, archivist and log keys, a ledger, archivist and log keys enrolled.
    func standardSetup(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try newKey("admin", sourceLocation: sourceLocation)
        try newKey("archivist", sourceLocation: sourceLocation)
        try newKey("log", sourceLocation: sourceLocation)
        try initLedger(sourceLocation: sourceLocation)
        try enroll("archivist", roles: "archivist", sourceLocation: sourceLocation)
        try enroll("log", roles: "log", sourceLocation: sourceLocation)
    }

    /// Writes `text` to a file in the sandbox and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = dir.file(name)
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    /// Appends events signed by `key`; expects success and returns the printed indexes.
    @discardableResult
    func append(_ events: [String], key: String = "archivist", sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt64] {
        let file = write("append-\(UUID().uuidString).jsonl", events.joined(separator: "\n") + "\n")
        let r = try run(["append", "--ledger", ledger, "--key", keyPath(key), "--batch", file])
        try #require(r.status == 0, "append failed: \(r)", sourceLocation: sourceLocation)
        return r.lines.compactMap { $0.split(separator: " ").last.flatMap { UInt64($0) } }
    }

    /// `ledger verify --json`: the report object (expects exit 0).
    func verifiedSize(trust: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
        var args = ["verify", "--ledger", ledger, "--json"]
        if let trust { args += ["--trust", trust] }
        let r = try run(args)
        try #require(r.status == 0, "verify failed: \(r)", sourceLocation: sourceLocation)
        let o = try #require(try r.jsonLines().first, sourceLocation: sourceLocation)
        #expect(o["ok"] as? Bool == true, sourceLocation: sourceLocation)
        return try #require((o["size"] as? NSNumber)?.uint64Value, "verify --json has no size: \(r)", sourceLocation: sourceLocation)
    }

    /// `ledger log --json` output (raw text; expects exit 0).
    func logJSON(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try run(["log", "--ledger", ledger, "--json", "--limit", "100000"])
        try #require(r.status == 0, "log failed: \(r)", sourceLocation: sourceLocation)
        return r.stdout
    }

    /// The value after `label:` on a line of `text` (e.g. "key id:     abcd…").
    static func field(_ label: String, in text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(label + ":") {
            let v = line.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces)
            return v.split(separator: " ").first.map(String.init)
        }
        return nil
    }
}

/// Builds event JSON the way an archivist writes it.
enum EventJSON {
    /// An event; without `body`, a minimal valid body for `type` (see `defaultBody`).
    static func make(
        type: String = "incident.reported", subject: String, expects: Any = 0, body: [String: Any]? = nil, id: String? = nil,
        extra: [String: Any] = [:]
    ) -> String {
        var o: [String: Any] = ["type": type, "subject": subject, "expects": expects, "body": body ?? defaultBody(type: type, expects: expects)]
        if let id { o["id"] = id }
        for (k, v) in extra { o[k] = v }
        let data = try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A minimal body the archive accepts for `type` (docs/EVENTS.md). A correction's new title
    /// names `expects`, so successive corrections of one incident always change something.
    /// `casualties.reported` cites `source:src-1`, which must be registered first. Types outside
    /// the archive get an incident report's body.
    static func defaultBody(type: String, expects: Any = 0) -> [String: Any] {
        switch type {
        case "incident.corrected": return correctionBody(title: "Corrected \(expects)")
        case "facility.registered": return ["names": ["en": "Hospital X"], "type": "hospital"]
        case "source.registered": return ["publisher": "SAMS", "title": "Report", "lang": "en", "type": "report"]
        case "actor.registered": return ["names": ["en": "Air force"], "type": "state-forces"]
        case "casualties.reported": return ["source": "source:src-1", "category": "killed", "min": 1, "max": 2]
        case "incident.retracted", "incident.reinstated": return ["reason": "fixture"]
        default: return reportBody()
        }
    }

    /// A valid `incident.reported` body: `title` (language → text), a date, a place, and
    /// optionally a summary (language → text, each at most 5000 code points; see `padding`).
    static func reportBody(title: [String: String] = ["en": "An event"], summary: [String: String]? = nil) -> [String: Any] {
        var b: [String: Any] = ["title": title, "occurred": "2019-05-05", "place": ["admin1": "Idlib"]]
        if let summary { b["summary"] = summary }
        return b
    }

    /// A valid `incident.corrected` body changing the English title (and the summary, when given).
    static func correctionBody(title: String, summary: [String: String]? = nil, reason: String = "fixture correction") -> [String: Any] {
        var changes: [String: Any] = ["title": ["en": title]]
        if let summary { changes["summary"] = summary }
        return ["changes": changes, "reason": reason]
    }

    /// `count` copies of `fill` as language texts for a summary, spread evenly over `parts`
    /// languages ("en", "en-x-p1", "en-x-p2", …; by default as few as keep each text within 5000
    /// code points), so a valid body can be padded to any size. With a fixed `parts`, the JSON
    /// grows by exactly one byte per added character (for measuring against a skeleton).
    static func padding(_ count: Int, fill: Character = "x", parts: Int? = nil) -> [String: String] {
        let n = max(1, parts ?? (count + 4999) / 5000)
        var texts: [String: String] = [:]
        for i in 0..<n {
            texts[i == 0 ? "en" : "en-x-p\(i)"] = String(repeating: fill, count: count / n + (i < count % n ? 1 : 0))
        }
        return texts
    }

    /// A fresh lowercase UUIDv7 (RFC 9562): 48-bit milliseconds, version 7, variant 10.
    static func uuidv7() -> String {
        var b = [UInt8](repeating: 0, count: 16)
        for i in b.indices { b[i] = UInt8.random(in: 0...255) }
        let ms = UInt64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        b[6] = 0x70 | (b[6] & 0x0F)
        b[8] = 0x80 | (b[8] & 0x3F)
        let h = b.map { String(format: "%02x", $0) }.joined()
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}

/// The bytes of a ledger file and its write-ahead log, for byte-for-byte comparisons.
struct FileSnapshot: Equatable {
    var main: Data?
    /// The -wal file; an absent and an empty WAL are the same state.
    var wal: Data

    init(_ path: String) {
        main = FileManager.default.contents(atPath: path)
        wal = FileManager.default.contents(atPath: path + "-wal") ?? Data()
    }

    /// A short account of how `other` differs from this snapshot (for failure messages).
    func difference(to other: FileSnapshot) -> String {
        var parts: [String] = []
        switch (main, other.main) {
        case (nil, nil): break
        case (nil, _): parts.append("the file appeared")
        case (_, nil): parts.append("the file disappeared")
        case (let a?, let b?) where a != b:
            var offsets: [Int] = []
            for i in 0..<min(a.count, b.count) where a[i] != b[i] {
                offsets.append(i)
                if offsets.count == 12 { break }
            }
            parts.append("main file changed: \(a.count) → \(b.count) bytes, first differing byte offsets \(offsets)")
        default: break
        }
        if wal != other.wal { parts.append("WAL changed: \(wal.count) → \(other.wal.count) bytes") }
        return parts.isEmpty ? "identical" : parts.joined(separator: "; ")
    }
}

/// Runs SQL against a SQLite file with the sqlite3 command-line shell, or Python's sqlite3 module.
enum SQLTool {
    private static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static let sqlite3 = which("sqlite3")
    static let python3 = which("python3")
    static var isAvailable: Bool { sqlite3 != nil || python3 != nil }

    /// Runs `sql` (one or more statements) and returns the rows of the last one, columns joined by "|".
    @discardableResult
    static func run(_ database: String, _ sql: String) throws -> String {
        let r: CLIResult
        if let sqlite3 {
            let c = try Child(executable: sqlite3, arguments: ["-batch", "-bail", database, sql], stdin: nil, passphrase: nil, directory: nil)
            r = try c.wait(timeout: 30)
        } else if let python3 {
            let script = """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1], isolation_level=None)
                rows = []
                for stmt in [s for s in sys.argv[2].split(';\\n')]:
                    if stmt.strip():
                        rows = c.execute(stmt).fetchall()
                for r in rows:
                    print('|'.join('' if v is None else str(v) for v in r))
                c.close()
                """
            let c = try Child(executable: python3, arguments: ["-c", script, database, sql], stdin: nil, passphrase: nil, directory: nil)
            r = try c.wait(timeout: 30)
        } else {
            throw HarnessError("neither the sqlite3 shell nor python3 is installed; cannot edit SQLite files")
        }
        guard r.status == 0, !r.signaled else { throw HarnessError("SQL failed on \(database): \(sql)\n\(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The entry line stored as entry `idx` of the ledger file, as text: what the file gives,
    /// whichever form it keeps it in (`CompactLine`).
    static func entryLine(_ database: String, _ idx: UInt64) throws -> String {
        let hex = try run(database, "SELECT lower(hex(line)) FROM entries WHERE idx = \(idx)")
        guard let stored = Hex.decode(hex) else { throw HarnessError("entry \(idx) of \(database): not hex: \(hex.prefix(40))") }
        return String(decoding: CompactLine.expand(stored), as: UTF8.self)
    }
}

/// Base64 helpers for envelope surgery.
enum Envelopes {
    /// The parsed envelope object on one line of `ledger sign` output.
    static func parse(_ line: String) throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { throw HarnessError("not an envelope: \(line)") }
        return o
    }

    /// The decoded payload of an envelope line.
    static func payload(_ line: String) throws -> Data {
        guard let b64 = try parse(line)["payload"] as? String, let d = Data(base64Encoded: b64) else { throw HarnessError("envelope has no payload") }
        return d
    }

    /// The same envelope line with its payload replaced (signature kept).
    static func replacingPayload(_ line: String, with payload: Data) throws -> String {
        let old = try #require(try parse(line)["payload"] as? String)
        let new = payload.base64EncodedString()
        let range = try #require(line.range(of: "\"payload\":\"\(old)\""))
        return line.replacingCharacters(in: range, with: "\"payload\":\"\(new)\"")
    }
}

/// A value shared between threads behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
