import CLedgerSodium

/// Ed25519 signatures (RFC 8032) through libsodium.
public enum Ed25519 {
    /// A 32-byte Ed25519 public key.
    public struct PublicKey: Hashable, Sendable {
        /// The raw 32 bytes.
        public let bytes: [UInt8]

        /// Wraps raw bytes; nil unless exactly 32 bytes.
        public init?(bytes: [UInt8]) {
            guard bytes.count == Int(crypto_sign_PUBLICKEYBYTES) else { return nil }
            self.bytes = bytes
        }

        /// True when the key can verify signatures at all: a canonical encoding of a point on the
        /// curve, not of small order, in the prime-order subgroup (`crypto_core_ed25519_is_valid_point`).
        /// A key failing this (the all-zero bytes, say) matches no honest signer's secret.
        public var isUsable: Bool {
            Sodium.ensure()
            return crypto_core_ed25519_is_valid_point(bytes) == 1
        }

        /// True when `signature` is a valid signature by this key over `message`.
        @inline(__always)
        public func isValidSignature(_ signature: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer) -> Bool {
            Sodium.ensure()
            guard signature.count == Int(crypto_sign_BYTES) else { return false }
            return bytes.withUnsafeBufferPointer { pk in
                crypto_sign_verify_detached(
                    signature.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!,
                    UInt64(message.count), pk.baseAddress!) == 0
            }
        }

        /// True when `signature` is a valid signature by this key over `message`.
        public func isValidSignature<S: RawBytes, M: RawBytes>(_ signature: S, for message: M) -> Bool {
            signature.withUnsafeBytes { s in message.withUnsafeBytes { m in isValidSignature(s, for: m) } }
        }
    }

    /// An Ed25519 private key; the secret lives in a wiped buffer.
    public struct PrivateKey: Sendable {
        private let secret: SecureBytes  // libsodium's 64-byte secret key (seed ‖ public key)
        /// The matching public key.
        public let publicKey: PublicKey

        /// A fresh random key.
        public init() {
            let seed = SecureBytes(SecureRandom.bytes(32))
            // A 32-byte seed always derives a key.
            try! self.init(seed: seed)
        }

        /// The key derived deterministically from a 32-byte seed (RFC 8032 private key).
        public init(seed: SecureBytes) throws(CryptoError) {
            Sodium.ensure()
            guard seed.count == Int(crypto_sign_SEEDBYTES) else { throw CryptoError(operation: .length) }
            let sk = SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES))
            var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
            let rc = seed.withUnsafeBytes { s in
                sk.withUnsafeMutableBytes { k in
                    crypto_sign_seed_keypair(
                        &pk, k.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            try Sodium.check(rc, .keyFromSeed)
            secret = sk
            publicKey = PublicKey(bytes: pk)!
        }

        /// The 32-byte seed, in a wiped buffer.
        public var seed: SecureBytes {
            secret.withUnsafeBytes { SecureBytes(Array($0.prefix(32))) }
        }

        /// A 64-byte detached signature over `message`.
        public func signature(for message: UnsafeRawBufferPointer) -> [UInt8] {
            var sig = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
            let rc = secret.withUnsafeBytes { k in
                crypto_sign_detached(
                    &sig, nil,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!,
                    UInt64(message.count), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            // crypto_sign_detached cannot fail for a well-formed secret key.
            precondition(rc == 0, "crypto_sign_detached failed")
            return sig
        }

        /// A 64-byte detached signature over `message`.
        public func signature<M: RawBytes>(for message: M) -> [UInt8] {
            message.withUnsafeBytes { signature(for: $0) }
        }
    }
}
