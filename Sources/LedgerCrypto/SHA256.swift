import CLedgerSodium

/// SHA-256 through libsodium.
public enum SHA256 {
    /// Hash of `bytes`.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest32 {
        Sodium.ensure()
        var out = Digest32.zero
        withUnsafeMutableBytes(of: &out) { o in
            _ = crypto_hash_sha256(
                o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!,
                UInt64(bytes.count))
        }
        return out
    }

    /// Hash of a byte collection.
    public static func hash<C: RawBytes>(_ bytes: C) -> Digest32 {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Hash of the UTF-8 bytes of `string`.
    public static func hash(utf8 string: String) -> Digest32 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Hash of a prefix byte followed by `bytes` (RFC 9162 leaf hashing shape).
    @inline(__always)
    public static func hash(prefix: UInt8, _ bytes: UnsafeRawBufferPointer) -> Digest32 {
        Sodium.ensure()
        var state = crypto_hash_sha256_state()
        var p = prefix
        var out = Digest32.zero
        crypto_hash_sha256_init(&state)
        crypto_hash_sha256_update(&state, &p, 1)
        if bytes.count > 0 {
            crypto_hash_sha256_update(&state, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }
        withUnsafeMutableBytes(of: &out) { o in
            _ = crypto_hash_sha256_final(&state, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// Hash of a prefix byte followed by two digests (RFC 9162 node hashing shape).
    @inline(__always)
    public static func hash(prefix: UInt8, _ left: Digest32, _ right: Digest32) -> Digest32 {
        var buffer: (UInt8, Digest32, Digest32) = (prefix, left, right)
        // The tuple may be padded; hash the 65 meaningful bytes explicitly.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 65) { tmp in
            tmp[0] = buffer.0
            Swift.withUnsafeBytes(of: &buffer.1) { l in for i in 0..<32 { tmp[1 + i] = l[i] } }
            Swift.withUnsafeBytes(of: &buffer.2) { r in for i in 0..<32 { tmp[33 + i] = r[i] } }
            return hash(UnsafeRawBufferPointer(tmp))
        }
    }
}

/// Byte containers that expose contiguous storage.
public protocol RawBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: RawBytes where Element == UInt8 {}
extension ArraySlice: RawBytes where Element == UInt8 {}
extension Digest32: RawBytes {}

extension SHA256 {
    /// Incremental SHA-256 (libsodium's streaming API), for hashing files while reading them.
    public struct Hasher: ~Copyable {
        private var state = crypto_hash_sha256_state()

        public init() {
            Sodium.ensure()
            crypto_hash_sha256_init(&state)
        }

        /// Feeds `bytes`.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            crypto_hash_sha256_update(&state, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        /// Feeds a byte collection.
        public mutating func update<C: RawBytes>(_ bytes: C) {
            bytes.withUnsafeBytes { update($0) }
        }

        /// The digest of everything fed.
        public consuming func finalize() -> Digest32 {
            var out = Digest32.zero
            withUnsafeMutableBytes(of: &out) { o in
                _ = crypto_hash_sha256_final(&state, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return out
        }
    }
}
