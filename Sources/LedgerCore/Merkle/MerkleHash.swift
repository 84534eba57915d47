import LedgerCrypto

/// RFC 9162 §2.1.1 hashing: SHA-256 with domain separation between leaves (0x00) and nodes (0x01).
public enum MerkleHash {
    /// The leaf hash SHA-256(0x00 ‖ bytes).
    @inline(__always)
    public static func leaf(_ bytes: UnsafeRawBufferPointer) -> Digest32 {
        SHA256.hash(prefix: 0x00, bytes)
    }

    /// The leaf hash SHA-256(0x00 ‖ bytes) of a byte collection.
    public static func leaf<C: RawBytes>(_ bytes: C) -> Digest32 {
        bytes.withUnsafeBytes { leaf($0) }
    }

    /// The interior node hash SHA-256(0x01 ‖ left ‖ right).
    @inline(__always)
    public static func node(_ left: Digest32, _ right: Digest32) -> Digest32 {
        SHA256.hash(prefix: 0x01, left, right)
    }

    /// MTH({}) = SHA-256(""), the root of the empty tree.
    public static let empty: Digest32 = SHA256.hash(UnsafeRawBufferPointer(start: nil, count: 0))
}
