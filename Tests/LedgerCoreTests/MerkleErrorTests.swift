import LedgerCore
import LedgerCrypto
import Testing

/// A source that does not know its size: errors then come from the lookups themselves.
private struct UnsizedSource: MerkleNodeSource {
    var inner: InMemoryMerkleNodes
    func node(level: Int, index: UInt64) throws -> Digest32 { try inner.node(level: level, index: index) }
}

@Suite("Merkle argument errors")
struct MerkleErrorTests {
    let store = MerkleFixtures.store(MerkleFixtures.largeLeaves[0..<8])

    @Test func indexOutOfRange() {
        #expect(throws: MerkleError.indexOutOfRange(index: 8, size: 8)) {
            try MerkleTree.inclusionProof(index: 8, size: 8, source: store)
        }
        #expect(throws: MerkleError.indexOutOfRange(index: 0, size: 0)) {
            try MerkleTree.inclusionProof(index: 0, size: 0, source: store)
        }
        #expect(throws: MerkleError.indexOutOfRange(index: 7, size: 3)) {
            try MerkleTree.inclusionProof(index: 7, size: 3, source: store)
        }
    }

    @Test func sizesOutOfOrder() {
        #expect(throws: MerkleError.sizesOutOfOrder(from: 6, to: 5)) {
            try MerkleTree.consistencyProof(from: 6, to: 5, source: store)
        }
    }

    @Test func sizeBeyondSource() {
        let beyond = MerkleError.sizeBeyondSource(size: 9, stored: 8)
        #expect(throws: beyond) { try MerkleTree.root(size: 9, source: store) }
        #expect(throws: beyond) { try MerkleTree.inclusionProof(index: 0, size: 9, source: store) }
        #expect(throws: beyond) { try MerkleTree.consistencyProof(from: 1, to: 9, source: store) }
        #expect(throws: beyond) { try MerkleTree.consistencyProof(from: 0, to: 9, source: store) }
        #expect(throws: beyond) { try MerkleFrontier(size: 9, source: store) }
    }

    @Test func unsizedSourceFailsOnTheMissingNode() throws {
        let source = UnsizedSource(inner: store)
        #expect(source.storedSize == nil)
        #expect(try MerkleTree.root(size: 8, source: source) == store.root)
        #expect(try MerkleTree.root(size: 5, source: source) == MerkleTree.root(size: 5, source: store))
        #expect(throws: MerkleError.self) { try MerkleTree.root(size: 9, source: source) }
        #expect(throws: MerkleError.self) { try MerkleTree.inclusionProof(index: 3, size: 12, source: source) }
        #expect(throws: MerkleError.self) { try MerkleTree.consistencyProof(from: 3, to: 12, source: source) }
        #expect(throws: MerkleError.self) { try MerkleFrontier(size: 9, source: source) }
    }

    @Test func descriptionsNameTheBadValues() {
        let cases: [(MerkleError, [String])] = [
            (.indexOutOfRange(index: 12345, size: 678), ["12345", "678"]),
            (.sizesOutOfOrder(from: 4242, to: 17), ["4242", "17"]),
            (.sizeBeyondSource(size: 99999, stored: 31337), ["99999", "31337"]),
            (.missingNode(level: 13, index: 271828), ["13", "271828"]),
        ]
        for (error, values) in cases {
            for value in values { #expect(error.description.contains(value), "\(error)") }
        }
    }

    @Test func emptyProofsForTrivialConsistency() throws {
        #expect(try MerkleTree.consistencyProof(from: 0, to: 8, source: store) == [])
        #expect(try MerkleTree.consistencyProof(from: 0, to: 0, source: store) == [])
        #expect(try MerkleTree.consistencyProof(from: 8, to: 8, source: store) == [])
        #expect(try MerkleTree.consistencyProof(from: 3, to: 3, source: store) == [])
    }
}
