import LedgerCrypto

/// A DSSE v1 envelope with exactly one signature:
/// `{"payloadType":…,"payload":base64,"signatures":[{"keyid":hex,"sig":base64}]}`.
public struct Envelope: Sendable, Equatable {
    /// Always `EventPayload.payloadType` in this log.
    public var payloadType: String
    /// The payload bytes exactly as signed.
    public var payload: [UInt8]
    /// Signer's key id (hex SHA-256 of the public key).
    public var keyID: String
    /// 64-byte Ed25519 signature over PAE(payloadType, payload).
    public var signature: [UInt8]

    public init(payloadType: String = EventPayload.payloadType, payload: [UInt8], keyID: String, signature: [UInt8]) {
        self.payloadType = payloadType
        self.payload = payload
        self.keyID = keyID
        self.signature = signature
    }

    /// Signs `payload` with `key`.
    public static func sign(payload: [UInt8], with key: Ed25519.PrivateKey) -> Envelope {
        let message = pae(type: EventPayload.payloadType, body: payload)
        return Envelope(payload: payload, keyID: KeyID.of(key.publicKey), signature: key.signature(for: message))
    }

    /// DSSE v1 pre-authentication encoding:
    /// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal.
    public static func pae(type: String, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + type.utf8.count + 32)
        out.append(contentsOf: "DSSEv1 ".utf8)
        out.append(contentsOf: String(type.utf8.count).utf8)
        out.append(0x20)
        out.append(contentsOf: type.utf8)
        out.append(0x20)
        out.append(contentsOf: String(body.count).utf8)
        out.append(0x20)
        out.append(contentsOf: body)
        return out
    }

    /// True when the signature verifies under `publicKey`.
    public func hasValidSignature(by publicKey: Ed25519.PublicKey) -> Bool {
        publicKey.isValidSignature(signature, for: Envelope.pae(type: payloadType, body: payload))
    }

    /// The envelope's JSON bytes (member order as above, no whitespace).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    /// Appends the envelope's JSON bytes to `out`.
    public func write(into out: inout [UInt8]) {
        out.reserveCapacity(out.count + payload.count * 4 / 3 + 256)
        out.append(contentsOf: #"{"payloadType":"#.utf8)
        JSONWriter.writeString(payloadType, into: &out)
        out.append(contentsOf: #","payload":""#.utf8)
        out.append(contentsOf: Base64.encode(payload).utf8)
        out.append(contentsOf: #"","signatures":[{"keyid":"#.utf8)
        JSONWriter.writeString(keyID, into: &out)
        out.append(contentsOf: #","sig":""#.utf8)
        out.append(contentsOf: Base64.encode(signature).utf8)
        out.append(contentsOf: #""}]}"#.utf8)
    }

    /// Parses and checks the shape of an envelope given as JSON bytes.
    public init(json bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        let limits = JSONParser.Limits(maxBytes: EventPayload.maxBytes * 4 / 3 + 4096, maxDepth: 8)
        let object: JSONObject
        do { object = try JSONParser.parseObject(bytes, limits: limits) } catch {
            throw LedgerError(.malformed, "envelope is not valid JSON: \(error)")
        }
        try self.init(object: object)
    }

    /// Parses and checks the shape of an envelope given as a byte array.
    public init(json bytes: [UInt8]) throws(LedgerError) {
        self = try withRawBytes(bytes) { (raw) throws(LedgerError) in try Envelope(json: raw) }
    }

    /// Checks the shape of a parsed envelope object.
    public init(object: JSONObject) throws(LedgerError) {
        try Fields.requireExactly(object, ["payloadType", "payload", "signatures"], in: "envelope")
        payloadType = try Fields.string(object, "payloadType", in: "envelope")
        guard payloadType == EventPayload.payloadType else {
            throw .malformed("envelope.payloadType", "must be \"\(EventPayload.payloadType)\"")
        }
        let p = try Fields.string(object, "payload", in: "envelope")
        guard let pb = Base64.decode(p) else { throw .malformed("envelope.payload", "must be standard padded base64") }
        guard pb.count <= EventPayload.maxBytes else {
            throw LedgerError(.malformed, "payload is \(pb.count) bytes; the limit is \(EventPayload.maxBytes) (1 MiB)")
        }
        payload = pb
        guard case .array(let sigs)? = object["signatures"] else {
            throw .malformed("envelope.signatures", "must be an array")
        }
        guard sigs.count == 1, case .object(let sig) = sigs[0] else {
            throw .malformed("envelope.signatures", "must hold exactly one signature object")
        }
        try Fields.requireExactly(sig, ["keyid", "sig"], in: "envelope.signatures[0]")
        keyID = try Fields.string(sig, "keyid", in: "envelope.signatures[0]")
        guard KeyID.isWellFormed(keyID) else {
            throw .malformed("envelope.signatures[0].keyid", "must be 64 lowercase hex digits")
        }
        let s = try Fields.string(sig, "sig", in: "envelope.signatures[0]")
        guard let sb = Base64.decode(s), sb.count == 64 else {
            throw .malformed("envelope.signatures[0].sig", "must be the base64 of a 64-byte Ed25519 signature")
        }
        signature = sb
    }
}
