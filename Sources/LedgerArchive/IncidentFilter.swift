import LedgerCore

/// A filter for `ledger list`; nil members do not filter.
public struct IncidentFilter: Sendable {
    /// Occurred on or after / on or before (yyyymmdd): incidents whose possible dates overlap.
    public var from: Int?
    public var to: Int?
    /// Matches admin1, admin2 or town exactly (case-insensitively for ASCII).
    public var place: String?
    public var facility: String?
    public var perpetrator: String?
    public var status: String?
    public var certainty: String?
    public var verification: String?
    public init() {}

    /// The same predicate as the SQL query, over an index row (for views as of a moment).
    public func matches(_ r: IncidentIndexRow) -> Bool {
        if let from, let latest = r.latest, latest < from { return false }
        if let to, let earliest = r.earliest, earliest > to { return false }
        if let place {
            // ASCII case folding only, exactly as SQLite's lower() does for the SQL query.
            let fold = { (s: String) in String(decoding: s.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self) }
            let p = fold(place)
            guard [r.admin1, r.admin2, r.town].contains(where: { $0.map(fold) == p }) else { return false }
        }
        if let facility, !r.facilities.contains(facility) { return false }
        if let perpetrator, !r.perpetrators.contains(perpetrator) { return false }
        if let status, r.status != status { return false }
        if let certainty, r.certainty != certainty { return false }
        if let verification, r.verification != verification { return false }
        return true
    }
}

extension IncidentFilter {
    /// The filter from its textual parts, as `ledger list` options or `GET /v1/incidents` query
    /// parameters give them; nil parts do not filter. `name` spells a part's name in messages
    /// (`--occurred-from` on the command line, `occurredFrom` in a URL). Refuses a bad date, a
    /// wrong kind of id or a value outside its vocabulary, naming the part.
    public init(
        occurredFrom: String?, occurredTo: String?, place: String?, facility: String?, perpetrator: String?, status: String?, certainty: String?,
        verification: String?, name: (Part) -> String
    ) throws(LedgerError) {
        self.init()
        func day(_ s: String?, _ part: Part, upper: Bool) throws(LedgerError) -> Int? {
            guard let s else { return nil }
            guard let d = EDTF(s), !d.isInterval, let v = upper ? d.latest : d.earliest else {
                throw LedgerError(.malformed, "\(name(part)) \"\(Clip.text(s))\" is not a date such as 2019, 2019-05 or 2019-05-05")
            }
            return v
        }
        from = try day(occurredFrom, .occurredFrom, upper: false)
        to = try day(occurredTo, .occurredTo, upper: true)
        if let from, let to, from > to {
            throw LedgerError(.malformed, "\(name(.occurredFrom)) is after \(name(.occurredTo))")
        }
        self.place = place.map { NFC.normalize($0) }  // stored text is NFC
        if let facility, EntityID.kind(of: facility) != .facility {
            throw LedgerError(.malformed, "\(name(.facility)) \"\(Clip.text(facility))\" is not a facility id (facility:NAME)")
        }
        if let perpetrator, EntityID.kind(of: perpetrator) != .actor {
            throw LedgerError(.malformed, "\(name(.perpetrator)) \"\(Clip.text(perpetrator))\" is not an actor id (actor:NAME)")
        }
        self.facility = facility
        self.perpetrator = perpetrator
        for (value, allowed, part) in [
            (status, ["active", "merged", "retracted"], Part.status), (certainty, Vocabulary.certainties, .certainty),
            (verification, Vocabulary.verificationStates, .verification),
        ] {
            if let value, !allowed.contains(value) {
                throw LedgerError(.malformed, "\(name(part)) \"\(Clip.text(value))\" is not one of \(allowed.joined(separator: ", "))")
            }
        }
        self.status = status
        self.certainty = certainty
        self.verification = verification
    }

    /// The parts of a filter, for naming them in messages.
    public enum Part: String, Sendable, CaseIterable {
        case occurredFrom, occurredTo, place, facility, perpetrator, status, certainty, verification
    }
}
