/// The event types the log accepts and the role each one needs.
/// Adding a type is allowed; changing or removing one would change what old ledgers verify to.
public enum EventTypes {
    /// Entry 0 only: names the origin and the first administrator key; self-signed.
    public static let genesis = "ledger.genesis"
    /// An administrator enrolls a key with roles.
    public static let keyEnrolled = "key.enrolled"
    /// An administrator revokes a key.
    public static let keyRevoked = "key.revoked"

    /// The role required to sign each type (genesis is special: its key enrolls itself).
    public static let requiredRole: [String: Role] = [
        keyEnrolled: .admin,
        keyRevoked: .admin,
        // Archive domain: facts recorded by archivists.
        "facility.registered": .archivist,
        "facility.corrected": .archivist,
        "facility.alias-added": .archivist,
        "facility.deconfliction-recorded": .archivist,
        "actor.registered": .archivist,
        "source.registered": .archivist,
        "incident.reported": .archivist,
        "incident.corrected": .archivist,
        "incident.source-cited": .archivist,
        "attribution.claimed": .archivist,
        "casualties.reported": .archivist,
        "incident.merged": .archivist,
        "incident.retracted": .archivist,
        "incident.reinstated": .archivist,
        "aggregate.reported": .archivist,
        "aggregate.corrected": .archivist,
        // Archive domain: judgements made by reviewers.
        "attribution.assessed": .reviewer,
        "casualties.adopted": .reviewer,
        "incident.certainty-graded": .reviewer,
        "incident.verification-changed": .reviewer,
    ]
}
