/// An invalid request to the Merkle tree functions; each case names the offending values.
public enum MerkleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A leaf index at or beyond the tree size.
    case indexOutOfRange(index: UInt64, size: UInt64)
    /// A consistency proof asked from a larger tree to a smaller one.
    case sizesOutOfOrder(from: UInt64, to: UInt64)
    /// A tree size larger than the source stores.
    case sizeBeyondSource(size: UInt64, stored: UInt64)
    /// A node the source does not hold (thrown by sources).
    case missingNode(level: Int, index: UInt64)

    /// A one-line explanation naming the bad values.
    public var description: String {
        switch self {
        case let .indexOutOfRange(index, size):
            return "Merkle leaf index \(index) is out of range for tree size \(size)"
        case let .sizesOutOfOrder(from, to):
            return "Merkle consistency proof from size \(from) to smaller size \(to)"
        case let .sizeBeyondSource(size, stored):
            return "Merkle tree size \(size) exceeds the \(stored) leaves stored"
        case let .missingNode(level, index):
            return "Merkle node at level \(level), index \(index) is not stored"
        }
    }
}
