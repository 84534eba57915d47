import LedgerCore
import LedgerCrypto

/// An archive event's body decoded once, by its schema (docs/EVENTS.md §3–4), into typed values:
/// the bodies of the event catalogue whose table of types is `EventType`. `decode` runs every
/// schema check and names the field of the first that fails, as the schemas always have; the
/// fold switches over the result and reads no member of the body's JSON for a rule.
///
/// What a state keeps of a body (a registration's members, an item of a list) is still written
/// from the signed body's own members, not re-made from these values: the state holds what was
/// signed, member for member (docs/DECISIONS.md 99).
///
/// Types outside the archive (genesis, key events) have no case: `decode` gives nil for them.
public indirect enum ArchiveEvent: Sendable {
    case facilityRegistered(FacilityRegistration)
    case actorRegistered(ActorRegistration)
    case sourceRegistered(SourceRegistration)
    case aggregateReported(Registration)
    case incidentReported(IncidentReport)
    case readerEnrolled(ReaderEnrolment)
    case facilityCorrected(Correction)
    case incidentCorrected(Correction)
    case aggregateCorrected(Correction)
    case facilityAliasAdded(Alias)
    case facilityDeconflictionRecorded(Deconfliction)
    case incidentSourceCited(SourceCitation)
    case attributionClaimed(AttributionClaim)
    case attributionAssessed(AttributionAssessment)
    case casualtiesReported(CasualtyReport)
    case casualtiesAdopted(CasualtyAdoption)
    case incidentCertaintyGraded(CertaintyGrade)
    case incidentVerificationChanged(VerificationChange)
    case incidentMerged(Merge)
    case incidentRetracted(Reason)
    case incidentReinstated(Reason)
    case readerRevoked(Reason)
    case valueErased(ValueErasure)

    /// A text field that may be sealed (docs/EVENTS.md §9): the text, or the commitment its
    /// marker names.
    public enum SealableText: Sendable, Equatable {
        case text(String)
        case sealed(commitment: String)
    }

    /// A creating event whose fields are listed in a schema (aggregates): checked, and copied
    /// into the state from the body as signed.
    public struct Registration: Sendable {}

    /// A facility's registration: its schema's fields (`FacilityFields`) are checked and copied
    /// into the state from the body as signed.
    public struct FacilityRegistration: Sendable {
        public var aliases: [Alias]
    }

    /// An incident's report: its schema's fields (`IncidentFields`) are checked and copied into
    /// the state from the body as signed.
    public struct IncidentReport: Sendable {
        /// The sources cited with the report, in the body's order (distinct).
        public var sources: [String]
    }

    public struct ActorRegistration: Sendable {
        /// Names by language tag.
        public var names: JSONObject
        public var type: String
        public var country: String?
        public var partOf: String?
        public var note: JSONObject?
    }

    public struct SourceRegistration: Sendable {
        public var publisher: String
        public var title: String
        public var lang: String
        public var type: String
        public var url: String?
        public var published: EDTF?
        public var archivedSha256: String?
        public var witness: SealableText?
    }

    public struct ReaderEnrolment: Sendable {
        public var name: String
        /// The reader's X25519 public key (32 bytes).
        public var encryptionKey: [UInt8]
    }

    /// A correction: each field named, with its new value (nil: removed), in the body's order.
    public struct Correction: Sendable {
        public var changes: [(field: String, value: JSONValue?)]
        public var reason: String

        /// The new value of `field`, when the correction sets one.
        public func newValue(_ field: String) -> JSONValue? {
            for c in changes where c.field == field { return c.value }
            return nil
        }
    }

    public struct Alias: Sendable {
        public var name: String
        public var lang: String
        public var kind: String
        /// The alias as signed (what the facility's `aliases` list keeps).
        public var object: JSONObject
    }

    public struct Deconfliction: Sendable {
        public var sharedWith: String
        public var sharedOn: EDTF
        public var coordinates: JSONValue?
        public var note: SealableText?
    }

    public struct SourceCitation: Sendable {
        public var source: String
        public var locator: String?
        public var note: String?
    }

    /// A perpetrator: one actor, or two or more of whom one is meant.
    public enum Perpetrator: Sendable, Equatable {
        case actor(String)
        case eitherOf([String])
    }

    public struct AttributionClaim: Sendable {
        /// An actor or a source.
        public var claimant: String
        public var perpetrator: Perpetrator
        public var stance: String
        public var basis: [String]
        public var source: String?
        public var claimedOn: EDTF?
        public var statement: String?
        public var alternative: String?
    }

    public struct AttributionAssessment: Sendable {
        /// Nil: the archive names no perpetrator (`null`).
        public var perpetrator: Perpetrator?
        public var confidence: String
        public var rationale: String
    }

    public struct CasualtyReport: Sendable {
        public var source: String
        public var category: String
        public var min: UInt64
        public var max: UInt64
        public var asOf: EDTF?
        public var note: String?
        /// The persons named; nil when the body names none.
        public var persons: Persons?

        public enum Persons: Sendable, Equatable {
            case names([String])
            case sealed(commitment: String)
        }
    }

    public struct CasualtyAdoption: Sendable {
        public var category: String
        public var min: UInt64
        public var max: UInt64
        public var rule: String
        public var note: String?
    }

    public struct CertaintyGrade: Sendable {
        public var certainty: String
        public var reason: String
    }

    public struct VerificationChange: Sendable {
        public var to: String
        public var reason: String
    }

    public struct Merge: Sendable {
        public var into: String
        public var reason: String
    }

    public struct Reason: Sendable {
        public var reason: String
    }

    public struct ValueErasure: Sendable {
        /// The commitment of the sealed value erased.
        public var value: String
        public var reason: String
    }
}

extension ArchiveEvent {
    /// Whether folding this event may change its subject's incident index row (the members
    /// `IncidentIndexRow` reads: `occurred`, `place`, `status`, `certainty`, `verification`,
    /// `facilities`, the claims' perpetrators and the assessment). An append rewrites the index
    /// row of an incident only when one of its events does; the other events on an incident
    /// (a source cited, casualty figures, an erased sealed value) and a merge survivor's new
    /// `absorbed` item leave it as it was.
    public var changesIncidentIndex: Bool {
        switch self {
        case .incidentReported, .incidentCorrected, .attributionClaimed, .attributionAssessed, .incidentCertaintyGraded, .incidentVerificationChanged,
            .incidentMerged, .incidentRetracted, .incidentReinstated:
            return true
        case .facilityRegistered, .actorRegistered, .sourceRegistered, .aggregateReported, .readerEnrolled, .facilityCorrected, .aggregateCorrected,
            .facilityAliasAdded, .facilityDeconflictionRecorded, .incidentSourceCited, .casualtiesReported, .casualtiesAdopted, .readerRevoked, .valueErased:
            return false
        }
    }

    /// The decoded body and the entities it names (to be checked against the archive and
    /// indexed), in the order the checks report them.
    struct Decoded {
        var event: ArchiveEvent
        var mentions: [Mention]
        /// The body's date fields (`Archive.datedFields`), parsed once here for the date rule.
        var dates: [Dated]
    }

    /// A date field of a body: its path and its date.
    struct Dated {
        var path: String
        var date: EDTF
        /// Its place in `Archive.datedFields`: the order in which the date rule reports.
        var rank: Int

        /// Nil for a field the date rule does not check.
        init?(_ name: String, in container: String, _ date: EDTF) {
            guard let rank = Archive.datedFields.firstIndex(of: name) else { return nil }
            (path, self.date, self.rank) = ("\(container).\(name)", date, rank)
        }
    }

    /// Checks `body` against the schema of `type` and decodes it; nil for a type outside the
    /// archive. The subject's form is checked first (`KIND:NAME` of the type's kind).
    static func decode(type: EventType, subject: String, body: BodyMembers) throws(LedgerError) -> Decoded? {
        guard type.isArchive else { return nil }
        try checkSubject(type: type, subject: subject)
        var mentions: [Mention] = []
        var dates: [Dated] = []
        /// A typed date member of the body.
        func dated(_ name: String, _ date: EDTF?) {
            if let date, let d = Dated(name, in: "body", date) { dates.append(d) }
        }
        let event: ArchiveEvent
        switch type {
        case .facilityRegistered:
            mentions = try fields(body, FacilityFields.all, extra: ["aliases"], dates: &dates)
            var aliases: [Alias] = []
            if let a = body["aliases"] {
                for (i, item) in try Schema.array(a, path: "body.aliases", allowEmpty: true, max: 100).enumerated() {
                    aliases.append(try alias(item, path: "body.aliases[\(i)]"))
                }
            }
            event = .facilityRegistered(FacilityRegistration(aliases: aliases))
        case .incidentReported:
            mentions = try fields(body, IncidentFields.all, extra: ["sources"], dates: &dates)
            var sources: [String] = []
            if let s = body["sources"] {
                for (i, item) in try Schema.array(s, path: "body.sources", allowEmpty: true, max: 100).enumerated() {
                    let id = try Schema.ref(item, .source, path: "body.sources[\(i)]")
                    guard !sources.contains(id) else { throw BodyReader.error("body.sources[\(i)]", "\(id) is listed twice") }
                    sources.append(id)
                    mentions.append(Mention(id: id, kind: .source, field: "body.sources[\(i)]"))
                }
            }
            event = .incidentReported(IncidentReport(sources: sources))
        case .facilityCorrected:
            let (c, m) = try correction(body, FacilityFields.all, entity: "facilities", dates: &dates)
            (event, mentions) = (.facilityCorrected(c), m)
        case .incidentCorrected:
            let (c, m) = try correction(body, IncidentFields.all, entity: "incidents", dates: &dates)
            (event, mentions) = (.incidentCorrected(c), m)
        case .aggregateReported:
            mentions = try fields(body, AggregateFields.all, extra: [], dates: &dates)
            if mentions.contains(where: { $0.id == subject }) {
                throw BodyReader.error("body.partOf", "an aggregate cannot be part of itself")
            }
            event = .aggregateReported(Registration())
        case .aggregateCorrected:
            let (c, m) = try correction(body, AggregateFields.all, entity: "aggregates", dates: &dates)
            if m.contains(where: { $0.id == subject }) {
                throw BodyReader.error("body.changes.partOf", "an aggregate cannot be part of itself")
            }
            (event, mentions) = (.aggregateCorrected(c), m)
        case .facilityAliasAdded:
            let r = try BodyReader(body, path: "body", allowed: ["alias"])
            event = .facilityAliasAdded(try alias(try r.value("alias"), path: "body.alias"))
        case .facilityDeconflictionRecorded:
            let r = try BodyReader(body, path: "body", allowed: ["sharedWith", "sharedOn", "coordinates", "note"])
            let sharedWith = try r.text("sharedWith", max: 300)!
            let sharedOn = try Schema.edtf(try r.value("sharedOn"), path: "body.sharedOn")
            if let c = body["coordinates"] { try PlaceSchema.coordinates(c, path: "body.coordinates") }
            let note = try sealableText(r, "note", max: 2000)
            dated("sharedOn", sharedOn)
            event = .facilityDeconflictionRecorded(Deconfliction(sharedWith: sharedWith, sharedOn: sharedOn, coordinates: body["coordinates"], note: note))
        case .actorRegistered:
            let r = try BodyReader(body, path: "body", allowed: ["names", "type", "country", "partOf", "note"])
            let names = try Schema.languageTexts(try r.value("names"), path: "body.names", max: 300)
            let actorType = try r.choice("type", Vocabulary.actorTypes)!
            var country: String?
            if let c = body["country"] {
                guard let s = c.stringValue, s.utf8.count == 2, s.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                    throw BodyReader.error("body.country", "must be an ISO 3166-1 alpha-2 code in capitals, e.g. \"SY\"")
                }
                country = s
            }
            let partOf = try r.ref("partOf", .actor, required: false)
            if let p = partOf {
                guard p != subject else { throw BodyReader.error("body.partOf", "an actor cannot be part of itself") }
                mentions.append(Mention(id: p, kind: .actor, field: "body.partOf"))
            }
            var note: JSONObject?
            if let n = body["note"] { note = try Schema.languageTexts(n, path: "body.note", max: 5000) }
            event = .actorRegistered(ActorRegistration(names: names, type: actorType, country: country, partOf: partOf, note: note))
        case .sourceRegistered:
            let r = try BodyReader(body, path: "body", allowed: ["publisher", "title", "lang", "type", "url", "published", "archivedSha256", "witness"])
            let witness = try sealableText(r, "witness", max: 300)
            let publisher = try r.text("publisher", max: 300)!
            let title = try r.text("title", max: 1000)!
            let lang = try Schema.languageTag(try r.value("lang"), path: "body.lang")
            let sourceType = try r.choice("type", Vocabulary.sourceTypes)!
            var url: String?
            if let u = body["url"] { url = try Schema.url(u, path: "body.url") }
            var published: EDTF?
            if let d = body["published"] { published = try Schema.edtf(d, path: "body.published") }
            dated("published", published)
            var hash: String?
            if let h = body["archivedSha256"] { hash = try Schema.sha256Hex(h, path: "body.archivedSha256") }
            event = .sourceRegistered(
                SourceRegistration(
                    publisher: publisher, title: title, lang: lang, type: sourceType, url: url, published: published, archivedSha256: hash, witness: witness))
        case .incidentSourceCited:
            let r = try BodyReader(body, path: "body", allowed: ["source", "locator", "note"])
            let s = try r.ref("source", .source)!
            mentions.append(Mention(id: s, kind: .source, field: "body.source"))
            let locator = try r.text("locator", max: 300, required: false)
            let note = try r.text("note", max: 2000, required: false)
            event = .incidentSourceCited(SourceCitation(source: s, locator: locator, note: note))
        case .attributionClaimed:
            let r = try BodyReader(
                body, path: "body", allowed: ["claimant", "perpetrator", "stance", "basis", "source", "claimedOn", "statement", "alternative"])
            let claimant = try r.value("claimant")
            guard let c = claimant.stringValue, let k = EntityID.kind(of: c), k == .actor || k == .source else {
                throw BodyReader.error("body.claimant", "must be the id of a registered actor or source (`actor:…` or `source:…`)")
            }
            mentions.append(Mention(id: c, kind: k, field: "body.claimant"))
            let (perpetrator, named) = try Self.perpetrator(try r.value("perpetrator"), path: "body.perpetrator")
            mentions += named
            let stance = try r.choice("stance", Vocabulary.stances)!
            let basis = try uniqueChoices(try r.value("basis"), Vocabulary.attributionBases, path: "body.basis", allowEmpty: false)
            let source = try r.ref("source", .source, required: false)
            if let source { mentions.append(Mention(id: source, kind: .source, field: "body.source")) }
            var claimedOn: EDTF?
            if let d = body["claimedOn"] { claimedOn = try Schema.edtf(d, path: "body.claimedOn") }
            dated("claimedOn", claimedOn)
            let statement = try r.text("statement", max: 2000, required: false)
            let alternative = try r.text("alternative", max: 2000, required: false)
            event = .attributionClaimed(
                AttributionClaim(
                    claimant: c, perpetrator: perpetrator, stance: stance, basis: basis, source: source, claimedOn: claimedOn, statement: statement,
                    alternative: alternative))
        case .attributionAssessed:
            let r = try BodyReader(body, path: "body", allowed: ["perpetrator", "confidence", "rationale"])
            let p = try r.value("perpetrator")
            var perpetrator: Perpetrator?
            if p != .null {
                let (value, named) = try Self.perpetrator(p, path: "body.perpetrator")
                (perpetrator, mentions) = (value, named)
            }
            let confidence = try r.choice("confidence", Vocabulary.confidences)!
            let rationale = try r.text("rationale", max: 5000)!
            event = .attributionAssessed(AttributionAssessment(perpetrator: perpetrator, confidence: confidence, rationale: rationale))
        case .casualtiesReported:
            let r = try BodyReader(body, path: "body", allowed: ["source", "category", "min", "max", "asOf", "note", "persons"])
            let s = try r.ref("source", .source)!
            mentions.append(Mention(id: s, kind: .source, field: "body.source"))
            let category = try r.choice("category", Vocabulary.casualtyCategories)!
            let (lo, hi) = try range(r)
            var asOf: EDTF?
            if let d = body["asOf"] { asOf = try Schema.edtf(d, path: "body.asOf") }
            dated("asOf", asOf)
            let note = try r.text("note", max: 2000, required: false)
            var persons: CasualtyReport.Persons?
            if let p = body["persons"] {
                if let commitment = try Sealing.checkMarker(p, path: "body.persons") {
                    persons = .sealed(commitment: commitment)
                } else {
                    var names: [String] = []
                    for (i, item) in try Schema.array(p, path: "body.persons", allowEmpty: false, max: 1000).enumerated() {
                        names.append(try Schema.text(item, path: "body.persons[\(i)]", max: 300))
                    }
                    persons = .names(names)
                }
            }
            event = .casualtiesReported(CasualtyReport(source: s, category: category, min: lo, max: hi, asOf: asOf, note: note, persons: persons))
        case .casualtiesAdopted:
            let r = try BodyReader(body, path: "body", allowed: ["category", "min", "max", "rule", "note"])
            let category = try r.choice("category", Vocabulary.casualtyCategories)!
            let (lo, hi) = try range(r)
            let rule = try r.choice("rule", Vocabulary.adoptionRules)!
            let note = try r.text("note", max: 2000, required: false)
            event = .casualtiesAdopted(CasualtyAdoption(category: category, min: lo, max: hi, rule: rule, note: note))
        case .incidentCertaintyGraded:
            let r = try BodyReader(body, path: "body", allowed: ["certainty", "reason"])
            let certainty = try r.choice("certainty", Vocabulary.certainties)!
            event = .incidentCertaintyGraded(CertaintyGrade(certainty: certainty, reason: try r.text("reason", max: 2000)!))
        case .incidentVerificationChanged:
            let r = try BodyReader(body, path: "body", allowed: ["to", "reason"])
            let to = try r.choice("to", Vocabulary.verificationStates)!
            event = .incidentVerificationChanged(VerificationChange(to: to, reason: try r.text("reason", max: 2000)!))
        case .incidentMerged:
            let r = try BodyReader(body, path: "body", allowed: ["into", "reason"])
            let into = try r.ref("into", .incident)!
            guard into != subject else { throw BodyReader.error("body.into", "an incident cannot be merged into itself") }
            // The survivor is checked in `fold`, which names a merge cycle precisely.
            event = .incidentMerged(Merge(into: into, reason: try r.text("reason", max: 2000)!))
        case .incidentRetracted:
            event = .incidentRetracted(try reason(body))
        case .incidentReinstated:
            event = .incidentReinstated(try reason(body))
        case .readerEnrolled:
            let r = try BodyReader(body, path: "body", allowed: ["name", "encryptionKey"])
            let name = try r.text("name", max: 100)!
            guard let k = try r.value("encryptionKey").stringValue, let key = Base64.decode(k), key.count == 32 else {
                throw BodyReader.error("body.encryptionKey", "must be the base64 of a 32-byte X25519 public key")
            }
            guard ValueSealing.isUsableReaderKey(key) else {
                throw BodyReader.error("body.encryptionKey", "is not a usable X25519 public key (a point of small order)")
            }
            event = .readerEnrolled(ReaderEnrolment(name: name, encryptionKey: key))
        case .readerRevoked:
            event = .readerRevoked(try reason(body))
        case .valueErased:
            let r = try BodyReader(body, path: "body", allowed: ["value", "reason"])
            guard let c = try r.value("value").stringValue, Sealing.isCommitment(c) else {
                throw BodyReader.error("body.value", "must be the commitment of a sealed value: 64 lowercase hex digits")
            }
            event = .valueErased(ValueErasure(value: c, reason: try r.text("reason", max: 2000)!))
        case .genesis, .keyEnrolled, .keyRevoked:
            return nil
        }
        return Decoded(event: event, mentions: mentions, dates: dates)
    }

    /// The subject must be an archive entity's id, of the type's kind when the type has one.
    private static func checkSubject(type: EventType, subject: String) throws(LedgerError) {
        guard let kind = type.entityKind else {
            guard EntityID.kind(of: subject) != nil else {
                throw LedgerError(
                    .malformed,
                    "field `subject`: \(Grammar.a(type.name)) \(type.name) event is about an archive entity; its subject must be `KIND:NAME`, found \"\(Clip.text(subject))\""
                )
            }
            return
        }
        if EntityID.kind(of: subject) != kind {
            throw LedgerError(
                .malformed,
                "field `subject`: \(Grammar.a(type.name)) \(type.name) event is about \(Grammar.a(kind.rawValue)) \(kind.rawValue); its subject must be "
                    + "`\(kind.rawValue):NAME` (NAME: 1–\(EntityID.maxNameBytes) of A–Z a–z 0–9 . _ -), found \"\(Clip.text(subject))\"")
        }
    }

    /// Checks the schema fields of a creating event (required ones present) plus `extra` members;
    /// adds its dates to `dates`.
    private static func fields(_ body: BodyMembers, _ schema: [FieldSchema], extra: [String], dates: inout [Dated]) throws(LedgerError) -> [Mention] {
        _ = try BodyReader(body, path: "body", allowed: schema.map(\.name) + extra)
        var mentions: [Mention] = []
        for f in schema {
            guard let v = body[f.name] else {
                if f.required { throw LedgerError(.malformed, "field `body.\(f.name)` is missing") }
                continue
            }
            mentions += try read(f, v, path: "body.\(f.name)", container: "body", dates: &dates)
        }
        return mentions
    }

    /// `{"changes": {FIELD: VALUE or null}, "reason": TEXT}`.
    private static func correction(_ body: BodyMembers, _ schema: [FieldSchema], entity: String, dates: inout [Dated]) throws(LedgerError) -> (
        Correction, [Mention]
    ) {
        let r = try BodyReader(body, path: "body", allowed: ["changes", "reason"])
        guard let changes = try r.value("changes").objectValue else { throw BodyReader.error("body.changes", "must be an object from field name to new value") }
        guard changes.count > 0 else { throw BodyReader.error("body.changes", "must change at least one field") }
        let reason = try r.text("reason", max: 2000)!
        var mentions: [Mention] = []
        var out: [(field: String, value: JSONValue?)] = []
        out.reserveCapacity(changes.count)
        for m in changes.members {
            let p = "body.changes.\(Clip.text(m.key))"
            guard let f = schema.first(where: { $0.name == m.key }) else {
                throw BodyReader.error(
                    p, "\(entity) have no field \"\(Clip.text(m.key))\"; the fields a correction may change are \(schema.map(\.name).joined(separator: ", "))")
            }
            if m.value == .null {
                guard !f.required else { throw BodyReader.error(p, "is required and cannot be removed (null); give a new value") }
                out.append((m.key, nil))
                continue
            }
            mentions += try read(f, m.value, path: p, container: "body.changes", dates: &dates)
            out.append((m.key, m.value))
        }
        return (Correction(changes: out, reason: reason), mentions)
    }

    /// Checks one schema field's value: the entities it mentions; a date is parsed once, here,
    /// and kept for the date rule.
    private static func read(_ f: FieldSchema, _ v: JSONValue, path: String, container: String, dates: inout [Dated]) throws(LedgerError) -> [Mention] {
        switch f.check {
        case .value(let check):
            return try check(v, path)
        case .date:
            if let d = Dated(f.name, in: container, try Schema.edtf(v, path: path)) { dates.append(d) }
            return []
        }
    }

    private static func alias(_ v: JSONValue, path: String) throws(LedgerError) -> Alias {
        let r = try BodyReader(v, path: path, allowed: ["name", "lang", "kind"])
        let name = try r.text("name", max: 300)!
        let lang = try Schema.languageTag(try r.value("lang"), path: r.field("lang"))
        let kind = try r.choice("kind", Vocabulary.aliasKinds)!
        return Alias(name: name, lang: lang, kind: kind, object: v.objectValue ?? JSONObject())
    }

    private static func range(_ r: BodyReader) throws(LedgerError) -> (UInt64, UInt64) {
        let lo = try Schema.count(try r.value("min"), path: "body.min")
        let hi = try Schema.count(try r.value("max"), path: "body.max")
        guard lo <= hi else { throw BodyReader.error("body.min", "min \(lo) is greater than max \(hi)") }
        return (lo, hi)
    }

    /// `{"reason": TEXT}`.
    private static func reason(_ body: BodyMembers) throws(LedgerError) -> Reason {
        let r = try BodyReader(body, path: "body", allowed: ["reason"])
        return Reason(reason: try r.text("reason", max: 2000)!)
    }

    /// An optional text member that may be sealed: a marker, or a text of at most `max` code points.
    private static func sealableText(_ r: BodyReader, _ key: String, max: Int) throws(LedgerError) -> SealableText? {
        guard let v = r.object[key] else { return nil }
        if let commitment = try Sealing.checkMarker(v, path: r.field(key)) { return .sealed(commitment: commitment) }
        return .text(try r.text(key, max: max)!)
    }

    /// A perpetrator (one actor id, or `{"eitherOf": [two or more actor ids]}`) and the actors it names.
    private static func perpetrator(_ v: JSONValue, path: String) throws(LedgerError) -> (Perpetrator, [Mention]) {
        let named = try LedgerArchive.perpetrator(v, path: path)
        if let id = v.stringValue { return (.actor(id), named) }
        return (.eitherOf(named.map(\.id)), named)
    }
}
