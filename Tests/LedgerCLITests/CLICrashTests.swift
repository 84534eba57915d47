import Foundation
import Testing

/// What the write-ahead log of a ledger held right after a process was killed.
struct WALContents {
    var frames = 0
    /// Valid frames after the last commit frame: pages of a transaction that never committed.
    var uncommittedFrames = 0

    init(path: String) {
        guard let d = FileManager.default.contents(atPath: path + "-wal"), d.count >= 32 else { return }
        let b = [UInt8](d)
        func be32(_ o: Int) -> UInt32 { b[o..<o + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        guard be32(0) & 0xFFFF_FFFE == 0x377F_0682 else { return }
        let pageSize = Int(be32(8) == 1 ? 65536 : be32(8))
        let salt1 = be32(16), salt2 = be32(20)
        var offset = 32
        var sinceCommit = 0
        while offset + 24 + pageSize <= b.count, be32(offset + 8) == salt1, be32(offset + 12) == salt2 {
            frames += 1
            sinceCommit = be32(offset + 4) != 0 ? 0 : sinceCommit + 1
            offset += 24 + pageSize
        }
        uncommittedFrames = sinceCommit
    }
}

@Suite("ledger CLI: crashes and concurrent writers", .serialized)
struct CLICrashTests {
    static let trials = 10

    /// `count` events of about 1 KiB for trial `tag`, signed offline; returns the envelope file.
    private func signedBatch(_ s: Sandbox, tag: String, count: Int, padding: Int = 900) throws -> String {
        let events = (0..<count).map {
            EventJSON.make(
                subject: "incident:\(tag)-\($0)",
                body: EventJSON.reportBody(title: ["en": "Event \($0)"], summary: EventJSON.padding(padding, fill: "n")))
        }
        let signed = try s.run([
            "sign", "--key", s.keyPath("archivist"), "--origin", s.origin, "--batch", s.write("\(tag).jsonl", events.joined(separator: "\n")),
        ])
        try #require(signed.status == 0, "\(signed)")
        return s.write("\(tag).env", signed.stdout)
    }

    @Test("kill -9 during `append --batch`: the ledger holds all of the batch or none of it, and verifies")
    func killDuringBatch() throws {
        let s = try Sandbox()
        try s.standardSetup()
        try s.append([EventJSON.make(subject: "incident:before-crash")])
        let size = try s.verifiedSize()
        // Every trial starts from a fresh copy of this ledger.
        let template = s.path("template.ledger")
        try FileManager.default.copyItem(atPath: s.ledger, toPath: template)
        func restore() throws {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: s.ledger + suffix) }
            try FileManager.default.copyItem(atPath: template, toPath: s.ledger)
        }

        // Calibrate: a debug build appends a few thousand events a second, so a fixed 20,000-event
        // batch would always die long before its transaction writes anything. Size the batch so an
        // uninterrupted append takes about 470 ms (re-estimated after every trial that finishes,
        // shortened when a late kill found nothing written, lengthened when an early kill found the
        // batch committed): the random 50–500 ms kill then lands before, during and after the
        // transaction's writes.
        let pool = try String(contentsOfFile: signedBatch(s, tag: "crash", count: 4000), encoding: .utf8).split(separator: "\n").map(String.init)
        func batchFile(_ n: Int) -> String { s.write("batch-\(n).env", pool.prefix(n).joined(separator: "\n") + "\n") }
        var calibrations: [TimeInterval] = []
        for _ in 0..<2 {
            try restore()
            let timed = try s.run(["append", "--ledger", s.ledger, "--signed", "--batch", batchFile(1000)], timeout: 120)
            try #require(timed.status == 0, "\(timed)")
            calibrations.append(timed.duration)
        }
        var batchSize = min(pool.count, max(300, Int(1000 * 0.47 / max(calibrations.min()!, 0.05))))
        var sizes: [Int] = []

        var finished = 0, killedAfterCommit = 0, killedMidTransaction = 0, killedBeforeWrites = 0
        var notes: [String] = []
        for trial in 0..<Self.trials {
            try restore()
            let n = batchSize
            let batch = batchFile(n)
            sizes.append(n)
            let child = try Child(
                arguments: ["append", "--ledger", s.ledger, "--signed", "--batch", batch], stdin: nil, passphrase: CLI.passphrase, directory: s.dir.path)
            let delay = Int.random(in: 50...500)
            usleep(useconds_t(delay * 1000))
            if child.process.isRunning { child.kill9() }
            let r = try child.wait(timeout: 120)
            let wal = WALContents(path: s.ledger)

            // Read back (read-only, as an auditor would right after the crash).
            let v = try s.run(["verify", "--ledger", s.ledger, "--json"])
            #expect(v.status == 0, "trial \(trial) (kill after \(delay) ms): verify after the kill failed: \(v)")
            guard v.status == 0, let after = (try v.jsonLines().first?["size"] as? NSNumber)?.uint64Value else { continue }
            #expect(
                after == size || after == size + UInt64(n), "trial \(trial): \(size) entries before, \(after) after a batch of \(n): a partial batch is visible"
            )
            let outcome: String
            if r.signaled {
                #expect(r.status == SIGKILL, "\(r)")
                if after > size {
                    killedAfterCommit += 1
                    outcome = "killed after commit"
                    // Committed well before 500 ms: the batch is too short for this machine now.
                    if delay < 450 { batchSize = min(pool.count, n * 6 / 5) }
                } else if wal.uncommittedFrames > 0 {
                    killedMidTransaction += 1
                    outcome = "killed mid-transaction (\(wal.uncommittedFrames) uncommitted WAL frames)"
                } else {
                    killedBeforeWrites += 1
                    outcome = "killed before any page of the batch reached the WAL"
                    // Killed late yet nothing written: the batch is too long for this machine now.
                    if delay >= 300 { batchSize = max(300, n * 4 / 5) }
                }
            } else {
                #expect(r.status == 0, "trial \(trial): append exited on its own but failed: \(r)")
                #expect(after == size + UInt64(n), "trial \(trial): a finished append must have added the whole batch")
                #expect(r.lines.count == n)
                finished += 1
                outcome = "finished in \(Int(r.duration * 1000)) ms"
            }
            notes.append("trial \(trial): \(n) events, kill after \(delay) ms → \(outcome); \(size) → \(after) entries")
            // After a kill, resubmitting the same batch completes it exactly once.
            if r.signaled {
                let again = try s.run(["append", "--ledger", s.ledger, "--signed", "--batch", batch], timeout: 120)
                #expect(again.status == 0, "\(again)")
                #expect(again.lines.count == n)
                #expect(again.lines.allSatisfy { $0.hasPrefix(after > size ? "exists " : "appended ") }, "trial \(trial): \(again.lines.prefix(3))")
                #expect(try s.verifiedSize() == size + UInt64(n))
            } else {
                batchSize = min(pool.count, max(300, Int(Double(n) * 0.47 / max(r.duration, 0.05))))
            }
        }
        let summary =
            "CLICrashTests: \(Self.trials) kill -9 trials of \(sizes.map(String.init).joined(separator: "/"))-event batches (calibration: 1000 "
            + "events in \(calibrations.map { "\(Int($0 * 1000)) ms" }.joined(separator: ", "))): "
            + "\(killedMidTransaction) killed mid-transaction, \(killedBeforeWrites) killed before writing, "
            + "\(killedAfterCommit) killed after commit, \(finished) finished\n  " + notes.joined(separator: "\n  ")
        print(summary)
    }

    @Test("kill -9 while `append` checkpoints its committed batch into the file: the ledger still opens and verifies")
    func killDuringCheckpoint() throws {
        let s = try Sandbox()
        try s.standardSetup()
        let before = try s.verifiedSize()
        let count = 800
        let batch = try signedBatch(s, tag: "cp", count: count, padding: 2000)
        let template = s.path("template.ledger")
        try FileManager.default.copyItem(atPath: s.ledger, toPath: template)
        let initialBytes = try #require(FileManager.default.contents(atPath: template)).count
        var caught = false
        for _ in 0..<5 where !caught {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: s.ledger + suffix) }
            try FileManager.default.copyItem(atPath: template, toPath: s.ledger)
            let child = try Child(
                arguments: ["append", "--ledger", s.ledger, "--signed", "--batch", batch], stdin: nil, passphrase: CLI.passphrase, directory: s.dir.path)
            // In WAL mode the main file only grows when the committed WAL is copied back into it.
            while child.process.isRunning {
                let bytes = ((try? FileManager.default.attributesOfItem(atPath: s.ledger)[.size]) as? NSNumber)?.intValue ?? 0
                if bytes > initialBytes {
                    child.kill9()
                    break
                }
                usleep(200)
            }
            let r = try child.wait(timeout: 120)
            caught = r.signaled
        }
        try #require(caught, "the append finished every time before it could be killed during its checkpoint")
        let wal = WALContents(path: s.ledger)
        #expect(wal.frames > 0, "the committed batch is still in the WAL")
        let v = try s.run(["verify", "--ledger", s.ledger, "--json"])
        #expect(
            v.status == 0,
            "a ledger whose checkpoint was interrupted is intact (SQLite replays the WAL), but the tool refuses it: \(v.stderr)")
        if v.status == 0 {
            #expect((try v.jsonLines().first?["size"] as? NSNumber)?.uint64Value == before + UInt64(count), "the committed batch survived")
        }
        let more = try s.run([
            "append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), s.write("after.json", EventJSON.make(subject: "incident:after")),
        ])
        #expect(more.status == 0, "the ledger accepts appends after the crash: \(more)")
    }

    @Test("readers and writers at once: no spurious refusal while another process checkpoints")
    func readersDuringCheckpoints() throws {
        let s = try Sandbox()
        try s.standardSetup()
        let start = try s.verifiedSize()
        let writers = 2, perWriter = 6
        // About 900 kB per event: a report, then corrections whose summary is refilled with
        // another letter each time (a correction must change every field it names).
        for w in 0..<writers {
            for i in 0..<perWriter {
                let notes = EventJSON.padding(900_000, fill: Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(i))))
                let body =
                    i == 0
                    ? EventJSON.reportBody(title: ["en": "Bulk \(w)"], summary: notes)
                    : EventJSON.correctionBody(title: "Bulk \(w) revision \(i)", summary: notes)
                s.write(
                    "big-\(w)-\(i).json",
                    EventJSON.make(type: i == 0 ? "incident.reported" : "incident.corrected", subject: "incident:bulk-\(w)", expects: i, body: body))
            }
        }
        let failures = Locked<[String]>([])
        let writing = Locked(writers)
        var reads = [Locked<Int>]()
        let group = DispatchGroup()
        var threads: [Thread] = []
        for w in 0..<writers {
            group.enter()
            threads.append(
                Thread {
                    for i in 0..<perWriter {
                        do {
                            let r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), s.path("big-\(w)-\(i).json")], timeout: 90)
                            if r.status != 0 {
                                failures.withLock { $0.append("writer \(w) event \(i): exit \(r.status): \(r.stderr)") }
                                break
                            }
                        } catch { failures.withLock { $0.append("writer \(w): \(error)") }; break }
                    }
                    writing.withLock { $0 -= 1 }
                    group.leave()
                })
        }
        for rd in 0..<2 {
            let count = Locked(0)
            reads.append(count)
            group.enter()
            threads.append(
                Thread {
                    while writing.withLock({ $0 }) > 0, count.withLock({ $0 }) < 300 {
                        count.withLock { $0 += 1 }
                        do {
                            let r = try s.run(["log", "--ledger", s.ledger, "--limit", "1"], timeout: 60)
                            if r.status != 0 { failures.withLock { $0.append("reader \(rd): exit \(r.status): \(r.stderr)") } }
                        } catch { failures.withLock { $0.append("reader \(rd): \(error)") } }
                    }
                    group.leave()
                })
        }
        threads.forEach { $0.start() }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let found = failures.withLock { $0 }
        #expect(
            found.isEmpty,
            "\(found.count) commands failed while other processes wrote (\(reads.map { $0.withLock { $0 } }) reads):\n\(found.joined(separator: "\n"))")
        if found.isEmpty { #expect(try s.verifiedSize() == start + UInt64(writers * perWriter)) }
    }

    @Test("4 concurrent `ledger append` processes, 10 events each on their own subject: all succeed")
    func concurrentAppends() throws {
        let s = try Sandbox()
        try s.standardSetup()
        let start = try s.verifiedSize()
        let workers = 4, perWorker = 10
        for w in 0..<workers {
            for i in 0..<perWorker {
                let body = i == 0 ? EventJSON.reportBody(title: ["en": "Worker \(w)"]) : EventJSON.correctionBody(title: "Worker \(w) seq \(i)")
                s.write(
                    "w\(w)-\(i).json",
                    EventJSON.make(type: i == 0 ? "incident.reported" : "incident.corrected", subject: "incident:worker-\(w)", expects: i, body: body))
            }
        }
        let shared = Locked<[(worker: Int, seq: Int, result: Result<CLIResult, any Error>)]>([])
        let done = DispatchGroup()
        var threads: [Thread] = []
        for w in 0..<workers {
            done.enter()
            let t = Thread {
                for i in 0..<perWorker {
                    let r = Result { try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), s.path("w\(w)-\(i).json")], timeout: 90) }
                    shared.withLock { $0.append((w, i, r)) }
                    if case .success(let c) = r, c.status != 0 { break }  // later events would only be stale
                }
                done.leave()
            }
            threads.append(t)
        }
        threads.forEach { $0.start() }
        #expect(done.wait(timeout: .now() + 120) == .success, "the workers finished")

        let results = shared.withLock { $0 }
        var indexes: [UInt64] = []
        for (w, i, r) in results.sorted(by: { ($0.worker, $0.seq) < ($1.worker, $1.seq) }) {
            switch r {
            case .failure(let e): Issue.record("worker \(w) event \(i): \(e)")
            case .success(let c):
                #expect(c.status == 0, "worker \(w) event \(i) failed: \(c)")
                if c.status == 0, let idx = c.lines.first?.split(separator: " ").last.flatMap({ UInt64($0) }) { indexes.append(idx) }
            }
        }
        #expect(results.count == workers * perWorker)
        #expect(Set(indexes) == Set(start..<start + UInt64(workers * perWorker)), "each append got its own index")
        #expect(try s.verifiedSize() == start + UInt64(workers * perWorker))
        let rows = try s.run(["log", "--ledger", s.ledger, "--json", "--from", String(start)]).jsonLines()
        for w in 0..<workers {
            #expect(rows.filter { $0["subject"] as? String == "incident:worker-\(w)" }.count == perWorker)
        }
    }
}
