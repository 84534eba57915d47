import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerPostgres
import LedgerStore

/// `ledger-bench postgres`: the ledger on PostgreSQL beside the bare limits of the same server,
/// in the same run (issue 11): bulk append vs bare batched inserts + two-core verify, durable
/// single append vs bare one-transaction-per-row commits, one incident as of a moment.
struct PostgresBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "The ledger on PostgreSQL beside the bare limits of the same server, in the same run (Tools/bench-postgres.sh).",
        discussion: """
            Needs a PostgreSQL server the URL reaches with the right to create databases (Tools/bench-postgres.sh starts a \
            throwaway one). Makes databases bench_raw and bench_ledger there and drops them at the end.
            """)

    @Option(help: ArgumentHelp("URL of a database on the server (postgres://USER@localhost/DB?host=/SOCKET/DIR).", valueName: "url"))
    var url: String
    @Option(name: .customLong("sizes"), help: ArgumentHelp("Archive sizes, in events, comma-separated; each at least 100.", valueName: "n,n,..."))
    var sizeList = "10000,100000"
    @Option(help: ArgumentHelp("Rounds of each measurement; the best time is kept.", valueName: "r"))
    var rounds = 2
    @Option(help: ArgumentHelp("Durable single appends per round (at least 10).", valueName: "m"))
    var durable = 500

    var sizes: [Int]? {
        let parts = sizeList.split(separator: ",")
        let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ $0 >= 100 }) else { return nil }
        return sizes
    }

    func validate() throws {
        guard sizes != nil else { throw ValidationError("--sizes must be whole numbers of at least 100, comma-separated") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard durable >= 10 else { throw ValidationError("--durable must be at least 10") }
        guard PostgresLocation.isURL(url) else { throw ValidationError("--url must be a postgres:// URL") }
    }

    func run() throws {
        let p = ProcessInfo.processInfo
        print("ledger-bench postgres: sizes \(sizeList), best of \(rounds) rounds, \(durable) durable appends")
        print("machine: \(p.hostName), \(p.activeProcessorCount) cores, \(p.physicalMemory >> 30) GiB")
        defer {
            try? PostgresRawBaselines.dropDatabase(adminURL: url, name: "bench_raw")
            try? PostgresRawBaselines.dropDatabase(adminURL: url, name: "bench_ledger")
        }
        for n in sizes! { try size(n) }
    }

    func size(_ n: Int) throws {
        typealias S = SuiteBench
        print("\n## \(S.fmt(Double(n))) events on PostgreSQL\n")
        let logKey = ArchiveGenerator.key(9)
        var g = ArchiveGenerator()
        let start = ArchiveGenerator.start
        let (genesis, enrollments) = g.setup(start: start, logKey: logKey)
        var drafts: [ArchiveGenerator.Draft] = []
        for _ in 0..<n { drafts.append(g.next()) }
        let events = g.sign(drafts, firstNumber: 100, signedAt: start)
        let (rows, states) = try ArchiveGenerator.rawRows(events, setup: 1 + enrollments.count, recordedAt: start)
        let rawVerify = S.rawVerifyLoop(events, signers: [g.archivist, g.reviewer])
        var best: [String: Double] = [:]
        func keep(_ name: String, _ t: Double) { best[name] = min(best[name] ?? .infinity, t) }
        let rawURL = try PostgresRawBaselines.createDatabase(adminURL: url, name: "bench_raw")
        var ledger: Ledger!
        // Statements the storage sent (each one a round trip), per event of the measured runs.
        var bulkStatements = 0
        var durableStatements = 0
        for round in 1...rounds {
            keep("rawVerify", rawVerify())
            keep("rawInsert", try PostgresRawBaselines.batchedInsert(rows: rows, states: states, url: rawURL))
            if let l = ledger { try l.close() }
            let ledgerURL = try PostgresRawBaselines.createDatabase(adminURL: url, name: "bench_ledger")
            ledger = try Ledger.create(at: try PostgresLocation(url: ledgerURL), genesis: genesis, clock: SteppingClock(start: start))
            _ = try ledger.append(enrollments)
            let sentBefore = PostgresStatistics.statementsSent
            keep(
                "append",
                try ArchiveBench.time {
                    var k = 0
                    while k < n {
                        _ = try ledger.append(Array(events[k..<min(n, k + 10_000)]))
                        k += 10_000
                    }
                })
            bulkStatements = PostgresStatistics.statementsSent - sentBefore
            FileHandle.standardError.write(Data("[\(n)] PostgreSQL bulk append round \(round) done\n".utf8))
        }
        var table: [S.Row] = []
        let bulkRaw = S.rate(n, best["rawVerify"]! + best["rawInsert"]!)
        let appendRate = S.rate(n, best["append"]!)
        table.append(
            S.Row(
                operation: "bulk append on PostgreSQL (batches of 10,000; projections included)", measured: "\(S.fmt(appendRate)) events/s",
                raw:
                    "\(S.fmt(bulkRaw)) /s (2-core verify \(S.fmt(S.rate(n, best["rawVerify"]!)))/s + bare batched insert \(S.fmt(S.rate(n, best["rawInsert"]!)))/s)",
                ratio: S.pct(appendRate / bulkRaw), goal: "≥ 50 %", verdict: appendRate / bulkRaw >= 0.5 ? "met" : "**missed**"))

        // As many as the bare commits can do with the rows there are (both sides the same count).
        let m = min(durable, rows.count)
        for round in 1...rounds {
            keep("rawDurable", try PostgresRawBaselines.durableCommits(rows: Array(rows.prefix(m)), states: Array(states.prefix(m)), url: rawURL))
            let sentBefore = PostgresStatistics.statementsSent
            defer { durableStatements = PostgresStatistics.statementsSent - sentBefore }
            keep(
                "durable",
                try ArchiveBench.time {
                    for j in 0..<m {
                        let number = 10_000_000 + round * m + j
                        let e = g.durableReport(number, signedAt: start)
                        let outcome = try ledger.append(e)
                        precondition(outcome.count == 1)
                    }
                })
        }
        let durableRate = S.rate(m, best["durable"]!)
        let durableRaw = S.rate(m, best["rawDurable"]!)
        table.append(
            S.Row(
                operation: "durable single append on PostgreSQL (sign, verify, commit)", measured: "\(S.fmt(durableRate)) /s",
                raw: "\(S.fmt(durableRaw)) /s (bare one-transaction-per-row commits)", ratio: S.pct(durableRate / durableRaw), goal: "≥ 50 %",
                verdict: durableRate / durableRaw >= 0.5 ? "met" : "**missed**"))

        // One incident as of a moment (`show --as-of`).
        let size = try ledger.size()
        var rng = SplitMix64(seed: 7)
        var f = IncidentFilter()
        f.status = "active"
        let incidents: [(id: String, created: UInt64)] = try ledger.incidents(matching: f).compactMap { s in
            guard let id = s["id"]?.stringValue, let c = s["created"]?.unsignedIntegerValue else { return nil }
            return (id, c)
        }
        var t: [Double] = []
        for _ in 0..<1000 {
            let pick = incidents[Int.random(in: 0..<incidents.count, using: &rng)]
            let at = UInt64.random(in: (pick.created + 1)...size, using: &rng)
            var found = false
            t.append(try ArchiveBench.time { found = try ledger.entityState(pick.id, atSize: at) != nil })
            precondition(found)
        }
        table.append(
            S.Row(
                operation: "one incident as of a moment on PostgreSQL (`show --as-of`, 1,000 random)",
                measured: "p50 \(S.ms(S.percentile(t, 0.5))), p99 \(S.ms(S.percentile(t, 0.99)))", raw: "—", ratio: "—", goal: "p99 < 5 ms",
                verdict: S.percentile(t, 0.99) < 0.005 ? "met (p99)" : "**missed** (p99)"))
        try ledger.close()
        print("| operation | measured | raw limit (same run) | ratio | goal | verdict |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in table { print("| \(r.operation) | \(r.measured) | \(r.raw) | \(r.ratio) | \(r.goal) | \(r.verdict) |") }
        print(
            "\nStatements sent by the storage (each a round trip): bulk append \(String(format: "%.3f", Double(bulkStatements) / Double(n))) per event "
                + "(\(bulkStatements) for \(n)), durable single append \(String(format: "%.2f", Double(durableStatements) / Double(m))) per append; "
                + "the bare baselines: 1 per 10,000 rows batched (unnest arrays), 4 per durable commit")
    }
}
