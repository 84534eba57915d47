import CLedgerSodium

/// The encryption of sealed field values (docs/FORMAT.md §9): each value is encrypted with its own
/// random data key (XChaCha20-Poly1305, IETF construction), and each data key is wrapped for
/// every reader with a libsodium sealed box (X25519, anonymous sender). Destroying every wrapped
/// copy of a data key erases the value; nothing else needs to change.
public enum ValueSealing {
    /// Bytes of a data key.
    public static let keyLength = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    /// Bytes of the nonce stored in front of each ciphertext.
    public static let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    /// Bytes a wrapped 32-byte data key takes (sealed-box overhead included).
    public static let wrappedLength = keyLength + Int(crypto_box_PUBLICKEYBYTES) + Int(crypto_box_MACBYTES)

    /// A reader's X25519 key pair, derived from an Ed25519 key file's key the standard way
    /// (`crypto_sign_ed25519_sk_to_curve25519`), so that reader keys are ordinary key files.
    public struct ReaderKey: Sendable {
        /// The X25519 public key readers are enrolled with.
        public let publicKey: [UInt8]
        private let secret: SecureBytes

        /// The X25519 pair of an Ed25519 private key.
        public init(_ key: Ed25519.PrivateKey) throws(CryptoError) {
            Sodium.ensure()
            let seed = key.seed
            let full = SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES))
            var edPK = [UInt8](repeating: 0, count: 32)
            let rc0 = seed.withUnsafeBytes { s in
                full.withUnsafeMutableBytes { k in
                    crypto_sign_seed_keypair(&edPK, k.baseAddress!.assumingMemoryBound(to: UInt8.self), s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            try Sodium.check(rc0, .keyFromSeed)
            let x = SecureBytes(count: 32)
            let rc1 = full.withUnsafeBytes { k in
                x.withUnsafeMutableBytes { o in
                    crypto_sign_ed25519_sk_to_curve25519(o.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            try Sodium.check(rc1, .boxKey)
            secret = x
            publicKey = try ReaderKey.publicKey(of: key.publicKey)
        }

        /// The X25519 public key that goes with an Ed25519 public key.
        public static func publicKey(of key: Ed25519.PublicKey) throws(CryptoError) -> [UInt8] {
            Sodium.ensure()
            var out = [UInt8](repeating: 0, count: 32)
            let rc = crypto_sign_ed25519_pk_to_curve25519(&out, key.bytes)
            try Sodium.check(rc, .boxKey)
            return out
        }

        /// The data key inside `wrapped`; throws `.boxOpen` when it was wrapped for another key.
        public func unwrap(_ wrapped: [UInt8]) throws(CryptoError) -> SecureBytes {
            guard wrapped.count == ValueSealing.wrappedLength else { throw CryptoError(operation: .boxOpen) }
            let out = SecureBytes(count: ValueSealing.keyLength)
            let rc = out.withUnsafeMutableBytes { o in
                secret.withUnsafeBytes { s in
                    crypto_box_seal_open(
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), wrapped, UInt64(wrapped.count), publicKey,
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            try Sodium.check(rc, .boxOpen)
            return out
        }
    }

    /// True when `publicKey` is 32 bytes that a sealed box can be made for (not a point of small
    /// order, for which the shared secret would be all zeros and libsodium refuses).
    public static func isUsableReaderKey(_ publicKey: [UInt8]) -> Bool {
        guard publicKey.count == 32 else { return false }
        return (try? wrap(SecureBytes(count: keyLength), for: publicKey)) != nil
    }

    /// A fresh random data key.
    public static func newDataKey() -> SecureBytes { SecureBytes(SecureRandom.bytes(keyLength)) }

    /// `dataKey` wrapped for the holder of the X25519 `publicKey` (a sealed box: only that key opens it).
    public static func wrap(_ dataKey: SecureBytes, for publicKey: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ensure()
        guard publicKey.count == 32 else { throw CryptoError(operation: .boxSeal) }
        var out = [UInt8](repeating: 0, count: wrappedLength)
        let rc = dataKey.withUnsafeBytes { k in
            crypto_box_seal(&out, k.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(k.count), publicKey)
        }
        try Sodium.check(rc, .boxSeal)
        return out
    }

    /// `plaintext` encrypted under `dataKey`, bound to `associatedData`: nonce ‖ ciphertext ‖ tag.
    public static func encrypt(_ plaintext: [UInt8], dataKey: SecureBytes, associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ensure()
        let nonce = SecureRandom.bytes(nonceLength)
        var out = [UInt8](repeating: 0, count: plaintext.count + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        var clen: UInt64 = 0
        let rc = dataKey.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                &out, &clen, plaintext, UInt64(plaintext.count), associatedData, UInt64(associatedData.count), nil, nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        try Sodium.check(rc, .seal)
        return nonce + out
    }

    /// The plaintext of `sealed` (nonce ‖ ciphertext ‖ tag); throws `.valueOpen` when the key,
    /// the associated data or any byte is not the one it was made with.
    public static func decrypt(_ sealed: [UInt8], dataKey: SecureBytes, associatedData: [UInt8]) throws(CryptoError) -> [UInt8] {
        Sodium.ensure()
        let abytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
        guard sealed.count >= nonceLength + abytes, dataKey.count == keyLength else { throw CryptoError(operation: .valueOpen) }
        let nonce = Array(sealed.prefix(nonceLength))
        let body = Array(sealed.dropFirst(nonceLength))
        var out = [UInt8](repeating: 0, count: body.count - abytes)
        var mlen: UInt64 = 0
        let rc = dataKey.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, &mlen, nil, body, UInt64(body.count), associatedData, UInt64(associatedData.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError(operation: .valueOpen) }
        return out
    }
}
