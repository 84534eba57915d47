import LedgerCore
import LedgerCrypto

/// Sealed field values (docs/EVENTS.md §9, docs/FORMAT.md §9). A sealed value is never in the
/// signed payload: the payload holds a marker `{"sealed": COMMITMENT}`, where COMMITMENT is the
/// lowercase hex of SHA-256(`incidentledger-sealed-value/1` ‖ LF ‖ salt ‖ canonical value), and
/// the value itself, with its 32-byte random salt (its **opening**), is kept encrypted beside
/// the log. Signatures, the Merkle tree, checkpoints and proofs cover the marker only, so they
/// stay valid when the value is erased.
public enum Sealing {
    /// The tiers of body fields (docs/EVENTS.md §9).
    public enum Tier: String, Sendable {
        /// In the signed log, in every view and in public exports and pages.
        case `public`
        /// In the signed log (so in audit bundles) but left out of public exports and pages.
        case restricted
        /// Never in the signed log: a commitment there, the value encrypted beside it.
        case sealed
    }

    /// One place in a body where a sealed value goes.
    public struct SealedField: Sendable {
        /// The event type.
        public let type: EventType
        /// The path of members from the body (`["location", "coordinates"]`).
        public let path: [String]
        /// Whether a plain value there must be sealed (nil: always). Coordinates of an incident
        /// or an aggregate are sealed only at a precision finer than a town.
        let when: (@Sendable (JSONValue) -> Bool)?

        /// The field as messages name it (`body.location.coordinates`).
        public var field: String { (["body"] + path).joined(separator: ".") }

        func mustSeal(_ v: JSONValue) -> Bool { when?(v) ?? true }
    }

    /// Coordinates finer than a town: a point that locates a building.
    @Sendable static func fineCoordinates(_ v: JSONValue) -> Bool {
        guard let p = v.objectValue?["precision"]?.stringValue else { return true }
        return !["town", "district", "governorate"].contains(p)
    }

    /// Every sealed field (docs/EVENTS.md §9): facility coordinates, deconfliction records'
    /// coordinates and notes, place coordinates finer than a town, the witness behind a source,
    /// the names of people in a casualty report.
    public static let fields: [SealedField] = [
        SealedField(type: .facilityRegistered, path: ["location", "coordinates"], when: nil),
        SealedField(type: .facilityCorrected, path: ["changes", "location", "coordinates"], when: nil),
        SealedField(type: .facilityDeconflictionRecorded, path: ["coordinates"], when: nil),
        SealedField(type: .facilityDeconflictionRecorded, path: ["note"], when: nil),
        SealedField(type: .incidentReported, path: ["place", "coordinates"], when: fineCoordinates),
        SealedField(type: .incidentCorrected, path: ["changes", "place", "coordinates"], when: fineCoordinates),
        SealedField(type: .aggregateReported, path: ["place", "coordinates"], when: fineCoordinates),
        SealedField(type: .aggregateCorrected, path: ["changes", "place", "coordinates"], when: fineCoordinates),
        SealedField(type: .sourceRegistered, path: ["witness"], when: nil),
        SealedField(type: .casualtiesReported, path: ["persons"], when: nil),
    ]

    /// The sealed fields of one event type.
    public static func fields(of type: EventType) -> [SealedField] { fields.filter { $0.type == type } }

    // MARK: - Markers and commitments

    /// The commitment a marker holds, or nil when `v` is not a marker.
    public static func commitment(_ v: JSONValue) -> String? {
        guard let o = v.objectValue, o.count == 1, let c = o["sealed"]?.stringValue else { return nil }
        return c
    }

    /// True when `s` is a well-formed commitment: 64 lowercase hex digits.
    public static func isCommitment(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The marker for `commitment`.
    public static func marker(_ commitment: String) -> JSONValue {
        .object(JSONObject(uniqueMembers: [("sealed", .string(commitment))]))
    }

    /// Checks a marker at `path`: exactly `{"sealed": 64 hex digits}`. Nil when `v` is no marker.
    static func checkMarker(_ v: JSONValue, path: String) throws(LedgerError) -> String? {
        guard let o = v.objectValue, o["sealed"] != nil else { return nil }
        _ = try BodyReader(.tree(o), path: path, allowed: ["sealed"])
        guard let c = o["sealed"]?.stringValue, isCommitment(c) else {
            throw BodyReader.error("\(path).sealed", "must be a commitment: 64 lowercase hex digits")
        }
        return c
    }

    /// The commitment to `value` with `salt` (32 bytes).
    public static func commit(salt: [UInt8], value: JSONValue) -> String {
        var h = SHA256.Hasher()
        h.update(Array("incidentledger-sealed-value/1\n".utf8))
        h.update(salt)
        h.update(JSONWriter.encode(value, sortedKeys: true))
        return Hex.encode(h.finalize().bytes)
    }

    /// A sealed value's opening: the value and the salt it was committed with.
    public struct Opening: Sendable, Equatable {
        public var salt: [UInt8]
        public var value: JSONValue
        public init(salt: [UInt8], value: JSONValue) {
            self.salt = salt
            self.value = value
        }
        public var commitment: String { Sealing.commit(salt: salt, value: value) }

        /// The bytes that are encrypted: `{"salt":BASE64,"value":VALUE}`, keys sorted.
        public func encoded() -> [UInt8] {
            JSONWriter.encode(.object(JSONObject(uniqueMembers: [("salt", .string(Base64.encode(salt))), ("value", value)])), sortedKeys: true)
        }

        /// Reads `encoded()` bytes; nil when they are not an opening.
        public init?(bytes: [UInt8]) {
            guard let o = try? JSONParser.parseObject(bytes, limits: .init(maxBytes: 1 << 20, maxDepth: 64, requireNFC: false)), o.count == 2,
                let s = o["salt"]?.stringValue, let salt = Base64.decode(s), salt.count == 32, let v = o["value"]
            else { return nil }
            self.init(salt: salt, value: v)
        }
    }

    /// The associated data a sealed value's ciphertext is bound to: its commitment.
    public static func associatedData(_ commitment: String) -> [UInt8] { Array("incidentledger-sealed-value/1 \(commitment)".utf8) }

    // MARK: - Sealing a body

    /// A value taken out of a body: where it was, and its opening.
    public struct Sealed: Sendable {
        /// The field (`body.location.coordinates`).
        public var field: String
        public var opening: Opening
        public var commitment: String
    }

    /// Replaces every plain value at a sealed field of `type` that must be sealed by a marker,
    /// with a fresh random salt each; returns the new body and what was taken out.
    public static func seal(type: EventType, body: JSONObject) -> (JSONObject, [Sealed]) {
        var body = body
        var out: [Sealed] = []
        for f in fields(of: type) {
            guard let v = value(at: f.path, in: body), commitment(v) == nil, f.mustSeal(v) else { continue }
            let opening = Opening(salt: SecureRandom.bytes(32), value: v)
            let c = opening.commitment
            set(marker(c), at: f.path, in: &body)
            out.append(Sealed(field: f.field, opening: opening, commitment: c))
        }
        return (body, out)
    }

    /// The first sealed field of `type` in `body` that holds a plain value that must be sealed,
    /// or nil. New events are refused with such a value (it would be in the signed log for good).
    public static func unsealedField(type: EventType, body: JSONObject) -> SealedField? {
        fields(of: type).first { f in
            guard let v = value(at: f.path, in: body) else { return false }
            return commitment(v) == nil && f.mustSeal(v)
        }
    }

    /// Every marker at a sealed field of `type` in `body`: its field and commitment.
    public static func markers(type: EventType, body: JSONObject) -> [(field: String, commitment: String)] {
        fields(of: type).compactMap { f in
            guard let v = value(at: f.path, in: body), let c = commitment(v) else { return nil }
            return (f.field, c)
        }
    }

    /// Sets the value at `field` (`body.location.coordinates`) of a body.
    public static func setValue(_ new: JSONValue, at field: String, in body: inout JSONObject) {
        set(new, at: field.split(separator: ".").dropFirst().map(String.init), in: &body)
    }

    static func value(at path: [String], in object: JSONObject) -> JSONValue? {
        var v: JSONValue = .object(object)
        for key in path {
            guard let next = v.objectValue?[key] else { return nil }
            v = next
        }
        return v
    }

    static func set(_ new: JSONValue, at path: [String], in object: inout JSONObject) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = new
            return
        }
        guard var inner = object[first]?.objectValue else { return }
        set(new, at: Array(path.dropFirst()), in: &inner)
        object[first] = .object(inner)
    }

    // MARK: - Opening a state

    /// What a view shows in place of a marker.
    public enum Shown: Sendable {
        /// The value (opened with a reader key, its commitment checked).
        case value(JSONValue)
        /// Left sealed: no reader key given, or none of its wrapped keys is for the reader.
        case sealed
        /// Its data key was destroyed (`ledger erase`): no one can read it again.
        case erased
    }

    /// `value` with every marker replaced as `open` says: `.value` by the value; `.sealed` and
    /// `.erased` by the marker with a member `shown` saying which (`{"sealed": C, "shown": "erased"}`),
    /// so that a reader of the JSON sees why the value is missing.
    public static func open(_ value: JSONValue, _ open: (String) throws(LedgerError) -> Shown) throws(LedgerError) -> JSONValue {
        switch value {
        case .object(let o):
            if let c = commitment(value), isCommitment(c) {
                switch try open(c) {
                case .value(let v): return v
                case .sealed: return value
                case .erased: return .object(JSONObject(uniqueMembers: [("erased", .bool(true)), ("sealed", .string(c))]))
                }
            }
            var members: [(key: String, value: JSONValue)] = []
            for m in o.members { members.append((m.key, try Sealing.open(m.value, open))) }
            return .object(JSONObject(uniqueMembers: members))
        case .array(let items):
            var out: [JSONValue] = []
            for v in items { out.append(try Sealing.open(v, open)) }
            return .array(out)
        default:
            return value
        }
    }

    /// `value` without its sealed values' markers (a member holding one is left out, an array
    /// item that is one is dropped); nil when `value` is itself a marker. For public pages, which
    /// show neither sealed values nor their commitments.
    public static func strippingMarkers(_ value: JSONValue) -> JSONValue? {
        if commitment(value) != nil { return nil }
        switch value {
        case .object(let o):
            return .object(JSONObject(uniqueMembers: o.members.compactMap { m in strippingMarkers(m.value).map { (m.key, $0) } }))
        case .array(let items):
            return .array(items.compactMap(strippingMarkers))
        default:
            return value
        }
    }

    /// Every commitment held by a marker anywhere in `value`.
    public static func commitments(in value: JSONValue, into out: inout [String]) {
        switch value {
        case .object(let o):
            if let c = commitment(value), isCommitment(c) {
                out.append(c)
                return
            }
            for m in o.members { commitments(in: m.value, into: &out) }
        case .array(let items): for v in items { commitments(in: v, into: &out) }
        default: break
        }
    }
}
