import LedgerCore
import LedgerCrypto

/// Every entity's state, held in memory and folded from events in log order: used to rebuild the
/// projections and to view the archive as of an earlier moment.
///
/// The fold keeps each state as a `CanonicalObject`: its canonical bytes in one buffer, with the
/// places of its members, so that encoding a state hands over the buffer (docs/DECISIONS.md 94
/// and 108). A whole-archive fold (rebuild, verify, audit) holds about a hundred thousand
/// entities at a million events, so it may put entities it has not changed for a while away as
/// their packed canonical bytes (`coolDown(changedBefore:)`): the next event about one unpacks
/// them and reads its members' places again.
/// Which form a state is in changes nothing a caller sees (docs/DECISIONS.md 92).
public struct ArchiveState: EntityLookup, Sendable {
    /// A state in the form the fold changes it, with the index of the last event that changed it.
    private struct Hot: Sendable {
        var state: CanonicalObject
        var changed: UInt64
        /// The stored form (`CompactState`) a state checkpoint made of this state, kept at its
        /// exact size until the state changes (every change is a new `Hot`), so that neither the
        /// row written for it at the end of the fold nor cooling, when it puts the state away,
        /// packs the same bytes again.
        var stored: [UInt8]? = nil
        /// Out with `applyOwning`'s fold (`take`): the entry stays in the table, so that
        /// taking and putting back update it in place instead of removing and adding it; while
        /// out, the entity is looked up as absent.
        var taken = false
    }

    /// A state put away: the value a ledger file stores for it (`CompactState`: its canonical
    /// bytes packed, at their exact size), so that a row written from it needs no packing, and its
    /// kind. A class, so that the table of them holds one reference each.
    private final class Cold: Sendable {
        let stored: [UInt8]
        let kind: String

        init(_ state: StateBytes, kind: String) {
            switch state {
            case .canonical(let b): stored = CompactState.encode(b, exactSize: true)
            case .stored(let s): stored = TokenTable.exactSize(s)  // made for a row, in room for the whole state
            }
            self.kind = kind
        }

        /// From a stored form already at its exact size (`Hot.stored`), shared as it is.
        init(exactStored: [UInt8], kind: String) {
            stored = exactStored
            self.kind = kind
        }

        /// The canonical bytes.
        var bytes: [UInt8] { CompactState.expand(stored) }

        /// The state in the stored form as it is, or canonical (`canonical`: the bytes when the
        /// caller has unpacked them already).
        func state(stored: Bool, canonical: [UInt8]? = nil) -> StateBytes { stored ? .stored(self.stored) : .canonical(canonical ?? bytes) }
    }

    private var hot: [String: Hot] = [:]
    /// States a partial replay starts from, kept as the trees they were given until an event
    /// changes them (a view as of a moment reads most of them and folds few).
    private var given: [String: JSONObject] = [:]
    private var cold: [String: Cold] = [:]
    /// When set, `coolIfDue` puts entities away.
    public private(set) var cooling: Cooling?
    private var nextCooling: UInt64 = 0
    /// When set, only these entities are kept (a partial replay); others are folded and dropped.
    public let only: Set<String>?

    public init(only: Set<String>? = nil) {
        self.only = only
        cooling = nil
    }

    /// A whole-archive fold that puts entities away as `cooling` says.
    public init(cooling: Cooling) {
        only = nil
        self.cooling = cooling
    }

    /// A partial replay starting from known states (e.g. a state checkpoint).
    public init(only: Set<String>, states: [String: JSONObject]) {
        self.only = only
        cooling = nil
        given = states
    }

    public func contains(_ id: String) throws(LedgerError) -> Bool {
        if let h = hot[id] { return !h.taken }
        return given[id] != nil || cold[id] != nil
    }

    public func state(of id: String) throws(LedgerError) -> JSONObject? { self[id] }

    /// The entity's state (nil: no such entity).
    public subscript(id: String) -> JSONObject? {
        if let h = hot[id] { return h.taken ? nil : h.state.object }
        if let t = given[id] { return t }
        return cold[id].map { Self.parse($0.bytes, id: id) }
    }

    public func entity(_ id: String) throws(LedgerError) -> CanonicalObject? {
        if let h = hot[id] { return h.taken ? nil : h.state }
        if let t = given[id] { return CanonicalObject(t) }
        return cold[id].map { CanonicalObject(trustingCanonical: $0.bytes) }
    }

    /// The entity's canonical state (nil: no such entity).
    public func encoded(_ id: String) -> [UInt8]? {
        if let h = hot[id] { return h.state.encoded }
        if let t = given[id] { return Canonical.encode(t) }
        return cold[id]?.bytes
    }

    /// The canonical states of the entities `ids`, in that order, made on all cores.
    public func encoded(_ ids: [String]) -> [[UInt8]] {
        let hot = self.hot
        let given = self.given
        let cold = self.cold
        return Parallel.map(count: ids.count, parallelism: System.activeProcessorCount) { i in
            cold[ids[i]]?.bytes ?? hot[ids[i]]?.state.encoded ?? Canonical.encode(given[ids[i]]!)
        }
    }

    /// The states of the entities `ids` for the state checkpoint written before entry `index`,
    /// made on all cores, in the form a storage that packs states keeps (`stored`) or canonical.
    /// Once cooling has started, every entity among `ids` that the next `coolIfDue` would put
    /// away (no change in the last `window` entries) is put away here, from the bytes just made,
    /// rather than encoded a second time there.
    public mutating func checkpointStates(_ ids: [String], before index: UInt64, stored: Bool) -> [StateBytes] {
        let out = stateBytes(ids, stored: stored)
        if let cooling, cooling.started, only == nil, index > cooling.window {
            let limit = index - cooling.window
            let due = ids.indices.filter { hot[ids[$0]].map { $0.changed < limit } ?? false }
            putAway(due.map { ids[$0] }, states: due.map { out[$0] })
        }
        if stored, only == nil {
            for (id, state) in zip(ids, out) {
                guard hot[id] != nil, case .stored(let s) = state else { continue }
                hot[id]!.stored = TokenTable.exactSize(s)
            }
        }
        return out
    }

    /// The states of the entities `ids`, made on all cores. (Apart from `checkpointStates`, so
    /// that the tables' copies its threads read are gone before `putAway` changes the tables.)
    private func stateBytes(_ ids: [String], stored: Bool) -> [StateBytes] {
        let hot = self.hot
        let given = self.given
        let cold = self.cold
        return Parallel.map(count: ids.count, parallelism: System.activeProcessorCount) { i -> StateBytes in
            if let c = cold[ids[i]] { return c.state(stored: stored) }
            return StateBytes(hot[ids[i]]?.state.encoded ?? Canonical.encode(given[ids[i]]!), stored: stored)
        }
    }

    /// The number of entities.
    public var count: Int { hot.count + given.count + cold.count }

    /// Every state as a tree (members in key order at every depth), by id.
    public var states: [String: JSONObject] {
        var out = given
        for (id, h) in hot { out[id] = h.state.object }
        for (id, c) in cold { out[id] = Self.parse(c.bytes, id: id) }
        return out
    }

    /// What the projection tables hold of one entity: its kind, state and, for an incident, its
    /// index row.
    public struct EntityRow: Sendable {
        public var id: String
        public var kind: String
        public var state: StateBytes
        public var index: IncidentIndexRow?

        public init(id: String, kind: String, state: StateBytes, index: IncidentIndexRow?) {
            self.id = id
            self.kind = kind
            self.state = state
            self.index = index
        }
    }

    /// The rows of the entities `ids`, in that order, made on all cores; with `stored`, their
    /// states in the form a storage that packs states keeps (`StateBytes.stored`).
    public func rows(_ ids: [String], stored: Bool) -> [EntityRow] {
        let hot = self.hot
        let cold = self.cold
        let given = self.given
        return Parallel.map(count: ids.count, parallelism: System.activeProcessorCount) { i in
            let id = ids[i]
            let incident = EntityKind.incident.rawValue
            if let c = cold[id] {
                // An incident's index row is made again from its state: keeping one beside each
                // state put away took about 17 MB at a million events.
                let bytes = c.kind == incident ? c.bytes : nil
                let index = bytes.map { IncidentIndexRow(CanonicalObject(trustingCanonical: $0)) }
                return EntityRow(id: id, kind: c.kind, state: c.state(stored: stored, canonical: bytes), index: index)
            }
            guard let h = hot[id] else {
                let t = given[id]!
                let kind = t["entity"]?.stringValue ?? ""
                return EntityRow(
                    id: id, kind: kind, state: StateBytes(Canonical.encode(t), stored: stored), index: kind == incident ? IncidentIndexRow(t) : nil)
            }
            let kind = h.state.string("entity") ?? ""
            // The form the last state checkpoint packed, while the state has not changed since.
            let bytes = stored ? h.stored.map { StateBytes.stored($0) } ?? StateBytes(h.state.encoded, stored: true) : .canonical(h.state.encoded)
            return EntityRow(id: id, kind: kind, state: bytes, index: kind == incident ? IncidentIndexRow(h.state) : nil)
        }
    }

    /// When a whole-archive fold puts entities away: every `step` entries, from the first time
    /// more than `treeLimit` states are held unpacked (as the fold changes them), those no event
    /// of the last `window` entries changed. (The name is older than `CanonicalObject`, when the
    /// fold held trees.)
    public struct Cooling: Sendable {
        public var window: UInt64
        public var step: UInt64
        public var treeLimit: Int
        /// Whether the unpacked states have passed `treeLimit` in this fold.
        var started = false
        public init(window: UInt64, step: UInt64, treeLimit: Int) {
            self.window = window
            self.step = max(1, step)
            self.treeLimit = treeLimit
        }
        /// A window of two decode batches of rebuild, so that the follow-ups an archive records
        /// soon after a report find it unpacked; archives of up to 16,384 entities (about
        /// 180,000 events of the campaign's shape) are never packed.
        public static let standard = Cooling(window: 8192, step: 4096, treeLimit: 16_384)
    }

    /// Puts entities away when `cooling` says so, entry `index` about to be folded.
    public mutating func coolIfDue(before index: UInt64) {
        guard var cooling, only == nil, index >= nextCooling else { return }
        defer { self.cooling = cooling }
        nextCooling = index + cooling.step
        // Once the unpacked states have passed the limit, the fold goes on putting entities away
        // every step (else they would grow back to the limit each time).
        if hot.count > cooling.treeLimit { cooling.started = true }
        if cooling.started, index > cooling.window { coolDown(changedBefore: index - cooling.window) }
    }

    /// Puts away, as canonical bytes, every entity no event has changed since before entry
    /// `index` (encoded on all cores). Only a whole-archive fold does; a partial replay keeps
    /// its few states as they are. Walks every unpacked state.
    public mutating func coolDown(changedBefore index: UInt64) {
        guard only == nil else { return }
        var ids: [String] = []
        for (id, h) in hot where h.changed < index { ids.append(id) }
        putAway(ids)
    }

    /// Puts the unpacked entities `ids` away, packing on all cores; `states`, when given, holds
    /// their states already made.
    private mutating func putAway(_ ids: [String], states made: [StateBytes]? = nil) {
        guard !ids.isEmpty else { return }
        let states = ids.map { hot.removeValue(forKey: $0)! }
        let put = Parallel.map(count: states.count, parallelism: System.activeProcessorCount) { i in
            // Bytes just made for a checkpoint, or kept from the last one, or packed now.
            let kind = states[i].state.string("entity") ?? ""
            if made == nil, let kept = states[i].stored { return Cold(exactStored: kept, kind: kind) }
            return Cold(made?[i] ?? .canonical(states[i].state.encoded), kind: kind)
        }
        for (id, c) in zip(ids, put) { cold[id] = c }
    }

    /// Parses a state this value encoded itself: it cannot fail unless memory is damaged.
    private static func parse(_ bytes: [UInt8], id: String) -> JSONObject {
        do {
            return try bytes.withUnsafeBytes { raw throws(JSONError) in
                try JSONParser.parseObject(raw, limits: JSONParser.Limits(maxBytes: Int.max, maxDepth: 64, requireNFC: false))
            }
        } catch {
            fatalError("the state of \(id) put away by the fold does not parse: \(error)")
        }
    }

    /// Takes an entity's state out, whichever form it is in.
    /// An unpacked state is moved out of its entry, which stays, marked taken (`Hot.taken`), for
    /// `put` to fill again: one lookup each and no change to the table's layout. A state in
    /// another form leaves its table.
    /// `slot`: where the unpacked state's entry is, for `put` to fill without looking it up again
    /// (valid while the table is not changed otherwise).
    private mutating func take(_ id: String, slot: inout Dictionary<String, Hot>.Index?) -> CanonicalObject? {
        if let i = hot.index(forKey: id) {
            guard !hot.values[i].taken else { return nil }
            var state = CanonicalObject()
            swap(&state, &hot.values[i].state)
            hot.values[i].taken = true
            slot = i
            return state
        }
        if !given.isEmpty, let t = given.removeValue(forKey: id) { return CanonicalObject(t) }
        guard !cold.isEmpty, let c = cold.removeValue(forKey: id) else { return nil }
        return CanonicalObject(trustingCanonical: c.bytes)
    }

    /// An entity is in one table at a time: one found unpacked is in neither of the others.
    private mutating func put(_ id: String, _ state: CanonicalObject, index: UInt64) {
        if let i = hot.index(forKey: id) {
            hot.values[i] = Hot(state: state, changed: index)
            return
        }
        if !cold.isEmpty { cold.removeValue(forKey: id) }
        if !given.isEmpty { given.removeValue(forKey: id) }
        hot[id] = Hot(state: state, changed: index)
    }

    /// Applies one event. Full replays check every rule (and fail at the first event that breaks
    /// one); partial replays (`only`) trust the log.
    @discardableResult
    /// `latestDay` (`Archive.latestDay(recordedAt:)` of the entry's record time), when given, also checks the date rule.
    public mutating func apply(type: String, subject: String, body: JSONObject, index: UInt64, latestDay: Int? = nil) throws(LedgerError) -> ArchiveChange? {
        guard let t = EventType(name: type) else { return nil }
        return try apply(type: t, subject: subject, body: body, index: index, latestDay: latestDay)
    }

    /// Applies one signed event (its type as read from the catalogue when it was decoded).
    @discardableResult
    public mutating func apply(_ p: EventPayload, index: UInt64, latestDay: Int? = nil) throws(LedgerError) -> ArchiveChange? {
        guard let t = p.eventType else { return nil }
        return try apply(type: t, subject: p.subject, body: p.body, index: index, latestDay: latestDay)
    }

    /// `apply` for a type already read from the catalogue.
    @discardableResult
    public mutating func apply(type: EventType, subject: String, body: JSONObject, index: UInt64, latestDay: Int? = nil) throws(LedgerError) -> ArchiveChange? {
        keep(try Archive.apply(type: type, subject: subject, body: body, index: index, lookup: self, replay: only != nil, latestDay: latestDay), index: index)
    }

    /// `apply` of a body held as its canonical bytes (as `rebuild` decodes it).
    @discardableResult
    public mutating func apply(type: EventType, subject: String, body: CanonicalObject, index: UInt64, latestDay: Int? = nil) throws(LedgerError)
        -> ArchiveChange?
    {
        keep(try Archive.apply(type: type, subject: subject, body: body, index: index, lookup: self, replay: only != nil, latestDay: latestDay), index: index)
    }

    /// Keeps the states `change` gives (of the entities kept: all, or those of a partial replay).
    private mutating func keep(_ change: ArchiveChange?, index: UInt64) -> ArchiveChange? {
        guard let change else { return nil }
        for (id, state) in change.changed where only?.contains(id) ?? true { put(id, state, index: index) }
        return change
    }

    /// `apply` for a full fold that stops at the first refused event (rebuild, verify): the
    /// subject's state is taken out of the value and handed to the fold, which changes it in place
    /// (no copy of the state per event). When the event is refused the subject's state is gone:
    /// the caller must not go on with this value.
    @discardableResult
    public mutating func applyOwning(type: EventType, subject: String, body: JSONObject, index: UInt64, latestDay: Int?) throws(LedgerError) -> ArchiveChange? {
        guard only == nil else { return try apply(type: type, subject: subject, body: body, index: index, latestDay: latestDay) }
        return try applyOwning(
            Archive.Prechecked(type: type, subject: subject, body: body, latestDay: latestDay), subject: subject, body: CanonicalObject(body), index: index)
    }

    /// `applyOwning` for an event whose stateless checks were made ahead (`Archive.Prechecked`,
    /// with the entry's `latestDay`): their failure is thrown here, in the event's turn, and the
    /// checks that need the archive's state follow.
    @discardableResult
    public mutating func applyOwning(_ prechecked: Archive.Prechecked, subject: String, body: CanonicalObject, index: UInt64) throws(LedgerError)
        -> ArchiveChange?
    {
        precondition(only == nil, "a partial replay checks no rules")
        guard let checked = try prechecked.outcome.get() else { return nil }
        try Archive.checkMentions(checked, lookup: self)
        var slot: Dictionary<String, Hot>.Index? = nil
        let current = take(subject, slot: &slot)
        let change: ArchiveChange
        do throws(LedgerError) {
            change = try Archive.apply(checked, subject: subject, body: body, index: index, current: consume current, lookup: self, replay: false)
        } catch {
            // Refused: the state is gone with the fold's copy, so its entry goes too (no entry left marked taken).
            if let slot { hot.remove(at: slot) }
            throw error
        }
        for (id, state) in change.changed {
            // The subject first, into the entry it was taken from (the table unchanged since).
            if let i = slot, id == subject {
                hot.values[i] = Hot(state: state, changed: index)
                slot = nil
            } else {
                put(id, state, index: index)
            }
        }
        return change
    }

    /// Entity ids in canonical order (UTF-8 byte order).
    public var sortedIDs: [String] { (Array(hot.keys) + given.keys + cold.keys).sorted { JSONWriter.utf8Precedes($0, $1) } }
}

/// One field that an event changed: its path in the entity's state (`place.town`,
/// `claims[2]`), the value before (nil: absent) and after (nil: removed).
public struct FieldChange: Sendable, Equatable {
    public var path: String
    public var old: JSONValue?
    public var new: JSONValue?

    public init(path: String, old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.old = old
        self.new = new
    }
}

public enum History {
    /// Bookkeeping members left out of diffs: they change with every event.
    static let ignored: Set<String> = ["updated", "created", "id", "entity"]

    /// Field-by-field differences from `old` to `new`. Objects are compared member by member (an
    /// added or removed object is listed member by member); an array that only grew reports each
    /// added item; any other array change reports the array. Bookkeeping members (`id`, `entity`,
    /// `created`, `updated`) and empty lists set up at creation are left out.
    public static func diff(_ old: JSONObject?, _ new: JSONObject?) -> [FieldChange] {
        var out: [FieldChange] = []
        diffObjects(old ?? JSONObject(), new ?? JSONObject(), prefix: "", into: &out)
        return out
    }

    /// Walks both objects' members in key order side by side: O(n log n) in the member count
    /// (a member looked up by name is a linear scan, so lookups per key would be quadratic).
    private static func diffObjects(_ a: JSONObject, _ b: JSONObject, prefix: String, into out: inout [FieldChange]) {
        let order: ((key: String, value: JSONValue), (key: String, value: JSONValue)) -> Bool = { JSONWriter.utf8Precedes($0.key, $1.key) }
        let x = a.members.sorted(by: order)
        let y = b.members.sorted(by: order)
        var i = 0
        var j = 0
        while i < x.count || j < y.count {
            let key: String
            var old: JSONValue?
            var new: JSONValue?
            if j == y.count || (i < x.count && JSONWriter.utf8Precedes(x[i].key, y[j].key)) {
                (key, old) = (x[i].key, x[i].value)
                i += 1
            } else if i == x.count || JSONWriter.utf8Precedes(y[j].key, x[i].key) {
                (key, new) = (y[j].key, y[j].value)
                j += 1
            } else {
                (key, old, new) = (x[i].key, x[i].value, y[j].value)
                i += 1
                j += 1
            }
            if prefix.isEmpty, ignored.contains(key) { continue }
            diffValues(old, new, path: prefix.isEmpty ? key : "\(prefix).\(key)", into: &out)
        }
    }

    private static func diffValues(_ a: JSONValue?, _ b: JSONValue?, path: String, into out: inout [FieldChange]) {
        // A sealed value's marker is one value: it changes whole (docs/EVENTS.md §9).
        if a.flatMap(Sealing.commitment) != nil || b.flatMap(Sealing.commitment) != nil {
            if let a, let b, Canonical.equal(a, b) { return }
            out.append(FieldChange(path: path, old: a, new: b))
            return
        }
        switch (a, b) {
        case (nil, nil):
            return
        case (.object(let x)?, .object(let y)?):
            diffObjects(x, y, prefix: path, into: &out)
        case (.array(let x)?, .array(let y)?):
            if y.count > x.count, zip(x, y).allSatisfy({ Canonical.equal($0, $1) }) {
                for i in x.count..<y.count { out.append(FieldChange(path: "\(path)[\(i)]", old: nil, new: y[i])) }
            } else if x.count != y.count || !zip(x, y).allSatisfy({ Canonical.equal($0, $1) }) {
                out.append(FieldChange(path: path, old: a, new: b))
            }
        case (nil, .object(let y)?):
            diffObjects(JSONObject(), y, prefix: path, into: &out)
        case (.object(let x)?, nil):
            diffObjects(x, JSONObject(), prefix: path, into: &out)
        case (nil, .array(let y)?) where y.isEmpty:
            return  // an empty list set up by a creating event says nothing
        default:
            if let a, let b, Canonical.equal(a, b) { return }
            out.append(FieldChange(path: path, old: a, new: b))
        }
    }
}

/// The whole archive as deterministic JSON (docs/EVENTS.md §6): a header naming the log state it
/// was built from, then every entity's canonical state in id order, one per line.
public enum Snapshot {
    public static let format = "incidentledger-snapshot/1"

    public struct Header: Sendable {
        public var origin: String
        public var treeSize: UInt64
        public var rootHash: String
        public var asOf: String
        public init(origin: String, treeSize: UInt64, rootHash: String, asOf: String) {
            self.origin = origin
            self.treeSize = treeSize
            self.rootHash = rootHash
            self.asOf = asOf
        }
    }

    /// Writes the snapshot; `entities` must be in canonical id order, each state already canonical.
    public static func write(header: Header, entities: some Sequence<[UInt8]>, into out: inout [UInt8]) {
        writeHeader(header, into: &out)
        var first = true
        for e in entities {
            writeEntity(e, first: first, into: &out)
            first = false
        }
        writeFooter(into: &out)
    }

    /// The SHA-256 of the snapshot `write` gives (a checkpoint's view line, FORMAT.md §7), hashed
    /// in 64 KiB pieces as it is written: a snapshot of a million events is over 100 MB.
    public static func hash(header: Header, entities: some Sequence<[UInt8]>) -> Digest32 {
        var h = Hasher(header: header)
        for e in entities { h.add(e) }
        return h.finalize()
    }

    /// `hash` for entities handed over one at a time (in canonical id order, each canonical), so
    /// that a caller reading them from storage holds none of them for long.
    public struct Hasher: ~Copyable {
        private var piece: [UInt8] = []
        private var sha = SHA256.Hasher()
        private var first = true

        public init(header: Header) {
            piece.reserveCapacity(1 << 17)
            writeHeader(header, into: &piece)
        }

        public mutating func add(_ entity: [UInt8]) {
            writeEntity(entity, first: first, into: &piece)
            first = false
            if piece.count >= 65_536 { flush() }
        }

        public consuming func finalize() -> Digest32 {
            writeFooter(into: &piece)
            flush()
            return sha.finalize()
        }

        private mutating func flush() {
            sha.update(piece)
            piece.removeAll(keepingCapacity: true)
        }
    }

    /// The snapshot's bytes before its first entity.
    private static func writeHeader(_ header: Header, into out: inout [UInt8]) {
        let h = JSONObject(uniqueMembers: [
            ("format", .string(format)), ("origin", .string(header.origin)), ("treeSize", .number(String(header.treeSize))),
            ("rootHash", .string(header.rootHash)), ("asOf", .string(header.asOf)),
            ("projectionVersion", .number(String(Archive.projectionVersion))),
        ])
        out.append(contentsOf: #"{"snapshot":"#.utf8)
        out.append(contentsOf: Canonical.encode(h))
        out.append(contentsOf: ",\n\"entities\":[".utf8)
    }

    /// One entity's line, with the separator before it.
    private static func writeEntity(_ e: [UInt8], first: Bool, into out: inout [UInt8]) {
        out.append(contentsOf: first ? "\n".utf8 : ",\n".utf8)
        out.append(contentsOf: e)
    }

    /// The snapshot's bytes after its last entity.
    private static func writeFooter(into out: inout [UInt8]) {
        out.append(contentsOf: "\n]}\n".utf8)
    }
}

/// The columns by which incidents are listed and filtered, derived from an incident's state.
public struct IncidentIndexRow: Sendable, Equatable {
    public var id: String
    /// First and last day the incident may have occurred on (yyyymmdd); nil = open.
    public var earliest: Int?
    public var latest: Int?
    public var admin1: String?
    public var admin2: String?
    public var town: String?
    public var status: String
    public var certainty: String?
    public var verification: String
    /// Facilities hit.
    public var facilities: [String]
    /// Actors named as perpetrator by an asserting claim or by the archive's assessment.
    public var perpetrators: [String]

    /// The row of a state the fold keeps, read from its canonical bytes: the strings the row
    /// holds are the only values made, and the row is the one `init(_: JSONObject)` gives for
    /// the same state (`IncidentIndexRowTests`).
    public init(_ s: CanonicalObject) {
        id = s.string("id") ?? ""
        let occurred = s.string("occurred").flatMap { EDTF($0) }
        earliest = occurred?.earliest
        latest = occurred?.latest
        let place = s.withRaw("place") { b, r in
            (Self.string(Self.admin1Key, in: b, object: r), Self.string(Self.admin2Key, in: b, object: r), Self.string(Self.townKey, in: b, object: r))
        }
        (admin1, admin2, town) = place ?? (nil, nil, nil)
        status = s.string("status") ?? "active"
        certainty = s.withRaw("certainty") { b, r in Self.string(Self.gradeKey, in: b, object: r) } ?? nil
        verification = (s.withRaw("verification") { b, r in Self.string(Self.stateKey, in: b, object: r) } ?? nil) ?? "unverified"
        var facilities: [String] = []
        s.withRaw("facilities") { b, all in
            for item in CanonicalObject.itemRanges(in: b, list: all) {
                if let f = Self.string(Self.facilityKey, in: b, object: item) { facilities.append(f) }
            }
        }
        self.facilities = facilities
        var actors: [String] = []
        s.withRaw("claims") { b, all in
            for item in CanonicalObject.itemRanges(in: b, list: all) {
                guard let stance = CanonicalObject.memberRange(Self.stanceKey, in: b, object: item), b[stance].elementsEqual(Self.asserts) else { continue }
                Self.addPerpetrator(in: b, object: item, to: &actors)
            }
        }
        s.withRaw("assessment") { b, all in Self.addPerpetrator(in: b, object: all, to: &actors) }
        perpetrators = actors.count < 2 ? actors : Array(Set(actors)).sorted()
    }

    /// Member `key` of the object at `object` of `b` when the value there is an object and the
    /// member a string.
    private static func string(_ key: [UInt8], in b: UnsafeBufferPointer<UInt8>, object: Range<Int>) -> String? {
        CanonicalObject.memberRange(key, in: b, object: object).flatMap { CanonicalObject.string(in: b, $0) }
    }

    /// The actors that member `perpetrator` of the object at `object` names: an actor id, or
    /// the ids listed by `eitherOf`.
    private static func addPerpetrator(in b: UnsafeBufferPointer<UInt8>, object: Range<Int>, to actors: inout [String]) {
        guard let p = CanonicalObject.memberRange(perpetratorKey, in: b, object: object) else { return }
        if let id = CanonicalObject.string(in: b, p) {
            actors.append(id)
        } else if let either = CanonicalObject.memberRange(eitherOfKey, in: b, object: p) {
            for item in CanonicalObject.itemRanges(in: b, list: either) { if let id = CanonicalObject.string(in: b, item) { actors.append(id) } }
        }
    }

    private static let admin1Key: [UInt8] = Array(#""admin1""#.utf8)
    private static let admin2Key: [UInt8] = Array(#""admin2""#.utf8)
    private static let townKey: [UInt8] = Array(#""town""#.utf8)
    private static let gradeKey: [UInt8] = Array(#""grade""#.utf8)
    private static let stateKey: [UInt8] = Array(#""state""#.utf8)
    private static let facilityKey: [UInt8] = Array(#""facility""#.utf8)
    private static let stanceKey: [UInt8] = Array(#""stance""#.utf8)
    private static let perpetratorKey: [UInt8] = Array(#""perpetrator""#.utf8)
    private static let eitherOfKey: [UInt8] = Array(#""eitherOf""#.utf8)
    private static let asserts: [UInt8] = Array(#""asserts""#.utf8)

    public init(_ s: JSONObject) {
        id = s["id"]?.stringValue ?? ""
        let occurred = s["occurred"]?.stringValue.flatMap { EDTF($0) }
        earliest = occurred?.earliest
        latest = occurred?.latest
        let place = s["place"]?.objectValue
        admin1 = place?["admin1"]?.stringValue
        admin2 = place?["admin2"]?.stringValue
        town = place?["town"]?.stringValue
        status = s["status"]?.stringValue ?? "active"
        certainty = s["certainty"]?.objectValue?["grade"]?.stringValue
        verification = s["verification"]?.objectValue?["state"]?.stringValue ?? "unverified"
        facilities = (s["facilities"]?.arrayValue ?? []).compactMap { $0.objectValue?["facility"]?.stringValue }
        var actors: [String] = []
        func add(_ p: JSONValue?) {
            if let id = p?.stringValue { actors.append(id) }
            for a in p?.objectValue?["eitherOf"]?.arrayValue ?? [] { if let id = a.stringValue { actors.append(id) } }
        }
        for c in s["claims"]?.arrayValue ?? [] where c.objectValue?["stance"]?.stringValue == "asserts" { add(c.objectValue?["perpetrator"]) }
        add(s["assessment"]?.objectValue?["perpetrator"])
        perpetrators = Array(Set(actors)).sorted()
    }
}
