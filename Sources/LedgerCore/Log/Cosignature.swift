import LedgerCrypto

/// A C2SP signed-note verifier key (`vkey`): `name+keyhash+base64(type ‖ public key)`.
/// Type 0x01 is a log key (the name is the origin), 0x04 a witness (cosignature) key.
public struct VerifierKey: Sendable, Equatable, Hashable {
    public enum Kind: UInt8, Sendable {
        case log = 0x01
        case cosigner = 0x04
    }

    public var name: String
    public var kind: Kind
    public var publicKey: Ed25519.PublicKey

    public init(name: String, kind: Kind, publicKey: Ed25519.PublicKey) {
        self.name = name
        self.kind = kind
        self.publicKey = publicKey
    }

    /// First 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key).
    public var keyHash: [UInt8] { VerifierKey.keyHash(name: name, kind: kind, publicKey: publicKey) }

    public static func keyHash(name: String, kind: Kind, publicKey: Ed25519.PublicKey) -> [UInt8] {
        var input = Array(name.utf8)
        input.append(0x0A)
        input.append(kind.rawValue)
        input.append(contentsOf: publicKey.bytes)
        return Array(SHA256.hash(input).bytes.prefix(4))
    }

    /// The vkey text.
    public var encoded: String {
        "\(name)+\(Hex.encode(keyHash))+\(Base64.encode([kind.rawValue] + publicKey.bytes))"
    }

    /// Parses a vkey; the key hash must match the name, type and key.
    public init(parsing text: String) throws(LedgerError) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw LedgerError(.malformed, "a verifier key is NAME+KEYHASH+BASE64 (three parts separated by +)") }
        let name = String(parts[0])
        guard Origin.isValid(name) else { throw LedgerError(.malformed, "verifier key name must be 1–255 printable ASCII bytes without + or spaces") }
        guard let blob = Base64.decode(String(parts[2])), blob.count == 33, let kind = Kind(rawValue: blob[0]),
            let key = Ed25519.PublicKey(bytes: Array(blob[1...]))
        else {
            throw LedgerError(.malformed, "verifier key \(name): the key part must be base64 of a type byte (0x01 log, 0x04 witness) and a 32-byte Ed25519 key")
        }
        self.init(name: name, kind: kind, publicKey: key)
        guard Hex.encode(keyHash) == parts[1] else {
            throw LedgerError(.malformed, "verifier key \(name): key hash \(parts[1]) does not match the name and key (expected \(Hex.encode(keyHash)))")
        }
    }
}

/// C2SP tlog-cosignature/v1 (Ed25519): a witness's signature line on a checkpoint.
public enum Cosignature {
    /// The signed message: `cosignature/v1\ntime T\n` ‖ checkpoint text.
    public static func message(text: [UInt8], time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + text
    }

    /// A cosignature line by `name` with `key` over checkpoint `text` at POSIX `time`.
    public static func sign(text: [UInt8], name: String, key: Ed25519.PrivateKey, time: UInt64) -> SignedNote.Signature {
        let witness = VerifierKey(name: name, kind: .cosigner, publicKey: key.publicKey)
        var stamp: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { stamp.append(UInt8(truncatingIfNeeded: time >> UInt64(shift))) }
        let sig = key.signature(for: message(text: text, time: time))
        return SignedNote.Signature(name: name, keyHash: witness.keyHash, signature: stamp + sig)
    }

    /// The trusted witnesses whose cosignature on `note` verifies, with their cosigning times,
    /// and the first line that claims to be a trusted witness's and does not verify.
    public static func cosigners(of note: SignedNote, among witnesses: [VerifierKey]) -> (valid: [(name: String, time: UInt64)], failure: LedgerError?) {
        var valid: [(name: String, time: UInt64)] = []
        var failure: LedgerError?
        for w in witnesses {
            switch check(note, witness: w) {
            case .success(let t)?: valid.append((w.name, t))
            case .failure(let e)?: if failure == nil { failure = e }
            case nil: break
            }
        }
        return (valid, failure)
    }

    /// What a note's signature lines say about `witness`: nil when no line claims to be it,
    /// otherwise the cosigning time, or an error when its line does not verify.
    public static func check(_ note: SignedNote, witness: VerifierKey) -> Result<UInt64, LedgerError>? {
        let hash = witness.keyHash
        var result: Result<UInt64, LedgerError>?
        for s in note.signatures where s.name.sameBytes(witness.name) && s.keyHash == hash {
            guard s.signature.count == 72 else {
                return .failure(LedgerError(.verificationFailed, "the cosignature line of witness \(witness.name) is \(s.signature.count + 4) bytes, not 76"))
            }
            var time: UInt64 = 0
            for b in s.signature[0..<8] { time = time << 8 | UInt64(b) }
            guard time < 1 << 63 else {
                return .failure(LedgerError(.verificationFailed, "the cosignature of witness \(witness.name) has a timestamp of 2^63 or more"))
            }
            guard witness.publicKey.isValidSignature(Array(s.signature[8...]), for: message(text: note.text, time: time)) else {
                return .failure(
                    LedgerError(
                        .verificationFailed, "the cosignature of trusted witness \(witness.name) does not verify: the line or the checkpoint was altered"))
            }
            result = .success(time)
        }
        return result
    }
}
