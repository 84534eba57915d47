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
    /// Calls queued or running.
    let pending = Atomic<Int>(0)

    init(_ ledger: Ledger, label: String) {
        self.ledger = ledger
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` with the ledger on this worker's thread; its result or error.
    func run<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        pending.add(1, ordering: .relaxed)
        let result: Result<T, LedgerError> = await withCheckedContinuation { continuation in
            queue.async {
                defer { self.pending.subtract(1, ordering: .relaxed) }
                do throws(LedgerError) { continuation.resume(returning: .success(try body(self.ledger))) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs `body` with the ledger on this worker's thread, without waiting for it.
    func async(_ body: @escaping @Sendable (Ledger) -> Void) { queue.async { body(self.ledger) } }

    func close() { queue.sync { try? ledger.close() } }
}

/// Read-only ledgers for the views, used in turn: reads run side by side with each other and
/// with the writer (SQLite in WAL mode; PostgreSQL connections).
final class ReadPool: Sendable {
    private let workers: [Worker]
    private let maxQueued: Int

    init(_ workers: [Worker], maxQueued: Int) {
        precondition(!workers.isEmpty)
        self.workers = workers
        self.maxQueued = maxQueued
    }

    /// Runs `body` on the reader with the fewest calls waiting; refuses (503, `busy`) when every
    /// reader has `maxQueued` waiting.
    func run<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws(LedgerError) -> T) async throws(LedgerError) -> T {
        let worker = workers.min { $0.pending.load(ordering: .relaxed) < $1.pending.load(ordering: .relaxed) }!
        guard worker.pending.load(ordering: .relaxed) < maxQueued else {
            throw LedgerError(.io, "the server is busy: \(maxQueued) reads are waiting on each connection; try again", fault: .busy)
        }
        return try await worker.run(body)
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
        var eventID: String
        /// The key a `key.enrolled` event enrolls.
        var enrolls: String?
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

    /// Appends `envelope` (whose payload is `payload`) with whatever else is waiting.
    func append(_ envelope: Envelope, payload: EventPayload) async -> Result<Appended, LedgerError> {
        let enrolls = payload.eventType == .keyEnrolled ? payload.subject : nil
        return await withCheckedContinuation { continuation in
            let start = state.withLock { s -> Bool in
                s.queue.append(Waiting(envelope: envelope, eventID: payload.id, enrolls: enrolls, continuation: continuation))
                if s.draining { return false }
                s.draining = true
                return true
            }
            if start { worker.async { ledger in self.drain(ledger) } }
        }
    }

    /// On the writer's thread: appends what is waiting, a batch at a time, until nothing is. Each
    /// batch is taken when the writer is free, so everything that arrived while the previous
    /// transaction committed goes into the next one.
    private func drain(_ ledger: Ledger) {
        while true {
            let batch = state.withLock { s -> [Waiting] in
                let n = min(s.queue.count, maxBatch)
                let b = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                if b.isEmpty { s.draining = false }
                return b
            }
            if batch.isEmpty { return }
            let results = appendEach(batch, to: ledger)
            for (w, r) in zip(batch, results) { w.continuation.resume(returning: r) }
        }
    }

    /// Appends `envelopes` in as few transactions as refusals allow: every envelope gets its
    /// own result, each appended one only after its transaction committed.
    private func appendEach(_ batch: [Waiting], to ledger: Ledger) -> [Result<Appended, LedgerError>] {
        let envelopes = batch.map(\.envelope)
        let ids = batch.map(\.eventID)
        var results = [Result<Appended, LedgerError>?](repeating: nil, count: envelopes.count)
        var left = Array(envelopes.indices)
        var screened = false
        while !left.isEmpty {
            transactions.add(1, ordering: .relaxed)
            let outcomes: [(outcome: AppendOutcome, leaf: Digest32?)]
            do throws(LedgerError) {
                outcomes = try ledger.appendGivingLeaves(left.map { envelopes[$0] })
            } catch {
                if let p = error.position ?? (left.count == 1 && error.fault == nil ? 0 : nil), p < left.count {
                    var own = error
                    own.position = nil
                    results[left[p]] = .failure(own)
                    left.remove(at: p)
                    // The first refusal because of a signer: screen the rest for the refusals that
                    // need no state, once, so a flood of forged envelopes costs one check each
                    // instead of one retry of the whole batch each.
                    if error.signerRefused, !screened, left.count > 1 {
                        screened = true
                        for (i, refusal) in zip(left, Self.screen(left.map { batch[$0] }, all: batch, ledger: ledger)) where refusal != nil {
                            results[i] = .failure(refusal!)
                        }
                        left.removeAll { results[$0] != nil }
                    }
                } else {
                    for i in left { results[i] = .failure(error) }
                    left = []
                }
                continue
            }
            // Committed. An event already in the log: its leaf hash from its stored line.
            for (i, o) in zip(left, outcomes) {
                results[i] = Result { () throws(LedgerError) in
                    if let leaf = o.leaf { return Appended(outcome: o.outcome, leafHash: leaf, eventID: ids[i]) }
                    do throws(LedgerError) {
                        return Appended(outcome: o.outcome, leafHash: MerkleHash.leaf(try ledger.entryLine(at: o.outcome.index)), eventID: ids[i])
                    } catch {
                        throw LedgerError(.io, "the event is in the log at index \(o.outcome.index), but its entry could not be read back: \(error.message)")
                    }
                }
            }
            left = []
        }
        return results.map { $0! }
    }

    /// The refusals certain without the log's state: a key unknown to the ledger (and not enrolled
    /// within the batch), or a signature that does not verify by the key its id names (a key id
    /// is the hash of its key, so the stored key is the only one it can name). Signatures are
    /// checked on every core. The same messages as `append`'s.
    private static func screen(_ waiting: [Waiting], all batch: [Waiting], ledger: Ledger) -> [LedgerError?] {
        guard let stored = try? ledger.keys() else { return waiting.map { _ in nil } }
        let keys = Dictionary(stored.map { ($0.keyID, $0.publicKey) }, uniquingKeysWith: { a, _ in a })
        let enrolledHere = Set(batch.compactMap(\.enrolls))
        var out = [LedgerError?](repeating: nil, count: waiting.count)
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            Parallel.forEachChunk(count: waiting.count, parallelism: System.activeProcessorCount) { range in
                for i in range {
                    let e = waiting[i].envelope
                    if let key = keys[e.keyID] {
                        if !e.hasValidSignature(by: key) { buffer[i] = Ledger.badSignature(e.keyID) }
                    } else if !enrolledHere.contains(e.keyID) {
                        buffer[i] = .signer("unknown key \(e.keyID): it is not enrolled in this ledger")
                    }
                }
            }
        }
        return out
    }
}
