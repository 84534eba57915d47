import LedgerCore

/// What the archive's views read: entity states now or as of a tree size. A store provides it
/// (`Ledger` in LedgerStore); the views themselves are pure and know nothing of storage.
public protocol ArchiveSource {
    /// The log's size now.
    func size() throws(LedgerError) -> UInt64
    /// An entity's current state (nil: not in the archive).
    func entityState(_ id: String) throws(LedgerError) -> JSONObject?
    /// An entity's state when the log had `size` entries (nil: it did not exist yet).
    func entityState(_ id: String, atSize size: UInt64) throws(LedgerError) -> JSONObject?
    /// Current incidents matching `filter`, in id order.
    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [JSONObject]
    /// Every entity's state when the log had `size` entries.
    func archive(atSize size: UInt64) throws(LedgerError) -> ArchiveState
    /// The incidents that entries below `size` name as their subject while concerning `entity`,
    /// each once, in the order of their first such entry.
    func incidentSubjects(concerning entity: String, below size: UInt64) throws(LedgerError) -> [String]
}

/// Entity views at one moment: the current projections (`size` nil) or a replay of the entries
/// below `size`. Both give the same states for the same log.
public struct ArchiveView {
    public let source: any ArchiveSource
    public let size: UInt64?

    public init(source: any ArchiveSource, size: UInt64?) {
        self.source = source
        self.size = size
    }

    public func state(_ id: String) throws(LedgerError) -> JSONObject? {
        if let size { return try source.entityState(id, atSize: size) }
        return try source.entityState(id)
    }

    /// Incidents matching `filter`, in id order.
    public func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [JSONObject] {
        guard let size else { return try source.incidents(matching: filter) }
        let archive = try source.archive(atSize: size)
        return archive.sortedIDs.compactMap { archive[$0] }.filter {
            $0["entity"]?.stringValue == "incident" && filter.matches(IncidentIndexRow($0))
        }
    }

    /// The facility's attack history: every incident listing it among the facilities hit, with
    /// the impact, ordered by when it occurred.
    public func attacks(on facility: String) throws(LedgerError) -> [JSONObject] {
        var incidents: [JSONObject] = []
        if let size {
            for id in try source.incidentSubjects(concerning: facility, below: size) {
                if let s = try source.entityState(id, atSize: size) { incidents.append(s) }
            }
        } else {
            var f = IncidentFilter()
            f.facility = facility
            incidents = try source.incidents(matching: f)
        }
        var out: [(Int, String, JSONObject)] = []
        for s in incidents {
            guard let hit = (s["facilities"]?.arrayValue ?? []).first(where: { $0.objectValue?["facility"]?.stringValue == facility })?.objectValue else {
                continue
            }
            let id = s["id"]?.stringValue ?? ""
            var item = JSONObject(uniqueMembers: [("incident", .string(id)), ("impact", hit["impact"] ?? .null), ("status", s["status"] ?? .null)])
            if let o = s["occurred"] { item["occurred"] = o }
            if let t = s["title"] { item["title"] = t }
            let earliest = s["occurred"]?.stringValue.flatMap { EDTF($0)?.earliest } ?? 0
            out.append((earliest, id, item))
        }
        out.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
        return out.map(\.2)
    }

    /// A short human name for an entity id (its English or first name), or nil.
    public func displayName(_ id: String) throws(LedgerError) -> String? {
        guard let s = try state(id) else { return nil }
        if let names = (s["names"] ?? s["title"])?.objectValue {
            return names["en"]?.stringValue ?? names.members.first?.value.stringValue
        }
        if let publisher = s["publisher"]?.stringValue, let title = s["title"]?.stringValue { return "\(publisher): \(title)" }
        return nil
    }

    /// One merge followed on the way from the requested id to the one shown.
    public struct Merge: Sendable {
        /// The merged incident.
        public var from: String
        /// The incident that absorbed it.
        public var into: String
        /// The merge's entry index as its state records it (`merge.entry`).
        public var entry: JSONValue?
    }

    /// What `show` presents for one id: the entity it resolves to after following merges, its
    /// state, a facility's attack history, and the tree size all of it belongs to.
    public struct Entity {
        public var requested: String
        public var shown: String
        public var merges: [Merge]
        public var state: JSONObject
        /// A facility's attacks (empty for other entities).
        public var attacks: [JSONObject]
        public var treeSize: UInt64
    }

    /// The entity `id` resolves to (nil: not in the archive at this moment). A merged incident
    /// resolves to the incident that absorbed it (at most 1,000 hops). The current view is read
    /// in several transactions; it belongs to one tree size when the size is the same before and
    /// after (appends only ever grow it), so it is read again while appends move it (≤ 100 tries).
    public func entity(_ id: String) throws(LedgerError) -> Entity? {
        var result: Entity?
        for _ in 0..<100 {
            let before: UInt64
            if let size { before = size } else { before = try source.size() }
            result = try resolve(id, treeSize: before)
            if size != nil { break }
            if try source.size() == before { break }
        }
        return result
    }

    private func resolve(_ id: String, treeSize: UInt64) throws(LedgerError) -> Entity? {
        var shown = id
        var merges: [Merge] = []
        var state = try self.state(id)
        while let s = state, s["status"]?.stringValue == "merged", let into = s["mergedInto"]?.stringValue, merges.count < 1000 {
            merges.append(Merge(from: shown, into: into, entry: s["merge"]?.objectValue?["entry"]))
            shown = into
            state = try self.state(into)
        }
        guard let state else { return nil }
        let attacks = state["entity"]?.stringValue == "facility" ? try self.attacks(on: shown) : []
        return Entity(requested: id, shown: shown, merges: merges, state: state, attacks: attacks, treeSize: treeSize)
    }
}

extension History {
    /// One entry that concerns an entity, as history needs it.
    public struct Entry {
        public var index: UInt64
        public var payload: EventPayload
        public init(index: UInt64, payload: EventPayload) {
            self.index = index
            self.payload = payload
        }
    }

    /// One revision: which of the given entries (its offset among them) and what it changed.
    public struct Revision {
        public var offset: Int
        public var changes: [FieldChange]
    }

    /// The revisions of entity `id` from the entries concerning it, in log order: each entry is
    /// folded into the entity's state and compared with the state before. An entry on another
    /// subject that changes nothing in `id` (an incident citing this source) is left out.
    public static func revisions(of id: String, _ entries: [Entry]) throws(LedgerError) -> [Revision] {
        var state = ArchiveState(only: [id])
        var out: [Revision] = []
        for (offset, e) in entries.enumerated() {
            let before = try state.state(of: id)
            do throws(LedgerError) {
                try state.apply(e.payload, index: e.index)
            } catch { throw error.at(e.index) }
            let changes = diff(before, try state.state(of: id))
            if e.payload.subject == id || !changes.isEmpty { out.append(Revision(offset: offset, changes: changes)) }
        }
        return out
    }
}
