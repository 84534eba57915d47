import LedgerCore
import LedgerCrypto

/// Reads the current state of entities while an event is applied.
public protocol EntityLookup {
    /// The entity's state, or nil when no event has created it.
    func state(of id: String) throws(LedgerError) -> JSONObject?
    /// Whether an event has created the entity (what a mention of anything but an incident needs).
    func contains(_ id: String) throws(LedgerError) -> Bool
    /// The entity's state in the form the fold keeps it (nil when no event has created it).
    func entity(_ id: String) throws(LedgerError) -> CanonicalObject?
}

extension EntityLookup {
    public func contains(_ id: String) throws(LedgerError) -> Bool { try state(of: id) != nil }
    public func entity(_ id: String) throws(LedgerError) -> CanonicalObject? { try state(of: id).map(CanonicalObject.init) }
}

/// The effect of one archive event: the new states of the entities it changed, and the ids of
/// every entity it concerns: its subject and the facilities it names (a facility's view lists the
/// incidents that hit it). The changed entities are concerned too; mentions of actors and sources
/// are not recorded (no view needs them: incidents by perpetrator come from the index).
public struct ArchiveChange: Sendable {
    public var changed: [(id: String, state: CanonicalObject)]
    public var concerns: [String]
}

/// The archive's event types: body schemas, the rules against the current state, and how each
/// event changes the state of the entities it concerns (docs/EVENTS.md). Pure: no I/O.
public enum Archive {
    /// Version of the projection the fold produces; stored projections of another version are rebuilt.
    /// Version 2: removing (null) a field whose state defaults to `[]` puts `[]` back (docs/EVENTS.md §5).
    public static let projectionVersion = 2

    /// Checks an archive event's subject and body against its schema, without any state.
    /// Types outside the archive (genesis, key events) pass unchecked.
    public static func checkBody(type: String, subject: String, body: JSONObject) throws(LedgerError) {
        guard let t = EventType(name: type) else { return }
        _ = try parse(type: t, subject: subject, body: body)
    }

    /// Applies one event: checks its body, the rules against the current state (`lookup`), and
    /// returns the entities' new states. Nil for types outside the archive.
    ///
    /// With `replay`, the events were checked when they were appended and only some entities are
    /// being rebuilt (a view as of an earlier moment): mentioned entities are not looked up, and
    /// an entity the lookup does not hold is folded from an empty placeholder, for the caller to
    /// discard.
    ///
    /// `latestDay` (yyyymmdd, `latestDay(recordedAt:)` of the entry's record time), when given, refuses any
    /// date field (`datedFields`) that begins after it (docs/EVENTS.md §2).
    public static func apply(
        type: String, subject: String, body: JSONObject, index: UInt64, lookup: some EntityLookup, replay: Bool = false, latestDay: Int? = nil
    ) throws(LedgerError) -> ArchiveChange? {
        guard let t = EventType(name: type) else { return nil }
        return try apply(type: t, subject: subject, body: body, index: index, lookup: lookup, replay: replay, latestDay: latestDay)
    }

    /// `apply` for a type already read from the catalogue.
    public static func apply(
        type: EventType, subject: String, body: JSONObject, index: UInt64, lookup: some EntityLookup, replay: Bool = false, latestDay: Int? = nil
    ) throws(LedgerError) -> ArchiveChange? {
        guard let checked = try check(type: type, subject: subject, body: body, lookup: lookup, replay: replay, latestDay: latestDay) else { return nil }
        return try apply(checked, subject: subject, body: body, index: index, current: try lookup.entity(subject), lookup: lookup, replay: replay)
    }

    /// An archive event whose body passed its schema, its date rule and its references to other
    /// entities: what `apply(_:subject:body:index:current:lookup:replay:)` folds.
    public struct CheckedEvent: Sendable {
        let type: EventType
        let kind: EntityKind
        let mentions: [Mention]
    }

    /// The checks of an event that do not need its subject's state, in the order they are
    /// reported: the body's schema, the date rule (with `latestDay`), then every entity the body
    /// names (unless `replay`). Nil for types outside the archive.
    public static func check(
        type: EventType, subject: String, body: JSONObject, lookup: some EntityLookup, replay: Bool, latestDay: Int?
    ) throws(LedgerError) -> CheckedEvent? {
        guard let checked = try checkAlone(type: type, subject: subject, body: body, latestDay: latestDay) else { return nil }
        if !replay { try checkMentions(checked, lookup: lookup) }
        return checked
    }

    /// The first part of `check`, which needs no state at all: the body's schema and the date
    /// rule. Pure, so a fold may run it for a whole batch on other threads (`Prechecked`) while
    /// it folds the batch before.
    public static func checkAlone(type: EventType, subject: String, body: JSONObject, latestDay: Int?) throws(LedgerError) -> CheckedEvent? {
        guard type.isArchive, let kind = type.entityKind ?? EntityID.kind(of: subject), let parsed = try parse(type: type, subject: subject, body: body)
        else { return nil }
        if let latestDay { try checkDates(body, latestDay: latestDay) }
        return CheckedEvent(type: type, kind: kind, mentions: parsed.mentions)
    }

    /// The rest of `check`: every entity the body names must be in the archive, and an incident
    /// named must be active.
    static func checkMentions(_ checked: CheckedEvent, lookup: some EntityLookup) throws(LedgerError) {
        for m in checked.mentions {
            // Only an incident's state is needed (its status); for the rest, that it exists.
            let s = m.kind == .incident ? try lookup.entity(m.id) : nil
            let exists = m.kind == .incident ? s != nil : try lookup.contains(m.id)
            guard exists else {
                throw LedgerError(.refused, "field `\(m.field)`: \(m.id) is not in the archive; register it first")
            }
            if let s, s.string("status") != "active" {
                throw LedgerError(.refused, "field `\(m.field)`: \(m.id) is \(describeStatus(s)); it cannot be referred to")
            }
        }
    }

    /// The outcome of `checkAlone` for one event, made ahead of its fold (on any thread).
    public struct Prechecked: Sendable {
        let outcome: Result<CheckedEvent?, LedgerError>

        public init(type: EventType?, subject: String, body: JSONObject, latestDay: Int?) {
            guard let type else {
                outcome = .success(nil)
                return
            }
            do throws(LedgerError) { outcome = .success(try checkAlone(type: type, subject: subject, body: body, latestDay: latestDay)) } catch {
                outcome = .failure(error)
            }
        }
    }

    /// The rest of `apply` for a checked event, with the subject's current state given
    /// (`current`) rather than looked up: a caller that hands over the only copy (see
    /// `ArchiveState.applyOwning`) lets the fold change it in place instead of copying it.
    /// `lookup` still serves every other entity; the subject's own state is never looked up
    /// again (the merge and `partOf` chains stop at the subject by id first).
    public static func apply(
        _ checked: CheckedEvent, subject: String, body: JSONObject, index: UInt64, current: consuming CanonicalObject?, lookup: some EntityLookup,
        replay: Bool
    ) throws(LedgerError) -> ArchiveChange {
        let type = checked.type
        let kind = checked.kind
        var state: CanonicalObject
        if type.creates {
            guard current == nil else { throw LedgerError(.refused, "\(subject) already exists; choose another id") }
            state = CanonicalObject()
            state["id"] = .string(subject)
            state["entity"] = .string(kind.rawValue)
            state.setRaw("created", entryBytes(index))
        } else if replay, current == nil {
            state = CanonicalObject()
            state["id"] = .string(subject)
            state["entity"] = .string(kind.rawValue)
        } else {
            guard let existing = consume current else { throw LedgerError(.refused, "\(subject) is not in the archive; \(creatingType(kind)) it first") }
            state = existing
            if kind == .incident, !replay, type != .valueErased {
                let status = state.string("status")
                if status == "merged" {
                    throw LedgerError(.refused, "\(subject) is \(describeStatus(state)); record this on the incident it was merged into")
                }
                if status == "retracted", type != .incidentReinstated {
                    throw LedgerError(.refused, "\(subject) is retracted; reinstate it before changing it")
                }
            }
        }
        var extra: [(id: String, state: CanonicalObject)] = []
        try fold(type: type, subject: subject, body: body, index: index, state: &state, lookup: lookup, replay: replay, extra: &extra)
        state.setRaw("updated", entryBytes(index))
        var concerns = [subject]
        for m in checked.mentions where m.kind == .facility && !concerns.contains(m.id) { concerns.append(m.id) }
        return ArchiveChange(changed: [(subject, state)] + extra, concerns: concerns)
    }

    /// The EDTF fields that say when something happened or was said, at the top of a body or in
    /// a correction's `changes`.
    public static let datedFields = ["occurred", "period", "statedOn", "sharedOn", "published", "claimedOn", "asOf"]

    /// The last day a date in an event recorded at `t` may begin on: the UTC day after the
    /// record's, because where the event was witnessed the calendar may already be a day ahead of
    /// UTC (up to 14 hours), as yyyymmdd.
    public static func latestDay(recordedAt t: Timestamp) -> Int {
        Timestamp(microseconds: t.microseconds + 86_400_000_000).day
    }

    /// Refuses a date field whose earliest possible day is after `latestDay` (yyyymmdd): an event
    /// cannot report what had not begun when it was recorded. An open or unknown start passes.
    static func checkDates(_ body: JSONObject, latestDay: Int) throws(LedgerError) {
        var containers = [(body, "body")]
        if case .object(let changes)? = body["changes"] { containers.append((changes, "body.changes")) }
        for (object, path) in containers {
            for name in datedFields {
                guard let text = object[name]?.stringValue, let date = EDTF(text), let earliest = date.earliest, earliest > latestDay else { continue }
                throw BodyReader.error(
                    "\(path).\(name)",
                    "\"\(Clip.text(text))\" begins after \(PublicExport.day(latestDay)), the day after this event's record day (UTC): a date cannot lie in the future of "
                        + "its record (check the year)")
            }
        }
    }

    static func creatingType(_ kind: EntityKind) -> String {
        switch kind {
        case .incident: return "report"
        case .facility, .actor, .source, .aggregate: return "register"
        case .reader: return "enrol"
        }
    }

    /// The canonical bytes of an entry index (a JSON number).
    static func entryBytes(_ index: UInt64) -> [UInt8] { Array(String(index).utf8) }

    static func describeStatus(_ s: CanonicalObject) -> String {
        switch s.string("status") {
        case "merged": return "merged into \(s.string("mergedInto") ?? "another incident")"
        case "retracted": return "retracted"
        default: return "active"
        }
    }

    // MARK: - Schemas

    struct Parsed {
        var mentions: [Mention]
    }

    private static func parse(type: EventType, subject: String, body: JSONObject) throws(LedgerError) -> Parsed? {
        guard type.isArchive else { return nil }
        if type.entityKind == nil {
            guard EntityID.kind(of: subject) != nil else {
                throw LedgerError(
                    .malformed,
                    "field `subject`: \(Grammar.a(type.name)) \(type.name) event is about an archive entity; its subject must be `KIND:NAME`, found \"\(Clip.text(subject))\""
                )
            }
        }
        if let kind = type.entityKind, EntityID.kind(of: subject) != kind {
            throw LedgerError(
                .malformed,
                "field `subject`: \(Grammar.a(type.name)) \(type.name) event is about \(Grammar.a(kind.rawValue)) \(kind.rawValue); its subject must be "
                    + "`\(kind.rawValue):NAME` (NAME: 1–\(EntityID.maxNameBytes) of A–Z a–z 0–9 . _ -), found \"\(Clip.text(subject))\"")
        }
        var mentions: [Mention] = []
        switch type {
        case .facilityRegistered:
            mentions = try fields(body, FacilityFields.all, extra: ["aliases"])
            if let a = body["aliases"] {
                for (i, item) in try Schema.array(a, path: "body.aliases", allowEmpty: true, max: 100).enumerated() {
                    try alias(item, path: "body.aliases[\(i)]")
                }
            }
        case .incidentReported:
            mentions = try fields(body, IncidentFields.all, extra: ["sources"])
            if let s = body["sources"] {
                var seen = Set<String>()
                for (i, item) in try Schema.array(s, path: "body.sources", allowEmpty: true, max: 100).enumerated() {
                    let id = try Schema.ref(item, .source, path: "body.sources[\(i)]")
                    guard seen.insert(id).inserted else { throw BodyReader.error("body.sources[\(i)]", "\(id) is listed twice") }
                    mentions.append(Mention(id: id, kind: .source, field: "body.sources[\(i)]"))
                }
            }
        case .facilityCorrected:
            mentions = try correction(body, FacilityFields.all, entity: "facilities")
        case .incidentCorrected:
            mentions = try correction(body, IncidentFields.all, entity: "incidents")
        case .aggregateReported:
            mentions = try fields(body, AggregateFields.all, extra: [])
            if mentions.contains(where: { $0.id == subject }) {
                throw BodyReader.error("body.partOf", "an aggregate cannot be part of itself")
            }
        case .aggregateCorrected:
            mentions = try correction(body, AggregateFields.all, entity: "aggregates")
            if mentions.contains(where: { $0.id == subject }) {
                throw BodyReader.error("body.changes.partOf", "an aggregate cannot be part of itself")
            }
        case .facilityAliasAdded:
            let r = try BodyReader(body, path: "body", allowed: ["alias"])
            try alias(try r.value("alias"), path: "body.alias")
        case .facilityDeconflictionRecorded:
            let r = try BodyReader(body, path: "body", allowed: ["sharedWith", "sharedOn", "coordinates", "note"])
            _ = try r.text("sharedWith", max: 300)
            _ = try Schema.edtf(try r.value("sharedOn"), path: "body.sharedOn")
            if let c = body["coordinates"] { try PlaceSchema.coordinates(c, path: "body.coordinates") }
            if let n = body["note"], try Sealing.checkMarker(n, path: "body.note") == nil { _ = try r.text("note", max: 2000) }
        case .actorRegistered:
            let r = try BodyReader(body, path: "body", allowed: ["names", "type", "country", "partOf", "note"])
            _ = try Schema.languageTexts(try r.value("names"), path: "body.names", max: 300)
            _ = try r.choice("type", Vocabulary.actorTypes)
            if let c = body["country"] {
                guard let s = c.stringValue, s.utf8.count == 2, s.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                    throw BodyReader.error("body.country", "must be an ISO 3166-1 alpha-2 code in capitals, e.g. \"SY\"")
                }
            }
            if let p = try r.ref("partOf", .actor, required: false) {
                guard p != subject else { throw BodyReader.error("body.partOf", "an actor cannot be part of itself") }
                mentions.append(Mention(id: p, kind: .actor, field: "body.partOf"))
            }
            if let n = body["note"] { _ = try Schema.languageTexts(n, path: "body.note", max: 5000) }
        case .sourceRegistered:
            let r = try BodyReader(body, path: "body", allowed: ["publisher", "title", "lang", "type", "url", "published", "archivedSha256", "witness"])
            if let w = body["witness"], try Sealing.checkMarker(w, path: "body.witness") == nil { _ = try r.text("witness", max: 300) }
            _ = try r.text("publisher", max: 300)
            _ = try r.text("title", max: 1000)
            _ = try Schema.languageTag(try r.value("lang"), path: "body.lang")
            _ = try r.choice("type", Vocabulary.sourceTypes)
            if let u = body["url"] { _ = try Schema.url(u, path: "body.url") }
            if let d = body["published"] { _ = try Schema.edtf(d, path: "body.published") }
            if let h = body["archivedSha256"] { _ = try Schema.sha256Hex(h, path: "body.archivedSha256") }
        case .incidentSourceCited:
            let r = try BodyReader(body, path: "body", allowed: ["source", "locator", "note"])
            let s = try r.ref("source", .source)!
            mentions.append(Mention(id: s, kind: .source, field: "body.source"))
            _ = try r.text("locator", max: 300, required: false)
            _ = try r.text("note", max: 2000, required: false)
        case .attributionClaimed:
            let r = try BodyReader(
                body, path: "body", allowed: ["claimant", "perpetrator", "stance", "basis", "source", "claimedOn", "statement", "alternative"])
            let claimant = try r.value("claimant")
            guard let c = claimant.stringValue, let k = EntityID.kind(of: c), k == .actor || k == .source else {
                throw BodyReader.error("body.claimant", "must be the id of a registered actor or source (`actor:…` or `source:…`)")
            }
            mentions.append(Mention(id: c, kind: k, field: "body.claimant"))
            mentions += try perpetrator(try r.value("perpetrator"), path: "body.perpetrator")
            _ = try r.choice("stance", Vocabulary.stances)
            try uniqueChoices(try r.value("basis"), Vocabulary.attributionBases, path: "body.basis", allowEmpty: false)
            if let s = try r.ref("source", .source, required: false) { mentions.append(Mention(id: s, kind: .source, field: "body.source")) }
            if let d = body["claimedOn"] { _ = try Schema.edtf(d, path: "body.claimedOn") }
            _ = try r.text("statement", max: 2000, required: false)
            _ = try r.text("alternative", max: 2000, required: false)
        case .attributionAssessed:
            let r = try BodyReader(body, path: "body", allowed: ["perpetrator", "confidence", "rationale"])
            let p = try r.value("perpetrator")
            if p != .null { mentions += try perpetrator(p, path: "body.perpetrator") }
            _ = try r.choice("confidence", Vocabulary.confidences)
            _ = try r.text("rationale", max: 5000)
        case .casualtiesReported:
            let r = try BodyReader(body, path: "body", allowed: ["source", "category", "min", "max", "asOf", "note", "persons"])
            let s = try r.ref("source", .source)!
            mentions.append(Mention(id: s, kind: .source, field: "body.source"))
            _ = try r.choice("category", Vocabulary.casualtyCategories)
            try range(r)
            if let d = body["asOf"] { _ = try Schema.edtf(d, path: "body.asOf") }
            _ = try r.text("note", max: 2000, required: false)
            if let p = body["persons"], try Sealing.checkMarker(p, path: "body.persons") == nil {
                for (i, item) in try Schema.array(p, path: "body.persons", allowEmpty: false, max: 1000).enumerated() {
                    _ = try Schema.text(item, path: "body.persons[\(i)]", max: 300)
                }
            }
        case .casualtiesAdopted:
            let r = try BodyReader(body, path: "body", allowed: ["category", "min", "max", "rule", "note"])
            _ = try r.choice("category", Vocabulary.casualtyCategories)
            try range(r)
            _ = try r.choice("rule", Vocabulary.adoptionRules)
            _ = try r.text("note", max: 2000, required: false)
        case .incidentCertaintyGraded:
            let r = try BodyReader(body, path: "body", allowed: ["certainty", "reason"])
            _ = try r.choice("certainty", Vocabulary.certainties)
            _ = try r.text("reason", max: 2000)
        case .incidentVerificationChanged:
            let r = try BodyReader(body, path: "body", allowed: ["to", "reason"])
            _ = try r.choice("to", Vocabulary.verificationStates)
            _ = try r.text("reason", max: 2000)
        case .incidentMerged:
            let r = try BodyReader(body, path: "body", allowed: ["into", "reason"])
            let into = try r.ref("into", .incident)!
            guard into != subject else { throw BodyReader.error("body.into", "an incident cannot be merged into itself") }
            // The survivor is checked in `fold`, which names a merge cycle precisely.
            _ = try r.text("reason", max: 2000)
        case .incidentRetracted, .incidentReinstated:
            let r = try BodyReader(body, path: "body", allowed: ["reason"])
            _ = try r.text("reason", max: 2000)
        case .readerEnrolled:
            let r = try BodyReader(body, path: "body", allowed: ["name", "encryptionKey"])
            _ = try r.text("name", max: 100)
            guard let k = try r.value("encryptionKey").stringValue, let key = Base64.decode(k), key.count == 32 else {
                throw BodyReader.error("body.encryptionKey", "must be the base64 of a 32-byte X25519 public key")
            }
            guard ValueSealing.isUsableReaderKey(key) else {
                throw BodyReader.error("body.encryptionKey", "is not a usable X25519 public key (a point of small order)")
            }
        case .readerRevoked:
            let r = try BodyReader(body, path: "body", allowed: ["reason"])
            _ = try r.text("reason", max: 2000)
        case .valueErased:
            let r = try BodyReader(body, path: "body", allowed: ["value", "reason"])
            guard let c = try r.value("value").stringValue, Sealing.isCommitment(c) else {
                throw BodyReader.error("body.value", "must be the commitment of a sealed value: 64 lowercase hex digits")
            }
            _ = try r.text("reason", max: 2000)
        case .genesis, .keyEnrolled, .keyRevoked:
            return nil
        }
        return Parsed(mentions: mentions)
    }

    /// Checks the schema fields of a creating event (required ones present) plus `extra` members.
    private static func fields(_ body: JSONObject, _ schema: [FieldSchema], extra: [String]) throws(LedgerError) -> [Mention] {
        _ = try BodyReader(body, path: "body", allowed: schema.map(\.name) + extra)
        var mentions: [Mention] = []
        for f in schema {
            guard let v = body[f.name] else {
                if f.required { throw LedgerError(.malformed, "field `body.\(f.name)` is missing") }
                continue
            }
            mentions += try f.check(v, "body.\(f.name)")
        }
        return mentions
    }

    /// `{"changes": {FIELD: VALUE or null}, "reason": TEXT}`.
    private static func correction(_ body: JSONObject, _ schema: [FieldSchema], entity: String) throws(LedgerError) -> [Mention] {
        let r = try BodyReader(body, path: "body", allowed: ["changes", "reason"])
        guard let changes = try r.value("changes").objectValue else { throw BodyReader.error("body.changes", "must be an object from field name to new value") }
        guard changes.count > 0 else { throw BodyReader.error("body.changes", "must change at least one field") }
        _ = try r.text("reason", max: 2000)
        var mentions: [Mention] = []
        for m in changes.members {
            let p = "body.changes.\(Clip.text(m.key))"
            guard let f = schema.first(where: { $0.name == m.key }) else {
                throw BodyReader.error(
                    p, "\(entity) have no field \"\(Clip.text(m.key))\"; the fields a correction may change are \(schema.map(\.name).joined(separator: ", "))")
            }
            if m.value == .null {
                guard !f.required else { throw BodyReader.error(p, "is required and cannot be removed (null); give a new value") }
                continue
            }
            mentions += try f.check(m.value, p)
        }
        return mentions
    }

    private static func alias(_ v: JSONValue, path: String) throws(LedgerError) {
        let r = try BodyReader(v, path: path, allowed: ["name", "lang", "kind"])
        _ = try r.text("name", max: 300)
        _ = try Schema.languageTag(try r.value("lang"), path: r.field("lang"))
        _ = try r.choice("kind", Vocabulary.aliasKinds)
    }

    private static func range(_ r: BodyReader) throws(LedgerError) {
        let lo = try Schema.count(try r.value("min"), path: "body.min")
        let hi = try Schema.count(try r.value("max"), path: "body.max")
        guard lo <= hi else { throw BodyReader.error("body.min", "min \(lo) is greater than max \(hi)") }
    }
}
