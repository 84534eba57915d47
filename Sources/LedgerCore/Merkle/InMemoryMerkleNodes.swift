import LedgerCrypto

/// An in-memory `MerkleNodeSource` keeping every perfect node in one array per level (tests, small tools).
public struct InMemoryMerkleNodes: MerkleNodeSource, Sendable {
    /// levels[l][i] is the node covering leaves [i << l, (i + 1) << l).
    private var levels: [[Digest32]] = []
    /// The append state, kept in step with `levels`.
    private var frontier = MerkleFrontier()

    /// An empty tree.
    public init() {}

    /// The number of leaves appended.
    public var size: UInt64 { frontier.size }

    /// The root of the whole stored tree.
    public var root: Digest32 { frontier.root }

    /// The number of leaves stored (always known here).
    public var storedSize: UInt64? { frontier.size }

    /// Appends the leaf hash of `leafBytes` (SHA-256(0x00 ‖ bytes)).
    public mutating func append<C: RawBytes>(leafBytes: C) {
        append(leaf: MerkleHash.leaf(leafBytes))
    }

    /// Appends an already computed leaf hash, storing every node it completes.
    public mutating func append(leaf: Digest32) {
        Self.append(leaf, to: &frontier, storing: &levels)
    }

    /// The stored node at (level, index); throws `MerkleError.missingNode` if it is not complete yet.
    public func node(level: Int, index: UInt64) throws -> Digest32 {
        guard level >= 0, level < levels.count, index < UInt64(levels[level].count) else {
            throw MerkleError.missingNode(level: level, index: index)
        }
        return levels[level][Int(index)]
    }

    /// Separate inout parameters keep the frontier and the level arrays uniquely referenced (no copies).
    private static func append(_ leaf: Digest32, to frontier: inout MerkleFrontier, storing levels: inout [[Digest32]]) {
        frontier.append(leaf: leaf) { node in
            if node.level == levels.count { levels.append([]) }
            levels[node.level].append(node.hash)
        }
    }
}
