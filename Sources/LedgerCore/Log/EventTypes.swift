#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kinds of archive entity. Each entity is a subject of the log; its id says its kind.
public enum EntityKind: String, Sendable, CaseIterable {
    case incident, facility, actor, source
    /// A count published by a monitoring group ("583 attacks since 2011"), recorded as what it is
    /// rather than split into incidents.
    case aggregate
    /// Someone allowed to read sealed values: an X25519 key that data keys are wrapped for.
    case reader
}

/// The event catalogue: every event type the log accepts, one row each, with the role that must
/// sign it, the kind of subject it is about and whether it creates that subject. The log's rules
/// (`EventRules`), the archive's schemas and fold (`Archive`) and the tools all read this one
/// table. Adding a type is allowed; changing or removing one would change what old ledgers
/// verify to.
///
/// The log carries a type as its name (`EventPayload.type`); `EventType(name:)` reads it once,
/// and a name outside the catalogue is refused by the log (`unknown event type`).
public enum EventType: UInt8, Sendable, CaseIterable, Hashable {
    case genesis, keyEnrolled, keyRevoked
    case facilityRegistered, facilityCorrected, facilityAliasAdded, facilityDeconflictionRecorded
    case actorRegistered, sourceRegistered
    case incidentReported, incidentCorrected, incidentSourceCited
    case attributionClaimed, attributionAssessed, casualtiesReported, casualtiesAdopted
    case incidentCertaintyGraded, incidentVerificationChanged
    case incidentMerged, incidentRetracted, incidentReinstated
    case aggregateReported, aggregateCorrected
    case readerEnrolled, readerRevoked, valueErased

    /// What an event is about.
    public enum Subject: Sendable, Equatable {
        /// A signing key (its key id); genesis names the first admin key.
        case key
        /// An archive entity of this kind (`KIND:NAME`).
        case entity(EntityKind)
        /// An archive entity of any kind (an erasure is about whichever entity held the value).
        case anyEntity
    }

    /// One row of the catalogue.
    public struct Row: Sendable {
        public let type: EventType
        public let name: String
        /// The role the signer must hold; nil for genesis, whose key enrolls itself.
        public let role: Role?
        public let subject: Subject
        /// True when the event brings its subject into being (it must not exist before).
        public let creates: Bool
    }

    /// The catalogue, in case order.
    public static let catalogue: [Row] = [
        Row(type: .genesis, name: "ledger.genesis", role: nil, subject: .key, creates: true),
        Row(type: .keyEnrolled, name: "key.enrolled", role: .admin, subject: .key, creates: true),
        Row(type: .keyRevoked, name: "key.revoked", role: .admin, subject: .key, creates: false),
        // The archive's types: facts recorded by archivists, judgements made by reviewers.
        Row(type: .facilityRegistered, name: "facility.registered", role: .archivist, subject: .entity(.facility), creates: true),
        Row(type: .facilityCorrected, name: "facility.corrected", role: .archivist, subject: .entity(.facility), creates: false),
        Row(type: .facilityAliasAdded, name: "facility.alias-added", role: .archivist, subject: .entity(.facility), creates: false),
        Row(
            type: .facilityDeconflictionRecorded, name: "facility.deconfliction-recorded", role: .archivist, subject: .entity(.facility),
            creates: false),
        Row(type: .actorRegistered, name: "actor.registered", role: .archivist, subject: .entity(.actor), creates: true),
        Row(type: .sourceRegistered, name: "source.registered", role: .archivist, subject: .entity(.source), creates: true),
        Row(type: .incidentReported, name: "incident.reported", role: .archivist, subject: .entity(.incident), creates: true),
        Row(type: .incidentCorrected, name: "incident.corrected", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .incidentSourceCited, name: "incident.source-cited", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .attributionClaimed, name: "attribution.claimed", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .attributionAssessed, name: "attribution.assessed", role: .reviewer, subject: .entity(.incident), creates: false),
        Row(type: .casualtiesReported, name: "casualties.reported", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .casualtiesAdopted, name: "casualties.adopted", role: .reviewer, subject: .entity(.incident), creates: false),
        Row(
            type: .incidentCertaintyGraded, name: "incident.certainty-graded", role: .reviewer, subject: .entity(.incident), creates: false),
        Row(
            type: .incidentVerificationChanged, name: "incident.verification-changed", role: .reviewer, subject: .entity(.incident),
            creates: false),
        Row(type: .incidentMerged, name: "incident.merged", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .incidentRetracted, name: "incident.retracted", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .incidentReinstated, name: "incident.reinstated", role: .archivist, subject: .entity(.incident), creates: false),
        Row(type: .aggregateReported, name: "aggregate.reported", role: .archivist, subject: .entity(.aggregate), creates: true),
        Row(type: .aggregateCorrected, name: "aggregate.corrected", role: .archivist, subject: .entity(.aggregate), creates: false),
        // Sealed values (docs/EVENTS.md §9): who may read them, and their erasure.
        Row(type: .readerEnrolled, name: "reader.enrolled", role: .admin, subject: .entity(.reader), creates: true),
        Row(type: .readerRevoked, name: "reader.revoked", role: .admin, subject: .entity(.reader), creates: false),
        Row(type: .valueErased, name: "value.erased", role: .admin, subject: .anyEntity, creates: false),
    ]

    private static let byName: [String: EventType] = {
        var out: [String: EventType] = [:]
        for (i, row) in catalogue.enumerated() {
            precondition(row.type.rawValue == i, "EventType.catalogue: row \(i) is \(row.name), out of case order")
            precondition(out.updateValue(row.type, forKey: row.name) == nil, "EventType.catalogue: \(row.name) twice")
        }
        precondition(catalogue.count == allCases.count, "EventType.catalogue: a case has no row")
        return out
    }()

    /// The names' bytes by their length, for a lookup that compares bytes instead of hashing
    /// (every event is looked up once when it is decoded).
    private static let byLength: [[(name: [UInt8], type: EventType)]] = {
        var out = Array(repeating: [(name: [UInt8], type: EventType)](), count: 1 + catalogue.map(\.name.utf8.count).max()!)
        for row in catalogue where byName[row.name] == row.type { out[row.name.utf8.count].append((Array(row.name.utf8), row.type)) }
        return out
    }()

    /// The type named `name` (byte for byte), or nil when the catalogue has no such type.
    public init?(name: String) {
        var name = name
        guard let found = name.withUTF8({ EventType(bytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = found
    }

    /// The type whose name has the UTF-8 bytes `b`.
    public init?(bytes b: UnsafeRawBufferPointer) {
        guard b.count < Self.byLength.count, let base = b.baseAddress else { return nil }
        for c in Self.byLength[b.count] where c.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, base, b.count) == 0 }) {
            self = c.type
            return
        }
        return nil
    }

    public var row: Row { Self.catalogue[Int(rawValue)] }
    /// The name the log carries, e.g. `incident.reported`.
    public var name: String { row.name }
    public var role: Role? { row.role }
    public var subject: Subject { row.subject }
    public var creates: Bool { row.creates }

    /// The kind of entity an archive event is about; nil for the log's own types and for an
    /// event about an entity of any kind (see `isArchive`).
    public var entityKind: EntityKind? {
        if case .entity(let k) = row.subject { return k }
        return nil
    }

    /// True for the archive's types: those about an entity.
    public var isArchive: Bool { row.subject != .key }

    /// True for the corrections, which change an entity's fields by name (`body.changes`).
    public var corrects: Bool { self == .facilityCorrected || self == .incidentCorrected || self == .aggregateCorrected }

    /// The archive's types (those about an entity), in catalogue order.
    public static let archiveTypes: [EventType] = allCases.filter { $0.isArchive }
}

/// The log's own event types by name (the catalogue's first rows).
public enum EventTypes {
    /// Entry 0 only: names the origin and the first administrator key; self-signed.
    public static let genesis = EventType.genesis.name
    /// An administrator enrolls a key with roles.
    public static let keyEnrolled = EventType.keyEnrolled.name
    /// An administrator revokes a key.
    public static let keyRevoked = EventType.keyRevoked.name
}
