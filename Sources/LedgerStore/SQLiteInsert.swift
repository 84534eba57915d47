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

/// SQLite's "the bytes stay valid, do not copy them" destructor (`SQLITE_STATIC`).
private let noCopy = unsafeBitCast(0, to: sqlite3_destructor_type.self)
private let emptyBytes: [UInt8] = [0]

extension SQLiteRows {
    /// Runs a cached single-row write with `values` bound through SQLite's C interface.
    ///
    /// The append's and the rebuild's inserts take this path: binding through GRDB's
    /// `StatementArguments` (existential values, a `Data` copy per blob, argument checks) cost
    /// about 25,000 instructions per row under callgrind, several times SQLite's own work for
    /// the insert (docs/BENCHMARKS.md, issue 15). The statement is GRDB's cached statement, kept
    /// for the rest of the transaction by its text (`statement(_:)`). A failure is reported as
    /// GRDB's `DatabaseError` with SQLite's extended code and message, and the statement is
    /// reset, so it stays usable (statements from `sqlite3_prepare_v3`).
    func execute(_ sql: String, bound values: [SQLiteValue]) throws(LedgerError) {
        let h = try statement(sql).sqliteStatement
        sqlite3_reset(h)
        let rc = Self.bindAndStep(h, values, from: 0)
        // The texts and blobs were bound without a copy: no binding may outlive this call.
        sqlite3_clear_bindings(h)
        if rc == SQLITE_DONE {
            sqlite3_reset(h)
            return
        }
        let failure = stepFailure(sql)
        sqlite3_reset(h)
        throw failure
    }

    /// Runs a cached query that gives at most one row, with `values` bound as
    /// `execute(_:bound:)` binds them, and reads its row with `read` (nil: no row). An append's
    /// lookup of each event id takes this path: through GRDB's `Row.fetchOne` (a cursor and a
    /// copied row) it cost about 18,000 instructions a lookup under callgrind (docs/BENCHMARKS.md).
    func one<T>(_ sql: String, bound values: [SQLiteValue], read: (OpaquePointer) throws(LedgerError) -> T) throws(LedgerError) -> T? {
        let h = try statement(sql).sqliteStatement
        sqlite3_reset(h)
        let rc = Self.bindAndStep(h, values, from: 0)
        // The row's columns are the table's, not the bindings: they stay readable until the reset.
        sqlite3_clear_bindings(h)
        defer { sqlite3_reset(h) }
        switch rc {
        case SQLITE_DONE: return nil
        case SQLITE_ROW: return try read(h)
        default: throw stepFailure(sql)
        }
    }

    /// The connection's last failure, as GRDB's `DatabaseError` with SQLite's extended code and message.
    private func stepFailure(_ sql: String) -> LedgerError {
        let connection = db.sqliteConnection
        let code = sqlite3_extended_errcode(connection)
        let message = String(cString: sqlite3_errmsg(connection))
        return LedgerError.database(DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql), path: path)
    }

    /// Binds `values[i...]` to parameters `i+1…` and steps the statement once all are bound:
    /// the result of the step, or the first failed binding's code. Texts and blobs are bound
    /// without a copy (`SQLITE_STATIC`; copying cost about 700 instructions per text): each is
    /// bound inside the closure that lends its bytes, and the step runs innermost, so SQLite
    /// reads them only while they are valid.
    private static func bindAndStep(_ h: OpaquePointer, _ values: [SQLiteValue], from i: Int) -> Int32 {
        guard i < values.count else { return sqlite3_step(h) }
        let column = Int32(i + 1)
        func then(_ rc: Int32) -> Int32 { rc == SQLITE_OK ? bindAndStep(h, values, from: i + 1) : rc }
        switch values[i] {
        case .null:
            return then(sqlite3_bind_null(h, column))
        case .integer(let x):
            return then(sqlite3_bind_int64(h, column, x))
        case .text(var s):
            // A null pointer would bind NULL: an empty text binds a byte that is not read.
            return s.withUTF8 { u in
                u.count == 0
                    ? emptyBytes.withUnsafeBytes { then(sqlite3_bind_text(h, column, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 0, noCopy)) }
                    : u.withMemoryRebound(to: CChar.self) { then(sqlite3_bind_text(h, column, $0.baseAddress, Int32(u.count), noCopy)) }
            }
        case .blob(let b):
            if b.isEmpty { return then(sqlite3_bind_zeroblob(h, column, 0)) }
            return b.withUnsafeBytes { then(sqlite3_bind_blob(h, column, $0.baseAddress, Int32(b.count), noCopy)) }
        }
    }
}
