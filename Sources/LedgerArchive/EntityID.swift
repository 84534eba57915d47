#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerCore

/// Entity ids: `KIND:NAME`, e.g. `incident:2019-05-05-kafranabl-surgical`, `facility:m10`.
/// NAME is 1–`maxNameBytes` of `A–Z a–z 0–9 . _ -`, so every id is also a valid log subject.
public enum EntityID {
    public static let maxNameBytes = 100

    /// The kind named by the id's prefix, or nil when the id is not a well-formed entity id.
    public static func kind(of id: String) -> EntityKind? {
        var id = id
        // Native strings are contiguous already; this copies only a bridged one.
        return id.withUTF8 { kind(ofBytes: $0) }
    }

    /// The check on the id's UTF-8 bytes, without making strings or going through generic
    /// collection code (it runs for every event's subject and every reference in its body).
    static func kind(ofBytes b: UnsafeBufferPointer<UInt8>) -> EntityKind? {
        guard let colon = b.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let nameCount = b.count - colon - 1
        guard nameCount > 0, nameCount <= maxNameBytes else { return nil }
        for c in b[(colon + 1)...] {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return nil
            }
        }
        for (kind, prefix) in prefixes where prefix.count == colon {
            if prefix.withUnsafeBufferPointer({ memcmp($0.baseAddress!, b.baseAddress!, colon) == 0 }) { return kind }
        }
        return nil
    }

    private static let prefixes: [(EntityKind, [UInt8])] = EntityKind.allCases.map { ($0, Array($0.rawValue.utf8)) }
}

/// The closed vocabularies of the archive (docs/EVENTS.md §3). Adding a value is allowed;
/// removing or renaming one would make old events fail validation.
public enum Vocabulary {
    public static let facilityTypes = ["hospital", "maternity", "underground", "field", "clinic", "health-centre", "ambulance", "blood-bank", "other"]
    public static let aliasKinds = ["codename", "name", "transliteration", "former-name"]
    public static let actorTypes = ["state", "state-forces", "non-state-armed-group", "international-body", "organisation", "other"]
    public static let sourceTypes = [
        "report", "investigation", "news", "statement", "dataset", "testimony", "social-media", "academic", "legal-filing", "other",
    ]
    public static let coordinatePrecisions = ["exact", "facility", "neighbourhood", "town", "district", "governorate"]
    public static let impacts = ["destroyed", "damaged", "out-of-service", "evacuated-before", "unknown"]
    public static let means = [
        "airstrike", "barrel-bomb", "incendiary", "cluster-munition", "chemical", "missile", "rocket", "shelling", "bunker-buster",
        "double-tap", "ground-attack", "unknown",
    ]
    public static let attributionBases = [
        "radio-intercepts", "flight-observations", "flight-logs", "witness-testimony", "munition-remnants", "satellite-imagery",
        "video", "official-statement", "pattern-analysis", "investigation", "other",
    ]
    public static let stances = ["asserts", "denies"]
    public static let confidences = ["low", "moderate", "high"]
    public static let casualtyCategories = [
        "killed", "injured", "health-workers-killed", "health-workers-injured", "patients-killed", "children-killed", "missing",
    ]
    public static let adoptionRules = ["single-source", "highest-credible", "lowest-confirmed", "range-of-sources", "reviewer-judgement"]
    public static let certainties = ["rumor", "possible", "probable", "confirmed"]
    public static let aggregateMeasures = [
        "attacks-on-health-care", "health-facilities-attacked", "health-facilities-destroyed", "health-facilities-damaged-or-destroyed",
        "health-workers-killed", "civilian-facilities-attacked", "other",
    ]
    /// `count` of things, `percent` of a whole, or `hours-between`: one occurrence every N hours (a rate).
    public static let figureUnits = ["count", "percent", "hours-between"]
    public static let figureQualifiers = ["exact", "about", "at-least", "more-than", "up-to"]
    public static let verificationStates = ["unverified", "in-review", "verified", "disputed"]
    /// Allowed verification transitions: from → the states it may move to.
    public static let verificationTransitions: [String: [String]] = [
        "unverified": ["in-review"],
        "in-review": ["verified", "disputed", "unverified"],
        "verified": ["in-review"],
        "disputed": ["in-review"],
    ]
}
