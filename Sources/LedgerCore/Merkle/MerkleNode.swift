import LedgerCrypto

/// One perfect subtree: the hash of leaves [index << level, (index + 1) << level).
public struct MerkleNode: Sendable, Equatable, Hashable {
    /// Height above the leaves; 0 is a leaf hash.
    public var level: Int
    /// Position among the nodes of the same level, counted from the left.
    public var index: UInt64
    /// The subtree's Merkle Tree Hash.
    public var hash: Digest32

    /// A node at `level` and `index` with `hash`.
    public init(level: Int, index: UInt64, hash: Digest32) {
        self.level = level
        self.index = index
        self.hash = hash
    }
}
