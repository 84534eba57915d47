import LedgerCrypto

/// Key identifiers: the lowercase hex SHA-256 of the raw 32-byte Ed25519 public key.
public enum KeyID {
    /// The key id of `publicKey`.
    public static func of(_ publicKey: Ed25519.PublicKey) -> String {
        SHA256.hash(publicKey.bytes).hex
    }

    /// True for 64 lowercase hex digits.
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
