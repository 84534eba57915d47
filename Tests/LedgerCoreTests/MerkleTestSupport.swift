import Foundation
import LedgerCore
import LedgerCrypto

// MARK: - Reference implementation (RFC 9162 §2.1, recursive, straight from the definitions)

/// The RFC's recursive definitions over an array of leaf hashes, with hashing done by plain
/// SHA-256 over concatenated bytes (independent of `MerkleHash` and `SHA256.hash(prefix:)`).
enum MerkleReference {
    /// SHA-256(0x00 ‖ data).
    static func leafHash(_ data: [UInt8]) -> Digest32 {
        SHA256.hash([0x00] + data)
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    static func nodeHash(_ left: Digest32, _ right: Digest32) -> Digest32 {
        SHA256.hash([0x01] + left.bytes + right.bytes)
    }

    /// The largest power of two smaller than n (n > 1).
    static func split(_ n: Int) -> Int {
        precondition(n > 1)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D_n) where D holds leaf hashes (MTH({d}) = leaf hash of d).
    static func mth(_ d: ArraySlice<Digest32>) -> Digest32 {
        let n = d.count
        if n == 0 { return SHA256.hash([UInt8]()) }
        if n == 1 { return d[d.startIndex] }
        let k = split(n)
        let mid = d.startIndex + k
        return nodeHash(mth(d[d.startIndex..<mid]), mth(d[mid..<d.endIndex]))
    }

    /// PATH(m, D_n), RFC 9162 §2.1.3.1.
    static func path(_ m: Int, _ d: ArraySlice<Digest32>) -> [Digest32] {
        let n = d.count
        precondition(m < n)
        if n == 1 { return [] }
        let k = split(n)
        let mid = d.startIndex + k
        if m < k {
            return path(m, d[d.startIndex..<mid]) + [mth(d[mid..<d.endIndex])]
        } else {
            return path(m - k, d[mid..<d.endIndex]) + [mth(d[d.startIndex..<mid])]
        }
    }

    /// PROOF(m, D_n) = SUBPROOF(m, D_n, true), RFC 9162 §2.1.4.1 (0 < m <= n).
    static func proof(_ m: Int, _ d: ArraySlice<Digest32>) -> [Digest32] {
        subproof(m, d, true)
    }

    /// SUBPROOF(m, D_n, b), RFC 9162 §2.1.4.1.
    static func subproof(_ m: Int, _ d: ArraySlice<Digest32>, _ b: Bool) -> [Digest32] {
        let n = d.count
        if m == n { return b ? [] : [mth(d)] }
        let k = split(n)
        let mid = d.startIndex + k
        if m <= k {
            return subproof(m, d[d.startIndex..<mid], b) + [mth(d[mid..<d.endIndex])]
        } else {
            return subproof(m - k, d[mid..<d.endIndex], false) + [mth(d[d.startIndex..<mid])]
        }
    }
}

// MARK: - Fixtures

/// Shared test data and helpers, namespaced to stay clear of other test files in this module.
enum MerkleFixtures {
    /// Deterministic leaf data: 8 little-endian bytes of i followed by a tag.
    static func leafData(_ i: Int) -> [UInt8] {
        withUnsafeBytes(of: UInt64(i).littleEndian) { Array($0) } + Array("leaf".utf8)
    }

    /// Reference leaf hashes of leafData(0..<n).
    static func leafHashes(_ n: Int) -> [Digest32] {
        (0..<n).map { MerkleReference.leafHash(leafData($0)) }
    }

    /// A store holding the given leaf hashes.
    static func store(_ leaves: some Sequence<Digest32>) -> InMemoryMerkleNodes {
        var store = InMemoryMerkleNodes()
        for leaf in leaves { store.append(leaf: leaf) }
        return store
    }

    /// 10,000 sample leaf hashes and a store of all of them, shared across tests.
    static let largeLeaves: [Digest32] = leafHashes(10_000)
    static let largeStore: InMemoryMerkleNodes = store(largeLeaves)

    /// Flips one bit of a digest.
    static func flipping(_ d: Digest32, bit: Int) -> Digest32 {
        var bytes = d.bytes
        bytes[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
        return Digest32(bytes: bytes)!
    }

    /// A digest from a fixed hex string (test constants only).
    static func digest(_ hex: String) -> Digest32 {
        guard let d = Digest32(hex: hex) else { fatalError("bad test hex \(hex)") }
        return d
    }
}

// MARK: - Published vectors

/// Tests/LedgerCoreTests/Vectors/rfc6962-merkle.json (see its "source" field).
struct MerkleVectors: Decodable, Sendable {
    struct Root: Decodable, Sendable {
        var size: UInt64
        var root: String
    }
    struct Inclusion: Decodable, Sendable {
        /// 1-based, as published.
        var leaf: UInt64
        var size: UInt64
        var path: [String]
    }
    struct Consistency: Decodable, Sendable {
        var from: UInt64
        var to: UInt64
        var proof: [String]
    }
    var source: [String]
    var leaves: [String]
    var emptyRoot: String
    var roots: [Root]
    var nodes: [[String]]
    var frontiers: [[[Int]]]
    var inclusion: [Inclusion]
    var consistency: [Consistency]

    /// Loaded once from the test bundle.
    static let shared: MerkleVectors = {
        guard let url = Bundle.module.url(forResource: "rfc6962-merkle", withExtension: "json", subdirectory: "Vectors")
        else { fatalError("Vectors/rfc6962-merkle.json missing from the test bundle") }
        do {
            return try JSONDecoder().decode(MerkleVectors.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot decode rfc6962-merkle.json: \(error)")
        }
    }()

    /// The raw leaf inputs.
    var leafInputs: [[UInt8]] { leaves.map { Hex.decode($0)! } }

    /// The published root of the tree of `size` leaves (size ≥ 1).
    func root(_ size: UInt64) -> Digest32 {
        MerkleFixtures.digest(roots.first { $0.size == size }!.root)
    }
}
