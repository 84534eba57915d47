import Dispatch
import LedgerCrypto

/// Checks envelope signatures on background threads while the caller goes on with other work.
public final class BackgroundSignatureCheck: @unchecked Sendable {
    private let count: Int
    /// One flag per envelope, each written by exactly one background block.
    private let results: UnsafeMutableBufferPointer<Bool>
    private let group = DispatchGroup()

    /// Starts checking `envelopes[i]` against `keys[i]`; a nil key counts as valid here (the
    /// caller checks those itself once it knows the key).
    public init(envelopes: [Envelope], keys: [Ed25519.PublicKey?], parallelism: Int = System.activeProcessorCount) {
        precondition(envelopes.count == keys.count)
        count = envelopes.count
        results = .allocate(capacity: max(1, count))
        results.initialize(repeating: true)
        if count == 0 || keys.allSatisfy({ $0 == nil }) { return }
        nonisolated(unsafe) let out = results
        let n = count
        let chunks = n < 16 ? 1 : min(n, max(1, parallelism * 4))
        for c in 0..<chunks {
            let range = (n * c / chunks)..<(n * (c + 1) / chunks)
            DispatchQueue.global().async(group: group) {
                for i in range {
                    if let key = keys[i] { out[i] = envelopes[i].hasValidSignature(by: key) }
                }
            }
        }
    }

    deinit {
        group.wait()
        results.deallocate()
    }

    /// Waits for every check; returns the positions whose signature did not verify, ascending.
    public func failures() -> [Int] {
        group.wait()
        return (0..<count).filter { !results[$0] }
    }
}
