import LedgerCrypto

#if canImport(Glibc)
import Glibc
#endif

/// One log entry, the Merkle leaf: `{"index":N,"recordedAt":"…","envelope":{…}}` as one line.
/// The leaf bytes are the line exactly as stored, without a newline.
public struct EntryLine: Sendable, Equatable {
    /// Position in the log (0, 1, 2 …).
    public var index: UInt64
    /// When the log accepted the entry.
    public var recordedAt: Timestamp
    /// The signed event.
    public var envelope: Envelope

    public init(index: UInt64, recordedAt: Timestamp, envelope: Envelope) {
        self.index = index
        self.recordedAt = recordedAt
        self.envelope = envelope
    }

    /// The exact line bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(envelope.payload.count * 4 / 3 + 320)
        out.append(contentsOf: #"{"index":"#.utf8)
        out.append(contentsOf: String(index).utf8)
        out.append(contentsOf: #","recordedAt":""#.utf8)
        out.append(contentsOf: recordedAt.recordTimeText.utf8)
        out.append(contentsOf: #"","envelope":"#.utf8)
        envelope.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses a stored line and checks its shape (not its signature or rules). Lines must be in
    /// the canonical form `encoded()` writes (fixed member order, no whitespace, no escapes), so
    /// every entry has exactly one byte representation.
    public init(bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        if let line = EntryLine.parseCanonical(bytes) {
            self = line
            return
        }
        let general = try EntryLine(generalJSON: bytes)
        guard general.encoded().elementsEqual(bytes) else {
            throw LedgerError(.malformed, "entry line is valid JSON but not in canonical form (member order, spacing or escapes differ; see docs/FORMAT.md)")
        }
        self = general
    }

    /// Matches the canonical layout byte by byte; nil on any difference.
    static func parseCanonical(_ b: UnsafeRawBufferPointer) -> EntryLine? {
        var p = 0
        let n = b.count
        func literal(_ s: StaticString) -> Bool {
            let count = s.utf8CodeUnitCount
            guard p + count <= n, memcmp(b.baseAddress! + p, s.utf8Start, count) == 0 else { return false }
            p += count
            return true
        }
        func until(_ quote: UInt8) -> UnsafeRawBufferPointer? {
            let start = p
            guard p < n, let hit = memchr(b.baseAddress! + p, Int32(quote), n - p) else { return nil }
            p = b.baseAddress!.distance(to: UnsafeRawPointer(hit))
            return UnsafeRawBufferPointer(rebasing: b[start..<p])
        }
        guard n > 0, literal(#"{"index":"#) else { return nil }
        let digitsStart = p
        var index: UInt64 = 0
        while p < n, b[p] >= 48, b[p] <= 57, p - digitsStart < 16 {
            index = index * 10 + UInt64(b[p] - 48)
            p += 1
        }
        let digits = p - digitsStart
        guard digits > 0, !(digits > 1 && b[digitsStart] == 48), index < (1 << 53) else { return nil }
        guard literal(#","recordedAt":""#), p + 27 <= n else { return nil }
        guard let time = Timestamp.parseRecordTime(UnsafeRawBufferPointer(rebasing: b[p..<(p + 27)])) else { return nil }
        p += 27
        guard literal(#"","envelope":{"payloadType":"application/vnd.incidentledger.event+json","payload":""#),
            let payloadText = until(0x22), let payload = Base64.decode(payloadText), payload.count <= EventPayload.maxBytes,
            literal(#"","signatures":[{"keyid":""#), p + 64 <= n
        else { return nil }
        let keyIDBytes = UnsafeRawBufferPointer(rebasing: b[p..<(p + 64)])
        guard keyIDBytes.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        p += 64
        guard literal(#"","sig":""#), p + 88 <= n, let sig = Base64.decode(UnsafeRawBufferPointer(rebasing: b[p..<(p + 88)])),
            sig.count == 64
        else { return nil }
        p += 88
        guard literal(#""}]}}"#), p == n else { return nil }
        let keyID = String(decoding: keyIDBytes, as: UTF8.self)
        return EntryLine(index: index, recordedAt: time, envelope: Envelope(payload: payload, keyID: keyID, signature: sig))
    }

    /// Parses any JSON spelling of an entry line (used to explain why a line is refused).
    init(generalJSON bytes: UnsafeRawBufferPointer) throws(LedgerError) {
        let limits = JSONParser.Limits(maxBytes: EventPayload.maxBytes * 4 / 3 + 8192, maxDepth: 8)
        let object: JSONObject
        do { object = try JSONParser.parseObject(bytes, limits: limits) } catch {
            throw LedgerError(.malformed, "entry line is not valid JSON: \(error)")
        }
        try Fields.requireExactly(object, ["index", "recordedAt", "envelope"], in: "entry")
        guard let i = object["index"]?.unsignedIntegerValue else {
            throw .malformed("entry.index", "must be a non-negative integer")
        }
        index = i
        let r = try Fields.string(object, "recordedAt", in: "entry")
        guard let t = Timestamp.parseRecordTime(r) else {
            throw .malformed("entry.recordedAt", "must be YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, 6 fraction digits)")
        }
        recordedAt = t
        guard case .object(let env)? = object["envelope"] else { throw .malformed("entry.envelope", "must be an object") }
        envelope = try Envelope(object: env)
    }

    /// Parses a stored line from a byte array.
    public init(bytes: [UInt8]) throws(LedgerError) {
        self = try withRawBytes(bytes) { (raw) throws(LedgerError) in try EntryLine(bytes: raw) }
    }
}
