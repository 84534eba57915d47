import Dispatch
import LedgerCore
import LedgerCrypto
import LedgerStore
import Synchronization

/// One ledger connection and the thread that uses it. `Ledger` calls block (SQLite, or a
/// synchronous PostgreSQL connection), so they never run on the server's event loops or on the
/// cooperative pool: each runs on this worker's own serial queue, and the request awaits it.
final class Worker: Sendable {
    let ledger: Ledger
    private let queue: DispatchQueue

    init(_ ledger: Ledger, label: String) {
        self.ledger = ledger
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` with the ledger on this worker's thread; its result or error.
    func run<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        let result: Result<T, LedgerError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(LedgerError) { continuation.resume(returning: .success(try body(self.ledger))) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    func close() { queue.sync { try? ledger.close() } }
}

/// Read-only ledgers for the views, used in turn: reads run side by side with each other and
/// with the writer (SQLite in WAL mode; PostgreSQL connections).
final class ReadPool: Sendable {
    private let workers: [Worker]
    private let next = Atomic<Int>(0)

    init(_ workers: [Worker]) {
        precondition(!workers.isEmpty)
        self.workers = workers
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        let i = next.add(1, ordering: .relaxed).oldValue
        return try await workers[i % workers.count].run(body)
    }

    func close() { for w in workers { w.close() } }
}

/// What one posted envelope became.
struct Appended: Sendable {
    var outcome: AppendOutcome
    var leafHash: Digest32
    var eventID: String
}

/// Group commit: envelopes posted at the same time share one transaction (one fsync). Each
/// poster waits until the transaction holding its entry has committed. A refusal of one
/// envelope does not fail the others: the batch is tried again without it (an append is all or
/// nothing, and names the position that was refused). A failure that is not about one envelope
/// (the disk, the database) fails every envelope of the batch; nothing of it was written
/// (or, when the fault says the outcome is unknown, the reply says so).
final class GroupCommitter: Sendable {
    private let worker: Worker
    /// At most this many envelopes per transaction.
    let maxBatch: Int

    private struct Waiting: Sendable {
        var envelope: Envelope
        var continuation: CheckedContinuation<Result<Appended, LedgerError>, Never>
    }

    private struct State {
        var queue: [Waiting] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let transactions = Atomic<Int>(0)

    init(worker: Worker, maxBatch: Int = 512) {
        self.worker = worker
        self.maxBatch = maxBatch
    }

    /// Transactions committed or tried so far (for tests of the grouping).
    var transactionCount: Int { transactions.load(ordering: .relaxed) }

    /// Envelopes waiting for the next transaction.
    var queued: Int { state.withLock { $0.queue.count } }

    func append(_ envelope: Envelope) async -> Result<Appended, LedgerError> {
        await withCheckedContinuation { continuation in
            let start = state.withLock { s -> Bool in
                s.queue.append(Waiting(envelope: envelope, continuation: continuation))
                if s.draining { return false }
                s.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Appends what is waiting, a batch at a time, until nothing is. Each batch is taken on the
    /// writer's own thread when it is free, so everything that arrived while the previous
    /// transaction committed goes into the next one.
    private func drain() async {
        while true {
            let more: Bool
            do throws(LedgerError) {
                more = try await worker.run { (ledger) throws(LedgerError) in
                    let batch = self.state.withLock { s -> [Waiting] in
                        let n = min(s.queue.count, self.maxBatch)
                        let b = Array(s.queue.prefix(n))
                        s.queue.removeFirst(n)
                        if b.isEmpty { s.draining = false }
                        return b
                    }
                    if batch.isEmpty { return false }
                    let results = self.appendEach(batch.map(\.envelope), to: ledger)
                    for (w, r) in zip(batch, results) { w.continuation.resume(returning: r) }
                    return true
                }
            } catch {
                more = false  // the body throws nothing
            }
            if !more { return }
        }
    }

    /// Appends `envelopes` in as few transactions as refusals allow: every envelope gets its
    /// own result, each appended one only after its transaction committed.
    private func appendEach(_ envelopes: [Envelope], to ledger: Ledger) -> [Result<Appended, LedgerError>] {
        var results = [Result<Appended, LedgerError>?](repeating: nil, count: envelopes.count)
        var left = Array(envelopes.indices)
        while !left.isEmpty {
            transactions.add(1, ordering: .relaxed)
            do throws(LedgerError) {
                let outcomes = try ledger.append(left.map { envelopes[$0] })
                for (i, outcome) in zip(left, outcomes) {
                    results[i] = Result { () throws(LedgerError) in
                        let line = try ledger.entryLine(at: outcome.index)
                        let id = (try? EventPayload(bytes: envelopes[i].payload).id) ?? ""
                        return Appended(outcome: outcome, leafHash: MerkleHash.leaf(line), eventID: id)
                    }
                }
                left = []
            } catch {
                if let p = error.position ?? (left.count == 1 && error.fault == nil ? 0 : nil), p < left.count {
                    var own = error
                    own.position = nil
                    results[left[p]] = .failure(own)
                    left.remove(at: p)
                } else {
                    for i in left { results[i] = .failure(error) }
                    left = []
                }
            }
        }
        return results.map { $0! }
    }
}
