import LedgerArchive
import LedgerCore
import LedgerCrypto
import Testing

/// Inputs from the decoder fuzzer (`bash Tools/fuzz.sh`, Sources/LedgerFuzz) that hung an archive
/// decoder, rebuilt here byte for byte, and the outcome each must have now; then nasty inputs of
/// the fuzzer's mutation kinds pinned to their errors. The hangs were quadratic duplicate checks
/// (a list scanned for every new item). Their speed is held by `Tools/fuzz.sh`, which replays the
/// same inputs first in every run, in release, to the 1 s budget; here they get a time limit
/// against a real hang only (with the old list scan the language-tag test ran for more than 5
/// minutes in a debug build; fixed, about 1 s, or 5 s under the address sanitizer).
@Suite("Fuzz regressions: archive formats")
struct ArchiveFuzzRegressionTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// `count` distinct lowercase words of `width` letters: aaaa, aaab, … (the fuzzer's
    /// "many distinct copies" mutation).
    static func counter(_ k: Int, width: Int) -> String {
        var v = k
        var out = [UInt8](repeating: 0, count: width)
        for i in stride(from: width - 1, through: 0, by: -1) {
            out[i] = UInt8(97 + v % 26)
            v /= 26
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("hang: a language tag with 131,582 distinct variants (ledger-fuzz, seed 1, input #46895)", .timeLimit(.minutes(3)))
    func languageTagVariants() {
        // The saved input, rebuilt: "art-ljban" then "rt-l" + aaaa, aaab, … (1,052,665 bytes).
        var tag = "art-ljban"
        tag.reserveCapacity(1_052_665)
        for k in 0..<131_582 { tag += "rt-l" + Self.counter(k, width: 4) }
        #expect(tag.utf8.count == 1_052_665)
        #expect(SHA256.hash(Self.bytes(tag)).hex == "2d92bd7446dd8790321d344378a14f7db28790d90a2969606497ed058f8c2d13")
        // Took 10 s and more (a list of the variants seen, scanned for each); now a set.
        #expect(LanguageTag.problem(tag) == nil)
        #expect(LanguageTag.problem(tag + "-LAAAART")?.contains("appears twice") == true)  // the first counter variant again, in capitals
    }

    /// A mapping valid under today's rules, with `columns`, `constants` and `sources` added.
    static func mapping(columns: [String] = [], constants: [String] = [], sources: [String] = []) -> [UInt8] {
        let cols = [#""title.en":"Title""#, #""occurred":"Date""#, #""place.town":"Town""#] + columns
        let cons = constants.isEmpty ? "" : #","constants":{"# + constants.joined(separator: ",") + "}"
        let srcs = sources.isEmpty ? "" : #","sources":["# + sources.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return bytes(#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"# + cols.joined(separator: ",") + "}" + cons + srcs + "}")
    }

    @Test("hang: a mapping citing 69,000 sources", .timeLimit(.minutes(3)))
    func mappingSources() throws {
        let sources = (0..<69_000).map { "source:\($0)" }
        // Took 9 s (the sources so far scanned for each new one).
        #expect(try CSVMapping.parse(Self.mapping(sources: sources), name: "m.json").sources.count == 69_000)
        do {
            _ = try CSVMapping.parse(Self.mapping(sources: sources + ["source:17"]), name: "m.json")
            Issue.record("a source listed twice was accepted")
        } catch {
            #expect(error.message.contains("sources[69000]") && error.message.contains("listed twice"))
        }
    }

    @Test("hang: a mapping with 16,000 title columns and 16,000 summary constants", .timeLimit(.minutes(3)))
    func mappingColumnsAndConstants() throws {
        let columns = (0..<16_000).map { #""title.en-x-c\#($0)":"Title""# }
        let constants = (0..<16_000).map { #""summary.en-x-k\#($0)":"v""# }
        // Took 1.6 s (every constant's field scanned for among the columns).
        let m = try CSVMapping.parse(Self.mapping(columns: columns, constants: constants), name: "m.json")
        #expect(m.columns.count == 16_003 && m.constants.count == 16_000)
        do {
            _ = try CSVMapping.parse(Self.mapping(columns: columns, constants: constants + [#""title.en-x-c15999":"v""#]), name: "m.json")
            Issue.record("a field given by a column and a constant was accepted")
        } catch {
            #expect(error.message.contains("also mapped to a column"))
        }
    }

    @Test("EDTF: huge years, odd intervals, qualifiers in the wrong place, non-ASCII")
    func edtf() {
        let refused: [(String, String)] = [
            ("99999", "4 digits"), ("18446744073709551616", "4 digits"), ("2019-02-29", "does not exist"), ("2019-05-05/2019-05-04", "before it starts"),
            ("/", "at least one side"), ("../..", "at least one side"), ("2019?~", "only allowed once"), ("2019-5", "2 digits"),
            ("2019-05-05/2019/2020", "exactly one"), ("", "empty"), ("2\u{0663}19", "non-ASCII"), ("XXXX", "unspecified"), ("2019-XX-05", "day cannot"),
            (String(repeating: "X", count: 100_000), "4 digits"), (String(repeating: "-", count: 100_000), "negative"),
        ]
        for (text, problem) in refused {
            #expect(EDTF(text) == nil, "\(text.prefix(40))")
            #expect(EDTF.problem(text)?.contains(problem) == true, "\(text.prefix(40)): \(EDTF.problem(text) ?? "nil")")
        }
        #expect(EDTF("0000-02-29")?.earliest == 229)
        #expect(EDTF("../9999-12-31")?.latest == 9999_12_31)
    }

    @Test("CSV: unterminated quotes over many lines, invalid UTF-8 inside quotes, CR alone, CRLF inside quotes, BOM only")
    func csv() throws {
        let open = Self.bytes("a,\"") + [UInt8](repeating: 0x0A, count: 100_000)
        do {
            _ = try CSVReader.records(open, name: "t.csv")
            Issue.record("unterminated quote accepted")
        } catch {
            #expect(error.message.contains("t.csv:1") && error.message.contains("never closed"))
        }
        do {
            _ = try CSVReader.records(Self.bytes("a\n\"x") + [0xC0, 0x80] + Self.bytes("\"\n"), name: "t.csv")
            Issue.record("overlong UTF-8 accepted")
        } catch {
            #expect(error.message.contains("t.csv:2") && error.message.contains("UTF-8"))
        }
        #expect(try CSVReader.records([0xEF, 0xBB, 0xBF], name: "t.csv").isEmpty)
        do {
            _ = try CSVReader.records(Self.bytes("x\na\rb,c"), name: "t.csv")
            Issue.record("a lone CR accepted")
        } catch {
            #expect(error.message.contains("t.csv:2") && error.message.contains("CR alone"))
        }
        #expect(try CSVReader.records(Self.bytes("\"a\r\nb\rc\""), name: "t.csv").map(\.fields) == [["a\nb\rc"]])
        #expect(try CSVReader.records(Self.bytes("\"\"\"\"\r\n"), name: "t.csv").map(\.fields) == [["\""]])
    }

    @Test("archive bodies: a title in 30,000 languages is checked in linear time", .timeLimit(.minutes(3)))
    func manyLanguages() throws {
        let title = (0..<30_000).map { #""en-x-t\#($0)":"T""# }.joined(separator: ",")
        let body = try JSONParser.parseObject(Self.bytes(#"{"title":{\#(title)},"occurred":"2016-09-28","place":{"admin1":"Aleppo"}}"#))
        try Archive.checkBody(type: "incident.reported", subject: "incident:a", body: body)
        let twice = try JSONParser.parseObject(Self.bytes(#"{"title":{\#(title),"EN-X-T7":"T"},"occurred":"2016-09-28","place":{"admin1":"Aleppo"}}"#))
        #expect(throws: LedgerError.self) { try Archive.checkBody(type: "incident.reported", subject: "incident:a", body: twice) }
    }
}
