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
        _ = try ArchiveEvent.decode(type: t, subject: subject, body: .tree(body))
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
        guard let checked = try check(type: type, subject: subject, body: .tree(body), lookup: lookup, replay: replay, latestDay: latestDay) else { return nil }
        return try apply(
            checked, subject: subject, body: CanonicalObject(body), index: index, current: try lookup.entity(subject), lookup: lookup, replay: replay)
    }

    /// `apply` of a body held as its canonical bytes (as `rebuild` decodes it).
    public static func apply(
        type: EventType, subject: String, body: CanonicalObject, index: UInt64, lookup: some EntityLookup, replay: Bool = false, latestDay: Int? = nil
    ) throws(LedgerError) -> ArchiveChange? {
        guard let checked = try check(type: type, subject: subject, body: .canonical(body), lookup: lookup, replay: replay, latestDay: latestDay) else {
            return nil
        }
        return try apply(checked, subject: subject, body: body, index: index, current: try lookup.entity(subject), lookup: lookup, replay: replay)
    }

    /// An archive event whose body passed its schema, its date rule and its references to other
    /// entities: what `apply(_:subject:body:index:current:lookup:replay:)` folds.
    public struct CheckedEvent: Sendable {
        let type: EventType
        let kind: EntityKind
        /// The body, decoded by its schema.
        public let event: ArchiveEvent
        let mentions: [Mention]
    }

    /// The checks of an event that do not need its subject's state, in the order they are
    /// reported: the body's schema, the date rule (with `latestDay`), then every entity the body
    /// names (unless `replay`). Nil for types outside the archive.
    public static func check(
        type: EventType, subject: String, body: JSONObject, lookup: some EntityLookup, replay: Bool, latestDay: Int?
    ) throws(LedgerError) -> CheckedEvent? {
        try check(type: type, subject: subject, body: .tree(body), lookup: lookup, replay: replay, latestDay: latestDay)
    }

    static func check(
        type: EventType, subject: String, body: BodyMembers, lookup: some EntityLookup, replay: Bool, latestDay: Int?
    ) throws(LedgerError) -> CheckedEvent? {
        guard let checked = try checkAlone(type: type, subject: subject, body: body, latestDay: latestDay) else { return nil }
        if !replay { try checkMentions(checked, lookup: lookup) }
        return checked
    }

    /// The first part of `check`, which needs no state at all: the body's schema and the date
    /// rule. Pure, so a fold may run it for a whole batch on other threads (`Prechecked`) while
    /// it folds the batch before.
    public static func checkAlone(type: EventType, subject: String, body: JSONObject, latestDay: Int?) throws(LedgerError) -> CheckedEvent? {
        try checkAlone(type: type, subject: subject, body: .tree(body), latestDay: latestDay)
    }

    static func checkAlone(type: EventType, subject: String, body: BodyMembers, latestDay: Int?) throws(LedgerError) -> CheckedEvent? {
        guard type.isArchive, let kind = type.entityKind ?? EntityID.kind(of: subject),
            let decoded = try ArchiveEvent.decode(type: type, subject: subject, body: body)
        else { return nil }
        if let latestDay { try checkDates(decoded.dates, latestDay: latestDay) }
        return CheckedEvent(type: type, kind: kind, event: decoded.event, mentions: decoded.mentions)
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
            if let s, !s.has("status", raw: Archive.statusActive) {
                throw LedgerError(.refused, "field `\(m.field)`: \(m.id) is \(describeStatus(s)); it cannot be referred to")
            }
        }
    }

    /// The outcome of `checkAlone` for one event, made ahead of its fold (on any thread).
    public struct Prechecked: Sendable {
        let outcome: Result<CheckedEvent?, LedgerError>

        public init(type: EventType?, subject: String, body: JSONObject, latestDay: Int?) {
            self.init(type: type, subject: subject, body: .tree(body), latestDay: latestDay)
        }

        /// For a body held as its canonical bytes.
        public init(type: EventType?, subject: String, body: CanonicalObject, latestDay: Int?) {
            self.init(type: type, subject: subject, body: .canonical(body), latestDay: latestDay)
        }

        init(type: EventType?, subject: String, body: BodyMembers, latestDay: Int?) {
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
        try apply(checked, subject: subject, body: CanonicalObject(body), index: index, current: current, lookup: lookup, replay: replay)
    }

    /// `apply` of a checked event whose body is held as its canonical bytes.
    public static func apply(
        _ checked: CheckedEvent, subject: String, body: CanonicalObject, index: UInt64, current: consuming CanonicalObject?, lookup: some EntityLookup,
        replay: Bool
    ) throws(LedgerError) -> ArchiveChange {
        let type = checked.type
        let kind = checked.kind
        var state: CanonicalObject
        if type.creates {
            guard current == nil else { throw LedgerError(.refused, "\(subject) already exists; choose another id") }
            // Such an event's whole state is made at once (`created`): there is nothing to fold.
            let created = Self.created(checked.event, subject: subject, kind: kind, body: body, index: index)
            return ArchiveChange(changed: [(subject, created)], concerns: concerns(of: checked, subject: subject))
        } else if replay, current == nil {
            state = CanonicalObject()
            state["id"] = .string(subject)
            state["entity"] = .string(kind.rawValue)
        } else {
            guard let existing = consume current else { throw LedgerError(.refused, "\(subject) is not in the archive; \(creatingType(kind)) it first") }
            state = existing
            // An active incident (most events) is told by its status's bytes alone.
            if kind == .incident, !replay, type != .valueErased, !state.has("status", raw: Archive.statusActive) {
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
        try fold(checked.event, subject: subject, body: body, index: index, state: &state, lookup: lookup, replay: replay, extra: &extra)
        state.setDigits("updated", index)
        return ArchiveChange(changed: [(subject, state)] + extra, concerns: concerns(of: checked, subject: subject))
    }

    /// The entities an event concerns (`ArchiveChange.concerns`): its subject and the facilities it names.
    private static func concerns(of checked: CheckedEvent, subject: String) -> [String] {
        var concerns = [subject]
        for m in checked.mentions where m.kind == .facility && !concerns.contains(m.id) { concerns.append(m.id) }
        return concerns
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
    /// `dates` are the body's date fields as its decoding found them; the first in
    /// `datedFields` order that begins too late is reported.
    static func checkDates(_ dates: [ArchiveEvent.Dated], latestDay: Int) throws(LedgerError) {
        var late: ArchiveEvent.Dated?
        for d in dates {
            guard let earliest = d.date.earliest, earliest > latestDay else { continue }
            if late == nil || d.rank < late!.rank { late = d }
        }
        guard let late else { return }
        throw BodyReader.error(
            late.path,
            "\"\(Clip.text(late.date.text))\" begins after \(PublicExport.day(latestDay)), the day after this event's record day (UTC): a date cannot lie in the future of "
                + "its record (check the year)")
    }

    static func creatingType(_ kind: EntityKind) -> String {
        switch kind {
        case .incident: return "report"
        case .facility, .actor, .source, .aggregate: return "register"
        case .reader: return "enrol"
        }
    }

    static func describeStatus(_ s: CanonicalObject) -> String {
        switch s.string("status") {
        case "merged": return "merged into \(s.string("mergedInto") ?? "another incident")"
        case "retracted": return "retracted"
        default: return "active"
        }
    }
}
