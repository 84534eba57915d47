import Dispatch
import Foundation
import LedgerCrypto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Checks envelope signatures on background threads while the caller goes on with other work.
///
/// The checks are not on a batch's critical path until its end: the caller folds the batch and
/// hands its rows to storage meanwhile, and only then needs the answer (`failures()`). So the
/// background threads run at the lowest scheduling priority (nice 19, Linux): they fill the
/// cores' idle time (a database server's turn, the gaps of the caller's own thread) instead of
/// taking a share of the caller's core, which on a 2-core machine gave the caller two thirds of
/// a core while the checks ran (docs/DECISIONS.md 97). The work is cut into small chunks that
/// whoever is free claims; `failures()` has the caller claim the chunks still unclaimed and
/// check them at its own priority, so a machine busy with other work cannot starve the checks.
public final class BackgroundSignatureCheck: @unchecked Sendable {
    private let count: Int
    /// One flag per envelope, each written by exactly one claimer of its chunk.
    private let results: UnsafeMutableBufferPointer<Bool>
    private let envelopes: [Envelope]
    private let keys: [Ed25519.PublicKey?]
    /// The next chunk to claim; chunks `0..<chunks` cover `0..<count` in order.
    private let next = Atomic<Int>(0)
    private let chunks: Int
    private let group = DispatchGroup()

    /// Envelopes per chunk: small enough that the caller, arriving at `failures()`, waits for at
    /// most one chunk per background thread (about 0.2 ms of work each, however slowly a busy
    /// machine runs the low-priority threads), large enough that claiming costs nothing.
    static let chunkSize = 4

    /// Starts checking `envelopes[i]` against `keys[i]`; a nil key counts as valid here (the
    /// caller checks those itself once it knows the key).
    public init(envelopes: [Envelope], keys: [Ed25519.PublicKey?], parallelism: Int = System.activeProcessorCount) {
        precondition(envelopes.count == keys.count)
        count = envelopes.count
        self.envelopes = envelopes
        self.keys = keys
        results = .allocate(capacity: max(1, count))
        results.initialize(repeating: true)
        if count == 0 || keys.allSatisfy({ $0 == nil }) {
            chunks = 0
            return
        }
        chunks = (count + Self.chunkSize - 1) / Self.chunkSize
        for _ in 0..<min(chunks, max(1, parallelism)) { startThread() }
    }

    /// Starts one background thread that lowers its priority and claims chunks. A thread that
    /// cannot be made (a process or container limit on threads) is simply not there: the caller
    /// claims its share in `failures()`.
    private func startThread() {
        group.enter()
        #if canImport(Glibc)
        let retained = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let made = pthread_create(
            &thread, nil,
            { argument in
                let check = Unmanaged<BackgroundSignatureCheck>.fromOpaque(argument!).takeRetainedValue()
                BackgroundSignatureCheck.lowerPriority()
                check.drain()
                check.group.leave()
                return nil
            }, retained.toOpaque())
        if made == 0 {
            pthread_detach(thread)
        } else {
            retained.release()
            group.leave()
        }
        #else
        Thread { [self] in
            drain()
            group.leave()
        }.start()
        #endif
    }

    deinit {
        group.wait()
        results.deallocate()
    }

    /// Claims and checks chunks until none is left.
    private func drain() {
        nonisolated(unsafe) let out = results
        while true {
            let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard c < chunks else { return }
            for i in (c * Self.chunkSize)..<min(count, (c + 1) * Self.chunkSize) {
                if let key = keys[i] { out[i] = envelopes[i].hasValidSignature(by: key) }
            }
        }
    }

    #if canImport(Glibc)
    /// The calling thread's scheduling priority set to the lowest (on Linux, `setpriority` with
    /// `who` 0 applies to the calling thread only). The thread ends with its batch, so nothing
    /// needs it back.
    private static func lowerPriority() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
    }
    #endif

    /// Checks the chunks no background thread has claimed yet, waits for the rest, and returns
    /// the positions whose signature did not verify, ascending.
    public func failures() -> [Int] {
        drain()
        group.wait()
        return (0..<count).filter { !results[$0] }
    }
}
