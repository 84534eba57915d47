import LedgerCore

extension Archive {
    /// How each event changes its subject's state (and, for a merge, the survivor's), read from
    /// its decoded body; `body` is the same body as signed, in canonical form, whose members the
    /// state keeps (copied as bytes: a registration's members, an item of a list). The
    /// domain rules that need the state are checked here. States are kept canonical
    /// (`CanonicalObject`): a rule parses only the members it reads, and an item added to a list
    /// is encoded once and appended to the list's bytes.
    static func fold(
        _ event: ArchiveEvent, subject: String, body: CanonicalObject, index: UInt64, state s: inout CanonicalObject, lookup: some EntityLookup,
        replay: Bool, extra: inout [(id: String, state: CanonicalObject)]
    ) throws(LedgerError) {
        switch event {
        case .facilityRegistered, .actorRegistered, .sourceRegistered, .aggregateReported, .incidentReported, .readerEnrolled:
            preconditionFailure("Archive.fold: the state of an entity an event creates is made by Archive.created")
        case .facilityCorrected(let c), .incidentCorrected(let c), .aggregateCorrected(let c):
            // Fields the state holds as `[]` while not set: `[]` is "not set", and removing one puts `[]` back.
            let emptyDefaults = EmptyArrayDefaults.fields(for: event)
            for (field, value) in c.changes {
                let old = s.raw(field)
                guard let value else {
                    let defaultsToEmpty = emptyDefaults.contains(field)
                    if !replay, old == nil || (defaultsToEmpty && old == emptyList) {
                        throw Archive.ruleError("body.changes.\(field)", "is not set, so there is nothing to remove")
                    }
                    s.setRaw(field, defaultsToEmpty ? emptyList : nil)
                    continue
                }
                if let old, !replay, Canonical.equal(CanonicalObject.parse(old), value) {
                    throw Archive.ruleError("body.changes.\(field)", "the new value equals the current one; a correction must change something")
                }
                s[field] = value
            }
            if case .aggregateCorrected = event, !replay, let parent = c.newValue("partOf")?.stringValue {
                try checkPartOf(parent, subject: subject, lookup: lookup)
            }
        case .facilityAliasAdded(let alias):
            if !replay,
                (s["aliases"]?.arrayValue ?? []).contains(where: {
                    $0.objectValue?["name"]?.stringValue == alias.name && $0.objectValue?["lang"]?.stringValue?.lowercased() == alias.lang.lowercased()
                })
            {
                throw Archive.ruleError("body.alias", "\(subject) already has the alias \"\(Clip.text(alias.name))\" in that language")
            }
            s.append(Canonical.encode(alias.object), toList: "aliases")
        case .facilityDeconflictionRecorded:
            s.append(item(body, index), toList: "deconfliction")
        case .readerRevoked:
            if !replay, s.string("status") == "revoked" {
                throw Archive.ruleError("subject", "\(subject) is already revoked")
            }
            s.setRaw("status", Self.statusRevoked)
            s.setRaw("revocation", item(body, index))
        case .valueErased(let erasure):
            let value = JSONValue.string(erasure.value)
            var erased = s["erased"]?.arrayValue ?? []
            if !replay, erased.contains(value) {
                throw Archive.ruleError("body.value", "the sealed value \(erasure.value) of \(subject) is already erased")
            }
            erased.append(value)
            erased.sort { ($0.stringValue ?? "").utf8.lexicographicallyPrecedes(($1.stringValue ?? "").utf8) }
            s["erased"] = .array(erased)
        case .incidentSourceCited(let citation):
            if !replay, citesAlready(s, source: citation.source, locator: citation.locator) {
                throw Archive.ruleError("body.source", "\(subject) already cites \(citation.source) at that locator")
            }
            s.append(item(body, index), toList: "sources")
        case .attributionClaimed:
            s.append(item(body, index), toList: "claims")
        case .attributionAssessed:
            s.setRaw("assessment", item(body, index))
        case .casualtiesReported:
            s.append(item(body, index), toList: "casualtyReports")
        case .casualtiesAdopted(let adoption):
            var adopted = s["casualties"]?.objectValue ?? JSONObject()
            var figure = body
            figure.setDigits("entry", index)
            figure.setRaw("category", nil)
            adopted[adoption.category] = .object(figure.object)
            s["casualties"] = .object(adopted)
        case .incidentCertaintyGraded(let g):
            if !replay, s["certainty"]?.objectValue?["grade"]?.stringValue == g.certainty {
                throw Archive.ruleError("body.certainty", "\(subject) is already graded \(g.certainty)")
            }
            s.setRaw("certainty", entryObject(index, [("grade", g.certainty), ("reason", g.reason)]))
        case .incidentVerificationChanged(let v):
            let from = s["verification"]?.objectValue?["state"]?.stringValue ?? "unverified"
            if !replay, !(Vocabulary.verificationTransitions[from] ?? []).contains(v.to) {
                let allowed = Vocabulary.verificationTransitions[from] ?? []
                throw Archive.ruleError("body.to", "\(subject) is \(from); from \(from) it may move to \(allowed.joined(separator: " or ")), not \(v.to)")
            }
            s.setRaw("verification", entryObject(index, [("reason", v.reason), ("state", v.to)]))
        case .incidentMerged(let merge):
            let into = merge.into
            if var survivor = try lookup.entity(into) {
                if !replay { try checkSurvivor(survivor, into: into, absorbed: subject, lookup: lookup) }
                survivor.append(JSONWriter.encode(.string(subject)), toList: "absorbed")
                survivor.setDigits("updated", index)
                extra.append((into, survivor))
            } else if !replay {
                throw LedgerError(.refused, "field `body.into`: \(into) is not in the archive")
            }
            s.setRaw("status", Self.statusMerged)
            s["mergedInto"] = .string(into)
            s.setRaw("merge", entryObject(index, [("into", into), ("reason", merge.reason)]))
        case .incidentRetracted:
            s.setRaw("status", Self.statusRetracted)
            s.setRaw("retraction", item(body, index))
        case .incidentReinstated:
            if !replay, s.string("status") != "retracted" {
                throw LedgerError(.refused, "\(subject) is not retracted, so it cannot be reinstated")
            }
            s.setRaw("status", Self.statusActive)
            s.setRaw("retraction", nil)
        }
    }

    /// The state event `event` gives the subject it creates, `subject` of kind `kind`, at entry
    /// `index`: its id, kind, `created` and `updated`, the lists and objects it starts with, and
    /// the body's members (a body's list replaces the empty one it would start with); a report's
    /// `sources` are its source ids, each with the entry that cited it. Made as the members in key
    /// order, into which the body is merged in one pass (setting them one by one moved the bytes
    /// after each member set).
    static func created(_ event: ArchiveEvent, subject: String, kind: EntityKind, body: CanonicalObject, index: UInt64) -> CanonicalObject {
        let digits = JSONWriter.digits(index)
        let id = JSONWriter.encode(.string(subject))
        let entity = JSONWriter.encode(.string(kind.rawValue))
        let members: [(key: StaticString, value: [UInt8])]
        switch event {
        case .facilityRegistered:
            members = [
                ("aliases", emptyList), ("created", digits), ("deconfliction", emptyList), ("entity", entity), ("id", id), ("operators", emptyList),
                ("updated", digits),
            ]
        case .actorRegistered, .sourceRegistered:
            members = [("created", digits), ("entity", entity), ("id", id), ("updated", digits)]
        case .aggregateReported:
            members = [("created", digits), ("entity", entity), ("id", id), ("includes", emptyList), ("updated", digits)]
        case .incidentReported:
            members = [
                ("absorbed", emptyList), ("casualties", emptyObject), ("casualtyReports", emptyList), ("claims", emptyList), ("created", digits),
                ("entity", entity), ("externalIds", emptyList), ("facilities", emptyList), ("id", id), ("means", emptyList), ("status", statusActive),
                ("updated", digits), ("verification", unverified),
            ]
        case .readerEnrolled:
            members = [("created", digits), ("entity", entity), ("id", id), ("status", statusActive), ("updated", digits)]
        default:
            preconditionFailure("Archive.created: the event does not create an entity")
        }
        var s = CanonicalObject(sortedMembers: members)
        copy(body, into: &s)
        if case .incidentReported(let report) = event {
            var sources: [UInt8] = [UInt8(ascii: "[")]
            for source in report.sources {
                if sources.count > 1 { sources.append(UInt8(ascii: ",")) }
                sources += entryObject(index, [("source", source)])
            }
            sources.append(UInt8(ascii: "]"))
            s.setRaw("sources", sources)
        }
        return s
    }

    /// A refusal by a rule that needs the archive's state (exit 3), naming the field.
    static func ruleError(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.refused, "field `\(field)`: \(problem)")
    }

    /// An aggregate's `partOf` chain must not lead back to it (only a correction can close one).
    private static func checkPartOf(_ parent: String, subject: String, lookup: some EntityLookup) throws(LedgerError) {
        var chain = [subject, parent]
        var next: String? = parent
        while let id = next, chain.count < 10_000 {
            guard let state = try lookup.entity(id) else { return }
            next = state.string("partOf")
            guard let n = next else { return }
            chain.append(n)
            if n == subject {
                throw ruleError("body.changes.partOf", "part-of cycle: \(chain.joined(separator: " → "))")
            }
        }
    }

    /// A merge survivor must be an active incident, and merging must not close a cycle.
    private static func checkSurvivor(_ survivor: CanonicalObject, into: String, absorbed: String, lookup: some EntityLookup) throws(LedgerError) {
        switch survivor.string("status") {
        case "retracted":
            throw LedgerError(.refused, "field `body.into`: \(into) is retracted; an incident cannot be merged into a retracted one")
        case "merged":
            // Follow the chain: if it leads back to the absorbed incident, this merge would close a cycle.
            var chain = [into]
            var current = survivor
            while current.string("status") == "merged", let next = current.string("mergedInto"), chain.count < 10_000 {
                chain.append(next)
                if next == absorbed {
                    throw LedgerError(
                        .refused,
                        "field `body.into`: merge cycle: \(chain.joined(separator: " → ")); \(into) already resolves to \(absorbed), so "
                            + "\(absorbed) cannot be merged into it")
                }
                guard let n = try lookup.entity(next) else { break }
                current = n
            }
            throw LedgerError(
                .refused,
                "field `body.into`: \(into) was already merged into \(survivor.string("mergedInto") ?? "another incident"); merge into "
                    + "\(chain.last!) instead")
        default:
            return
        }
    }

    /// Whether a state's `sources` (canonical bytes) already cite `source` at `locator` (nil:
    /// none). An item is parsed only when its source has the same bytes: source ids are ASCII,
    /// so different bytes are different ids.
    private static func citesAlready(_ s: CanonicalObject, source: String, locator: String?) -> Bool {
        let want = JSONWriter.encode(.string(source))
        return s.withRaw("sources") { b, list in
            CanonicalObject.firstItem(in: b, list: list, member: sourceKey) { item, r in
                guard let r, b[r].elementsEqual(want) else { return false }
                let cited = CanonicalObject.parse(Array(b[item])).objectValue
                return cited?["locator"]?.stringValue == locator
            }
        } ?? false
    }

    private static let sourceKey: [UInt8] = Array(#""source""#.utf8)

    static let statusActive: [UInt8] = Array(#""active""#.utf8)
    private static let statusMerged: [UInt8] = Array(#""merged""#.utf8)
    private static let statusRetracted: [UInt8] = Array(#""retracted""#.utf8)
    private static let statusRevoked: [UInt8] = Array(#""revoked""#.utf8)

    /// The canonical bytes of an empty list, an empty object, and a new incident's verification.
    private static let emptyList: [UInt8] = Array("[]".utf8)
    private static let emptyObject: [UInt8] = Array("{}".utf8)
    private static let unverified: [UInt8] = Array(#"{"state":"unverified"}"#.utf8)

    private static func copy(_ body: CanonicalObject, into s: inout CanonicalObject) { s.merge(body) }

    /// The canonical bytes of the body with the entry's index added as member `entry`: an item
    /// of a list, or a member, of the state (a body has no member `entry`: its schema allows none).
    private static func item(_ body: CanonicalObject, _ index: UInt64) -> [UInt8] { body.encoded(settingDigits: index, as: "entry") }

    /// The canonical bytes of an object of the entry's index (`entry`) and string `members`,
    /// whose names follow `entry` in key order and are in key order themselves.
    private static func entryObject(_ index: UInt64, _ members: [(name: StaticString, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + members.reduce(0) { $0 + $1.value.utf8.count })
        out.append(contentsOf: #"{"entry":"#.utf8)
        JSONWriter.appendDigits(index, to: &out)
        for m in members {
            out.append(contentsOf: #",""#.utf8)
            out.append(contentsOf: UnsafeBufferPointer(start: m.name.utf8Start, count: m.name.utf8CodeUnitCount))
            out.append(contentsOf: #"":"#.utf8)
            JSONWriter.writeString(m.value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Canonical JSON: object members sorted by key (UTF-8 byte order), no white space. The form
/// of every projected state and snapshot, so equal states have equal bytes.
public enum Canonical {
    public static func encode(_ v: JSONValue) -> [UInt8] { JSONWriter.encode(v, sortedKeys: true) }
    public static func encode(_ o: JSONObject) -> [UInt8] { JSONWriter.encode(.object(o), sortedKeys: true) }
    /// True when the two values mean the same: members compared by name whatever their order,
    /// numbers by value (`35.1`, `35.10` and `3.51e1` are one number), the rest exactly.
    public static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            return x == y || NumberValue(x) == NumberValue(y)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            let order: ((key: String, value: JSONValue), (key: String, value: JSONValue)) -> Bool = { JSONWriter.utf8Precedes($0.key, $1.key) }
            return zip(x.members.sorted(by: order), y.members.sorted(by: order)).allSatisfy { $0.key.sameBytes($1.key) && equal($0.value, $1.value) }
        default:
            return a == b
        }
    }
}

/// A JSON number literal reduced to sign, significant digits and exponent, so that two
/// spellings of one value compare equal (`-0` equals `0`).
struct NumberValue: Equatable {
    var negative = false
    var digits: [UInt8] = []
    var exponent = 0

    init(_ literal: String) {
        var bytes = Array(literal.utf8)
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes.removeFirst()
        }
        var mantissa = bytes
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = Array(bytes[..<e])
            // RFC 8259 exponents are short in any payload the parser accepts; clamp for safety.
            exponent = Int(String(decoding: bytes[(e + 1)...], as: UTF8.self).prefix(18)) ?? 0
        }
        if let dot = mantissa.firstIndex(of: UInt8(ascii: ".")) {
            exponent -= mantissa.count - dot - 1
            mantissa.remove(at: dot)
        }
        var start = 0
        while start < mantissa.count, mantissa[start] == UInt8(ascii: "0") { start += 1 }
        digits = Array(mantissa[start...])
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty {
            negative = false
            exponent = 0
        }
    }
}
