import LedgerCore
import Testing

@Suite("Strict JSON parser")
struct JSONParserTests {
    func parse(_ s: String) throws(JSONError) -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    @Test("accepts RFC 8259 documents and keeps member order and number text")
    func accepts() throws {
        let v = try parse(#" {"b": [1, -0.5e+3, true, null], "a": "x\u00e9\n\"\ud83d\ude00"} "#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["b", "a"])
        #expect(o["b"] == .array([.number("1"), .number("-0.5e+3"), .bool(true), .null]))
        #expect(o["a"] == .string("xé\n\"😀"))
    }

    @Test(
        "refuses malformed input with a position",
        arguments: [
            (#"{"a":1,}"#, "unexpected character '}'"),
            (#"{"a":01}"#, "invalid number"),
            (#"{"a":1.}"#, "invalid number"),
            (#"{"a":"\x"}"#, "invalid escape"),
            (#"{"a":"\ud800"}"#, "unpaired UTF-16 surrogate"),
            ("{\"a\":\"\t\"}", "unescaped control character"),
            (#"{"a":1} x"#, "unexpected data after"),
            (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
            (#"{"a":tru}"#, "unexpected"),
            ("", "unexpected end"),
            (#"{"a":"e\#u{301}"}"#, "not in Unicode NFC"),
        ])
    func refuses(_ input: String, _ message: String) {
        do {
            _ = try parse(input)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
            #expect(error.description.contains("line 1, column"))
        }
    }

    @Test("reports line and column of a problem on a later line")
    func position() {
        do {
            _ = try parse("{\n\"a\": 1,\n\"b\": -}")
            Issue.record("accepted")
        } catch {
            #expect(error.reason == .invalidNumber)
            #expect(error.line == 3)
            #expect(error.column == 6)
            #expect(error.offset == 15)
        }
    }

    @Test("refuses invalid UTF-8: overlong, surrogate, truncated")
    func utf8() {
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            let doc: [UInt8] = Array(#"{"a":""#.utf8) + bad + Array(#""}"#.utf8)
            #expect(throws: JSONError.self) { try JSONParser.parse(doc) }
        }
    }

    @Test("strings: a quote, escape, control byte or non-ASCII byte is found at every offset of the eight-byte scan")
    func stringScanOffsets() throws {
        for k in 0..<20 {
            let pad = String(repeating: "a", count: k)
            let tail = String(repeating: "b", count: 19 - k)
            #expect(try parse("[\"\(pad)\"]") == .array([.string(pad)]))
            #expect(try parse("[\"\(pad)\\n\(tail)\"]") == .array([.string(pad + "\n" + tail)]))
            #expect(try parse("[\"\(pad)é\(tail)\"]") == .array([.string(pad + "é" + tail)]))
            #expect(try parse("[\"\(pad)\u{7F}~ \(tail)\"]") == .array([.string(pad + "\u{7F}~ " + tail)]))
            for control: UInt8 in [0x00, 0x01, 0x1F] {
                let doc = Array("[\"\(pad)".utf8) + [control] + Array("\(tail)\"]".utf8)
                do {
                    _ = try JSONParser.parse(doc)
                    Issue.record("control byte \(control) at \(k) accepted")
                } catch {
                    #expect(error.reason == .controlCharacterInString && error.offset == 2 + k, "\(error)")
                }
            }
            let unterminated = Array("[\"\(pad)\(tail)".utf8)
            #expect(throws: JSONError.self) { try JSONParser.parse(unterminated) }
        }
    }

    @Test("depth and size limits")
    func limits() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(throws: JSONError.self) { try parse(deep) }
        #expect(throws: JSONError.self) { try JSONParser.parse(Array("[1]".utf8), limits: .init(maxBytes: 2, maxDepth: 4)) }
    }

    @Test("writer round trip, sorted keys by UTF-8 bytes, minimal escapes")
    func writer() throws {
        let v = try parse(#"{"b":1,"a":"\u0001\"\\/é","é":[],"Z":{}}"#)
        let sorted = String(decoding: JSONWriter.encode(v, sortedKeys: true), as: UTF8.self)
        #expect(sorted == #"{"Z":{},"a":"\u0001\"\\/é","b":1,"é":[]}"#)
        #expect(try parse(sorted) == (try parse(String(decoding: JSONWriter.encode(v), as: UTF8.self))).sortedForTest)
    }

    @Test("writer: a quote, backslash or control byte is escaped at every offset of its eight-byte scan; non-ASCII is not")
    func writerEscapesAtEveryOffset() throws {
        let specials: [(String, String)] = [
            ("\"", #"\""#), ("\\", #"\\"#), ("\n", #"\n"#), ("\u{01}", #"\u0001"#), ("\u{1F}", #"\u001f"#), ("é", "é"), ("\u{7F}", "\u{7F}"),
            ("😀", "😀"),
        ]
        for length in [1, 7, 8, 9, 15, 16, 17, 31] {
            for offset in 0..<length {
                for (raw, escaped) in specials {
                    let text = String(repeating: "a", count: offset) + raw + String(repeating: "b", count: length - offset - 1)
                    let expected = "\"" + String(repeating: "a", count: offset) + escaped + String(repeating: "b", count: length - offset - 1) + "\""
                    var out: [UInt8] = []
                    JSONWriter.writeString(text, into: &out)
                    #expect(String(decoding: out, as: UTF8.self) == expected, "length \(length), offset \(offset), \(escaped)")
                    #expect(try JSONParser.parse(out, limits: .init(maxBytes: 1000, maxDepth: 4)) == .string(text))
                }
            }
        }
    }
}

extension JSONValue {
    var sortedForTest: JSONValue {
        guard case .object(let o) = self else { return self }
        return .object(JSONObject(uniqueMembers: o.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }))
    }
}
