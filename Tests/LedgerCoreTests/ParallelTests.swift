import Foundation
import LedgerCore
import Synchronization
import Testing

/// Counts live instances, so that a test sees every value made was freed once.
final class Tracked: Sendable {
    static let live = Atomic<Int>(0)
    let value: Int
    init(_ value: Int) {
        self.value = value
        Tracked.live.add(1, ordering: .relaxed)
    }
    deinit { Tracked.live.subtract(1, ordering: .relaxed) }
}

struct Refused: Error, Equatable {
    var at: Int
}

@Suite("Parallel map", .serialized)
struct ParallelTests {
    @Test("map gives every value in index order", arguments: [(0, 1), (1, 2), (7, 1), (7, 2), (1000, 2), (1001, 3)])
    func mapInOrder(count: Int, parallelism: Int) {
        let out = Parallel.map(count: count, parallelism: parallelism) { i in [i, i * i] }
        #expect(out.count == count)
        #expect(out == (0..<count).map { [$0, $0 * $0] })
    }

    @Test("mapUntilError without an error equals map", arguments: [(0, 2), (1, 1), (999, 2)])
    func mapUntilErrorNoError(count: Int, parallelism: Int) throws {
        let out = try Parallel.mapUntilError(count: count, parallelism: parallelism) { (i) throws(Refused) -> String in "\(i)" }
        #expect(out == (0..<count).map { "\($0)" })
    }

    @Test(
        "mapUntilError throws the lowest failing index and frees every value it made",
        arguments: [
            (1, 1, [0]), (10, 1, [3, 7]), (10, 2, [9]), (1000, 2, [999, 5, 640]), (1000, 2, [0]), (1000, 4, [250, 251, 500, 999]),
            (8, 2, [0, 1, 2, 3, 4, 5, 6, 7]),
        ])
    func mapUntilErrorLowest(count: Int, parallelism: Int, failing: [Int]) {
        let before = Tracked.live.load(ordering: .relaxed)
        let failures = Set(failing)
        #expect(throws: Refused(at: failing.min()!)) {
            _ = try Parallel.mapUntilError(count: count, parallelism: parallelism) { (i) throws(Refused) -> Tracked in
                if failures.contains(i) { throw Refused(at: i) }
                return Tracked(i)
            }
        }
        #expect(Tracked.live.load(ordering: .relaxed) == before)
    }

    @Test("mapUntilError keeps the values when nothing fails, and they are freed with the array")
    func mapUntilErrorKeeps() throws {
        let before = Tracked.live.load(ordering: .relaxed)
        do {
            let out = try Parallel.mapUntilError(count: 500, parallelism: 2) { (i) throws(Refused) -> Tracked in Tracked(i) }
            #expect(out.map(\.value) == Array(0..<500))
            #expect(Tracked.live.load(ordering: .relaxed) == before + 500)
        }
        #expect(Tracked.live.load(ordering: .relaxed) == before)
    }
}
