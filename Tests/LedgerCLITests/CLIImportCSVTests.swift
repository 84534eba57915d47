import Foundation
import Testing

@Suite("import-csv")
struct CLIImportCSVTests {
    static let mapping = #"""
        {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"sheet-"},"dataset":"monitors","dates":"DD/MM/YYYY",
         "columns":{"title.en":"Title","title.ar":"Arabic title","occurred":"Date","place.admin1":"Governorate","facilities.facility":"Facility","means":"Weapons"},
         "constants":{"facilities.impact":"damaged"},
         "values":{"facilities.facility":{"M2":"facility:m2"},"means":{"Barrel bomb":"barrel-bomb"}},
         "sources":["source:sheet"]}
        """#

    func sandbox() throws -> Sandbox {
        let s = Sandbox()
        try s.standardSetup()
        try s.append([
            EventJSON.make(type: "facility.registered", subject: "facility:m2", body: ["names": ["en": "M2 Hospital"], "type": "hospital"]),
            EventJSON.make(type: "source.registered", subject: "source:sheet", body: ["publisher": "Monitors", "title": "Sheet", "lang": "en", "type": "dataset"]),
        ])
        s.write("map.json", Self.mapping)
        return s
    }

    func importCSV(_ s: Sandbox, _ file: String, json: Bool = false) throws -> CLIResult {
        try s.run(["import-csv", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--mapping", s.path("map.json")] + (json ? ["--json"] : []) + [s.path(file)])
    }

    @Test("good rows become signed reports in one transaction; a second import of the same rows is refused, changing nothing")
    func imports() throws {
        let s = try sandbox()
        s.write("good.csv", "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\r\n1,\"Strike on M2, Aleppo\",قصف مستشفى,25/07/2016,Aleppo,M2,Barrel bomb\r\n2,Strike in Idlib,,3/6/2019,Idlib,,airstrike\r\n")
        let r = try importCSV(s, "good.csv", json: true)
        #expect(r.status == 0, "\(r)")
        let rows = try r.jsonLines()
        #expect(rows.map { $0["id"] as? String } == ["incident:sheet-1", "incident:sheet-2"])
        #expect(rows.map { $0["line"] as? Int } == [2, 3])
        let shown = try s.run(["show", "--ledger", s.ledger, "incident:sheet-1", "--json"])
        #expect(shown.stdout.contains(#""occurred":"2016-07-25""#) && shown.stdout.contains("facility:m2") && shown.stdout.contains("barrel-bomb"), "\(shown.stdout)")
        #expect(try s.verifiedSize() > 0)
        let before = FileSnapshot(s.ledger)
        let again = try importCSV(s, "good.csv")
        #expect(again.status == 3 && again.stderr.contains("good.csv:2: column \"Ref\": incident:sheet-1 already exists"), "\(again)")
        #expect(FileSnapshot(s.ledger) == before, "\(FileSnapshot(s.ledger).difference(to: before))")
    }

    @Test("one bad row anywhere: every problem listed by line and column, exit 65, the ledger byte-for-byte unchanged")
    func allOrNothing() throws {
        let s = try sandbox()
        s.write("bad.csv", "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n1,Fine,,25/07/2016,Aleppo,M2,airstrike\n2,Bad date,,31/02/2016,Aleppo,,\n3,Bad means,,01/01/2016,Aleppo,,napalm\n")
        let before = FileSnapshot(s.ledger)
        let r = try importCSV(s, "bad.csv")
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("bad.csv:3: column \"Date\": field `body.occurred`"), "\(r.stderr)")
        #expect(r.stderr.contains("bad.csv:4: column \"Weapons\": field `body.means[0]`"), "\(r.stderr)")
        #expect(r.stderr.contains("2 of 3 rows have problems") && r.stderr.contains("nothing was imported"))
        #expect(FileSnapshot(s.ledger) == before, "\(FileSnapshot(s.ledger).difference(to: before))")
        // A facility the archive does not hold is a refusal by the archive's rules (exit 3), also all-or-nothing.
        s.write("unknown.csv", "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n5,Fine,,25/07/2016,Aleppo,,\n6,Unknown facility,,25/07/2016,Aleppo,facility:m10,\n")
        let u = try importCSV(s, "unknown.csv")
        #expect(u.status == 3 && u.stderr.contains("unknown.csv:3: column \"Facility\": facility:m10 is not in the archive"), "\(u)")
        #expect(FileSnapshot(s.ledger) == before, "\(FileSnapshot(s.ledger).difference(to: before))")
        // A reviewer-only key cannot report incidents: refused by the log's rules, nothing written.
        try s.newKey("reviewer")
        try s.enroll("reviewer", roles: "reviewer")
        let enrolled = FileSnapshot(s.ledger)
        s.write("ok.csv", "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n7,Fine,,25/07/2016,Aleppo,,\n")
        let k = try s.run(["import-csv", "--ledger", s.ledger, "--key", s.keyPath("reviewer"), "--mapping", s.path("map.json"), s.path("ok.csv")])
        #expect(k.status == 3 && k.stderr.contains("lacks the archivist role") && k.stderr.contains("nothing was imported"), "\(k)")
        #expect(FileSnapshot(s.ledger) == enrolled, "\(FileSnapshot(s.ledger).difference(to: enrolled))")
    }
}
