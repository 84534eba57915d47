import Testing

@testable import LedgerCore

@Suite("EventIDSet: bounded-memory uniqueness of event ids")
struct EventIDSetTests {
    @Test("repeats are found in memory and across spilled runs; distinct ids never collide", arguments: [1, 7, 64, 1 << 17])
    func repeats(runSize: Int) {
        let set = EventIDSet(runSize: runSize)
        var rng = SplitMix64(seed: UInt64(runSize))
        var keys: [EventIDKey] = []
        for i in 0..<3000 {
            // Counter-like ids (as UUIDv7 made in one millisecond) and random ones.
            let k =
                i % 2 == 0
                ? EventIDKey(hi: 0x0190_0000_7000 + UInt64(i / 100), lo: 0x8000_0000_0000_0000 | UInt64(i)) : EventIDKey(hi: rng.next(), lo: rng.next())
            keys.append(k)
            #expect(set.insert(k), "distinct id \(i) reported as a repeat")
        }
        for i in stride(from: 0, to: 3000, by: 37) {
            #expect(!set.insert(keys[i]), "repeat of id \(i) not found (run size \(runSize))")
        }
        #expect(set.insert(EventIDKey(hi: 1, lo: 2)))
        #expect(!set.insert(EventIDKey(hi: 1, lo: 2)))
    }
}
