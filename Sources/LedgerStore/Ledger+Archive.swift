import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// Reads entity states inside a write transaction and collects the projection rows each
/// appended event changes; `flush` writes them before the transaction commits.
final class ProjectionWriter: EntityLookup {
    private let rows: any StorageWriter
    private let path: String
    /// Where messages say the ledger is.
    var location: String { path }
    private let interval: UInt64
    private var overlay: [String: CanonicalObject] = [:]
    private var dirty: [String] = []
    private var dirtySet = Set<String>()
    private var concerns: [(entity: String, index: UInt64)] = []
    private var versions: [(id: String, size: UInt64, state: [UInt8])] = []
    /// Entities created in this transaction (no row to replace).
    private var created = Set<String>()
    /// Incidents whose index row an event of this transaction may have changed
    /// (`ArchiveEvent.changesIncidentIndex`); the index rows of the other changed incidents stay.
    private var indexChanged = Set<String>()
    /// The subject of the event being applied: its state (if any) was handed to the fold, so a
    /// lookup must not load it again from the rows.
    private var absent: String?

    init(rows: any StorageWriter, location: String, interval: UInt64) {
        self.rows = rows
        self.path = location
        self.interval = interval
    }

    /// The ids starting with `prefix` whose states this transaction changed.
    func changedIDs(prefix: String) -> [String] { dirty.filter { $0.hasPrefix(prefix) } }

    func state(of id: String) throws(LedgerError) -> JSONObject? { try entity(id)?.object }

    func contains(_ id: String) throws(LedgerError) -> Bool { try entity(id) != nil }

    func entity(_ id: String) throws(LedgerError) -> CanonicalObject? {
        if let s = overlay[id] { return s }
        if absent == id { return nil }
        guard let blob = try rows.entityState(id) else { return nil }
        let s = try ProjectionRows.decodeCanonicalState(blob, id: id, path: path)
        overlay[id] = s
        return s
    }

    /// Applies an archive event at `index` (a no-op for log events): checks its body and the
    /// archive rules, and records the changed states. At a state-checkpoint boundary, first
    /// records the state of every entity changed since the previous boundary.
    /// `subjectIsNew` says the log has no earlier event on the subject (its revision is 0), so
    /// there is no state to look up.
    func apply(_ payload: EventPayload, index: UInt64, recordTime: Timestamp, subjectIsNew: Bool) throws(LedgerError) {
        if index > 0, index % interval == 0 { try checkpoint(at: index) }
        guard let type = payload.eventType,
            let checked = try Archive.check(
                type: type, subject: payload.subject, body: payload.body, lookup: self, replay: false, latestDay: Archive.latestDay(recordedAt: recordTime))
        else { return }
        // The subject's state is taken out of the overlay and handed to the fold, which changes
        // it in place (no copy per event); a refused event ends the whole append (its
        // transaction is rolled back and this writer dropped), so nothing needs it back.
        var current: CanonicalObject?
        if !subjectIsNew {
            current = overlay.removeValue(forKey: payload.subject)
            if current == nil, let blob = try rows.entityState(payload.subject) {
                current = try ProjectionRows.decodeCanonicalState(blob, id: payload.subject, path: path)
            }
        }
        absent = payload.subject
        defer { absent = nil }
        let change = try Archive.apply(
            checked, subject: payload.subject, body: payload.body, index: index, current: consume current, lookup: self, replay: false)
        if subjectIsNew, overlay[payload.subject] == nil { created.insert(payload.subject) }
        if checked.event.changesIncidentIndex { indexChanged.insert(payload.subject) }
        for (id, s) in change.changed {
            overlay[id] = s
            if dirtySet.insert(id).inserted { dirty.append(id) }
        }
        var seen = Set<String>()
        for id in change.concerns + change.changed.map(\.id) where seen.insert(id).inserted { concerns.append((id, index)) }
    }

    /// The states after entries 0…size−1 of the entities changed by entries size−interval…size−1
    /// (those entries are already inserted in this transaction).
    private func checkpoint(at size: UInt64) throws(LedgerError) {
        let ids = try ProjectionRows.changedEntities(rows, from: size - interval, below: size)
        if rows.prefetches { try rows.prefetchStates(ids.filter { overlay[$0] == nil && EntityID.kind(of: $0) != nil }) }
        for id in ids where EntityID.kind(of: id) != nil {
            guard let s = try entity(id) else { continue }
            versions.append((id, size, s.encoded))
        }
    }

    /// Writes the changed entities, their index rows, the concerns and any state checkpoint.
    func flush() throws(LedgerError) {
        for id in dirty {
            let new = created.contains(id)
            try ProjectionRows.write(id: id, state: overlay[id]!, rows: rows, replace: !new, index: new || indexChanged.contains(id))
        }
        try rows.insertConcerns(concerns)
        for v in versions { try rows.insertStateVersion(id: v.id, size: v.size, state: .canonical(v.state)) }
    }
}

/// Writing and reading projection rows; the same code serves appends and rebuilds.
enum ProjectionRows {
    static func decodeState(_ blob: [UInt8], id: String, path: String) throws(LedgerError) -> JSONObject {
        do {
            return try blob.withUnsafeBytes { raw throws(JSONError) in
                try JSONParser.parseObject(raw, limits: JSONParser.Limits(maxBytes: Int.max, maxDepth: 64, requireNFC: false))
            }
        } catch {
            throw LedgerError(.notALedger, "\(path) is damaged: the stored state of \(id) is not valid JSON (\(error)); run `ledger rebuild`")
        }
    }

    /// A stored state as the fold keeps it. Bytes in canonical form (as this tool writes every
    /// state) are cut into members in one pass; any other bytes are parsed and checked as
    /// `decodeState` does, so a damaged row is refused with the same message.
    static func decodeCanonicalState(_ blob: [UInt8], id: String, path: String) throws(LedgerError) -> CanonicalObject {
        if let s = CanonicalObject(validatingCanonical: blob) { return s }
        return CanonicalObject(try decodeState(blob, id: id, path: path))
    }

    /// The subjects of entries `from`…`below`−1 (to the end when nil) and the survivor of each
    /// merge among them: the entities those entries changed (plus key ids, which are no entities).
    static func changedEntities(_ rows: any StorageReader, from: UInt64, below: UInt64?) throws(LedgerError) -> Set<String> {
        var ids = try rows.subjects(from: from, below: below ?? UInt64.max)
        for line in try rows.entryLines(type: EventType.incidentMerged.name, from: from, below: below ?? UInt64.max) {
            let entry = try EntryLine(bytes: line)
            if let into = try EventPayload(bytes: entry.envelope.payload, requireNFC: false).body["into"]?.stringValue { ids.insert(into) }
        }
        return ids
    }

    /// Writes an entity's row and, for an incident when `index` says so, its index row and links.
    static func write(id: String, state: CanonicalObject, rows: any StorageWriter, replace: Bool, index: Bool) throws(LedgerError) {
        let kind = state.string("entity") ?? ""
        try rows.putEntity(id: id, kind: kind, state: state.encoded, replace: replace)
        guard index, kind == EntityKind.incident.rawValue else { return }
        try rows.putIncidentIndex(id: id, row: IncidentIndexRow(state), replace: replace)
    }
}

/// What a fold needs of an entry: its index, its payload's type (nil: a name the catalogue does
/// not have), subject and body (in canonical form, whose members the states keep as bytes), and
/// the last day its dates may begin on (yyyymmdd). With `prechecked`, the archive's stateless
/// checks were made where it was decoded. A struct, not a tuple: arrays of tuples are copied
/// and freed through the runtime's generic witnesses.
struct DecodedEntry {
    var index: UInt64
    var type: EventType?
    var subject: String
    var body: CanonicalObject
    var latestDay: Int
    var prechecked: Archive.Prechecked?
    /// The body's tree, kept without `prechecked` when the payload was decoded whole: a body
    /// whose bytes are not canonical is checked from its tree, whose members' order (its
    /// document's) its errors follow.
    var tree: JSONObject?

    /// From a payload decoded whole; with `precheck`, the stateless checks are made (from its
    /// body's tree).
    init(index: UInt64, payload: EventPayload, latestDay: Int, precheck: Bool) {
        self.init(index: index, payloadType: payload.eventType, subject: payload.subject, tree: payload.body, latestDay: latestDay, precheck: precheck)
    }

    /// From a payload's type, subject and body's tree.
    private init(index: UInt64, payloadType: EventType?, subject: String, tree: JSONObject, latestDay: Int, precheck: Bool) {
        self.index = index
        type = payloadType
        self.subject = subject
        body = CanonicalObject(tree)
        self.latestDay = latestDay
        if precheck {
            prechecked = Archive.Prechecked(type: type, subject: subject, body: tree, latestDay: latestDay)
        } else {
            self.tree = tree
        }
    }

    /// From a payload's parts, its body's canonical bytes as signed (`EventPayload.foldParts`).
    init(index: UInt64, type: EventType?, subject: String, body: CanonicalObject, latestDay: Int, precheck: Bool) {
        self.index = index
        self.type = type
        self.subject = subject
        self.body = body
        self.latestDay = latestDay
        if precheck { prechecked = self.precheck() }
    }

    /// From an entry the log's checks passed (`LogVerifier.VerifiedEntry`), prechecked: from its
    /// body's bytes when it was read as bytes, else from its tree.
    init(index: UInt64, type: EventType?, subject: String, body: BodyMembers, latestDay: Int) {
        switch body {
        case .canonical(let c): self.init(index: index, type: type, subject: subject, body: c, latestDay: latestDay, precheck: true)
        case .tree(let tree):
            self.init(index: index, payloadType: type, subject: subject, tree: tree, latestDay: latestDay, precheck: true)
        }
    }

    /// The archive's stateless checks of this entry (its body's tree when it has one).
    func precheck() -> Archive.Prechecked {
        if let tree { return Archive.Prechecked(type: type, subject: subject, body: tree, latestDay: latestDay) }
        return Archive.Prechecked(type: type, subject: subject, body: body, latestDay: latestDay)
    }
}

/// Work running on another thread (a batch's decoding, a slice's entity rows), waited for when
/// its result is needed.
final class Ahead<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: T?

    /// Starts `work` on another thread (on `queue`, after the work queued there before it).
    init(on queue: DispatchQueue = .global(), _ work: @escaping @Sendable () -> T) {
        queue.async { [self] in
            result = work()
            done.signal()
        }
    }

    /// Waits for the result (once).
    func get() -> T {
        done.wait()
        return result!
    }
}

/// A value handed to another thread, which takes it (once) or frees it (`drop`: its memory is
/// freed there, off the thread that used it).
final class Handoff<T>: @unchecked Sendable {
    private var value: T?
    init(_ value: consuming T) { self.value = value }
    func take() -> T {
        defer { value = nil }
        return value!
    }
    func drop() { value = nil }
}

/// The rows of one state checkpoint: the states, before entry `size`, of the entities changed
/// since the checkpoint before it, in id order.
struct StateCheckpoint {
    let size: UInt64
    let rows: [(id: String, state: StateBytes)]
}

/// `rebuild`'s `ProjectionFold` on a thread of its own: batches are folded one after another in
/// the order given, while the thread that gives them (the one holding the SQLite connection)
/// reads the next entry lines and writes the state checkpoints of the batches already folded.
/// At a million events, SQLite's work and the kernel's writes of its pages were about two
/// fifths of the fold's thread, which was all `rebuild`'s wall time.
final class BackgroundFold: @unchecked Sendable {
    private let queue = DispatchQueue(label: "ledger.rebuild.fold")
    /// Used on `queue` while batches are folding; by the caller once it has waited for every
    /// batch given (`finish`).
    private var projection: ProjectionFold
    /// Set on `queue` by a refused batch: the batches queued after it are not folded.
    private var stopped = false

    init(_ fold: ProjectionFold) { projection = fold }

    /// Queues `decoded` to be folded after the batches given before it; the result, when its
    /// fold is done, is the state checkpoints to write, or the broken rule that ended the fold
    /// (then the batches after it are not folded).
    func fold(_ decoded: consuming [DecodedEntry]) -> Ahead<Result<[StateCheckpoint], LedgerError>> {
        let batch = Handoff(decoded)
        return Ahead(on: queue) { [self] in
            guard !stopped else { return .success([]) }
            do throws(LedgerError) { return .success(try projection.fold(batch.take())) } catch {
                stopped = true
                return .failure(error)
            }
        }
    }

    /// `ProjectionFold.finish`, on the caller's thread, after it has waited for every batch's fold.
    func finish(into target: any StorageWriter) throws(LedgerError) -> RebuildReport { try projection.finish(into: target) }
}

/// The fold of the whole log, batch by batch and in log order, into empty projection tables:
/// `rebuild` feeds it entries it decodes, `verify` the entries its log checks passed. Refuses,
/// naming the entry, an event that breaks an archive rule; after that the value must not be used.
struct ProjectionFold {
    /// Where the fold's rows go: written (`rebuild`: the state checkpoints `fold` returns, the
    /// rest by `finish`; states packed when `packs`, as a storage that packs states keeps them),
    /// or, for `verify`, state checkpoints checked and nothing written.
    private enum Destination {
        case write(packs: Bool)
        case check(StateVersionCheck)
    }
    private let destination: Destination
    let interval: UInt64
    private var report = RebuildReport(events: 0, entities: 0, seconds: 0)
    private var state: ArchiveState
    private var concerns: [String: Concerned] = [:]
    /// The entities changed since the last state checkpoint, each once: an entity is added when
    /// its `Concerned.changedIn` is not this checkpoint period (`period`), so that the table
    /// of concerns, looked up for the event anyway, also tells whether it is listed.
    private var changedSinceCheckpoint: [String] = []
    private var period: UInt64 = 1

    /// `rebuild`'s fold: the caller writes the state checkpoints `fold` returns, then `finish`
    /// the rest, into a storage that packs states when `packs` (`StorageWriter.packsStates`).
    init(packingStates packs: Bool, interval: UInt64, cooling: ArchiveState.Cooling) {
        destination = .write(packs: packs)
        self.interval = interval
        state = ArchiveState(cooling: cooling)
    }

    /// `verify`'s fold: the state checkpoints go to `versions`, and nothing is written
    /// (`finish` must not be called; `concernRows()` and `entityRows()` give the rest).
    init(checking versions: StateVersionCheck, interval: UInt64, cooling: ArchiveState.Cooling) {
        destination = .check(versions)
        self.interval = interval
        state = ArchiveState(cooling: cooling)
    }

    /// Folds the next entries (indexes following those already folded). At each multiple of
    /// the interval, first makes the state checkpoint of every entity changed since the last:
    /// returned, to be written in order (`rebuild`), or checked (`verify`: none is returned).
    mutating func fold(_ decoded: consuming [DecodedEntry]) throws(LedgerError) -> [StateCheckpoint] {
        var checkpoints: [StateCheckpoint] = []
        for i in decoded.indices {
            let index = decoded[i].index
            if index > 0, index % interval == 0 {
                let ids = changedSinceCheckpoint.sorted { JSONWriter.utf8Precedes($0, $1) }
                func rows(stored: Bool) -> [(id: String, state: StateBytes)] {
                    Array(zip(ids, state.checkpointStates(ids, before: index, stored: stored))).map { (id: $0.0, state: $0.1) }
                }
                switch destination {
                case .write(let packs): checkpoints.append(StateCheckpoint(size: index, rows: rows(stored: packs)))
                case .check(let versions): try versions.check(size: index, rows(stored: false))
                }
                changedSinceCheckpoint.removeAll(keepingCapacity: true)
                period += 1
            }
            guard decoded[i].type != nil else { continue }
            state.coolIfDue(before: index)
            let change: ArchiveChange?
            do throws(LedgerError) {
                // A refused event ends the fold, so the fold may own each state it changes.
                let prechecked = decoded[i].prechecked ?? decoded[i].precheck()
                change = try state.applyOwning(prechecked, subject: decoded[i].subject, body: decoded[i].body, index: index)
            } catch {
                throw LedgerError(.verificationFailed, "entry \(index) breaks an archive rule: \(error.message)", index: index)
            }
            guard let change else { continue }
            report.events += 1
            // One lookup an entity: a changed entity's concerns entry also says whether it is listed for the checkpoint.
            for (id, _) in change.changed {
                if concerns[id, default: Concerned()].add(index, changedIn: period) { changedSinceCheckpoint.append(id) }
            }
            for id in change.concerns where !change.changed.contains(where: { $0.id == id }) { concerns[id, default: Concerned()].add(index) }
        }
        // Freeing a batch's entries (their bodies and typed events) is handed to another thread.
        let done = Handoff(decoded)
        DispatchQueue.global().async { done.drop() }
        return checkpoints
    }

    /// Writes into `target` the `concerns` rows and every entity's row (in key order: sequential
    /// B-tree appends), after the state checkpoints `fold` returned.
    /// `verify` calls `concernRows()` and `entityRows()` instead, and compares those with the
    /// stored rows without writing them anywhere.
    mutating func finish(into target: any StorageWriter) throws(LedgerError) -> RebuildReport {
        guard case .write = destination else { preconditionFailure("a fold that checks state checkpoints writes nothing") }
        let ids = state.sortedIDs
        try writeRows(ids, into: target)
        report.entities = ids.count
        // The states are freed on another thread (about 2 % of a rebuild's time on this one);
        // after `finish` the fold's states are not used again.
        var states = ArchiveState(cooling: .standard)
        swap(&states, &state)
        let done = Handoff(states)
        DispatchQueue.global().async { done.drop() }
        return report
    }

    /// `finish`'s rows. The entity rows are made on the other threads a slice ahead of the one
    /// written (the first while the `concerns` rows are written): SQLite writes on this thread
    /// alone. In slices, so that only two slices' encodings are held at once. (A function of its
    /// own, so that the states' copy the other threads read is gone when `finish` hands them to
    /// be freed.)
    private func writeRows(_ ids: [String], into target: any StorageWriter) throws(LedgerError) {
        var slices = EntitySlices(state, ids: ids, stored: target.packsStates)
        var rows: [(entity: String, index: UInt64)] = []
        for (entity, concerned) in concerns.sorted(by: { JSONWriter.utf8Precedes($0.key, $1.key) }) {
            for index in concerned.indexes { rows.append((entity, index)) }
            if rows.count >= 4096 {
                try target.insertConcerns(rows)
                rows.removeAll(keepingCapacity: true)
            }
        }
        try target.insertConcerns(rows)
        while let slice = slices.next() { try target.insertEntities(slice) }
    }

    /// The SHA-256 of the archive's snapshot (docs/EVENTS.md §6) as folded so far, at tree size
    /// `size` (the entries folded), whose root is `root` and last record time `asOf`.
    func snapshotHash(origin: String, size: UInt64, root: Digest32, asOf: String) -> Digest32 {
        ViewCheck.snapshotHash(state, origin: origin, size: size, root: root, asOf: asOf)
    }

    /// The rows `finish` would write into `entities`, `incident_index` and `incident_links`
    /// (`EntityRows`), for `verify`. Ends the fold: the value must not be used after it.
    mutating func entityRows() -> EntityRows {
        var states = ArchiveState(cooling: .standard)
        swap(&states, &state)
        return EntityRows(states)
    }

    /// The `concerns` rows the fold gives, in the order `ProjectionTable.concerns` compares them:
    /// by entity in UTF-8 byte order, then by index.
    func concernRows() -> ConcernRows {
        ConcernRows(concerns.sorted { JSONWriter.utf8Precedes($0.key, $1.key) }.map { (entity: $0.key, concerned: $0.value) })
    }
}

/// The `concerns` rows of a fold, one at a time (`ProjectionFold.concernRows`).
struct ConcernRows {
    private let lists: [(entity: String, concerned: Concerned)]
    private var at = 0
    private var byte = 0
    private var index: UInt64 = 0

    fileprivate init(_ lists: [(entity: String, concerned: Concerned)]) { self.lists = lists }

    /// The next row as the storage gives it (`entity`, `idx`), or nil after the last.
    mutating func next() -> [StorageValue]? {
        while at < lists.count {
            if let i = lists[at].concerned.next(at: &byte, after: index) {
                index = i
                return [.text(lists[at].entity), .integer(Int64(i))]
            }
            at += 1
            byte = 0
            index = 0
        }
        return nil
    }
}

/// `verify`'s check of the state checkpoints a fold gives against the stored `state_versions`
/// rows, size by size as the fold reaches each (the table's key order is size, then id),
/// instead of writing them into a scratch database to compare at the end: at a million events
/// that was about 208,000 rows and 400 MB written and read back on the fold's thread. The
/// first difference is kept, not thrown, so that it is reported in its turn among the
/// projection tables (`remaining()`).
final class StateVersionCheck {
    private let stored: any StorageReader
    /// The first stored row that differs from the fold's (nil: a row the fold gives is
    /// missing), with the fold's row in its place (nil: the stored one is one too many).
    private var difference: (stored: [StorageValue]?, expected: [StorageValue]?)?
    private var sizes: Set<UInt64> = []
    private var compared: UInt64 = 0

    init(stored: any StorageReader) { self.stored = stored }

    /// Compares the stored rows of checkpoint size `size` with the fold's `rows` (in id order).
    func check(size: UInt64, _ rows: [(id: String, state: StateBytes)]) throws(LedgerError) {
        sizes.insert(size)
        compared += UInt64(rows.count)
        guard difference == nil else { return }
        func expected(_ i: Int) -> [StorageValue] {
            SQLiteRows.values(bound: StateVersionRecord(id: rows[i].id, size: size, state: rows[i].state, packed: false).values, .stateVersions)
        }
        var i = 0
        try stored.forEachStateVersionRow(size: size) { (row) throws(LedgerError) in
            guard difference == nil else { return }
            let e = i < rows.count ? expected(i) : nil
            if e != row { difference = (row, e) }
            i += 1
        }
        if difference == nil, i < rows.count { difference = (nil, expected(i)) }
    }

    /// After the fold: the first difference, or else a stored row at a size the fold gave no
    /// checkpoint for (found by counting; then by reading the table once), or nil.
    func remaining() throws(LedgerError) -> (stored: [StorageValue]?, expected: [StorageValue]?)? {
        if let difference { return difference }
        guard try stored.stateVersionCount() != compared else { return nil }
        var extra: [StorageValue]?
        try stored.forEachProjectionRow(.stateVersions) { (row) throws(LedgerError) in
            guard extra == nil else { return }
            if row.count == 3, case .integer(let size) = row[1], size >= 0, sizes.contains(UInt64(size)) { return }
            extra = row
        }
        return extra.map { ($0, nil) }
    }
}

/// Every entity's row, in id order, a slice of 4,096 at a time: each slice is made on the other
/// cores while the one before it is used (so that only two slices' encodings are held at once).
struct EntitySlices {
    private let state: ArchiveState
    private let slices: [[String]]
    private let stored: Bool
    private var ahead: Ahead<[ArchiveState.EntityRow]>?
    private var made = 0

    /// The rows of `ids` (in id order), their states packed when `stored`.
    init(_ state: ArchiveState, ids: [String], stored: Bool) {
        self.state = state
        self.stored = stored
        slices = stride(from: 0, to: ids.count, by: 4096).map { Array(ids[$0..<min($0 + 4096, ids.count)]) }
        ahead = start()
    }

    private mutating func start() -> Ahead<[ArchiveState.EntityRow]>? {
        guard made < slices.count else { return nil }
        let (state, ids, stored) = (state, slices[made], stored)
        made += 1
        return Ahead { state.rows(ids, stored: stored) }
    }

    /// The next slice's rows, or nil after the last.
    mutating func next() -> [ArchiveState.EntityRow]? {
        guard let current = ahead else { return nil }
        let rows = current.get()
        ahead = start()
        return rows
    }
}

/// The folded entities, for `verify`: the rows `ProjectionFold.finish` would write into
/// `entities`, `incident_index` and `incident_links`, each as a SQLite file gives it back
/// (`SQLiteRows.values(bound:_:)`) and in its table's key order (`ProjectionTable.order`), made
/// from the fold's states without writing them. (At a million events, writing them into a
/// scratch database and reading them back, as `verify` did before, took about 1.5 s on one
/// core at its end.)
final class EntityRows {
    private var state: ArchiveState?
    private let ids: [String]

    fileprivate init(_ state: ArchiveState) {
        ids = state.sortedIDs
        self.state = state
    }

    /// The rows of `table` (`entities`, `incidentIndex` or `incidentLinks`), one at a time;
    /// not after `discard()`.
    func rows(_ table: ProjectionTable) -> Rows {
        precondition([.entities, .incidentIndex, .incidentLinks].contains(table) && state != nil)
        return Rows(table: table, slices: EntitySlices(state!, ids: ids, stored: false))
    }

    /// Frees the states on another thread.
    func discard() {
        let done = Handoff(state)
        state = nil
        DispatchQueue.global().async { done.drop() }
    }

    struct Rows {
        let table: ProjectionTable
        var slices: EntitySlices
        private var slice: [ArchiveState.EntityRow] = []
        private var at = 0
        private var links: [[StorageValue]] = []
        private var link = 0

        fileprivate init(table: ProjectionTable, slices: EntitySlices) {
            self.table = table
            self.slices = slices
        }

        /// The next row as the storage gives it, or nil after the last.
        mutating func next() -> [StorageValue]? {
            while true {
                if link < links.count {
                    link += 1
                    return links[link - 1]
                }
                if at == slice.count {
                    guard let next = slices.next() else { return nil }
                    (slice, at) = (next, 0)
                    continue
                }
                let row = slice[at]
                at += 1
                switch table {
                case .entities:
                    return SQLiteRows.values(bound: EntityRecord(id: row.id, kind: row.kind, state: row.state, packed: false).values, table)
                case .incidentIndex:
                    guard let index = row.index else { continue }
                    return SQLiteRows.values(bound: IncidentIndexRecord(id: row.id, row: index).values, table)
                default:
                    guard let index = row.index else { continue }
                    (links, link) = (Self.links(row.id, index), 0)
                }
            }
        }

        /// An incident's `incident_links` rows in key order: its facilities, then its
        /// perpetrators, each in UTF-8 byte order, once each (the table's key is the whole row).
        private static func links(_ id: String, _ index: IncidentIndexRow) -> [[StorageValue]] {
            var out: [[StorageValue]] = []
            for (role, others) in [("facility", index.facilities), ("perpetrator", index.perpetrators)] {
                var previous: String?
                for other in others.sorted(by: { JSONWriter.utf8Precedes($0, $1) }) {
                    if let p = previous, p.utf8.elementsEqual(other.utf8) { continue }
                    previous = other
                    out.append(SQLiteRows.values(bound: IncidentLinkRecord(incident: id, role: role, other: other).values, .incidentLinks))
                }
            }
            return out
        }
    }
}

/// The entries that concern one entity, in increasing order, kept as the differences between
/// them in LEB128 (an entry a byte or two, where a list of `UInt64` took eight and its growth).
struct Concerned {
    private var last: UInt64 = 0
    private var count = 0
    private var deltas: [UInt8] = []
    /// The fold's checkpoint period in which the entity last changed (0: never).
    private var changedIn: UInt64 = 0

    /// `add(index)` for an event that changed the entity, in checkpoint period `period`:
    /// whether this is its first change in that period.
    mutating func add(_ index: UInt64, changedIn period: UInt64) -> Bool {
        add(index)
        guard changedIn != period else { return false }
        changedIn = period
        return true
    }

    /// Adds `index` unless it is the last one added (an event names an entity once).
    mutating func add(_ index: UInt64) {
        if count > 0, index == last { return }
        var d = index - last
        while d >= 0x80 {
            deltas.append(UInt8(truncatingIfNeeded: d) | 0x80)
            d >>= 7
        }
        deltas.append(UInt8(d))
        last = index
        count += 1
    }

    /// The index after `previous` (0 before the first), decoded from byte `byte` on, which it
    /// moves past; nil after the last.
    fileprivate func next(at byte: inout Int, after previous: UInt64) -> UInt64? {
        var d: UInt64 = 0
        var shift: UInt64 = 0
        while byte < deltas.count {
            let b = deltas[byte]
            byte += 1
            d |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return previous + d }
            shift += 7
        }
        return nil
    }

    /// Every index, in increasing order.
    var indexes: [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(count)
        var byte = 0
        var index: UInt64 = 0
        while let i = next(at: &byte, after: index) {
            index = i
            out.append(i)
        }
        return out
    }
}

/// What `ledger rebuild` did.
public struct RebuildReport: Sendable {
    public var events: UInt64
    public var entities: Int
    public var seconds: Double
}

extension Ledger {
    /// The current state of an entity, or nil when the archive has no such entity.
    public func entityState(_ id: String) throws(LedgerError) -> JSONObject? {
        guard let blob = try read({ (r) throws(LedgerError) in try r.entityState(id) }) else { return nil }
        return try ProjectionRows.decodeState(blob, id: id, path: path)
    }

    /// The tree size the log had at moment `time`: the number of entries recorded at or before it.
    public func size(asOf time: Timestamp) throws(LedgerError) -> UInt64 {
        let text = time.recordTimeText
        return try read { (r) throws(LedgerError) in
            // Record times never decrease: binary search over the entries.
            var lo: UInt64 = 0
            var hi = try r.size()
            while lo < hi {
                let mid = (lo + hi) / 2
                if (try r.recordedAt(mid) ?? "") <= text { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
    }

    /// One stored entry concerning an entity, with what `history` shows about it.
    public struct ConcerningEntry: Sendable {
        public var index: UInt64
        public var recordedAt: String
        public var signerKeyID: String
        public var signerName: String
        public var payload: EventPayload
    }

    /// The entries below `size` that concern `entity`, in log order, with their signers' names.
    public func entries(concerning entity: String, from first: UInt64 = 0, below size: UInt64? = nil) throws(LedgerError) -> [ConcerningEntry] {
        let (rows, names) = try read { (r) throws(LedgerError) in
            (
                try r.concerning(entity, from: first, below: size ?? UInt64.max),
                Dictionary(try r.keys().map { ($0.keyID, $0.name) }, uniquingKeysWith: { a, _ in a })
            )
        }
        return try zip(rows, decodePayloads(rows)).map { row, payload in
            ConcerningEntry(index: row.index, recordedAt: row.recordedAt, signerKeyID: row.signer, signerName: names[row.signer] ?? "?", payload: payload)
        }
    }

    /// The payloads of stored entry rows (damage named by entry index).
    func decodePayloads(_ rows: [EntryRow]) throws(LedgerError) -> [EventPayload] {
        var out: [EventPayload] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            do throws(LedgerError) {
                out.append(try EventPayload(bytes: try EntryLine(bytes: row.line).envelope.payload, requireNFC: false))
            } catch { throw LedgerError(.notALedger, "\(path) is damaged at entry \(row.index): \(error.message); run `ledger verify`", index: row.index) }
        }
        return out
    }

    /// The state of one entity as the archive held it when the log had `size` entries
    /// (nil: it did not exist yet): its last state checkpoint at or below `size`, then the
    /// entries from there that concern it, read in one transaction.
    public func entityState(_ id: String, atSize size: UInt64) throws(LedgerError) -> JSONObject? {
        let (base, rows) = try read { (r) throws(LedgerError) in
            let base = try r.stateVersion(id, atMost: size)
            return (base, try r.concerning(id, from: base?.size ?? 0, below: size))
        }
        var seed: [String: JSONObject] = [:]
        if let base { seed[id] = try ProjectionRows.decodeState(base.state, id: id, path: path) }
        var state = ArchiveState(only: [id], states: seed)
        for (row, payload) in zip(rows, try decodePayloads(rows)) {
            do throws(LedgerError) {
                try state.apply(payload, index: row.index)
            } catch { throw error.at(row.index) }
        }
        return try state.state(of: id)
    }

    /// Every entity as of tree size `size`, from the last state checkpoint at or below it plus
    /// a replay of the entries after it: `stored` holds the canonical bytes of entities the
    /// replay did not touch, `replayed` those of the entities it did (ids are disjoint).
    public func statesAsOf(size: UInt64) throws(LedgerError) -> (stored: [(id: String, state: [UInt8])], replayed: [(id: String, state: [UInt8])]) {
        var stored: [(id: String, state: [UInt8])] = []
        // The last state checkpoint written at or below `size` (one is written when the entry at
        // its size is appended, so the latest boundary may have none yet).
        let checkpoint = try read { (r) throws(LedgerError) in try r.latestStateVersionSize(atMost: size) }
        try read { (r) throws(LedgerError) in
            // Entities changed since the checkpoint: those with a later state version, and the
            // subjects (and merge survivors) of the entries after the last version written.
            let lastWritten = try r.latestStateVersionSize(atMost: UInt64.max)
            var changed = try r.stateVersionIDs(after: checkpoint)
            changed.formUnion(try ProjectionRows.changedEntities(r, from: max(lastWritten, checkpoint), below: nil))
            if checkpoint > 0, changed.count * 2 < (try r.entityCount()) {
                // Most entities have not changed since the checkpoint: their current state is
                // their state then; look up versions for the others only.
                try r.forEachEntity { (id, state) throws(LedgerError) in
                    if !changed.contains(id) {
                        stored.append((id, state))
                    } else if let v = try r.stateVersion(id, atMost: checkpoint) {
                        stored.append((id, v.state))
                    }
                }
            } else if checkpoint > 0 {
                var ids: [String] = []
                try r.forEachEntity { (id, _) throws(LedgerError) in ids.append(id) }
                for id in ids {
                    if let v = try r.stateVersion(id, atMost: checkpoint) { stored.append((id, v.state)) }
                }
            }
        }
        // The entities the entries after the checkpoint change (their subjects and the survivors
        // of their merges, from the entries' subject column, which `verify` checks against each
        // line), found first so that the entries can be decoded and folded a batch at a time:
        // holding every decoded payload of up to a checkpoint interval at once (32,767 entries)
        // cost tens of MB at a million events. Subjects that are not entities have no state and
        // change nothing here.
        let touched = try read { (r) throws(LedgerError) in try ProjectionRows.changedEntities(r, from: checkpoint, below: size) }
        var seed: [String: JSONObject] = [:]
        var untouched: [(id: String, state: [UInt8])] = []
        untouched.reserveCapacity(stored.count)
        for s in stored {
            if touched.contains(s.id) { seed[s.id] = try ProjectionRows.decodeState(s.state, id: s.id, path: path) } else { untouched.append(s) }
        }
        stored = []
        var state = ArchiveState(only: touched, states: seed)
        seed = [:]
        // Lines as the store keeps them: a compact line is read from its parts (no base64).
        try read { (r) throws(LedgerError) in
            var next = checkpoint
            while next < size {
                let batch = try r.storedEntryLines(from: next, below: size, limit: 8192)
                guard let last = batch.last else { break }
                for e in try Self.parsePayloads(batch, compact: r.keepsCompactForms, path: path, precheck: false) {
                    guard let type = e.type else { continue }
                    do throws(LedgerError) {
                        if let tree = e.tree {
                            try state.apply(type: type, subject: e.subject, body: tree, index: e.index)
                        } else {
                            try state.apply(type: type, subject: e.subject, body: e.body, index: e.index)
                        }
                    } catch { throw error.at(e.index) }
                }
                next = last.index + 1
                if batch.count < 8192 { break }
            }
        }
        let ids = state.sortedIDs
        return (untouched, zip(ids, state.encoded(ids)).map { (id: $0, state: $1) })
    }

    /// Current incidents matching `filter`, id and earliest possible day (yyyymmdd; nil: open),
    /// in id order: read from the index alone, so a page of a long list parses only its rows.
    public func incidentKeys(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, earliest: Int?)] {
        try read { (r) throws(LedgerError) in try r.incidentKeys(matching: filter) }
    }

    /// Current incidents matching `filter`, in id order.
    public func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [JSONObject] {
        var out: [JSONObject] = []
        for (id, blob) in try read({ (r) throws(LedgerError) in try r.incidents(matching: filter) }) {
            out.append(try ProjectionRows.decodeState(blob, id: id, path: path))
        }
        return out
    }

    /// Every entity's state as of tree size `size`, parsed (for filters over an earlier moment).
    public func archive(atSize size: UInt64) throws(LedgerError) -> ArchiveState {
        let (stored, replayed) = try statesAsOf(size: size)
        var all: [String: JSONObject] = [:]
        for s in stored + replayed { all[s.id] = try ProjectionRows.decodeState(s.state, id: s.id, path: path) }
        return ArchiveState(only: Set(all.keys), states: all)
    }

    /// Decodes entry lines into payloads on all cores; with `precheck`, also makes the archive's
    /// stateless checks (schemas, dates) there, for a fold that checks every rule.
    static func parsePayloads(_ batch: [(index: UInt64, line: [UInt8])], compact: Bool = false, path: String, precheck: Bool) throws(LedgerError)
        -> [DecodedEntry]
    {
        // Each entry is decoded into its place in the batch; the lowest index that fails is reported.
        try Parallel.mapUntilError(count: batch.count, parallelism: System.activeProcessorCount) { (i) throws(LedgerError) -> DecodedEntry in
            /// The entry of a payload's bytes: a payload laid out as this tool writes it, with a
            /// canonical body, is read without its body's tree (`foldParts`); any other is decoded
            /// whole, which names what is wrong with it.
            func decoded(_ recordedAt: Timestamp, _ bytes: UnsafeRawBufferPointer) throws(LedgerError) -> DecodedEntry {
                let day = Archive.latestDay(recordedAt: recordedAt)
                if let parts = EventPayload.foldParts(bytes) {
                    return DecodedEntry(index: batch[i].index, type: parts.type, subject: parts.subject, body: parts.body, latestDay: day, precheck: precheck)
                }
                let payload = try EventPayload(bytes: bytes, requireNFC: false)
                return DecodedEntry(index: batch[i].index, payload: payload, latestDay: day, precheck: precheck)
            }
            do throws(LedgerError) {
                // A compact form hands its time and payload over as they are; anything else is
                // read as an entry line, which names what is wrong with it.
                if compact {
                    var entry: Result<DecodedEntry, LedgerError>?
                    _ = batch[i].line.withUnsafeBytes { s in
                        CompactLine.recordTimeAndPayload(s) { time, bytes in
                            entry = Result { () throws(LedgerError) in try decoded(time, bytes) }
                        }
                    }
                    if let entry { return try entry.get() }
                }
                let line = compact ? try EntryLine(stored: batch[i].line) : try EntryLine(bytes: batch[i].line)
                return try line.envelope.payload.withUnsafeBytes { bytes in Result { () throws(LedgerError) in try decoded(line.recordedAt, bytes) } }.get()
            } catch {
                throw LedgerError(.notALedger, "\(path) is damaged at entry \(batch[i].index): \(error.message); run `ledger verify`", index: batch[i].index)
            }
        }
    }

    /// Calls `body` with each current entity's canonical state, in id order (UTF-8 byte order).
    public func forEachEntityState(_ body: ([UInt8]) throws(LedgerError) -> Void) throws(LedgerError) {
        try read { (r) throws(LedgerError) in try r.forEachEntity { (_, state) throws(LedgerError) in try body(state) } }
    }

    /// The current states of the entities whose ids start with `prefix` (`actor:`…), in id order.
    /// Reads every entity's row but parses only those.
    public func entityStates(prefix: String) throws(LedgerError) -> [JSONObject] {
        var out: [JSONObject] = []
        try read { (r) throws(LedgerError) in
            try r.forEachEntity { (id, state) throws(LedgerError) in
                guard id.hasPrefix(prefix) else { return }
                do { out.append(try JSONParser.parseObject(state)) } catch {
                    throw LedgerError(.notALedger, "\(path): the stored state of \(id) is not JSON (\(error)); run `ledger rebuild`")
                }
            }
        }
        return out
    }

    /// Recomputes every projection table from the log in one transaction. Refuses, naming the
    /// entry, when an event breaks an archive rule; then nothing changes.
    /// `cooling`: when the fold puts entities away as bytes (`ArchiveState.Cooling`); the
    /// projections are the same whatever it is.
    public func rebuildProjections(progress: ((UInt64, UInt64) -> Void)? = nil, cooling: ArchiveState.Cooling = .standard) throws(LedgerError)
        -> RebuildReport
    {
        try rebuildProjections(progress: progress, cooling: cooling, batchSize: 4096)
    }

    /// `rebuildProjections`, reading and folding `batchSize` entries at a time (tests use a few).
    func rebuildProjections(progress: ((UInt64, UInt64) -> Void)?, cooling: ArchiveState.Cooling, batchSize: Int) throws(LedgerError) -> RebuildReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var report = try storage.write { (w) throws(LedgerError) in
            try w.clearProjections()
            let report = try Self.foldProjections(
                source: w, target: w, interval: stateCheckpointInterval, cooling: cooling, path: path, batchSize: batchSize, progress: progress)
            try w.indexProjections()
            try w.setMeta("projection_version", String(Archive.projectionVersion))
            return report
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    /// Batches `foldProjections` decodes ahead of the fold.
    static let decodeDepth = 3
    /// Batches `foldProjections` gives the fold and has not yet written. With one, the fold
    /// waited while this thread wrote each state checkpoint (some 7,000 states at 1,000,003
    /// events, longer than a batch's fold), and was inside a fold 84-87 % of the time before the
    /// final writes; with two, 92-94 % (docs/BENCHMARKS.md, twenty-second session).
    static let foldDepth = 2

    /// Folds every entry of `source` and writes the projection rows into `target`'s (empty)
    /// projection tables: the rebuild's work (`verify` runs the same `ProjectionFold`, writing
    /// nothing, and compares). Refuses, naming the entry, an event that breaks an archive rule.
    ///
    /// Three stages overlap: entry lines are read on this thread and decoded on others,
    /// `decodeDepth` batches ahead; the fold runs on a thread of its own (`BackgroundFold`), with
    /// up to `foldDepth` batches queued; and this thread, the only one using the storage, writes
    /// each batch's state checkpoints once its fold is done, then the other rows at the end in
    /// key order (sequential B-tree appends). Failures are reported in log order: a broken rule
    /// before a damaged entry or a read after it.
    static func foldProjections(
        source: any StorageReader, target: any StorageWriter, interval: UInt64, cooling: ArchiveState.Cooling, path: String, batchSize: Int,
        progress: ((UInt64, UInt64) -> Void)?
    ) throws(LedgerError) -> RebuildReport {
        let size = try source.size()
        let fold = BackgroundFold(ProjectionFold(packingStates: target.packsStates, interval: interval, cooling: cooling))
        // The folds given and not yet written, in order, each with the number of entries
        // folded once it is done.
        var folding: [(checkpoints: Ahead<Result<[StateCheckpoint], LedgerError>>, through: UInt64)] = []
        func write(leaving waiting: Int) throws(LedgerError) {
            while folding.count > waiting {
                let done = folding.removeFirst()
                for c in try done.checkpoints.get().get() { try target.insertStateVersions(size: c.size, c.rows) }
                progress?(done.through, size)
            }
        }
        // Lines as the store keeps them: a compact line is read from its parts (no base64).
        let compact = source.keepsCompactForms
        // Batches being decoded, in order, with their lines: `decodeDepth` ahead of the one
        // folding, so that neither the decoding threads nor the fold's wait for the other when
        // one batch takes longer.
        var decoding: [(lines: [(index: UInt64, line: [UInt8])], entries: Ahead<Result<[DecodedEntry], LedgerError>>)] = []
        var read: UInt64 = 0
        // A read that failed: reported once the batches read before it are folded, after any
        // failure among them.
        var readFailure: LedgerError?
        func decodeAhead() {
            while readFailure == nil, read < size, decoding.count < decodeDepth {
                do throws(LedgerError) {
                    let lines = try source.storedEntryLines(from: read, below: UInt64.max, limit: batchSize)
                    guard !lines.isEmpty else { break }
                    read += UInt64(lines.count)
                    decoding.append((lines, decodeInBackground(lines, compact: compact, path: path)))
                } catch { readFailure = error }
            }
        }
        decodeAhead()
        var next: UInt64 = 0
        while !decoding.isEmpty {
            let batch = decoding.removeFirst()
            let decoded: [DecodedEntry]
            do throws(LedgerError) { decoded = try batch.entries.get().get() } catch {
                // A damaged entry: the batches before it, then the entries before it in its
                // batch (decoded again: they decoded before), are folded first, so that a rule
                // broken among them is reported before it.
                try write(leaving: 0)
                if let at = error.index, let position = batch.lines.firstIndex(where: { $0.index == at }), position > 0 {
                    let before = try parsePayloads(Array(batch.lines[..<position]), compact: compact, path: path, precheck: true)
                    folding.append((fold.fold(before), at))
                    try write(leaving: 0)
                }
                throw error
            }
            next += UInt64(decoded.count)
            folding.append((fold.fold(decoded), next))
            decodeAhead()
            // This thread waits only for the fold `foldDepth` batches back: the fold has the
            // batches after it queued while this thread writes a state checkpoint.
            try write(leaving: foldDepth)
        }
        try write(leaving: 0)
        if let readFailure { throw readFailure }
        return try fold.finish(into: target)
    }

    /// Decodes entry lines into payloads on background threads; `get` waits for the result.
    /// `compact`: the lines are as a store that keeps compact forms gives them (`storedEntryLines`).
    static func decodeInBackground(_ batch: [(index: UInt64, line: [UInt8])], compact: Bool, path: String) -> Ahead<Result<[DecodedEntry], LedgerError>> {
        Ahead {
            do throws(LedgerError) { return .success(try parsePayloads(batch, compact: compact, path: path, precheck: true)) } catch {
                return .failure(error)
            }
        }
    }

    /// The rows of every projection table, as text, in key order: for comparing a rebuilt
    /// archive with one maintained by appends, or one storage with another.
    public func projectionDump() throws(LedgerError) -> [String: [String]] {
        try read { (r) throws(LedgerError) in
            var out: [String: [String]] = [:]
            for t in ProjectionTable.allCases {
                var rows: [String] = []
                try r.forEachProjectionRow(t) { (values) throws(LedgerError) in
                    rows.append(
                        values.map { v in if case .blob(let b) = v { return String(decoding: b, as: UTF8.self) } else { return v.description } }.joined(
                            separator: "|"))
                }
                out[t.rawValue] = rows
            }
            return out
        }
    }
}

extension Ledger: ArchiveSource {
    public func incidentSubjects(concerning entity: String, below size: UInt64) throws(LedgerError) -> [String] {
        let rows = try read { (r) throws(LedgerError) in try r.concerning(entity, from: 0, below: size) }
        var seen = Set<String>()
        var out: [String] = []
        for payload in try decodePayloads(rows) where EntityID.kind(of: payload.subject) == .incident && seen.insert(payload.subject).inserted {
            out.append(payload.subject)
        }
        return out
    }
}

extension Ledger {
    /// The snapshot (docs/EVENTS.md §6) of the archive when the log had `size` entries (nil: now),
    /// naming `asOf` in its header (nil: the record time of the last entry included).
    public func snapshot(atSize requested: UInt64?, asOf: String?) throws(LedgerError) -> (bytes: [UInt8], size: UInt64, asOf: String) {
        let (header, states) = try snapshotInput(atSize: requested, asOf: asOf)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(states.reduce(256) { $0 + $1.count + 2 })
        Snapshot.write(header: header, entities: states, into: &bytes)
        return (bytes, header.treeSize, header.asOf)
    }

    /// The SHA-256 of `snapshot(atSize: size, asOf: nil)`, without holding the snapshot's bytes.
    /// At the current size the states are hashed as they are read, in one transaction (holding
    /// them all cost about 135 MB at a million events, the peak of `verify`'s check of a
    /// checkpoint's view); at an earlier size they are made as `snapshot` makes them.
    func snapshotHash(atSize size: UInt64) throws(LedgerError) -> Digest32 {
        let header = try snapshotHeader(size: size, asOf: nil)
        let streamed = try read { (r) throws(LedgerError) -> Digest32? in
            guard try r.size() == size else { return nil }
            var hasher = Snapshot.Hasher(header: header)
            try r.forEachEntity { (_, state) throws(LedgerError) in hasher.add(state) }
            return hasher.finalize()
        }
        if let streamed { return streamed }
        return Snapshot.hash(header: header, entities: try states(atEarlierSize: size))
    }

    /// A snapshot's header and its entities' canonical states in id order.
    private func snapshotInput(atSize requested: UInt64?, asOf: String?) throws(LedgerError) -> (header: Snapshot.Header, states: [[UInt8]]) {
        // The current states and the size they belong to, read in one transaction.
        let current: (size: UInt64, states: [[UInt8]])? = try read { (r) throws(LedgerError) in
            let size = try r.size()
            guard requested == nil || requested == size else { return nil }
            var states: [[UInt8]] = []
            try r.forEachEntity { (_, state) throws(LedgerError) in states.append(state) }
            return (size, states)
        }
        let size = current?.size ?? requested!
        let header = try snapshotHeader(size: size, asOf: asOf)
        if let current { return (header, current.states) }
        return (header, try states(atEarlierSize: size))
    }

    /// A snapshot's header at tree size `size`, naming `asOf` (nil: the record time of the last
    /// entry included).
    private func snapshotHeader(size: UInt64, asOf: String?) throws(LedgerError) -> Snapshot.Header {
        let logSize = try self.size()
        guard size <= logSize else { throw LedgerError(.malformed, "tree size \(size) is beyond the log's \(logSize) entries") }
        var moment = asOf ?? ""
        if asOf == nil, size > 0 { moment = try logRows(from: size - 1, limit: 1).first?.recordedAt ?? "" }
        return Snapshot.Header(origin: origin, treeSize: size, rootHash: try root(size: size).base64, asOf: moment)
    }

    /// Every entity's canonical state at a tree size below the current one, in id order.
    private func states(atEarlierSize size: UInt64) throws(LedgerError) -> [[UInt8]] {
        let (stored, replayed) = try statesAsOf(size: size)
        var all = stored + replayed
        all.sort { JSONWriter.utf8Precedes($0.id, $1.id) }
        return all.map(\.state)
    }
}
