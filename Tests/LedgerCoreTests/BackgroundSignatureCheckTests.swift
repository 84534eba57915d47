import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@Suite("Signature checks in the background")
struct BackgroundSignatureCheckTests {
    /// 301 envelopes (75 chunks of 4 and one of 1), altered at the edges of chunks, in the middle
    /// and last;
    /// position 100 is altered too but has no key (its caller checks it later).
    static func batch() -> (envelopes: [Envelope], keys: [Ed25519.PublicKey?], bad: [Int]) {
        var envelopes = (0..<301).map { Fixtures.report(subject: "incident:bg-\($0)", n: 1_000 + UInt64($0)) }
        let altered = [0, 3, 4, 31, 32, 100, 150, 297, 299, 300]
        for i in altered {
            let at = envelopes[i].payload.firstRange(of: Array("Report".utf8))!
            envelopes[i].payload[at.lowerBound + 1] = UInt8(ascii: "0")
        }
        var keys: [Ed25519.PublicKey?] = Array(repeating: Fixtures.archivist.publicKey, count: envelopes.count)
        keys[5] = nil
        keys[100] = nil
        return (envelopes, keys, altered.filter { $0 != 100 })
    }

    @Test("every altered signature is found at its position, whatever the threads and whoever checks", arguments: [1, 2, 4])
    func findsEveryFailure(parallelism: Int) {
        let (envelopes, keys, bad) = Self.batch()
        // The caller asks at once: it claims the chunks no background thread has started.
        let eager = BackgroundSignatureCheck(envelopes: envelopes, keys: keys, parallelism: parallelism)
        #expect(eager.failures() == bad)
        #expect(eager.failures() == bad, "asked twice")
        // The caller asks late: the background threads have done everything.
        let late = BackgroundSignatureCheck(envelopes: envelopes, keys: keys, parallelism: parallelism)
        for e in envelopes.prefix(100) { _ = e.hasValidSignature(by: Fixtures.archivist.publicKey) }
        #expect(late.failures() == bad)
    }

    @Test("a wrong key fails every position it is given for; no key and no envelopes pass")
    func keysAndEmpty() {
        let envelopes = (0..<41).map { Fixtures.report(subject: "incident:bk-\($0)", n: 2_000 + UInt64($0)) }
        var keys: [Ed25519.PublicKey?] = Array(repeating: Fixtures.archivist.publicKey, count: 41)
        for i in [3, 33, 39, 40] { keys[i] = Fixtures.admin.publicKey }
        #expect(BackgroundSignatureCheck(envelopes: envelopes, keys: keys).failures() == [3, 33, 39, 40])
        // Fewer envelopes than one chunk.
        #expect(BackgroundSignatureCheck(envelopes: Array(envelopes[38...]), keys: Array(keys[38...])).failures() == [1, 2])
        #expect(BackgroundSignatureCheck(envelopes: envelopes, keys: Array(repeating: nil, count: 41)).failures() == [])
        #expect(BackgroundSignatureCheck(envelopes: [], keys: []).failures() == [])
    }
}
