import Foundation
import LedgerCore

/// The side-by-side peer of `ledger-bench suite --peer` (issue 17): the Python `eventsourcing`
/// library on SQLite (Tools/peer/peer.py, run through Tools/peer/run.sh in its own virtual
/// environment), given the same events the suite just timed, in the same run.
enum Peer {
    /// The peer's rates (per second) and what it ran on.
    struct Rates {
        var bulk: Double
        var durable: Double
        var replay: Double
        var verify: Double
        var synchronous: Int
        var versions: String
    }

    /// Writes each event's payload (the canonical JSON the ledger signed) as one line, runs the
    /// peer on them, and reads its one-line JSON report.
    static func run(events: [Envelope], dir: String, rounds: Int, durable: Int, script: String) throws -> Rates {
        let input = dir + "/peer-events.jsonl"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(events.reduce(0) { $0 + $1.payload.count + 1 })
        for e in events {
            bytes += e.payload
            bytes.append(0x0A)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, "--events", input, "--rounds", String(rounds), "--durable", String(durable), "--dir", dir + "/peer"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LedgerError(
                .io,
                "the peer (\(script)) failed with exit \(p.terminationStatus) (its messages are above): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        func number(_ k: String) throws -> Double {
            guard let v = (o[k] as? NSNumber)?.doubleValue, v > 0 else { throw LedgerError(.malformed, "the peer's report has no \(k)") }
            return v
        }
        let versions = ((o["versions"] as? [String: String]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return Rates(
            bulk: try number("bulk"), durable: try number("durable"), replay: try number("replay"), verify: try number("verify"),
            synchronous: Int(try number("synchronous")), versions: versions)
    }

    /// The side-by-side table: each row the ledger's rate, the peer's, their ratio and the goal.
    /// A row whose every event must pass a signature check (bulk append, verify) also gives its
    /// ceiling in this run: the bare 2-core libsodium verify rate (`bulkCeiling` adds the bare
    /// inserts), which no append or verify that checks every signature can pass. When the goal
    /// lies above it, the verdict says so: the goal is beyond this machine, not missed by a margin
    /// the code could close.
    static func report(
        _ peer: Rates, events: Int, bulk: Double, bulkCeiling: Double, durable: Double, rawDurable: Double, rebuild: Double, verify: Double,
        verifyCeiling: Double
    ) {
        print("\n### Beside the peer: `eventsourcing` on SQLite, the same \(SuiteBench.fmt(Double(events))) events, this run\n")
        print("peer: \(peer.versions); SQLite synchronous=\(peer.synchronous == 2 ? "FULL" : String(peer.synchronous)), WAL\n")
        print("| operation | IncidentLedger | `eventsourcing` | ratio | goal | ceiling in this run | verdict |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        func row(_ name: String, _ ours: Double, _ theirs: Double, _ goal: Double, ceiling: (rate: Double, what: String)?) {
            let r = ours / theirs
            let needed = goal * theirs
            var verdict = r >= goal ? "met" : "**missed**"
            var limit = "—"
            if let ceiling {
                limit = "\(SuiteBench.fmt(ceiling.rate)) /s (\(ceiling.what)) = \(String(format: "%.2f×", ceiling.rate / theirs)) the peer"
                if r < goal, needed > ceiling.rate {
                    verdict = "**missed: beyond the ceiling** (\(String(format: "%g", goal))× the peer = \(SuiteBench.fmt(needed)) /s)"
                }
            }
            print(
                "| \(name) | \(SuiteBench.fmt(ours)) /s | \(SuiteBench.fmt(theirs)) /s | \(String(format: "%.2f×", r)) | ≥ \(String(format: "%g", goal))× | "
                    + "\(limit) | \(verdict) |")
        }
        row("bulk append, signed and verified", bulk, peer.bulk, 3, ceiling: (bulkCeiling, "2-core verify + bare insert"))
        row("rebuild of projections vs the peer's replay into a table", rebuild, peer.replay, 5, ceiling: nil)
        row("full verify vs the peer's signed replay", verify, peer.verify, 3, ceiling: (verifyCeiling, "2-core verify"))
        let d = durable / rawDurable
        print(
            "| durable single append (sign, verify, commit) | \(SuiteBench.fmt(durable)) /s | \(SuiteBench.fmt(peer.durable)) /s | "
                + "\(String(format: "%.2f×", durable / peer.durable)) | ≥ 90 % of raw | \(SuiteBench.fmt(rawDurable)) /s (bare durable commit); ours \(SuiteBench.pct(d)) | "
                + "\(d >= 0.9 ? "met" : "**missed**") |")
    }
}
