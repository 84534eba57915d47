@testable import LedgerArchive
import LedgerCore
import Testing

@Suite("CSV reader and import mapping")
struct CSVImportTests {
    func read(_ text: String) throws(LedgerError) -> [CSVRecord] { try CSVReader.records(Array(text.utf8), name: "t.csv") }

    @Test("RFC 4180: quoted commas, doubled quotes, line ends inside quotes, CRLF or LF, BOM, no final line end")
    func reader() throws {
        let r = try read("\u{FEFF}a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n2,,\"\"\r\n3,last,z")
        #expect(
            r == [
                CSVRecord(line: 1, fields: ["a", "b", "c"]),
                CSVRecord(line: 2, fields: ["1", "x, \"y\"", "two\nlines"]),
                CSVRecord(line: 4, fields: ["2", "", ""]),
                CSVRecord(line: 5, fields: ["3", "last", "z"]),
            ])
        #expect(try read("a,b,\n") == [CSVRecord(line: 1, fields: ["a", "b", ""])])
        #expect(try read("a,b,") == [CSVRecord(line: 1, fields: ["a", "b", ""])])
    }

    @Test(
        "malformed CSV is refused naming the line",
        arguments: [
            ("a\nb,\"open\nnever closed", "t.csv:2", "never closed"),
            ("a\nx\"y", "t.csv:2", "quote inside an unquoted field"),
            ("a\n\"q\"z", "t.csv:2", "after its closing quote"),
            ("a\n\u{1}ok\n\u{FF}", "", ""),
            ("a,b\rc,d\n", "t.csv:1", "a line ends with CR alone (classic Mac line ends); save the file with LF or CRLF line ends"),
            ("a,b\n\"c\",d\r", "t.csv:2", "CR alone"),
            ("a,b\n\"c\"\rd,e\n", "t.csv:2", "CR alone"),
        ])
    func malformed(_ text: String, _ location: String, _ problem: String) throws {
        guard !location.isEmpty else {
            // Invalid UTF-8: built from bytes, since a Swift string cannot hold it.
            var bytes = Array("a\nok\n".utf8)
            bytes += [0x62, 0xFF]
            #expect(throws: LedgerError.self) { try CSVReader.records(bytes, name: "t.csv") }
            do { _ = try CSVReader.records(bytes, name: "t.csv") } catch { #expect(error.message.contains("t.csv:3") && error.message.contains("UTF-8")) }
            return
        }
        do {
            _ = try read(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(location) && error.message.contains(problem), "\(error.message)")
        }
    }

    static let mapping = #"""
        {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"s-"},"dataset":"sheet","dates":"DD/MM/YYYY",
         "columns":{"title.en":"Title","occurred":"Date","place.town":"Town","facilities.facility":"Facility","facilities.impact":"Impact","means":"Weapons"},
         "values":{"means":{"Barrel bomb":"barrel-bomb"},"facilities.facility":{"M2":"facility:m2"}}}
        """#

    @Test("rows become incident reports; every bad row is listed with its line and column")
    func rows() throws {
        let m = try CSVMapping.parse(Array(Self.mapping.utf8), name: "map.json")
        let csv = """
            Ref,Title,Date,Town,Facility,Impact,Weapons
            1, Strike on M2 ,25/07/2016,Aleppo,M2,damaged,Barrel bomb; airstrike
            2,No date,,Aleppo,,,
            3,Bad means,01/01/2016,Aleppo,,,napalm
            4,Impact alone,01/01/2016,Aleppo,,destroyed,
            1,Again,01/01/2016,Aleppo,,,
            x y,Bad id,01/01/2016,Aleppo,,,
            7,Bad date,2016-01-01,Aleppo,,,
            8,Short

            9,Plain,1/2/2017,Idlib,,,
            """
        let (reports, errors) = try CSVImport.reports(try read(csv), mapping: m, name: "t.csv")
        #expect(reports.map(\.id) == ["incident:s-1", "incident:s-9"])
        let first = try #require(reports.first)
        #expect(
            String(decoding: Canonical.encode(first.body), as: UTF8.self)
                == #"{"externalIds":[{"dataset":"sheet","id":"1"}],"facilities":[{"facility":"facility:m2","impact":"damaged"}],"#
                + #""means":["barrel-bomb","airstrike"],"occurred":"2016-07-25","place":{"town":"Aleppo"},"title":{"en":"Strike on M2"}}"#)
        #expect(reports.last?.body["occurred"] == .string("2017-02-01"))
        let found = errors.map { "\($0.line) \($0.column ?? "-")" }
        #expect(found == ["3 Date", "4 Weapons", "5 Impact", "6 Ref", "7 Ref", "8 Date", "9 -"], "\(errors)")
        #expect(errors[0].message.contains("body.occurred") && errors[0].message.contains("missing"))
        #expect(errors[3].message.contains("line 2"))
    }

    @Test(
        "mapping mistakes name the member",
        arguments: [
            (#"{"format":"x"}"#, "`format`"),
            (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D","colour":"C"}}"#, "`columns.colour`"),
            (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T"}}"#, "`occurred`"),
            (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"dates":"YYYY"}"#, "`dates`"),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"constants":{"occurred":"2016"}}"#,
                "`constants.occurred`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"sources":["facility:x"]}"#,
                "`sources[0]`"
            ),
            (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"extra":1}"#, "`extra`"),
            // Mistakes that would otherwise fail every row are refused once, at the mapping.
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","title.EN":"U","occurred":"D","place.town":"P"}}"#,
                "`columns.title.EN`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"summary.ar":"S","title.en":"T","occurred":"D","#
                    + #""place.town":"P"},"constants":{"summary.AR":"x"}}"#,
                "`constants.summary.AR`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"a b"},"columns":{"title.en":"T","occurred":"D","place.town":"P"}}"#,
                "`id.prefix`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"s:"},"columns":{"title.en":"T","occurred":"D","place.town":"P"}}"#,
                "`id.prefix`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"\#(String(repeating: "p", count: 91))"},"#
                    + #""columns":{"title.en":"T","occurred":"D","place.town":"P"}}"#,
                "`id.prefix`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"}}"#,
                "`columns`: no column or constant gives a place"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.english":"T","occurred":"D","place.town":"P"}}"#,
                "`columns.title.english`: the language tag \"english\" is not well formed"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D","#
                    + #""place.coordinates.lat":"La","place.coordinates.lon":"Lo"}}"#,
                "`place.coordinates.precision`"
            ),
            (
                #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"#
                    + #""constants":{"place.coordinates.precision":"town"}}"#,
                "`place.coordinates.lat`"
            ),
        ])
    func badMapping(_ json: String, _ member: String) throws {
        do {
            _ = try CSVMapping.parse(Array(json.utf8), name: "map.json")
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.message.contains("map.json") && error.message.contains(member), "\(error.message)")
        }
    }

    @Test("a mapped column the header lacks is refused before any row")
    func missingColumn() throws {
        let m = try CSVMapping.parse(Array(Self.mapping.utf8), name: "map.json")
        #expect(throws: LedgerError.self) { try CSVImport.reports(try read("Ref,Title\n1,x\n"), mapping: m, name: "t.csv") }
        do { _ = try CSVImport.reports(try read("Ref,Title\n1,x\n"), mapping: m, name: "t.csv") } catch {
            #expect(error.message.contains("columns.occurred") && error.message.contains("\"Date\""), "\(error.message)")
        }
    }

    /// The reports and row problems of `csv` through `mapping`.
    func run(_ mapping: String, _ csv: String) throws -> (reports: [CSVReport], errors: [CSVRowError]) {
        let m = try CSVMapping.parse(Array(mapping.utf8), name: "map.json")
        return try CSVImport.reports(try read(csv), mapping: m, name: "t.csv")
    }

    func encoded(_ r: CSVReport?) -> String { r.map { String(decoding: Canonical.encode($0.body), as: UTF8.self) } ?? "-" }

    @Test("`values` translates each item of `means` once, never the whole cell as well")
    func meansTranslatedOnce() throws {
        let mapping = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date",\#
            "place.town":"Town","means":"Weapons"},
             "values":{"means":{"X":"airstrike","airstrike":"barrel-bomb"}}}
            """#
        let (reports, errors) = try run(mapping, "Ref,Title,Date,Town,Weapons\n1,t,2016,Aleppo,X\n2,t,2016,Aleppo,X; shelling\n")
        #expect(errors.isEmpty, "\(errors)")
        #expect(reports.map { $0.body["means"] } == [.array([.string("airstrike")]), .array([.string("airstrike"), .string("shelling")])])
    }

    @Test("a constant coordinate precision applies only to rows that give lat or lon in a cell")
    func coordinateConstants() throws {
        let mapping = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date","place.town":"Town",
             "place.coordinates.lat":"Lat","place.coordinates.lon":"Lon"},"constants":{"place.coordinates.precision":"town"}}
            """#
        let (reports, errors) = try run(mapping, "Ref,Title,Date,Town,Lat,Lon\n1,t,2016,Aleppo,,\n2,t,2016,Aleppo,36.2,37.15\n3,t,2016,Aleppo,36.2,\n")
        #expect(reports.map(\.id) == ["incident:1", "incident:2"])
        #expect(reports.first?.body["place"] == .object(JSONObject(uniqueMembers: [("town", .string("Aleppo"))])))
        #expect(
            encoded(reports.last).contains(#""place":{"coordinates":{"lat":36.2,"lon":37.15,"precision":"town"},"town":"Aleppo"}"#), "\(encoded(reports.last))")
        // A row giving lat without lon is the row's problem, named at the lon column's field.
        #expect(errors.map(\.line) == [4] && errors.first?.message.contains("body.place.coordinates.lon") == true, "\(errors)")
        // A precision cell on a row without coordinates is a mistake, as an impact without a facility is.
        let byColumn = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date","place.town":"Town",
             "place.coordinates.lat":"Lat","place.coordinates.lon":"Lon","place.coordinates.precision":"Precision"}}
            """#
        let (r2, e2) = try run(byColumn, "Ref,Title,Date,Town,Lat,Lon,Precision\n1,t,2016,Aleppo,,,town\n2,t,2016,Aleppo,,,\n")
        #expect(r2.map(\.id) == ["incident:2"])
        #expect(e2.map { "\($0.line) \($0.column ?? "-")" } == ["2 Precision"], "\(e2)")
        // Coordinates given entirely by constants apply to every row.
        let constant = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date"},
             "constants":{"place.coordinates.lat":"36.2","place.coordinates.lon":"37.15","place.coordinates.precision":"town"}}
            """#
        let (r3, e3) = try run(constant, "Ref,Title,Date\n1,t,2016\n")
        #expect(e3.isEmpty && encoded(r3.first).contains(#""coordinates":{"lat":36.2,"lon":37.15,"precision":"town"}"#), "\(e3) \(encoded(r3.first))")
    }

    @Test("degrees with leading zeros are not JSON numbers: refused as the row's problem, naming the column")
    func degreesLeadingZeros() throws {
        for bad in ["01", "00", "-05.5", "001.5", "-00"] {
            #expect(throws: LedgerError.self, "\(bad)") { try Schema.degrees(.number(bad), limit: 90, path: "p") }
        }
        for good in ["0", "-0", "0.5", "-0.5", "5", "10.25", "-90", "179.1234567"] {
            #expect(throws: Never.self, "\(good)") { try Schema.degrees(.number(good), limit: 180, path: "p") }
        }
        let mapping = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date",
             "place.coordinates.lat":"Lat","place.coordinates.lon":"Lon"},"constants":{"place.coordinates.precision":"town"}}
            """#
        let (reports, errors) = try run(mapping, "Ref,Title,Date,Lat,Lon\n1,t,2016,01,37\n2,t,2016,36,-05.5\n3,t,2016,0,0\n")
        #expect(reports.map(\.id) == ["incident:3"])
        #expect(errors.map { "\($0.line) \($0.column ?? "-")" } == ["2 Lat", "3 Lon"], "\(errors)")
    }

    @Test("each row's body is brought to NFC before its schema check, so limits apply to what is signed")
    func nfcBeforeCheck() throws {
        let mapping = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","occurred":"Date","place.town":"Town"}}
            """#
        // U+0958 is excluded from composition: NFC writes it as two code points, so 200 of them are 400 (> 300).
        let grows = String(repeating: "\u{0958}", count: 200)
        // "e" + combining acute: 400 code points in NFD, 200 "é" in NFC (≤ 300).
        let shrinks = String(repeating: "e\u{0301}", count: 200)
        let (reports, errors) = try run(mapping, "Ref,Title,Date,Town\n1,\(grows),2016,Aleppo\n2,\(shrinks),2016,Cafe\u{0301}\n")
        #expect(errors.map { "\($0.line) \($0.column ?? "-")" } == ["2 Title"], "\(errors)")
        #expect(errors.first?.message.contains("400 code points") == true, "\(errors)")
        let body = try #require(reports.first).body
        #expect(reports.map(\.id) == ["incident:2"])
        #expect(body["title"]?.objectValue?["en"]?.stringValue?.unicodeScalars.elementsEqual(String(repeating: "\u{E9}", count: 200).unicodeScalars) == true)
        #expect(body["place"]?.objectValue?["town"]?.stringValue?.unicodeScalars.elementsEqual("Caf\u{E9}".unicodeScalars) == true)
    }

    @Test("a CRLF inside a quoted field becomes LF, so a multi-line cell from a CRLF file is accepted")
    func crlfInsideQuotes() throws {
        #expect(
            try read("a,b\r\n\"x\r\ny\",z\r\n\"\r\n\",w\r\n") == [
                CSVRecord(line: 1, fields: ["a", "b"]),
                CSVRecord(line: 2, fields: ["x\ny", "z"]),
                CSVRecord(line: 4, fields: ["\n", "w"]),
            ])
        let mapping = #"""
            {"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"Title","summary.en":"Notes",\#
            "occurred":"Date","place.town":"Town"}}
            """#
        let (reports, errors) = try run(mapping, "Ref,Title,Notes,Date,Town\r\n1,t,\"first line\r\nsecond line\",2016,Aleppo\r\n2,t,,2016,Idlib\r\n")
        #expect(errors.isEmpty, "\(errors)")
        #expect(reports.map(\.line) == [2, 4])
        #expect(reports.first?.body["summary"]?.objectValue?["en"] == .string("first line\nsecond line"))
    }
}
