import Foundation
import LedgerTesting
import Testing

// import-csv runs on SQLite and PostgreSQL (`arguments: StoreKind.all`), every test. SQLite only:
// - CLIShortPathTests.oneCharacterPaths: one-character relative *file* names for the ledger and
//   the imported copy (Foundation's path helpers), which a database URL never is.

@Suite("import-csv")
struct CLIImportCSVTests {
    static let mapping = #"""
        {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"sheet-"},"dataset":"monitors","dates":"DD/MM/YYYY",
         "columns":{"title.en":"Title","title.ar":"Arabic title","occurred":"Date","place.admin1":"Governorate",\#
        "facilities.facility":"Facility","means":"Weapons"},
         "constants":{"facilities.impact":"damaged"},
         "values":{"facilities.facility":{"M2":"facility:m2"},"means":{"Barrel bomb":"barrel-bomb"}},
         "sources":["source:sheet"]}
        """#

    func sandbox(_ store: StoreKind = .sqlite) throws -> Sandbox {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append([
            EventJSON.make(type: "facility.registered", subject: "facility:m2", body: ["names": ["en": "M2 Hospital"], "type": "hospital"]),
            EventJSON.make(
                type: "source.registered", subject: "source:sheet", body: ["publisher": "Monitors", "title": "Sheet", "lang": "en", "type": "dataset"]),
        ])
        s.write("map.json", Self.mapping)
        return s
    }

    func importCSV(_ s: Sandbox, _ file: String, json: Bool = false) throws -> CLIResult {
        try s.run(
            ["import-csv", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--mapping", s.path("map.json")] + (json ? ["--json"] : []) + [s.path(file)])
    }

    @Test("good rows become signed reports in one transaction; a second import of the same rows is refused, changing nothing", arguments: StoreKind.all)
    func imports(store: StoreKind) throws {
        let s = try sandbox(store)
        s.write(
            "good.csv",
            "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\r\n1,\"Strike on M2, Aleppo\",قصف مستشفى,25/07/2016,Aleppo,M2,Barrel "
                + "bomb\r\n2,Strike in Idlib,,3/6/2019,Idlib,,airstrike\r\n")
        let r = try importCSV(s, "good.csv", json: true)
        #expect(r.status == 0, "\(r)")
        let rows = try r.jsonLines()
        #expect(rows.map { $0["id"] as? String } == ["incident:sheet-1", "incident:sheet-2"])
        #expect(rows.map { $0["line"] as? Int } == [2, 3])
        let shown = try s.run(["show", "--ledger", s.ledger, "incident:sheet-1", "--json"])
        #expect(
            shown.stdout.contains(#""occurred":"2016-07-25""#) && shown.stdout.contains("facility:m2") && shown.stdout.contains("barrel-bomb"),
            "\(shown.stdout)")
        #expect(try s.verifiedSize() > 0)
        let before = try s.fingerprint()
        let again = try importCSV(s, "good.csv")
        #expect(again.status == 3 && again.stderr.contains("good.csv:2: column \"Ref\": incident:sheet-1 already exists"), "\(again)")
        #expect(try s.fingerprint() == before, "the refused import changed the ledger: \(again)")
    }

    @Test("one bad row anywhere: every problem listed by line and column, exit 65, the ledger byte-for-byte unchanged", arguments: StoreKind.all)
    func allOrNothing(store: StoreKind) throws {
        let s = try sandbox(store)
        s.write(
            "bad.csv",
            "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n1,Fine,,25/07/2016,Aleppo,M2,airstrike\n2,Bad "
                + "date,,31/02/2016,Aleppo,,\n3,Bad means,,01/01/2016,Aleppo,,napalm\n")
        let before = try s.fingerprint()
        let r = try importCSV(s, "bad.csv")
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("bad.csv:3: column \"Date\": field `body.occurred`"), "\(r.stderr)")
        #expect(r.stderr.contains("bad.csv:4: column \"Weapons\": field `body.means[0]`"), "\(r.stderr)")
        #expect(r.stderr.contains("2 of 3 rows have problems") && r.stderr.contains("nothing was imported"))
        #expect(try s.fingerprint() == before, "the refused import changed the ledger: \(r)")
        // A facility the archive does not hold is a refusal by the archive's rules (exit 3), also all-or-nothing.
        s.write(
            "unknown.csv",
            "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n5,Fine,,25/07/2016,Aleppo,,\n6,Unknown facility,,25/07/2016,Aleppo,facility:m10,\n")
        let u = try importCSV(s, "unknown.csv")
        #expect(u.status == 3 && u.stderr.contains("unknown.csv:3: column \"Facility\": facility:m10 is not in the archive"), "\(u)")
        #expect(try s.fingerprint() == before, "the refused import changed the ledger: \(u)")
        // A reviewer-only key cannot report incidents: refused by the log's rules, nothing written.
        try s.newKey("reviewer")
        try s.enroll("reviewer", roles: "reviewer")
        let enrolled = try s.fingerprint()
        s.write("ok.csv", "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n7,Fine,,25/07/2016,Aleppo,,\n")
        let k = try s.run(["import-csv", "--ledger", s.ledger, "--key", s.keyPath("reviewer"), "--mapping", s.path("map.json"), s.path("ok.csv")])
        #expect(k.status == 3 && k.stderr.contains("lacks the archivist role") && k.stderr.contains("nothing was imported"), "\(k)")
        #expect(try s.fingerprint() == enrolled, "the refused import changed the ledger: \(k)")
    }

    static let eventsDoc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/EVENTS.md").standardized.path

    /// The mapping shown in docs/EVENTS.md §8, exactly as documented.
    static func documentedMapping() throws -> String {
        let doc = try String(contentsOfFile: eventsDoc, encoding: .utf8)
        let section = try #require(doc.range(of: "## 8. Importing a spreadsheet"))
        let start = try #require(doc.range(of: "```json\n", range: section.upperBound..<doc.endIndex))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        return String(doc[start.upperBound..<end.lowerBound])
    }

    @Test("the mapping documented in EVENTS.md §8 imports rows with and without coordinates", arguments: StoreKind.all)
    func documentedExample(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.append([
            EventJSON.make(type: "facility.registered", subject: "facility:tarmala", body: ["names": ["en": "Tarmala hospital"], "type": "hospital"]),
            EventJSON.make(
                type: "source.registered", subject: "source:monitors-sheet",
                body: ["publisher": "Local monitors", "title": "Incident sheet", "lang": "en", "type": "dataset"]),
        ])
        s.write("map.json", try Self.documentedMapping())
        s.write(
            "sheet.csv",
            """
            Ref,Title,Arabic title,Notes,Date,Governorate,Town,Latitude,Longitude,Facility,Impact,Weapons
            1,Strike on Tarmala hospital,قصف مستشفى التمانعة,"Two strikes,
            minutes apart",10/02/2019,Idlib,Tarmala,,,Tarmala hospital,destroyed,Barrel bomb; Air strike
            2,Shelling of Khan Sheikhoun,,,3/6/2019,Idlib,Khan Sheikhoun,35.4385,36.6502,,,shelling

            """)
        let r = try importCSV(s, "sheet.csv", json: true)
        #expect(r.status == 0, "\(r)")
        #expect(try r.jsonLines().map { $0["id"] as? String } == ["incident:monitors-1", "incident:monitors-2"])
        let first = try s.run(["show", "--ledger", s.ledger, "incident:monitors-1", "--json"])
        #expect(first.stdout.contains(#""place":{"admin1":"Idlib","town":"Tarmala"}"#), "\(first.stdout)")
        #expect(first.stdout.contains(#""means":["barrel-bomb","airstrike"]"#) && first.stdout.contains(#""facility":"facility:tarmala""#), "\(first.stdout)")
        let second = try s.run(["show", "--ledger", s.ledger, "incident:monitors-2", "--json"])
        #expect(second.stdout.contains(#""coordinates":{"lat":35.4385,"lon":36.6502,"precision":"town"}"#), "\(second.stdout)")
    }

    @Test("an unregistered source in the mapping is listed once, first, with the rows' problems; the exit code follows the rows", arguments: StoreKind.all)
    func unregisteredSource(store: StoreKind) throws {
        let s = try sandbox(store)
        s.write("map.json", Self.mapping.replacingOccurrences(of: #"["source:sheet"]"#, with: #"["source:sheet","source:nope"]"#))
        let header = "Ref,Title,Arabic title,Date,Governorate,Facility,Weapons\n"
        let before = try s.fingerprint()
        // A schema problem in a row: exit 65, the mapping's problem listed first.
        s.write("bad.csv", header + "1,Fine,,25/07/2016,Aleppo,,\n2,Bad date,,31/02/2016,Aleppo,,\n3,Bad means,,01/01/2016,Aleppo,,napalm\n")
        let r = try importCSV(s, "bad.csv")
        #expect(r.status == 65, "\(r)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.first == "\(s.path("map.json")): `sources[1]`: source:nope is not in the archive; register it first", "\(r.stderr)")
        #expect(r.stderr.contains("bad.csv:3: column \"Date\"") && r.stderr.contains("bad.csv:4: column \"Weapons\""), "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "source:nope").count == 2, "listed once: \(r.stderr)")
        // Only problems that need the archive: exit 3.
        s.write("archive.csv", header + "5,Unknown facility,,25/07/2016,Aleppo,facility:m10,\n")
        let a = try importCSV(s, "archive.csv")
        #expect(a.status == 3 && a.stderr.contains("`sources[1]`: source:nope") && a.stderr.contains("archive.csv:2: column \"Facility\""), "\(a)")
        // The mapping's problem alone: exit 3.
        s.write("good.csv", header + "6,Fine,,25/07/2016,Aleppo,,\n")
        let g = try importCSV(s, "good.csv")
        #expect(g.status == 3 && g.stderr.contains("`sources[1]`: source:nope is not in the archive; register it first"), "\(g)")
        #expect(try s.fingerprint() == before, "the refused imports changed the ledger: \(g)")
    }

    @Test("the spreadsheet and the mapping cannot both come from standard input", arguments: StoreKind.all)
    func bothFromStandardInput(store: StoreKind) throws {
        let s = try sandbox(store)
        let r = try s.run(["import-csv", "--ledger", s.ledger, "--key", s.keyPath("archivist"), "--mapping", "-", "-"], stdin: Data(Self.mapping.utf8))
        #expect(r.status == 64 && r.stderr.contains("standard input"), "\(r)")
    }
}

@Suite("one-character relative paths")
struct CLIShortPathTests {
    @Test("init, export and import with one-character relative names work (Foundation's path helpers trap on them)")
    func oneCharacterPaths() throws {
        let s = try Sandbox()
        try s.newKey("admin")
        try s.newKey("log")
        let dir = s.dir.path
        let genesis = try CLI.run(["init", "--ledger", "L", "--origin", "t.example/short", "--admin-key", s.keyPath("admin")], in: dir)
        #expect(genesis.status == 0, "\(genesis)")
        #expect(
            try CLI.run(["key", "enroll", "--ledger", "L", "--key", s.keyPath("admin"), "--public-key-file", s.keyPath("log"), "--roles", "log"], in: dir)
                .status == 0)
        #expect(try CLI.run(["checkpoint", "--ledger", "L", "--key", s.keyPath("log")], in: dir).status == 0)
        let export = try CLI.run(["export", "--ledger", "L", "--out", "B"], in: dir)
        #expect(export.status == 0, "\(export)")
        let trust = try #require(Sandbox.field("genesis key id", in: genesis.stdout))
        let imported = try CLI.run(["import", "B", "--ledger", "M", "--trust", String(trust.prefix(64))], in: dir)
        #expect(imported.status == 0, "\(imported)")
        #expect(FileManager.default.fileExists(atPath: dir + "/M"))
    }
}
