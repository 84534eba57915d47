import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerServer
import LedgerStore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `ledger-bench serve`: durable appends posted to `ledger serve` by concurrent clients (group
/// commit) beside the bare one-row durable commit and the ledger's own single append, in the
/// same run (docs/BENCHMARKS.md, "ledger serve").
struct ServeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Durable appends over HTTP with concurrent clients (group commit), beside the bare durable commit, in the same run.",
        discussion: """
            Makes a SQLite ledger with the synthetic generator's keys, runs `ledger serve` in this process on a \
            loopback port, and posts signed incident reports from 1, 4 and 16 client threads (each its own \
            keep-alive connection; every reply must be 201). Beside it, in the same run: bare one-row durable commits \
            of the same entry lines (SQLite WAL, synchronous FULL: one fsync each) and the ledger's own durable single \
            append in this process. The clients share the machine's cores with the server.
            """)

    @Option(help: ArgumentHelp("Posts per client count and round.", valueName: "n"))
    var posts = 2000
    @Option(help: ArgumentHelp("Client thread counts, comma-separated.", valueName: "c,c,..."))
    var clients = "1,4,16"
    @Option(help: ArgumentHelp("Rounds; the best time of each measurement is kept.", valueName: "r"))
    var rounds = 2

    var clientCounts: [Int]? {
        let parts = clients.split(separator: ",").compactMap { Int($0) }
        return parts.isEmpty || parts.contains(where: { $0 < 1 || $0 > 256 }) ? nil : parts
    }

    func validate() throws {
        guard posts >= 16 else { throw ValidationError("--posts must be at least 16") }
        guard clientCounts != nil else { throw ValidationError("--clients must be numbers from 1 to 256, comma-separated") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        typealias S = SuiteBench
        let dir = NSTemporaryDirectory() + "ledger-serve-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("ledger-bench serve: \(posts) posts per measurement, clients \(clients), best of \(rounds) rounds")
        print("machine: \(ProcessInfo.processInfo.hostName), \(System.activeProcessorCount) cores")
        let g = ArchiveGenerator()
        let start = ArchiveGenerator.start
        let (genesis, enrollments) = g.setup(start: start)
        let path = dir + "/serve.ledger"
        let ledger = try Ledger.create(path: path, genesis: genesis)
        _ = try ledger.append(enrollments)
        var number = 20_000_000
        func reports(_ n: Int) -> [Envelope] {
            let drafts = (0..<n).map { i in
                ArchiveGenerator.Draft(
                    type: "incident.reported", subject: "incident:s\(number + i)", expects: 0,
                    body: JSONObject(uniqueMembers: [
                        ("title", .object(JSONObject(uniqueMembers: [("en", .string("Served report \(number + i)"))]))),
                        ("occurred", .string("2019-05-05")), ("place", .object(JSONObject(uniqueMembers: [("admin1", .string("Idlib"))]))),
                    ]), reviewer: false)
            }
            defer { number += n }
            return g.sign(drafts, firstNumber: number, signedAt: start)
        }
        var best: [String: Double] = [:]
        func keep(_ name: String, _ t: Double) { best[name] = min(best[name] ?? .infinity, t) }

        let (server, port) = try Self.serve(path)
        var transactions: [Int: Int] = [:]
        for round in 1...rounds {
            let sample = reports(posts)
            let (rows, states) = try ArchiveGenerator.rawRows(sample, setup: 3, recordedAt: start)
            keep("raw", try RawBaselines.durableCommits(rows: rows, states: states, path: dir + "/raw-\(round).sqlite"))
            let single = reports(posts)
            keep("single", try ArchiveBench.time { for e in single { _ = try ledger.append([e]) } })
            keep(
                "get",
                try ArchiveBench.time {
                    let connection = try HTTPConnection(port: port)
                    defer { connection.close() }
                    for _ in 0..<posts {
                        guard try connection.request("GET", "/v1/log", []).0 == 200 else { throw LedgerError(.io, "GET /v1/log failed") }
                    }
                })
            for c in clientCounts! {
                let envelopes = reports(posts).map { $0.encoded() }
                let before = server.transactionCount
                keep("serve\(c)", try Self.post(envelopes, clients: c, port: port))
                transactions[c] = server.transactionCount - before
            }
            FileHandle.standardError.write(Data("serve bench round \(round) done\n".utf8))
        }
        let raw = S.rate(posts, best["raw"]!)
        let single = S.rate(posts, best["single"]!)
        print("\n| operation | measured | raw limit (same run) | ratio |")
        print("| --- | --- | --- | --- |")
        print("| bare one-row durable commit (WAL, synchronous FULL) | \(S.fmt(raw)) /s | — | — |")
        print("| `GET /v1/log` round trips, 1 client (a read transaction each: the HTTP floor) | \(S.fmt(S.rate(posts, best["get"]!))) /s | — | — |")
        print("| durable single append in this process (sign, verify, commit) | \(S.fmt(single)) /s | \(S.fmt(raw)) /s | \(S.pct(single / raw)) |")
        for c in clientCounts! {
            let r = S.rate(posts, best["serve\(c)"]!)
            let perTx = Double(posts) / Double(max(1, transactions[c] ?? posts))
            print(
                "| posted to `ledger serve`, \(c) client\(c == 1 ? "" : "s") (\(String(format: "%.1f", perTx)) envelopes per transaction) | "
                    + "\(S.fmt(r)) /s | \(S.fmt(raw)) /s | \(S.pct(r / raw)) |")
        }
        server.close()
        try ledger.close()
    }

    /// Runs the server in this process; its port once it listens.
    /// `ledger serve` over the SQLite ledger at `path`, in this process, on a free loopback port.
    static func serve(_ path: String) throws -> (LedgerHTTPServer, Int) {
        var o = ServerOptions()
        o.port = 0
        let server = try LedgerHTTPServer(location: SQLiteLocation(path: path), options: o)
        return (server, try start(server))
    }

    static func start(_ server: LedgerHTTPServer) throws -> Int {
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var address = ""
        Task {
            try await server.application(logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })) { a in
                address = a
                ready.signal()
            }
            .runService(gracefulShutdownSignals: [])
        }
        guard ready.wait(timeout: .now() + 30) == .success, let port = address.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw LedgerError(.io, "the server did not start")
        }
        return port
    }

    /// Posts every envelope, split over `clients` threads with a keep-alive connection each; the
    /// wall time. Every reply must be 201.
    static func post(_ envelopes: [[UInt8]], clients: Int, port: Int) throws -> Double {
        let failures = Mutex<[String]>([])
        let t = ArchiveBench.time {
            // One thread per client (not concurrentPerform, which runs only as many at once as there are cores).
            let done = DispatchGroup()
            for c in 0..<clients {
                done.enter()
                let thread = Thread {
                    defer { done.leave() }
                    do {
                        let connection = try HTTPConnection(port: port)
                        defer { connection.close() }
                        var i = c
                        while i < envelopes.count {
                            let (status, body) = try connection.post("/v1/entries", envelopes[i])
                            if status != 201 { throw LedgerError(.io, "post answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))") }
                            i += clients
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                thread.start()
            }
            done.wait()
        }
        if let first = failures.withLock({ $0.first }) { throw LedgerError(.io, first) }
        return t
    }
}

/// A minimal HTTP/1.1 client over one keep-alive loopback connection (blocking sockets), so the
/// load generator costs little next to the server.
final class HTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { throw LedgerError(.io, "cannot connect to 127.0.0.1:\(port)") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    func close() { _ = Glibc.close(fd) }

    func post(_ path: String, _ body: [UInt8]) throws -> (Int, [UInt8]) { try request("POST", path, body) }

    func request(_ method: String, _ path: String, _ body: [UInt8]) throws -> (Int, [UInt8]) {
        let request =
            Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
            + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw LedgerError(.io, "send failed") }
            sent += n
        }
        // Head, then Content-Length bytes of body.
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: buffer).map { $0 + 4 }
            if headEnd == nil { try fill() }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var length = 0
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        while buffer.count < headEnd! + length { try fill() }
        let reply = Array(buffer[headEnd!..<(headEnd! + length)])
        buffer.removeFirst(headEnd! + length)
        return (status, reply)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { throw LedgerError(.io, "connection closed") }
        buffer += chunk[..<n]
    }

    private static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
