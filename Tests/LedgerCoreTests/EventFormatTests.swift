import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@Suite("Payloads, envelopes, entry lines")
struct EventFormatTests {
    @Test("PAE matches the DSSE specification example")
    func pae() {
        // DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
        let out = Envelope.pae(type: "http://example.com/HelloWorld", body: Array("hello world".utf8))
        #expect(String(decoding: out, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    @Test("payload encodes in fixed member order and parses back")
    func payloadRoundTrip() throws {
        let e = Fixtures.report(subject: "inc-1", n: 5)
        let p = try EventPayload(bytes: e.payload)
        #expect(p.encoded() == e.payload)
        #expect(String(decoding: e.payload, as: UTF8.self).hasPrefix(#"{"ledger":"test.example/ledger","id":""#))
        #expect(e.hasValidSignature(by: Fixtures.archivist.publicKey))
        #expect(!e.hasValidSignature(by: Fixtures.admin.publicKey))
    }

    @Test(
        "payload validation names the field",
        arguments: [
            (#"{"ledger":"o","id":"x","type":"a.b","subject":"s","expects":0,"signedAt":"2026-01-01T00:00:00Z","body":{}}"#, "`id`"),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"A","subject":"s","expects":0,"signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`type`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`subject`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":"0","#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`expects`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":-1,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`expects`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-02-30T00:00:00Z","body":{}}"#,
                "`signedAt`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00+01:00","body":{}}"#,
                "`signedAt`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":[]}"#,
                "`body`"
            ),
            (
                #"{"ledger":"o o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`ledger`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{},"extra":1}"#,
                "extra"
            ),
            (#"{"ledger":"o","type":"a.b","subject":"s","expects":0,"signedAt":"2026-01-01T00:00:00Z","body":{}}"#, "`payload.id` is missing"),
            // Members in the written order (read by position) and in another order (read by key).
            (
                #"{"ledger":1,"id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "field `ledger`: must be a string, found number"
            ),
            (
                #"{"id":"01890a5d-ac96-774b-bcce-b302099a8057","ledger":1,"type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "field `ledger`: must be a string, found number"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":"0","#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`expects`"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""body":{},"signedAt":"2026-01-01T00:00:00Z","body2":{}}"#,
                "body2"
            ),
            (
                #"{"ledger":"o","id":"01890a5d-ac96-674b-bcce-b302099a8057","type":"a.b","subject":"s","expects":0,"#
                    + #""signedAt":"2026-01-01T00:00:00Z","body":{}}"#,
                "`id`"
            ),
        ])
    func payloadValidation(_ json: String, _ field: String) {
        do {
            _ = try EventPayload(bytes: Array(json.utf8))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.message.contains(field), "\(error.message)")
        }
    }

    @Test("a payload's members in any order give the same payload")
    func memberOrder() throws {
        let inOrder =
            #"{"ledger":"o","id":"01890a5d-ac96-774b-bcce-b302099a8057","type":"a.b","subject":"s","expects":3,"#
            + #""signedAt":"2026-01-01T00:00:00Z","body":{"k":"v"}}"#
        let shuffled =
            #"{"body":{"k":"v"},"subject":"s","expects":3,"type":"a.b","signedAt":"2026-01-01T00:00:00Z","#
            + #""id":"01890a5d-ac96-774b-bcce-b302099a8057","ledger":"o"}"#
        let a = try EventPayload(bytes: Array(inOrder.utf8))
        let b = try EventPayload(bytes: Array(shuffled.utf8))
        #expect(a == b)
        #expect(a.expects == 3 && a.subject == "s" && a.type == "a.b" && a.body["k"]?.stringValue == "v")
        #expect(a.encoded() == Array(inOrder.utf8))
    }

    @Test("UUIDv7.isValid accepts exactly what UUIDv7.parse accepts")
    func uuidValidity() {
        let cases = [
            "01890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-674b-bcce-b302099a8057", "01890a5d-ac96-774b-ccce-b302099a8057",
            "01890A5D-AC96-774B-BCCE-B302099A8057", "01890a5d-ac96-774b-bcce-b302099a805", "01890a5d-ac96-774b-bcce-b302099a80577",
            "01890a5dxac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a805g", "", "01890a5d-ac96-774b-8cce-b302099a8057",
        ]
        for c in cases { #expect(UUIDv7.isValid(c) == (UUIDv7.parse(c) != nil), "\(c)") }
        #expect(UUIDv7.isValid(cases[0]) && !UUIDv7.isValid(cases[1]) && !UUIDv7.isValid(cases[2]))
    }

    @Test("payload over 1 MiB is refused")
    func tooLarge() {
        let e = Fixtures.report(subject: "inc-1", n: 1, padding: 1 << 20)
        #expect(throws: LedgerError.self) { try EventPayload(bytes: e.payload) }
    }

    @Test("envelope JSON round trip and strict shape")
    func envelope() throws {
        let e = Fixtures.report(subject: "inc-1", n: 5)
        let again = try Envelope(json: e.encoded())
        #expect(again == e)
        let twoSigs = String(decoding: e.encoded(), as: UTF8.self).replacingOccurrences(
            of: "}]}", with: "},{\"keyid\":\"\(e.keyID)\",\"sig\":\"\(Base64.encode(e.signature))\"}]}")
        #expect(throws: LedgerError.self) { try Envelope(json: Array(twoSigs.utf8)) }
        let wrongType = String(decoding: e.encoded(), as: UTF8.self).replacingOccurrences(of: EventPayload.payloadType, with: "application/json")
        #expect(throws: LedgerError.self) { try Envelope(json: Array(wrongType.utf8)) }
    }

    @Test("entry line round trip; record time is fixed-width")
    func entryLine() throws {
        let line = EntryLine(index: 7, recordedAt: Fixtures.epoch, envelope: Fixtures.report(subject: "inc-1", n: 5))
        let bytes = line.encoded()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"index":7,"recordedAt":"2026-01-01T00:00:00.000000Z","envelope":{"payloadType":"#))
        #expect(try EntryLine(bytes: bytes) == line)
    }

    @Test("entry lines must be canonical: other spellings of the same JSON are refused")
    func canonicalLines() throws {
        let line = EntryLine(index: 7, recordedAt: Fixtures.epoch, envelope: Fixtures.report(subject: "inc-1", n: 5))
        let text = String(decoding: line.encoded(), as: UTF8.self)
        for variant in [
            text.replacingOccurrences(of: #"{"index":7,"#, with: #"{"index": 7,"#),
            text.replacingOccurrences(
                of: #"{"index":7,"recordedAt":"2026-01-01T00:00:00.000000Z","#, with: #"{"recordedAt":"2026-01-01T00:00:00.000000Z","index":7,"#),
            text.replacingOccurrences(
                of: #""payloadType":"application/vnd.incidentledger.event+json""#, with: #""payloadType":"application\/vnd.incidentledger.event+json""#),
        ] {
            #expect(variant != text)
            do { _ = try EntryLine(bytes: Array(variant.utf8)); Issue.record("accepted \(variant.prefix(60))") } catch {
                #expect(error.message.contains("canonical"), "\(error.message)")
            }
        }
        #expect(throws: LedgerError.self) { try EntryLine(bytes: Array(text.utf8) + [0x0A]) }
        #expect(throws: LedgerError.self) { try EntryLine(bytes: Array(text.replacingOccurrences(of: #"{"index":7"#, with: #"{"index":07"#).utf8)) }
    }

    @Test("RFC 3339 parsing")
    func time() {
        #expect(Timestamp.parseRFC3339("2019-05-05T12:00:00Z")?.recordTimeText == "2019-05-05T12:00:00.000000Z")
        #expect(Timestamp.parseRFC3339("2024-02-29T23:59:59.123Z")?.signedTimeText == "2024-02-29T23:59:59.123Z")
        #expect(Timestamp.parseRFC3339("2023-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parseRFC3339("2023-01-01 00:00:00Z") == nil)
        #expect(Timestamp.parseRFC3339("2023-01-01T24:00:00Z") == nil)
        #expect(Timestamp.parseRecordTime("2023-01-01T00:00:00Z") == nil)
        #expect(Timestamp(microseconds: -1).recordTimeText == "1969-12-31T23:59:59.999999Z")
    }

    @Test("UUIDv7 generation and validation")
    func uuid() {
        let id = UUIDv7.make(at: Fixtures.epoch)
        #expect(UUIDv7.parse(id) != nil)
        #expect(id.hasPrefix("019b76da-a800-7"))  // 2026-01-01T00:00:00Z = 0x019b76daa800 Unix ms, then version 7
        #expect(UUIDv7.parse(id.uppercased()) == nil)
        #expect(UUIDv7.parse("01890a5d-ac96-474b-bcce-b302099a8057") == nil)  // version 4
    }
}

@Suite("The event catalogue's names")
struct EventTypeNameTests {
    @Test("every name in the catalogue finds its row; a name that differs in any byte, or is longer or shorter, finds none")
    func lookup() {
        for t in EventType.allCases {
            #expect(EventType(name: t.name) == t)
            let name = Array(t.name.utf8)
            #expect(EventType(name: t.name + "x") == nil)
            #expect(EventType(name: String(decoding: name.dropLast(), as: UTF8.self)) == nil)
            #expect(EventType(name: t.name.uppercased()) == nil)
            for i in name.indices {
                var other = name
                other[i] ^= 0x01
                #expect(EventType(name: String(decoding: other, as: UTF8.self)) == nil)
            }
        }
        #expect(EventType(name: "") == nil)
        #expect(EventType(name: String(repeating: "a", count: 200)) == nil)
        // Byte for byte: a name with the same letters in another Unicode form is another name.
        #expect(EventType(name: "incident.reported\u{301}") == nil)
    }
}
