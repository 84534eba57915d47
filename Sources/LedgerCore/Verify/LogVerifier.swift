import Dispatch
import Foundation
import LedgerCrypto

/// Streams through a log's entry lines in order and checks everything an auditor needs:
/// entry shape, index, record-time order, origin, signer rights at that index, `expects`,
/// unique event ids, signatures (spread over all cores) and the Merkle root at each checkpoint.
/// Memory is bounded by the batch size plus the key table and one counter per subject; event
/// ids seen go to a temporary file beyond the latest 131,072 (EventIDSet).
public struct LogVerifier {
    /// The genesis key id the auditor pins, if any.
    public let trustedGenesisKeyID: String?
    /// Keys, subjects and origin as of `size`.
    public private(set) var state = MemoryLogState()
    private var frontier = MerkleFrontier()
    /// The record time of the last entry verified.
    public private(set) var lastRecordTime: Timestamp?
    private var seenIDs = EventIDSet()
    /// The genesis key id found in entry 0.
    public private(set) var genesisKeyID: String?
    /// Threads used for parsing and signatures.
    public var parallelism: Int
    /// When true, every perfect Merkle node of level 1 and up is kept for `takeNodes()`, so a
    /// store can hold its own copies to them.
    public var collectsNodes = false
    private var collectedNodes: [MerkleNode] = []

    /// The Merkle nodes (levels ≥ 1) completed since the last call, in the order they formed.
    public mutating func takeNodes() -> [MerkleNode] {
        defer { collectedNodes.removeAll(keepingCapacity: true) }
        return collectedNodes
    }

    /// When true, the payload of every entry that passed every check is kept for
    /// `takeVerified()`, so that a caller can fold the archive from them without parsing the
    /// entries a second time.
    public var collectsPayloads = false
    private var collectedPayloads: [VerifiedEntry] = []

    /// An entry that passed every check of the log: its index, what a fold reads of its signed
    /// payload, and its record time. The body is its canonical bytes when the payload was laid
    /// out as this tool writes it with a canonical body (no tree is made), else its tree.
    public struct VerifiedEntry: Sendable {
        public var index: UInt64
        /// The type's row in the catalogue (every entry that passed has one).
        public var type: EventType?
        public var subject: String
        public var body: BodyMembers
        public var recordedAt: Timestamp
        public init(index: UInt64, type: EventType?, subject: String, body: BodyMembers, recordedAt: Timestamp) {
            self.index = index
            self.type = type
            self.subject = subject
            self.body = body
            self.recordedAt = recordedAt
        }

        /// From a payload decoded whole.
        public init(index: UInt64, payload: EventPayload, recordedAt: Timestamp) {
            self.init(index: index, type: payload.eventType, subject: payload.subject, body: .tree(payload.body), recordedAt: recordedAt)
        }
    }

    /// The entries verified since the last call (whole batches: a batch is handed over only
    /// when every entry in it passed), in log order.
    public mutating func takeVerified() -> [VerifiedEntry] {
        defer { collectedPayloads = [] }
        return collectedPayloads
    }

    /// The last batch given: its parallel work may still be running; its sequential checks wait.
    private var pending: ParsedBatch?

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

    struct ParsedEntry {
        var line: EntryLine
        /// The signed payload; its `body` is empty when `body` below holds it.
        var payload: EventPayload
        /// The body as its canonical bytes, for a type whose body the log's rules do not read
        /// (`EventRules.readsBody`), when the payload is laid out as this tool writes it
        /// (`EventPayload.laidOutHeader`); nil when `payload.body` is the body.
        var body: CanonicalObject?

        /// The event id's 16 bytes (read once, on the parsing threads); nil when the payload's
        /// id is not a UUIDv7, which decoding the payload refuses.
        var eventID: EventIDKey?

        init(line: EntryLine, payload: EventPayload, body: CanonicalObject?) {
            self.line = line
            self.payload = payload
            self.body = body
            eventID = UUIDv7.withBytes(payload.id) { EventIDKey($0) }
        }

        /// The body, however it was read.
        var bodyMembers: BodyMembers { body.map { .canonical($0) } ?? .tree(payload.body) }
    }

    /// Verifies the next batch of entry lines (indexes following those already given).
    /// Parsing, leaf hashing and signature checks of this batch run on all cores while the
    /// sequential rules of the previous batch run on this thread and while the caller reads the
    /// next batch; call `finish()` after the last batch. Failures are thrown at the lowest failing index.
    /// `stored`, when given, is what a store recorded beside each line when it was appended
    /// (leaf hash, index columns); any difference is reported at that entry's index.
    /// `compact`: the lines are as a ledger file keeps them (`CompactLine`, expanded here on all
    /// cores); never for lines from anywhere else, which must be the lines' own bytes.
    public mutating func process(_ lines: [[UInt8]], stored: [StoredEntry]? = nil, compact: Bool = false) throws(LedgerError) {
        if lines.isEmpty { return }
        let batch = ParsedBatch(lines: lines, stored: stored, compact: compact, keys: state.keys, parallelism: parallelism)
        if let previous = pending {
            pending = nil
            try sequence(previous)
        }
        // This batch keeps running while the caller reads the next one.
        pending = batch
    }

    /// Runs the sequential checks of the last batch given; after it `size` and `root` cover
    /// every entry given to `process`.
    public mutating func finish() throws(LedgerError) {
        if let previous = pending {
            pending = nil
            try sequence(previous)
        }
    }

    /// The sequential part: order, rules, key state, Merkle tree. Entries whose key was not in
    /// the batch's key snapshot (enrolled in this batch or the one before) have their
    /// signatures checked here, on all cores, before any later failure is reported.
    private mutating func sequence(_ batch: ParsedBatch) throws(LedgerError) {
        batch.wait()
        let first = size
        var deferred: [(index: UInt64, envelope: Envelope, key: Ed25519.PublicKey)] = []
        var failure: LedgerError?
        for i in 0..<batch.count {
            let index = size
            do throws(LedgerError) {
                if let stored = batch.stored?[i], stored.leaf != batch.leaves[i] {
                    throw LedgerError(
                        .verificationFailed,
                        "entry bytes differ from the leaf hash recorded when it was appended: the entry was altered in place")
                }
                let p = try batch.parsed[i]!.get()
                if let stored = batch.stored?[i], let mismatch = stored.mismatch(with: p) {
                    throw LedgerError(
                        .verificationFailed, "the stored \(mismatch) column beside the entry differs from the signed entry: the ledger file was edited")
                }
                let key = try applyRules(p, index: index, leaf: batch.leaves[i])
                switch batch.signatureValid[i] {
                case true?: break
                case false?: throw LogVerifier.badSignature(p.line.envelope.keyID)
                case nil: deferred.append((index, p.line.envelope, key))
                }
            } catch {
                failure = error.at(index)
                break
            }
        }
        // Deferred signatures all precede `failure`, so a bad one among them is reported first.
        var ok = [Bool](repeating: true, count: deferred.count)
        let items = deferred
        ok.withUnsafeMutableBufferPointer { flags in
            nonisolated(unsafe) let flags = flags
            Parallel.forEachChunk(count: items.count, parallelism: items.count < 16 ? 1 : parallelism) { range in
                for j in range { flags[j] = items[j].envelope.hasValidSignature(by: items[j].key) }
            }
        }
        if let bad = ok.firstIndex(of: false) {
            throw LogVerifier.badSignature(items[bad].envelope.keyID).at(items[bad].index)
        }
        if var e = failure {
            e.code = .verificationFailed
            throw e
        }
        if collectsPayloads {
            collectedPayloads.reserveCapacity(collectedPayloads.count + batch.count)
            for i in 0..<batch.count {
                guard case .success(let p)? = batch.parsed[i] else { continue }
                collectedPayloads.append(
                    VerifiedEntry(
                        index: first + UInt64(i), type: p.payload.eventType, subject: p.payload.subject, body: p.bodyMembers,
                        recordedAt: p.line.recordedAt))
            }
        }
    }

    static func badSignature(_ keyID: String) -> LedgerError {
        LedgerError(.verificationFailed, "signature does not verify for key \(keyID): the payload was altered or signed by another key")
    }

    static func parse(_ bytes: [UInt8]) -> Result<ParsedEntry, LedgerError> {
        do throws(LedgerError) { return parse(entry: try EntryLine(bytes: bytes)) } catch { return .failure(error) }
    }

    /// The entry's payload decoded: its body kept as its canonical bytes when the payload is laid
    /// out as this tool writes it and the log's rules do not read the body of its type, else the
    /// payload decoded whole (which decides and names any problem). Both accept the same payloads
    /// and read the same members (`EventPayloadLaidOutTests`).
    static func parse(entry line: EntryLine) -> Result<ParsedEntry, LedgerError> {
        if let (payload, body) = line.envelope.payload.withUnsafeBytes({ EventPayload.laidOutHeader($0) }),
            let type = payload.eventType, !EventRules.readsBody(of: type)
        {
            return .success(ParsedEntry(line: line, payload: payload, body: body))
        }
        do throws(LedgerError) {
            let payload = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
            return .success(ParsedEntry(line: line, payload: payload, body: nil))
        } catch {
            return .failure(error)
        }
    }

    /// Applies the sequential checks for one entry; returns the key its signature must verify under.
    private mutating func applyRules(_ p: ParsedEntry, index: UInt64, leaf: Digest32) throws(LedgerError) -> Ed25519.PublicKey {
        guard p.line.index == index else {
            throw LedgerError(
                .verificationFailed, "entry says it is index \(p.line.index) but stands at position \(index): entries reordered, missing or duplicated")
        }
        if let last = lastRecordTime, p.line.recordedAt < last {
            throw LedgerError(
                .verificationFailed,
                "record time \(p.line.recordedAt) is earlier than entry \(index - 1)'s \(last) (record times are not signed: this entry's or the "
                    + "previous one's was altered)")
        }
        if index == 0, let pin = trustedGenesisKeyID, p.line.envelope.keyID != pin {
            throw LedgerError(.verificationFailed, "genesis is signed by key \(p.line.envelope.keyID), not by the trusted genesis key \(pin)")
        }
        guard let idKey = p.eventID else { throw LedgerError(.malformed, "bad event id") }
        guard seenIDs.insert(idKey) else {
            throw LedgerError(.verificationFailed, "event id \(p.payload.id) appears a second time")
        }
        let decision = try EventRules.check(
            envelope: p.line.envelope, payload: p.payload, index: index, recordTime: p.line.recordedAt, state: state, verifySignature: false)
        state.apply(p.payload, decision: decision)
        if index == 0 { genesisKeyID = decision.signer.keyID }
        lastRecordTime = p.line.recordedAt
        if collectsNodes {
            frontier.append(leaf: leaf) { node in if node.level > 0 { collectedNodes.append(node) } }
        } else {
            frontier.append(leaf: leaf) { _ in }
        }
        return decision.signer.publicKey
    }

    /// Checks a signed checkpoint against the entries verified so far: origin, tree size,
    /// root, and a signature by a key holding the log role at that size.
    @discardableResult
    public mutating func checkCheckpoint(_ note: [UInt8]) throws(LedgerError) -> Checkpoint {
        try finish()
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

/// One batch's parallel work, started at once on background threads: leaf hashes, parsing,
/// and each signature checked against the key its key id named in the snapshot of enrolled
/// keys (nil when the key id was not yet known: the sequential pass checks those itself).
final class ParsedBatch: @unchecked Sendable {
    let count: Int
    let stored: [StoredEntry]?
    let leaves: UnsafeMutableBufferPointer<Digest32>
    let parsed: UnsafeMutableBufferPointer<Result<LogVerifier.ParsedEntry, LedgerError>?>
    let signatureValid: UnsafeMutableBufferPointer<Bool?>
    private let group = DispatchGroup()

    init(lines: [[UInt8]], stored: [StoredEntry]?, compact: Bool, keys: [String: KeyRecord], parallelism: Int) {
        count = lines.count
        self.stored = stored
        leaves = .allocate(capacity: count)
        leaves.initialize(repeating: .zero)
        parsed = .allocate(capacity: count)
        parsed.initialize(repeating: nil)
        signatureValid = .allocate(capacity: count)
        signatureValid.initialize(repeating: nil)
        nonisolated(unsafe) let leafOut = leaves
        nonisolated(unsafe) let parsedOut = parsed
        nonisolated(unsafe) let signatureOut = signatureValid
        let n = count
        let chunks = min(n, max(1, parallelism * 4))
        for c in 0..<chunks {
            let range = (n * c / chunks)..<(n * (c + 1) / chunks)
            DispatchQueue.global().async(group: group) {
                for i in range {
                    // The leaf is the hash of the line itself; a compact form's entry is read
                    // from its parts, with the payload unpacked once for both.
                    let read = compact ? lines[i].withUnsafeBytes { CompactLine.lineAndEntry($0) } : nil
                    let line = read?.line ?? lines[i]
                    leafOut[i] = line.withUnsafeBytes { MerkleHash.leaf($0) }
                    let result = read?.entry.map { LogVerifier.parse(entry: $0) } ?? LogVerifier.parse(line)
                    if case .success(let p) = result, let key = keys[p.line.envelope.keyID] {
                        signatureOut[i] = p.line.envelope.hasValidSignature(by: key.publicKey)
                    }
                    parsedOut[i] = result
                }
            }
        }
    }

    deinit {
        group.wait()
        leaves.deinitialize()
        leaves.deallocate()
        parsed.deinitialize()
        parsed.deallocate()
        signatureValid.deinitialize()
        signatureValid.deallocate()
    }

    /// Blocks until the background work is done.
    func wait() { group.wait() }
}

/// What a store keeps beside an entry line to find it fast; `verify` holds it to the line.
public struct StoredEntry: Sendable {
    /// The recorded leaf hash.
    public var leaf: Digest32?
    /// Index columns, as stored.
    public var recordedAt: String
    public var type: String
    public var subject: String
    public var signer: String
    public var eventID: [UInt8]

    public init(leaf: Digest32?, recordedAt: String, type: String, subject: String, signer: String, eventID: [UInt8]) {
        self.leaf = leaf
        self.recordedAt = recordedAt
        self.type = type
        self.subject = subject
        self.signer = signer
        self.eventID = eventID
    }

    /// The name of the first column that disagrees with the parsed entry, if any. The record
    /// time is compared as a time: its text is the fixed 27-byte form, one text for each time
    /// (`parseRecordTime` takes nothing else), so equal times are equal texts.
    func mismatch(with p: LogVerifier.ParsedEntry) -> String? {
        if Timestamp.parseRecordTime(recordedAt) != p.line.recordedAt { return "recorded_at" }
        if type != p.payload.type { return "type" }
        if subject != p.payload.subject { return "subject" }
        if signer != p.line.envelope.keyID { return "signer" }
        if eventID.count != 16 || p.eventID != EventIDKey(eventID) { return "event_id" }
        return nil
    }
}

/// A 16-byte event id as a hashable pair of words.
struct EventIDKey: Hashable {
    var hi: UInt64
    var lo: UInt64

    /// From 16 bytes, big-endian.
    init<C: RandomAccessCollection>(_ b: C) where C.Element == UInt8, C.Index == Int {
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
        forEachNumberedChunk(count: count, parallelism: parallelism) { _, range in body(range) }
    }

    /// The number of chunks `forEachNumberedChunk` cuts `0..<count` into.
    @usableFromInline
    static func chunkCount(count: Int, parallelism: Int) -> Int {
        parallelism == 1 ? min(count, 1) : min(count, max(1, parallelism * 4))
    }

    /// Runs `body(c, range)` for each chunk `c` in `0..<chunkCount(…)`; the chunks are
    /// contiguous and in order (chunk `c` precedes chunk `c + 1`).
    @usableFromInline
    static func forEachNumberedChunk(count: Int, parallelism: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count: count, parallelism: parallelism)
        if chunks == 0 { return }
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, (count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }

    /// `transform(i)` for every `i` in `0..<count`, computed in chunks on up to `parallelism`
    /// threads, in index order. Each result is made in its place in the array (no copy).
    @inlinable
    public static func map<T>(count: Int, parallelism: Int, _ transform: @Sendable (Int) -> T) -> [T] {
        Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            nonisolated(unsafe) let out = buffer
            forEachChunk(count: count, parallelism: parallelism) { range in
                for i in range { (out.baseAddress! + i).initialize(to: transform(i)) }
            }
            initialized = count
        }
    }

    /// `transform(i)` for every `i` in `0..<count`, as `map`; when any throws, the error of the
    /// lowest `i` that threw (a chunk stops at its first error; the values made are freed).
    @inlinable
    public static func mapUntilError<T, E: Error>(count: Int, parallelism: Int, _ transform: @Sendable (Int) throws(E) -> T) throws(E) -> [T] {
        let chunks = chunkCount(count: count, parallelism: parallelism)
        // Per chunk: where it stopped (its end when it finished) and the error that stopped it.
        var stops = [(end: Int, error: E?)](repeating: (0, nil), count: chunks)
        let values = stops.withUnsafeMutableBufferPointer { stopsBuffer in
            nonisolated(unsafe) let stopsOut = stopsBuffer
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                nonisolated(unsafe) let out = buffer
                forEachNumberedChunk(count: count, parallelism: parallelism) { c, range in
                    for i in range {
                        do throws(E) {
                            (out.baseAddress! + i).initialize(to: try transform(i))
                        } catch {
                            stopsOut[c] = (i, error)
                            return
                        }
                    }
                    stopsOut[c] = (range.upperBound, nil)
                }
                if stopsOut.contains(where: { $0.error != nil }) {
                    // Free what was made, chunk by chunk (chunk c covers from chunk c − 1's range end).
                    for c in 0..<chunks {
                        let start = count * c / chunks
                        (out.baseAddress! + start).deinitialize(count: max(0, stopsOut[c].end - start))
                    }
                    initialized = 0
                } else {
                    initialized = count
                }
            }
        }
        if let first = stops.first(where: { $0.error != nil }) { throw first.error! }
        return values
    }
}

/// Processor count.
public enum System {
    /// Active processors, read once per process: Foundation reads the cgroup files on every
    /// call (two opens and reads of /sys/fs/cgroup), which cost a single append as much as
    /// verifying its signature.
    public static let activeProcessorCount: Int = ProcessInfo.processInfo.activeProcessorCount
}
