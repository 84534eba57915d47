import Foundation
import GRDB
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

/// Reads a `keys` row of a SQLite ledger.
enum SQLLogState {
    static func keyRecord(_ row: Row) throws(LedgerError) -> KeyRecord {
        guard let pk = Ed25519.PublicKey(bytes: Array(try row.blob(1))) else {
            throw LedgerError(.notALedger, "key table holds a malformed public key")
        }
        let roles = try row.text(3).split(separator: ",").compactMap { Role(rawValue: String($0)) }
        return KeyRecord(
            keyID: try row.text(0), publicKey: pk, name: try row.text(2), roles: roles, enrolledAt: try row.count(4),
            revokedAt: try row.optionalCount(5))
    }
}

/// Merkle nodes read from the `merkle` table.
struct SQLMerkleNodes: MerkleNodeSource {
    let db: Database

    func node(level: Int, index: UInt64) throws -> Digest32 {
        let statement =
            level == 0
            ? try db.cachedStatement(sql: "SELECT leaf FROM entries WHERE idx = ?")
            : try db.cachedStatement(sql: "SELECT hash FROM merkle WHERE level = ? AND idx = ?")
        let arguments: StatementArguments = level == 0 ? [Int64(index)] : [level, Int64(index)]
        guard let data = try Data.fetchOne(statement, arguments: arguments), let d = Digest32(bytes: data) else {
            throw LedgerError(.notALedger, "Merkle node (level \(level), index \(index)) is missing from the ledger file")
        }
        return d
    }
}
