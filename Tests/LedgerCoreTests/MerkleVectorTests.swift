import LedgerCore
import LedgerCrypto
import Testing

/// The Certificate Transparency reference vectors (Vectors/rfc6962-merkle.json).
@Suite("Merkle published vectors")
struct MerkleVectorTests {
    let vectors = MerkleVectors.shared

    /// The 8 reference leaves appended in order.
    var store: InMemoryMerkleNodes {
        var store = InMemoryMerkleNodes()
        for input in vectors.leafInputs { store.append(leafBytes: input) }
        return store
    }

    /// sha256SomeHash of transparency-dev/merkle proof/verify_test.go: an arbitrary wrong hash.
    let someHash = MerkleFixtures.digest("abacaba000000000000000000000000000000000000000000060061e00123456")

    @Test func vectorFileIsComplete() {
        #expect(vectors.leaves.count == 8)
        #expect(vectors.roots.map(\.size) == Array(1...8))
        #expect(vectors.nodes.map(\.count) == [8, 4, 2, 1])
        #expect(vectors.frontiers.count == 9)
        #expect(vectors.inclusion.count == 5)
        #expect(vectors.consistency.count == 5)
        #expect(!vectors.source.isEmpty)
    }

    @Test func emptyTreeRoot() throws {
        let expected = MerkleFixtures.digest(vectors.emptyRoot)
        #expect(MerkleHash.empty == expected)
        #expect(MerkleFrontier().root == expected)
        #expect(try MerkleTree.root(size: 0, source: InMemoryMerkleNodes()) == expected)
        #expect(try MerkleTree.root(size: 0, source: store) == expected)
    }

    @Test func leafHashes() {
        for (i, input) in vectors.leafInputs.enumerated() {
            let expected = MerkleFixtures.digest(vectors.nodes[0][i])
            #expect(MerkleHash.leaf(input) == expected, "leaf \(i)")
            #expect(input.withUnsafeBytes { MerkleHash.leaf($0) } == expected, "leaf \(i)")
        }
    }

    @Test func storedNodesAreThePublishedNodeHashes() throws {
        let store = store
        for (level, hashes) in vectors.nodes.enumerated() {
            for (index, hex) in hashes.enumerated() {
                #expect(try store.node(level: level, index: UInt64(index)) == MerkleFixtures.digest(hex), "node \(level).\(index)")
            }
        }
        // Nothing beyond the published complete subtrees is stored.
        #expect(throws: MerkleError.missingNode(level: 0, index: 8)) { try store.node(level: 0, index: 8) }
        #expect(throws: MerkleError.missingNode(level: 4, index: 0)) { try store.node(level: 4, index: 0) }
    }

    @Test func rootsForEverySize() throws {
        let full = store
        var frontier = MerkleFrontier()
        var growing = InMemoryMerkleNodes()
        for (i, input) in vectors.leafInputs.enumerated() {
            let size = UInt64(i + 1)
            let expected = vectors.root(size)
            frontier.append(leaf: MerkleHash.leaf(input))
            growing.append(leafBytes: input)
            #expect(frontier.root == expected, "frontier, size \(size)")
            #expect(growing.root == expected, "store root, size \(size)")
            #expect(try MerkleTree.root(size: size, source: growing) == expected, "exact store, size \(size)")
            #expect(try MerkleTree.root(size: size, source: full) == expected, "8-leaf store, size \(size)")
        }
    }

    @Test func frontiersAreThePublishedCompactTrees() throws {
        var frontier = MerkleFrontier()
        let full = store
        for size in 0...8 {
            if size > 0 { frontier.append(leaf: MerkleHash.leaf(vectors.leafInputs[size - 1])) }
            let expected = vectors.frontiers[size].map { pair in
                MerkleNode(level: pair[0], index: UInt64(pair[1]), hash: MerkleFixtures.digest(vectors.nodes[pair[0]][pair[1]]))
            }
            #expect(frontier.nodes == expected, "size \(size)")
            #expect(try MerkleFrontier(size: UInt64(size), source: full) == frontier, "rebuilt, size \(size)")
        }
    }

    @Test func inclusionProofs() throws {
        let store = store
        for vector in vectors.inclusion {
            let index = vector.leaf - 1
            let expected = vector.path.map(MerkleFixtures.digest)
            let proof = try MerkleTree.inclusionProof(index: index, size: vector.size, source: store)
            #expect(proof == expected, "leaf index \(index), size \(vector.size)")
            let leaf = MerkleHash.leaf(vectors.leafInputs[Int(index)])
            #expect(MerkleTree.verifyInclusion(leaf: leaf, index: index, size: vector.size, proof: expected, root: vectors.root(vector.size)))
        }
    }

    /// The corruption probes of corruptInclusionProof in transparency-dev/merkle proof/verify_test.go.
    @Test func inclusionProofCorruptionsAreRejected() {
        for vector in vectors.inclusion {
            let index = vector.leaf - 1
            let size = vector.size
            let proof = vector.path.map(MerkleFixtures.digest)
            let root = vectors.root(size)
            let leaf = MerkleHash.leaf(vectors.leafInputs[Int(index)])
            var probes: [(String, UInt64, UInt64, Digest32, Digest32, [Digest32])] = [
                ("leafIndex - 1", index &- 1, size, root, leaf, proof),
                ("leafIndex + 1", index + 1, size, root, leaf, proof),
                ("leafIndex ^ 2", index ^ 2, size, root, leaf, proof),
                ("treeSize * 2", index, size * 2, root, leaf, proof),
                ("treeSize / 2", index, size / 2, root, leaf, proof),
                ("wrong leaf", index, size, root, MerkleHash.leaf(Array("WrongLeaf".utf8)), proof),
                ("empty root", index, size, MerkleHash.empty, leaf, proof),
                ("random root", index, size, someHash, leaf, proof),
                ("trailing garbage", index, size, root, leaf, proof + [Digest32.zero]),
                ("trailing root", index, size, root, leaf, proof + [root]),
                ("preceding garbage", index, size, root, leaf, [Digest32.zero] + proof),
                ("preceding root", index, size, root, leaf, [root] + proof),
            ]
            for i in proof.indices {
                var wrong = proof
                wrong[i] = MerkleFixtures.flipping(wrong[i], bit: 3)  // Go: wrongProof[i][0] ^= 8
                probes.append(("modified proof[\(i)] bit 3", index, size, root, leaf, wrong))
            }
            if !proof.isEmpty {
                probes.append(("removed component", index, size, root, leaf, Array(proof.dropLast())))
            }
            if proof.count > 1 {
                probes.append(("inserted component", index, size, root, leaf, [proof[0], someHash] + proof.dropFirst()))
            }
            for (desc, i, n, r, l, p) in probes {
                #expect(!MerkleTree.verifyInclusion(leaf: l, index: i, size: n, proof: p, root: r), "\(desc) for leaf \(index), size \(size)")
            }
        }
    }

    @Test func consistencyProofs() throws {
        let store = store
        for vector in vectors.consistency {
            let expected = vector.proof.map(MerkleFixtures.digest)
            let proof = try MerkleTree.consistencyProof(from: vector.from, to: vector.to, source: store)
            #expect(proof == expected, "\(vector.from) -> \(vector.to)")
            #expect(
                MerkleTree.verifyConsistency(
                    from: vector.from, to: vector.to,
                    fromRoot: vectors.root(vector.from), toRoot: vectors.root(vector.to), proof: expected))
        }
    }

    /// The corruption probes of corruptConsistencyProof in transparency-dev/merkle proof/verify_test.go.
    @Test func consistencyProofCorruptionsAreRejected() {
        for vector in vectors.consistency where !vector.proof.isEmpty {
            let (size1, size2) = (vector.from, vector.to)
            let proof = vector.proof.map(MerkleFixtures.digest)
            let (root1, root2) = (vectors.root(size1), vectors.root(size2))
            var probes: [(String, UInt64, UInt64, Digest32, Digest32, [Digest32])] = [
                ("size1 - 1", size1 - 1, size2, root1, root2, proof),
                ("size1 + 1", size1 + 1, size2, root1, root2, proof),
                ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
                ("size2 * 2", size1, size2 * 2, root1, root2, proof),
                ("size2 / 2", size1, size2 / 2, root1, root2, proof),
                ("wrong root1", size1, size2, someHash, root2, proof),
                ("wrong root2", size1, size2, root1, someHash, proof),
                ("swapped roots", size1, size2, root2, root1, proof),
                ("empty proof", size1, size2, root1, root2, []),
                ("trailing garbage", size1, size2, root1, root2, proof + [Digest32.zero]),
                ("trailing root1", size1, size2, root1, root2, proof + [root1]),
                ("trailing root2", size1, size2, root1, root2, proof + [root2]),
                ("preceding garbage", size1, size2, root1, root2, [Digest32.zero] + proof),
                ("preceding root1", size1, size2, root1, root2, [root1] + proof),
                ("preceding root2", size1, size2, root1, root2, [root2] + proof),
                ("preceding proof[0]", size1, size2, root1, root2, [proof[0]] + proof),
                ("truncated proof", size1, size2, root1, root2, Array(proof.dropLast())),
            ]
            for i in proof.indices {
                var wrong = proof
                wrong[i] = MerkleFixtures.flipping(wrong[i], bit: 4)  // Go: wrongProof[i][0] ^= 16
                probes.append(("modified proof[\(i)] bit 4", size1, size2, root1, root2, wrong))
            }
            for (desc, m, n, r1, r2, p) in probes {
                #expect(!MerkleTree.verifyConsistency(from: m, to: n, fromRoot: r1, toRoot: r2, proof: p), "\(desc) for \(size1) -> \(size2)")
            }
        }
    }
}
