import LedgerCrypto

/// The compact append state of a tree: the roots of the perfect subtrees along its right edge.
///
/// For a tree of `size` leaves there is one perfect subtree per set bit of `size`, largest (leftmost)
/// first, so at most 64 hashes. Appending a leaf merges equal-height subtrees like a binary counter:
/// O(log n) hashes worst case, O(1) amortised, and no heap allocation (the storage is reserved once).
public struct MerkleFrontier: Sendable, Equatable {
    /// The number of leaves appended so far.
    public private(set) var size: UInt64
    /// Right-edge perfect subtree roots, largest first; `hashes.count == size.nonzeroBitCount`.
    private var hashes: [Digest32]

    /// The frontier of the empty tree.
    public init() {
        size = 0
        hashes = []
        hashes.reserveCapacity(64)
    }

    /// Rebuilds the frontier of the first `size` leaves from stored nodes (at most 64 lookups).
    public init(size: UInt64, source: some MerkleNodeSource) throws {
        if let stored = source.storedSize, size > stored {
            throw MerkleError.sizeBeyondSource(size: size, stored: stored)
        }
        var hashes: [Digest32] = []
        hashes.reserveCapacity(64)
        var start: UInt64 = 0
        var level = 63
        while level >= 0 {
            if (size >> UInt64(level)) & 1 == 1 {
                hashes.append(try source.node(level: level, index: start >> UInt64(level)))
                start += 1 << UInt64(level)
            }
            level -= 1
        }
        self.size = size
        self.hashes = hashes
    }

    /// The right-edge perfect subtrees (largest first) whose fold is the current root.
    public var nodes: [MerkleNode] {
        var out: [MerkleNode] = []
        out.reserveCapacity(hashes.count)
        var start: UInt64 = 0
        var i = 0
        var level = 63
        while level >= 0 {
            if (size >> UInt64(level)) & 1 == 1 {
                out.append(MerkleNode(level: level, index: start >> UInt64(level), hash: hashes[i]))
                start += 1 << UInt64(level)
                i += 1
            }
            level -= 1
        }
        return out
    }

    /// Appends a leaf hash and hands every newly completed perfect node to `emit`, lowest level first:
    /// the leaf itself (level 0), then each parent this append completes. Allocation-free.
    public mutating func append(leaf: Digest32, emit: (MerkleNode) -> Void) {
        precondition(size < UInt64.max, "Merkle tree is full")
        var hash = leaf
        var index = size
        var level = 0
        emit(MerkleNode(level: 0, index: index, hash: hash))
        // Each trailing one bit of the old size is a left sibling waiting for this subtree.
        while index & 1 == 1 {
            hash = MerkleHash.node(hashes.removeLast(), hash)
            index >>= 1
            level += 1
            emit(MerkleNode(level: level, index: index, hash: hash))
        }
        hashes.append(hash)
        size += 1
    }

    /// Appends a leaf hash and returns every newly completed perfect node, lowest level first.
    @discardableResult
    public mutating func append(leaf: Digest32) -> [MerkleNode] {
        var out: [MerkleNode] = []
        out.reserveCapacity((~size).trailingZeroBitCount + 1)
        append(leaf: leaf) { out.append($0) }
        return out
    }

    /// The Merkle Tree Hash of the current tree (`MerkleHash.empty` for size 0).
    public var root: Digest32 {
        guard var root = hashes.last else { return MerkleHash.empty }
        var i = hashes.count - 1
        while i > 0 {
            i -= 1
            root = MerkleHash.node(hashes[i], root)
        }
        return root
    }
}
