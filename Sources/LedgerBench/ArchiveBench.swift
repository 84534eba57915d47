import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger-bench archive`: the archive's speed on a synthetic archive (made by ArchiveGenerator).
///
/// Rebuild, whole-archive snapshot now and as of earlier moments, one incident as of a moment;
/// each beside its raw limit measured in the same run.
struct ArchiveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "The archive layer on a synthetic archive: rebuild, snapshots as of a moment, one incident as of a moment.",
        discussion: """
            Generates a deterministic campaign-shaped archive of N events (Sources/LedgerBench/ArchiveGenerator.swift, \
            demo keys from fixed seeds), or reuses the ledger at --ledger PATH when it exists, then times the in-memory \
            fold, rebuild, the whole-archive snapshot now and as of 10 %, 50 %, 90 % and 99.9 % of the log, and one \
            incident as of a random size (500 samples), each beside its raw limit measured in the same run (a bare scan \
            of the entry lines, decoding every entry on all cores). Tools/bench-archive.sh runs it; Tools/bench-audit.sh \
            runs it with --only-generate to make the ledger it audits.
            """)

    @Option(
        help: ArgumentHelp("Synthetic archive events to generate (at least 100); ignored when --ledger names an existing file.", valueName: "n"))
    var events = 100_000
    @Option(
        name: .customLong("ledger"),
        help: ArgumentHelp(
            "Ledger file to generate and keep, or to reuse when it exists. Default: a temporary file, removed at the end.", valueName: "path"))
    var path: String?
    @Flag(name: .customLong("only-generate"), help: "Only generate (or open) the ledger; time nothing else.")
    var onlyGenerate = false

    func validate() throws {
        guard events >= 100 else { throw ValidationError("--events must be at least 100") }
        if let path, path.isEmpty { throw ValidationError("--ledger must not be empty") }
    }

    /// Wall time of `body` in seconds.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now()
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    func run() throws {
        let dir = NSTemporaryDirectory() + "ledger-archive-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = path ?? dir + "/synthetic.ledger"
        let cores = System.activeProcessorCount
        print("ledger-bench archive: \(events) synthetic archive events, \(cores) cores, machine \(ProcessInfo.processInfo.hostName)")

        let ledger: Ledger
        if FileManager.default.fileExists(atPath: file) {
            ledger = try Ledger.open(path: file)
            print("reusing \(file): \(try ledger.size()) entries")
        } else {
            var gen: Ledger!
            let t = try Self.time {
                gen = try ArchiveGenerator.generate(events: events, path: file) { done in
                    if done % 100_000 == 0 { FileHandle.standardError.write(Data("generated \(done)\n".utf8)) }
                }
            }
            ledger = gen
            print(String(format: "generated, signed and appended in %.1f s (%.0f events/s, projections included)", t, Double(events) / t))
        }
        if onlyGenerate { return }
        let size = try ledger.size()

        // Raw limits: a bare scan of the entry lines, and decoding every payload (entry line, base64,
        // JSON) on all cores: the wall a rebuild stands against.
        var lines: [[UInt8]] = []
        lines.reserveCapacity(Int(size))
        let tScan = try Self.time { try ledger.forEachBatch(batchSize: 8192) { (b) throws(LedgerError) in for e in b { lines.append(e.line) } } }
        var decoded = 0
        let all = lines
        let tDecode = Self.time {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: cores * 16)
            counts.initialize(repeating: 0)
            defer { counts.deallocate() }
            nonisolated(unsafe) let c = counts
            Parallel.forEachChunk(count: all.count, parallelism: cores) { r in
                var k = 0
                for j in r {
                    if let e = try? EntryLine(bytes: all[j]), let p = try? EventPayload(bytes: e.envelope.payload, requireNFC: false) { k += p.body.count }
                }
                c[(r.lowerBound * cores / max(1, all.count)) * 16] += k
            }
            decoded = counts.reduce(0, +)
        }
        // The in-memory fold alone (no SQLite), one thread, over decoded payloads.
        var payloads: [(UInt64, EventPayload)] = []
        for (j, l) in all.enumerated() {
            if let e = try? EntryLine(bytes: l), let p = try? EventPayload(bytes: e.envelope.payload, requireNFC: false) { payloads.append((UInt64(j), p)) }
        }
        var folded = ArchiveState()
        let tFold = try Self.time { for (j, p) in payloads { try folded.apply(p, index: j) } }
        var replayed = ArchiveState(only: [])
        let tReplay = try Self.time { for (j, p) in payloads { try replayed.apply(p, index: j) } }
        var encodedBytes = 0
        let tEncode = Self.time { for id in folded.sortedIDs { encodedBytes += folded.encoded(id)!.count } }
        print(
            String(
                format: "fold in memory, one thread: %.0f entries/s checked, %.0f entries/s trusted replay; canonical encoding of all states %.3f s",
                Double(size) / tFold, Double(size) / tReplay, tEncode))
        payloads = []
        lines = []
        print(
            String(
                format: "raw: scan %.0f entries/s; decode (entry line + base64 + JSON, %d cores) %.0f entries/s [%d]", Double(size) / tScan, cores,
                Double(size) / tDecode, decoded & 1))

        // Rebuild.
        var report: RebuildReport!
        let tRebuild = try Self.time { report = try ledger.rebuildProjections() }
        let rebuildRate = Double(size) / tRebuild
        print(
            String(
                format: "rebuild: %.2f s, %.0f entries/s (%d entities) = %.0f %% of the decode rate; goal ≥ 200000/s: %@",
                tRebuild, rebuildRate, report.entities, rebuildRate / (Double(size) / tDecode) * 100, rebuildRate >= 200_000 ? "meets" : "MISSES"))

        // Whole-archive snapshots.
        var bytes = 0
        let tNow = try Self.time { bytes = try ledger.snapshot(atSize: nil, asOf: nil).bytes.count }
        print(String(format: "snapshot now: %.3f s, %.1f MB", tNow, Double(bytes) / 1e6))
        for fraction in [0.1, 0.5, 0.9, 0.999] {
            let at = UInt64(Double(size) * fraction)
            var b = 0
            let t = try Self.time { b = try ledger.snapshot(atSize: at, asOf: nil).bytes.count }
            print(
                String(
                    format: "snapshot as of size %llu (%.1f %%): %.3f s, %.1f MB, %.2f× the snapshot now (goal ≤ 1.5×, < 1 s): %@",
                    at, fraction * 100, t, Double(b) / 1e6, t / tNow, t / tNow <= 1.5 && t < 1 ? "meets" : "MISSES"))
        }

        // One incident as of a moment.
        var rng = SplitMix64(seed: 7)
        var ids: [String] = []
        var f = IncidentFilter()
        f.status = "active"
        for s in try ledger.incidents(matching: f) { if let id = s["id"]?.stringValue { ids.append(id) } }
        guard !ids.isEmpty else {
            FileHandle.standardError.write(Data("ledger-bench archive: \(file) holds no active incident to look up as of a moment\n".utf8))
            throw ExitCode.failure
        }
        var times: [Double] = []
        for _ in 0..<500 {
            let id = ids[Int.random(in: 0..<ids.count, using: &rng)]
            let at = UInt64.random(in: 1...size, using: &rng)
            times.append(try Self.time { _ = try ledger.entityState(id, atSize: at) })
        }
        times.sort()
        print(
            String(
                format: "one incident as of a size: mean %.2f ms, p99 %.2f ms, max %.2f ms over 500 (goal < 5 ms): %@",
                times.reduce(0, +) / Double(times.count) * 1000, times[times.count * 99 / 100] * 1000, times.last! * 1000,
                times[times.count * 99 / 100] < 0.005 ? "meets" : "MISSES"))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "peak RSS of the whole run: %.0f MiB", Double(usage.ru_maxrss) / 1024))
    }
}
