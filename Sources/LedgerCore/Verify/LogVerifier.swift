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
    /// Throws at the lowest failing index.
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
        var keysForSignatures = [Ed25519.PublicKey?](repeating: nil, count: n)
        var ruleFailure: LedgerError?
        var checkedUpTo = n
        for i in 0..<n {
            let index = base + UInt64(i)
            do throws(LedgerError) {
                if let stored = storedLeaves?[i], stored != leaves[i] {
                    throw LedgerError(
                        .verificationFailed,
                        "entry bytes differ from the leaf hash recorded when it was appended: the entry was altered in place")
                }
                let p = try parsed[i]!.get()
                keysForSignatures[i] = try applyRules(p, index: index, leaf: leaves[i])
            } catch {
                ruleFailure = error.at(index)
                checkedUpTo = i
                break
            }
        }
        // Phase 3 (parallel): signatures of every entry before the first rule failure.
        var sigOK = [Bool](repeating: true, count: checkedUpTo)
        let parsedResults = parsed
        let keys = keysForSignatures
        sigOK.withUnsafeMutableBufferPointer { ok in
            nonisolated(unsafe) let ok = ok
            Parallel.forEachChunk(count: checkedUpTo, parallelism: parallelism) { range in
                for i in range {
                    guard case .success(let p)? = parsedResults[i], let key = keys[i] else { continue }
                    ok[i] = p.line.envelope.hasValidSignature(by: key)
                }
            }
        }
        signaturesChecked += UInt64(checkedUpTo)
        if let bad = sigOK.firstIndex(of: false) {
            let p = try! parsed[bad]!.get()
            throw LedgerError(
                .verificationFailed,
                "signature does not verify for key \(p.line.envelope.keyID): the payload was altered or signed by another key",
                index: base + UInt64(bad))
        }
        if var e = ruleFailure {
            e.code = .verificationFailed
            throw e
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
    public func checkCheckpoint(_ note: [UInt8]) throws(LedgerError) -> Checkpoint {
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
