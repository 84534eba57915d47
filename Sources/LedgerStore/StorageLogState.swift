import LedgerCore
import LedgerCrypto

/// The rules' view of the log, answered from the rows inside the current transaction.
///
/// One value serves one write transaction. It remembers the keys and revisions it has read, so
/// that a batch whose events share a signer or a subject reads each once (a key read is about
/// 38 k instructions through the row decoder); `Ledger.insert` tells it what each appended entry
/// changed (`inserted`), so that what it remembers stays what the rows say.
struct StorageLogState: LogState {
    let rows: any StorageReader
    let origin: String?
    private let seen = Seen()

    private final class Seen {
        var keys: [String: KeyRecord?] = [:]
        var revisions: [String: UInt64] = [:]
    }

    init(rows: any StorageReader, origin: String?) {
        self.rows = rows
        self.origin = origin
    }

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? {
        if let known = seen.keys[keyID] { return known }
        let record = try rows.key(keyID)
        seen.keys[keyID] = .some(record)
        return record
    }

    func revision(of subject: String) throws(LedgerError) -> UInt64 {
        if let known = seen.revisions[subject] { return known }
        let revision = try rows.revision(of: subject)
        seen.revisions[subject] = revision
        return revision
    }

    func activeAdminCount() throws(LedgerError) -> Int {
        try rows.keys().filter { $0.revokedAt == nil && $0.roles.contains(.admin) && $0.publicKey.isUsable }.count
    }

    /// An entry about `subject` was inserted (its revision went up by one), and when `keyChanged`
    /// names a key, that key was enrolled or revoked: it is read again when next asked for.
    func inserted(subject: String, keyChanged: String?) {
        if let r = seen.revisions[subject] { seen.revisions[subject] = r + 1 }
        if let keyChanged { seen.keys[keyChanged] = nil }
    }
}
