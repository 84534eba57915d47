/// The key table and subject revisions held in memory; the verifier's view of the log.
public struct MemoryLogState: LogState, Sendable {
    public private(set) var origin: String?
    /// Every key ever enrolled, by id.
    public private(set) var keys: [String: KeyRecord] = [:]
    private var revisions: [String: UInt64] = [:]
    private var admins = 0

    public init() {}

    public func key(_ keyID: String) throws(LedgerError) -> KeyRecord? { keys[keyID] }

    public func revision(of subject: String) throws(LedgerError) -> UInt64 { revisions[subject] ?? 0 }

    public func activeAdminCount() throws(LedgerError) -> Int { admins }

    /// Records an accepted event.
    public mutating func apply(_ payload: EventPayload, decision: EventRules.Decision) {
        if origin == nil { origin = payload.ledger }
        revisions[payload.subject, default: 0] += 1
        switch decision.keyEffect {
        case .enroll(let record)?:
            keys[record.keyID] = record
            if record.roles.contains(.admin), record.publicKey.isUsable { admins += 1 }
        case .revoke(let keyID, let at)?:
            if var r = keys[keyID] {
                r.revokedAt = at
                keys[keyID] = r
                if r.roles.contains(.admin), r.publicKey.isUsable { admins -= 1 }
            }
        case nil:
            break
        }
    }

    /// Every subject's revision.
    public var subjectRevisions: [String: UInt64] { revisions }
}
