import Foundation
import GRDB
import LedgerCore
import LedgerCrypto

/// The rules' view of the log, answered from the tables inside the current transaction.
struct SQLLogState: LogState {
    let db: Database
    let origin: String?
    let path: String

    func key(_ keyID: String) throws(LedgerError) -> KeyRecord? {
        do {
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT keyid, public_key, name, roles, enrolled_at, revoked_at FROM keys WHERE keyid = ?"), arguments: [keyID])
            else { return nil }
            return try SQLLogState.keyRecord(row)
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    func revision(of subject: String) throws(LedgerError) -> UInt64 {
        do {
            return try UInt64.fetchOne(db.cachedStatement(sql: "SELECT revision FROM subjects WHERE subject = ?"), arguments: [subject]) ?? 0
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    func activeAdminCount() throws(LedgerError) -> Int {
        do {
            let rows = try Row.fetchAll(db, sql: "SELECT roles, public_key FROM keys WHERE revoked_at IS NULL")
            return try rows.filter { row in
                try row.text(0).split(separator: ",").contains("admin") && Ed25519.PublicKey(bytes: Array(try row.blob(1)))?.isUsable == true
            }.count
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }

    static func keyRecord(_ row: Row) throws -> KeyRecord {
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
