import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import NIOCore
import PostgresNIO

/// The rows of one PostgreSQL transaction, read and written as `StorageReader`/`StorageWriter`
/// ask. Reads decode typed cells; a cell of the wrong type or a NULL where none may be is
/// reported as damage, never followed. Each read names the tables it reads, so that rows held
/// in the write buffer for them are sent first; writes go to the buffer (`PostgresWriteBuffer`),
/// except the rare meta, checkpoint and sealed-value rows (PostgresSealed.swift), which are sent
/// at once.
struct PostgresRows: StorageWriter {
    let storage: PostgresStorage

    private var location: String { storage.location }

    func rows(_ sql: String, _ values: [any PostgresThrowingDynamicTypeEncodable] = [], reads: Set<BufferedTable>?) throws(LedgerError)
        -> [PostgresRandomAccessRow]
    {
        try storage.query(PostgresQuery(unsafeSQL: sql, binds: PostgresStorage.binds(values)), reads: reads).map { $0.makeRandomAccess() }
    }

    func row(_ sql: String, _ values: [any PostgresThrowingDynamicTypeEncodable] = [], reads: Set<BufferedTable>?) throws(LedgerError)
        -> PostgresRandomAccessRow?
    {
        try rows(sql, values, reads: reads).first
    }

    private func send(_ sql: String, _ values: [any PostgresThrowingDynamicTypeEncodable]) {
        storage.send(PostgresQuery(unsafeSQL: sql, binds: PostgresStorage.binds(values)))
    }

    /// Rows of `sql` fetched through a server-side cursor, `batch` at a time (bounded memory).
    private func each(
        _ sql: String, _ values: [any PostgresThrowingDynamicTypeEncodable] = [], reads: Set<BufferedTable>?,
        _ body: (PostgresRandomAccessRow) throws(LedgerError) -> Void
    ) throws(LedgerError) {
        let name = "ledger_cursor_\(UInt32.random(in: 0...UInt32.max))"
        try storage.run(PostgresQuery(unsafeSQL: "DECLARE \(name) NO SCROLL CURSOR FOR " + sql, binds: PostgresStorage.binds(values)), reads: reads)
        while true {
            let batch = try rows("FETCH 4096 FROM \(name)", reads: [])
            for r in batch { try body(r) }
            if batch.count < 4096 { break }
        }
        try storage.run(PostgresQuery(unsafeSQL: "CLOSE \(name)"), reads: [])
    }

    private func damaged(_ r: PostgresRandomAccessRow, _ i: Int, _ what: String) -> LedgerError {
        LedgerError(
            .notALedger, "\(location) is damaged: column \(r[i].columnName) should hold \(what); run `ledger verify` and restore from a backup")
    }

    func text(_ r: PostgresRandomAccessRow, _ i: Int) throws(LedgerError) -> String {
        do { return try r[i].decode(String.self) } catch { throw damaged(r, i, "text") }
    }

    func bytes(_ r: PostgresRandomAccessRow, _ i: Int) throws(LedgerError) -> [UInt8] {
        guard let b = r[i].bytes, r[i].dataType == .bytea else { throw damaged(r, i, "bytes") }
        return Array(b.readableBytesView)
    }

    func count(_ r: PostgresRandomAccessRow, _ i: Int) throws(LedgerError) -> UInt64 {
        let v: Int64
        do { v = try r[i].decode(Int64.self) } catch { throw damaged(r, i, "an integer") }
        guard v >= 0 else { throw damaged(r, i, "a non-negative integer") }
        return UInt64(v)
    }

    private func optionalCount(_ r: PostgresRandomAccessRow, _ i: Int) throws(LedgerError) -> UInt64? {
        r[i].bytes == nil ? nil : try count(r, i)
    }

    private func digest(_ r: PostgresRandomAccessRow, _ i: Int) -> Digest32? {
        guard let b = r[i].bytes, b.readableBytes == 32 else { return nil }
        return Digest32(bytes: Array(b.readableBytesView))
    }

    static func n(_ v: UInt64) -> Int64 { Int64(min(v, UInt64(Int64.max))) }

    /// Bytes bound as `bytea` (an array of UInt8 would be sent as a PostgreSQL array).
    static func bytea(_ b: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: b) }

    private func entryRow(_ r: PostgresRandomAccessRow) throws(LedgerError) -> EntryRow {
        EntryRow(
            index: try count(r, 0), recordedAt: try text(r, 3), eventID: try bytes(r, 7), type: try text(r, 4), subject: try text(r, 5),
            signer: try text(r, 6), leaf: digest(r, 2), line: try bytes(r, 1))
    }

    /// A key row; `c` gives the columns of keyid, public_key, name, roles, enrolled_at, revoked_at.
    private func keyRecord(_ r: PostgresRandomAccessRow, _ c: [Int]) throws(LedgerError) -> KeyRecord {
        guard let pk = Ed25519.PublicKey(bytes: try bytes(r, c[1])) else {
            throw LedgerError(.notALedger, "\(location): the key table holds a malformed public key")
        }
        let roles = try text(r, c[3]).split(separator: ",").compactMap { Role(rawValue: String($0)) }
        return KeyRecord(
            keyID: try text(r, c[0]), publicKey: pk, name: try text(r, c[2]), roles: roles, enrolledAt: try count(r, c[4]),
            revokedAt: try optionalCount(r, c[5]))
    }

    private func keyRecord(_ r: PostgresRandomAccessRow) throws(LedgerError) -> KeyRecord { try keyRecord(r, [0, 1, 2, 3, 4, 5]) }

    // MARK: Reader

    func node(level: Int, index: UInt64) throws -> Digest32 {
        let r =
            level == 0
            ? try row("SELECT leaf FROM entries WHERE idx = $1", [Self.n(index)], reads: [.entries, .merkle])
            : try row("SELECT hash FROM merkle WHERE level = $1 AND idx = $2", [Int32(level), Self.n(index)], reads: [.entries, .merkle])
        guard let r, let d = digest(r, 0) else {
            throw LedgerError(.notALedger, "Merkle node (level \(level), index \(index)) is missing from \(location)")
        }
        return d
    }

    func meta() throws(LedgerError) -> [String: String] {
        var out: [String: String] = [:]
        for r in try rows("SELECT key, value FROM meta", reads: []) { out[try text(r, 0)] = try text(r, 1) }
        return out
    }

    func schemaVersion() throws(LedgerError) -> Int { PostgresSchema.version }

    func size() throws(LedgerError) -> UInt64 {
        try row("SELECT COALESCE(MAX(idx) + 1, 0)::bigint FROM entries", reads: [.entries]).map { (r) throws(LedgerError) in try count(r, 0) } ?? 0
    }

    func entryCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*)::bigint FROM entries", reads: [.entries]).map { (r) throws(LedgerError) in try count(r, 0) } ?? 0
    }

    private static let entryColumns = "idx, line, leaf, recorded_at, type, subject, signer, event_id"

    func entries(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [EntryRow] {
        try rows(
            "SELECT \(Self.entryColumns) FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3", [Self.n(from), Self.n(below), Int64(limit)],
            reads: [.entries]
        ).map(entryRow)
    }

    func entryLines(from: UInt64, below: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, line: [UInt8])] {
        try rows(
            "SELECT idx, line FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3", [Self.n(from), Self.n(below), Int64(limit)], reads: [.entries]
        ).map {
            (r) throws(LedgerError) in (try count(r, 0), try bytes(r, 1))
        }
    }

    func recordedAt(_ index: UInt64) throws(LedgerError) -> String? {
        try row("SELECT recorded_at FROM entries WHERE idx = $1", [Self.n(index)], reads: [.entries]).map { (r) throws(LedgerError) in try text(r, 0) }
    }

    func lastEntry() throws(LedgerError) -> (index: UInt64, recordedAt: String)? {
        if let cached = storage.cache?.last { return cached }
        return try row("SELECT idx, recorded_at FROM entries ORDER BY idx DESC LIMIT 1", reads: [.entries]).map { (r) throws(LedgerError) in
            (try count(r, 0), try text(r, 1))
        }
    }

    func entry(eventID: [UInt8]) throws(LedgerError) -> (index: UInt64, line: [UInt8])? {
        if let cached = storage.cache?.entries[eventID] { return cached }
        return try row("SELECT idx, line FROM entries WHERE event_id = $1", [Self.bytea(eventID)], reads: [.entries]).map { (r) throws(LedgerError) in
            (try count(r, 0), try bytes(r, 1))
        }
    }

    func subjects(from: UInt64, below: UInt64) throws(LedgerError) -> Set<String> {
        Set(
            try rows("SELECT DISTINCT subject FROM entries WHERE idx >= $1 AND idx < $2", [Self.n(from), Self.n(below)], reads: [.entries]).map {
                (r) throws(LedgerError) in
                try text(r, 0)
            })
    }

    func entryLines(type: String, from: UInt64, below: UInt64) throws(LedgerError) -> [[UInt8]] {
        try rows("SELECT line FROM entries WHERE type = $1 AND idx >= $2 AND idx < $3 ORDER BY idx", [type, Self.n(from), Self.n(below)], reads: [.entries]).map
        {
            (r) throws(LedgerError) in try bytes(r, 0)
        }
    }

    func merkleNodes(level: Int, from: UInt64, limit: Int) throws(LedgerError) -> [(index: UInt64, hash: Digest32?)] {
        try rows(
            "SELECT idx, hash FROM merkle WHERE level = $1 AND idx >= $2 ORDER BY idx LIMIT $3", [Int32(level), Self.n(from), Int64(limit)], reads: [.merkle]
        ).map {
            (r) throws(LedgerError) in (try count(r, 0), digest(r, 1))
        }
    }

    func merkleNodeCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*)::bigint FROM merkle", reads: [.merkle]).map { (r) throws(LedgerError) in try count(r, 0) } ?? 0
    }

    func stateVersionCount() throws(LedgerError) -> UInt64 {
        try row("SELECT COUNT(*)::bigint FROM state_versions", reads: [.stateVersions]).map { (r) throws(LedgerError) in try count(r, 0) } ?? 0
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? {
        if let cached = storage.cache?.keys[keyID] { return cached }
        return try row("SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys WHERE keyid = $1", [keyID], reads: [.keys]).map(keyRecord)
    }

    func keys() throws(LedgerError) -> [KeyRecord] {
        try rows("SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys ORDER BY enrolled_at", reads: [.keys]).map(keyRecord)
    }

    func revision(of subject: String) throws(LedgerError) -> UInt64 {
        if let cached = storage.cache?.revisions[subject] { return cached }
        return try row("SELECT revision FROM subjects WHERE subject = $1", [subject], reads: [.subjects]).map { (r) throws(LedgerError) in try count(r, 0) }
            ?? 0
    }

    func revisions() throws(LedgerError) -> [(subject: String, revision: UInt64)] {
        var out: [(subject: String, revision: UInt64)] = []
        try each("SELECT subject, revision FROM subjects ORDER BY subject", reads: [.subjects]) { (r) throws(LedgerError) in
            out.append((try text(r, 0), try count(r, 1)))
        }
        return out
    }

    func checkpoints() throws(LedgerError) -> [(size: UInt64, note: [UInt8])] {
        try rows("SELECT size, note FROM checkpoints ORDER BY size", reads: []).map { (r) throws(LedgerError) in (try count(r, 0), try bytes(r, 1)) }
    }

    func lastCheckpoint() throws(LedgerError) -> (size: UInt64, note: [UInt8])? {
        try row("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", [], reads: []).map { (r) throws(LedgerError) in
            (try count(r, 0), try bytes(r, 1))
        }
    }

    func checkpoint(size: UInt64) throws(LedgerError) -> [UInt8]? {
        try row("SELECT note FROM checkpoints WHERE size = $1", [Self.n(size)], reads: []).map { (r) throws(LedgerError) in try bytes(r, 0) }
    }

    func entityState(_ id: String) throws(LedgerError) -> [UInt8]? {
        if let cached = storage.cache?.entities[id] { return cached }
        return try row("SELECT state FROM entities WHERE id = $1", [id], reads: [.entities]).map { (r) throws(LedgerError) in try bytes(r, 0) }
    }

    func entityCount() throws(LedgerError) -> Int {
        Int(try row("SELECT COUNT(*)::bigint FROM entities", reads: [.entities]).map { (r) throws(LedgerError) in try count(r, 0) } ?? 0)
    }

    func forEachEntity(_ body: (String, [UInt8]) throws(LedgerError) -> Void) throws(LedgerError) {
        try each("SELECT id, state FROM entities ORDER BY id", reads: [.entities]) { (r) throws(LedgerError) in try body(try text(r, 0), try bytes(r, 1)) }
    }

    func entityIDs(prefix: String) throws(LedgerError) -> [String] {
        guard let range = entityIDRange(prefix: prefix) else { return [] }
        var out: [String] = []
        try each("SELECT id FROM entities WHERE id >= $1 AND id < $2 ORDER BY id", [range.lower, range.upper], reads: [.entities]) {
            (r) throws(LedgerError) in
            out.append(try text(r, 0))
        }
        return out
    }

    func concerning(_ entity: String, from: UInt64, below: UInt64) throws(LedgerError) -> [EntryRow] {
        try rows(
            """
            SELECT e.idx, e.line, e.leaf, e.recorded_at, e.type, e.subject, e.signer, e.event_id FROM concerns c
            JOIN entries e ON e.idx = c.idx WHERE c.entity = $1 AND c.idx >= $2 AND c.idx < $3 ORDER BY c.idx
            """, [entity, Self.n(from), Self.n(below)], reads: [.concerns, .entries]
        ).map(entryRow)
    }

    func stateVersion(_ id: String, atMost: UInt64) throws(LedgerError) -> (size: UInt64, state: [UInt8])? {
        try row(
            "SELECT size, state FROM state_versions WHERE id = $1 AND size <= $2 ORDER BY size DESC LIMIT 1", [id, Self.n(atMost)], reads: [.stateVersions]
        ).map {
            (r) throws(LedgerError) in (try count(r, 0), try bytes(r, 1))
        }
    }

    func latestStateVersionSize(atMost: UInt64) throws(LedgerError) -> UInt64 {
        try row("SELECT COALESCE(MAX(size), 0)::bigint FROM state_versions WHERE size <= $1", [Self.n(atMost)], reads: [.stateVersions]).map {
            (r) throws(LedgerError) in
            try count(r, 0)
        } ?? 0
    }

    func stateVersionIDs(after size: UInt64) throws(LedgerError) -> Set<String> {
        Set(
            try rows("SELECT DISTINCT id FROM state_versions WHERE size > $1", [Self.n(size)], reads: [.stateVersions]).map { (r) throws(LedgerError) in
                try text(r, 0)
            })
    }

    func incidents(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, state: [UInt8])] {
        let (condition, values) = Self.incidentCondition(filter)
        let sql = "SELECT e.id, e.state FROM incident_index i JOIN entities e ON e.id = i.id" + condition + " ORDER BY i.id"
        return try rows(sql, values, reads: [.incidentIndex, .incidentLinks, .entities]).map { (r) throws(LedgerError) in (try text(r, 0), try bytes(r, 1)) }
    }

    func incidentKeys(matching filter: IncidentFilter) throws(LedgerError) -> [(id: String, earliest: Int?)] {
        let (condition, values) = Self.incidentCondition(filter)
        let sql = "SELECT i.id, i.earliest FROM incident_index i" + condition + " ORDER BY i.id"
        return try rows(sql, values, reads: [.incidentIndex, .incidentLinks]).map { (r) throws(LedgerError) in
            (try text(r, 0), try optionalCount(r, 1).map { Int($0) })
        }
    }

    /// The WHERE clause (empty when the filter is empty) and its parameters for `filter` over
    /// `incident_index i`.
    private static func incidentCondition(_ filter: IncidentFilter) -> (String, [any PostgresThrowingDynamicTypeEncodable]) {
        var clauses: [String] = []
        var values: [any PostgresThrowingDynamicTypeEncodable] = []
        func add(_ v: any PostgresThrowingDynamicTypeEncodable) -> String {
            values.append(v)
            return "$\(values.count)"
        }
        if let from = filter.from { clauses.append("(i.latest IS NULL OR i.latest >= \(add(Int64(from))))") }
        if let to = filter.to { clauses.append("(i.earliest IS NULL OR i.earliest <= \(add(Int64(to))))") }
        if let p = filter.place {
            let v = add(p)
            // The parameter folded under the "C" collation too: ASCII only, as SQLite's lower().
            let p = "lower(\(v)::text COLLATE \"C\")"
            clauses.append("(lower(i.admin1) = \(p) OR lower(i.admin2) = \(p) OR lower(i.town) = \(p))")
        }
        if let f = filter.facility { clauses.append("i.id IN (SELECT incident FROM incident_links WHERE other = \(add(f)) AND role = 'facility')") }
        if let a = filter.perpetrator { clauses.append("i.id IN (SELECT incident FROM incident_links WHERE other = \(add(a)) AND role = 'perpetrator')") }
        if let s = filter.status { clauses.append("i.status = \(add(s))") }
        if let c = filter.certainty { clauses.append("i.certainty = \(add(c))") }
        if let v = filter.verification { clauses.append("i.verification = \(add(v))") }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), values)
    }

    func forEachProjectionRow(_ table: ProjectionTable, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        let sql = "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.rawValue) ORDER BY \(table.order.joined(separator: ", "))"
        try eachProjectionRow(sql, [], body)
    }

    func forEachStateVersionRow(size: UInt64, _ body: ([StorageValue]) throws(LedgerError) -> Void) throws(LedgerError) {
        let sql = "SELECT \(ProjectionTable.stateVersions.columns.joined(separator: ", ")) FROM state_versions WHERE size = $1 ORDER BY id"
        try eachProjectionRow(sql, [Self.n(size)], body)
    }

    private func eachProjectionRow(
        _ sql: String, _ binds: [any PostgresThrowingDynamicTypeEncodable], _ body: ([StorageValue]) throws(LedgerError) -> Void
    ) throws(LedgerError) {
        try each(sql, binds, reads: nil) { (r) throws(LedgerError) in
            var values: [StorageValue] = []
            for i in 0..<r.count {
                let cell = r[i]
                guard cell.bytes != nil else {
                    values.append(.null)
                    continue
                }
                switch cell.dataType {
                case .int8, .int4, .int2: values.append(.integer(Int64(try count(r, i))))
                case .bytea: values.append(.blob(try bytes(r, i)))
                default: values.append(.text(try text(r, i)))
                }
            }
            try body(values)
        }
    }

    // MARK: Writer

    func insertEntry(_ e: EntryRow) throws(LedgerError) {
        guard let leaf = e.leaf else { throw LedgerError(.malformed, "entry \(e.index) has no leaf hash") }
        if let cache = storage.cache {
            if cache.entries.keys.contains(e.eventID) { cache.entries[e.eventID] = (e.index, e.line) }
            if cache.last != nil { cache.last = .some((e.index, e.recordedAt)) }
        }
        storage.buffer.entry(e, leaf: leaf)
        storage.buffered()
    }

    func insertMerkleNode(level: Int, index: UInt64, hash: Digest32) throws(LedgerError) {
        storage.buffer.merkleNode(level: level, index: index, hash: hash)
        storage.buffered()
    }

    func bumpRevision(of subject: String) throws(LedgerError) {
        if let cache = storage.cache, let r = cache.revisions[subject] { cache.revisions[subject] = r + 1 }
        storage.buffer.bump(subject)
        storage.buffered()
    }

    func insertKey(_ r: KeyRecord) throws(LedgerError) {
        if let cache = storage.cache { cache.keys[r.keyID] = r }
        storage.buffer.key(r)
        storage.buffered()
    }

    func revokeKey(_ keyID: String, at index: UInt64) throws(LedgerError) {
        if let cache = storage.cache, case .some(.some(var k)) = cache.keys[keyID] {
            k.revokedAt = index
            cache.keys[keyID] = k
        }
        storage.buffer.revoke(keyID, at: index)
        storage.buffered()
    }

    func insertCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        send("INSERT INTO checkpoints (size, note) VALUES ($1, $2)", [Self.n(size), Self.bytea(note)])
    }

    func replaceCheckpoint(size: UInt64, note: [UInt8]) throws(LedgerError) {
        send("UPDATE checkpoints SET note = $1 WHERE size = $2", [Self.bytea(note), Self.n(size)])
    }

    func setMeta(_ key: String, _ value: String) throws(LedgerError) {
        send("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    }

    func putEntity(id: String, kind: String, state: [UInt8], replace: Bool) throws(LedgerError) {
        if let cache = storage.cache, cache.entities.keys.contains(id) { cache.entities[id] = state }
        storage.buffer.entity(id: id, kind: kind, state: state, replace: replace)
        storage.buffered()
    }

    func putIncidentIndex(id: String, row r: IncidentIndexRow, replace: Bool) throws(LedgerError) {
        storage.buffer.incident(id: id, row: r, replace: replace)
        storage.buffered()
    }

    func insertConcern(entity: String, index: UInt64) throws(LedgerError) {
        storage.buffer.concern(entity: entity, index: index)
        storage.buffered()
    }

    func insertStateVersion(id: String, size: UInt64, state: StateBytes) throws(LedgerError) {
        storage.buffer.stateVersion(id: id, size: size, state: state.canonical)
        storage.buffered()
    }

    /// Fetches, in one statement, the log's last entry, the entries of the batch's event ids, its
    /// subjects' states and revisions and its signers' keys; `lastEntry`, `entry(eventID:)`,
    /// `entityState`, `revision` and `key` answer from that for the rest of the transaction, kept
    /// right as it writes. (Sent after the writer lock is held, so the last entry is the tip.)
    var prefetches: Bool { true }

    func prefetch(eventIDs: [[UInt8]], subjects: [String], keyIDs: [String]) throws(LedgerError) {
        let cache = TransactionCache()
        cache.last = .some(nil)
        var ids: [ByteBuffer] = []
        for id in eventIDs where cache.entries[id] == nil {
            cache.entries[id] = .some(nil)
            ids.append(Self.bytea(id))
        }
        let distinctSubjects = Array(Set(subjects))
        for s in distinctSubjects {
            cache.revisions[s] = 0
            cache.entities[s] = .some(nil)
        }
        let distinctKeys = Array(Set(keyIDs))
        for k in distinctKeys { cache.keys[k] = .some(nil) }
        let statement = PreparedPrefetch(bindings: PostgresStorage.binds([ids, distinctSubjects, distinctKeys]))
        for r in try storage.query(prepared: statement).map({ $0.makeRandomAccess() }) {
            switch try count(r, 0) {
            case 0: cache.entries[try bytes(r, 6)] = (try count(r, 4), try bytes(r, 7))
            case 1: cache.entities[try text(r, 1)] = try bytes(r, 6)
            case 2: cache.revisions[try text(r, 1)] = try count(r, 4)
            case 4: cache.last = .some((try count(r, 4), try text(r, 2)))
            default:
                let k = try keyRecord(r, [1, 6, 2, 3, 4, 5])
                cache.keys[k.keyID] = k
            }
        }
        storage.cache = cache
    }

    func sendAhead() { storage.sendAhead() }

    func prefetchStates(_ ids: [String]) throws(LedgerError) {
        guard let cache = storage.cache else { return }
        let missing = Array(Set(ids.filter { cache.entities[$0] == nil }))
        guard !missing.isEmpty else { return }
        for id in missing { cache.entities[id] = .some(nil) }
        for r in try rows("SELECT id, state FROM entities WHERE id = ANY($1::text[])", [missing], reads: [.entities]) {
            cache.entities[try text(r, 0)] = try bytes(r, 1)
        }
    }

    func clearProjections() throws(LedgerError) {
        storage.cache?.entities.removeAll()
        // The rows held for them would be deleted at once: they are dropped instead.
        storage.buffer.dropProjections()
        for t in ProjectionTable.allCases { try storage.run(PostgresQuery(unsafeSQL: "DELETE FROM \(t.rawValue)"), reads: []) }
    }
}

/// The prefetch (`PostgresRows.prefetch`): one row shape for all five kinds of row (kind, three
/// texts, two integers, two byte strings).
struct PreparedPrefetch: FixedStatement {
    static let name = "incidentledger_prefetch_v1"
    static let sql = """
        SELECT 0::bigint, NULL::text, NULL::text, NULL::text, idx, NULL::bigint, event_id, line FROM entries WHERE event_id = ANY($1::bytea[])
        UNION ALL SELECT 1, id, NULL, NULL, NULL, NULL, state, NULL FROM entities WHERE id = ANY($2::text[])
        UNION ALL SELECT 2, subject, NULL, NULL, revision, NULL, NULL, NULL FROM subjects WHERE subject = ANY($2::text[])
        UNION ALL SELECT 3, keyid, name, roles, enrolled_at, revoked_at, public_key, NULL FROM keys WHERE keyid = ANY($3::text[])
        UNION ALL (SELECT 4, NULL, recorded_at, NULL, idx, NULL, NULL, NULL FROM entries ORDER BY idx DESC LIMIT 1)
        """

    let bindings: PostgresBindings
}
