import Dispatch
import Foundation
import Synchronization
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// What happened to one submitted envelope.
public enum AppendOutcome: Sendable, Equatable {
    /// Appended at this index.
    case appended(UInt64)
    /// Its event id was already in the log at this index; nothing was added.
    case existing(UInt64)

    /// The entry index either way.
    public var index: UInt64 {
        switch self {
        case .appended(let i), .existing(let i): return i
        }
    }
}

/// One row of `ledger log`.
public struct LogRow: Sendable {
    public var index: UInt64
    public var recordedAt: String
    public var type: String
    public var subject: String
    public var signerKeyID: String
    public var signerName: String
    public var eventID: String
}

/// A ledger: the front end that owns every rule over a storage that only keeps rows
/// (`LedgerStorage`). Appends parse each payload once, check the log and archive rules, fold
/// the archive's projections and hand the rows to the storage in one transaction per append or
/// batch; reads, views, proofs, exports and verification all go through the same storage
/// protocol, so that every storage gives the same bytes for the same events.
public final class Ledger: @unchecked Sendable {
    /// Where the rows live.
    public let storage: any LedgerStorage
    /// The ledger's origin.
    public let origin: String
    /// The key id that signed entry 0.
    public let genesisKeyID: String
    /// Entries between state checkpoints (docs/EVENTS.md §5), fixed when the ledger is created.
    public let stateCheckpointInterval: UInt64
    /// The projection version the stored projections were built with (when opened).
    let storedProjectionVersion: Int
    private let clock: any LedgerClock
    /// The tip after this object's last committed append (see `loadTip`).
    private let tipCache = Mutex<Tip?>(nil)

    /// Where messages say the ledger is (a file path for SQLite).
    public var path: String { storage.location }

    /// The ledger kept in `storage`; refuses storage with no genesis recorded.
    public init(storage: any LedgerStorage, clock: any LedgerClock = SystemClock()) throws(LedgerError) {
        self.storage = storage
        self.clock = clock
        let meta = try storage.read { (r) throws(LedgerError) in try r.meta() }
        guard let o = meta["origin"], let g = meta["genesis_keyid"] else {
            throw LedgerError(.notALedger, "\(storage.location) has no genesis entry recorded")
        }
        origin = o
        genesisKeyID = g
        storedProjectionVersion = meta["projection_version"].flatMap { Int($0) } ?? 0
        stateCheckpointInterval = meta["state_checkpoint_interval"].flatMap { UInt64($0) }.map { max(1, $0) } ?? Ledger.defaultStateCheckpointInterval
    }

    /// Opens an existing ledger file; refuses foreign, truncated or other-version files untouched.
    public static func open(path: String, readOnly: Bool = false, clock: any LedgerClock = SystemClock()) throws(LedgerError) -> Ledger {
        try open(at: SQLiteLocation(path: path), readOnly: readOnly, clock: clock)
    }

    /// Opens the ledger at `location` (a file or a PostgreSQL database).
    public static func open(at location: any LedgerLocation, readOnly: Bool = false, clock: any LedgerClock = SystemClock()) throws(LedgerError) -> Ledger {
        let storage = try location.open(readOnly: readOnly)
        do throws(LedgerError) { return try Ledger(storage: storage, clock: clock) } catch {
            try? storage.close()
            throw error
        }
    }

    public static let defaultStateCheckpointInterval: UInt64 = 32_768

    /// Creates a new ledger file whose entry 0 is `genesis`; refuses if the file exists.
    public static func create(
        path: String, genesis: Envelope, clock: any LedgerClock = SystemClock(), stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval
    ) throws(LedgerError) -> Ledger {
        try create(at: SQLiteLocation(path: path), genesis: genesis, clock: clock, stateCheckpointInterval: stateCheckpointInterval)
    }

    /// Creates a new ledger at `location` whose entry 0 is `genesis`; refuses a location that
    /// holds a ledger already.
    public static func create(
        at location: any LedgerLocation, genesis: Envelope, clock: any LedgerClock = SystemClock(),
        stateCheckpointInterval: UInt64 = defaultStateCheckpointInterval
    ) throws(LedgerError) -> Ledger {
        let (payload, decision) = try checkGenesis(genesis, clock: clock)
        try location.create { (storage) throws(LedgerError) in
            try initialize(storage, genesis: genesis, payload: payload, decision: decision, clock: clock, interval: stateCheckpointInterval)
        }
        return try open(at: location, clock: clock)
    }

    /// The genesis envelope checked against the log rules for entry 0.
    static func checkGenesis(_ genesis: Envelope, clock: any LedgerClock) throws(LedgerError) -> (EventPayload, EventRules.Decision) {
        let payload = try EventPayload(bytes: genesis.payload)
        let decision = try EventRules.check(envelope: genesis, payload: payload, index: 0, recordTime: clock.now(), state: MemoryLogState())
        return (payload, decision)
    }

    /// Writes the meta rows and entry 0 into new, empty storage, in one transaction.
    static func initialize(
        _ storage: any LedgerStorage, genesis: Envelope, payload: EventPayload, decision: EventRules.Decision, clock: any LedgerClock, interval: UInt64
    ) throws(LedgerError) {
        try storage.write { (w) throws(LedgerError) in
            try writeMeta(w, origin: payload.ledger, genesisKeyID: decision.signer.keyID, interval: max(1, interval))
            var tip = Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil)
            _ = try insert(
                w, state: StorageLogState(rows: w, origin: payload.ledger), envelope: genesis, payload: payload, decision: decision, tip: &tip,
                recordTime: clock.now())
        }
    }

    /// The meta rows of a new ledger.
    static func writeMeta(_ w: any StorageWriter, origin: String, genesisKeyID: String, interval: UInt64) throws(LedgerError) {
        try CheckpointRecord.write(w, CheckpointRecord())
        try w.setMeta("format", "incidentledger/1")
        try w.setMeta("origin", origin)
        try w.setMeta("genesis_keyid", genesisKeyID)
        try w.setMeta("projection_version", String(Archive.projectionVersion))
        try w.setMeta("state_checkpoint_interval", String(interval))
    }

    /// Closes the storage; later calls fail.
    public func close() throws(LedgerError) {
        try storage.close()
    }

    // MARK: - Append

    struct Tip: Sendable {
        var size: UInt64
        var frontier: MerkleFrontier
        var lastRecordTime: Timestamp?
        /// The leaf hash of the last entry `insert` added.
        var lastLeaf: Digest32?
    }

    /// Validates and appends a batch of signed envelopes in one transaction: all or nothing.
    /// An envelope whose event id is already logged (with the same content) returns `.existing`.
    /// A refusal names the envelope's position in the batch; nothing is written.
    ///
    /// Each payload is parsed once. Signatures are checked on background threads while the
    /// transaction does the rules and inserts: each against the key its key id names (key ids
    /// are hashes of the keys, so the lookup can happen before the rules); keys enrolled within
    /// the batch are checked after. `progress`, when given, is called now and then with the
    /// number of events checked so far.
    ///
    /// `openings` holds the sealed values of the events (docs/EVENTS.md §9) by commitment: each
    /// marker in a sealed field needs its opening here, and each opening a marker.
    public func append(
        _ envelopes: [Envelope], openings: [String: Sealing.Opening] = [:], progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> [AppendOutcome] {
        try appendGivingLeaves(envelopes, openings: openings, progress: progress).map(\.outcome)
    }

    /// `append`, also giving the leaf hash (RFC 9162) of each entry it added (nil for an event
    /// already in the log), as `ledger serve` replies with it.
    public func appendGivingLeaves(
        _ envelopes: [Envelope], openings: [String: Sealing.Opening] = [:], progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> [(outcome: AppendOutcome, leaf: Digest32?)] {
        if envelopes.isEmpty { return [] }
        try requireCurrentProjections()
        let recordTime = clock.now()
        // Large batches: encode each entry line and hash its leaf in parallel, guessing that the
        // entries land at the current size onwards with this record time; the transaction uses
        // a guess only where it came true and encodes the others itself.
        let guessedBase: UInt64? = envelopes.count < 64 ? nil : try size()
        var parsed = [Result<EventPayload, LedgerError>?](repeating: nil, count: envelopes.count)
        var prepared = [PreparedEntry?](repeating: nil, count: envelopes.count)
        parsed.withUnsafeMutableBufferPointer { out in
            prepared.withUnsafeMutableBufferPointer { lines in
                nonisolated(unsafe) let out = out
                nonisolated(unsafe) let lines = lines
                Parallel.forEachChunk(count: envelopes.count, parallelism: guessedBase == nil ? 1 : System.activeProcessorCount) { range in
                    for i in range {
                        do throws(LedgerError) { out[i] = .success(try EventPayload(bytes: envelopes[i].payload)) } catch { out[i] = .failure(error) }
                        if let guessedBase {
                            lines[i] = PreparedEntry(index: guessedBase + UInt64(i), recordedAt: recordTime, envelope: envelopes[i])
                        }
                    }
                }
            }
        }
        var payloads: [EventPayload] = []
        payloads.reserveCapacity(envelopes.count)
        for (i, p) in parsed.enumerated() {
            do throws(LedgerError) { payloads.append(try p!.get()) } catch {
                throw BatchError(position: i, count: envelopes.count, error: error).ledgerError
            }
        }
        // Small appends check signatures inline: the background machinery costs more than it saves.
        let known = envelopes.count < 16 ? [:] : try knownKeys(Set(envelopes.map(\.keyID)))
        let background = BackgroundSignatureCheck(envelopes: envelopes, keys: envelopes.map { known[$0.keyID] })
        var erased = false
        let (outcomes, tip) = try storage.write { (w) throws(LedgerError) in
            try self.appendLocked(
                w, envelopes: envelopes, payloads: payloads, prepared: prepared, recordTime: recordTime, known: known, background: background,
                openings: openings, erased: &erased, progress: progress)
        }
        tipCache.withLock { $0 = tip }  // only after the commit succeeded
        // An erasure (or a reader's revocation) deleted secrets: older copies of their pages may
        // still be in a journal or as dead rows. The erasure is committed whatever happens here;
        // a storage that cannot scrub now (another reader holds the journal) does it at its next
        // checkpoint.
        if erased { try? storage.scrub() }
        return outcomes
    }

    /// Every string in `value` that is an entity id, each once.
    private static func entityIDs(in value: JSONValue, into out: inout [String], listed: inout Set<String>) {
        switch value {
        case .string(let s): if EntityID.kind(of: s) != nil, listed.insert(s).inserted { out.append(s) }
        case .array(let items): for v in items { entityIDs(in: v, into: &out, listed: &listed) }
        case .object(let o): for m in o.members { entityIDs(in: m.value, into: &out, listed: &listed) }
        default: break
        }
    }

    /// Public keys of the given key ids that are already enrolled (revoked or not).
    private func knownKeys(_ keyIDs: Set<String>) throws(LedgerError) -> [String: Ed25519.PublicKey] {
        try storage.read { (r) throws(LedgerError) in
            var out: [String: Ed25519.PublicKey] = [:]
            for id in keyIDs {
                if let record = try r.key(id) { out[id] = record.publicKey }
            }
            return out
        }
    }

    /// The log's tip, read inside the write transaction. The Merkle frontier of the last
    /// append by this object is reused when the log has not moved since (same size and last
    /// record time); otherwise it is rebuilt from the stored nodes.
    private func loadTip(_ rows: any StorageReader) throws(LedgerError) -> Tip {
        guard let last = try rows.lastEntry() else { return Tip(size: 0, frontier: MerkleFrontier(), lastRecordTime: nil) }
        let size = last.index + 1
        let time = Timestamp.parseRecordTime(last.recordedAt)
        if let cached = tipCache.withLock({ $0 }), cached.size == size, cached.lastRecordTime == time {
            return cached
        }
        do {
            return Tip(size: size, frontier: try MerkleFrontier(size: size, source: rows), lastRecordTime: time)
        } catch {
            throw LedgerError.storage(error, location: path)
        }
    }

    private func appendLocked(
        _ w: any StorageWriter, envelopes: [Envelope], payloads: [EventPayload], prepared: [PreparedEntry?], recordTime: Timestamp,
        known: [String: Ed25519.PublicKey], background: BackgroundSignatureCheck, openings: [String: Sealing.Opening], erased: inout Bool,
        progress: ((UInt64, UInt64) -> Void)?
    ) throws(LedgerError) -> ([(outcome: AppendOutcome, leaf: Digest32?)], Tip) {
        var usedOpenings = Set<String>()
        var outcomes: [(outcome: AppendOutcome, leaf: Digest32?)] = []
        var appended = [Bool](repeating: false, count: envelopes.count)
        var deferredPositions: [Int] = []
        var deferredKeys: [Ed25519.PublicKey?] = []
        let projection = ProjectionWriter(rows: w, location: path, interval: stateCheckpointInterval)
        let state = StorageLogState(rows: w, origin: origin)
        // Also for one event: a storage whose reads are round trips makes them one. The
        // entities the fold will read: each event's subject, and the ids its body names
        // (facilities, sources, actors, incidents), which may have been made by earlier appends.
        if w.prefetches {
            var entities: [String] = []
            var listed = Set<String>()
            for p in payloads where listed.insert(p.subject).inserted { entities.append(p.subject) }
            for p in payloads { Self.entityIDs(in: .object(p.body), into: &entities, listed: &listed) }
            try w.prefetch(eventIDs: payloads.map { UUIDv7.parse($0.id)! }, subjects: entities, keyIDs: envelopes.map(\.keyID))
        }
        // After the prefetch, which also fetches the last entry.
        var tip = try loadTip(w)
        guard tip.size > 0 else { throw LedgerError(.notALedger, "\(path) has no genesis entry") }
        for (i, envelope) in envelopes.enumerated() {
            if i % 1024 == 0 { progress?(UInt64(i), UInt64(envelopes.count)) }
            let payload = payloads[i]
            do throws(LedgerError) {
                if let existing = try existingIndex(w, envelope: envelope, payload: payload, index: tip.size) {
                    outcomes.append((.existing(existing), nil))
                    if let type = payload.eventType { for m in Sealing.markers(type: type, body: payload.body) { usedOpenings.insert(m.commitment) } }
                    continue
                }
                // The record time `insert` gives this entry (record times never decrease).
                let time = max(recordTime, tip.lastRecordTime ?? recordTime)
                let decision = try EventRules.check(
                    envelope: envelope, payload: payload, index: tip.size, recordTime: time, state: state, verifySignature: false)
                // `expects` equals the subject's revision (checked above): 0 means no earlier event.
                try projection.apply(payload, index: tip.size, recordTime: time, subjectIsNew: payload.expects == 0)
                if let type = payload.eventType, type.isArchive {
                    if try Self.storeSealed(w, payload: payload, type: type, index: tip.size, openings: openings, used: &usedOpenings, projection: projection) {
                        erased = true
                    }
                }
                if known[envelope.keyID] == nil {
                    deferredPositions.append(i)
                    deferredKeys.append(decision.signer.publicKey)
                }
                let outcome = try Self.insert(
                    w, state: state, envelope: envelope, payload: payload, decision: decision, tip: &tip, recordTime: recordTime, prepared: prepared[i])
                outcomes.append((outcome, tip.lastLeaf))
                appended[i] = true
                // A storage over a network stores the rows so far while this loop folds on.
                if i % 1024 == 1023 { w.sendAhead() }
            } catch {
                // The storage failed (a write sent ahead refused, the connection lost): not this
                // event's fault, so no position; the transaction is rolled back.
                if error.code == .io { throw error }
                // An earlier event with a bad signature is the first failure, not this one.
                var firstBadSignature = background.failures().filter { $0 < i && appended[$0] }.min()
                for (position, key) in zip(deferredPositions, deferredKeys) where position < (firstBadSignature ?? i) {
                    if !envelopes[position].hasValidSignature(by: key!) { firstBadSignature = position; break }
                }
                if let bad = firstBadSignature {
                    throw BatchError(position: bad, count: envelopes.count, error: Self.badSignature(envelopes[bad].keyID)).ledgerError
                }
                throw BatchError(position: i, count: envelopes.count, error: error).ledgerError
            }
        }
        if let unused = openings.keys.sorted().first(where: { !usedOpenings.contains($0) }) {
            throw LedgerError(.malformed, "an opening was given for sealed value \(unused), which no sealed field of these events holds")
        }
        try projection.flush()
        w.sendAhead()
        // Signatures: the background checks, then the keys enrolled within this batch (while a
        // storage over a network stores the rows, which are rolled back if one fails).
        let late: [Int]
        if deferredPositions.count < 16 {
            late = zip(deferredPositions, deferredKeys).filter { !envelopes[$0.0].hasValidSignature(by: $0.1!) }.map(\.0)
        } else {
            late = BackgroundSignatureCheck(envelopes: deferredPositions.map { envelopes[$0] }, keys: deferredKeys).failures().map { deferredPositions[$0] }
        }
        if let bad = (background.failures() + late).filter({ appended[$0] }).min() {
            throw BatchError(position: bad, count: envelopes.count, error: Self.badSignature(envelopes[bad].keyID)).ledgerError
        }
        return (outcomes, tip)
    }

    public static func badSignature(_ keyID: String) -> LedgerError {
        LedgerError.signer("signature does not verify for key \(keyID): the payload was altered after signing or signed by another key")
    }

    /// If this event id is already logged: its index when the event is the same (same signer,
    /// type, subject and body), a conflict error when the id was used for another event.
    private func existingIndex(_ rows: any StorageReader, envelope: Envelope, payload: EventPayload, index: UInt64) throws(LedgerError) -> UInt64? {
        guard let (idx, bytes) = try rows.entry(eventID: UUIDv7.parse(payload.id)!) else { return nil }
        let line = try EntryLine(bytes: bytes)
        // The signer's rights and signature first: an envelope that could not be appended as a new
        // event (unknown, revoked or under-privileged key, bad signature) learns nothing about
        // which ids are in use; it gets the answer it would get with a fresh id. Only the exact
        // bytes already logged are answered with their index whatever the key's state now.
        if line.envelope.payload != envelope.payload || line.envelope.signature != envelope.signature {
            let signer = try EventRules.authorize(envelope: envelope, payload: payload, index: index, state: StorageLogState(rows: rows, origin: origin))
            guard envelope.hasValidSignature(by: signer.publicKey) else { throw Self.badSignature(envelope.keyID) }
        }
        guard payload.ledger == origin else {
            throw LedgerError.signer("event belongs to ledger \"\(payload.ledger.prefix(80))\", not \"\(origin)\"; it cannot be replayed here")
        }
        let old = try EventPayload(bytes: line.envelope.payload, requireNFC: false)
        // Only the same event, validly signed for this ledger, counts as a re-submission.
        guard old.type == payload.type, old.subject == payload.subject, old.body == payload.body, line.envelope.keyID == envelope.keyID
        else {
            throw LedgerError(.conflict, "event id \(payload.id) is already used at entry \(idx) by a different event; give this event a new id")
        }
        return idx
    }

    /// Hands the rows of one checked entry to the storage: the entry, the Merkle nodes it
    /// completes, its subject's revision and any key change.
    static func insert(
        _ w: any StorageWriter, state: StorageLogState, envelope: Envelope, payload: EventPayload, decision: EventRules.Decision, tip: inout Tip,
        recordTime: Timestamp, prepared: PreparedEntry? = nil
    ) throws(LedgerError) -> AppendOutcome {
        let index = tip.size
        let time = max(recordTime, tip.lastRecordTime ?? recordTime)
        let entry =
            prepared.flatMap { $0.index == index && $0.recordedAt == time ? $0 : nil }
            ?? PreparedEntry(index: index, recordedAt: time, envelope: envelope)
        var row = EntryRow(
            index: index, recordedAt: time.recordTimeText, eventID: UUIDv7.parse(payload.id)!, type: payload.type, subject: payload.subject,
            signer: envelope.keyID, leaf: entry.leaf, line: entry.line)
        row.parsed = EntryLine(index: index, recordedAt: time, envelope: envelope)
        try w.insertEntry(row)
        var nodeError: LedgerError?
        tip.frontier.append(leaf: entry.leaf) { node in
            guard node.level > 0, nodeError == nil else { return }
            do throws(LedgerError) { try w.insertMerkleNode(level: node.level, index: node.index, hash: node.hash) } catch { nodeError = error }
        }
        if let nodeError { throw nodeError }
        try w.bumpRevision(of: payload.subject)
        var keyChanged: String?
        switch decision.keyEffect {
        case .enroll(let r)?:
            try w.insertKey(KeyRecord(keyID: r.keyID, publicKey: r.publicKey, name: r.name, roles: r.roles, enrolledAt: r.enrolledAt, revokedAt: nil))
            keyChanged = r.keyID
        case .revoke(let keyID, let at)?:
            try w.revokeKey(keyID, at: at)
            keyChanged = keyID
        case nil:
            break
        }
        state.inserted(subject: payload.subject, keyChanged: keyChanged)
        tip.size += 1
        tip.lastRecordTime = time
        tip.lastLeaf = entry.leaf
        return .appended(index)
    }

    /// Refuses to maintain or read projections built by another version of the fold.
    public func requireCurrentProjections() throws(LedgerError) {
        guard storedProjectionVersion == Archive.projectionVersion else {
            throw LedgerError(
                .notALedger,
                "\(path) holds projections of version \(storedProjectionVersion); this tool builds version \(Archive.projectionVersion): run `ledger "
                    + "rebuild --ledger \(path)` first (the log itself is unchanged)")
        }
    }

    // MARK: - Reading

    /// Runs `body` in one read transaction of the storage.
    func read<T>(_ body: (any StorageReader) throws(LedgerError) -> T) throws(LedgerError) -> T {
        try storage.read(body)
    }

    /// Number of entries.
    public func size() throws(LedgerError) -> UInt64 {
        try read { (r) throws(LedgerError) in try r.size() }
    }

    /// The RFC 9162 root of the first `size` entries, from the stored nodes.
    public func root(size: UInt64) throws(LedgerError) -> Digest32 {
        try read { (r) throws(LedgerError) in try Self.merkle(path) { () throws in try MerkleTree.root(size: size, source: r) } }
    }

    /// An inclusion proof for entry `index` in the tree of `size` entries.
    public func inclusionProof(index: UInt64, size: UInt64) throws(LedgerError) -> [Digest32] {
        try read { (r) throws(LedgerError) in try Self.merkle(path) { () throws in try MerkleTree.inclusionProof(index: index, size: size, source: r) } }
    }

    /// Inclusion proofs for several entries in the tree of `size` entries, read in one
    /// transaction; a node two proofs share is read once.
    public func inclusionProofs(indexes: [UInt64], size: UInt64) throws(LedgerError) -> [[Digest32]] {
        try read { (r) throws(LedgerError) in
            let cached = CachedNodes(r)
            return try Self.merkle(path) { () throws in try indexes.map { try MerkleTree.inclusionProof(index: $0, size: size, source: cached) } }
        }
    }

    /// The latest signed checkpoint (nil: none yet).
    public func lastCheckpoint() throws(LedgerError) -> (size: UInt64, note: [UInt8])? {
        try read { (r) throws(LedgerError) in try r.lastCheckpoint() }
    }

    /// A consistency proof between tree sizes `from` and `to`.
    public func consistencyProof(from: UInt64, to: UInt64) throws(LedgerError) -> [Digest32] {
        try read { (r) throws(LedgerError) in try Self.merkle(path) { () throws in try MerkleTree.consistencyProof(from: from, to: to, source: r) } }
    }

    /// Runs a Merkle computation over stored nodes, mapping its failure to a ledger error.
    static func merkle<T>(_ location: String, _ body: () throws -> T) throws(LedgerError) -> T {
        do { return try body() } catch { throw LedgerError.storage(error, location: location) }
    }

    /// Every key ever enrolled, in enrollment order.
    public func keys() throws(LedgerError) -> [KeyRecord] {
        try read { (r) throws(LedgerError) in try r.keys() }
    }

    /// The current revision of `subject` (0 if no event names it).
    public func revision(of subject: String) throws(LedgerError) -> UInt64 {
        try read { (r) throws(LedgerError) in try r.revision(of: subject) }
    }

    /// Rows for `ledger log`, from `start`, at most `limit`.
    public func logRows(from start: UInt64, limit: Int) throws(LedgerError) -> [LogRow] {
        try read { (r) throws(LedgerError) in
            let names = Dictionary(try r.keys().map { ($0.keyID, $0.name) }, uniquingKeysWith: { a, _ in a })
            return try r.entries(from: start, below: UInt64.max, limit: limit).map { e in
                LogRow(
                    index: e.index, recordedAt: e.recordedAt, type: e.type, subject: e.subject, signerKeyID: e.signer, signerName: names[e.signer] ?? "?",
                    eventID: UUIDv7.format(e.eventID))
            }
        }
    }

    /// Calls `body` with consecutive batches of stored entry lines (and the stored leaf hash of
    /// each), in index order, holding one read transaction so the view is consistent.
    public func forEachBatch(
        batchSize: Int = 4096, from first: UInt64 = 0, upTo limit: UInt64? = nil,
        _ body: ([(index: UInt64, line: [UInt8], leaf: Digest32?)]) throws(LedgerError) -> Void
    ) throws(LedgerError) {
        try read { (r) throws(LedgerError) in
            var next = first
            let end = limit ?? UInt64.max
            while next < end {
                let batch = try r.entries(from: next, below: end, limit: batchSize).map { (index: $0.index, line: $0.line, leaf: $0.leaf) }
                if batch.isEmpty { break }
                try body(batch)
                next = batch.last!.index + 1
                if batch.count < batchSize { break }
            }
        }
    }

    /// Stored signed checkpoints, ascending by tree size.
    public func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] {
        try read { (r) throws(LedgerError) in try r.checkpoints() }
    }

    /// Signs and stores a checkpoint of the current tree with a key holding the log role,
    /// after checking that the tree is consistent with the previous checkpoint.
    public func checkpoint(signingKey: Ed25519.PrivateKey) throws(LedgerError) -> SignedNote {
        let keyID = KeyID.of(signingKey.publicKey)
        return try storage.write { (w) throws(LedgerError) in
            let size = try w.size()
            guard let key = try w.key(keyID) else {
                throw LedgerError(.refused, "key \(keyID) is not enrolled in this ledger; enroll it with the log role first")
            }
            guard key.roles.contains(.log) else {
                throw LedgerError(.refused, "key \(keyID) (\(key.name)) lacks the log role needed to sign checkpoints")
            }
            guard key.isActive(at: size) else {
                throw LedgerError(.refused, "key \(keyID) (\(key.name)) is revoked or not yet enrolled at tree size \(size)")
            }
            let root = try Self.merkle(path) { () throws in try MerkleTree.root(size: size, source: w) }
            if let prev = try w.checkpoints().last {
                let prevCP = try Checkpoint(text: SignedNote(bytes: prev.note).text)
                guard prev.size <= size else {
                    throw LedgerError(.verificationFailed, "the tree has \(size) entries but the last checkpoint covers \(prev.size): the log lost entries")
                }
                let proof = try Self.merkle(path) { () throws in try MerkleTree.consistencyProof(from: prev.size, to: size, source: w) }
                guard MerkleTree.verifyConsistency(from: prev.size, to: size, fromRoot: prevCP.root, toRoot: root, proof: proof) else {
                    throw LedgerError(
                        .verificationFailed,
                        "refusing to sign: the tree of \(size) entries is not consistent with the checkpoint at size \(prev.size) (the log "
                            + "was rewritten); run `ledger verify`")
                }
                if prev.size == size { return try SignedNote(bytes: prev.note) }
            }
            // The checkpoint also commits to the archive's view at this size (FORMAT.md §7): the
            // hash of the snapshot `ledger snapshot --at-size SIZE` writes, from the current states.
            try requireCurrentProjections()
            var states: [[UInt8]] = []
            try w.forEachEntity { (_, state) throws(LedgerError) in states.append(state) }
            let asOf = size > 0 ? try w.recordedAt(size - 1) ?? "" : ""
            let view = Snapshot.hash(header: Snapshot.Header(origin: origin, treeSize: size, rootHash: root.base64, asOf: asOf), entities: states)
            let note = SignedNote.sign(text: Checkpoint(origin: origin, size: size, root: root, view: view).text, name: origin, key: signingKey)
            try w.insertCheckpoint(size: size, note: note.encoded())
            try CheckpointRecord.append(w, size: size, root: root, location: path)
            return note
        }
    }
}

/// An entry line encoded and hashed, for an assumed index and record time.
struct PreparedEntry: Sendable {
    let index: UInt64
    let recordedAt: Timestamp
    let line: [UInt8]
    let leaf: Digest32

    init(index: UInt64, recordedAt: Timestamp, envelope: Envelope) {
        self.index = index
        self.recordedAt = recordedAt
        line = EntryLine(index: index, recordedAt: recordedAt, envelope: envelope).encoded()
        leaf = line.withUnsafeBytes { MerkleHash.leaf($0) }
    }

    /// The entry `line` already is: bytes `EntryLine(bytes:)` accepted, which are canonical, so
    /// they are the bytes `encoded()` would write for it.
    init(parsed: EntryLine, line: [UInt8]) {
        index = parsed.index
        recordedAt = parsed.recordedAt
        self.line = line
        leaf = line.withUnsafeBytes { MerkleHash.leaf($0) }
    }
}

/// A failure inside a batch, located at the envelope's position in the batch.
struct BatchError {
    var position: Int
    var count: Int
    var error: LedgerError

    var ledgerError: LedgerError {
        var e = error
        if count > 1 { e.position = position }
        return e
    }
}

/// Stored Merkle nodes, each read once per use.
private final class CachedNodes: MerkleNodeSource {
    let source: any MerkleNodeSource
    var nodes: [UInt64: Digest32] = [:]

    init(_ source: any MerkleNodeSource) { self.source = source }

    var storedSize: UInt64? { source.storedSize }

    func node(level: Int, index: UInt64) throws -> Digest32 {
        let key = UInt64(level) << 58 | index
        if let hit = nodes[key] { return hit }
        let hash = try source.node(level: level, index: index)
        nodes[key] = hash
        return hash
    }
}
