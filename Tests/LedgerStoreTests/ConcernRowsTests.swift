import Foundation
import LedgerCore
import LedgerArchive
import LedgerStore
import LedgerTesting
import Testing

/// `insertConcerns` (several rows a statement on SQLite) writes what `insertConcern` for each
/// row writes, on every store.
@Suite("concerns rows written in batches")
struct ConcernRowsTests {
    /// Rows across entities: runs of one entity shorter and longer than a statement's batch.
    static func rows(_ count: Int) -> [(entity: String, index: UInt64)] {
        (0..<count).map { i in (entity: "incident:batch-\(i / 45)", index: UInt64(1000 + i * 3)) }
    }

    @Test("the same rows as one insert per row", arguments: StoreKind.inProcess, [0, 1, 31, 32, 33, 64, 100, 257])
    func sameRows(store: StoreKind, count: Int) throws {
        let rows = Self.rows(count)
        let dumps = try BatchedRows.dumps(store) { (w, batched) throws(LedgerError) in
            if batched {
                try w.insertConcerns(rows)
            } else {
                for r in rows { try w.insertConcern(entity: r.entity, index: r.index) }
            }
        }
        #expect(dumps[0]["concerns"] == dumps[1]["concerns"])
        #expect((dumps[0]["concerns"] ?? []).filter { $0.hasPrefix("incident:batch-") }.count == count)
    }
}

/// The projection tables of two standard ledgers of one store, after `write(w, true)` in one and
/// `write(w, false)` in the other.
enum BatchedRows {
    static func dumps(_ store: StoreKind, _ write: (any StorageWriter, Bool) throws(LedgerError) -> Void) throws -> [[String: [String]]] {
        var dumps: [[String: [String]]] = []
        for batched in [true, false] {
            let dir = TemporaryDirectory()
            let made = try StoreFixtures.standardLedger(store, dir: dir)
            defer {
                try? made.ledger.close()
                withExtendedLifetime((dir, made.place)) {}
            }
            try made.ledger.storage.write { (w) throws(LedgerError) in try write(w, batched) }
            dumps.append(try made.ledger.projectionDump())
        }
        return dumps
    }
}

/// `insertEntities` (entities, index rows and links several a statement on SQLite) writes what
/// `putEntity` and `putIncidentIndex` with `replace: false` write for each row, on every store.
@Suite("entity, index and link rows written in batches")
struct EntityRowsTests {
    /// Incidents (some without a facility, some naming one twice, some with several
    /// perpetrators), then actors, which have no index row.
    static func rows(incidents: Int, actors: Int) -> [ArchiveState.EntityRow] {
        var out: [ArchiveState.EntityRow] = []
        for i in 0..<incidents {
            let id = "incident:batch-\(String(format: "%03d", i))"
            let facilities = (0..<(i % 4)).map { "facility:f\(($0 + i) % 5)" } + (i % 7 == 0 ? ["facility:f1", "facility:f1"] : [])
            let perpetrators = (0..<(i % 3)).map { "actor:a\($0)" }
            var place = JSONObject()
            if i % 2 == 0 { place["admin1"] = .string("Idlib") }
            if i % 3 == 0 { place["town"] = .string("Town \(i)") }
            var state = JSONObject()
            state["id"] = .string(id)
            if i % 5 != 0 { state["occurred"] = .string(i % 6 == 0 ? "2015-10" : "2015-10-\(String(format: "%02d", 1 + i % 28))") }
            state["place"] = .object(place)
            if i % 4 != 0 { state["certainty"] = .object(JSONObject(uniqueMembers: [("grade", .string("probable"))])) }
            state["facilities"] = .array(facilities.map { .object(JSONObject(uniqueMembers: [("facility", .string($0))])) })
            state["claims"] = .array(
                perpetrators.map { .object(JSONObject(uniqueMembers: [("perpetrator", .string($0)), ("stance", .string("asserts"))])) })
            let index = IncidentIndexRow(state)
            #expect(index.perpetrators.count == perpetrators.count)
            out.append(ArchiveState.EntityRow(id: id, kind: "incident", state: .canonical(Array(#"{"entity":"incident","n":\#(i)}"#.utf8)), index: index))
        }
        for a in 0..<actors {
            out.append(ArchiveState.EntityRow(id: "actor:batch-\(a)", kind: "actor", state: .canonical(Array(#"{"entity":"actor"}"#.utf8)), index: nil))
        }
        return out
    }

    /// (incidents, actors): below, at and above a statement's 7 index rows and 21 entity rows.
    static let counts = [(0, 0), (1, 0), (0, 3), (7, 0), (21, 0), (14, 7), (31, 1), (32, 32), (33, 40), (100, 7)]

    @Test("the same rows as one statement per row", arguments: StoreKind.inProcess, counts)
    func sameRows(store: StoreKind, counts: (incidents: Int, actors: Int)) throws {
        let rows = Self.rows(incidents: counts.incidents, actors: counts.actors)
        let dumps = try BatchedRows.dumps(store) { (w, batched) throws(LedgerError) in
            if batched {
                // Every other state already in the stored form (as the fold hands over one it put
                // away): the same rows either way.
                try w.insertEntities(
                    rows.enumerated().map { i, r in
                        var r = r
                        if i % 2 == 0 { r.state = .stored(r.state.stored) }
                        return r
                    })
            } else {
                for r in rows {
                    try w.putEntity(id: r.id, kind: r.kind, state: r.state.canonical, replace: false)
                    if let index = r.index { try w.putIncidentIndex(id: r.id, row: index, replace: false) }
                }
            }
        }
        for table in ["entities", "incident_index", "incident_links"] { #expect(dumps[0][table] == dumps[1][table], "\(table)") }
        #expect((dumps[0]["entities"] ?? []).filter { $0.contains(":batch-") }.count == counts.incidents + counts.actors)
        #expect((dumps[0]["incident_index"] ?? []).filter { $0.hasPrefix("incident:batch-") }.count == counts.incidents)
    }
}

/// `insertStateVersions` (21 rows a statement on SQLite) writes what `insertStateVersion` for each
/// row writes, on every store, whichever form each state is handed over in.
@Suite("state checkpoint rows written in batches")
struct StateVersionRowsTests {
    @Test("the same rows as one insert per row", arguments: StoreKind.inProcess, [0, 1, 20, 21, 22, 42, 100])
    func sameRows(store: StoreKind, count: Int) throws {
        let rows: [(id: String, state: StateBytes)] = (0..<count).map { i in
            let state = Array(#"{"created":\#(i),"entity":"incident","id":"incident:v\#(i)","title":{"en":"Version \#(i)"}}"#.utf8)
            return (id: "incident:v\(String(format: "%03d", i))", state: i % 3 == 0 ? .stored(CompactState.encode(state)) : .canonical(state))
        }
        let dumps = try BatchedRows.dumps(store) { (w, batched) throws(LedgerError) in
            if batched {
                try w.insertStateVersions(size: 65_536, rows)
            } else {
                for r in rows { try w.insertStateVersion(id: r.id, size: 65_536, state: .canonical(r.state.canonical)) }
            }
        }
        #expect(dumps[0]["state_versions"] == dumps[1]["state_versions"])
        let ours = (dumps[0]["state_versions"] ?? []).filter { $0.hasPrefix("incident:v") }
        #expect(ours.count == count)
        #expect(ours.allSatisfy { $0.contains("|65536|{\"created\":") })
    }
}
