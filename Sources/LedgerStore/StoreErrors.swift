import GRDB
import LedgerCore

extension LedgerError {
    /// Maps a SQLite failure to a ledger error that says what to do.
    static func database(_ error: any Error, path: String) -> LedgerError {
        if let e = error as? LedgerError { return e }
        if let e = error as? MerkleError {
            // Out-of-range sizes or indexes are the caller's mistake; missing nodes mean damage.
            if case .missingNode = e { return LedgerError(.notALedger, "\(path) is damaged: \(e)") }
            return LedgerError(.malformed, "\(e)")
        }
        guard let db = error as? DatabaseError else {
            return LedgerError(.io, "\(path): \(error)")
        }
        switch db.resultCode {
        case .SQLITE_NOTADB:
            return LedgerError(.notALedger, "\(path) is not a ledger database (SQLite reports: file is not a database)")
        case .SQLITE_CORRUPT:
            return LedgerError(.notALedger, "\(path) is damaged (SQLite reports corruption); restore it from a backup or re-import an export")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return LedgerError(.io, "\(path) stayed busy (another process holds the write lock); nothing was written; try again", fault: .busy)
        case .SQLITE_FULL:
            return LedgerError(.io, "\(path): the disk is full; nothing was written", fault: .diskFull)
        case .SQLITE_READONLY:
            return LedgerError(.io, "\(path) is read-only; nothing was written", fault: .readOnly)
        case .SQLITE_CANTOPEN:
            return LedgerError(.io, "\(path) cannot be opened (missing directory or no permission)")
        case .SQLITE_ERROR where (db.message ?? "").hasPrefix("no such table") || (db.message ?? "").hasPrefix("no such column"):
            // The tables the ledger format defines are not there as defined: an altered schema.
            return LedgerError(
                .notALedger,
                "\(path) is damaged or not a ledger of this format (SQLite reports: \(db.message ?? "")); restore it from a backup or re-import an export")
        case .SQLITE_IOERR:
            return LedgerError(.io, "\(path): input/output error (\(db.message ?? "unknown")); nothing was written", fault: .ioError)
        default:
            return LedgerError(.io, "\(path): SQLite error \(db.resultCode.rawValue): \(db.message ?? "")")
        }
    }
}

extension LedgerError {
    /// Maps any failure below the front end (a storage's own error, a Merkle error over stored
    /// nodes) to a ledger error naming the ledger's location.
    static func storage(_ error: any Error, location: String) -> LedgerError {
        database(error, path: location)
    }
}
