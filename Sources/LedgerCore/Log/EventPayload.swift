/// The signed statement inside an envelope: one UTF-8 JSON object with exactly the members
/// `ledger`, `id`, `type`, `subject`, `expects`, `signedAt` and `body`.
public struct EventPayload: Sendable, Equatable {
    /// Payload type of every envelope in this log.
    public static let payloadType = "application/vnd.incidentledger.event+json"
    /// Largest payload accepted, in bytes (1 MiB).
    public static let maxBytes = 1 << 20

    /// The ledger's origin.
    public var ledger: String
    /// UUIDv7, lowercase; the idempotency key.
    public var id: String
    /// Event type, e.g. `incident.reported`.
    public var type: String {
        didSet { eventType = EventType(name: type) }
    }
    /// The type's row in the catalogue, read once from `type`; nil for a name the catalogue
    /// does not have (which the log refuses).
    public private(set) var eventType: EventType?
    /// The entity the event is about.
    public var subject: String
    /// The subject's revision the author saw (0 to create).
    public var expects: UInt64
    /// When the author signed, RFC 3339 UTC.
    public var signedAt: String
    /// Type-specific content.
    public var body: JSONObject

    public init(ledger: String, id: String, type: String, subject: String, expects: UInt64, signedAt: String, body: JSONObject) {
        self.ledger = ledger
        self.id = id
        self.type = type
        self.eventType = EventType(name: type)
        self.subject = subject
        self.expects = expects
        self.signedAt = signedAt
        self.body = body
    }

    static let memberNames = Set(memberOrder)

    /// Parses and validates payload bytes exactly as signed. `requireNFC` holds new input to
    /// Unicode NFC; verifying stored payloads passes false (see docs/FORMAT.md §2).
    public init(bytes: UnsafeRawBufferPointer, requireNFC: Bool = true) throws(LedgerError) {
        guard bytes.count <= EventPayload.maxBytes else {
            throw LedgerError(.malformed, "payload is \(bytes.count) bytes; the limit is \(EventPayload.maxBytes) (1 MiB)")
        }
        let object: JSONObject
        let limits = JSONParser.Limits(maxBytes: EventPayload.maxBytes, maxDepth: 64, requireNFC: requireNFC)
        do { object = try JSONParser.parseObject(bytes, limits: limits) } catch { throw LedgerError(.malformed, "payload is not valid JSON: \(error)") }
        try self.init(object: object)
    }

    /// Parses and validates payload bytes exactly as signed.
    public init(bytes: [UInt8], requireNFC: Bool = true) throws(LedgerError) {
        self = try withRawBytes(bytes) { (raw) throws(LedgerError) in try EventPayload(bytes: raw, requireNFC: requireNFC) }
    }

    /// Validates a parsed payload object.
    public init(object: JSONObject) throws(LedgerError) {
        // Payloads this code writes have their members in `memberOrder`; then each member is
        // where the order says and no key needs hashing. Any other order takes the general check.
        let m = object.members
        var inOrder = m.count == Self.memberOrder.count
        if inOrder {
            for i in 0..<m.count where !m[i].key.sameBytes(Self.memberOrder[i]) {
                inOrder = false
                break
            }
        }
        if !inOrder { try Fields.requireExactly(object, EventPayload.memberNames, in: "payload") }
        func member(_ i: Int) -> JSONValue? { inOrder ? m[i].value : object[Self.memberOrder[i]] }
        func string(_ i: Int) throws(LedgerError) -> String { try Fields.string(member(i), Self.memberOrder[i], in: "") }
        ledger = try string(0)
        guard Origin.isValid(ledger) else { throw .malformed("ledger", "is not a valid origin") }
        id = try string(1)
        guard UUIDv7.isValid(id) else { throw .malformed("id", "must be a lowercase UUIDv7 (RFC 9562)") }
        type = try string(2)
        guard EventPayload.isValidType(type) else {
            throw .malformed("type", "must look like `noun.verb` (lowercase letters, digits, '-' and '.')")
        }
        eventType = EventType(name: type)
        subject = try string(3)
        guard EventPayload.isValidSubject(subject) else {
            throw .malformed("subject", "must be 1–128 characters of A–Z a–z 0–9 . _ : -")
        }
        guard let e = member(4)?.unsignedIntegerValue else {
            throw .malformed("expects", "must be a non-negative integer (the subject's revision you saw; 0 to create)")
        }
        expects = e
        signedAt = try string(5)
        guard Timestamp.parseRFC3339(signedAt) != nil else {
            throw .malformed("signedAt", "must be an RFC 3339 UTC time such as 2026-11-25T17:28:15Z")
        }
        guard case .object(let b)? = member(6) else { throw .malformed("body", "must be a JSON object") }
        body = b
    }

    /// The members in the order `encoded()` writes them.
    static let memberOrder = ["ledger", "id", "type", "subject", "expects", "signedAt", "body"]

    /// The payload's JSON bytes: members in the fixed order above, body keys sorted.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"ledger":"#.utf8)
        JSONWriter.writeString(ledger, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        JSONWriter.writeString(id, into: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSONWriter.writeString(type, into: &out)
        out.append(contentsOf: #","subject":"#.utf8)
        JSONWriter.writeString(subject, into: &out)
        out.append(contentsOf: #","expects":"#.utf8)
        out.append(contentsOf: String(expects).utf8)
        out.append(contentsOf: #","signedAt":"#.utf8)
        JSONWriter.writeString(signedAt, into: &out)
        out.append(contentsOf: #","body":"#.utf8)
        JSONWriter.write(.object(body), sortedKeys: true, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// True for `segment(.segment)+`, each segment `[a-z][a-z0-9-]*`, at most 64 bytes.
    public static func isValidType(_ t: String) -> Bool {
        guard t.utf8.count <= 64, !t.utf8.isEmpty else { return false }
        var segments = 0
        var atStart = true
        let ok = t.allUTF8 { c in
            if atStart {
                guard c >= 97 && c <= 122 else { return false }
                atStart = false
                segments += 1
            } else if c == UInt8(ascii: ".") {
                atStart = true
            } else {
                guard (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == UInt8(ascii: "-") else { return false }
            }
            return true
        }
        return ok && !atStart && segments >= 2
    }

    /// True for 1–128 bytes of `A–Z a–z 0–9 . _ : -`.
    public static func isValidSubject(_ s: String) -> Bool {
        let u = s.utf8
        return !u.isEmpty && u.count <= 128
            && s.allUTF8 {
                ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 58
                    || $0 == 45
            }
    }
}
