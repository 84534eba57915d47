import LedgerCore
import LedgerCrypto
import Testing

@Suite("MerkleFrontier")
struct MerkleFrontierTests {
    /// The perfect nodes completed by appending leaf number `n` (0-based): one per level up to the
    /// number of trailing ones of n, each covering the aligned block that leaf n closes.
    static func expectedNewNodes(afterAppending n: Int, leaves: [Digest32]) -> [MerkleNode] {
        let newSize = n + 1
        var out: [MerkleNode] = []
        var level = 0
        while newSize % (1 << level) == 0 {
            let index = newSize / (1 << level) - 1
            let range = (index << level)..<((index + 1) << level)
            out.append(MerkleNode(level: level, index: UInt64(index), hash: MerkleReference.mth(leaves[range])))
            level += 1
        }
        return out
    }

    @Test func appendReturnsExactlyTheNewPerfectNodes() {
        let count = 300
        let leaves = Array(MerkleFixtures.largeLeaves[0..<count])
        var frontier = MerkleFrontier()
        var closureFrontier = MerkleFrontier()
        var seen = Set<MerkleNode>()
        #expect(frontier.size == 0)
        #expect(frontier.root == MerkleHash.empty)
        for n in 0..<count {
            let nodes = frontier.append(leaf: leaves[n])
            #expect(nodes == Self.expectedNewNodes(afterAppending: n, leaves: leaves), "append #\(n)")
            var emitted: [MerkleNode] = []
            closureFrontier.append(leaf: leaves[n]) { emitted.append($0) }
            #expect(emitted == nodes, "closure form, append #\(n)")
            #expect(frontier.size == UInt64(n + 1))
            #expect(frontier.root == MerkleReference.mth(leaves[0...n]), "root after \(n + 1)")
            #expect(frontier == closureFrontier)
            for node in nodes { #expect(seen.insert(node).inserted, "node emitted twice") }
        }
        // Every perfect aligned subtree of the 300 leaves was emitted exactly once.
        var perfectCount = 0
        var level = 0
        while 1 << level <= count {
            perfectCount += count >> level
            level += 1
        }
        #expect(seen.count == perfectCount)
    }

    @Test func frontierNodesDescribeTheRightEdge() {
        var frontier = MerkleFrontier()
        for n in 1...130 {
            frontier.append(leaf: MerkleFixtures.largeLeaves[n - 1])
            let nodes = frontier.nodes
            #expect(nodes.count == n.nonzeroBitCount)
            var start = 0
            for node in nodes {
                let width = 1 << node.level
                #expect(node.index == UInt64(start / width) && start % width == 0)
                #expect(node.hash == MerkleReference.mth(MerkleFixtures.largeLeaves[start..<start + width]))
                start += width
            }
            #expect(start == n)
        }
    }

    @Test func rebuildFromSourceEqualsAppendedState() throws {
        let count = 300
        let store = MerkleFixtures.store(MerkleFixtures.largeLeaves[0..<count])
        var frontier = MerkleFrontier()
        var states: [MerkleFrontier] = [frontier]
        for n in 0..<count {
            frontier.append(leaf: MerkleFixtures.largeLeaves[n])
            states.append(frontier)
        }
        for size in 0...count {
            let rebuilt = try MerkleFrontier(size: UInt64(size), source: store)
            #expect(rebuilt == states[size], "size \(size)")
            #expect(rebuilt.root == states[size].root)
            #expect(rebuilt.nodes == states[size].nodes)
            #expect(try rebuilt.root == MerkleTree.root(size: UInt64(size), source: store))
        }
        // A rebuilt frontier keeps appending exactly like the original.
        for size in [0, 1, 5, 64, 127, 200] {
            var rebuilt = try MerkleFrontier(size: UInt64(size), source: store)
            var original = states[size]
            for n in size..<min(size + 70, count) {
                #expect(rebuilt.append(leaf: MerkleFixtures.largeLeaves[n]) == original.append(leaf: MerkleFixtures.largeLeaves[n]))
            }
            #expect(rebuilt == original)
            #expect(rebuilt == states[min(size + 70, count)])
        }
        // And from the large store, at big sizes.
        for size in [1023, 1024, 4097, 9999, 10_000] as [UInt64] {
            let rebuilt = try MerkleFrontier(size: size, source: MerkleFixtures.largeStore)
            #expect(rebuilt.size == size)
            #expect(try rebuilt.root == MerkleTree.root(size: size, source: MerkleFixtures.largeStore))
        }
    }

    @Test func inMemoryStoreMatchesFrontier() throws {
        var store = InMemoryMerkleNodes()
        var frontier = MerkleFrontier()
        for n in 0..<100 {
            let data = MerkleFixtures.leafData(n)
            store.append(leafBytes: data)
            frontier.append(leaf: MerkleHash.leaf(data))
            #expect(store.size == UInt64(n + 1))
            #expect(store.storedSize == UInt64(n + 1))
            #expect(store.root == frontier.root)
            #expect(try store.node(level: 0, index: UInt64(n)) == MerkleFixtures.largeLeaves[n])
        }
        #expect(try MerkleFrontier(size: 100, source: store) == frontier)
        #expect(store.root == MerkleReference.mth(MerkleFixtures.largeLeaves[0..<100]))
    }
}
