import Foundation
import LedgerTesting
import Testing

// Every test here runs on SQLite and PostgreSQL (`arguments: StoreKind.all`); none is about the
// ledger being a file.

@Suite("export-csv and export-geojson")
struct CLIPublicExportTests {
    func sandbox(_ store: StoreKind) throws -> Sandbox {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        // The facility's and the exact place's coordinates are sealed (docs/EVENTS.md §9): a reader first.
        try s.newKey("reader")
        let enrolled = try s.run([
            "reader", "enroll", "--ledger", s.ledger, "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("reader"), "reader:keeper",
        ])
        try #require(enrolled.status == 0, "\(enrolled)")
        try s.append([
            EventJSON.make(
                type: "facility.registered", subject: "facility:m2",
                body: [
                    "names": ["en": "M2 Hospital"], "type": "hospital",
                    "location": ["town": "Aleppo", "coordinates": ["lat": 36.2, "lon": 37.15, "precision": "facility"]],
                ]),
            EventJSON.make(
                subject: "incident:a-town",
                body: [
                    "title": ["en": "Strike, \"quoted\" title", "ar": "قصف مستشفى"], "occurred": "2016-07",
                    "place": ["admin1": "Aleppo", "town": "Aleppo", "coordinates": ["lat": 36.2, "lon": 37.1, "precision": "town"]],
                    "facilities": [["facility": "facility:m2", "impact": "damaged"]], "means": ["airstrike", "barrel-bomb"],
                ]),
            EventJSON.make(
                subject: "incident:b-exact",
                body: [
                    "title": ["en": "Exact place"], "occurred": "2019-05-05/2019-05-06",
                    "place": ["admin1": "Idlib", "coordinates": ["lat": 35.5, "lon": 36.6, "precision": "exact"]],
                ]),
            EventJSON.make(subject: "incident:c-none", body: EventJSON.reportBody(title: ["en": "No coordinates"])),
        ])
        return s
    }

    @Test("CSV: header, one RFC 4180 row per incident, quoting, tree size and root; the same moment gives the same bytes", arguments: StoreKind.all)
    func csv(store: StoreKind) throws {
        let s = try sandbox(store)
        let r = try s.run(["export-csv", "--ledger", s.ledger])
        #expect(r.status == 0, "\(r)")
        let rows = r.stdout.components(separatedBy: "\r\n")
        #expect(
            rows.first
                == "id,status,merged_into,title_en,title_ar,occurred,earliest,latest,admin1,admin2,town,facilities,means,assessed_perpetrator,"
                + "assessment_confidence,claims,certainty,verification,killed_min,killed_max,injured_min,injured_max,"
                + "health_workers_killed_min,health_workers_killed_max,sources,tree_size,root")
        #expect(rows.count == 5 && rows.last == "", "three incidents, CRLF after each: \(rows)")
        #expect(
            rows[1].hasPrefix(
                "incident:a-town,active,,\"Strike, \"\"quoted\"\" title\",قصف مستشفى,2016-07,2016-07-01,2016-07-31,Aleppo,,Aleppo,"
                    + "facility:m2 (damaged),airstrike; barrel-bomb,"
            ), "\(rows[1])")
        #expect(rows[2].hasPrefix("incident:b-exact,active,,Exact place,,2019-05-05/2019-05-06,2019-05-05,2019-05-06,Idlib,"), "\(rows[2])")
        let size = try s.run(["log", "--ledger", s.ledger, "--json"]).jsonLines().count
        #expect(rows[1].contains(",\(size),"), "tree size \(size) in \(rows[1])")
        // As of an earlier size: fewer incidents; twice: identical, also after more appends.
        let early = try s.run(["export-csv", "--ledger", s.ledger, "--at-size", String(size - 1)])
        try s.append([EventJSON.make(subject: "incident:d-later", body: EventJSON.reportBody(title: ["en": "Later"]))])
        let again = try s.run(["export-csv", "--ledger", s.ledger, "--at-size", String(size - 1)])
        #expect(early.status == 0 && early.stdout == again.stdout)
        #expect(early.stdout.components(separatedBy: "\r\n").count == 4)
    }

    @Test("GeoJSON: only public precisions without --include-sensitive; facilities and exact places with it", arguments: StoreKind.all)
    func geojson(store: StoreKind) throws {
        let s = try sandbox(store)
        let pub = try s.run(["export-geojson", "--ledger", s.ledger])
        #expect(pub.status == 0, "\(pub)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(pub.stdout.utf8)) as? [String: Any])
        #expect(o["type"] as? String == "FeatureCollection")
        let features = try #require(o["features"] as? [[String: Any]])
        #expect(features.compactMap { $0["id"] as? String } == ["incident:a-town"])
        let geometry = try #require(features.first?["geometry"] as? [String: Any])
        #expect((geometry["coordinates"] as? [Double]) == [37.1, 36.2], "RFC 7946 order is lon, lat")
        let meta = try #require(o["incidentledger"] as? [String: Any])
        #expect(meta["treeSize"] as? Int == 8 && (meta["root"] as? String)?.count == 64 && meta["includesSensitive"] as? Bool == false)
        // The record time in `asOf` may hold the same digits ("…:36.6…Z"): look elsewhere.
        let body = pub.stdout.replacingOccurrences(of: meta["asOf"] as? String ?? "", with: "")
        #expect(!body.contains("36.6") && !body.contains("37.15"), "no exact or facility coordinates in the public export")
        let all = try s.run(["export-geojson", "--ledger", s.ledger, "--include-sensitive"])
        let ids = ((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["features"] as? [[String: Any]])?.compactMap {
            $0["id"] as? String
        }
        // Sealed coordinates are never exported, opened or not: only restricted fields come in.
        #expect(ids == ["incident:a-town"])
        #expect(!all.stdout.contains("37.15"))
    }
}
