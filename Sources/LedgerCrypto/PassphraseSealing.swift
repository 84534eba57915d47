import CLedgerSodium

/// Passphrase-based sealing of small secrets: Argon2id (`crypto_pwhash`) derives a key that
/// encrypts with XChaCha20-Poly1305 (IETF AEAD).
public enum PassphraseSealing {
    /// Argon2id cost parameters.
    public struct Cost: Sendable, Equatable {
        /// Number of passes (libsodium `opslimit`).
        public var opsLimit: UInt64
        /// Memory in bytes (libsodium `memlimit`).
        public var memLimit: UInt64

        public init(opsLimit: UInt64, memLimit: UInt64) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }

        /// libsodium's INTERACTIVE limits (2 passes, 64 MiB).
        public static let interactive = Cost(
            opsLimit: UInt64(crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE),
            memLimit: UInt64(crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE))
        /// libsodium's MODERATE limits (3 passes, 256 MiB).
        public static let moderate = Cost(
            opsLimit: UInt64(crypto_pwhash_argon2id_OPSLIMIT_MODERATE),
            memLimit: UInt64(crypto_pwhash_argon2id_MEMLIMIT_MODERATE))
        /// libsodium's SENSITIVE limits (4 passes, 1 GiB).
        public static let sensitive = Cost(
            opsLimit: UInt64(crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE),
            memLimit: UInt64(crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE))

        /// True when the parameters are within libsodium's accepted Argon2id bounds.
        public var isAcceptable: Bool {
            opsLimit >= UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN) && opsLimit <= 64
                && memLimit >= UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN) && memLimit <= (4 << 30)
        }
    }

    /// Salt length for Argon2id (16 bytes).
    public static let saltLength = Int(crypto_pwhash_argon2id_SALTBYTES)
    /// Nonce length for XChaCha20-Poly1305 (24 bytes).
    public static let nonceLength = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)

    /// The sealed form of a secret.
    public struct Sealed: Sendable, Equatable {
        public var salt: [UInt8]
        public var nonce: [UInt8]
        public var ciphertext: [UInt8]
        public var cost: Cost

        public init(salt: [UInt8], nonce: [UInt8], ciphertext: [UInt8], cost: Cost) {
            self.salt = salt
            self.nonce = nonce
            self.ciphertext = ciphertext
            self.cost = cost
        }
    }

    /// Derives a 32-byte key from `passphrase` and `salt` with Argon2id13.
    static func deriveKey(passphrase: [UInt8], salt: [UInt8], cost: Cost) throws(CryptoError) -> SecureBytes {
        Sodium.ensure()
        guard salt.count == saltLength, cost.isAcceptable else { throw CryptoError(operation: .length) }
        let key = SecureBytes(count: Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES))
        let rc = key.withUnsafeMutableBytes { k in
            passphrase.withUnsafeBufferPointer { p in
                p.withMemoryRebound(to: CChar.self) { pc in
                    crypto_pwhash(
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(k.count),
                        pc.baseAddress ?? UnsafePointer(bitPattern: 1)!, UInt64(p.count), salt,
                        cost.opsLimit, Int(cost.memLimit), crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        try Sodium.check(rc, .passwordHash)
        return key
    }

    /// Encrypts `secret` under `passphrase`; `associatedData` is authenticated, not encrypted.
    public static func seal(
        _ secret: SecureBytes, passphrase: [UInt8], associatedData: [UInt8], cost: Cost
    ) throws(CryptoError) -> Sealed {
        let salt = SecureRandom.bytes(saltLength)
        let nonce = SecureRandom.bytes(nonceLength)
        let key = try deriveKey(passphrase: passphrase, salt: salt, cost: cost)
        var ciphertext = [UInt8](
            repeating: 0, count: secret.count + Int(crypto_aead_xchacha20poly1305_ietf_ABYTES))
        var clen: UInt64 = 0
        let rc = secret.withUnsafeBytes { m in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &ciphertext, &clen, m.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                    associatedData, UInt64(associatedData.count), nil, nonce,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        try Sodium.check(rc, .seal)
        return Sealed(salt: salt, nonce: nonce, ciphertext: ciphertext, cost: cost)
    }

    /// Decrypts a sealed secret; throws `.open` for a wrong passphrase or altered data.
    public static func open(_ sealed: Sealed, passphrase: [UInt8], associatedData: [UInt8]) throws(CryptoError) -> SecureBytes {
        let abytes = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
        guard sealed.nonce.count == nonceLength, sealed.ciphertext.count >= abytes else {
            throw CryptoError(operation: .length)
        }
        let key = try deriveKey(passphrase: passphrase, salt: sealed.salt, cost: sealed.cost)
        let plain = SecureBytes(count: sealed.ciphertext.count - abytes)
        var mlen: UInt64 = 0
        let rc = plain.withUnsafeMutableBytes { m in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    m.baseAddress!.assumingMemoryBound(to: UInt8.self), &mlen, nil,
                    sealed.ciphertext, UInt64(sealed.ciphertext.count),
                    associatedData, UInt64(associatedData.count), sealed.nonce,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        try Sodium.check(rc, .open)
        return plain
    }
}
