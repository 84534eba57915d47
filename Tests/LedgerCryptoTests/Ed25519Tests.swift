import CLedgerSodium
import Foundation
import LedgerCrypto
import Testing

struct RFC8032Vector: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var secret: String
    var `public`: String
    var message: String
    var signature: String

    var testDescription: String { name }

    static func all() throws -> [RFC8032Vector] {
        struct File: Decodable { var vectors: [RFC8032Vector] }
        let url = try #require(Bundle.module.url(forResource: "rfc8032-ed25519", withExtension: "json", subdirectory: "Vectors"))
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }
}

@Suite("Ed25519 (RFC 8032)")
struct Ed25519Tests {
    @Test("published vectors: public key, signature and verification", arguments: try RFC8032Vector.all())
    func vector(_ v: RFC8032Vector) throws {
        let key = try Ed25519.PrivateKey(seed: SecureBytes(Hex.decode(v.secret)!))
        #expect(Hex.encode(key.publicKey.bytes) == v.public)
        let message = Hex.decode(v.message)!
        let sig = key.signature(for: message)
        #expect(Hex.encode(sig) == v.signature)
        let pk = try #require(Ed25519.PublicKey(bytes: Hex.decode(v.public)!))
        #expect(pk.isValidSignature(Hex.decode(v.signature)!, for: message))
    }

    @Test("a flipped bit in message or signature is rejected", arguments: try RFC8032Vector.all())
    func tamper(_ v: RFC8032Vector) throws {
        let pk = try #require(Ed25519.PublicKey(bytes: Hex.decode(v.public)!))
        let message = Hex.decode(v.message)!
        let sig = Hex.decode(v.signature)!
        for i in [0, 31, 32, 63] {
            var bad = sig
            bad[i] ^= 0x01
            #expect(!pk.isValidSignature(bad, for: message))
        }
        var longer = message
        longer.append(0)
        #expect(!pk.isValidSignature(sig, for: longer))
        #expect(!pk.isValidSignature(Array(sig.prefix(63)), for: message))
    }

    @Test("seed round trip")
    func seedRoundTrip() throws {
        let k = Ed25519.PrivateKey()
        let again = try Ed25519.PrivateKey(seed: k.seed)
        #expect(again.publicKey == k.publicKey)
        #expect(throws: CryptoError.self) { try Ed25519.PrivateKey(seed: SecureBytes([1, 2, 3])) }
    }
}

@Suite("SHA-256, base64, hex")
struct HashingTests {
    @Test("SHA-256 known answers (FIPS 180-2)")
    func sha256() {
        #expect(SHA256.hash(utf8: "").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(utf8: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let prefixed = Array("abc".utf8).withUnsafeBytes { SHA256.hash(prefix: 0x61, $0) }
        #expect(prefixed == SHA256.hash(utf8: "aabc"))
    }

    @Test("base64 encoding: the RFC 4648 vectors, and every byte value in every place of a group round-trips")
    func base64Encoding() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors { #expect(Base64.encode(Array(plain.utf8)) == encoded, "\(plain)") }
        for length in 0..<9 {
            for v in 0..<256 {
                let bytes = (0..<length).map { UInt8(truncatingIfNeeded: v &* 31 &+ $0 &* 97) }
                #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            }
        }
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
    }

    @Test("base64 is strict: padding, alphabet, canonical trailing bits")
    func base64() {
        #expect(Base64.encode(Array("foob".utf8)) == "Zm9vYg==")
        #expect(Base64.decode("Zm9vYg==") == Array("foob".utf8))
        #expect(Base64.decode("Zm9vYmFy") == Array("foobar".utf8))
        #expect(Base64.decode("") == [])
        #expect(Base64.decode("Zm9vYg") == nil)  // missing padding
        #expect(Base64.decode("Zm9vYh==") == nil)  // non-canonical trailing bits
        #expect(Base64.decode("Zm9v Yg==") == nil)  // whitespace
        #expect(Base64.decode("Zm9vYg-_") == nil)  // URL alphabet
        #expect(Base64.decode("Zm9vYmE=") == Array("fooba".utf8))
        #expect(Base64.decode("Zm9vYmF=") == nil)
    }

    @Test("base64 decoding agrees with libsodium's strict decoder on texts of every length and every one-byte change of them")
    func base64AgainstSodium() {
        func sodium(_ text: [UInt8]) -> [UInt8]? {
            // One spare byte each, so that an empty text still has an address.
            var out = [UInt8](repeating: 0, count: text.count + 1)
            var length = 0
            let rc = (text + [0]).withUnsafeBufferPointer { t in
                out.withUnsafeMutableBufferPointer { o in
                    t.withMemoryRebound(to: CChar.self) { c in
                        sodium_base642bin(o.baseAddress!, o.count, c.baseAddress!, text.count, nil, &length, nil, sodium_base64_VARIANT_ORIGINAL)
                    }
                }
            }
            return rc == 0 ? Array(out.prefix(length)) : nil
        }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        let replacements: [UInt8] = Array("A/+=z9-_ .".utf8) + [0x00, 0x7F, 0x80, 0xFF]
        for length in 0..<48 {
            let bytes = (0..<length).map { _ in next() }
            let text = Array(Base64.encode(bytes).utf8)
            #expect(Base64.decode(text.withUnsafeBytes { $0 }) == bytes)
            for i in text.indices {
                for r in replacements where r != text[i] {
                    var changed = text
                    changed[i] = r
                    let ours = changed.withUnsafeBytes { Base64.decode($0) }
                    if r >= 0x80 {
                        // Outside ASCII: never base64. (libsodium 1.0.18 reads such a byte as a
                        // signed char and takes some of them for a base64 digit, so it is no oracle here.)
                        #expect(ours == nil, "length \(length), byte \(i) → \(r)")
                    } else {
                        #expect(ours == sodium(changed), "length \(length), byte \(i) → \(r)")
                    }
                }
            }
        }
    }

    @Test("hex is lowercase only")
    func hex() {
        #expect(Hex.decode("00ff10") == [0, 255, 16])
        #expect(Hex.decode("00FF") == nil)
        #expect(Hex.decode("0") == nil)
        #expect(Hex.encode([0xde, 0xad]) == "dead")
    }
}

@Suite("Passphrase sealing")
struct SealingTests {
    let cost = PassphraseSealing.Cost(opsLimit: 1, memLimit: 8192)

    @Test("round trip, wrong passphrase and altered data are refused")
    func roundTrip() throws {
        let secret = SecureBytes(Array(0..<32))
        let ad = Array("key".utf8)
        let sealed = try PassphraseSealing.seal(secret, passphrase: Array("right".utf8), associatedData: ad, cost: cost)
        let opened = try PassphraseSealing.open(sealed, passphrase: Array("right".utf8), associatedData: ad)
        #expect(opened.unsafeCopy == Array(0..<32))
        #expect(throws: CryptoError(operation: .open)) {
            try PassphraseSealing.open(sealed, passphrase: Array("wrong".utf8), associatedData: ad)
        }
        #expect(throws: CryptoError(operation: .open)) {
            try PassphraseSealing.open(sealed, passphrase: Array("right".utf8), associatedData: Array("other".utf8))
        }
        var altered = sealed
        altered.ciphertext[0] ^= 1
        #expect(throws: CryptoError(operation: .open)) {
            try PassphraseSealing.open(altered, passphrase: Array("right".utf8), associatedData: ad)
        }
    }
}
