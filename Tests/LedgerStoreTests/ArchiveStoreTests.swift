import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@testable import LedgerStore

/// Signs archive events for a test ledger, tracking each subject's revision.
struct ArchiveWriter {
    let ledger: Ledger
    var revisions: [String: UInt64] = [:]
    var n: UInt64 = 1000

    /// The envelope for an event (not appended), with the expected revision filled in.
    mutating func envelope(_ type: String, _ subject: String, _ json: String, key: Ed25519.PrivateKey = Fixtures.archivist) -> Envelope {
        n += 1
        let body = try! JSONParser.parseObject(Array(json.utf8))
        return Fixtures.envelope(type: type, subject: subject, expects: revisions[subject, default: 0], body: body, key: key, n: n)
    }

    @discardableResult
    mutating func add(_ type: String, _ subject: String, _ json: String, key: Ed25519.PrivateKey = Fixtures.archivist) throws -> UInt64 {
        let e = envelope(type, subject, json, key: key)
        let index = try ledger.append([e])[0].index
        revisions[subject, default: 0] += 1
        return index
    }

    /// The campaign-shaped scenario used by several tests; returns the indexes of its entries.
    mutating func scenario() throws {
        try add(
            "facility.registered", "facility:m10",
            #"{"names":{"en":"M10 hospital","ar":"مستشفى م10"},"type":"underground","location":{"admin1":"Aleppo","town":"Aleppo"}}"#)
        try add("facility.registered", "facility:m2", #"{"names":{"en":"M2 hospital"},"type":"hospital","location":{"admin1":"Aleppo"}}"#)
        try add("actor.registered", "actor:ru-af", #"{"names":{"en":"Russian Aerospace Forces"},"type":"state-forces","country":"RU"}"#)
        try add("actor.registered", "actor:sy-af", #"{"names":{"en":"Syrian Arab Air Force"},"type":"state-forces","country":"SY"}"#)
        try add("source.registered", "source:sams", #"{"publisher":"SAMS","title":"Report","lang":"en","type":"report"}"#)
        try add(
            "incident.reported", "incident:m10-a",
            #"{"title":{"en":"Strike on M10"},"occurred":"2016-09-28","place":{"admin1":"Aleppo","town":"Aleppo"},"#
                + #""facilities":[{"facility":"facility:m10","impact":"damaged"}],"means":["barrel-bomb"]}"#)
        try add(
            "incident.reported", "incident:m10-b",
            #"{"title":{"en":"Second strike on M10"},"occurred":"2016-10","place":{"admin1":"Aleppo"},"facilities":[{"facility":"facility:m10","#
                + #""impact":"out-of-service"},{"facility":"facility:m2","impact":"damaged"}]}"#)
        try add("incident.reported", "incident:dup", #"{"title":{"en":"Duplicate report"},"occurred":"2016-10-01","place":{"admin1":"Aleppo"}}"#)
        try add(
            "attribution.claimed", "incident:m10-a",
            #"{"claimant":"source:sams","perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"stance":"asserts","basis":["witness-testimony"]}"#)
        try add("casualties.reported", "incident:m10-b", #"{"source":"source:sams","category":"killed","min":2,"max":3}"#)
        try add("incident.corrected", "incident:m10-a", #"{"changes":{"occurred":"2016-09-29"},"reason":"hospital records"}"#)
        try add("incident.merged", "incident:dup", #"{"into":"incident:m10-b","reason":"same strike"}"#)
        try add(
            "attribution.assessed", "incident:m10-b", #"{"perpetrator":"actor:ru-af","confidence":"high","rationale":"flight logs"}"#, key: Fixtures.reviewer)
        try add("incident.certainty-graded", "incident:m10-b", #"{"certainty":"confirmed","reason":"video and witnesses"}"#, key: Fixtures.reviewer)
    }
}

@Suite("Archive projections over each store (SQLite, PostgreSQL)")
final class ArchiveStoreTests {
    let dir = TemporaryDirectory()
    var places: [TestPlace] = []

    /// A small state-checkpoint interval, so views as of a moment start from checkpoints.
    func makeLedger(_ store: StoreKind, clock: ManualClock = ManualClock(), interval: UInt64 = 5, file: String = "a.ledger") throws -> ArchiveWriter {
        let made = try StoreFixtures.standardLedger(store, dir: dir, file: file, clock: clock, interval: interval)
        places.append(made.place)
        return ArchiveWriter(ledger: made.ledger)
    }

    @Test("projections maintained on append equal the ones `rebuild` computes from the log", arguments: StoreKind.inProcess)
    func rebuildEqualsIncremental(store: StoreKind) throws {
        var w = try makeLedger(store)
        try w.scenario()
        let incremental = try w.ledger.projectionDump()
        #expect((incremental["entities"]?.count ?? 0) == 8)
        #expect((incremental["state_versions"]?.count ?? 0) > 5)  // checkpoints at sizes 5, 10 and 15
        #expect((incremental["concerns"]?.count ?? 0) > 14)
        let report = try w.ledger.rebuildProjections()
        #expect(report.events == 14)
        #expect(report.entities == 8)
        #expect(try w.ledger.projectionDump() == incremental)
        // The same when the fold puts every incident away as bytes before each entry, and
        // verify's fold agrees.
        let everyEntry = ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)
        #expect(try w.ledger.rebuildProjections(cooling: everyEntry).entities == 8)
        #expect(try w.ledger.projectionDump() == incremental)
        _ = try w.ledger.verify(trust: nil, cooling: everyEntry)
        // And after a rebuild the archive goes on accepting events.
        try w.add("incident.source-cited", "incident:m10-a", #"{"source":"source:sams"}"#)
    }

    @Test(
        "rebuild reading, decoding, folding and writing a few entries at a time gives the same rows, state checkpoints included",
        arguments: StoreKind.inProcess)
    func rebuildInSmallBatches(store: StoreKind) throws {
        var w = try makeLedger(store)
        try w.scenario()
        let incremental = try w.ledger.projectionDump()
        let size = try w.ledger.size()
        for batch in [1, 2, 3, 7] {
            for cooling in [ArchiveState.Cooling.standard, ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)] {
                var reported: [UInt64] = []
                let report = try w.ledger.rebuildProjections(progress: { done, _ in reported.append(done) }, cooling: cooling, batchSize: batch)
                #expect(report.events == 14 && report.entities == 8)
                #expect(try w.ledger.projectionDump() == incremental, "batches of \(batch), \(cooling)")
                // Progress once a batch is folded and its state checkpoints written, in order.
                #expect(reported == Array(stride(from: UInt64(batch), to: size, by: batch)) + [size], "batches of \(batch)")
            }
        }
    }

    @Test(
        "a long history (entries more than 127 apart, many incidents) rebuilds the same with cooling off, on from the start, or started by its limit",
        arguments: StoreKind.inProcess)
    func coolingOverLongHistory(store: StoreKind) throws {
        var w = try makeLedger(store, interval: 64)
        try w.scenario()
        // 30 incidents, each cited again far later, and a facility named from start to end.
        var batch: [Envelope] = []
        for i in 0..<30 {
            batch.append(
                w.envelope(
                    "incident.reported", "incident:n\(i)",
                    #"{"title":{"en":"Strike \#(i)"},"occurred":"2016","place":{"admin1":"Idlib"},"facilities":[{"facility":"facility:m2","impact":"damaged"}]}"#
                ))
            w.revisions["incident:n\(i)"] = 1
            for k in 0..<5 {
                batch.append(w.envelope("incident.source-cited", "incident:m10-a", #"{"source":"source:sams","locator":"p. \#(i * 5 + k)"}"#))
                w.revisions["incident:m10-a", default: 0] += 1
            }
        }
        for i in 0..<30 {
            batch.append(w.envelope("incident.source-cited", "incident:n\(i)", #"{"source":"source:sams","locator":"late"}"#))
            w.revisions["incident:n\(i)", default: 0] += 1
        }
        _ = try w.ledger.append(batch)
        let incremental = try w.ledger.projectionDump()
        let coolings = [
            ArchiveState.Cooling.standard, ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0), ArchiveState.Cooling(window: 7, step: 3, treeLimit: 20),
        ]
        for cooling in coolings {
            #expect(try w.ledger.rebuildProjections(cooling: cooling).events == UInt64(14 + batch.count))
            #expect(try w.ledger.projectionDump() == incremental, "\(cooling)")
            _ = try w.ledger.verify(trust: nil, cooling: cooling)
        }
    }

    @Test("a refused archive event leaves the file byte-for-byte unchanged and names its batch position", arguments: StoreKind.inProcess)
    func refusedBatch(store: StoreKind) throws {
        var w = try makeLedger(store)
        try w.scenario()
        let before = try places[0].fingerprint()
        let good = w.envelope("incident.source-cited", "incident:m10-a", #"{"source":"source:sams","locator":"p. 1"}"#)
        let bad = w.envelope(
            "attribution.claimed", "incident:m10-b", #"{"claimant":"source:sams","perpetrator":"actor:unknown","stance":"asserts","basis":["video"]}"#)
        do {
            _ = try w.ledger.append([good, bad])
            Issue.record("accepted")
        } catch {
            #expect(error.position == 1)
            #expect(error.code == .refused)
            #expect(error.message.contains("actor:unknown"))
        }
        #expect(try places[0].fingerprint() == before)
        // Events within one batch see each other: report then cite in one transaction.
        let r = w.envelope("incident.reported", "incident:new", #"{"title":{"en":"n"},"occurred":"2017","place":{"admin1":"Idlib"}}"#)
        w.revisions["incident:new"] = 1
        let c = w.envelope("incident.source-cited", "incident:new", #"{"source":"source:sams"}"#)
        #expect(try w.ledger.append([r, c]).count == 2)
        #expect(try w.ledger.entityState("incident:new")?["sources"]?.arrayValue?.count == 1)
    }

    @Test(
        "every entity, and the whole archive, as of every earlier tree size equals its state when the log had that size",
        arguments: StoreKind.inProcess, [1, 3, 5, 1000] as [UInt64])
    func asOfEverySize(store: StoreKind, interval: UInt64) throws {
        var w = try makeLedger(store, interval: interval)
        try w.scenario()
        let ids = ["facility:m10", "facility:m2", "incident:m10-a", "incident:m10-b", "incident:dup", "actor:ru-af", "source:sams"]
        // Append the same envelopes one at a time to a second ledger, noting its current states after each.
        let replica = try makeLedger(store, file: "b.ledger").ledger
        var checked = 0
        for line in try lines(w.ledger).dropFirst(4) {
            _ = try replica.append([try EntryLine(bytes: line).envelope])
            let size = try replica.size()
            for id in ids {
                let then = try replica.entityState(id).map { Canonical.encode($0) }
                let asOf = try w.ledger.entityState(id, atSize: size).map { Canonical.encode($0) }
                #expect(asOf == then, "\(id) at size \(size)")
                checked += 1
            }
            // The whole archive: the replica's current snapshot equals the snapshot as of this size.
            let header = try replica.snapshot(atSize: nil, asOf: "t").bytes
            #expect(try w.ledger.snapshot(atSize: size, asOf: "t").bytes == header, "snapshot at size \(size)")
        }
        #expect(checked == 14 * ids.count)
    }

    func lines(_ l: Ledger) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try l.forEachBatch { (batch) throws(LedgerError) in out += batch.map(\.line) }
        return out
    }

    @Test("a moment maps to the tree size of the entries recorded by then; the full replay equals the projections", arguments: StoreKind.inProcess)
    func moments(store: StoreKind) throws {
        let clock = ManualClock()
        var w = try makeLedger(store, clock: clock)
        clock.advance(1_000_000)
        try w.add("source.registered", "source:a", #"{"publisher":"A","title":"T","lang":"ar","type":"news"}"#)
        let t1 = clock.now()
        clock.advance(60_000_000)
        try w.add("source.registered", "source:b", #"{"publisher":"B","title":"T","lang":"en","type":"news"}"#)
        #expect(try w.ledger.size(asOf: t1) == 5)
        #expect(try w.ledger.size(asOf: Timestamp(microseconds: t1.microseconds - 1)) == 4)
        #expect(try w.ledger.size(asOf: clock.now()) == 6)
        try w.scenario()
        let archive = try w.ledger.archive(atSize: try w.ledger.size())
        var fromProjections: [[UInt8]] = []
        try w.ledger.forEachEntityState { (s) throws(LedgerError) in fromProjections.append(s) }
        #expect(archive.sortedIDs.map { Canonical.encode(archive[$0]!) } == fromProjections)
    }

    @Test("list filters give the same incidents from the SQL index and from a replay", arguments: StoreKind.inProcess)
    func listFilters(store: StoreKind) throws {
        var w = try makeLedger(store)
        try w.scenario()
        let archive = try w.ledger.archive(atSize: try w.ledger.size())
        var filters: [IncidentFilter] = []
        var f = IncidentFilter()
        filters.append(f)
        f.facility = "facility:m10"; filters.append(f)
        f = IncidentFilter(); f.perpetrator = "actor:sy-af"; filters.append(f)
        f = IncidentFilter(); f.perpetrator = "actor:ru-af"; filters.append(f)
        f = IncidentFilter(); f.status = "merged"; filters.append(f)
        f = IncidentFilter(); f.from = 20161001; f.to = 20161031; filters.append(f)
        f = IncidentFilter(); f.place = "aleppo"; f.certainty = "confirmed"; filters.append(f)
        let expectedCounts = [3, 2, 1, 2, 1, 2, 1]
        for (filter, count) in zip(filters, expectedCounts) {
            let sql = try w.ledger.incidents(matching: filter).map { $0["id"]!.stringValue! }
            let replay = archive.sortedIDs.filter {
                archive[$0]!["entity"] == .string("incident") && filter.matches(IncidentIndexRow(archive[$0]!))
            }
            #expect(sql == replay)
            #expect(sql.count == count, "\(filter) → \(sql)")
            // The index alone gives the same ids, each with the earliest day its state gives.
            let keys = try w.ledger.incidentKeys(matching: filter)
            #expect(keys.map(\.id) == sql)
            #expect(keys.map(\.earliest) == (try w.ledger.incidents(matching: filter).map { IncidentIndexRow($0).earliest }))
        }
    }

    @Test("a facility's attack history lists the incidents that hit it, now and as of earlier sizes", arguments: StoreKind.inProcess)
    func facilityHistory(store: StoreKind) throws {
        var w = try makeLedger(store)
        try w.scenario()
        let now = ArchiveView(source: w.ledger, size: nil)
        let attacks = try now.attacks(on: "facility:m10")
        #expect(attacks.map { $0["incident"]!.stringValue! } == ["incident:m10-a", "incident:m10-b"])
        let replay = ArchiveView(source: w.ledger, size: try w.ledger.size())
        #expect(try replay.attacks(on: "facility:m10").map { Canonical.encode($0) } == attacks.map { Canonical.encode($0) })
        // Before the second report (facilities, actors, source, first report: size 4 + 6).
        let early = ArchiveView(source: w.ledger, size: 10)
        #expect(try early.attacks(on: "facility:m10").map { $0["incident"]!.stringValue! } == ["incident:m10-a"])
    }
}
