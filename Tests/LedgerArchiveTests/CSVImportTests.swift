@testable import LedgerArchive
import LedgerCore
import Testing

@Suite("CSV reader and import mapping")
struct CSVImportTests {
    func read(_ text: String) throws(LedgerError) -> [CSVRecord] { try CSVReader.records(Array(text.utf8), name: "t.csv") }

    @Test("RFC 4180: quoted commas, doubled quotes, line ends inside quotes, CRLF or LF, BOM, no final line end")
    func reader() throws {
        let r = try read("\u{FEFF}a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n2,,\"\"\r\n3,last,z")
        #expect(r == [
            CSVRecord(line: 1, fields: ["a", "b", "c"]),
            CSVRecord(line: 2, fields: ["1", "x, \"y\"", "two\nlines"]),
            CSVRecord(line: 4, fields: ["2", "", ""]),
            CSVRecord(line: 5, fields: ["3", "last", "z"]),
        ])
        #expect(try read("a,b,\n") == [CSVRecord(line: 1, fields: ["a", "b", ""])])
        #expect(try read("a,b,") == [CSVRecord(line: 1, fields: ["a", "b", ""])])
    }

    @Test("malformed CSV is refused naming the line", arguments: [
        ("a\nb,\"open\nnever closed", "t.csv:2", "never closed"),
        ("a\nx\"y", "t.csv:2", "quote inside an unquoted field"),
        ("a\n\"q\"z", "t.csv:2", "after its closing quote"),
        ("a\n\u{1}ok\n\u{FF}", "", ""),
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
        #expect(String(decoding: Canonical.encode(first.body), as: UTF8.self)
            == #"{"externalIds":[{"dataset":"sheet","id":"1"}],"facilities":[{"facility":"facility:m2","impact":"damaged"}],"means":["barrel-bomb","airstrike"],"occurred":"2016-07-25","place":{"town":"Aleppo"},"title":{"en":"Strike on M2"}}"#)
        #expect(reports.last?.body["occurred"] == .string("2017-02-01"))
        let found = errors.map { "\($0.line) \($0.column ?? "-")" }
        #expect(found == ["3 Date", "4 Weapons", "5 Impact", "6 Ref", "7 Ref", "8 Date", "9 -"], "\(errors)")
        #expect(errors[0].message.contains("body.occurred") && errors[0].message.contains("missing"))
        #expect(errors[3].message.contains("line 2"))
    }

    @Test("mapping mistakes name the member", arguments: [
        (#"{"format":"x"}"#, "`format`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D","colour":"C"}}"#, "`columns.colour`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T"}}"#, "`occurred`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"dates":"YYYY"}"#, "`dates`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"constants":{"occurred":"2016"}}"#, "`constants.occurred`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"sources":["facility:x"]}"#, "`sources[0]`"),
        (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"title.en":"T","occurred":"D"},"extra":1}"#, "`extra`"),
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
}
