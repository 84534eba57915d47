import LedgerCore

/// The named fields of incidents and facilities: each field's schema, shared by the event that
/// creates the entity and by the correction event that changes it (docs/EVENTS.md §4).
struct FieldSchema: Sendable {
    let name: String
    let required: Bool
    /// The state holds `[]` while the field is not set (docs/EVENTS.md §5): `[]` counts as not
    /// set for a removal (null), and a removal puts `[]` back.
    let defaultsToEmptyArray: Bool
    /// How a value is checked.
    let check: Check

    enum Check: Sendable {
        /// By a function that returns the entity ids the value mentions (to be checked and indexed).
        case value(@Sendable (JSONValue, String) throws(LedgerError) -> [Mention])
        /// As an EDTF date (`Schema.edtf`), which the date rule then reads (`Archive.datedFields`).
        case date
    }

    init(
        name: String, required: Bool, defaultsToEmptyArray: Bool = false, check: @escaping @Sendable (JSONValue, String) throws(LedgerError) -> [Mention]
    ) {
        self.name = name
        self.required = required
        self.defaultsToEmptyArray = defaultsToEmptyArray
        self.check = .value(check)
    }

    /// A field whose value is an EDTF date.
    static func date(_ name: String, required: Bool) -> FieldSchema { FieldSchema(name: name, required: required, defaultsToEmptyArray: false, check: .date) }

    private init(name: String, required: Bool, defaultsToEmptyArray: Bool, check: Check) {
        self.name = name
        self.required = required
        self.defaultsToEmptyArray = defaultsToEmptyArray
        self.check = check
    }
}

/// A reference from an event body to another entity.
struct Mention: Sendable {
    let id: String
    let kind: EntityKind
    let field: String
}

/// The fields that the state holds as `[]` while they are not set, by correction event type.
enum EmptyArrayDefaults {
    static let incident = names(IncidentFields.all)
    static let facility = names(FacilityFields.all)
    static let aggregate = names(AggregateFields.all)

    /// The fields of the entity a correction changes that default to `[]`.
    static func fields(for correction: ArchiveEvent) -> Set<String> {
        switch correction {
        case .incidentCorrected: return incident
        case .facilityCorrected: return facility
        case .aggregateCorrected: return aggregate
        default: return []
        }
    }

    private static func names(_ schema: [FieldSchema]) -> Set<String> { Set(schema.filter(\.defaultsToEmptyArray).map(\.name)) }
}

enum IncidentFields {
    static let all: [FieldSchema] = [
        FieldSchema(name: "title", required: true) { v, p throws(LedgerError) in
            _ = try Schema.languageTexts(v, path: p, max: 300); return []
        },
        FieldSchema(name: "summary", required: false) { v, p throws(LedgerError) in
            _ = try Schema.languageTexts(v, path: p, max: 5000); return []
        },
        .date("occurred", required: true),
        FieldSchema(name: "place", required: true) { v, p throws(LedgerError) in
            try PlaceSchema.check(v, path: p); return []
        },
        FieldSchema(name: "facilities", required: false, defaultsToEmptyArray: true) { v, p throws(LedgerError) in try facilities(v, path: p) },
        FieldSchema(name: "means", required: false, defaultsToEmptyArray: true) { v, p throws(LedgerError) in
            try uniqueChoices(v, Vocabulary.means, path: p); return []
        },
        FieldSchema(name: "externalIds", required: false, defaultsToEmptyArray: true) { v, p throws(LedgerError) in
            try externalIDs(v, path: p); return []
        },
    ]

    static func facilities(_ v: JSONValue, path: String) throws(LedgerError) -> [Mention] {
        let items = try Schema.array(v, path: path, allowEmpty: true, max: 100)
        var seen = Set<String>()
        var out: [Mention] = []
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            let r = try BodyReader(item, path: p, allowed: ["facility", "impact"])
            let id = try r.ref("facility", .facility)!
            _ = try r.choice("impact", Vocabulary.impacts)
            guard seen.insert(id).inserted else { throw BodyReader.error(p, "\(id) is listed twice") }
            out.append(Mention(id: id, kind: .facility, field: r.field("facility")))
        }
        return out
    }

    static func externalIDs(_ v: JSONValue, path: String) throws(LedgerError) {
        let items = try Schema.array(v, path: path, allowEmpty: true, max: 100)
        for (i, item) in items.enumerated() {
            let r = try BodyReader(item, path: "\(path)[\(i)]", allowed: ["dataset", "id"])
            _ = try r.text("dataset", max: 200)
            _ = try r.text("id", max: 200)
        }
    }
}

enum FacilityFields {
    static let all: [FieldSchema] = [
        FieldSchema(name: "names", required: true) { v, p throws(LedgerError) in
            _ = try Schema.languageTexts(v, path: p, max: 300); return []
        },
        FieldSchema(name: "type", required: true) { v, p throws(LedgerError) in
            _ = try Schema.choice(v, Vocabulary.facilityTypes, path: p); return []
        },
        FieldSchema(name: "operators", required: false, defaultsToEmptyArray: true) { v, p throws(LedgerError) in
            let items = try Schema.array(v, path: p, allowEmpty: true, max: 50)
            for (i, item) in items.enumerated() { _ = try Schema.text(item, path: "\(p)[\(i)]", max: 200) }
            return []
        },
        FieldSchema(name: "location", required: false) { v, p throws(LedgerError) in
            try PlaceSchema.check(v, path: p); return []
        },
        FieldSchema(name: "note", required: false) { v, p throws(LedgerError) in
            _ = try Schema.languageTexts(v, path: p, max: 5000); return []
        },
    ]
}

/// A monitoring group's count: what was counted, over which period and where, as the source
/// states it (docs/EVENTS.md §4, aggregates).
enum AggregateFields {
    static let all: [FieldSchema] = [
        FieldSchema(name: "source", required: true) { v, p throws(LedgerError) in
            [Mention(id: try Schema.ref(v, .source, path: p), kind: .source, field: p)]
        },
        FieldSchema(name: "measure", required: true) { v, p throws(LedgerError) in
            _ = try Schema.choice(v, Vocabulary.aggregateMeasures, path: p); return []
        },
        FieldSchema(name: "figure", required: true) { v, p throws(LedgerError) in
            let r = try BodyReader(v, path: p, allowed: ["value", "unit", "qualifier"])
            let value = try Schema.count(try r.value("value"), path: r.field("value"))
            let unit = try r.choice("unit", Vocabulary.figureUnits)
            let qualifier = try r.choice("qualifier", Vocabulary.figureQualifiers)
            if unit == "percent", value > 100 { throw BodyReader.error(r.field("value"), "a percentage is at most 100, found \(value)") }
            if unit == "percent", value == 100, qualifier == "more-than" {
                throw BodyReader.error(r.field("qualifier"), "nothing is more than 100 percent; give at-least, about or exact 100, or a lower value")
            }
            if unit == "hours-between", value == 0 {
                throw BodyReader.error(r.field("value"), "a rate is one occurrence every N hours, so N is at least 1, found 0")
            }
            return []
        },
        .date("period", required: true),
        FieldSchema(name: "description", required: true) { v, p throws(LedgerError) in
            _ = try Schema.languageTexts(v, path: p, max: 2000); return []
        },
        FieldSchema(name: "place", required: false) { v, p throws(LedgerError) in
            try PlaceSchema.check(v, path: p); return []
        },
        FieldSchema(name: "perpetrator", required: false) { v, p throws(LedgerError) in try perpetrator(v, path: p) },
        .date("statedOn", required: false),
        FieldSchema(name: "locator", required: false) { v, p throws(LedgerError) in
            _ = try Schema.text(v, path: p, max: 300); return []
        },
        FieldSchema(name: "partOf", required: false) { v, p throws(LedgerError) in
            [Mention(id: try Schema.ref(v, .aggregate, path: p), kind: .aggregate, field: p)]
        },
        FieldSchema(name: "includes", required: false, defaultsToEmptyArray: true) { v, p throws(LedgerError) in
            let items = try Schema.array(v, path: p, allowEmpty: true, max: 1000)
            var seen = Set<String>()
            var out: [Mention] = []
            for (i, item) in items.enumerated() {
                let id = try Schema.ref(item, .incident, path: "\(p)[\(i)]")
                guard seen.insert(id).inserted else { throw BodyReader.error("\(p)[\(i)]", "\(id) is listed twice") }
                out.append(Mention(id: id, kind: .incident, field: "\(p)[\(i)]"))
            }
            return out
        },
        FieldSchema(name: "note", required: false) { v, p throws(LedgerError) in
            _ = try Schema.text(v, path: p, max: 2000); return []
        },
    ]
}

/// Where something happened or stands: administrative areas by name and, optionally,
/// coordinates with a precision grade. At least one member.
enum PlaceSchema {
    static func check(_ v: JSONValue, path: String) throws(LedgerError) {
        let r = try BodyReader(v, path: path, allowed: ["admin1", "admin2", "town", "coordinates"])
        guard r.object.count > 0 else { throw BodyReader.error(path, "must name at least one of admin1, admin2, town, coordinates") }
        _ = try r.text("admin1", max: 200, required: false)
        _ = try r.text("admin2", max: 200, required: false)
        _ = try r.text("town", max: 200, required: false)
        if let c = r.object["coordinates"] { try coordinates(c, path: r.field("coordinates")) }
    }

    static func coordinates(_ v: JSONValue, path: String) throws(LedgerError) {
        if try Sealing.checkMarker(v, path: path) != nil { return }
        let c = try BodyReader(v, path: path, allowed: ["lat", "lon", "precision"])
        _ = try Schema.degrees(try c.value("lat"), limit: 90, path: c.field("lat"))
        _ = try Schema.degrees(try c.value("lon"), limit: 180, path: c.field("lon"))
        _ = try c.choice("precision", Vocabulary.coordinatePrecisions)
    }
}

/// An array of distinct values from a vocabulary: the values, in order.
@discardableResult
func uniqueChoices(_ v: JSONValue, _ allowed: [String], path: String, allowEmpty: Bool = true) throws(LedgerError) -> [String] {
    let items = try Schema.array(v, path: path, allowEmpty: allowEmpty, max: allowed.count)
    var out: [String] = []
    for (i, item) in items.enumerated() {
        let s = try Schema.choice(item, allowed, path: "\(path)[\(i)]")
        guard !out.contains(s) else { throw BodyReader.error("\(path)[\(i)]", "\"\(s)\" is listed twice") }
        out.append(s)
    }
    return out
}

/// A perpetrator: one actor id, or `{"eitherOf": [two or more actor ids]}`.
func perpetrator(_ v: JSONValue, path: String) throws(LedgerError) -> [Mention] {
    if v.stringValue != nil {
        return [Mention(id: try Schema.ref(v, .actor, path: path), kind: .actor, field: path)]
    }
    let r = try BodyReader(v, path: path, allowed: ["eitherOf"])
    let items = try r.array("eitherOf", max: 20)!
    guard items.count >= 2 else { throw BodyReader.error(r.field("eitherOf"), "must list two or more actors (one actor is written as its id)") }
    var seen = Set<String>()
    var out: [Mention] = []
    for (i, item) in items.enumerated() {
        let p = "\(r.field("eitherOf"))[\(i)]"
        let id = try Schema.ref(item, .actor, path: p)
        guard seen.insert(id).inserted else { throw BodyReader.error(p, "\(id) is listed twice") }
        out.append(Mention(id: id, kind: .actor, field: p))
    }
    return out
}
