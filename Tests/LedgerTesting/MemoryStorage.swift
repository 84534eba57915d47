import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import Synchronization

/// A ledger's rows in memory, for tests that need no database (as swift-nio keeps `NIOEmbedded`
/// beside `NIOPosix`): the whole `StorageReader`/`StorageWriter` protocol over dictionaries.
/// A write transaction works on a copy of the tables and replaces them when its body returns,
/// so a refused append leaves them exactly as they were; reads see the last commit.
public final class MemoryStorage: LedgerStorage, @unchecked Sendable {
    public let location: String
    private let committed = Mutex(MemoryTables())
    private let writer = NSLock()

    public init(name: String = "memory") { location = "memory:\(name)" }

    public func read<T>(_ body: (any StorageReader) throws(LedgerError) -> T) throws(LedgerError) -> T {
        try body(MemoryRows(tables: Box(committed.withLock { $0 })))
    }

    public func write<T>(_ body: (any StorageWriter) throws(LedgerError) -> T) throws(LedgerError) -> T {
        writer.lock()
        defer { writer.unlock() }
        let box = Box(committed.withLock { $0 })
        let result = try body(MemoryRows(tables: box))
        committed.withLock { $0 = box.tables }
        return result
    }

    public func structuralDamage() -> LedgerError? { nil }
    public func close() throws(LedgerError) {}

    /// Every table's rows in a fixed order (what `TestPlace.fingerprint` hashes).
    public func dump() -> String { committed.withLock { String(describing: $0.ordered) } }

    final class Box {
        var tables: MemoryTables
        init(_ t: MemoryTables) { tables = t }
    }
}

/// A location holding one `MemoryStorage`: `create` fills it (once), `open` returns it.
public struct MemoryLocation: LedgerLocation {
    public let storage: MemoryStorage
    public init(_ storage: MemoryStorage = MemoryStorage()) { self.storage = storage }
    public var description: String { storage.location }

    public func open(readOnly: Bool) throws(LedgerError) -> any LedgerStorage {
        guard try storage.read({ (r) throws(LedgerError) in try r.meta()["origin"] != nil }) else {
            throw LedgerError(.notALedger, "\(storage.location) holds no ledger")
        }
        return storage
    }

    public func create(_ build: (any LedgerStorage) throws(LedgerError) -> Void) throws(LedgerError) {
        guard try storage.read({ (r) throws(LedgerError) in try r.meta().isEmpty }) else {
            throw LedgerError(.io, "\(storage.location) already holds a ledger")
        }
        try build(storage)
    }
}

/// The tables, as values (copied for each write transaction).
struct MemoryTables {
    var meta: [String: String] = [:]
    var entries: [EntryRow] = []
    var byEventID: [[UInt8]: UInt64] = [:]
    var merkle: [Int: [UInt64: Digest32]] = [:]
    var subjects: [String: UInt64] = [:]
    var keys: [String: KeyRecord] = [:]
    var checkpoints: [UInt64: [UInt8]] = [:]
    var entities: [String: (kind: String, state: [UInt8])] = [:]
    var incidentIndex: [String: IncidentIndexRow] = [:]
    var links: Set<[String]> = []
    var concerns: [String: Set<UInt64>] = [:]
    var stateVersions: [String: [UInt64: [UInt8]]] = [:]
    var sealed: [String: SealedValueRow] = [:]
    var wrapped: [String: [String: [UInt8]]] = [:]

    /// Every row, sorted, for fingerprints.
    var ordered: [String] {
        var out: [String] = meta.sorted { $0.key < $1.key }.map { "meta \($0.key)=\($0.value)" }
        out += entries.map { "entry \($0.index) \($0.recordedAt) \($0.line)" }
        out += merkle.flatMap { l, nodes in nodes.map { "merkle \(l) \($0.key) \($0.value.hex)" } }.sorted()
        out += subjects.map { "subject \($0.key) \($0.value)" }.sorted()
        out += keys.values.map { "key \($0.keyID) \($0.roles) \($0.enrolledAt) \(String(describing: $0.revokedAt))" }.sorted()
        out += checkpoints.map { "checkpoint \($0.key) \($0.value)" }.sorted()
        out += entities.map { "entity \($0.key) \($0.value.state)" }.sorted()
        out += links.map { "link \($0)" }.sorted()
        out += concerns.flatMap { e, s in s.map { "concern \(e) \($0)" } }.sorted()
        out += stateVersions.flatMap { id, v in v.map { "version \(id) \($0.key) \($0.value)" } }.sorted()
        out += sealed.values.map { "sealed \($0.commitment) \($0.index) \($0.field) \($0.ciphertext)" }.sorted()
        out += wrapped.flatMap { c, r in r.map { "wrapped \(c) \($0.key) \($0.value)" } }.sorted()
        return out
    }
}

/// The `StorageReader`/`StorageWriter` of one transaction over `MemoryTables`.
struct MemoryRows: StorageWriter {
    let tables: MemoryStorage.Box
    /// The tables, read and changed in place (no copy per row).
    private var t: MemoryTables {
        _read { yield tables.tables }
        nonmutating _modify { yield &tables.tables }
    }

    private static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    func node(level: Int, index: UInt64) throws -> Digest32 {
        if level == 0, index < UInt64(t.entries.count), let leaf = t.entries[Int(index)].leaf { return leaf }
        guard level > 0, let d = t.merkle[level]?[index] else { throw MerkleError.missingNode(level: level, index: index) }
        return d
    }

    func meta() throws(LedgerError) -> [String: String] { t.meta }
    func schemaVersion() throws(LedgerError) -> Int { 3 }
    func size() throws(LedgerError) -> UInt64 { UInt64(t.entries.count) }
    func entryCount() throws(LedgerError) -> UInt64 { UInt64(t.entries.count) }

    func entries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow] {
        let end = min(below, UInt64(t.entries.count))
        guard from < end else { return [] }
        return Array(t.entries[Int(from)..<Int(min(end, from + UInt64(limit)))])
    }

    func entryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        try entries(from: from, below: below, limit: limit).map { ($0.index, $0.line) }
    }

    func recordedAt(_ index: UInt64) throws(LedgerError) -> String? { index < UInt64(t.entries.count) ? t.entries[Int(index)].recordedAt : nil }
    func lastEntry() throws(LedgerError) -> (index: UInt64, recordedAt: String)? { t.entries.last.map { ($0.index, $0.recordedAt) } }

    func entry(eventID: [UInt8]) throws(LedgerError) -> (index: UInt64, line: [UInt8])? {
        t.byEventID[eventID].map { ($0, t.entries[Int($0)].line) }
    }

    func subjects(from: UInt64, below: UInt64) throws(LedgerError) -> Set<String> {
        Set(try entries(from: from, below: below, limit: Int.max).map(\.subject))
    }

    func entryLines(type: String, from: UInt64, below: UInt64) throws(LedgerError) -> [[UInt8]] {
        try entries(from: from, below: below, limit: Int.max).filter { $0.type == type }.map(\.line)
    }

    func merkleNodes(level: Int, from: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, hash: Digest32?)] {
        (t.merkle[level] ?? [:]).filter { $0.key >= from }.sorted { $0.key < $1.key }.prefix(limit).map { ($0.key, $0.value) }
    }

    func merkleNodeCount() throws(LedgerError) -> UInt64 { UInt64(t.merkle.values.reduce(0) { $0 + $1.count }) }
    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? { t.keys[keyID] }
    func keys() throws(LedgerError) -> [KeyRecord] { t.keys.values.sorted { $0.enrolledAt < $1.enrolledAt } }
    func revision(of subject: String) throws(LedgerError) -> UInt64 { t.subjects[subject] ?? 0 }
    func revisions() throws(LedgerError) -> [(subject: String, revision: UInt64)] {
        t.subjects.sorted { Self.byteOrder($0.key, $1.key) }.map { ($0.key, $0.value) }
    }
    func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] { t.checkpoints.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    func checkpoint(size: UInt64) throws(LedgerError) -> [UInt8]? { t.checkpoints[size] }
    func lastCheckpoint() throws(LedgerError) -> (size: UInt64, note: [UInt8])? { t.checkpoints.max { $0.key < $1.key }.map { ($0.key, $0.value) } }
    func entityState(_ id: String) throws(LedgerError) -> [UInt8]? { t.entities[id]?.state }
    func entityCount() throws(LedgerError) -> Int { t.entities.count }

    func forEachEntity(_ body: (String, [UInt8]) throws(LedgerError) -> Void) throws(LedgerError) {
        for id in t.entities.keys.sorted(by: Self.byteOrder) { try body(id, t.entities[id]!.state) }
    }

    func concerning(_ entity: String, from: UInt64, below: UInt64) throws(LedgerError) -> [EntryRow] {
        (t.concerns[entity] ?? []).filter { $0 >= from && $0 < below }.sorted().map { t.entries[Int($0)] }
    }

    func stateVersion(_ id: String, atMost: UInt64) throws(LedgerError) -> (size: UInt64, state: [UInt8])? {
        (t.stateVersions[id] ?? [:]).filter { $0.key <= atMost }.max { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func latestStateVersionSize(atMost: UInt64) throws(LedgerError) -> UInt64 {
        t.stateVersions.values.flatMap(\.keys).filter { $0 <= atMost }.max() ?? 0
    }

    func stateVersionIDs(after size: UInt64) throws(LedgerError) -> Set<String> {
        Set(t.stateVersions.filter { $0.value.keys.contains { $0 > size } }.map(\.key))
    }

    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, state: [UInt8])] {
        t.incidentIndex.keys.sorted(by: Self.byteOrder).filter { filter.matches(t.incidentIndex[$0]!) }.map { ($0, t.entities[$0]?.state ?? []) }
    }

    func incidentKeys(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, earliest: Int?)] {
        t.incidentIndex.keys.sorted(by: Self.byteOrder).filter { filter.matches(t.incidentIndex[$0]!) }.map { ($0, t.incidentIndex[$0]!.earliest) }
    }

    func forEachProjectionRow(_ table: ProjectionTable, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        func text(_ s: String?) -> StorageValue { s.map { .text($0) } ?? .null }
        func int(_ i: Int?) -> StorageValue { i.map { .integer(Int64($0)) } ?? .null }
        switch table {
        case .entities:
            for id in t.entities.keys.sorted(by: Self.byteOrder) { try body([.text(id), .text(t.entities[id]!.kind), .blob(t.entities[id]!.state)]) }
        case .incidentIndex:
            for id in t.incidentIndex.keys.sorted(by: Self.byteOrder) {
                let r = t.incidentIndex[id]!
                try body([
                    .text(id), int(r.earliest), int(r.latest), text(r.admin1), text(r.admin2), text(r.town), .text(r.status), text(r.certainty),
                    .text(r.verification),
                ])
            }
        case .incidentLinks:
            let rows = t.links.sorted { $0.map { Array($0.utf8) }.lexicographicallyPrecedes($1.map { Array($0.utf8) }) { $0.lexicographicallyPrecedes($1) } }
            for l in rows { try body(l.map { .text($0) }) }
        case .concerns:
            for e in t.concerns.keys.sorted(by: Self.byteOrder) {
                for i in t.concerns[e]!.sorted() { try body([.text(e), .integer(Int64(i))]) }
            }
        case .stateVersions:
            let rows = t.stateVersions.flatMap { id, v in v.map { (id: id, size: $0.key, state: $0.value) } }.sorted {
                $0.size != $1.size ? $0.size < $1.size : Self.byteOrder($0.id, $1.id)
            }
            for r in rows { try body([.text(r.id), .integer(Int64(r.size)), .blob(r.state)]) }
        }
    }

    func forEachStateVersionRow(size: UInt64, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        for (id, versions) in t.stateVersions.sorted(by: { Self.byteOrder($0.key, $1.key) }) {
            if let state = versions[size] { try body([.text(id), .integer(Int64(size)), .blob(state)]) }
        }
    }

    func stateVersionCount() throws(LedgerError) -> UInt64 { UInt64(t.stateVersions.values.reduce(0) { $0 + $1.count }) }

    func insertEntry(_ row: EntryRow) throws(LedgerError) {
        guard row.index == UInt64(t.entries.count), t.byEventID[row.eventID] == nil else {
            throw LedgerError(.io, "memory: entry \(row.index) or its event id already stored")
        }
        t.entries.append(row)
        t.byEventID[row.eventID] = row.index
    }

    func insertMerkleNode(level: Int, index: UInt64, hash: Digest32) throws(LedgerError) { t.merkle[level, default: [:]][index] = hash }
    func bumpRevision(of subject: String) throws(LedgerError) { t.subjects[subject, default: 0] += 1 }
    func insertKey(_ key: KeyRecord) throws(LedgerError) { t.keys[key.keyID] = key }
    func revokeKey(_ keyID: String, at index: UInt64) throws(LedgerError) { t.keys[keyID]?.revokedAt = index }

    func insertCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        guard t.checkpoints[size] == nil else { throw LedgerError(.io, "memory: checkpoint \(size) already stored") }
        t.checkpoints[size] = note
    }

    func replaceCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) { t.checkpoints[size] = note }
    func setMeta(_ key: String, _ value: String) throws(LedgerError) { t.meta[key] = value }

    func putEntity(id: String, kind: String, state: [UInt8], replace: Bool) throws(LedgerError) {
        guard replace || t.entities[id] == nil else { throw LedgerError(.io, "memory: entity \(id) already stored") }
        t.entities[id] = (kind, state)
    }

    func putIncidentIndex(id: String, row: IncidentIndexRow, replace: Bool) throws(LedgerError) {
        t.incidentIndex[id] = row
        if replace { t.links = t.links.filter { $0[0] != id } }
        for f in row.facilities { t.links.insert([id, "facility", f]) }
        for a in row.perpetrators { t.links.insert([id, "perpetrator", a]) }
    }

    func insertConcern(entity: String, index: UInt64) throws(LedgerError) { t.concerns[entity, default: []].insert(index) }
    func insertStateVersion(id: String, size: UInt64, state: StateBytes) throws(LedgerError) { t.stateVersions[id, default: [:]][size] = state.canonical }

    func sealedValue(_ commitment: String) throws(LedgerError) -> SealedValueRow? { t.sealed[commitment] }

    func sealedValues(from: UInt64, below: UInt64) throws(LedgerError) -> [SealedValueRow] {
        t.sealed.values.filter { $0.index >= from && $0.index < below && !$0.ciphertext.isEmpty }.sorted {
            ($0.index, $0.commitment) < ($1.index, $1.commitment)
        }
    }

    func wrappedKey(_ commitment: String, reader: String) throws(LedgerError) -> [UInt8]? { t.wrapped[commitment]?[reader] }

    func insertSealedValue(_ row: SealedValueRow, keys: [WrappedKeyRow]) throws(LedgerError) {
        guard t.sealed[row.commitment] == nil else { throw LedgerError(.io, "memory: sealed value \(row.commitment) already stored") }
        t.sealed[row.commitment] = row
        for k in keys { t.wrapped[k.commitment, default: [:]][k.reader] = k.wrapped }
    }

    func eraseSealedValue(_ commitment: String) throws(LedgerError) {
        t.sealed[commitment]?.ciphertext = []
        t.wrapped[commitment] = nil
    }

    func deleteWrappedKeys(reader: String) throws(LedgerError) {
        for c in t.wrapped.keys { t.wrapped[c]?[reader] = nil }
    }

    func clearProjections() throws(LedgerError) {
        t.entities = [:]
        t.incidentIndex = [:]
        t.links = []
        t.concerns = [:]
        t.stateVersions = [:]
    }
}
