import LedgerCore
import LedgerCrypto
import Testing

/// MerkleTree cross-checked against the RFC's recursive definitions (MerkleReference).
@Suite("Merkle tree against the RFC reference")
struct MerkleReferenceTests {
    @Test("root of every size 1...200", arguments: 1...200)
    func rootMatchesReference(size: Int) throws {
        let expected = MerkleReference.mth(MerkleFixtures.largeLeaves[0..<size])
        // A prefix of a bigger stored tree, and a store of exactly `size` leaves.
        #expect(try MerkleTree.root(size: UInt64(size), source: MerkleFixtures.largeStore) == expected)
        let exact = MerkleFixtures.store(MerkleFixtures.largeLeaves[0..<size])
        #expect(exact.root == expected)
        #expect(try MerkleTree.root(size: UInt64(size), source: exact) == expected)
    }

    @Test("all inclusion proofs for sizes 1...64", arguments: 1...64)
    func inclusionProofsMatchReference(size: Int) throws {
        let leaves = MerkleFixtures.largeLeaves[0..<size]
        let root = MerkleReference.mth(leaves)
        let exact = MerkleFixtures.store(leaves)
        for index in 0..<size {
            let expected = MerkleReference.path(index, leaves)
            let proof = try MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(size), source: MerkleFixtures.largeStore)
            #expect(proof == expected, "index \(index), size \(size)")
            #expect(try MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(size), source: exact) == expected)
            #expect(MerkleTree.verifyInclusion(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: proof, root: root))
        }
    }

    @Test("all consistency proofs for sizes 1...64", arguments: 1...64)
    func consistencyProofsMatchReference(to: Int) throws {
        let toRoot = MerkleReference.mth(MerkleFixtures.largeLeaves[0..<to])
        let exact = MerkleFixtures.store(MerkleFixtures.largeLeaves[0..<to])
        for from in 0...to {
            // The RFC defines PROOF(m, D_n) for 0 < m < n; m == n gives SUBPROOF(n, D_n, true) = {}.
            let expected = from == 0 ? [] : MerkleReference.proof(from, MerkleFixtures.largeLeaves[0..<to])
            let proof = try MerkleTree.consistencyProof(from: UInt64(from), to: UInt64(to), source: MerkleFixtures.largeStore)
            #expect(proof == expected, "\(from) -> \(to)")
            #expect(try MerkleTree.consistencyProof(from: UInt64(from), to: UInt64(to), source: exact) == expected)
            let fromRoot = MerkleReference.mth(MerkleFixtures.largeLeaves[0..<from])
            #expect(MerkleTree.verifyConsistency(from: UInt64(from), to: UInt64(to), fromRoot: fromRoot, toRoot: toRoot, proof: proof), "\(from) -> \(to)")
        }
    }

    @Test("randomized sizes up to 10,000")
    func randomizedLargeTrees() throws {
        var rng = SplitMix64(seed: 0x1ede_9e12)
        for _ in 0..<24 {
            let size = Int.random(in: 1...MerkleFixtures.largeLeaves.count, using: &rng)
            let leaves = MerkleFixtures.largeLeaves[0..<size]
            let root = MerkleReference.mth(leaves)
            #expect(try MerkleTree.root(size: UInt64(size), source: MerkleFixtures.largeStore) == root, "size \(size)")

            let index = Int.random(in: 0..<size, using: &rng)
            let path = try MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(size), source: MerkleFixtures.largeStore)
            #expect(path == MerkleReference.path(index, leaves), "index \(index), size \(size)")
            #expect(MerkleTree.verifyInclusion(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: path, root: root))
            if !path.isEmpty {
                let bit = Int.random(in: 0..<256, using: &rng)
                var bad = path
                let k = Int.random(in: 0..<bad.count, using: &rng)
                bad[k] = MerkleFixtures.flipping(bad[k], bit: bit)
                #expect(!MerkleTree.verifyInclusion(leaf: leaves[index], index: UInt64(index), size: UInt64(size), proof: bad, root: root))
            }

            let from = Int.random(in: 1...size, using: &rng)
            let proof = try MerkleTree.consistencyProof(from: UInt64(from), to: UInt64(size), source: MerkleFixtures.largeStore)
            #expect(proof == MerkleReference.proof(from, leaves), "\(from) -> \(size)")
            let fromRoot = MerkleReference.mth(MerkleFixtures.largeLeaves[0..<from])
            #expect(MerkleTree.verifyConsistency(from: UInt64(from), to: UInt64(size), fromRoot: fromRoot, toRoot: root, proof: proof))
            if !proof.isEmpty {
                var bad = proof
                let k = Int.random(in: 0..<bad.count, using: &rng)
                bad[k] = MerkleFixtures.flipping(bad[k], bit: Int.random(in: 0..<256, using: &rng))
                #expect(!MerkleTree.verifyConsistency(from: UInt64(from), to: UInt64(size), fromRoot: fromRoot, toRoot: root, proof: bad))
            }
        }
        // The whole stored tree, and the largest power of two inside it.
        #expect(try MerkleTree.root(size: 10_000, source: MerkleFixtures.largeStore) == MerkleReference.mth(MerkleFixtures.largeLeaves[...]))
        #expect(MerkleFixtures.largeStore.root == MerkleReference.mth(MerkleFixtures.largeLeaves[...]))
        #expect(try MerkleTree.root(size: 8192, source: MerkleFixtures.largeStore) == MerkleReference.mth(MerkleFixtures.largeLeaves[0..<8192]))
    }

    @Test("proof lengths stay logarithmic")
    func proofLengths() throws {
        for size in [1, 2, 3, 1000, 4096, 4097, 10_000] as [UInt64] {
            let ceilLog2 = size <= 1 ? 0 : 64 - (size - 1).leadingZeroBitCount
            for index in [0, size / 2, size - 1] {
                let proof = try MerkleTree.inclusionProof(index: index, size: size, source: MerkleFixtures.largeStore)
                #expect(proof.count <= ceilLog2)
            }
            for from in [1, size / 3, size - 1] where from > 0 && from < size {
                let proof = try MerkleTree.consistencyProof(from: from, to: size, source: MerkleFixtures.largeStore)
                #expect(proof.count <= ceilLog2 + 1)
            }
        }
    }
}
