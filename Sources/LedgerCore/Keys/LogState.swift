/// What the rules need to know about the log before a new entry: a read-only view that the
/// verifier keeps in memory and a store answers from its tables.
public protocol LogState {
    /// The ledger's origin, nil before the genesis entry.
    var origin: String? { get }
    /// The key with this id, whether active or revoked; nil if never enrolled.
    func key(_ keyID: String) throws(LedgerError) -> KeyRecord?
    /// Number of entries so far about `subject`.
    func revision(of subject: String) throws(LedgerError) -> UInt64
    /// Number of usable keys (`Ed25519.PublicKey.isUsable`) holding the admin role and not revoked.
    func activeAdminCount() throws(LedgerError) -> Int
}

/// How an accepted event changes the key table.
public enum KeyEffect: Sendable, Equatable {
    /// A key joins (genesis or `key.enrolled`).
    case enroll(KeyRecord)
    /// A key is revoked at this entry index.
    case revoke(keyID: String, at: UInt64)
}
