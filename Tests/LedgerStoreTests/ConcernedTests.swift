import LedgerCore
import Testing

@testable import LedgerStore

@Suite("The fold's list of entries concerning an entity (LEB128 differences)")
struct ConcernedTests {
    @Test("every index comes back in order, from 0 to UInt64.max; an index added twice in a row is kept once")
    func roundTrip() {
        let indexes: [UInt64] = [0, 0, 1, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, (1 << 63) - 1, 1 << 63, UInt64.max - 1, UInt64.max, UInt64.max]
        var c = Concerned()
        for i in indexes { c.add(i) }
        #expect(c.indexes == [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 35, (1 << 63) - 1, 1 << 63, UInt64.max - 1, UInt64.max])
    }
}
