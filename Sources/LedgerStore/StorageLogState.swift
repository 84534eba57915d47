import LedgerCore
import LedgerCrypto

/// The rules' view of the log, answered from the rows inside the current transaction.
struct StorageLogState: LogState {
    let rows: any StorageReader
    let origin: String?

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? { try rows.key(keyID) }

    func revision(of subject: String) throws(LedgerError) -> UInt64 { try rows.revision(of: subject) }

    func activeAdminCount() throws(LedgerError) -> Int {
        try rows.keys().filter { $0.revokedAt == nil && $0.roles.contains(.admin) && $0.publicKey.isUsable }.count
    }
}
