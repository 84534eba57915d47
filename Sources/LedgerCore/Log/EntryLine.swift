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

    /// Parses a stored line and checks its shape (not its signature or rules).
    public init(bytes: UnsafeRawBufferPointer) throws(LedgerError) {
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
        var result: Result<EntryLine, LedgerError>!
        bytes.withUnsafeBytes { raw in
            do throws(LedgerError) { result = .success(try EntryLine(bytes: raw)) } catch { result = .failure(error) }
        }
        self = try result.get()
    }
}
