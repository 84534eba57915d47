import LedgerCrypto

/// A C2SP signed note: text, a blank line, then signature lines `— name base64(keyhash‖sig)`.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        /// The key name.
        public var name: String
        /// First 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key) for Ed25519 keys.
        public var keyHash: [UInt8]
        /// The signature bytes (64 for Ed25519).
        public var signature: [UInt8]
    }

    /// The signed text (ends with a newline).
    public var text: [UInt8]
    /// Signatures in order.
    public var signatures: [Signature]

    /// The em dash that starts every signature line (U+2014).
    static let dash: [UInt8] = [0xE2, 0x80, 0x94]

    /// Ed25519 key hash for `name` and `publicKey` (C2SP signed-note, algorithm byte 0x01).
    public static func keyHash(name: String, publicKey: Ed25519.PublicKey) -> [UInt8] {
        var input = Array(name.utf8)
        input.append(0x0A)
        input.append(0x01)
        input.append(contentsOf: publicKey.bytes)
        return Array(SHA256.hash(input).bytes.prefix(4))
    }

    /// Signs `text` as `name` with `key`, producing a one-signature note.
    public static func sign(text: [UInt8], name: String, key: Ed25519.PrivateKey) -> SignedNote {
        let sig = key.signature(for: text)
        return SignedNote(text: text, signatures: [Signature(name: name, keyHash: keyHash(name: name, publicKey: key.publicKey), signature: sig)])
    }

    public init(text: [UInt8], signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    /// The note's bytes.
    public func encoded() -> [UInt8] {
        var out = text
        out.append(0x0A)
        for s in signatures {
            out.append(contentsOf: SignedNote.dash)
            out.append(0x20)
            out.append(contentsOf: s.name.utf8)
            out.append(0x20)
            out.append(contentsOf: Base64.encode(s.keyHash + s.signature).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Parses a note; at least one signature line is required.
    public init(bytes: [UInt8]) throws(LedgerError) {
        guard bytes.count <= 1 << 20 else { throw LedgerError(.malformed, "note larger than 1 MiB") }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw LedgerError(.malformed, "note is not valid UTF-8") }
        // The text ends at the last "\n\n"; signature lines follow.
        var split: Int?
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { split = i; break }
            i -= 1
        }
        guard let split else { throw LedgerError(.malformed, "note has no blank line before its signatures") }
        text = Array(bytes[0...split])
        let rest = bytes[(split + 2)...]
        guard rest.last == 0x0A else { throw LedgerError(.malformed, "note must end with a newline") }
        var sigs: [Signature] = []
        for line in rest.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false) {
            let l = Array(line)
            guard l.count > 4, Array(l[0..<3]) == SignedNote.dash, l[3] == 0x20 else {
                throw LedgerError(.malformed, "note signature line must start with \"— \"")
            }
            let parts = l[4...].split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw LedgerError(.malformed, "note signature line must be \"— NAME BASE64\"")
            }
            guard !String(decoding: parts[0], as: UTF8.self).unicodeScalars.contains(where: { $0 == "+" || $0.properties.isWhitespace }) else {
                throw LedgerError(.malformed, "note signature line: a key name has no + and no white space")
            }
            guard let blob = Base64.decode(String(decoding: parts[1], as: UTF8.self)), blob.count > 4 else {
                throw LedgerError(.malformed, "note signature is not valid base64 of key hash and signature")
            }
            sigs.append(Signature(name: String(decoding: parts[0], as: UTF8.self), keyHash: Array(blob[0..<4]), signature: Array(blob[4...])))
        }
        guard !sigs.isEmpty else { throw LedgerError(.malformed, "note has no signatures") }
        signatures = sigs
    }

    /// True when some signature line is a valid Ed25519 signature by `publicKey` under `name`.
    public func isSigned(name: String, publicKey: Ed25519.PublicKey) -> Bool {
        let hash = SignedNote.keyHash(name: name, publicKey: publicKey)
        return signatures.contains { $0.name.sameBytes(name) && $0.keyHash == hash && publicKey.isValidSignature($0.signature, for: text) }
    }
}
