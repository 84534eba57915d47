/// A failed cryptographic operation. Carries no key material or plaintext.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which operation failed.
    public enum Operation: String, Sendable {
        case sign = "Ed25519 signing"
        case keyFromSeed = "Ed25519 key derivation"
        case passwordHash = "Argon2id key derivation (out of memory?)"
        case seal = "XChaCha20-Poly1305 encryption"
        case open = "XChaCha20-Poly1305 decryption (wrong passphrase or damaged data)"
        case base64 = "base64 decoding"
        case length = "input length"
        case boxKey = "X25519 key conversion"
        case boxSeal = "sealed-box wrapping (an unusable reader key?)"
        case boxOpen = "sealed-box unwrapping (another reader's key, or damaged data)"
        case valueOpen = "sealed-value decryption (the ciphertext belongs to another value, or was altered)"
    }

    /// The operation that failed.
    public var operation: Operation

    public init(operation: Operation) { self.operation = operation }

    public var description: String { "\(operation.rawValue) failed" }
}
