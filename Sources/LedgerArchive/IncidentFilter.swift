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
