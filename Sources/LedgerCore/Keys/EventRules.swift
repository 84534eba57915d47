import LedgerCrypto

/// The log's rules for placing a signed event at an index: genesis, signer rights, origin,
/// `expects`, and the key-management events. The same code runs at append and at verify.
public enum EventRules {
    /// What an accepted event means for the log.
    public struct Decision: Sendable {
        /// The signing key.
        public var signer: KeyRecord
        /// The change to the key table, if any.
        public var keyEffect: KeyEffect?
    }

    /// How far an event's `signedAt` may lie after its entry's record time: one hour, for an
    /// author's clock running fast. Signing long before the record time (offline) is fine.
    public static let maxSignedAtLead: Int64 = 3_600_000_000  // microseconds

    /// The types whose bodies these rules read: the genesis and the key events. The log's checks
    /// need no other body (`LogVerifier` keeps the others as their bytes).
    public static func readsBody(of type: EventType) -> Bool {
        type == .genesis || type == .keyEnrolled || type == .keyRevoked
    }

    /// Checks `payload` (signed in `envelope`) as the entry at `index`, recorded at `recordTime`.
    /// With `verifySignature` false the caller promises to check the signature against
    /// `Decision.signer` itself.
    public static func check(
        envelope: Envelope, payload: EventPayload, index: UInt64, recordTime: Timestamp, state: some LogState, verifySignature: Bool = true
    ) throws(LedgerError) -> Decision {
        try checkSignedAt(payload.signedAt, recordTime: recordTime)
        if index == 0 { return try checkGenesis(envelope: envelope, payload: payload, verifySignature: verifySignature) }
        let signer = try authorize(envelope: envelope, payload: payload, index: index, state: state)
        if verifySignature, !envelope.hasValidSignature(by: signer.publicKey) {
            throw LedgerError.signer("signature does not verify for key \(signer.keyID) (\(signer.name)): payload altered or wrong key")
        }
        return try checkEffects(payload: payload, index: index, signer: signer, state: state)
    }

    /// The signer's rights for an event after the genesis at `index`: the log's origin, a known
    /// type other than genesis, an enrolled key not revoked before `index`, holding the type's
    /// role. Returns the signer (whose signature the caller checks).
    public static func authorize(envelope: Envelope, payload: EventPayload, index: UInt64, state: some LogState) throws(LedgerError) -> KeyRecord {
        guard let origin = state.origin else { throw LedgerError(.refused, "the log has no genesis entry") }
        guard payload.ledger == origin else {
            throw LedgerError.signer("event belongs to ledger \"\(payload.ledger.prefix(80))\", not \"\(origin)\"; it cannot be replayed here")
        }
        guard let type = payload.eventType else {
            throw LedgerError(.refused, "unknown event type \"\(payload.type)\"")
        }
        guard let role = type.role else {
            throw LedgerError(.refused, "ledger.genesis may only be entry 0")
        }
        guard let signer = try state.key(envelope.keyID) else {
            throw LedgerError.signer("unknown key \(envelope.keyID): it is not enrolled in this ledger")
        }
        if let revoked = signer.revokedAt, revoked < index {
            throw LedgerError.signer("key \(signer.keyID) (\(signer.name)) was revoked at entry \(revoked)")
        }
        guard signer.roles.contains(role) else {
            throw LedgerError.signer(
                "key \(signer.keyID) (\(signer.name)) lacks the \(role.rawValue) role that \(payload.type) needs (it has: "
                    + "\(signer.roles.map(\.rawValue).joined(separator: ", ")))")
        }
        return signer
    }

    /// `expects` and the key events' own rules, once the signer is authorized.
    private static func checkEffects(payload: EventPayload, index: UInt64, signer: KeyRecord, state: some LogState) throws(LedgerError) -> Decision {
        let revision = try state.revision(of: payload.subject)
        guard payload.expects == revision else {
            throw LedgerError(
                .conflict,
                "stale expects: subject \(payload.subject) is at revision \(revision) but the event expects \(payload.expects); re-read the subject "
                    + "and sign again")
        }
        var effect: KeyEffect?
        switch payload.eventType {
        case .keyEnrolled:
            let d = try KeyDescriptor(json: payload.body, field: "body")
            guard payload.subject == d.keyID else {
                throw .malformed("subject", "must be the enrolled key's id \(d.keyID)")
            }
            if let existing = try state.key(d.keyID) {
                throw LedgerError(.refused, "key \(d.keyID) is already enrolled (as \(existing.name)); a key id is enrolled once")
            }
            effect = .enroll(KeyRecord(keyID: d.keyID, publicKey: d.publicKey, name: d.name, roles: d.roles, enrolledAt: index))
        case .keyRevoked:
            try Fields.requireExactly(payload.body, ["reason"], in: "body")
            let reason = try Fields.string(payload.body, "reason", in: "body")
            guard !reason.isAllWhiteSpace else { throw .malformed("body.reason", "must say why the key is revoked") }
            guard let target = try state.key(payload.subject) else {
                throw LedgerError(.refused, "cannot revoke \(payload.subject): no such key is enrolled")
            }
            if let at = target.revokedAt { throw LedgerError(.refused, "key \(target.keyID) (\(target.name)) is already revoked at entry \(at)") }
            // Only usable keys count: an unusable one could never sign an admin action.
            if target.roles.contains(.admin), target.publicKey.isUsable, try state.activeAdminCount() <= 1 {
                throw LedgerError(.refused, "refusing to revoke the last active admin key \(target.keyID); enroll another admin first")
            }
            effect = .revoke(keyID: target.keyID, at: index)
        default:
            break
        }
        return Decision(signer: signer, keyEffect: effect)
    }

    /// Refuses a `signedAt` more than `maxSignedAtLead` after the record time.
    static func checkSignedAt(_ signedAt: String, recordTime: Timestamp) throws(LedgerError) {
        guard let signed = Timestamp.parseRFC3339(signedAt) else {
            throw .malformed("signedAt", "must be an RFC 3339 UTC time such as 2026-11-25T17:28:15Z")
        }
        if signed.microseconds > recordTime.microseconds + maxSignedAtLead {
            throw LedgerError(
                .refused,
                "signedAt \(signedAt.prefix(40)) is more than 1 hour after the entry's record time \(recordTime.recordTimeText): the signer's clock "
                    + "is wrong; fix it and sign again")
        }
    }

    private static func checkGenesis(envelope: Envelope, payload: EventPayload, verifySignature: Bool) throws(LedgerError) -> Decision {
        guard payload.eventType == .genesis else {
            throw LedgerError(.refused, "entry 0 must be a ledger.genesis event, found \(payload.type)")
        }
        try Fields.requireExactly(payload.body, ["admin"], in: "body")
        guard case .object(let adminObject)? = payload.body["admin"] else { throw .malformed("body.admin", "must be an object") }
        let admin = try KeyDescriptor(json: adminObject, field: "body.admin")
        guard admin.roles.contains(.admin) else { throw .malformed("body.admin.roles", "must include admin") }
        guard payload.subject == admin.keyID else { throw .malformed("subject", "must be the genesis key id \(admin.keyID)") }
        guard payload.expects == 0 else { throw .malformed("expects", "must be 0 in the genesis event") }
        guard envelope.keyID == admin.keyID else {
            throw LedgerError(.refused, "the genesis event must be signed by its own admin key \(admin.keyID)")
        }
        if verifySignature, !envelope.hasValidSignature(by: admin.publicKey) {
            throw LedgerError(.refused, "genesis signature does not verify")
        }
        let record = KeyRecord(keyID: admin.keyID, publicKey: admin.publicKey, name: admin.name, roles: admin.roles, enrolledAt: 0)
        return Decision(signer: record, keyEffect: .enroll(record))
    }
}
