import ArgumentParser
import Dispatch
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger-bench log` (the default subcommand): the signed log alone, beside the raw limits of its parts.
struct LogBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The signed log alone: full verify, bulk import and durable single appends against their raw limits.",
        discussion: """
            Generates N signed `incident.reported` events (demo keys from fixed seeds), then in each round times the raw \
            limits (the bare libsodium verify loop over the same messages on one core and on all cores, a bare SQLite insert \
            of the same rows in one transaction) just before the ledger's own figures: bulk import in batches of 10,000 and \
            a full `verify` of the ledger file. Then M durable single appends (sign, verify, commit) against bare one-row \
            durable commits, and a one-thread breakdown of verify's per-entry work. The best time of the rounds is kept. \
            Run as `ledger-bench [OPTIONS]` too (docs/BENCHMARKS.md: `ledger-bench --events 100000 --rounds 2 --durable 1000`).
            """)

    @Option(help: ArgumentHelp("Number of signed events to generate, import and verify.", valueName: "n"))
    var events = 100_000
    @Option(help: ArgumentHelp("Number of durable single appends (each its own transaction).", valueName: "m"))
    var durable = 2_000
    @Option(help: ArgumentHelp("Rounds of each measurement; the best time is kept.", valueName: "r"))
    var rounds = 3
    @Option(
        help: ArgumentHelp(
            "Working directory for the ledger and raw SQLite files; emptied first and removed at the end. "
                + "Default: a new one in the temporary directory.",
            valueName: "dir"))
    var dir: String?

    func validate() throws {
        guard events >= 1 else { throw ValidationError("--events must be at least 1") }
        guard durable >= 1 else { throw ValidationError("--durable must be at least 1") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        if let dir, dir.isEmpty { throw ValidationError("--dir must not be empty") }
    }

    /// The benchmark ledger's origin.
    static let origin = "bench.example/ledger"
    /// The genesis admin's demo key.
    static let admin = key(1)
    /// The demo key that signs every report.
    static let archivist = key(2)
    /// The signing and record time of every event (2026-01-01).
    static let base = Timestamp(microseconds: 1_767_225_600_000_000)

    /// A demo key from a fixed seed: `n` repeated 32 times.
    static func key(_ n: UInt8) -> Ed25519.PrivateKey { try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: n, count: 32))) }

    /// The `n`th event, signed at the fixed base time with a deterministic id.
    static func envelope(type: String, subject: String, expects: UInt64, body: JSONObject, signer: Ed25519.PrivateKey, n: Int) -> Envelope {
        let payload = EventPayload(
            ledger: origin, id: UUIDv7.deterministic(milliseconds: UInt64(base.microseconds / 1000) + UInt64(n), sequence: UInt64(n)), type: type,
            subject: subject, expects: expects, signedAt: base.signedTimeText, body: body)
        return Envelope.sign(payload: payload.encoded(), with: signer)
    }

    /// The `n`th benchmark report: a new incident with English and Arabic titles and a 140-character summary.
    static func reportEvent(_ n: Int) -> Envelope {
        let body = JSONObject(uniqueMembers: [
            (
                "title",
                .object(
                    JSONObject(uniqueMembers: [
                        ("en", .string("Airstrike on hospital \(n)")), ("ar", .string("غارة على مستشفى \(n)")),
                    ]))
            ),
            ("occurred", .string("2019-05-05")),
            ("place", .object(JSONObject(uniqueMembers: [("admin1", .string("Idlib")), ("town", .string("Kafr Nabl"))]))),
            ("summary", .object(JSONObject(uniqueMembers: [("en", .string(String(repeating: "n", count: 140)))]))),
        ])
        return envelope(type: "incident.reported", subject: "incident:\(n)", expects: 0, body: body, signer: archivist, n: n)
    }

    func run() throws {
        let (admin, archivist, base) = (Self.admin, Self.archivist, Self.base)
        let n = self.events
        let m = self.durable
        let dir = self.dir ?? NSTemporaryDirectory() + "ledger-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cores = System.activeProcessorCount
        let info = ProcessInfo.processInfo
        print("ledger-bench: \(n) events, \(m) durable appends, best of \(rounds) rounds, \(cores) cores")
        print("machine: \(info.hostName), \(info.activeProcessorCount) cores, \(info.physicalMemory >> 30) GiB")

        // Generate the signed events (not timed against anything).
        var generated = [Envelope?](repeating: nil, count: n)
        let genTime = seconds {
            generated.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                Parallel.forEachChunk(count: n, parallelism: cores) { r in for i in r { out[i] = Self.reportEvent(i + 100) } }
            }
        }
        let events = generated.map { $0! }
        let lineSize = EntryLine(index: 1000, recordedAt: base, envelope: events[0]).encoded().count
        print(String(format: "generated and signed in %.2f s; entry line ≈ %d bytes, payload %d bytes", genTime, lineSize, events[0].payload.count))

        // Each measurement runs `rounds` times, the raw limit just before the ledger's own figure so
        // both see the same machine conditions; the best time of each is kept.
        let messages = events.map { Envelope.pae(type: $0.payloadType, body: $0.payload) }
        let sigs = events.map(\.signature)
        let pk = archivist.publicKey
        let rows = events.enumerated().map { i, e in EntryLine(index: UInt64(i), recordedAt: base, envelope: e).encoded() }
        // The projection row each event adds: the new incident's canonical state, keyed by its id.
        let states: [(id: String, state: [UInt8])] = events.enumerated().map { i, e in
            let p = try! EventPayload(bytes: e.payload)
            var archive = ArchiveState()
            _ = try! archive.apply(p, index: UInt64(i))
            return (p.subject, archive.encoded(p.subject)!)
        }
        let adminDescriptor = KeyDescriptor(publicKey: admin.publicKey, name: "Bench admin (demo key)", roles: [.admin])
        let archivistDescriptor = KeyDescriptor(publicKey: archivist.publicKey, name: "Bench archivist (demo key)", roles: [.archivist])
        let genesis = Self.envelope(
            type: EventTypes.genesis, subject: adminDescriptor.keyID, expects: 0,
            body: JSONObject(uniqueMembers: [("admin", .object(adminDescriptor.json))]), signer: admin, n: 0)
        let enrollment = Self.envelope(
            type: EventTypes.keyEnrolled, subject: archivistDescriptor.keyID, expects: 0, body: archivistDescriptor.json, signer: admin, n: 1)

        var best: [String: Double] = [:]
        func keep(_ name: String, _ t: Double) { best[name] = min(best[name] ?? .infinity, t) }
        var ledger: Ledger!
        var path = ""
        var verifyReport: VerifyReport!
        for round in 1...rounds {
            // Raw: bare libsodium verify over the same PAE messages, one core and all cores.
            keep("verify1", seconds { for i in 0..<n { precondition(pk.isValidSignature(sigs[i], for: messages[i])) } })
            keep(
                "verifyAll",
                seconds {
                    Parallel.forEachChunk(count: n, parallelism: cores) { r in
                        for i in r { precondition(pk.isValidSignature(sigs[i], for: messages[i])) }
                    }
                })
            // Raw: bare SQLite insert of rows of the entry-line size, one transaction.
            keep("insert", try RawBaselines.batchedInsert(rows: rows, states: states, path: dir + "/raw-insert-\(round).sqlite"))
            let scan = try RawBaselines.scan(path: dir + "/raw-insert-\(round).sqlite")
            keep("scan", scan.seconds)
            // Bulk import through the ledger: parse, rules, parallel signature checks, entry + Merkle +
            // subject rows, in transactions of 10,000.
            if ledger != nil { try ledger.close() }
            path = dir + "/bench-\(round).ledger"
            ledger = try Ledger.create(path: path, genesis: genesis)
            _ = try ledger.append([enrollment])
            keep(
                "import",
                try seconds {
                    var i = 0
                    while i < n {
                        _ = try ledger.append(Array(events[i..<min(n, i + 10_000)]))
                        i += 10_000
                    }
                })
            // Full verify of the ledger file.
            keep("verify", try seconds { verifyReport = try ledger.verify(trust: adminDescriptor.keyID) })
            FileHandle.standardError.write(Data("round \(round) of \(rounds) done\n".utf8))
        }
        let report = verifyReport!
        // Durable single appends (sign, verify, commit) against bare durable commits of the same rows.
        let durableRows = Array(rows.prefix(m))
        for round in 1...rounds {
            keep("durableRaw", try RawBaselines.durableCommits(rows: durableRows, states: Array(states.prefix(m)), path: dir + "/raw-durable-\(round).sqlite"))
            keep(
                "single",
                try seconds {
                    for j in 0..<m {
                        let e = Self.reportEvent(n + 1000 + round * m + j)
                        let outcome = try ledger.append([e])
                        precondition(outcome.count == 1)
                    }
                })
        }
        let rawVerify1 = Double(n) / best["verify1"]!
        let rawVerifyAll = Double(n) / best["verifyAll"]!
        let rawInsert = Double(n) / best["insert"]!
        let rawScan = Double(n) / best["scan"]!
        let importRate = Double(n) / best["import"]!
        let importRawRate = Double(n) / (best["verifyAll"]! + best["insert"]!)
        let verifyRate = Double(report.size) / best["verify"]!
        let rawDurable = Double(m) / best["durableRaw"]!
        let singleRate = Double(m) / best["single"]!

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)

        func line(_ name: String, _ rate: Double, _ raw: Double, _ rawName: String, _ goal: Double) {
            let ratio = rate / raw
            let mark = ratio >= goal ? "meets" : "MISSES"
            print(
                name.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(
                        format: "%10.0f /s   raw %10.0f /s (%@)   ratio %5.1f %%   goal ≥ %3.0f %% %@", rate, raw, rawName, ratio * 100, goal * 100, mark))
        }

        print("")
        print(
            String(
                format: "raw: Ed25519 verify 1 core %.0f /s, %d cores %.0f /s; SQLite batched insert %.0f events/s (entry row + state row each); "
                    + "durable commit %.0f /s (the same two rows); scan %.0f rows/s",
                rawVerify1, cores, rawVerifyAll, rawInsert, rawDurable, rawScan))
        line("full verify (ledger verify)", verifyRate, rawVerifyAll, "\(cores)-core verify", 0.85)
        line("bulk import (append batches)", importRate, importRawRate, "verify+insert", 0.60)
        line("durable single append", singleRate, rawDurable, "durable commit", 0.50)
        print(String(format: "peak RSS of the whole run: %.0f MiB", Double(usage.ru_maxrss) / 1024))

        // Breakdown of verify's per-entry work on one thread (µs per entry), to show where time goes.
        do {
            let sample = Array(rows.prefix(min(n, 20_000)))
            let k = Double(sample.count)
            var sink = 0
            let tRead = try seconds { try ledger.forEachBatch(batchSize: 8192) { (b) throws(LedgerError) in sink &+= b.count } }
            let tLine = seconds { for r in sample { sink &+= (try? EntryLine(bytes: r))?.envelope.payload.count ?? 0 } }
            let parsedLines = sample.map { try! EntryLine(bytes: $0) }
            let tPayload = seconds { for l in parsedLines { sink &+= (try? EventPayload(bytes: l.envelope.payload))?.subject.utf8.count ?? 0 } }
            let tLeaf = seconds { for r in sample { sink &+= Int(r.withUnsafeBytes { MerkleHash.leaf($0) }.w0 & 1) } }
            let tSig = seconds { for l in parsedLines.prefix(2000) { sink &+= l.envelope.hasValidSignature(by: pk) ? 1 : 0 } }
            print(
                String(
                    format: "verify breakdown, one thread, µs/entry: read %.2f (all %d rows), entry line parse %.2f, payload parse %.2f, "
                        + "leaf hash %.2f, PAE+signature %.2f  [%d]",
                    tRead / Double(report.size) * 1e6, report.size, tLine / k * 1e6, tPayload / k * 1e6, tLeaf / k * 1e6, tSig / 2000 * 1e6, sink & 1))
        }
    }
}

/// Wall time of `body` in seconds.
private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now()
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
