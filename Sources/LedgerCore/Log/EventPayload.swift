#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        self.init(ledger: ledger, id: id, type: type, eventType: EventType(name: type), subject: subject, expects: expects, signedAt: signedAt, body: body)
    }

    /// With `eventType` already read from `type`.
    private init(ledger: String, id: String, type: String, eventType: EventType?, subject: String, expects: UInt64, signedAt: String, body: JSONObject) {
        self.ledger = ledger
        self.id = id
        self.type = type
        self.eventType = eventType
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
        let limits = Self.limits(requireNFC: requireNFC)
        if let laidOut = Self.laidOut(bytes, limits: limits) {
            self = laidOut
            return
        }
        self = try Self.general(bytes, limits: limits)
    }

    /// The parser's limits for a payload.
    package static func limits(requireNFC: Bool) -> JSONParser.Limits {
        JSONParser.Limits(maxBytes: EventPayload.maxBytes, maxDepth: 64, requireNFC: requireNFC)
    }

    /// The payload parsed into a tree whatever its layout, then checked member by member: the
    /// path that decides every payload `laidOut` does not take, and names the problem.
    package static func general(_ bytes: UnsafeRawBufferPointer, limits: JSONParser.Limits) throws(LedgerError) -> EventPayload {
        let object: JSONObject
        do { object = try JSONParser.parseObject(bytes, limits: limits) } catch { throw LedgerError(.malformed, "payload is not valid JSON: \(error)") }
        return try EventPayload(object: object)
    }

    /// The payload, when its bytes are laid out as this tool writes them (docs/FORMAT.md §2): the
    /// seven members in `memberOrder` with nothing between them, the five strings of printable
    /// ASCII without a quote or backslash, `expects` 0 or up to 15 digits without a leading
    /// zero, and nothing after the body's object but the payload's closing brace. Only the body
    /// is parsed into a tree (its depth counted from the payload's top level, as the general
    /// parse counts it). Nil for anything else, a valid payload laid out otherwise included, and
    /// for any value a check refuses: then the general path decides and names the problem. So
    /// this can only be wrong by accepting what the general path refuses, or giving another
    /// value; `EventPayloadLaidOutTests` and the `payload` fuzz target compare the two.
    package static func laidOut(_ bytes: UnsafeRawBufferPointer, limits: JSONParser.Limits) -> EventPayload? {
        guard let parts = laidOutParts(bytes, limits: limits) else { return nil }
        var bodyLimits = limits
        bodyLimits.maxDepth = limits.maxDepth - 1
        guard let body = try? JSONParser.parseObject(UnsafeRawBufferPointer(rebasing: bytes[parts.body]), limits: bodyLimits) else { return nil }
        return EventPayload(parts, of: bytes, body: body)
    }

    /// `laidOut`, with the body kept as its bytes instead of a tree, when they are canonical
    /// (`CanonicalObject(validatingCanonical:)`, as deep as the body of a payload may be) and the
    /// type is in the catalogue: the payload's other members, with an empty `body`, and the body.
    /// Nil for anything else, as `foldParts`. The payload's `body` is not the body: only a caller
    /// that never reads it (the log's checks, for types whose bodies they do not read) may use it.
    package static func laidOutHeader(_ bytes: UnsafeRawBufferPointer) -> (payload: EventPayload, body: CanonicalObject)? {
        guard let (parts, _, body) = canonicalParts(bytes) else { return nil }
        return (EventPayload(parts, of: bytes, body: JSONObject()), body)
    }

    /// The payload whose members `parts` found in `bytes`, with `body`.
    private init(_ parts: LaidOutParts, of bytes: UnsafeRawBufferPointer, body: JSONObject) {
        func string(_ r: Range<Int>) -> String { EventPayload.ascii(UnsafeRawBufferPointer(rebasing: bytes[r])) }
        // A type in the catalogue is its row's name, made once (no string made for each payload).
        self.init(
            ledger: string(parts.ledger), id: string(parts.id), type: parts.eventType?.name ?? string(parts.type), eventType: parts.eventType,
            subject: string(parts.subject), expects: parts.expects, signedAt: string(parts.signedAt), body: body)
    }

    /// What a fold needs of a payload laid out as this tool writes it (`laidOut`), when its body's
    /// bytes are canonical (`CanonicalObject(validatingCanonical:)`, as deep as the body of a
    /// payload may be) and its type is in the catalogue: the type, the subject and the body, held
    /// as its bytes. Every check `laidOut` makes is made (the other members are checked, not
    /// kept). Nil for anything else: the caller decodes the payload (`init(bytes:)`), which
    /// decides and names any problem. A body that is canonical is one the general parse accepts
    /// (the canonical form is a subset of JSON), with the same members and values.
    public static func foldParts(_ bytes: UnsafeRawBufferPointer) -> (type: EventType, subject: String, body: CanonicalObject)? {
        guard let (parts, type, body) = canonicalParts(bytes) else { return nil }
        return (type, ascii(UnsafeRawBufferPointer(rebasing: bytes[parts.subject])), body)
    }

    /// What `foldParts` and `laidOutHeader` take (stored payloads, without the NFC rule): the
    /// members' places, the type's row, and the body when its bytes are canonical.
    private static func canonicalParts(_ bytes: UnsafeRawBufferPointer) -> (LaidOutParts, EventType, CanonicalObject)? {
        let limits = Self.limits(requireNFC: false)
        guard let parts = laidOutParts(bytes, limits: limits), let type = parts.eventType,
            let body = CanonicalObject(validatingCanonical: Array(bytes[parts.body]), maxDepth: limits.maxDepth - 1)
        else { return nil }
        return (parts, type, body)
    }

    /// Where `laidOut` finds a payload's members, each checked as it checks them; the body's
    /// object is found (a `{` before the payload's closing brace), not parsed.
    private struct LaidOutParts {
        var ledger: Range<Int>
        var id: Range<Int>
        var type: Range<Int>
        var eventType: EventType?
        var subject: Range<Int>
        var expects: UInt64
        var signedAt: Range<Int>
        var body: Range<Int>
    }

    private static func laidOutParts(_ bytes: UnsafeRawBufferPointer, limits: JSONParser.Limits) -> LaidOutParts? {
        let n = bytes.count
        guard n > 0, n <= limits.maxBytes, bytes[n - 1] == UInt8(ascii: "}") else { return nil }
        var i = 0
        /// Consumes `text` at `i`.
        func literal(_ text: StaticString) -> Bool {
            let k = text.utf8CodeUnitCount
            guard i + k <= n, memcmp(bytes.baseAddress! + i, text.utf8Start, k) == 0 else { return false }
            i += k
            return true
        }
        /// The bytes up to the next quote, which is consumed; nil when one of them is not
        /// printable ASCII or is a backslash (the string would need decoding).
        func plain() -> Range<Int>? {
            let from = i
            // Eight bytes at a time while none is a quote, a backslash or outside 0x20–0x7E.
            while i + 8 <= n {
                let x = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let stops =
                    TokenTable.below0x20(x) | (x & 0x8080_8080_8080_8080) | TokenTable.zeroBytes(x ^ 0x2222_2222_2222_2222)
                    | TokenTable.zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C) | TokenTable.zeroBytes(x ^ 0x7F7F_7F7F_7F7F_7F7F)
                if stops == 0 {
                    i += 8
                } else {
                    i += stops.trailingZeroBitCount >> 3
                    break
                }
            }
            while i < n {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return from..<(i - 1)
                }
                guard c >= 0x20, c < 0x7F, c != UInt8(ascii: "\\") else { return nil }
                i += 1
            }
            return nil
        }
        func raw(_ r: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[r]) }
        guard literal(#"{"ledger":""#), let ledger = plain(), Origin.isValid(raw(ledger)),
            literal(#","id":""#), let id = plain(), UUIDv7.isValid(raw(id)),
            literal(#","type":""#), let type = plain(), isValidType(raw(type)),
            literal(#","subject":""#), let subject = plain(), isValidSubject(raw(subject)),
            literal(#","expects":"#)
        else { return nil }
        // `expects`: what `unsignedIntegerValue` takes, spelled as JSON's grammar allows.
        var expects: UInt64 = 0
        let digitsFrom = i
        while i < n, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            expects = expects * 10 + UInt64(bytes[i] - UInt8(ascii: "0"))
            i += 1
            guard i - digitsFrom <= 15 else { return nil }
        }
        guard i > digitsFrom, bytes[digitsFrom] != UInt8(ascii: "0") || i == digitsFrom + 1,
            literal(#","signedAt":""#), let time = plain(), Timestamp.parseRFC3339(raw(time)) != nil,
            literal(#","body":"#), i < n - 1, bytes[i] == UInt8(ascii: "{")
        else { return nil }
        return LaidOutParts(
            ledger: ledger, id: id, type: type, eventType: EventType(bytes: raw(type)), subject: subject, expects: expects, signedAt: time,
            body: i..<(n - 1))
    }

    /// A string of printable ASCII bytes.
    private static func ascii(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { $0.initialize(fromContentsOf: bytes) }
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
        var t = t
        return t.withUTF8 { isValidType(UnsafeRawBufferPointer($0)) }
    }

    /// `isValidType` of a name's UTF-8 bytes.
    static func isValidType(_ t: UnsafeRawBufferPointer) -> Bool {
        guard t.count <= 64, !t.isEmpty else { return false }
        var segments = 0
        var atStart = true
        let ok = t.allSatisfy { c in
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
        var s = s
        return s.withUTF8 { isValidSubject(UnsafeRawBufferPointer($0)) }
    }

    /// `isValidSubject` of a subject's UTF-8 bytes.
    static func isValidSubject(_ u: UnsafeRawBufferPointer) -> Bool {
        !u.isEmpty && u.count <= 128
            && u.allSatisfy {
                ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 58 || $0 == 45
            }
    }
}
