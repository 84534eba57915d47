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
}
