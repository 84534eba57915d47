import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import NIOCore
import PostgresNIO

/// An array parameter (`bytea[]`, `text[]`, `bigint[]`, `integer[]`) written element by element
/// in PostgreSQL's binary array format as rows are added, so that a flush of tens of thousands
/// of rows makes one growing buffer per column: no `ByteBuffer` per row copied again into the
/// parameter (glibc's allocator was a third of the client's main thread in a bulk append at
/// 1,000,000 events), and no Swift array of `String` or `Int64` that postgres-nio then encodes
/// element by element through its generic array encoder (about 9,500 instructions per event of
/// a bulk append; docs/BENCHMARKS.md). The array and element types are postgres-nio's own for
/// `Element` (`PostgresArrayEncodable`: `ByteBuffer`, `String`, `Int64`, `Int32`).
struct ArrayColumn<Element: PostgresArrayEncodable>: PostgresNonThrowingEncodable, Sendable {
    private var elements = ByteBuffer()
    private(set) var count = 0

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    init() {}

    var isEmpty: Bool { count == 0 }

    /// Adds one element: its length (int32) and its bytes.
    fileprivate mutating func appendElement<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        elements.writeInteger(Int32(bytes.count))
        elements.writeBytes(bytes)
        count += 1
    }

    /// The array header (the same one postgres-nio writes for a Swift array), then the elements.
    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        buffer.writeInteger(count == 0 ? 0 : 1, as: UInt32.self)  // dimensions
        buffer.writeInteger(0, as: Int32.self)  // no nulls
        buffer.writeInteger(Element.psqlType.rawValue)  // element type
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))  // length of the one dimension
        buffer.writeInteger(1, as: Int32.self)  // its lower bound
        buffer.writeImmutableBuffer(elements)
    }
}

typealias ByteaColumn = ArrayColumn<ByteBuffer>
typealias TextColumn = ArrayColumn<String>
typealias BigintColumn = ArrayColumn<Int64>
typealias IntegerColumn = ArrayColumn<Int32>

extension ArrayColumn where Element == ByteBuffer {
    init<S: Sequence>(_ values: S) where S.Element == [UInt8] {
        self.init()
        for v in values { append(v) }
    }

    /// Adds one `bytea` element.
    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 { appendElement(bytes) }
}

extension ArrayColumn where Element == String {
    /// Adds one `text` element: the string's UTF-8 bytes (as postgres-nio writes a `String`).
    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { appendElement($0) }
    }
}

extension ArrayColumn where Element: FixedWidthInteger {
    /// Adds one `bigint` or `integer` element (its size, then its bytes big-endian).
    mutating func append(_ v: Element) {
        elements.writeInteger(Int32(MemoryLayout<Element>.size))
        elements.writeInteger(v)
        count += 1
    }
}

/// The tables whose rows a write transaction collects before sending them.
enum BufferedTable: CaseIterable, Sendable {
    case entries, merkle, subjects, keys, entities, incidentIndex, incidentLinks, concerns, stateVersions

    /// The projection tables (`clearProjections` drops their buffered rows).
    static let projections: Set<BufferedTable> = [.entities, .incidentIndex, .incidentLinks, .concerns, .stateVersions]
}

/// The rows a write transaction has written and not yet sent. postgres-nio runs one statement
/// at a time per connection, so every statement costs a round trip: instead of one `INSERT`
/// per row, the rows of each table are collected here and sent as one statement per flush,
/// every table's rows in one statement (`INSERT … SELECT * FROM unnest($1::bigint[], …)` per
/// table, joined as data-modifying `WITH` clauses). What one statement may not do is touch a
/// row twice, so a row written twice in the same flush keeps its last value (entities, the
/// incident index), revision bumps of one subject are added up, and links are merged the way
/// the statements sent one by one would have left them. `PostgresStorage` sends the buffer
/// before every read of a table it holds rows for (read-your-writes) and before COMMIT.
struct PostgresWriteBuffer {
    // entries
    private var entryIndex = BigintColumn()
    private var entryRecordedAt = TextColumn()
    private var entryEventID = ByteaColumn()
    private var entryType = TextColumn()
    private var entrySubject = TextColumn()
    private var entrySigner = TextColumn()
    private var entryLeaf = ByteaColumn()
    private var entryLine = ByteaColumn()
    // merkle
    private var merkleLevel = IntegerColumn()
    private var merkleIndex = BigintColumn()
    private var merkleHash = ByteaColumn()
    // subjects: revision increments, in first-bumped order
    private var bumpOrder: [String] = []
    private var bumps: [String: Int64] = [:]
    // keys, and revocations of keys not enrolled in this buffer
    private var keys: [KeyRecord] = []
    private var keyPosition: [String: Int] = [:]
    private var revokeOrder: [String] = []
    private var revokes: [String: Int64] = [:]
    // entities: the last state per id; `replace` as the first write of the id asked
    private var entityOrder: [String] = []
    private var entities: [String: (kind: String, state: [UInt8], replace: Bool)] = [:]
    // incident index (always an upsert) and links
    private var indexOrder: [String] = []
    private var index: [String: IncidentIndexRow] = [:]
    private var linkOrder: [String] = []
    /// Per incident: whether its stored links are replaced, and the links to have.
    private var links: [String: (replace: Bool, links: [(role: String, other: String)])] = [:]
    // concerns and state versions
    private var concernEntity = TextColumn()
    private var concernIndex = BigintColumn()
    private var versionID = TextColumn()
    private var versionSize = BigintColumn()
    private var versionState = ByteaColumn()

    /// Rows and bytes held, for bounding memory.
    private(set) var rowCount = 0
    private(set) var byteCount = 0
    private var held = Set<BufferedTable>()

    var isEmpty: Bool { held.isEmpty }

    /// Holds rows of any of `tables` (nil: of any table).
    func holds(_ tables: Set<BufferedTable>?) -> Bool {
        guard let tables else { return !held.isEmpty }
        return !held.isDisjoint(with: tables)
    }

    /// Rows held at most before they are sent (PostgresLocation.writeBatchRows).
    var rowLimit: Int

    init(rowLimit: Int = 50_000) { self.rowLimit = max(1, rowLimit) }

    /// Send when this much is held (a long import stays in bounded memory).
    var isFull: Bool { rowCount >= rowLimit || byteCount >= 32 << 20 }

    private static func n(_ v: UInt64) -> Int64 { Int64(min(v, UInt64(Int64.max))) }

    // MARK: Writes

    mutating func entry(_ e: EntryRow, leaf: Digest32) {
        entryIndex.append(Self.n(e.index))
        entryRecordedAt.append(e.recordedAt)
        entryEventID.append(e.eventID)
        entryType.append(e.type)
        entrySubject.append(e.subject)
        entrySigner.append(e.signer)
        leaf.withUnsafeBytes { entryLeaf.append($0) }
        entryLine.append(e.line)
        added(.entries, bytes: e.line.count + 128)
    }

    mutating func merkleNode(level: Int, index: UInt64, hash: Digest32) {
        merkleLevel.append(Int32(level))
        merkleIndex.append(Self.n(index))
        hash.withUnsafeBytes { merkleHash.append($0) }
        added(.merkle, bytes: 48)
    }

    mutating func bump(_ subject: String) {
        if let b = bumps[subject] {
            bumps[subject] = b + 1
        } else {
            bumps[subject] = 1
            bumpOrder.append(subject)
            added(.subjects, bytes: subject.utf8.count + 16)
        }
    }

    mutating func key(_ k: KeyRecord) {
        keyPosition[k.keyID] = keys.count
        keys.append(k)
        added(.keys, bytes: 256)
    }

    mutating func revoke(_ keyID: String, at index: UInt64) {
        if let p = keyPosition[keyID] {
            keys[p].revokedAt = index
            return
        }
        if revokes[keyID] == nil { revokeOrder.append(keyID) }
        revokes[keyID] = Self.n(index)
        added(.keys, bytes: 80)
    }

    mutating func entity(id: String, kind: String, state: [UInt8], replace: Bool) {
        if let old = entities[id] {
            entities[id] = (kind, state, old.replace)
        } else {
            entities[id] = (kind, state, replace)
            entityOrder.append(id)
        }
        added(.entities, bytes: state.count + id.utf8.count)
    }

    mutating func incident(id: String, row: IncidentIndexRow, replace: Bool) {
        if index.updateValue(row, forKey: id) == nil { indexOrder.append(id) }
        added(.incidentIndex, bytes: 128)
        let new: [(role: String, other: String)] =
            row.facilities.map { (role: "facility", other: $0) } + row.perpetrators.map { (role: "perpetrator", other: $0) }
        if let old = links[id] {
            // Replaced: the stored and earlier links go (the statements one by one would have
            // deleted them). Not replaced: the new links are added to those there.
            links[id] = replace ? (true, new) : (old.replace, old.links + new)
        } else {
            links[id] = (replace, new)
            linkOrder.append(id)
        }
        if replace || !new.isEmpty { added(.incidentLinks, bytes: 64 * max(1, new.count)) }
    }

    mutating func concern(entity: String, index: UInt64) {
        concernEntity.append(entity)
        concernIndex.append(Self.n(index))
        added(.concerns, bytes: entity.utf8.count + 16)
    }

    mutating func stateVersion(id: String, size: UInt64, state: [UInt8]) {
        versionID.append(id)
        versionSize.append(Self.n(size))
        versionState.append(state)
        added(.stateVersions, bytes: state.count + id.utf8.count)
    }

    /// Forgets the rows of the projection tables (they are about to be emptied).
    mutating func dropProjections() {
        entityOrder = []
        entities = [:]
        indexOrder = []
        index = [:]
        linkOrder = []
        links = [:]
        concernEntity = TextColumn()
        concernIndex = BigintColumn()
        versionID = TextColumn()
        versionSize = BigintColumn()
        versionState = ByteaColumn()
        held.subtract(BufferedTable.projections)
    }

    private mutating func added(_ table: BufferedTable, bytes: Int) {
        held.insert(table)
        rowCount += 1
        byteCount += bytes
    }

    // MARK: The statement

    /// The statement writing every row held (one data-modifying `WITH` clause per table), and
    /// what it writes as messages name it; nil when nothing is held. Empties the buffer.
    mutating func take() -> (query: PostgresQuery, what: String)? {
        guard let (sql, binds, what) = take(everyTable: false) else { return nil }
        return (PostgresQuery(unsafeSQL: sql, binds: binds), what)
    }

    /// The same rows as one statement of a fixed text, every table's clause present (empty arrays
    /// for the tables without rows): a statement the connection prepares once and then only
    /// binds and runs (`PreparedWrite`), which saves the server parsing and planning it again on
    /// every append. Nil when nothing is held. Empties the buffer.
    mutating func takePrepared() -> (statement: PreparedWrite, what: String)? {
        guard let (sql, binds, what) = take(everyTable: true) else { return nil }
        assert(sql == PreparedWrite.sql)
        return (PreparedWrite(bindings: binds), what)
    }

    /// The text of the fixed statement (`takePrepared`).
    static let everyTableSQL: String = {
        var empty = PostgresWriteBuffer()
        empty.held.insert(.entries)
        return empty.take(everyTable: true)!.sql
    }()

    private mutating func take(everyTable: Bool) -> (sql: String, binds: PostgresBindings, what: String)? {
        guard !held.isEmpty else { return nil }
        let all = everyTable
        var parts: [String] = []
        var counts: [String] = []
        var binds = PostgresBindings()
        var count = 0
        func p<V: PostgresDynamicTypeEncodable>(_ v: V, _ type: String) -> String {
            binds.append(v)
            count += 1
            return "$\(count)::\(type)"
        }
        if all || !entryIndex.isEmpty {
            parts.append(
                "INSERT INTO entries (idx, recorded_at, event_id, type, subject, signer, leaf, line) SELECT * FROM unnest("
                    + [
                        p(entryIndex, "bigint[]"), p(entryRecordedAt, "text[]"), p(entryEventID, "bytea[]"), p(entryType, "text[]"),
                        p(entrySubject, "text[]"), p(entrySigner, "text[]"), p(entryLeaf, "bytea[]"), p(entryLine, "bytea[]"),
                    ].joined(separator: ", ") + ")")
            counts.append("entries: \(entryIndex.count)")
        }
        if all || !merkleIndex.isEmpty {
            parts.append(
                "INSERT INTO merkle (level, idx, hash) SELECT * FROM unnest(\(p(merkleLevel, "integer[]")), \(p(merkleIndex, "bigint[]")), "
                    + "\(p(merkleHash, "bytea[]")))")
            counts.append("merkle: \(merkleIndex.count)")
        }
        if all || !bumpOrder.isEmpty {
            parts.append(
                "INSERT INTO subjects (subject, revision) SELECT * FROM unnest(\(p(bumpOrder, "text[]")), \(p(bumpOrder.map { bumps[$0]! }, "bigint[]"))) "
                    + "ON CONFLICT (subject) DO UPDATE SET revision = subjects.revision + excluded.revision")
            counts.append("subjects: \(bumpOrder.count)")
        }
        if all || !keys.isEmpty {
            parts.append(
                "INSERT INTO keys (keyid, public_key, name, roles, enrolled_at, revoked_at) SELECT k, p, n, r, e, CASE WHEN h THEN v END FROM unnest("
                    + [
                        p(keys.map(\.keyID), "text[]"), p(ByteaColumn(keys.map(\.publicKey.bytes)), "bytea[]"), p(keys.map(\.name), "text[]"),
                        p(keys.map { $0.roles.map(\.rawValue).joined(separator: ",") }, "text[]"), p(keys.map { Self.n($0.enrolledAt) }, "bigint[]"),
                        p(keys.map { $0.revokedAt != nil }, "boolean[]"), p(keys.map { Self.n($0.revokedAt ?? 0) }, "bigint[]"),
                    ].joined(separator: ", ") + ") AS u(k, p, n, r, e, h, v)")
            counts.append("keys: \(keys.count)")
        }
        if all || !revokeOrder.isEmpty {
            parts.append(
                "UPDATE keys SET revoked_at = u.v FROM unnest(\(p(revokeOrder, "text[]")), \(p(revokeOrder.map { revokes[$0]! }, "bigint[]"))) AS u(k, v) "
                    + "WHERE keys.keyid = u.k")
            counts.append("key revocations: \(revokeOrder.count)")
        }
        let newEntities = entityOrder.filter { !entities[$0]!.replace }
        let replacedEntities = entityOrder.filter { entities[$0]!.replace }
        for (ids, upsert) in [(newEntities, false), (replacedEntities, true)] where all || !ids.isEmpty {
            parts.append(
                "INSERT INTO entities (id, kind, state) SELECT * FROM unnest(\(p(ids, "text[]")), \(p(ids.map { entities[$0]!.kind }, "text[]")), "
                    + "\(p(ByteaColumn(ids.map { entities[$0]!.state }), "bytea[]")))"
                    + (upsert ? " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, state = excluded.state" : ""))
        }
        if !entityOrder.isEmpty { counts.append("entities: \(entityOrder.count)") }
        if all || !indexOrder.isEmpty {
            let rows = indexOrder.map { index[$0]! }
            // unnest() of several arrays zips them; each nullable column is a value array and a
            // "present" array.
            let columns: [(String, String)] = [
                ("id", p(indexOrder, "text[]")),
                ("eh", p(rows.map { $0.earliest != nil }, "boolean[]")), ("e", p(rows.map { Int64($0.earliest ?? 0) }, "bigint[]")),
                ("lh", p(rows.map { $0.latest != nil }, "boolean[]")), ("l", p(rows.map { Int64($0.latest ?? 0) }, "bigint[]")),
                ("a1h", p(rows.map { $0.admin1 != nil }, "boolean[]")), ("a1", p(rows.map { $0.admin1 ?? "" }, "text[]")),
                ("a2h", p(rows.map { $0.admin2 != nil }, "boolean[]")), ("a2", p(rows.map { $0.admin2 ?? "" }, "text[]")),
                ("th", p(rows.map { $0.town != nil }, "boolean[]")), ("t", p(rows.map { $0.town ?? "" }, "text[]")),
                ("s", p(rows.map(\.status), "text[]")),
                ("ch", p(rows.map { $0.certainty != nil }, "boolean[]")), ("c", p(rows.map { $0.certainty ?? "" }, "text[]")),
                ("v", p(rows.map(\.verification), "text[]")),
            ]
            parts.append(
                """
                INSERT INTO incident_index (id, earliest, latest, admin1, admin2, town, status, certainty, verification)
                SELECT id, CASE WHEN eh THEN e END, CASE WHEN lh THEN l END, CASE WHEN a1h THEN a1 END, CASE WHEN a2h THEN a2 END,
                CASE WHEN th THEN t END, s, CASE WHEN ch THEN c END, v
                FROM unnest(\(columns.map(\.1).joined(separator: ", "))) AS u(\(columns.map(\.0).joined(separator: ", ")))
                ON CONFLICT (id) DO UPDATE SET earliest = excluded.earliest, latest = excluded.latest, admin1 = excluded.admin1,
                admin2 = excluded.admin2, town = excluded.town, status = excluded.status, certainty = excluded.certainty,
                verification = excluded.verification
                """)
            counts.append("incident_index: \(indexOrder.count)")
        }
        if all || !linkOrder.isEmpty {
            var incident: [String] = []
            var role: [String] = []
            var other: [String] = []
            for id in linkOrder {
                var seen = Set<String>()
                for l in links[id]!.links where seen.insert(l.role + "\u{0}" + l.other).inserted {
                    incident.append(id)
                    role.append(l.role)
                    other.append(l.other)
                }
            }
            let replaced = linkOrder.filter { links[$0]!.replace }
            let (i, r, o) = (p(incident, "text[]"), p(role, "text[]"), p(other, "text[]"))
            if all || !replaced.isEmpty {
                // The replaced incidents' links that are not among their new ones: the new ones
                // that were there already stay (one statement may not delete and insert a row).
                parts.append(
                    """
                    DELETE FROM incident_links l USING unnest(\(p(replaced, "text[]"))) AS d(id) WHERE l.incident = d.id
                    AND NOT EXISTS (SELECT 1 FROM unnest(\(i), \(r), \(o)) AS n(i, r, o) WHERE n.i = l.incident AND n.r = l.role AND n.o = l.other)
                    """)
            }
            if all || !incident.isEmpty {
                parts.append("INSERT INTO incident_links (incident, role, other) SELECT * FROM unnest(\(i), \(r), \(o)) ON CONFLICT DO NOTHING")
            }
            counts.append("incident_links: \(incident.count)" + (replaced.isEmpty ? "" : " (replacing those of \(replaced.count) incidents)"))
        }
        if all || !concernEntity.isEmpty {
            parts.append("INSERT INTO concerns (entity, idx) SELECT * FROM unnest(\(p(concernEntity, "text[]")), \(p(concernIndex, "bigint[]")))")
            counts.append("concerns: \(concernEntity.count)")
        }
        if all || !versionID.isEmpty {
            parts.append(
                "INSERT INTO state_versions (id, size, state) SELECT * FROM unnest(\(p(versionID, "text[]")), \(p(versionSize, "bigint[]")), "
                    + "\(p(versionState, "bytea[]")))")
            counts.append("state_versions: \(versionID.count)")
        }
        self = PostgresWriteBuffer(rowLimit: rowLimit)
        guard let last = parts.last else { return nil }
        let sql =
            parts.count == 1
            ? last : "WITH " + parts.dropLast().enumerated().map { "w\($0.offset) AS (\($0.element))" }.joined(separator: ",\n") + "\n" + last
        let named = counts.filter { !$0.hasSuffix(": 0") }
        return (sql, binds, "the transaction's rows (" + named.joined(separator: ", ") + ")")
    }
}

/// A statement of fixed text, prepared once per connection by postgres-nio under its type's
/// name (`PostgresStorage.dispatch`); its rows are handed over as they come.
protocol FixedStatement: PostgresPreparedStatement where Row == PostgresRow {
    var bindings: PostgresBindings { get }
}

extension FixedStatement {
    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// The write statement (`PostgresWriteBuffer.takePrepared`).
struct PreparedWrite: FixedStatement {
    static let name = "incidentledger_write_v1"
    static var sql: String { PostgresWriteBuffer.everyTableSQL }
    let bindings: PostgresBindings
}
