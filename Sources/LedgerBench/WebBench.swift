import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerServer
import LedgerStore

/// `ledger-bench web`: the web archive's pages over a synthetic archive of N events, each timed as
/// one request on a keep-alive loopback connection, beside the HTTP floor (`GET /v1/log`) in the
/// same run (docs/BENCHMARKS.md, "The web archive").
struct WebBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web",
        abstract: "Web archive pages over a synthetic archive: latency percentiles per page beside the HTTP floor, in the same run.",
        discussion: """
            Makes a SQLite ledger of N synthetic archive events (the suite's generator, with a log key), signs a \
            checkpoint at its size, runs `ledger serve` in this process on a loopback port and requests pages one at a \
            time on one keep-alive connection: incident pages (each with its inclusion proofs) and history pages of \
            incidents drawn at random (seeded), the first page of the incidents table, and the pages that scan every \
            incident (an actor, the charts). Every reply must be 200. Beside them, in the same run, `GET /v1/log` (one \
            read transaction: the HTTP floor). The latency is the client's, so it includes the floor.
            """)

    @Option(help: ArgumentHelp("Archive events in the ledger.", valueName: "n"))
    var events = 100_000
    @Option(help: ArgumentHelp("Requests per page kind (the pages that scan every incident: a hundredth, at least 3).", valueName: "n"))
    var requests = 1000
    @Option(help: ArgumentHelp("Keep the ledger at this path (and reuse it when it exists).", valueName: "path"))
    var keep: String?

    func validate() throws {
        guard events >= 1000 else { throw ValidationError("--events must be at least 1000") }
        guard requests >= 10, requests <= 100_000 else { throw ValidationError("--requests must be from 10 to 100000") }
    }

    func run() throws {
        let dir = NSTemporaryDirectory() + "ledger-web-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("ledger-bench web: \(events) events, \(requests) requests per page kind")
        print("machine: \(ProcessInfo.processInfo.hostName), \(System.activeProcessorCount) cores")
        let path = keep ?? dir + "/web.ledger"
        let logKey = ArchiveGenerator.key(4)
        if !FileManager.default.fileExists(atPath: path) {
            var g = ArchiveGenerator()
            let start = ArchiveGenerator.start
            let (genesis, enroll) = g.setup(start: start, logKey: logKey)
            let ledger = try Ledger.create(path: path, genesis: genesis, clock: SteppingClock(start: start))
            _ = try ledger.append(enroll)
            var done = 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            while done < events {
                let count = min(10_000, events - done)
                let drafts = (0..<count).map { _ in g.next() }
                _ = try ledger.append(g.sign(drafts, firstNumber: 100 + done, signedAt: start))
                done += count
                if isatty(2) != 0 { FileHandle.standardError.write(Data("\rgenerating: \(done)/\(events)".utf8)) }
            }
            if isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
            _ = try ledger.checkpoint(signingKey: logKey)
            try ledger.close()
            print("generated in \(String(format: "%.0f", Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)) s")
        }
        // The incidents to ask for: every current incident id, then a seeded random draw.
        let ledger = try Ledger.open(path: path)
        var ids: [String] = []
        var early: [String] = []  // reported in the first half of the log
        let size = try ledger.size()
        for o in try ledger.entityStates(prefix: "incident:") {
            guard let id = o["id"]?.stringValue else { continue }
            ids.append(id)
            if let created = o["created"]?.unsignedIntegerValue, created < size / 2 { early.append(id) }
        }
        try ledger.close()
        guard !early.isEmpty else { throw LedgerError(.malformed, "the archive holds no incident") }
        print("tree size \(size), \(ids.count) incidents")
        var rng = SplitMix64(seed: 13)
        let (server, port) = try ServeBench.serve(path)
        let connection = try HTTPConnection(port: port)
        defer { connection.close() }
        func measure(_ n: Int, _ path: () -> String) throws -> [Double] {
            var times: [Double] = []
            for _ in 0..<n {
                let p = path()
                let t0 = DispatchTime.now().uptimeNanoseconds
                let (status, _) = try connection.request("GET", p, [])
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                guard status == 200 else { throw LedgerError(.io, "GET \(p) answered \(status)") }
            }
            return times.sorted()
        }
        func name(_ id: String) -> String { String(id.split(separator: ":", maxSplits: 1).last ?? "") }
        func pick() -> String { ids[Int(rng.next() % UInt64(ids.count))] }
        func pickEarly() -> String { early[Int(rng.next() % UInt64(early.count))] }
        _ = try measure(20) { "/incidents/" + name(pick()) }  // warm the caches
        let scans = max(3, requests / 100)
        let rows: [(String, [Double])] = [
            ("`GET /v1/log` (the HTTP floor)", try measure(requests) { "/v1/log" }),
            ("an incident page, with its inclusion proofs", try measure(requests) { "/incidents/" + name(pick()) }),
            ("an incident page as of the middle of the log", try measure(requests) { "/incidents/" + name(pickEarly()) + "?atSize=\(size / 2)" }),
            ("an incident's history page", try measure(requests) { "/incidents/" + name(pick()) + "/history" }),
            ("the incidents table, first page", try measure(scans) { "/incidents" }),
            ("an actor page (scans every incident)", try measure(scans) { "/actors/a0" }),
            ("the charts (scan every incident)", try measure(scans) { "/charts" }),
        ]
        func q(_ t: [Double], _ p: Double) -> String { String(format: "%.2f", t[min(t.count - 1, Int(Double(t.count) * p))]) }
        print("\n| page (\(events) events) | requests | p50 ms | p99 ms | max ms |")
        print("| --- | --- | --- | --- | --- |")
        for (label, t) in rows { print("| \(label) | \(t.count) | \(q(t, 0.5)) | \(q(t, 0.99)) | \(q(t, 1)) |") }
        let incident = rows[1].1
        let p99 = incident[min(incident.count - 1, Int(Double(incident.count) * 0.99))]
        print("\nverdict: incident page p99 \(String(format: "%.2f", p99)) ms, goal < 20 ms: \(p99 < 20 ? "met" : "NOT met")")
        server.close()
    }
}
