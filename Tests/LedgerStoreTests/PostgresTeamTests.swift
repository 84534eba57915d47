import Dispatch
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerPostgres
import LedgerStore
import LedgerTesting
import Synchronization
import Testing

/// PostgreSQL as a team's store: writers on several connections at once, a reader tailing the
/// log, the server going away. Runs only with the test cluster (Tools/test.sh).
@Suite("PostgreSQL: concurrent writers, a tailing reader, the server going away", .enabled(if: TestCluster.adminURL != nil))
final class PostgresTeamTests {
    let dir = TemporaryDirectory()

    @Test("4 writers (a third of their batches rolled back after their rows were sent to the server) and a tailing reader: dense indexes, each seen once")
    func writersAndTailingReader() throws {
        let place = try TestPlace(.postgres, dir: dir)
        // Every row is sent as it is written (not held to COMMIT), so the rolled-back batches'
        // rows reach the server before the transaction fails.
        var eager = try #require(place.location as? PostgresLocation)
        eager.writeBatchRows = 1
        let writerLocation = eager
        let setup = try StoreFixtures.standardLedger(at: place.location, clock: ManualClock())
        try setup.close()
        let writers = 4
        let batchesPerWriter = 12
        let batchSize = 5
        let acknowledged = Mutex<[UInt64]>([])
        let refusals = Mutex(0)
        let failures = Mutex<[String]>([])
        let writing = Atomic<Int>(writers)
        let seen = Mutex<[UInt64]>([])

        // The reader: `entries after N` again and again, from its own connection, until the
        // writers are done and it has caught up; any index other than N + 1 is a skip.
        let reader = Thread {
            do {
                let l = try Ledger.open(at: place.location, readOnly: true)
                defer { try? l.close() }
                var next: UInt64 = 0
                var idleAfterDone = 0
                while idleAfterDone < 3 {
                    let rows = try l.logRows(from: next, limit: 7)
                    for r in rows {
                        seen.withLock { $0.append(r.index) }
                        if r.index != next { failures.withLock { $0.append("reader expected \(next), got \(r.index)") } }
                        next = r.index + 1
                    }
                    if rows.isEmpty {
                        if writing.load(ordering: .acquiring) == 0 { idleAfterDone += 1 }
                        usleep(2000)
                    }
                }
            } catch {
                failures.withLock { $0.append("reader: \(error)") }
            }
        }
        reader.start()

        let group = DispatchGroup()
        for w in 0..<writers {
            group.enter()
            Thread {
                defer {
                    writing.subtract(1, ordering: .releasing)
                    group.leave()
                }
                do {
                    let l = try Ledger.open(at: writerLocation)
                    defer { try? l.close() }
                    for b in 0..<batchesPerWriter {
                        let base = UInt64(10_000 * (w + 1) + 100 * b)
                        var batch = (0..<batchSize).map { Fixtures.report(subject: "incident:w\(w)-b\(b)-\($0)", n: base + UInt64($0)) }
                        let rollback = b % 3 == 2
                        if rollback {
                            // A bad signature on the last event: found after every row was written, so the whole transaction rolls back.
                            let at = batch[batchSize - 1].payload.firstRange(of: Array("Report".utf8))!
                            batch[batchSize - 1].payload[at.lowerBound + 1] = UInt8(ascii: "0")
                        }
                        do throws(LedgerError) {
                            let outcomes = try l.append(batch)
                            if rollback { failures.withLock { $0.append("writer \(w) batch \(b): a bad batch was accepted") } }
                            acknowledged.withLock { $0 += outcomes.map(\.index) }
                        } catch {
                            if rollback && error.code == .refused {
                                refusals.withLock { $0 += 1 }
                            } else {
                                failures.withLock { $0.append("writer \(w) batch \(b): \(error)") }
                            }
                        }
                    }
                } catch {
                    failures.withLock { $0.append("writer \(w): \(error)") }
                }
            }.start()
        }
        group.wait()
        while reader.isExecuting || !reader.isFinished { usleep(10_000) }

        #expect(failures.withLock { $0 } == [])
        let l = try Ledger.open(at: place.location)
        let size = try l.size()
        let acked = acknowledged.withLock { $0 }.sorted()
        #expect(refusals.withLock { $0 } == writers * (batchesPerWriter / 3))
        #expect(acked == Array(4..<size), "every acknowledged index, and no other, is in the log")
        #expect(size == 4 + UInt64(writers * (batchesPerWriter - batchesPerWriter / 3) * batchSize))
        #expect(seen.withLock { $0 } == Array(0..<size), "the tailing reader saw every index exactly once, in order")
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == size)
    }

    @Test("a prepared statement that fails its first preparation on a connection does not spoil the ledger object: the next append works")
    func failedFirstPrepare() throws {
        let place = try TestPlace(.postgres, dir: dir)
        let setup = try StoreFixtures.standardLedger(at: place.location, clock: ManualClock())
        try setup.close()
        // A new connection has prepared nothing yet; its first prefetch cannot be prepared while
        // a table it reads is gone (postgres-nio remembers such a failure for the connection).
        let l = try Ledger.open(at: place.location)
        defer { try? l.close() }
        let size = try l.size()
        _ = try place.psql("ALTER TABLE keys RENAME TO keys_away")
        let before = try place.fingerprint()
        do throws(LedgerError) {
            _ = try l.append([Fixtures.report(subject: "incident:prepare-1", n: 700)])
            Issue.record("appended without its keys table")
        } catch {
            #expect(error.code == .notALedger, "\(error)")
        }
        #expect(try place.fingerprint() == before, "nothing written")
        _ = try place.psql("ALTER TABLE keys_away RENAME TO keys")
        #expect(try l.append([Fixtures.report(subject: "incident:prepare-2", n: 701)]).map(\.index) == [size])
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == size + 1)
    }

    @Test("a row refused in rows sent ahead, found at a read inside the batch's loop, is the storage's error (no event position); nothing written")
    func refusedRowSentAhead() throws {
        let place = try TestPlace(.postgres, dir: dir)
        // A state checkpoint every 1,600 entries reads the entries of the interval inside the
        // loop: the read waits for the rows sent ahead after event 1,024 of the batch, among
        // them the refused one.
        let l = try StoreFixtures.standardLedger(at: place.location, clock: ManualClock(), interval: 1_600)
        defer { try? l.close() }
        let size = try l.size()
        _ = try place.psql("ALTER TABLE entries ADD CONSTRAINT refuse_one CHECK (idx <> \(size + 500))")
        let before = try place.fingerprint()
        let batch = (0..<2_100).map { Fixtures.report(subject: "incident:refused-ahead-\($0)", n: 9_000 + UInt64($0)) }
        do throws(LedgerError) {
            _ = try l.append(batch)
            Issue.record("a refused row was accepted")
        } catch {
            #expect(error.code == .io, "\(error)")
            #expect(error.position == nil, "a storage failure names no event: \(error)")
            for part in ["writing the transaction's rows (entries: 1024", "in table entries", "refuse_one", "nothing was written"] {
                #expect(error.message.contains(part), "\(error)")
            }
        }
        #expect(try place.fingerprint() == before, "nothing written")
        _ = try place.psql("ALTER TABLE entries DROP CONSTRAINT refuse_one")
        #expect(try l.append(batch).map(\.index) == Array(size..<(size + 2_100)))
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == size + 2_100)
    }

    @Test("a write statement the server refuses names the table and what it wrote; the append (single or batch) rolls back, nothing written")
    func refusedWrite() throws {
        let place = try TestPlace(.postgres, dir: dir)
        let l = try StoreFixtures.standardLedger(at: place.location, clock: ManualClock())
        defer { try? l.close() }
        let size = try l.size()
        // A constraint the ledger does not make (the schema check compares tables, columns,
        // triggers and rules, not constraints): the concerns row of the next entry is refused.
        _ = try place.psql("ALTER TABLE concerns ADD CONSTRAINT refuse_next CHECK (idx <> \(size))")
        let before = try place.fingerprint()
        let single = [Fixtures.report(subject: "incident:refused", n: 500)]
        let batch = (0..<20).map { Fixtures.report(subject: "incident:refused-\($0)", n: 600 + UInt64($0)) }
        for events in [single, batch] {
            do throws(LedgerError) {
                _ = try l.append(events)
                Issue.record("a refused row was accepted")
            } catch {
                #expect(error.code == .io, "\(error)")
                for part in ["writing the transaction's rows (entries: \(events.count)", "in table concerns", "refuse_next", "nothing was written"] {
                    #expect(error.message.contains(part), "\(error)")
                }
            }
            #expect(try place.fingerprint() == before, "nothing written")
        }
        _ = try place.psql("ALTER TABLE concerns DROP CONSTRAINT refuse_next")
        #expect(try l.append(batch).map(\.index) == Array(size..<(size + 20)))
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == size + 20)
    }

    @Test("the server stopped mid-append: a clear error, no partial entry; after a restart the next append works (same connection object)")
    func serverGoesAway() throws {
        let cluster = try PrivateCluster()
        defer { cluster.stop() }
        let location = try PostgresLocation(url: cluster.url)
        let setup = try StoreFixtures.standardLedger(at: location, clock: ManualClock())
        try setup.close()
        let l = try Ledger.open(at: location)
        var acknowledged: UInt64 = 4
        var failure: LedgerError?
        let pauser = Thread {
            usleep(300_000)
            _ = try? cluster.pg("pause")
        }
        pauser.start()
        // Batches of 200 until one fails because the server went away (bounded: 500 batches).
        var n: UInt64 = 1_000_000
        for _ in 0..<500 {
            let batch = (0..<200).map { i in Fixtures.report(subject: "incident:f-\(n)-\(i)", n: n + UInt64(i)) }
            n += 1000
            do throws(LedgerError) {
                acknowledged += UInt64(try l.append(batch).count)
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "the server was stopped, yet every append succeeded")
        #expect(error.code == .io, "\(error)")
        let lostAtCommit = error.fault == .outcomeUnknown
        #expect(error.fault == .unreachable || lostAtCommit, "\(error)")
        #expect(error.message.contains(lostAtCommit ? "may or may not have been stored" : "went away"), "\(error)")
        // Down: opening fails clearly too.
        do { _ = try Ledger.open(at: location); Issue.record("opened a ledger on a stopped server") } catch {
            #expect(error.code == .io && error.fault == .unreachable && error.message.contains("cannot be reached"), "\(error)")
        }
        try cluster.pg("resume")
        let size = try l.size()
        // All or nothing: the failed batch is absent (or, only if the commit itself was cut, wholly present).
        #expect(size == acknowledged || (lostAtCommit && size == acknowledged + 200), "size \(size), acknowledged \(acknowledged)")
        #expect(try l.append([Fixtures.report(subject: "incident:after-restart", n: 999_999)]) == [.appended(size)])
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == size + 1)
        try l.close()
    }

    @Test("a hot standby (pg_basebackup, streaming) serves show, history, list, snapshot and verify with the primary's bytes; writes are refused")
    func readReplica() throws {
        let cluster = try PrivateCluster()
        defer { cluster.stop() }
        let primary = try PostgresLocation(url: cluster.url)
        var w = ArchiveWriter(ledger: try StoreFixtures.standardLedger(at: primary, clock: ManualClock(), interval: 5))
        try w.scenario()
        let standbyURL = String(decoding: try cluster.pg("standby"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let replica = try Ledger.open(at: try PostgresLocation(url: standbyURL), readOnly: true)

        func caughtUp() throws {
            let want = try w.ledger.size()
            for _ in 0..<600 where try replica.size() < want { usleep(50_000) }
            #expect(try replica.size() == want)
        }
        func same() throws {
            let size = try w.ledger.size()
            #expect(try replica.snapshot(atSize: nil, asOf: "t").bytes == (try w.ledger.snapshot(atSize: nil, asOf: "t").bytes))
            #expect(try replica.snapshot(atSize: 9, asOf: "t").bytes == (try w.ledger.snapshot(atSize: 9, asOf: "t").bytes))
            for id in ["incident:m10-a", "incident:m10-b", "facility:m10", "actor:ru-af"] {
                #expect(try replica.entityState(id).map { Canonical.encode($0) } == (try w.ledger.entityState(id).map { Canonical.encode($0) }))
                #expect(
                    try replica.entityState(id, atSize: 10).map { Canonical.encode($0) }
                        == (try w.ledger.entityState(id, atSize: 10).map { Canonical.encode($0) }))
                #expect(try replica.entries(concerning: id).map(\.index) == (try w.ledger.entries(concerning: id).map(\.index)))
            }
            var f = IncidentFilter()
            f.facility = "facility:m10"
            #expect(try replica.incidents(matching: f).map { Canonical.encode($0) } == (try w.ledger.incidents(matching: f).map { Canonical.encode($0) }))
            let a = try replica.verify(trust: KeyID.of(Fixtures.admin.publicKey))
            let root = try w.ledger.root(size: size)
            #expect(a.size == size)
            #expect(a.root == root)
        }
        try caughtUp()
        try same()
        do { _ = try replica.append([Fixtures.report(subject: "incident:on-replica", n: 5)]); Issue.record("the standby accepted a write") } catch {
            #expect(error.code == .io && error.fault == .readOnly, "\(error)")
        }
        let writable = try Ledger.open(at: try PostgresLocation(url: standbyURL))
        do { _ = try writable.append([Fixtures.report(subject: "incident:on-replica", n: 5)]); Issue.record("the standby accepted a write") } catch {
            #expect(error.code == .io && error.fault == .readOnly && error.message.contains("read-only"), "\(error)")
        }
        try writable.close()
        try w.add("source.registered", "source:late", #"{"publisher":"L","title":"T","lang":"en","type":"news"}"#)
        try caughtUp()
        try same()
        try replica.close()
        try w.ledger.close()
    }
}

extension PostgresTeamTests {
    @Test("a server that vanishes without closing the connection (SIGSTOP): the append ends after the answer timeout, nothing written; then it works")
    func serverVanishes() throws {
        let cluster = try PrivateCluster()
        defer { cluster.stop() }
        var location = try PostgresLocation(url: cluster.url)
        location.answerTimeout = .seconds(2)
        let setup = try StoreFixtures.standardLedger(at: location, clock: ManualClock())
        try setup.close()
        let l = try Ledger.open(at: location)
        #expect(try l.append([Fixtures.report(subject: "incident:before", n: 10)]) == [.appended(4)])
        try cluster.pg("freeze")
        var thawed = false
        defer { if !thawed { _ = try? cluster.pg("thaw") } }
        let start = DispatchTime.now()
        do {
            _ = try l.append([Fixtures.report(subject: "incident:frozen", n: 11)])
            Issue.record("a frozen server acknowledged an append")
        } catch {
            #expect(error.code == .io && error.fault == .unreachable && error.message.contains("no answer for"), "\(error)")
        }
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        #expect(waited < 30, "waited \(waited) s for a 2 s answer timeout")
        try cluster.pg("thaw")
        thawed = true
        #expect(try l.size() == 5, "nothing of the timed-out append is stored")
        #expect(try l.append([Fixtures.report(subject: "incident:after", n: 12)]) == [.appended(5)])
        #expect(try l.verify(trust: KeyID.of(Fixtures.admin.publicKey)).size == 6)
        try l.close()
    }
}

/// A cluster of the test's own (Tools/pg.sh), for tests that stop the server or add a standby;
/// stopped and deleted when this object goes.
final class PrivateCluster: @unchecked Sendable {
    let directory: String
    let url: String
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/pg.sh").path

    init() throws {
        let out = String(decoding: try Self.bash(["start"]), as: UTF8.self)
        var values: [String: String] = [:]
        for line in out.split(separator: "\n") where line.hasPrefix("export ") {
            let kv = line.dropFirst(7).split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        guard let d = values["LEDGER_TEST_PGDIR"], let u = values["LEDGER_TEST_DATABASE_URL"] else { throw LedgerTestError("pg.sh start printed \(out)") }
        directory = d
        url = u
    }

    @discardableResult
    func pg(_ command: String) throws -> Data { try Self.bash([command, directory]) }

    /// Runs pg.sh by posix_spawn and waitpid, its output through a file: Foundation's Process
    /// waits forever here once the script has started a daemon (the PostgreSQL server).
    static func bash(_ arguments: [String]) throws -> Data {
        let out = NSTemporaryDirectory() + "pg-sh-\(UUID().uuidString).out"
        defer { unlink(out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ["/bin/bash", script] + arguments
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for a in cargs { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", &actions, nil, &cargs, environ) == 0 else { throw LedgerTestError("cannot run pg.sh") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw LedgerTestError("pg.sh \(arguments.joined(separator: " ")) exited with status \(status)") }
        return FileManager.default.contents(atPath: out) ?? Data()
    }

    /// Stops the servers and deletes the folder (again: nothing).
    func stop() { _ = try? Self.bash(["stop", directory]) }

    deinit { stop() }
}
