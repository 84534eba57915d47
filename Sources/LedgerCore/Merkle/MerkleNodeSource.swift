import LedgerCrypto

/// Storage of the perfect subtrees of one append-only tree, from which any root or proof is computed.
///
/// A source keeps the hash of every complete, aligned subtree: for each `level` the nodes covering
/// leaves `[index << level, (index + 1) << level)` for every such range that lies within the
/// stored leaves. Level 0 holds the leaf hashes. A root or proof then costs O(log n) lookups.
public protocol MerkleNodeSource {
    /// The hash of the perfect subtree covering leaves [index << level, (index + 1) << level).
    /// Throws (for example `MerkleError.missingNode`) when that node is not stored.
    func node(level: Int, index: UInt64) throws -> Digest32

    /// The number of leaves stored, when the source knows it; nil leaves the check to `node(level:index:)`.
    var storedSize: UInt64? { get }
}

extension MerkleNodeSource {
    /// Unknown by default: requests beyond the stored tree then fail in `node(level:index:)`.
    public var storedSize: UInt64? { nil }
}
