import LedgerCrypto

/// RFC 9162 §2.1 Merkle Tree Hash, inclusion and consistency proofs over stored perfect subtrees.
///
/// Generation reads O(log n) nodes from a `MerkleNodeSource`; it is iterative (no recursion) and
/// yields exactly the lists of the RFC's recursive PATH and PROOF definitions, in the same order.
/// Verification follows the RFC's iterative algorithms step by step and needs no source.
///
/// As in the RFC, a proof authenticates roots, not sizes: the sizes only select the shape of the path,
/// and neighbouring sizes can share a shape (the inclusion proof of leaf 0 in a tree of 3 leaves also
/// verifies against the same root when the size is given as 4). Take every (size, root) pair from an
/// authenticated (signed) tree head.
public enum MerkleTree {
    // MARK: - Roots

    /// MTH(D[0:size]), the root of the first `size` stored leaves (O(log n) lookups).
    public static func root(size: UInt64, source: some MerkleNodeSource) throws -> Digest32 {
        try checkStored(size, source)
        if size == 0 { return MerkleHash.empty }
        return try rangeHash(from: 0, to: size, source)
    }

    // MARK: - Inclusion (RFC 9162 §2.1.3)

    /// PATH(index, D[0:size]) (RFC 9162 §2.1.3.1): the audit path, sibling of the leaf first, root's child last.
    public static func inclusionProof(index: UInt64, size: UInt64, source: some MerkleNodeSource) throws -> [Digest32] {
        guard index < size else { throw MerkleError.indexOutOfRange(index: index, size: size) }
        try checkStored(size, source)
        var proof: [Digest32] = []
        proof.reserveCapacity(65)
        try appendPath(level: 0, index: index, size: size, source, into: &proof)
        return proof
    }

    /// RFC 9162 §2.1.3.2: true when `proof` shows leaf hash `leaf` at `index` in the tree of `size` with `root`.
    public static func verifyInclusion(leaf: Digest32, index: UInt64, size: UInt64, proof: [Digest32], root: Digest32) -> Bool {
        // 1. Fail if leaf_index >= tree_size.
        guard index < size else { return false }
        // 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
        var fn = index
        var sn = size - 1
        var r = leaf
        // 4. For each p in inclusion_path:
        for p in proof {
            // a. If sn is 0, fail.
            if sn == 0 { return false }
            // b. If LSB(fn) is set or fn == sn: r = HASH(0x01 || p || r), then, if LSB(fn) is not set,
            //    right-shift fn and sn until LSB(fn) is set or fn is 0. Otherwise r = HASH(0x01 || r || p).
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleHash.node(r, p)
            }
            // c. Right-shift fn and sn once.
            fn >>= 1
            sn >>= 1
        }
        // 5. Succeed only if sn is 0 and r equals root_hash.
        return sn == 0 && r == root
    }

    // MARK: - Consistency (RFC 9162 §2.1.4)

    /// PROOF(from, D[0:to]) (RFC 9162 §2.1.4.1) that the tree of size `from` is a prefix of the tree of size `to`.
    ///
    /// The RFC defines PROOF for 0 < from < to. For `from == to` and for `from == 0` there is nothing to
    /// prove and the proof is empty (SUBPROOF(m, D[m], true) = {} in the RFC); `verifyConsistency` accepts
    /// exactly these empty proofs.
    public static func consistencyProof(from: UInt64, to: UInt64, source: some MerkleNodeSource) throws -> [Digest32] {
        guard from <= to else { throw MerkleError.sizesOutOfOrder(from: from, to: to) }
        try checkStored(to, source)
        if from == 0 || from == to { return [] }
        // The old tree's rightmost perfect subtree, (level, index), ends at leaf `from`. The proof is that
        // node (omitted when it is the whole old tree, i.e. `from` is a power of two: the verifier holds
        // it as the old root) followed by its audit path in the new tree.
        let level = from.trailingZeroBitCount
        let index = (from - 1) >> UInt64(level)
        var proof: [Digest32] = []
        proof.reserveCapacity(66)
        if index != 0 {
            proof.append(try source.node(level: level, index: index))
        }
        try appendPath(level: level, index: index, size: to, source, into: &proof)
        return proof
    }

    /// RFC 9162 §2.1.4.2: true when `proof` shows the tree (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`).
    ///
    /// The RFC's algorithm covers 0 < from < to and is followed exactly. Outside that range the RFC
    /// defines no proof, so this function decides, consistently with `consistencyProof`:
    /// - `from > to`: invalid.
    /// - `from == to`: valid only with an empty proof and `fromRoot == toRoot`.
    /// - `from == 0`: the empty tree is a prefix of every tree; valid only with an empty proof and
    ///   `fromRoot == MerkleHash.empty` (MTH({}) of RFC 9162 §2.1.1). Nothing is then proven about `toRoot`.
    public static func verifyConsistency(from first: UInt64, to second: UInt64, fromRoot: Digest32, toRoot: Digest32, proof: [Digest32]) -> Bool {
        guard first <= second else { return false }
        if first == 0 {
            return proof.isEmpty && fromRoot == MerkleHash.empty && (second != 0 || toRoot == fromRoot)
        }
        if first == second {
            return proof.isEmpty && fromRoot == toRoot
        }
        // 1. If consistency_path is empty, fail.
        if proof.isEmpty { return false }
        // 2. If first is an exact power of 2, prepend first_hash to consistency_path
        //    (done virtually: element 0 is then `fromRoot`, element j is proof[j - 1]).
        let prepended = first & (first - 1) == 0
        let offset = prepended ? 1 : 0
        let count = proof.count + offset
        // 3. fn = first - 1, sn = second - 1.
        var fn = first - 1
        var sn = second - 1
        // 4. While LSB(fn) is set, right-shift fn and sn.
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        // 5. fr = sr = the first value of consistency_path.
        var fr = prepended ? fromRoot : proof[0]
        var sr = fr
        // 6. For each subsequent value c:
        var j = 1
        while j < count {
            let c = proof[j - offset]
            // a. If sn is 0, fail.
            if sn == 0 { return false }
            // b. If LSB(fn) is set or fn == sn: fr = HASH(0x01 || c || fr), sr = HASH(0x01 || c || sr), then,
            //    if LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
            //    Otherwise sr = HASH(0x01 || sr || c).
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            // c. Right-shift fn and sn once.
            fn >>= 1
            sn >>= 1
            j += 1
        }
        // 7. Succeed only if fr == first_hash, sr == second_hash and sn == 0.
        return sn == 0 && fr == fromRoot && sr == toRoot
    }

    // MARK: - Internals

    /// Throws when the source knows its size and `size` exceeds it.
    private static func checkStored(_ size: UInt64, _ source: some MerkleNodeSource) throws {
        if let stored = source.storedSize, size > stored {
            throw MerkleError.sizeBeyondSource(size: size, stored: stored)
        }
    }

    /// MTH(D[lo:hi]) for 0 ≤ lo < hi, where lo is a multiple of the smallest power of two ≥ hi - lo
    /// (true of every subtree in the RFC's recursive split). Decomposes hi - lo into perfect aligned
    /// subtrees, largest first, and folds them from the right as the RFC's split does.
    private static func rangeHash(from lo: UInt64, to hi: UInt64, _ source: some MerkleNodeSource) throws -> Digest32 {
        var remaining = hi - lo
        var end = hi
        var level = remaining.trailingZeroBitCount
        end -= 1 << UInt64(level)
        var acc = try source.node(level: level, index: end >> UInt64(level))
        remaining &= remaining - 1
        while remaining != 0 {
            level = remaining.trailingZeroBitCount
            end -= 1 << UInt64(level)
            acc = MerkleHash.node(try source.node(level: level, index: end >> UInt64(level)), acc)
            remaining &= remaining - 1
        }
        return acc
    }

    /// Appends the audit path of the perfect node (level, index) within the tree of `size` leaves,
    /// lowest sibling first. For level 0 this is PATH(index, D[0:size]).
    private static func appendPath(level: Int, index: UInt64, size: UInt64, _ source: some MerkleNodeSource, into proof: inout [Digest32]) throws {
        let shift = UInt64(level)
        // The last (possibly partial) node at this level; below the highest bit where `index` and `last`
        // differ, every sibling is perfect; at that bit the sibling is the partial right edge.
        let last = (size - 1) >> shift
        let split = UInt64.bitWidth - (index ^ last).leadingZeroBitCount
        var l = 0
        while l + 1 < split {
            proof.append(try source.node(level: level + l, index: (index >> UInt64(l)) ^ 1))
            l += 1
        }
        if split > 0 {
            let sibling = (index >> UInt64(split - 1)) ^ 1
            proof.append(try rangeHash(from: sibling << (UInt64(split - 1) + shift), to: size, source))
        }
        // Above `split` the node lies on the right edge: it has a (perfect) left sibling exactly where
        // its index bit is 1, and no sibling otherwise (the RFC tree skips that level).
        var rest = index >> UInt64(split)
        l = split
        while rest != 0 {
            if rest & 1 == 1 {
                proof.append(try source.node(level: level + l, index: rest ^ 1))
            }
            rest >>= 1
            l += 1
        }
    }
}
