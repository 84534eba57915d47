import LedgerCore
import LedgerCrypto
import Testing

/// Verifiers must reject every altered proof, index, size or root.
@Suite("Merkle verifiers reject tampering")
struct MerkleNegativeTests {
    /// Reference roots of sizes 0...64 of the sample leaves.
    static let roots: [Digest32] = (0...64).map { MerkleReference.mth(MerkleFixtures.largeLeaves[0..<$0]) }

    /// One bit flipped per byte position (bit j % 8 of byte j), so every byte of an element is hit.
    static let flipBits: [Int] = (0..<32).map { $0 * 8 + $0 % 8 }

    @Test("inclusion proofs, sizes 1...32", arguments: 1...32)
    func inclusionTampering(size: Int) throws {
        let n = UInt64(size)
        let root = Self.roots[size]
        for index in 0..<size {
            let i = UInt64(index)
            let leaf = MerkleFixtures.largeLeaves[index]
            let proof = try MerkleTree.inclusionProof(index: i, size: n, source: MerkleFixtures.largeStore)
            #expect(MerkleTree.verifyInclusion(leaf: leaf, index: i, size: n, proof: proof, root: root))
            func rejects(
                _ what: String, leaf l: Digest32 = leaf, index x: UInt64 = i, size s: UInt64 = n,
                proof p: [Digest32] = proof, root r: Digest32 = root
            ) {
                #expect(!MerkleTree.verifyInclusion(leaf: l, index: x, size: s, proof: p, root: r), "\(what): index \(index), size \(size)")
            }
            // A flipped bit in any element.
            for k in proof.indices {
                for bit in Self.flipBits {
                    var bad = proof
                    bad[k] = MerkleFixtures.flipping(bad[k], bit: bit)
                    rejects("element \(k) bit \(bit)", proof: bad)
                }
            }
            // A wrong index, including out-of-range ones.
            for other in 0...size + 1 where other != index {
                rejects("index \(other)", index: UInt64(other))
            }
            rejects("index max", index: .max)
            // A wrong size, checked against that size's true root, plus the published probes.
            for other in 0...64 where other != size {
                rejects("size \(other)", size: UInt64(other), root: Self.roots[other])
            }
            rejects("size * 2", size: n * 2)
            rejects("size / 2", size: n / 2)
            rejects("size max", size: .max)
            // Truncated and extended proofs.
            if !proof.isEmpty {
                rejects("last element dropped", proof: Array(proof.dropLast()))
                rejects("first element dropped", proof: Array(proof.dropFirst()))
            }
            for extra in [root, leaf, Digest32.zero, MerkleHash.empty] + proof.suffix(1) {
                rejects("extended at end", proof: proof + [extra])
                rejects("extended at start", proof: [extra] + proof)
            }
            // A wrong leaf or root.
            rejects("wrong leaf", leaf: MerkleFixtures.flipping(leaf, bit: 0))
            rejects("wrong root", root: MerkleFixtures.flipping(root, bit: 255))
            rejects("leaf as root", root: leaf == root ? MerkleFixtures.flipping(root, bit: 7) : leaf)
        }
    }

    @Test("consistency proofs, sizes 1...32", arguments: 1...32)
    func consistencyTampering(to: Int) throws {
        let n = UInt64(to)
        let toRoot = Self.roots[to]
        for from in 1..<max(to, 1) {
            let m = UInt64(from)
            let fromRoot = Self.roots[from]
            let proof = try MerkleTree.consistencyProof(from: m, to: n, source: MerkleFixtures.largeStore)
            #expect(MerkleTree.verifyConsistency(from: m, to: n, fromRoot: fromRoot, toRoot: toRoot, proof: proof))
            func rejects(
                _ what: String, from f: UInt64 = m, to t: UInt64 = n, fromRoot r1: Digest32 = fromRoot,
                toRoot r2: Digest32 = toRoot, proof p: [Digest32] = proof
            ) {
                #expect(!MerkleTree.verifyConsistency(from: f, to: t, fromRoot: r1, toRoot: r2, proof: p), "\(what): \(from) -> \(to)")
            }
            for k in proof.indices {
                for bit in Self.flipBits {
                    var bad = proof
                    bad[k] = MerkleFixtures.flipping(bad[k], bit: bit)
                    rejects("element \(k) bit \(bit)", proof: bad)
                }
            }
            // A wrong old size: with the original old root, and with that size's true root.
            for other in 0...to + 1 where other != from {
                rejects("from \(other)", from: UInt64(other))
                rejects("from \(other) with its root", from: UInt64(other), fromRoot: Self.roots[other])
            }
            // A wrong new size, checked against that size's true root.
            for other in 0...64 where other != to {
                rejects("to \(other) with its root", to: UInt64(other), toRoot: Self.roots[other])
            }
            // With the original new root only the published probes are expected to fail: RFC 9162 never
            // hashes the sizes, they only shape the path, so e.g. the proof 28 -> 32 also verifies as
            // 28 -> 31 against root(32). Sizes are bound to roots by the signed tree head.
            rejects("to * 2", to: n * 2)
            rejects("to / 2", to: n / 2)
            rejects("to max", to: .max)
            // Wrong or swapped roots.
            rejects("wrong old root", fromRoot: MerkleFixtures.flipping(fromRoot, bit: 100))
            rejects("wrong new root", toRoot: MerkleFixtures.flipping(toRoot, bit: 100))
            rejects("swapped roots", fromRoot: toRoot, toRoot: fromRoot)
            // Empty, truncated and extended proofs.
            rejects("empty proof", proof: [])
            rejects("last element dropped", proof: Array(proof.dropLast()))
            rejects("first element dropped", proof: Array(proof.dropFirst()))
            for extra in [fromRoot, toRoot, Digest32.zero, MerkleHash.empty, proof[0], proof[proof.count - 1]] {
                rejects("extended at end", proof: proof + [extra])
                rejects("extended at start", proof: [extra] + proof)
            }
        }
    }

    @Test func trivialConsistencyCases() {
        let r3 = Self.roots[3]
        let r5 = Self.roots[5]
        let empty = MerkleHash.empty
        // from == to: only the empty proof with equal roots.
        #expect(MerkleTree.verifyConsistency(from: 5, to: 5, fromRoot: r5, toRoot: r5, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 5, to: 5, fromRoot: r5, toRoot: r3, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 5, to: 5, fromRoot: r5, toRoot: r5, proof: [r5]))
        #expect(!MerkleTree.verifyConsistency(from: 5, to: 5, fromRoot: r5, toRoot: r5, proof: [empty]))
        // from == 0: only the empty proof from the empty-tree root.
        #expect(MerkleTree.verifyConsistency(from: 0, to: 0, fromRoot: empty, toRoot: empty, proof: []))
        #expect(MerkleTree.verifyConsistency(from: 0, to: 5, fromRoot: empty, toRoot: r5, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 0, to: 5, fromRoot: empty, toRoot: r5, proof: [empty]))
        #expect(!MerkleTree.verifyConsistency(from: 0, to: 5, fromRoot: empty, toRoot: r5, proof: [r5]))
        #expect(!MerkleTree.verifyConsistency(from: 0, to: 5, fromRoot: r3, toRoot: r5, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 0, to: 0, fromRoot: empty, toRoot: r5, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 0, to: 0, fromRoot: r5, toRoot: r5, proof: []))
        // from > to never verifies.
        #expect(!MerkleTree.verifyConsistency(from: 5, to: 3, fromRoot: r5, toRoot: r3, proof: []))
        #expect(!MerkleTree.verifyConsistency(from: 1, to: 0, fromRoot: empty, toRoot: empty, proof: []))
        // 0 < from < to with an empty proof fails (RFC 9162 §2.1.4.2 step 1).
        #expect(!MerkleTree.verifyConsistency(from: 3, to: 5, fromRoot: r3, toRoot: r5, proof: []))
    }

    @Test func trivialInclusionCases() {
        let leaf = MerkleFixtures.largeLeaves[0]
        // Size 0 has no leaves; index >= size fails (RFC 9162 §2.1.3.2 step 1).
        #expect(!MerkleTree.verifyInclusion(leaf: leaf, index: 0, size: 0, proof: [], root: MerkleHash.empty))
        #expect(!MerkleTree.verifyInclusion(leaf: leaf, index: 0, size: 0, proof: [], root: leaf))
        #expect(!MerkleTree.verifyInclusion(leaf: leaf, index: 1, size: 1, proof: [], root: leaf))
        // A one-leaf tree: the root is the leaf hash and the proof is empty.
        #expect(MerkleTree.verifyInclusion(leaf: leaf, index: 0, size: 1, proof: [], root: leaf))
        #expect(!MerkleTree.verifyInclusion(leaf: leaf, index: 0, size: 1, proof: [], root: MerkleHash.empty))
        #expect(!MerkleTree.verifyInclusion(leaf: leaf, index: 0, size: 1, proof: [leaf], root: leaf))
    }

    @Test func hugeProofsAreRejectedQuickly() {
        // The RFC loop stops as soon as sn reaches 0, so a long proof costs O(log n) hashes.
        let junk = [Digest32](repeating: .zero, count: 1_000_000)
        #expect(!MerkleTree.verifyInclusion(leaf: MerkleFixtures.largeLeaves[0], index: 0, size: 1000, proof: junk, root: Self.roots[64]))
        #expect(!MerkleTree.verifyConsistency(from: 3, to: 1000, fromRoot: Self.roots[3], toRoot: Self.roots[64], proof: junk))
    }
}
