@testable import LedgerCore
import Testing

/// The member names the parser hands out from a table (`KnownKeys`) instead of making a string
/// for each: the same objects, the same refusals.
@Suite("JSON parser: known member names")
struct KnownKeysTests {
    private static func parse(_ json: String) throws(JSONError) -> JSONObject { try JSONParser.parseObject(Array(json.utf8)) }

    @Test("every known name is found, and parses to itself")
    func everyName() throws {
        #expect(Set(KnownKeys.names).count == KnownKeys.names.count)
        for name in KnownKeys.names {
            #expect(KnownKeys.lookup(KnownKeys.words(name), count: name.utf8.count) == name)
            let o = try Self.parse("{\"\(name)\":1,\"\(name)x\":2}")
            #expect(o.members.map(\.key) == [name, name + "x"])
        }
    }

    @Test("a lookup finds a name only for exactly its bytes: every one-byte change, cut and extension of every name")
    func exactness() {
        let known = Set(KnownKeys.names)
        var looked = 0
        for name in KnownKeys.names {
            let b = Array(name.utf8)
            var variants: [[UInt8]] = [Array(b.dropLast()), Array(b.dropFirst()), b + [0x61], [0x61] + b, b + b]
            for i in b.indices {
                for c: UInt8 in [0x00, 0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A, b[i] ^ 0x20, b[i] ^ 0x01, b[i] &+ 1] where c != b[i] {
                    var v = b
                    v[i] = c
                    variants.append(v)
                }
            }
            for v in variants {
                let text = String(decoding: v, as: UTF8.self)
                let found = v.count <= KnownKeys.maxLength ? KnownKeys.lookup(KnownKeys.words(text), count: v.count) : nil
                #expect(found == (known.contains(text) ? text : nil), "\(text)")
                looked += 1
            }
        }
        #expect(looked > 5000)
    }

    @Test("names near a known one are not taken for it")
    func nearNames() throws {
        let names = [
            "abcdefghijklmnop", "abcdefghijklmnopq", "archivedSha2567", "Ledger", "ledge", "ledgerr", "i", "d", "bodY", "body0", "signedat", "ids", "",
            "x", "tox", "ot", "0", "min1",
        ]
        for name in names {
            #expect(KnownKeys.lookup(KnownKeys.words(name), count: name.utf8.count) == nil, "\(name)")
            #expect(try Self.parse("{\"\(name)\":true}").members.map(\.key) == [name])
        }
    }

    @Test("a known name written with an escape is the same name: a duplicate of the plain one is refused")
    func escapedName() throws {
        #expect(try Self.parse(#"{"b\u006fdy":{"t\u006f":"x"}}"#).members.map(\.key) == ["body"])
        #expect(throws: JSONError.self) { try Self.parse(#"{"body":1,"b\u006fdy":2}"#) }
        #expect(throws: JSONError.self) { try Self.parse(#"{"b\u006fdy":1,"body":2}"#) }
        #expect(throws: JSONError.self) { try Self.parse(#"{"body":1,"body":2}"#) }
    }

    @Test("a known name cut short, or followed by what is not a colon, is refused where it was before")
    func truncated() {
        for json in [#"{"body"#, #"{"body":"#, #"{"body""#, #"{"body" 1}"#, #"{"bo"#, "{\"body\n\":1}", "{\"ti\u{0}tle\":1}"] {
            #expect(throws: JSONError.self, "\(json)") { try Self.parse(json) }
        }
    }

    @Test("every one-byte change of a payload: the same value or the same refusal with the table and without it")
    func oneByteChanges() {
        let payload = Array(
            (#"{"ledger":"example.org/l","id":"0194b0b4-0000-7000-8000-000000000001","type":"incident.reported","subject":"incident:i1","#
                + #""expects":0,"signedAt":"2026-01-01T00:00:00Z","body":{"archivedSha256":"ab","title":{"en":"t"},"to":"x","eitherOf":[],"#
                + #""abcdefghijklmnop":1,"occurred":"2016"}}"#).utf8)
        var plain = JSONParser.Limits.standard
        plain.knownKeys = false
        func outcome(_ b: [UInt8], _ limits: JSONParser.Limits) -> String {
            do { return String(decoding: JSONWriter.encode(try JSONParser.parse(b, limits: limits)), as: UTF8.self) } catch { return "refused: \(error)" }
        }
        var compared = 0
        for i in payload.indices {
            for replacement: UInt8 in [0x22, 0x5C, 0x00, 0x41, 0x61, 0x30, 0x7A, 0xC3, 0x20, 0x3A, 0x7D] where payload[i] != replacement {
                var b = payload
                b[i] = replacement
                #expect(outcome(b, .standard) == outcome(b, plain), "byte \(i) made \(replacement)")
                compared += 1
            }
            // Cut short after byte i: a name the parser cannot read as two words, or with no closing quote.
            let cut = Array(payload[...i])
            #expect(outcome(cut, .standard) == outcome(cut, plain), "cut after byte \(i)")
        }
        #expect(outcome(payload, .standard) == outcome(payload, plain) && compared > 2000)
    }
}
