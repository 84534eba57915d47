import LedgerCrypto

/// A key as the ledger knows it: enrolled at an index, perhaps revoked at a later one.
public struct KeyRecord: Sendable, Equatable {
    /// Lowercase hex SHA-256 of the public key.
    public var keyID: String
    /// The Ed25519 public key.
    public var publicKey: Ed25519.PublicKey
    /// Human name given at enrollment.
    public var name: String
    /// Roles held.
    public var roles: [Role]
    /// Index of the entry that enrolled it (0 for the genesis key).
    public var enrolledAt: UInt64
    /// Index of the entry that revoked it, if any.
    public var revokedAt: UInt64?

    public init(keyID: String, publicKey: Ed25519.PublicKey, name: String, roles: [Role], enrolledAt: UInt64, revokedAt: UInt64? = nil) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.name = name
        self.roles = roles
        self.enrolledAt = enrolledAt
        self.revokedAt = revokedAt
    }

    /// True when the key may sign at entry `index` (enrolled before it, not revoked before it).
    public func isActive(at index: UInt64) -> Bool {
        enrolledAt < index && (revokedAt.map { $0 >= index } ?? true)
    }
}
