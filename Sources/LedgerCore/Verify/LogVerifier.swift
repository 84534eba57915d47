import Dispatch
import Foundation
import LedgerCrypto

/// Streams through a log's entry lines in order and checks everything an auditor needs:
/// entry shape, index, record-time order, origin, signer rights at that index, `expects`,
/// unique event ids, signatures (spread over all cores) and the Merkle root at each checkpoint.
/// Memory is bounded by the batch size plus the key table, one counter per subject and
/// 16 bytes per event id.
public struct LogVerifier {
    /// The genesis key id the auditor pins, if any.
    public let trustedGenesisKeyID: String?
    /// Keys, subjects and origin as of `size`.
    public private(set) var state = MemoryLogState()
    private var frontier = MerkleFrontier()
    private var lastRecordTime: Timestamp?
    private var seenIDs = Set<EventIDKey>()
    /// The genesis key id found in entry 0.
    public private(set) var genesisKeyID: String?
    /// Number of entries signed by each key id.
    public private(set) var signaturesChecked: UInt64 = 0
    /// Threads used for parsing and signatures.
    public var parallelism: Int
    /// Signature checks of the last batch, still running.
    private var pending: SignatureJob?

    public init(trustedGenesisKeyID: String? = nil, parallelism: Int = LogVerifier.defaultParallelism) {
        self.trustedGenesisKeyID = trustedGenesisKeyID
        self.parallelism = max(1, parallelism)
    }

    /// One thread per active processor.
    public static var defaultParallelism: Int { System.activeProcessorCount }

    /// Entries verified so far.
    public var size: UInt64 { frontier.size }
    /// RFC 9162 root of the entries verified so far.
    public var root: Digest32 { frontier.root }

    private struct Parsed {
        var line: EntryLine
        var payload: EventPayload
    }

    /// Verifies the next batch of entry lines (indexes `size ..< size + lines.count`).
    /// Signatures of a batch are checked in the background while the next batch is parsed;
    /// call `finish()` after the last batch. Failures are thrown at the lowest failing index.
    /// `storedLeaves`, when given, are leaf hashes recorded at append time; a difference means
    /// the entry bytes changed in place and is reported at that index.
    public mutating func process(_ lines: [[UInt8]], storedLeaves: [Digest32?]? = nil) throws(LedgerError) {
        let n = lines.count
        if n == 0 { return }
        let base = size
        // Phase 1 (parallel): hash leaves, parse lines and payloads.
        var parsed = [Result<Parsed, LedgerError>?](repeating: nil, count: n)
        var leaves = [Digest32](repeating: .zero, count: n)
        parsed.withUnsafeMutableBufferPointer { out in
            leaves.withUnsafeMutableBufferPointer { leafOut in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let leafOut = leafOut
                Parallel.forEachChunk(count: n, parallelism: parallelism) { range in
                    for i in range {
                        leafOut[i] = lines[i].withUnsafeBytes { MerkleHash.leaf($0) }
                        out[i] = Self.parse(lines[i])
                    }
                }
            }
        }
        // Phase 2 (sequential): order, rules, key state, Merkle tree.
        var jobs: [SignatureJob.Item] = []
        jobs.reserveCapacity(n)
        var ruleFailure: LedgerError?
        for i in 0..<n {
            let index = base + UInt64(i)
            do throws(LedgerError) {
                if let stored = storedLeaves?[i], stored != leaves[i] {
                    throw LedgerError(
                        .verificationFailed,
                        "entry bytes differ from the leaf hash recorded when it was appended: the entry was altered in place")
                }
                let p = try parsed[i]!.get()
                let key = try applyRules(p, index: index, leaf: leaves[i])
                jobs.append(SignatureJob.Item(index: index, envelope: p.line.envelope, key: key))
            } catch {
                ruleFailure = error.at(index)
                break
            }
        }
        // Earlier batches' signatures come first in the order of failures.
        try drainSignatures()
        // Phase 3 (background, all cores): signatures of every entry before the first rule failure.
        let job = SignatureJob(items: jobs, parallelism: parallelism)
        signaturesChecked += UInt64(jobs.count)
        if var e = ruleFailure {
            try job.wait()
            e.code = .verificationFailed
            throw e
        }
        pending = job
    }

    /// Waits for the signature checks still running and reports the first failure.
    public mutating func finish() throws(LedgerError) {
        try drainSignatures()
    }

    private mutating func drainSignatures() throws(LedgerError) {
        if let job = pending {
            pending = nil
            try job.wait()
        }
    }

    private static func parse(_ bytes: [UInt8]) -> Result<Parsed, LedgerError> {
        do throws(LedgerError) {
            let line = try EntryLine(bytes: bytes)
            let payload = try EventPayload(bytes: line.envelope.payload)
            return .success(Parsed(line: line, payload: payload))
        } catch {
            return .failure(error)
        }
    }

    /// Applies the sequential checks for one entry; returns the key its signature must verify under.
    private mutating func applyRules(_ p: Parsed, index: UInt64, leaf: Digest32) throws(LedgerError) -> Ed25519.PublicKey {
        guard p.line.index == index else {
            throw LedgerError(.verificationFailed, "entry says it is index \(p.line.index) but stands at position \(index): entries reordered, missing or duplicated")
        }
        if let last = lastRecordTime, p.line.recordedAt < last {
            throw LedgerError(.verificationFailed, "record time \(p.line.recordedAt) is earlier than the previous entry's \(last)")
        }
        if index == 0, let pin = trustedGenesisKeyID, p.line.envelope.keyID != pin {
            throw LedgerError(.verificationFailed, "genesis is signed by key \(p.line.envelope.keyID), not by the trusted genesis key \(pin)")
        }
        guard let idBytes = UUIDv7.parse(p.payload.id) else { throw LedgerError(.malformed, "bad event id") }
        let idKey = EventIDKey(idBytes)
        guard !seenIDs.contains(idKey) else {
            throw LedgerError(.verificationFailed, "event id \(p.payload.id) appears a second time")
        }
        let decision = try EventRules.check(envelope: p.line.envelope, payload: p.payload, index: index, state: state, verifySignature: false)
        seenIDs.insert(idKey)
        state.apply(p.payload, decision: decision)
        if index == 0 { genesisKeyID = decision.signer.keyID }
        lastRecordTime = p.line.recordedAt
        frontier.append(leaf: leaf) { _ in }
        return decision.signer.publicKey
    }

    /// Checks a signed checkpoint against the entries verified so far: origin, tree size,
    /// root, and a signature by a key holding the log role at that size.
    @discardableResult
    public mutating func checkCheckpoint(_ note: [UInt8]) throws(LedgerError) -> Checkpoint {
        try drainSignatures()
        let signed: SignedNote
        let cp: Checkpoint
        do throws(LedgerError) {
            signed = try SignedNote(bytes: note)
            cp = try Checkpoint(text: signed.text)
        } catch {
            throw LedgerError(.verificationFailed, "checkpoint cannot be read: \(error.message)")
        }
        guard cp.origin == state.origin else {
            throw LedgerError(.verificationFailed, "checkpoint at size \(cp.size) names origin \(cp.origin.prefix(80)), not \(state.origin ?? "?")")
        }
        guard cp.size == size else {
            throw LedgerError(.verificationFailed, "checkpoint is for tree size \(cp.size) but \(size) entries were verified")
        }
        guard cp.root == root else {
            throw LedgerError(.verificationFailed, "checkpoint at size \(cp.size) has root \(cp.root.hex) but the entries hash to \(root.hex)")
        }
        let signers = state.keys.values.filter { $0.roles.contains(.log) && $0.isActive(at: cp.size) }
        guard signers.contains(where: { signed.isSigned(name: cp.origin, publicKey: $0.publicKey) }) else {
            throw LedgerError(.verificationFailed, "checkpoint at size \(cp.size) is not signed by any key holding the log role at that size")
        }
        return cp
    }
}

/// Signature checks for one batch, spread over background threads.
final class SignatureJob: @unchecked Sendable {
    struct Item {
        var index: UInt64
        var envelope: Envelope
        var key: Ed25519.PublicKey
    }

    private let items: [Item]
    /// One flag per item, written by exactly one background block each.
    private let ok: UnsafeMutableBufferPointer<Bool>
    private let group = DispatchGroup()

    init(items: [Item], parallelism: Int) {
        self.items = items
        let n = items.count
        ok = .allocate(capacity: max(1, n))
        ok.initialize(repeating: true)
        if n == 0 { return }
        let chunks = min(n, max(1, parallelism * 2))
        nonisolated(unsafe) let flags = ok
        for c in 0..<chunks {
            let range = (n * c / chunks)..<(n * (c + 1) / chunks)
            DispatchQueue.global().async(group: group) { [items] in
                for i in range { flags[i] = items[i].envelope.hasValidSignature(by: items[i].key) }
            }
        }
    }

    deinit {
        group.wait()
        ok.deallocate()
    }

    /// Blocks until every check is done; throws for the lowest index that failed.
    func wait() throws(LedgerError) {
        group.wait()
        if let bad = ok.prefix(items.count).firstIndex(of: false) {
            let item = items[bad]
            throw LedgerError(
                .verificationFailed,
                "signature does not verify for key \(item.envelope.keyID): the payload was altered or signed by another key",
                index: item.index)
        }
    }
}

/// A 16-byte event id as a hashable pair of words.
struct EventIDKey: Hashable {
    var hi: UInt64
    var lo: UInt64

    init(_ b: [UInt8]) {
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(b[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(b[i]) }
        hi = h
        lo = l
    }
}

/// Splits `0..<count` into contiguous chunks run on `parallelism` threads.
public enum Parallel {
    /// Runs `body` over contiguous chunks of `0..<count` on up to `parallelism` threads.
    public static func forEachChunk(count: Int, parallelism: Int, _ body: @Sendable (Range<Int>) -> Void) {
        if count == 0 { return }
        let chunks = min(count, max(1, parallelism * 4))
        if chunks == 1 || parallelism == 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks
            let hi = count * (c + 1) / chunks
            body(lo..<hi)
        }
    }
}

/// Processor count.
public enum System {
    /// Active processors.
    public static var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
