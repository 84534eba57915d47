/// A 32-byte hash value (SHA-256 output), stored inline without allocation.
public struct Digest32: Hashable, Sendable, Comparable {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    /// The all-zero value.
    public static let zero = Digest32(w0: 0, w1: 0, w2: 0, w3: 0)

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Builds a digest from exactly 32 bytes; nil otherwise. Inlinable, so that callers in other
    /// modules get a copy specialized for their collection (`Data`, `[UInt8]`) instead of the
    /// generic one, which cost more than the SQLite read of a Merkle node.
    @inlinable
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        if let d = bytes.withContiguousStorageIfAvailable({ Digest32(raw: UnsafeRawBufferPointer($0)) }) {
            guard let d else { return nil }
            self = d
            return
        }
        guard bytes.count == 32 else { return nil }
        var value = Digest32.zero
        withUnsafeMutableBytes(of: &value) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        self = value
    }

    /// Builds a digest from exactly 32 raw bytes; nil otherwise.
    @inline(__always)
    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count == 32 else { return nil }
        var value = Digest32.zero
        Swift.withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: raw) }
        self = value
    }

    /// Parses 64 lowercase hex digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 32 else { return nil }
        self.init(bytes: bytes)
    }

    /// Raw read access to the 32 bytes.
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try Swift.withUnsafeBytes(of: &copy, body)
    }

    /// The 32 bytes as an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Lowercase hex.
    public var hex: String { withUnsafeBytes { Hex.encode($0) } }

    /// Standard base64 with padding.
    public var base64: String { withUnsafeBytes { Base64.encode($0) } }

    public static func < (lhs: Digest32, rhs: Digest32) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
