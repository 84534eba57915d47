import Foundation
import GRDB
import LedgerArchive
import LedgerCore
import LedgerCrypto

// The rows of a ledger file (docs/FORMAT.md §15), one GRDB record type per table. Each decodes
// by column name (`init(row:)`) and encodes by column name (`encode(to:)`), so a read or a
// write names the columns it means instead of counting them.
//
// The hot paths (the append's inserts, entry and Merkle-node iteration in verify, rebuild and
// export) do not go through GRDB's per-call record machinery: they run one cached statement
// whose column list is the record's own `Columns`, in its order (`StoredRecord.insertSQL`,
// `selectSQL`), with the record's `values` as positional arguments or read back at those
// positions (docs/DECISIONS.md 59 says why).

/// A record of one ledger table: its columns in stored order and its values in that order.
protocol StoredRecord: FetchableRecord, PersistableRecord
where Columns: ColumnExpression & CaseIterable & RawRepresentable, Columns.RawValue == String {
    /// The values, in `Columns.allCases` order.
    var values: [SQLiteValue] { get }
}

extension StoredRecord {
    /// The column names in stored order.
    static var columnNames: [String] { Columns.allCases.map(\.rawValue) }

    /// `SELECT <every column> FROM <table>`, the columns in `Columns` order (so position i is
    /// `Columns.allCases[i]`).
    static func selectSQL(_ tail: String = "") -> String {
        "SELECT \(columnNames.joined(separator: ", ")) FROM \(databaseTableName)" + (tail.isEmpty ? "" : " " + tail)
    }

    /// `INSERT [OR …] INTO <table> (<every column>) VALUES (?, …)`.
    static func insertSQL(_ verb: String = "INSERT") -> String {
        "\(verb) INTO \(databaseTableName) (\(columnNames.joined(separator: ", "))) VALUES (\(columnNames.map { _ in "?" }.joined(separator: ", ")))"
    }

    func encode(to container: inout PersistenceContainer) throws {
        for (column, value) in zip(Columns.allCases, values) { container[column.rawValue] = value.databaseValue }
    }
}

/// One `entries` row. `line` is the entry line; the file keeps it in its compact form
/// (`CompactLine`, docs/FORMAT.md §15) when that gives back exactly its bytes.
struct EntryRecord: StoredRecord {
    static let databaseTableName = "entries"
    enum Columns: String, ColumnExpression, CaseIterable {
        case idx
        case recordedAt = "recorded_at"
        case eventID = "event_id"
        case type, subject, signer, leaf, line
    }
    static let select = selectSQL()
    static let insert = insertSQL()

    var entry: EntryRow

    init(_ entry: EntryRow) { self.entry = entry }

    init(row: Row) throws {
        entry = EntryRow(
            index: try row.count(Columns.idx), recordedAt: try row.text(Columns.recordedAt), eventID: Array(try row.blob(Columns.eventID)),
            type: try row.text(Columns.type), subject: try row.text(Columns.subject), signer: try row.text(Columns.signer),
            leaf: row.digest(Columns.leaf), line: CompactLine.expand(try row.bytes(Columns.line)))
    }

    /// The same from a row of `select` (columns at their `Columns` positions): entry
    /// iteration, where looking each column up by name costs (DECISIONS 59).
    /// `expanding` false leaves a compact line as it is stored (`storedEntries`).
    init(selected row: Row, expanding: Bool = true) throws(LedgerError) {
        let stored = try row.bytes(7)
        entry = EntryRow(
            index: try row.count(0), recordedAt: try row.text(1), eventID: Array(try row.blob(2)), type: try row.text(3), subject: try row.text(4),
            signer: try row.text(5), leaf: row.digest(6), line: expanding ? CompactLine.expand(stored) : stored)
    }

    var values: [SQLiteValue] {
        [
            .count(entry.index), .text(entry.recordedAt), .blob(entry.eventID), .text(entry.type), .text(entry.subject), .text(entry.signer),
            .bytes(entry.leaf?.bytes), .blob(CompactLine.encode(entry.line, entry: entry.parsed)),
        ]
    }
}

/// One `merkle` row: a perfect-subtree hash at level ≥ 1.
struct MerkleRecord: StoredRecord {
    static let databaseTableName = "merkle"
    enum Columns: String, ColumnExpression, CaseIterable { case level, idx, hash }
    static let insert = insertSQL()

    var level: Int
    var index: UInt64
    /// nil when the stored hash is not 32 bytes (damage, reported by `verify`).
    var hash: Digest32?

    init(level: Int, index: UInt64, hash: Digest32?) {
        self.level = level
        self.index = index
        self.hash = hash
    }

    init(row: Row) throws {
        guard let level = try row.optionalInteger(Columns.level) else { throw LedgerError(.notALedger, "the ledger file is damaged: merkle.level is NULL") }
        self.init(level: level, index: try row.count(Columns.idx), hash: row.digest(Columns.hash))
    }

    var values: [SQLiteValue] { [.int(level), .count(index), .bytes(hash?.bytes)] }
}

/// One `subjects` row: how many entries named the subject.
struct SubjectRecord: StoredRecord {
    static let databaseTableName = "subjects"
    enum Columns: String, ColumnExpression, CaseIterable { case subject, revision }
    static let byKey = selectSQL("WHERE subject = ?")
    /// Adds one to the revision, making the row at 1 (the append's upsert).
    static let bump =
        "INSERT INTO subjects (subject, revision) VALUES (?, 1) ON CONFLICT(subject) DO UPDATE SET revision = revision + 1"

    var subject: String
    var revision: UInt64

    init(subject: String, revision: UInt64) {
        self.subject = subject
        self.revision = revision
    }

    init(row: Row) throws { self.init(subject: try row.text(Columns.subject), revision: try row.count(Columns.revision)) }

    /// The same from a row of `byKey` (columns at their `Columns` positions): the append asks
    /// for every event's subject (DECISIONS 59).
    init(selected row: Row) throws(LedgerError) { self.init(subject: try row.text(0), revision: try row.count(1)) }

    var values: [SQLiteValue] { [.text(subject), .count(revision)] }
}

/// One `keys` row.
struct KeyRow: StoredRecord {
    static let databaseTableName = "keys"
    enum Columns: String, ColumnExpression, CaseIterable {
        case keyID = "keyid"
        case publicKey = "public_key"
        case name, roles
        case enrolledAt = "enrolled_at"
        case revokedAt = "revoked_at"
    }
    static let byKey = selectSQL("WHERE keyid = ?")
    static let all = selectSQL("ORDER BY enrolled_at")

    var key: KeyRecord

    init(_ key: KeyRecord) { self.key = key }

    init(row: Row) throws {
        key = try Self.key(
            keyID: try row.text(Columns.keyID), publicKey: try row.blob(Columns.publicKey), name: try row.text(Columns.name),
            roles: try row.text(Columns.roles), enrolledAt: try row.count(Columns.enrolledAt), revokedAt: try row.optionalCount(Columns.revokedAt))
    }

    /// The same from a row of `byKey` (columns at their `Columns` positions): the append asks
    /// for every event's signer (DECISIONS 59).
    init(selected row: Row) throws(LedgerError) {
        key = try Self.key(
            keyID: try row.text(0), publicKey: try row.blob(1), name: try row.text(2), roles: try row.text(3), enrolledAt: try row.count(4),
            revokedAt: try row.optionalCount(5))
    }

    private static func key(
        keyID: String, publicKey: Data, name: String, roles: String, enrolledAt: UInt64, revokedAt: UInt64?
    ) throws(LedgerError) -> KeyRecord {
        guard let pk = Ed25519.PublicKey(bytes: Array(publicKey)) else { throw LedgerError(.notALedger, "key table holds a malformed public key") }
        let roles = roles.split(separator: ",").compactMap { Role(rawValue: String($0)) }
        return KeyRecord(keyID: keyID, publicKey: pk, name: name, roles: roles, enrolledAt: enrolledAt, revokedAt: revokedAt)
    }

    var values: [SQLiteValue] {
        [
            .text(key.keyID), .blob(key.publicKey.bytes), .text(key.name), .text(key.roles.map(\.rawValue).joined(separator: ",")), .count(key.enrolledAt),
            .count(key.revokedAt),
        ]
    }
}

/// One `checkpoints` row: a signed checkpoint note and the tree size it covers.
struct CheckpointRow: StoredRecord {
    static let databaseTableName = "checkpoints"
    enum Columns: String, ColumnExpression, CaseIterable { case size, note }
    static let all = selectSQL("ORDER BY size")
    static let byKey = selectSQL("WHERE size = ?")
    static let last = selectSQL("ORDER BY size DESC LIMIT 1")

    var size: UInt64
    var note: [UInt8]

    init(size: UInt64, note: [UInt8]) {
        self.size = size
        self.note = note
    }

    init(row: Row) throws { self.init(size: try row.count(Columns.size), note: Array(try row.blob(Columns.note))) }

    var values: [SQLiteValue] { [.count(size), .blob(note)] }
}

/// One `meta` row.
struct MetaRow: StoredRecord {
    static let databaseTableName = "meta"
    enum Columns: String, ColumnExpression, CaseIterable { case key, value }
    static let all = selectSQL()

    var key: String
    var value: String

    init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    init(row: Row) throws { self.init(key: try row.text(Columns.key), value: try row.text(Columns.value)) }

    var values: [SQLiteValue] { [.text(key), .text(value)] }
}

/// One `entities` row: an entity's current state (canonical JSON, kept packed).
struct EntityRecord: StoredRecord {
    static let databaseTableName = "entities"
    enum Columns: String, ColumnExpression, CaseIterable { case id, kind, state }
    static let insert = insertSQL()
    static let replace = insertSQL("INSERT OR REPLACE")
    static let insertMany = MultiRowInsert(insert, columns: 3)
    static let stateByKey = "SELECT state FROM entities WHERE id = ?"
    static let idAndState = "SELECT id, state FROM entities ORDER BY id"

    var id: String
    var kind: String
    var state: StateBytes
    /// Whether `values` gives the state packed.
    var packed = true

    init(id: String, kind: String, state: StateBytes, packed: Bool = true) {
        self.id = id
        self.kind = kind
        self.state = state
        self.packed = packed
    }

    /// The file keeps the state packed (`CompactState`) or, in files older than version 6, as it is.
    init(row: Row) throws {
        self.init(id: try row.text(Columns.id), kind: try row.text(Columns.kind), state: .stored(try row.bytes(Columns.state)))
    }

    var values: [SQLiteValue] { [.text(id), .text(kind), .blob(packed ? state.stored : state.canonical)] }
}

/// One `incident_index` row: what the incident filter searches.
struct IncidentIndexRecord: StoredRecord {
    static let databaseTableName = "incident_index"
    enum Columns: String, ColumnExpression, CaseIterable { case id, earliest, latest, admin1, admin2, town, status, certainty, verification }
    static let replace = insertSQL("INSERT OR REPLACE")
    static let replaceMany = MultiRowInsert(replace, columns: 9)

    var id: String
    var earliest: Int?
    var latest: Int?
    var admin1: String?
    var admin2: String?
    var town: String?
    var status: String
    var certainty: String?
    var verification: String

    /// The index row of a folded incident (its links go to `incident_links`).
    init(id: String, row: IncidentIndexRow) {
        self.id = id
        (earliest, latest, admin1, admin2, town) = (row.earliest, row.latest, row.admin1, row.admin2, row.town)
        (status, certainty, verification) = (row.status, row.certainty, row.verification)
    }

    init(row r: Row) throws {
        id = try r.text(Columns.id)
        earliest = try r.optionalInteger(Columns.earliest)
        latest = try r.optionalInteger(Columns.latest)
        admin1 = try r.optionalText(Columns.admin1)
        admin2 = try r.optionalText(Columns.admin2)
        town = try r.optionalText(Columns.town)
        status = try r.text(Columns.status)
        certainty = try r.optionalText(Columns.certainty)
        verification = try r.text(Columns.verification)
    }

    var values: [SQLiteValue] {
        [.text(id), .int(earliest), .int(latest), .string(admin1), .string(admin2), .string(town), .text(status), .string(certainty), .text(verification)]
    }
}

/// One `incident_links` row: an incident's facility hit (role `facility`) or named perpetrator
/// (`perpetrator`).
struct IncidentLinkRecord: StoredRecord {
    static let databaseTableName = "incident_links"
    enum Columns: String, ColumnExpression, CaseIterable { case incident, role, other }
    static let insertIgnoring = insertSQL("INSERT OR IGNORE")
    static let insertIgnoringMany = MultiRowInsert(insertIgnoring, columns: 3)
    static let deleteForIncident = "DELETE FROM incident_links WHERE incident = ?"

    var incident: String
    var role: String
    var other: String

    init(incident: String, role: String, other: String) {
        self.incident = incident
        self.role = role
        self.other = other
    }

    init(row: Row) throws {
        self.init(incident: try row.text(Columns.incident), role: try row.text(Columns.role), other: try row.text(Columns.other))
    }

    var values: [SQLiteValue] { [.text(incident), .text(role), .text(other)] }
}

/// One `concerns` row: entry `idx` concerns `entity`.
struct ConcernRecord: StoredRecord {
    static let databaseTableName = "concerns"
    enum Columns: String, ColumnExpression, CaseIterable { case entity, idx }
    static let insert = insertSQL()
    static let insertMany = MultiRowInsert(insert, columns: 2)

    var entity: String
    var index: UInt64

    init(entity: String, index: UInt64) {
        self.entity = entity
        self.index = index
    }

    init(row: Row) throws { self.init(entity: try row.text(Columns.entity), index: try row.count(Columns.idx)) }

    var values: [SQLiteValue] { [.text(entity), .count(index)] }
}

/// One `state_versions` row: an entity's state after entries 0…size−1.
struct StateVersionRecord: StoredRecord {
    static let databaseTableName = "state_versions"
    enum Columns: String, ColumnExpression, CaseIterable { case id, size, state }
    static let insert = insertSQL()
    static let insertMany = MultiRowInsert(insert, columns: 3)
    static let latestAtMost = selectSQL("WHERE id = ? AND size <= ? ORDER BY size DESC LIMIT 1")

    var id: String
    var size: UInt64
    var state: StateBytes
    /// Whether `values` gives the state packed.
    var packed = true

    init(id: String, size: UInt64, state: StateBytes, packed: Bool = true) {
        self.id = id
        self.size = size
        self.state = state
        self.packed = packed
    }

    /// The file keeps the state packed (`CompactState`) or, in files older than version 6, as it is.
    init(row: Row) throws {
        self.init(id: try row.text(Columns.id), size: try row.count(Columns.size), state: .stored(try row.bytes(Columns.state)))
    }

    var values: [SQLiteValue] { [.text(id), .count(size), .blob(packed ? state.stored : state.canonical)] }
}

/// An `INSERT … VALUES (?, …)` of one row, and the same statement for `rows` rows.
struct MultiRowInsert {
    /// Values a statement binds at most: `bindAndStep` goes one call deeper for each (each text
    /// and blob is bound inside the closure that lends its bytes), so this bounds its stack
    /// (about 1.5 KB a value in a debug build) well inside a 512 KB thread.
    static let maxValues = 64
    let one: String
    /// The statement for `rows` rows. A plain `INSERT` is written `INSERT OR FAIL` here: SQLite
    /// gives a statement that writes several rows and may abort on a constraint a statement
    /// journal, so that the abort can back out the rows before it, and writes into it every
    /// page the statement changes first (a temporary file, page by page: 66,548 writes in a
    /// rebuild of 100,003 events). `OR FAIL` stops at the failing row without backing out, so
    /// needs none. Without one, SQLite answers a full disk or a failed allocation in such a
    /// statement by rolling back the whole transaction, not the statement. Every caller gives up
    /// on any error, in a transaction that the error rolls back whole (`SQLiteStorage.write`),
    /// so nothing of a failed statement is kept either way; a caller that went on writing after
    /// an error would need the journal back.
    let many: String
    let columns: Int
    /// Rows a statement writes: 32 of two columns, 21 of three, 7 of nine.
    let rows: Int

    init(_ one: String, columns: Int) {
        self.one = one
        self.columns = columns
        rows = max(1, Self.maxValues / columns)
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        precondition(one.hasSuffix(" VALUES " + row), "not a one-row insert of \(columns) columns: \(one)")
        // A plain INSERT of several rows becomes INSERT OR FAIL (see `many`).
        let first = one.hasPrefix("INSERT INTO ") ? "INSERT OR FAIL INTO " + one.dropFirst("INSERT INTO ".count) : one
        many = first + String(repeating: ", " + row, count: rows - 1)
    }
}
