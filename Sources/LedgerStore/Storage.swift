import LedgerArchive
import LedgerCore
import LedgerCrypto

/// Where a ledger's rows live. `Ledger` (the front end) owns every rule, the append pipeline,
/// the fold, verification, views and exports; a storage only keeps and returns rows, inside
/// transactions it runs. The SQLite file (`SQLiteStorage`) is the first; every implementation
/// stores the same rows, so the same events give the same bytes whichever holds them
/// (docs/DECISIONS.md 53).
///
/// Like swift-log's `Logger` holding `any LogHandler`, `Ledger` holds `any LedgerStorage`.
public protocol LedgerStorage: AnyObject, Sendable {
    /// Where the ledger lives, as messages name it (a file path; never a password).
    var location: String { get }
    /// Runs `body` in one read transaction: a consistent view of every table.
    func read<T>(_ body: (any StorageReader) throws(LedgerError) -> T) throws(LedgerError) -> T
    /// Runs `body` in one write transaction, serialised against every other writer of the same
    /// ledger (other processes included): committed durably when `body` returns, rolled back
    /// when it throws. Nothing `body` wrote is visible to anyone before the commit.
    func write<T>(_ body: (any StorageWriter) throws(LedgerError) -> T) throws(LedgerError) -> T
    /// Checks what only the storage can check (its own page structure, its schema) while
    /// `verify` checks the rows; nil when it holds.
    func structuralDamage() -> LedgerError?
    /// Releases the storage; later calls fail.
    func close() throws(LedgerError)
    /// After rows were deleted to erase a sealed value: removes older copies of their pages
    /// that the storage keeps outside its tables (SQLite's write-ahead log), where it can.
    func scrub() throws(LedgerError)
}

extension LedgerStorage {
    public func scrub() throws(LedgerError) {}
}

/// One stored entry: its line, its leaf hash and the columns indexed beside it.
public struct EntryRow: Sendable {
    public var index: UInt64
    public var recordedAt: String
    /// The event id's 16 bytes.
    public var eventID: [UInt8]
    public var type: String
    public var subject: String
    public var signer: String
    /// nil when the stored leaf is not 32 bytes (damage, reported by `verify`).
    public var leaf: Digest32?
    public var line: [UInt8]
    /// The line parsed, when the writer has it (an append): a store that keeps lines in a
    /// compact form makes it from this instead of parsing the line again.
    public var parsed: EntryLine?

    public init(index: UInt64, recordedAt: String, eventID: [UInt8], type: String, subject: String, signer: String, leaf: Digest32?, line: [UInt8]) {
        self.index = index
        self.recordedAt = recordedAt
        self.eventID = eventID
        self.type = type
        self.subject = subject
        self.signer = signer
        self.leaf = leaf
        self.line = line
    }
}

/// A sealed value, kept beside the log and never in it (docs/FORMAT.md §9): the entry whose
/// payload holds its marker, and its opening encrypted under its own data key.
public struct SealedValueRow: Sendable, Equatable {
    /// Lowercase hex of the commitment (the marker's `sealed` member).
    public var commitment: String
    /// The entry whose payload holds the marker.
    public var index: UInt64
    /// That entry's subject.
    public var subject: String
    /// The field (`body.location.coordinates`).
    public var field: String
    /// nonce ‖ XChaCha20-Poly1305 ciphertext ‖ tag of the opening.
    public var ciphertext: [UInt8]

    public init(commitment: String, index: UInt64, subject: String, field: String, ciphertext: [UInt8]) {
        self.commitment = commitment
        self.index = index
        self.subject = subject
        self.field = field
        self.ciphertext = ciphertext
    }
}

/// A sealed value's data key wrapped (sealed box) for one reader.
public struct WrappedKeyRow: Sendable, Equatable {
    public var commitment: String
    /// The reader's entity id (`reader:NAME`).
    public var reader: String
    /// The sealed box holding the data key.
    public var wrapped: [UInt8]

    public init(commitment: String, reader: String, wrapped: [UInt8]) {
        self.commitment = commitment
        self.reader = reader
        self.wrapped = wrapped
    }
}

/// A value of a projection row, for comparing stored rows with recomputed ones.
public enum StorageValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let i): return String(i)
        case .text(let s): return s
        case .blob(let b): return "<\(b.count) bytes>"
        }
    }
}

/// Reads inside a transaction. Rows are returned in the orders stated, which every storage
/// must follow exactly (text keys in UTF-8 byte order).
public protocol StorageReader: MerkleNodeSource {
    /// Every `meta` row.
    func meta() throws(LedgerError) -> [String: String]
    /// The storage's schema version (docs/FORMAT.md §15).
    func schemaVersion() throws(LedgerError) -> Int
    /// Number of entries (highest index + 1).
    func size() throws(LedgerError) -> UInt64
    /// Number of entry rows (differs from `size` only when rows were deleted).
    func entryCount() throws(LedgerError) -> UInt64
    /// At most `limit` entries with index ≥ `from` and < `below`, in index order.
    func entries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow]
    /// The same, index and line only (the fold's and the export's read).
    func entryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])]
    /// Whether entry lines may come back from `storedEntryLines` and `storedEntries` in the
    /// compact form of docs/FORMAT.md §15 (`CompactLine`; read them with `EntryLine(stored:)`,
    /// expand them with `CompactLine.expand`): a SQLite file. Other stores give the lines.
    var keepsCompactForms: Bool { get }
    /// `entryLines`, each line in the form the store keeps it (see `keepsCompactForms`): for the
    /// fold, which needs the payload and not the line.
    func storedEntryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])]
    /// `entries`, each line in the form the store keeps it: for `verify`, which expands them on
    /// all cores.
    func storedEntries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow]
    /// The record time stored beside entry `index`.
    func recordedAt(_ index: UInt64) throws(LedgerError) -> String?
    /// The last entry's index and record time.
    func lastEntry() throws(LedgerError) -> (index: UInt64, recordedAt: String)?
    /// The entry holding this event id.
    func entry(eventID: [UInt8]) throws(LedgerError) -> (index: UInt64, line: [UInt8])?
    /// The distinct subjects of entries `from` ≤ index < `below`.
    func subjects(from: UInt64, below: UInt64) throws(LedgerError) -> Set<String>
    /// The lines of entries of `type` with `from` ≤ index < `below`.
    func entryLines(type: String, from: UInt64, below: UInt64) throws(LedgerError) -> [[UInt8]]
    /// Stored Merkle nodes of `level` (≥ 1) with index ≥ `from`, in index order, at most `limit`.
    func merkleNodes(level: Int, from: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, hash: Digest32?)]
    /// Number of stored Merkle nodes (levels ≥ 1).
    func merkleNodeCount() throws(LedgerError) -> UInt64
    /// The key with this id.
    func key(_ keyID: String) throws(LedgerError) -> KeyRecord?
    /// Every key, in enrollment order.
    func keys() throws(LedgerError) -> [KeyRecord]
    /// The subject's revision (0 when no entry names it).
    func revision(of subject: String) throws(LedgerError) -> UInt64
    /// Every subject and its revision.
    func revisions() throws(LedgerError) -> [(subject: String, revision: UInt64)]
    /// Stored checkpoints, ascending by size.
    func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])]
    /// The checkpoint of the largest tree size, if any.
    func lastCheckpoint() throws(LedgerError) -> (size: UInt64, note: [UInt8])?
    /// The stored checkpoint of this size.
    func checkpoint(size: UInt64) throws(LedgerError) -> [UInt8]?
    /// The entity's current state (canonical JSON).
    func entityState(_ id: String) throws(LedgerError) -> [UInt8]?
    /// Number of entities.
    func entityCount() throws(LedgerError) -> Int
    /// Every entity's id and state, in id order.
    func forEachEntity(_ body: (String, [UInt8]) throws(LedgerError) -> Void) throws(LedgerError)
    /// Entries with `from` ≤ index < `below` that concern `entity`, in index order.
    func concerning(_ entity: String, from: UInt64, below: UInt64) throws(LedgerError) -> [EntryRow]
    /// The entity's latest state version with size ≤ `atMost`.
    func stateVersion(_ id: String, atMost: UInt64) throws(LedgerError) -> (size: UInt64, state: [UInt8])?
    /// The largest state-version size ≤ `atMost` (0 when none).
    func latestStateVersionSize(atMost: UInt64) throws(LedgerError) -> UInt64
    /// Ids with a state version of size > `size`.
    func stateVersionIDs(after size: UInt64) throws(LedgerError) -> Set<String>
    /// Current incidents matching `filter` (id and state), in id order.
    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, state: [UInt8])]
    /// Current incidents matching `filter`: id and earliest day only (from the index; no state
    /// read), in id order.
    func incidentKeys(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, earliest: Int?)]
    /// Every row of a projection table (`Projection.tables`), in its key order.
    func forEachProjectionRow(_ table: ProjectionTable, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError)
    /// The `state_versions` rows of one checkpoint size, in id order, as `forEachProjectionRow`
    /// gives them.
    func forEachStateVersionRow(size: UInt64, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError)
    /// Number of `state_versions` rows.
    func stateVersionCount() throws(LedgerError) -> UInt64
    /// The ids of the entities whose ids start with `prefix`, in id order.
    func entityIDs(prefix: String) throws(LedgerError) -> [String]
    /// The sealed value with this commitment (nil: never stored here); an erased one has an empty
    /// ciphertext.
    func sealedValue(_ commitment: String) throws(LedgerError) -> SealedValueRow?
    /// Sealed values of entries `from` ≤ index < `below` (not erased), by index then commitment.
    func sealedValues(from: UInt64, below: UInt64) throws(LedgerError) -> [SealedValueRow]
    /// The data key of `commitment` wrapped for `reader`, if any.
    func wrappedKey(_ commitment: String, reader: String) throws(LedgerError) -> [UInt8]?
}

/// Writes inside a write transaction.
public protocol StorageWriter: StorageReader {
    func insertEntry(_ row: EntryRow) throws(LedgerError)
    /// A Merkle node at `level` ≥ 1.
    func insertMerkleNode(level: Int, index: UInt64, hash: Digest32) throws(LedgerError)
    /// Adds one to the subject's revision. This and the two key writers below are called only
    /// by `Ledger.insert`, which tells the transaction's `StorageLogState` what changed: a new
    /// caller must do the same, or the rules would read a remembered revision or key.
    func bumpRevision(of subject: String) throws(LedgerError)
    func insertKey(_ key: KeyRecord) throws(LedgerError)
    func revokeKey(_ keyID: String, at index: UInt64) throws(LedgerError)
    func insertCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError)
    func replaceCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError)
    func setMeta(_ key: String, _ value: String) throws(LedgerError)
    /// An entity's state; `replace` when it may exist already.
    func putEntity(id: String, kind: String, state: [UInt8], replace: Bool) throws(LedgerError)
    /// An incident's index row and links; `replace` when it may exist already.
    func putIncidentIndex(id: String, row: IncidentIndexRow, replace: Bool) throws(LedgerError)
    func insertConcern(entity: String, index: UInt64) throws(LedgerError)
    /// `concerns` rows: what `insertConcern` for each would write (a store may write them in
    /// fewer statements).
    func insertConcerns(_ rows: [(entity: String, index: UInt64)]) throws(LedgerError)
    /// New entities' rows and, for incidents, their index rows and links (none of them stored
    /// yet): what `putEntity` and `putIncidentIndex` with `replace: false` would write for each,
    /// in fewer statements where the store can.
    func insertEntities(_ rows: [ArchiveState.EntityRow]) throws(LedgerError)
    func insertStateVersion(id: String, size: UInt64, state: StateBytes) throws(LedgerError)
    /// A state checkpoint's rows, all at tree size `size`: what `insertStateVersion` for each
    /// would write (a store may write them in fewer statements).
    func insertStateVersions(size: UInt64, _ rows: [(id: String, state: StateBytes)]) throws(LedgerError)
    /// Whether this store keeps states packed (`StateBytes.stored`): a fold then hands it states
    /// in that form where it has them (a state put away is packed already), else canonical.
    /// Either form is stored right; this only saves converting.
    var packsStates: Bool { get }
    /// Empties every projection table. A store may leave secondary indexes to be made by
    /// `indexProjections()` once the rows are written.
    func clearProjections() throws(LedgerError)
    /// Makes the indexes `clearProjections()` left to be made after the rows (`rebuild` calls it
    /// once it has written every projection row); nothing in a store that left none.
    func indexProjections() throws(LedgerError)
    /// Stores a sealed value and its wrapped data keys.
    func insertSealedValue(_ row: SealedValueRow, keys: [WrappedKeyRow]) throws(LedgerError)
    /// Destroys a sealed value: its ciphertext and every wrapped copy of its data key. Its row
    /// stays with an empty ciphertext (the commitment is erased and never stored again); no row
    /// with this commitment: nothing happens.
    func eraseSealedValue(_ commitment: String) throws(LedgerError)
    /// Destroys every data key wrapped for `reader` (a revoked reader).
    func deleteWrappedKeys(reader: String) throws(LedgerError)
    /// A hint before a batch is checked: the event ids, subjects and signers it will ask about
    /// (and the log's last entry, which every append reads next). A storage whose every read is
    /// a network round trip fetches them in one query and answers from that (keeping it right
    /// as this transaction writes); others ignore it.
    func prefetch(eventIDs: [[UInt8]], subjects: [String], keyIDs: [String]) throws(LedgerError)
    /// A hint before the states of `ids` are read one by one (a state checkpoint reads every
    /// entity changed in the last interval, most of them by earlier transactions): fetched in
    /// one query by a storage that prefetches, kept with the rest of the transaction's prefetch.
    func prefetchStates(_ ids: [String]) throws(LedgerError)
    /// The rows written so far may go: a storage that sends them over a network may send them
    /// now, without waiting, so that the server stores them while the caller goes on (a batch
    /// append calls it every 1,024 events while it folds the rest, and once its rows are
    /// complete, before it waits for the signatures). Rows written after it are sent later; the
    /// transaction still commits only after the caller returns, and reads still see every write.
    func sendAhead()
    /// Whether `prefetch` does anything (the caller then also lists the entities the batch's
    /// bodies name among `subjects`; for others it skips that work).
    var prefetches: Bool { get }
}

extension StorageReader {
    public var keepsCompactForms: Bool { false }

    public func storedEntryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        try entryLines(from: from, below: below, limit: limit)
    }

    public func storedEntries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow] {
        try entries(from: from, below: below, limit: limit)
    }

    /// Every entity read to find a few: a storage with an index on ids does better.
    public func entityIDs(prefix: String) throws(LedgerError) -> [String] {
        var out: [String] = []
        try forEachEntity { (id, _) throws(LedgerError) in if id.hasPrefix(prefix) { out.append(id) } }
        return out
    }
}

/// The ids an `entityIDs(prefix:)` query reads: the primary key's range from the prefix up to
/// (not including) the prefix with its last byte raised by one. Nil for an empty prefix or one
/// ending in a byte that cannot be raised within ASCII (prefixes here end in `:`).
public func entityIDRange(prefix: String) -> (lower: String, upper: String)? {
    guard let last = prefix.utf8.last, last < 0x7F else { return nil }
    return (prefix, String(decoding: Array(prefix.utf8.dropLast()) + [last + 1], as: UTF8.self))
}

extension StorageWriter {
    public func prefetch(eventIDs: [[UInt8]], subjects: [String], keyIDs: [String]) throws(LedgerError) {}
    public func prefetchStates(_ ids: [String]) throws(LedgerError) {}
    public func sendAhead() {}
    public var prefetches: Bool { false }
    public var packsStates: Bool { false }
    public func indexProjections() throws(LedgerError) {}
    public func insertConcerns(_ rows: [(entity: String, index: UInt64)]) throws(LedgerError) {
        for row in rows { try insertConcern(entity: row.entity, index: row.index) }
    }
    public func insertStateVersions(size: UInt64, _ rows: [(id: String, state: StateBytes)]) throws(LedgerError) {
        for row in rows { try insertStateVersion(id: row.id, size: size, state: row.state) }
    }
    public func insertEntities(_ rows: [ArchiveState.EntityRow]) throws(LedgerError) {
        for row in rows {
            try putEntity(id: row.id, kind: row.kind, state: row.state.canonical, replace: false)
            if let index = row.index { try putIncidentIndex(id: row.id, row: index, replace: false) }
        }
    }
}

/// The projection tables, with the key order `verify` compares them in.
public enum ProjectionTable: String, CaseIterable, Sendable {
    case entities
    case incidentIndex = "incident_index"
    case incidentLinks = "incident_links"
    case concerns
    case stateVersions = "state_versions"

    /// The columns, in stored order.
    public var columns: [String] {
        switch self {
        case .entities: return ["id", "kind", "state"]
        case .incidentIndex: return ["id", "earliest", "latest", "admin1", "admin2", "town", "status", "certainty", "verification"]
        case .incidentLinks: return ["incident", "role", "other"]
        case .concerns: return ["entity", "idx"]
        case .stateVersions: return ["id", "size", "state"]
        }
    }

    /// The key order rows are compared in.
    public var order: [String] {
        switch self {
        case .entities, .incidentIndex: return ["id"]
        case .incidentLinks: return ["incident", "role", "other"]
        case .concerns: return ["entity", "idx"]
        case .stateVersions: return ["size", "id"]
        }
    }
}

/// Where a ledger lives, before it is opened: a SQLite file path (`SQLiteLocation`) or a
/// PostgreSQL database (`PostgresLocation` in LedgerPostgres).
public protocol LedgerLocation: Sendable {
    /// As messages name it (never a password).
    var description: String { get }
    /// Opens the existing ledger's storage.
    func open(readOnly: Bool) throws(LedgerError) -> any LedgerStorage
    /// Makes a new ledger: refuses a location that holds one already, makes the schema, lets
    /// `build` fill the new storage, and makes the result visible all at once: a failure or
    /// crash leaves no ledger there.
    func create(_ build: (any LedgerStorage) throws(LedgerError) -> Void) throws(LedgerError)
}

/// A ledger file.
public struct SQLiteLocation: LedgerLocation {
    public let path: String
    public init(path: String) { self.path = path }
    public var description: String { path }

    public func open(readOnly: Bool) throws(LedgerError) -> any LedgerStorage {
        try SQLiteStorage.open(path: path, readOnly: readOnly)
    }

    public func create(_ build: (any LedgerStorage) throws(LedgerError) -> Void) throws(LedgerError) {
        try SQLiteStorage.create(path: path) { (storage) throws(LedgerError) in try build(storage) }
    }
}
