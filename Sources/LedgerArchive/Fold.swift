import LedgerCore

extension Archive {
    /// How each event type changes its subject's state (and, for a merge, the survivor's).
    /// The body has passed its schema; the domain rules that need the state are checked here.
    static func fold(
        type: EventType, subject: String, body: JSONObject, index: UInt64, state s: inout JSONObject, lookup: some EntityLookup, replay: Bool,
        extra: inout [(id: String, state: JSONObject)]
    ) throws(LedgerError) {
        let entry = JSONValue.number(String(index))
        switch type {
        case .facilityRegistered:
            copy(body, into: &s)
            if s["aliases"] == nil { s["aliases"] = .array([]) }
            if s["operators"] == nil { s["operators"] = .array([]) }
            s["deconfliction"] = .array([])
        case .actorRegistered, .sourceRegistered:
            copy(body, into: &s)
        case .aggregateReported:
            copy(body, into: &s)
            if s["includes"] == nil { s["includes"] = .array([]) }
        case .incidentReported:
            copy(body, into: &s)
            for key in ["facilities", "means", "externalIds"] where s[key] == nil { s[key] = .array([]) }
            let cited = body["sources"]?.arrayValue ?? []
            s["sources"] = .array(cited.map { .object(JSONObject(uniqueMembers: [("entry", entry), ("source", $0)])) })
            s["claims"] = .array([])
            s["casualtyReports"] = .array([])
            s["casualties"] = .object(JSONObject())
            s["verification"] = .object(JSONObject(uniqueMembers: [("state", .string("unverified"))]))
            s["status"] = .string("active")
            s["absorbed"] = .array([])
        case .facilityCorrected, .incidentCorrected, .aggregateCorrected:
            let changes = body["changes"]!.objectValue!
            // Fields the state holds as `[]` while not set: `[]` is "not set", and removing one puts `[]` back.
            let emptyDefaults = EmptyArrayDefaults.fields(for: type)
            for m in changes.members {
                let old = s[m.key]
                if m.value == .null {
                    let defaultsToEmpty = emptyDefaults.contains(m.key)
                    if !replay, old == nil || (defaultsToEmpty && old == .array([])) {
                        throw Archive.ruleError("body.changes.\(m.key)", "is not set, so there is nothing to remove")
                    }
                    s[m.key] = defaultsToEmpty ? .array([]) : nil
                } else {
                    if let old, !replay, Canonical.equal(old, m.value) {
                        throw Archive.ruleError("body.changes.\(m.key)", "the new value equals the current one; a correction must change something")
                    }
                    s[m.key] = m.value
                }
            }
            if type == .aggregateCorrected, !replay, let parent = changes["partOf"]?.stringValue {
                try checkPartOf(parent, subject: subject, lookup: lookup)
            }
        case .facilityAliasAdded:
            let alias = body["alias"]!.objectValue!
            var aliases = s["aliases"]?.arrayValue ?? []
            if !replay,
                aliases.contains(where: {
                    $0.objectValue?["name"] == alias["name"] && $0.objectValue?["lang"]?.stringValue?.lowercased() == alias["lang"]?.stringValue?.lowercased()
                })
            {
                throw Archive.ruleError("body.alias", "\(subject) already has the alias \"\(Clip.text(alias["name"]?.stringValue ?? ""))\" in that language")
            }
            aliases.append(.object(alias))
            s["aliases"] = .array(aliases)
        case .facilityDeconflictionRecorded:
            append(body, entry: entry, to: "deconfliction", in: &s)
        case .readerEnrolled:
            copy(body, into: &s)
            s["status"] = .string("active")
        case .readerRevoked:
            if !replay, s["status"]?.stringValue == "revoked" {
                throw Archive.ruleError("subject", "\(subject) is already revoked")
            }
            s["status"] = .string("revoked")
            s["revocation"] = .object(with(body, entry: entry))
        case .valueErased:
            let value = body["value"]!
            var erased = s["erased"]?.arrayValue ?? []
            if !replay, erased.contains(value) {
                throw Archive.ruleError("body.value", "the sealed value \(value.stringValue!) of \(subject) is already erased")
            }
            erased.append(value)
            erased.sort { ($0.stringValue ?? "").utf8.lexicographicallyPrecedes(($1.stringValue ?? "").utf8) }
            s["erased"] = .array(erased)
        case .incidentSourceCited:
            let cited = s["sources"]?.arrayValue ?? []
            if !replay, cited.contains(where: { $0.objectValue?["source"] == body["source"] && $0.objectValue?["locator"] == body["locator"] }) {
                throw Archive.ruleError("body.source", "\(subject) already cites \(body["source"]!.stringValue!) at that locator")
            }
            append(body, entry: entry, to: "sources", in: &s)
        case .attributionClaimed:
            append(body, entry: entry, to: "claims", in: &s)
        case .attributionAssessed:
            s["assessment"] = .object(with(body, entry: entry))
        case .casualtiesReported:
            append(body, entry: entry, to: "casualtyReports", in: &s)
        case .casualtiesAdopted:
            var adopted = s["casualties"]?.objectValue ?? JSONObject()
            var figure = with(body, entry: entry)
            figure["category"] = nil
            adopted[body["category"]!.stringValue!] = .object(figure)
            s["casualties"] = .object(adopted)
        case .incidentCertaintyGraded:
            let grade = body["certainty"]!
            if !replay, s["certainty"]?.objectValue?["grade"] == grade {
                throw Archive.ruleError("body.certainty", "\(subject) is already graded \(grade.stringValue!)")
            }
            s["certainty"] = .object(JSONObject(uniqueMembers: [("entry", entry), ("grade", grade), ("reason", body["reason"]!)]))
        case .incidentVerificationChanged:
            let to = body["to"]!.stringValue!
            let from = s["verification"]?.objectValue?["state"]?.stringValue ?? "unverified"
            if !replay, !(Vocabulary.verificationTransitions[from] ?? []).contains(to) {
                let allowed = Vocabulary.verificationTransitions[from] ?? []
                throw Archive.ruleError("body.to", "\(subject) is \(from); from \(from) it may move to \(allowed.joined(separator: " or ")), not \(to)")
            }
            s["verification"] = .object(JSONObject(uniqueMembers: [("entry", entry), ("reason", body["reason"]!), ("state", .string(to))]))
        case .incidentMerged:
            let into = body["into"]!.stringValue!
            if var survivor = try lookup.state(of: into) {
                if !replay { try checkSurvivor(survivor, into: into, absorbed: subject, lookup: lookup) }
                var absorbed = survivor["absorbed"]?.arrayValue ?? []
                absorbed.append(.string(subject))
                survivor["absorbed"] = .array(absorbed)
                survivor["updated"] = entry
                extra.append((into, survivor))
            } else if !replay {
                throw LedgerError(.refused, "field `body.into`: \(into) is not in the archive")
            }
            s["status"] = .string("merged")
            s["mergedInto"] = .string(into)
            s["merge"] = .object(JSONObject(uniqueMembers: [("entry", entry), ("into", .string(into)), ("reason", body["reason"]!)]))
        case .incidentRetracted:
            s["status"] = .string("retracted")
            s["retraction"] = .object(with(body, entry: entry))
        case .incidentReinstated:
            if !replay, s["status"]?.stringValue != "retracted" {
                throw LedgerError(.refused, "\(subject) is not retracted, so it cannot be reinstated")
            }
            s["status"] = .string("active")
            s["retraction"] = nil
        case .genesis, .keyEnrolled, .keyRevoked:
            break
        }
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
            guard let state = try lookup.state(of: id) else { return }
            next = state["partOf"]?.stringValue
            guard let n = next else { return }
            chain.append(n)
            if n == subject {
                throw ruleError("body.changes.partOf", "part-of cycle: \(chain.joined(separator: " → "))")
            }
        }
    }

    /// A merge survivor must be an active incident, and merging must not close a cycle.
    private static func checkSurvivor(_ survivor: JSONObject, into: String, absorbed: String, lookup: some EntityLookup) throws(LedgerError) {
        switch survivor["status"]?.stringValue {
        case "retracted":
            throw LedgerError(.refused, "field `body.into`: \(into) is retracted; an incident cannot be merged into a retracted one")
        case "merged":
            // Follow the chain: if it leads back to the absorbed incident, this merge would close a cycle.
            var chain = [into]
            var current = survivor
            while current["status"]?.stringValue == "merged", let next = current["mergedInto"]?.stringValue, chain.count < 10_000 {
                chain.append(next)
                if next == absorbed {
                    throw LedgerError(
                        .refused,
                        "field `body.into`: merge cycle: \(chain.joined(separator: " → ")); \(into) already resolves to \(absorbed), so "
                            + "\(absorbed) cannot be merged into it")
                }
                guard let n = try lookup.state(of: next) else { break }
                current = n
            }
            throw LedgerError(
                .refused,
                "field `body.into`: \(into) was already merged into \(survivor["mergedInto"]?.stringValue ?? "another incident"); merge into "
                    + "\(chain.last!) instead")
        default:
            return
        }
    }

    private static func copy(_ body: JSONObject, into s: inout JSONObject) {
        for m in body.members { s[m.key] = m.value }
    }

    /// The body with the entry's index added (in key order when the body is: bodies of payloads
    /// our tools sign are).
    private static func with(_ body: JSONObject, entry: JSONValue) -> JSONObject {
        var o = body
        o.setInKeyOrder("entry", entry)
        return o
    }

    private static func append(_ body: JSONObject, entry: JSONValue, to key: String, in s: inout JSONObject) {
        var items: [JSONValue] = []
        if case .array(let a)? = s[key] { items = a }
        s[key] = .null  // drop the state's reference, so appending does not copy the array
        items.append(.object(with(body, entry: entry)))
        s[key] = .array(items)
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
