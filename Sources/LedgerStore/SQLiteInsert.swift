import Foundation
import GRDB
import GRDBSQLite
import LedgerCore

/// A column value as SQLite stores it: what a record's `values` list holds, in column order.
enum SQLiteValue: Sendable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    static func int(_ v: Int?) -> SQLiteValue { v.map { .integer(Int64($0)) } ?? .null }
    /// A count or index as SQLite's signed 64-bit integer (`SQLiteRows.clamp`).
    static func count(_ v: UInt64?) -> SQLiteValue { v.map { .integer(SQLiteRows.clamp($0)) } ?? .null }
    static func string(_ s: String?) -> SQLiteValue { s.map { .text($0) } ?? .null }
    static func bytes(_ b: [UInt8]?) -> SQLiteValue { b.map { .blob($0) } ?? .null }

    /// The same value for GRDB's own statements and record methods.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .integer(let v): return v.databaseValue
        case .text(let s): return s.databaseValue
        case .blob(let b): return Data(b).databaseValue
        }
    }
}

/// SQLite's "copy the bytes now" destructor (`SQLITE_TRANSIENT`).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
private let emptyBytes: [UInt8] = [0]

extension SQLiteRows {
    /// Runs a cached single-row write with `values` bound through SQLite's C interface.
    ///
    /// The append's and the rebuild's inserts take this path: binding through GRDB's
    /// `StatementArguments` (existential values, a `Data` copy per blob, argument checks) cost
    /// about 25,000 instructions per row under callgrind, several times SQLite's own work for
    /// the insert (docs/BENCHMARKS.md, issue 15). The statement is still GRDB's cached statement;
    /// a failure is reported as GRDB's `DatabaseError` with SQLite's extended code and message,
    /// and the statement is reset, so it stays usable (statements from `sqlite3_prepare_v3`).
    func execute(_ sql: String, bound values: [SQLiteValue]) throws(LedgerError) {
        let statement: Statement
        do { statement = try db.cachedStatement(sql: sql) } catch { throw LedgerError.database(error, path: path) }
        let h = statement.sqliteStatement
        sqlite3_reset(h)
        var rc = SQLITE_OK
        for (i, v) in values.enumerated() where rc == SQLITE_OK {
            let column = Int32(i + 1)
            switch v {
            case .null:
                rc = sqlite3_bind_null(h, column)
            case .integer(let x):
                rc = sqlite3_bind_int64(h, column, x)
            case .text(var s):
                // A null pointer would bind NULL: an empty text binds a byte that is not read.
                rc = s.withUTF8 { u in
                    u.count == 0
                        ? emptyBytes.withUnsafeBytes { sqlite3_bind_text(h, column, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 0, transient) }
                        : u.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(h, column, $0.baseAddress, Int32(u.count), transient) }
                }
            case .blob(let b):
                rc =
                    b.count == 0
                    ? sqlite3_bind_zeroblob(h, column, 0) : b.withUnsafeBytes { sqlite3_bind_blob(h, column, $0.baseAddress, Int32(b.count), transient) }
            }
        }
        if rc == SQLITE_OK {
            rc = sqlite3_step(h)
            if rc == SQLITE_DONE {
                sqlite3_reset(h)
                return
            }
        }
        let connection = db.sqliteConnection
        let code = sqlite3_extended_errcode(connection)
        let message = String(cString: sqlite3_errmsg(connection))
        sqlite3_reset(h)
        throw LedgerError.database(DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql), path: path)
    }
}
