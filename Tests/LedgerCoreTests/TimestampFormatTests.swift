import Testing

@testable import LedgerCore

/// The record and signed time forms against the string-built reference, over the whole range of
/// years the fixed-width writer handles and past its edges.
@Suite("Timestamp forms")
struct TimestampFormatTests {
    @Test("record and signed time texts are the reference's, for 20,000 random moments and the edges")
    func matchesReference() {
        let day: Int64 = 86_400_000_000
        let year0 = Timestamp.parseRFC3339("0000-01-01T00:00:00Z")!.microseconds
        let year10000 = Timestamp.parseRFC3339("9999-12-31T23:59:59.999999Z")!.microseconds + 1
        var moments: [Int64] = [0, -1, 1, year0, year0 - 1, year10000 - 1, year10000, year10000 + day * 400, year0 - day * 400, day * 11_016 - 1]
        var rng = SplitMix64(seed: 0x71_3E)
        for _ in 0..<20_000 { moments.append(year0 - day * 800 + Int64(rng.next() % UInt64(year10000 - year0 + day * 1_600))) }
        for us in moments {
            let t = Timestamp(microseconds: us)
            #expect(t.recordTimeText == t.referenceFormat(fractionDigits: 6), "\(us)")
            #expect(t.signedTimeText == t.referenceFormat(fractionDigits: 3), "\(us)")
            if us >= year0, us < year10000 { #expect(Timestamp.parseRecordTime(t.recordTimeText) == t, "\(us)") }
        }
    }

    @Test("parseRFC3339 gives the reference parser's value for valid times and every one-byte change, cut and extension of them")
    func parseMatchesReference() {
        var rng = SplitMix64(seed: 0x3339)
        var texts: [String] = [
            "2019-05-05T12:00:00Z", "2024-02-29T23:59:59.123Z", "2023-02-29T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-01-01t00:00:00Z", "2026-01-01T00:00:00z",
            "+026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00",
        ]
        for _ in 0..<400 {
            let t = Timestamp(microseconds: Int64(rng.next() % 253_402_300_800_000_000))
            texts += [t.recordTimeText, t.signedTimeText, String(t.recordTimeText.prefix(19)) + "Z"]
        }
        let alphabet = Array("0123456789-:.TZtz +/\u{0}\u{7F}é".utf8)
        var checked = 0
        for text in texts {
            let bytes = Array(text.utf8)
            var variants: [[UInt8]] = [bytes, Array(bytes.dropLast()), bytes + [UInt8(ascii: "Z")], Array(bytes.dropLast()) + Array("1Z".utf8)]
            for i in bytes.indices {
                var v = bytes
                v[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                variants.append(v)
                variants.append(Array(bytes[..<i]))
            }
            for v in variants {
                let fast = v.withUnsafeBytes { Timestamp.parseRFC3339($0) }
                #expect(fast == Timestamp.referenceParseRFC3339(v), "\(String(decoding: v, as: UTF8.self))")
                #expect(Timestamp.parseRFC3339(String(decoding: v, as: UTF8.self)) == fast || !String(decoding: v, as: UTF8.self).utf8.elementsEqual(v))
                checked += 1
            }
        }
        #expect(checked > 30_000)
        #expect(Timestamp.parseRFC3339("2024-02-29T23:59:59.1234567Z")?.microseconds == Timestamp.parseRFC3339("2024-02-29T23:59:59.123456Z")?.microseconds)
    }
}
