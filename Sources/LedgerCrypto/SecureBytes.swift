import CLedgerSodium

/// A heap buffer for secrets that is wiped with `sodium_memzero` when released.
public final class SecureBytes: @unchecked Sendable {
    private var storage: [UInt8]

    /// Copies `bytes` into a new secret buffer.
    public init(_ bytes: [UInt8]) {
        Sodium.ensure()
        storage = bytes
    }

    /// A zero-filled secret buffer of `count` bytes.
    public init(count: Int) {
        Sodium.ensure()
        storage = [UInt8](repeating: 0, count: count)
    }

    deinit {
        let count = storage.count
        storage.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, count) }
    }

    /// Number of bytes held.
    public var count: Int { storage.count }

    /// Read access to the secret bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// Write access to the secret bytes.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBytes(body)
    }

    /// A copy of the bytes; the caller becomes responsible for it.
    public var unsafeCopy: [UInt8] { storage }
}
