import Foundation
@testable import LedgerCore
import Testing

/// `EventPayload.laidOut`, the path that reads a payload laid out as the tool writes it without
/// a tree for its seven members, against `EventPayload.general`, the path that decides every
/// payload: whatever the first accepts, the second accepts with the same value.
@Suite("Event payloads laid out as the tool writes them")
struct EventPayloadLaidOutTests {
    static let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Ledger/bundle/data/entries.jsonl")

    /// The payloads of every entry of the campaign archive in Ledger/, and a few written here.
    static func seeds() throws -> [[UInt8]] {
        let text = try String(contentsOf: bundle, encoding: .utf8)
        var out = try text.split(separator: "\n").map { try EntryLine(bytes: Array($0.utf8)).envelope.payload }
        let body = try JSONParser.parseObject(Array(#"{"a":[1,{"b":"é\u00e9\n"}],"z":null,"ñ":-0.5e+3}"#.utf8))
        out.append(
            EventPayload(
                ledger: "x.example/l", id: "01941f2a-3fb1-7000-8000-00000000c3b1", type: "a.b", subject: "s", expects: 0, signedAt: "2025-01-01T00:00:00Z",
                body: body
            ).encoded())
        out.append(
            EventPayload(
                ledger: "x.example/l", id: "01941f2a-3fb1-7000-8000-00000000c3b1", type: "a.b-c.d", subject: "incident:x", expects: 999_999_999_999_999,
                signedAt: "2025-01-01T00:00:00.123456Z", body: JSONObject()
            ).encoded())
        return out
    }

    /// Checks one input both ways, with and without the NFC rule; true when `laidOut` took it.
    /// `foldParts` (which stored payloads take, without the NFC rule) must take only what the
    /// general path accepts, with its type, subject and body in canonical form.
    @discardableResult
    static func agree(_ bytes: [UInt8], _ note: @autoclosure () -> String = "") -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let parts = EventPayload.foldParts(raw) else { return }
            let general = try? EventPayload.general(raw, limits: EventPayload.limits(requireNFC: false))
            #expect(
                general?.eventType == parts.type && general?.subject.sameBytes(parts.subject) == true
                    && general.map { CanonicalObject($0.body).encoded } == parts.body.encoded,
                "\(note()) \(String(decoding: bytes, as: UTF8.self))")
        }
        // `laidOutHeader` (what the log's checks read of a stored payload) takes what `foldParts`
        // takes, with every other member as the general path reads it.
        bytes.withUnsafeBytes { raw in
            let header = EventPayload.laidOutHeader(raw)
            #expect((header == nil) == (EventPayload.foldParts(raw) == nil), "\(note()) \(String(decoding: bytes, as: UTF8.self))")
            guard let header else { return }
            let general = try? EventPayload.general(raw, limits: EventPayload.limits(requireNFC: false))
            var whole = header.payload
            whole.body = header.body.object
            #expect(header.payload.body.count == 0 && header.body == CanonicalObject(general?.body ?? JSONObject()))
            #expect(general?.encoded() == whole.encoded() && general?.eventType == whole.eventType, "\(note()) \(String(decoding: bytes, as: UTF8.self))")
        }
        var took = false
        for nfc in [true, false] {
            let limits = EventPayload.limits(requireNFC: nfc)
            bytes.withUnsafeBytes { raw in
                let fast = EventPayload.laidOut(raw, limits: limits)
                let general = try? EventPayload.general(raw, limits: limits)
                if let fast {
                    took = true
                    // `==` compares strings up to canonical equivalence; the encoding compares bytes.
                    #expect(general == fast && general?.encoded() == fast.encoded(), "\(note()) \(String(decoding: bytes, as: UTF8.self))")
                }
            }
        }
        return took
    }

    @Test("every payload the tool wrote is taken, with the general path's value")
    func seedsTaken() throws {
        let seeds = try Self.seeds()
        #expect(seeds.count > 200)
        for s in seeds { #expect(Self.agree(s), "\(String(decoding: s, as: UTF8.self))") }
    }

    @Test("every one-byte change, deletion, insertion and cut of a payload: taken only with the general path's value")
    func mutations() throws {
        let seeds = try Self.seeds()
        let picked = stride(from: 0, to: seeds.count, by: max(1, seeds.count / 5)).map { seeds[$0] } + seeds.suffix(2)
        let bytes: [UInt8] = [
            0x00, 0x09, 0x1F, 0x20, 0x22, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x31, 0x39, 0x3A, 0x5B, 0x5C, 0x5D, 0x61, 0x7A, 0x7B, 0x7D, 0x7F, 0x80, 0xC3, 0xFF,
        ]
        var taken = 0
        var total = 0
        for s in picked {
            func check(_ v: [UInt8]) {
                total += 1
                if Self.agree(v) { taken += 1 }
            }
            for i in s.indices {
                for b in bytes where b != s[i] {
                    var v = s
                    v[i] = b
                    check(v)
                }
                var d = s
                d.remove(at: i)
                check(d)
                check(Array(s[..<i]))
                for b: UInt8 in [0x20, 0x30, 0x22, 0x5C] {
                    var v = s
                    v.insert(b, at: i)
                    check(v)
                }
            }
        }
        // Many changes fall inside strings and bodies and stay valid; the check must have seen both.
        #expect(taken > total / 10 && taken < total / 2, "taken \(taken) of \(total)")
    }

    /// A payload with `ledger`, `expects` and the body's text spelled as given.
    static func payload(
        ledger: String = "x.example/l", type: String = "a.b", subject: String = "s", expects: String = "1", body: String = #"{"a":1}"#, tail: String = ""
    ) -> [UInt8] {
        Array(
            (#"{"ledger":""# + ledger + #"","id":"01941f2a-3fb1-7000-8000-00000000c3b1","type":""# + type + #"","subject":""# + subject + #"","expects":"#
                + expects + #","signedAt":"2025-01-01T00:00:00Z","body":"# + body + "}" + tail).utf8)
    }

    @Test("foldParts and laidOutHeader: a payload of a catalogue type with a canonical body is taken as the general path reads it; any other is left to it")
    func foldParts() throws {
        func parts(_ body: String, type: String = "incident.retracted") -> (type: EventType, subject: String, body: CanonicalObject)? {
            let v = Self.payload(type: type, subject: "incident:x", body: body)
            Self.agree(v)
            return v.withUnsafeBytes { EventPayload.foldParts($0) }
        }
        let taken = try #require(parts(#"{"a":[1,{"b":"\\\"\n\u001f"}],"reason":"é","z":null}"#))
        #expect(taken.type == .incidentRetracted && taken.subject == "incident:x")
        #expect(taken.body.encoded == Array(#"{"a":[1,{"b":"\\\"\n\u001f"}],"reason":"é","z":null}"#.utf8))
        #expect(parts("{}") != nil)
        // Valid, but not canonical (the general path takes these): keys out of order, at any
        // depth; an escape the writer does not write; white space. And a type outside the catalogue.
        for body in [#"{"b":1,"a":2}"#, #"{"a":{"d":1,"c":2}}"#, #"{"a":"\u00e9"}"#, #"{"a":"\/"}"#, #"{"a": 1}"#, #"{"a":[1, 2]}"#] {
            #expect(parts(body) == nil, "\(body)")
        }
        #expect(parts(#"{"a":1}"#, type: "a.b") == nil)
        // As deep as a body may be, and one deeper (the general path refuses it).
        func nested(_ depth: Int) -> String { String(repeating: #"{"a":"#, count: depth - 1) + "1" + String(repeating: "}", count: depth - 1) }
        #expect(parts(#"{"x":"# + nested(63) + "}") != nil)
        #expect(parts(#"{"x":"# + nested(64) + "}") == nil)
    }

    @Test("payloads valid but laid out otherwise go the general way, and it accepts them")
    func otherLayouts() throws {
        let limits = EventPayload.limits(requireNFC: true)
        let valid: [[UInt8]] = [
            Self.payload(ledger: #"x.example/\u006c"#),
            Self.payload(expects: "1000000000000000"),  // 16 digits: the general path's limit
            Self.payload(body: #" {"a":1} "#),
            Self.payload(tail: " "),
            Array(
                #" {"ledger":"x.example/l","id":"01941f2a-3fb1-7000-8000-00000000c3b1","type":"a.b","subject":"s","expects":1,"signedAt":"2025-01-01T00:00:00Z","body":{}}"#
                    .utf8),
            Array(
                #"{"id":"01941f2a-3fb1-7000-8000-00000000c3b1","ledger":"x.example/l","type":"a.b","subject":"s","expects":1,"signedAt":"2025-01-01T00:00:00Z","body":{}}"#
                    .utf8),
            Array(
                #"{"ledger":"x.example/l", "id":"01941f2a-3fb1-7000-8000-00000000c3b1","type":"a.b","subject":"s","expects":1,"signedAt":"2025-01-01T00:00:00Z","body":{}}"#
                    .utf8),
        ]
        for v in valid {
            v.withUnsafeBytes { raw in
                #expect(EventPayload.laidOut(raw, limits: limits) == nil, "\(String(decoding: v, as: UTF8.self))")
                #expect((try? EventPayload.general(raw, limits: limits)) != nil, "\(String(decoding: v, as: UTF8.self))")
            }
        }
        // Laid out as the tool writes, and refused by both.
        let invalid: [[UInt8]] = [
            Self.payload(expects: "01"), Self.payload(expects: "-1"), Self.payload(expects: "1.0"), Self.payload(expects: ""),
            Self.payload(ledger: "x example"), Self.payload(body: #"{"a":1,"a":2}"#), Self.payload(body: #"{"a":1}}"#),
            Self.payload(body: #"{"a":"}"#), Self.payload(body: "[]"), Self.payload(body: #"{"a":1} {"#), Self.payload(tail: "x"),
        ]
        for v in invalid {
            #expect(!Self.agree(v), "\(String(decoding: v, as: UTF8.self))")
            v.withUnsafeBytes { raw in #expect((try? EventPayload.general(raw, limits: limits)) == nil, "\(String(decoding: v, as: UTF8.self))") }
        }
        // 15 digits are taken.
        #expect(Self.agree(Self.payload(expects: "999999999999999")))
    }

    @Test("the body's depth counts from the payload's top level, as the general path counts it")
    func depth() {
        func nested(_ depth: Int) -> String { String(repeating: #"{"a":"#, count: depth - 1) + "1" + String(repeating: "}", count: depth - 1) }
        // The payload is depth 1, the body 2: a body holding 62 more objects reaches depth 64.
        let atLimit = Self.payload(body: #"{"x":"# + nested(63) + "}")
        let over = Self.payload(body: #"{"x":"# + nested(64) + "}")
        #expect(Self.agree(atLimit))
        over.withUnsafeBytes { raw in
            #expect(EventPayload.laidOut(raw, limits: EventPayload.limits(requireNFC: true)) == nil)
            #expect((try? EventPayload.general(raw, limits: EventPayload.limits(requireNFC: true))) == nil)
        }
    }

    @Test("NFC: a body string not in NFC is taken only when the rule is off, as by the general path")
    func nfc() {
        // "e" and a combining acute accent (U+0301): canonically "é", so not in NFC.
        let v = Self.payload(body: #"{"a":"e\u0301"}"#)
        v.withUnsafeBytes { raw in
            #expect(EventPayload.laidOut(raw, limits: EventPayload.limits(requireNFC: true)) == nil)
            #expect(EventPayload.laidOut(raw, limits: EventPayload.limits(requireNFC: false)) != nil)
        }
        #expect(Self.agree(v))
    }
}
