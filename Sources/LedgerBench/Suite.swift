import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger-bench suite`: the one benchmark harness (issue 6), every DESIGN.md goal beside its raw limit.
///
/// For each archive size it generates a synthetic campaign-shaped archive (ArchiveGenerator, demo keys
/// from fixed seeds) and times every operation DESIGN.md sets a goal for, each beside its raw limit
/// measured in the same run:
///
/// - bulk append (batches of 10,000) vs two-core libsodium verify + bare SQLite insert of the same rows;
/// - durable single append (sign, verify, commit) vs bare one-row durable commits;
/// - full verify and the offline audit of an export vs the two-core libsodium verify loop;
/// - rebuild vs decoding every entry (two cores);
/// - whole-archive snapshot as of a moment vs the snapshot now;
/// - one incident as of a moment, inclusion and consistency proofs vs bare primary-key lookups;
///
/// then runs the CLI commands in their own processes for wall time and peak memory.
struct SuiteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "The benchmark harness: every DESIGN.md goal at each archive size, beside its raw limit (Tools/bench.sh).",
        discussion: """
            For each size it generates a synthetic campaign-shaped archive (demo keys from fixed seeds) and times bulk \
            append (batches of 10,000), durable single appends, full verify, export, the offline audit of the export, \
            rebuild, whole-archive snapshots as of the middle and the end of the log, one incident as of a moment, and \
            inclusion and consistency proofs, each beside its raw limit measured in the same run (two-core libsodium \
            verify, bare SQLite inserts, durable commits and primary-key lookups, decoding every entry). Then, unless \
            --no-cli, it runs the `ledger` commands in their own processes under /usr/bin/time for wall time and peak \
            memory. Prints Markdown tables. 1,000,000 events take about 20 minutes and 5 GB of memory and disk.
            """)

    /// The parsed options, as `size(_:_:)` reads them.
    struct Options {
        var sizes = [10_000, 100_000, 1_000_000]
        var rounds = 2
        var durable = 1_000
        var dir = NSTemporaryDirectory() + "ledger-suite-\(getpid())"
        var ledgerBinary = (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/ledger"
        var cli = true
        /// The peer's script (`--peer`), or nil.
        var peer: String?
    }

    @Option(
        name: .customLong("sizes"),
        help: ArgumentHelp("Archive sizes to run, in events, comma-separated; each at least 100.", valueName: "n,n,..."))
    var sizeList = "10000,100000,1000000"
    @Option(help: ArgumentHelp("Rounds of each measurement; the best time is kept.", valueName: "r"))
    var rounds = 2
    @Option(help: ArgumentHelp("Durable single appends per round (at least 10).", valueName: "m"))
    var durable = 1_000
    @Option(
        help: ArgumentHelp(
            "Working directory; emptied first and removed at the end. Default: a new one in the temporary directory.", valueName: "dir"))
    var dir: String?
    @Option(
        name: .customLong("ledger-bin"),
        help: ArgumentHelp("The `ledger` executable the CLI timings run. Default: `ledger` beside this executable.", valueName: "path"))
    var ledgerBinary: String?
    @Flag(name: .customLong("no-cli"), help: "Skip the timings of the `ledger` commands in their own processes.")
    var noCLI = false
    @Flag(
        help: ArgumentHelp(
            "Also run the side-by-side peer (the Python eventsourcing library on SQLite, Tools/peer/run.sh) on the same events in the same run."))
    var peer = false
    @Option(
        name: .customLong("peer-script"),
        help: ArgumentHelp("The peer's runner. Default: Tools/peer/run.sh in the current directory.", valueName: "path"))
    var peerScript = "Tools/peer/run.sh"

    /// The sizes of `--sizes`, or nil when one is not a whole number of at least 100.
    var sizes: [Int]? {
        let parts = sizeList.split(separator: ",")
        let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ $0 >= 100 }) else { return nil }
        return sizes
    }

    func validate() throws {
        guard sizes != nil else { throw ValidationError("--sizes must be whole numbers of at least 100, comma-separated (e.g. 10000,100000)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        guard durable >= 10 else { throw ValidationError("--durable must be at least 10") }
        if let dir, dir.isEmpty { throw ValidationError("--dir must not be empty") }
    }

    func run() throws {
        var o = Options()
        o.sizes = sizes ?? o.sizes
        o.rounds = rounds
        o.durable = durable
        if let dir { o.dir = dir }
        if let ledgerBinary { o.ledgerBinary = ledgerBinary }
        o.cli = !noCLI
        if peer {
            guard FileManager.default.fileExists(atPath: peerScript) else {
                throw ValidationError("--peer: \(peerScript) does not exist; run from the repository's top folder or give --peer-script")
            }
            o.peer = peerScript
        }
        try? FileManager.default.removeItem(atPath: o.dir)
        try FileManager.default.createDirectory(atPath: o.dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: o.dir) }
        let p = ProcessInfo.processInfo
        print("ledger-bench suite: sizes \(o.sizes.map(String.init).joined(separator: ", ")), best of \(o.rounds) rounds, \(o.durable) durable appends")
        print("machine: \(p.hostName), \(p.activeProcessorCount) cores, \(p.physicalMemory >> 30) GiB")
        for n in o.sizes { try Self.size(n, o) }
    }

    struct Row {
        var operation: String
        var measured: String
        var raw: String
        var ratio: String
        var goal: String
        var verdict: String
    }

    static func rate(_ count: Int, _ seconds: Double) -> Double { Double(count) / seconds }
    static func fmt(_ v: Double) -> String {
        let n = Int(v.rounded())
        var s = String(n)
        var i = s.count - 3
        while i > 0 { s.insert(",", at: s.index(s.startIndex, offsetBy: i)); i -= 3 }
        return s
    }
    static func ms(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }
    static func pct(_ r: Double) -> String { String(format: "%.1f %%", r * 100) }

    /// The raw verify limit: seconds for the bare two-core libsodium verify loop over `events`
    /// (each signed by one of `signers`), timed anew at each call.
    static func rawVerifyLoop(_ events: [Envelope], signers: [Ed25519.PrivateKey]) -> () -> Double {
        let messages = events.map { Envelope.pae(type: $0.payloadType, body: $0.payload) }
        let byID = Dictionary(uniqueKeysWithValues: signers.map { (KeyID.of($0.publicKey), $0.publicKey) })
        let keys = events.map { byID[$0.keyID]! }
        let cores = System.activeProcessorCount
        return {
            ArchiveBench.time {
                let ok = Counter()
                Parallel.forEachChunk(count: events.count, parallelism: cores) { r in
                    var c = 0
                    for j in r where keys[j].isValidSignature(events[j].signature, for: messages[j]) { c += 1 }
                    ok.add(c)
                }
                precondition(ok.value == events.count)
            }
        }
    }

    static func percentile(_ xs: [Double], _ q: Double) -> Double {
        let s = xs.sorted()
        return s[min(s.count - 1, Int(Double(s.count) * q))]
    }

    static func size(_ n: Int, _ o: Options) throws {
        let cores = System.activeProcessorCount
        let dir = o.dir + "/\(n)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        print("\n## \(fmt(Double(n))) events\n")
        let logKey = ArchiveGenerator.key(9)
        var g = ArchiveGenerator()
        let start = ArchiveGenerator.start
        let (genesis, enrollments) = g.setup(start: start, logKey: logKey)
        var drafts: [ArchiveGenerator.Draft] = []
        drafts.reserveCapacity(n)
        for _ in 0..<n { drafts.append(g.next()) }
        var signed: [Envelope] = []
        let tSign = ArchiveBench.time { signed = g.sign(drafts, firstNumber: 100, signedAt: start) }
        let events = signed
        signed = []
        drafts = []
        // The rows a bare insert writes: each event's entry line and its subject's state after it.
        let (rows, states) = try ArchiveGenerator.rawRows(events, setup: 1 + enrollments.count, recordedAt: start)
        let rawVerify = rawVerifyLoop(events, signers: [g.archivist, g.reviewer])
        let bytes = rows.reduce(0) { $0 + $1.count }
        print(
            String(
                format: "generated and signed %d events in %.1f s; entry lines %.1f MB (%.0f bytes each on average)", n, tSign, Double(bytes) / 1e6,
                Double(bytes) / Double(n)))

        var best: [String: Double] = [:]
        func keep(_ name: String, _ t: Double) { best[name] = min(best[name] ?? .infinity, t) }
        var ledger: Ledger!
        var path = ""
        let rawDB = dir + "/raw.sqlite"
        for round in 1...o.rounds {
            keep("rawVerify", rawVerify())
            try? FileManager.default.removeItem(atPath: rawDB)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: rawDB + suffix) }
            keep("rawInsert", try RawBaselines.batchedInsert(rows: rows, states: states, path: rawDB))
            if let l = ledger {
                try l.close()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            path = dir + "/suite-\(round).ledger"
            ledger = try Ledger.create(path: path, genesis: genesis, clock: SteppingClock(start: start))
            _ = try ledger.append(enrollments)
            keep(
                "append",
                try ArchiveBench.time {
                    var k = 0
                    while k < n {
                        _ = try ledger.append(Array(events[k..<min(n, k + 10_000)]))
                        k += 10_000
                    }
                })
            FileHandle.standardError.write(Data("[\(n)] bulk append round \(round) done\n".utf8))
        }
        let bulkRaw = rate(n, best["rawVerify"]! + best["rawInsert"]!)
        var table: [Row] = []
        let appendRate = rate(n, best["append"]!)
        table.append(
            Row(
                operation: "bulk append (batches of 10,000; projections included)", measured: "\(fmt(appendRate)) events/s",
                raw: "\(fmt(bulkRaw)) /s (2-core verify \(fmt(rate(n, best["rawVerify"]!)))/s + bare insert \(fmt(rate(n, best["rawInsert"]!)))/s)",
                ratio: pct(appendRate / bulkRaw), goal: "≥ 60 %", verdict: appendRate / bulkRaw >= 0.6 ? "met" : "**missed**"))

        // Checkpoint the bulk-appended tree (the older size of the consistency proofs).
        let sizeA = try ledger.size()
        _ = try ledger.checkpoint(signingKey: logKey)

        // Durable single appends: sign, verify, commit, one transaction each.
        // As many as the bare commits can do with the rows there are (both sides the same count).
        let m = min(o.durable, rows.count)
        for round in 1...o.rounds {
            let rawDurable = dir + "/raw-durable-\(round).sqlite"
            keep("rawDurable", try RawBaselines.durableCommits(rows: Array(rows.prefix(m)), states: Array(states.prefix(m)), path: rawDurable))
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
        let durableRate = rate(m, best["durable"]!)
        let durableRaw = rate(m, best["rawDurable"]!)
        table.append(
            Row(
                operation: "durable single append (sign, verify, commit)", measured: "\(fmt(durableRate)) /s",
                raw: "\(fmt(durableRaw)) /s (bare one-row durable commits)",
                ratio: pct(durableRate / durableRaw), goal: "≥ 50 %", verdict: durableRate / durableRaw >= 0.5 ? "met" : "**missed**"))
        let sizeB = try ledger.size()
        _ = try ledger.checkpoint(signingKey: logKey)

        // Full verify of the ledger file.
        let trust = ledger.genesisKeyID
        // The seconds of the best round spent comparing the stored projections with the fold's
        // (the serial tail after the log's checks and the fold, which overlap the signatures).
        var comparing = 0.0
        for _ in 1...o.rounds {
            keep("rawVerify2", rawVerify())
            var compareStart: DispatchTime?
            var compareEnd = DispatchTime.now()
            let t = try ArchiveBench.time {
                _ = try ledger.verify(trust: trust, projectionProgress: { _, _ in if compareStart == nil { compareStart = DispatchTime.now() } })
                compareEnd = DispatchTime.now()
            }
            if t < best["verify"] ?? .infinity, let start = compareStart {
                comparing = Double(compareEnd.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            }
            keep("verify", t)
        }
        let verifyRate = rate(Int(sizeB), best["verify"]!)
        let verifyRaw = rate(n, best["rawVerify2"]!)
        table.append(
            Row(
                operation: "full verify (`ledger verify`: entries, checkpoints, derived tables)",
                measured: "\(fmt(verifyRate)) entries/s (\(String(format: "%.1f of %.1f", comparing, best["verify"]!)) s comparing the projections)",
                raw: "\(fmt(verifyRaw)) /s (2-core libsodium verify)", ratio: pct(verifyRate / verifyRaw), goal: "≥ 70 %",
                verdict: verifyRate / verifyRaw >= 0.70 ? "met" : "**missed**"))

        // Export and the offline audit of the bundle.
        let bag = dir + "/bundle"
        let tExport = try ArchiveBench.time { _ = try ledger.export(to: bag, exportTime: Timestamp(microseconds: 1_767_225_600_000_000)) }
        let rawScanT = try RawBaselines.scan(path: rawDB).seconds
        for _ in 1...o.rounds {
            keep("rawVerify3", rawVerify())
            keep("requiredHashes", try AuditBench.requiredHashSeconds(bag: bag))
            keep(
                "audit",
                try ArchiveBench.time {
                    let report = try BagAudit(directory: bag, trust: trust).run()
                    precondition(report.ok, report.failure?.description ?? "audit failed")
                })
        }
        let auditRate = rate(Int(sizeB), best["audit"]!)
        let auditRaw = rate(n, best["rawVerify3"]!)
        table.append(
            Row(
                operation: "offline audit of the export (`BagAudit`: `ledger audit` without its view fold)", measured: "\(fmt(auditRate)) entries/s",
                raw:
                    "\(fmt(auditRaw)) /s (2-core libsodium verify; with the SHA-256 the bundle requires, at most "
                    + "\(pct(AuditBench.ceiling(raw: best["rawVerify3"]!, hashes: best["requiredHashes"]!, cores: System.activeProcessorCount))))",
                ratio: pct(auditRate / auditRaw), goal: "≥ 85 %",
                verdict: auditRate / auditRaw >= 0.85 ? "met" : "**missed**"))
        table.append(
            Row(
                operation: "export (BagIt bundle, fsynced)", measured: String(format: "%.2f s, %@ entries/s", tExport, fmt(rate(Int(sizeB), tExport))),
                raw: "bare scan of the same rows \(fmt(rate(n, rawScanT)))/s", ratio: pct(rate(Int(sizeB), tExport) / rate(n, rawScanT)), goal: "—",
                verdict: "—"))

        // Rebuild vs decoding every entry on all cores.
        var lines: [[UInt8]] = []
        lines.reserveCapacity(Int(sizeB))
        try ledger.forEachBatch(batchSize: 8192) { (b) throws(LedgerError) in for e in b { lines.append(e.line) } }
        let all = lines
        lines = []
        for _ in 1...o.rounds {
            keep(
                "decode",
                ArchiveBench.time {
                    let ok = Counter()
                    Parallel.forEachChunk(count: all.count, parallelism: cores) { r in
                        var c = 0
                        for j in r {
                            if let e = try? EntryLine(bytes: all[j]), let p = try? EventPayload(bytes: e.envelope.payload, requireNFC: false) {
                                c += p.body.count > 0 ? 1 : 0
                            }
                        }
                        ok.add(c)
                    }
                })
            keep("rebuild", try ArchiveBench.time { _ = try ledger.rebuildProjections() })
        }
        let rebuildRate = rate(Int(sizeB), best["rebuild"]!)
        let decodeRate = rate(Int(sizeB), best["decode"]!)
        table.append(
            Row(
                operation: "rebuild of every projection", measured: "\(fmt(rebuildRate)) events/s",
                raw: "\(fmt(decodeRate)) /s (decode every entry, \(cores) cores)",
                ratio: pct(rebuildRate / decodeRate), goal: "≥ 200,000 events/s", verdict: rebuildRate >= 200_000 ? "met" : "**missed**"))

        // Whole-archive snapshots: now, and as of the middle and the very end of the log.
        for _ in 1...o.rounds { keep("snapNow", try ArchiveBench.time { _ = try ledger.snapshot(atSize: nil, asOf: nil) }) }
        for (label, at) in [("middle", sizeB / 2), ("end − 0.1 %", sizeB - max(1, sizeB / 1000))] {
            var snapBytes = 0
            for _ in 1...o.rounds { keep("snap-\(label)", try ArchiveBench.time { snapBytes = try ledger.snapshot(atSize: at, asOf: nil).bytes.count }) }
            let t = best["snap-\(label)"]!
            table.append(
                Row(
                    operation: "whole-archive snapshot as of size \(fmt(Double(at))) (\(label); \(String(format: "%.1f", Double(snapBytes) / 1e6)) MB)",
                    measured: String(format: "%.3f s", t), raw: String(format: "snapshot now %.3f s", best["snapNow"]!),
                    ratio: String(format: "%.2f×", t / best["snapNow"]!),
                    goal: n >= 1_000_000 ? "< 1 s at 1 M events" : "< 1 s (goal set at 1 M)", verdict: t < 1 ? "met" : "**missed**"))
        }

        // One incident as of a moment, and proofs, against bare primary-key lookups.
        var rng = SplitMix64(seed: 7)
        var f = IncidentFilter()
        f.status = "active"
        // Each incident with the entry that created it, so a moment is drawn from its lifetime.
        let incidents: [(id: String, created: UInt64)] = try ledger.incidents(matching: f).compactMap { s in
            guard let id = s["id"]?.stringValue, let c = s["created"]?.unsignedIntegerValue else { return nil }
            return (id, c)
        }
        let samples = 1000
        var tIncident: [Double] = []
        for _ in 0..<samples {
            let pick = incidents[Int.random(in: 0..<incidents.count, using: &rng)]
            let at = UInt64.random(in: (pick.created + 1)...sizeB, using: &rng)
            var found = false
            tIncident.append(try ArchiveBench.time { found = try ledger.entityState(pick.id, atSize: at) != nil })
            precondition(found, "\(pick.id) as of \(at)")
        }
        let one = try RawBaselines.pointLookups(path: rawDB, groups: (0..<samples).map { _ in [Int.random(in: 0..<n, using: &rng)] })
        table.append(
            Row(
                operation: "one incident as of a moment (\(samples) random)",
                measured: "p50 \(ms(percentile(tIncident, 0.5))), p99 \(ms(percentile(tIncident, 0.99)))",
                raw: "one bare lookup p50 \(ms(percentile(one, 0.5)))", ratio: String(format: "%.0f×", percentile(tIncident, 0.5) / percentile(one, 0.5)),
                goal: "< 5 ms", verdict: percentile(tIncident, 0.99) < 0.005 ? "met (p99)" : "**missed** (p99)"))
        let depth = Int(ceil(log2(Double(sizeB))))
        let lookups = try RawBaselines.pointLookups(path: rawDB, groups: (0..<samples).map { _ in (0..<depth).map { _ in Int.random(in: 0..<n, using: &rng) } })
        var tIncl: [Double] = []
        var tCons: [Double] = []
        for _ in 0..<samples {
            let size = UInt64.random(in: 2...sizeB, using: &rng)
            let index = UInt64.random(in: 0..<size, using: &rng)
            tIncl.append(try ArchiveBench.time { _ = try ledger.inclusionProof(index: index, size: size) })
            let from = UInt64.random(in: 1..<size, using: &rng)
            tCons.append(try ArchiveBench.time { _ = try ledger.consistencyProof(from: from, to: size) })
        }
        for (name, t) in [("inclusion proof", tIncl), ("consistency proof", tCons)] {
            table.append(
                Row(
                    operation: "\(name) (\(samples) random sizes and indexes)", measured: "p50 \(ms(percentile(t, 0.5))), p99 \(ms(percentile(t, 0.99)))",
                    raw: "\(depth) bare lookups p50 \(ms(percentile(lookups, 0.5)))",
                    ratio: String(format: "%.1f×", percentile(t, 0.5) / percentile(lookups, 0.5)),
                    goal: "< 1 ms", verdict: percentile(t, 0.99) < 0.001 ? "met (p99)" : "**missed** (p99)"))
        }

        print("| operation | measured | raw limit in the same run | ratio | goal | verdict |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in table { print("| \(r.operation) | \(r.measured) | \(r.raw) | \(r.ratio) | \(r.goal) | \(r.verdict) |") }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(
            String(
                format: "\nbench process peak RSS so far: %.0f MiB (it holds every signed event, entry line and state in memory)",
                Double(usage.ru_maxrss) / 1024))
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print(
            String(
                format: "ledger file: %.1f MB, %@ entries; checkpoints at %@ and %@", Double(fileSize) / 1e6, fmt(Double(sizeB)), fmt(Double(sizeA)),
                fmt(Double(sizeB))))
        try ledger.close()
        if let script = o.peer {
            FileHandle.standardError.write(Data("[\(n)] the peer runs on the same events\n".utf8))
            let rates = try Peer.run(events: events, dir: dir, rounds: o.rounds, durable: o.durable, script: script)
            Peer.report(
                rates, events: n, bulk: appendRate, bulkCeiling: bulkRaw, durable: durableRate, rawDurable: durableRaw, rebuild: rebuildRate,
                verify: verifyRate, verifyCeiling: verifyRaw)
        }
        var peaks: [String: Int] = [:]
        defer {
            Self.printSpeedGoals(
                bulk: appendRate / bulkRaw, verify: verifyRate / verifyRaw, audit: auditRate / auditRaw, rebuild: rebuildRate, peaksKiB: peaks,
                fileBytes: fileSize, lineBytes: Double(bytes) * Double(sizeB) / Double(n))
        }
        guard o.cli else { return }

        // The CLI commands in their own processes: wall time and peak memory.
        print("\n| command (own process) | wall | peak RSS |")
        print("| --- | --- | --- |")
        let bin = o.ledgerBinary
        let someID = incidents.filter { $0.created < sizeB / 2 }.last?.id ?? incidents[0].id
        let commands: [(String, [String])] = [
            ("ledger verify", [bin, "verify", "--ledger", path, "--trust", trust]),
            ("ledger audit", [bin, "audit", bag, "--trust", trust]),
            ("ledger rebuild", [bin, "rebuild", "--ledger", path]),
            (
                "ledger snapshot --at-size (end − 0.1 %)",
                [bin, "snapshot", "--ledger", path, "--at-size", String(sizeB - max(1, sizeB / 1000)), "--out", dir + "/snap.json"]
            ),
            ("ledger show ID --at-size (middle)", [bin, "show", "--ledger", path, someID, "--at-size", String(sizeB / 2)]),
            ("ledger prove inclusion", [bin, "prove", "inclusion", "--ledger", path, "--index", String(sizeA / 3)]),
            ("ledger prove consistency", [bin, "prove", "consistency", "--ledger", path, "--from", String(sizeA)]),
            ("ledger import (audit, then bulk append of the bundle)", [bin, "import", bag, "--ledger", dir + "/imported.ledger", "--trust", trust]),
        ]
        for (label, argv) in commands {
            let r = Child.run(argv, log: dir + "/stderr.txt")
            guard r.status == 0 else {
                let err = (try? String(contentsOfFile: dir + "/stderr.txt", encoding: .utf8)) ?? ""
                print("| \(label) | failed with exit \(r.status): \(err.prefix(200)) | |")
                continue
            }
            print(String(format: "| %@ | %.3f s | %.0f MiB |", label, r.seconds, Double(r.maxRSSKiB) / 1024))
            peaks[label] = r.maxRSSKiB
        }
    }

    /// The goals of issue 15 ("fold at the hardware's pace"), one verdict line each, from this
    /// size's figures: the ratios above, the commands' peak memory (when they ran) and the
    /// ledger file's size against its entry lines' (the lines of the extra entries counted at
    /// the generated events' average size).
    static func printSpeedGoals(bulk: Double, verify: Double, audit: Double, rebuild: Double, peaksKiB: [String: Int], fileBytes: Int, lineBytes: Double) {
        func line(_ goal: String, _ measured: String, _ met: Bool?) {
            print("goal (issue 15): \(goal): \(measured): \(met.map { $0 ? "met" : "missed" } ?? "not measured")")
        }
        print("")
        line("rebuild ≥ 200,000 events/s", "\(fmt(rebuild)) events/s", rebuild >= 200_000)
        line("ledger verify ≥ 70 % of the 2-core verify rate", pct(verify), verify >= 0.7)
        line("ledger audit ≥ 85 % of the 2-core verify rate", pct(audit), audit >= 0.85)
        line("bulk append ≥ 60 % of 2-core verify + bare insert", pct(bulk), bulk >= 0.6)
        for command in ["ledger rebuild", "ledger verify", "ledger audit"] {
            let kib = peaksKiB[command]
            line("\(command) peak memory ≤ 256 MiB", kib.map { String(format: "%.0f MiB", Double($0) / 1024) } ?? "(--no-cli)", kib.map { $0 <= 256 * 1024 })
        }
        let ratio = Double(fileBytes) / lineBytes
        line(
            "ledger file ≤ 1.5 × its entry lines", String(format: "%.2f × (%.1f MB for %.1f MB of lines)", ratio, Double(fileBytes) / 1e6, lineBytes / 1e6),
            ratio <= 1.5)
    }
}

/// Runs a command in its own process and measures its wall time and peak memory (wait4).
enum Child {
    /// The command runs under `/usr/bin/time`, whose own child is a fresh fork of a small
    /// process: a child spawned straight from this (large) process would be charged this
    /// process's resident set as its peak, since `ru_maxrss` survives exec.
    static func run(_ command: [String], log: String) -> (status: Int32, seconds: Double, maxRSSKiB: Int) {
        let report = log + ".time"
        let argv = ["/usr/bin/time", "-f", "%M", "-o", report] + command
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var pid: pid_t = 0
        let start = DispatchTime.now()
        guard posix_spawn(&pid, argv[0], &actions, nil, cargs, environ) == 0 else { return (127, 0, 0) }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        let t = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        let peak = text.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last ?? 0
        return ((status >> 8) & 0xFF, t, peak)
    }
}
