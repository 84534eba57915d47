import Foundation
import GRDB
import GRDBSQLite
import LedgerCore
import LedgerCrypto

/// Column reads that throw on a damaged file (a NULL or a value of the wrong type or range)
/// instead of stopping the process, as GRDB's subscripts would.
extension Row {
    func text(_ i: Int) throws(LedgerError) -> String {
        do { return try decode(String.self, atIndex: i) } catch { throw damaged(i, "text") }
    }

    func blob(_ i: Int) throws(LedgerError) -> Data {
        do { return try decode(Data.self, atIndex: i) } catch { throw damaged(i, "a blob") }
    }

    func count(_ i: Int) throws(LedgerError) -> UInt64 {
        let v: Int64
        do { v = try decode(Int64.self, atIndex: i) } catch { throw damaged(i, "an integer") }
        guard v >= 0 else { throw damaged(i, "a non-negative integer") }
        return UInt64(v)
    }

    func optionalCount(_ i: Int) throws(LedgerError) -> UInt64? {
        let v: Int64?
        do { v = try decode(Int64?.self, atIndex: i) } catch { throw damaged(i, "an integer or NULL") }
        guard let v else { return nil }
        guard v >= 0 else { throw damaged(i, "a non-negative integer") }
        return UInt64(v)
    }

    /// The column's bytes (empty for NULL), copied straight from the statement.
    func bytes(_ i: Int) throws(LedgerError) -> [UInt8] {
        do { return try decode(ColumnBytes?.self, atIndex: i)?.bytes ?? [] } catch { throw damaged(i, "a blob") }
    }

    /// nil when the column does not hold exactly 32 bytes.
    func digest(_ i: Int) -> Digest32? {
        (try? decode(ColumnDigest?.self, atIndex: i))??.digest
    }

    private func damaged(_ i: Int, _ what: String) -> LedgerError {
        damagedColumn(i < count ? Array(columnNames)[i] : "#\(i)", what)
    }
}

/// The same reads by column name.
extension Row {
    func text<C: RawRepresentable>(_ c: C) throws(LedgerError) -> String where C.RawValue == String {
        do { return try decode(String.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "text") }
    }

    func optionalText<C: RawRepresentable>(_ c: C) throws(LedgerError) -> String? where C.RawValue == String {
        do { return try decode(String?.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "text or NULL") }
    }

    func blob<C: RawRepresentable>(_ c: C) throws(LedgerError) -> Data where C.RawValue == String {
        do { return try decode(Data.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "a blob") }
    }

    func bytes<C: RawRepresentable>(_ c: C) throws(LedgerError) -> [UInt8] where C.RawValue == String {
        // A missing column decodes as nil, as `withUnsafeData(named:)` gave nil.
        do { return try decode(ColumnBytes?.self, forColumn: c.rawValue)?.bytes ?? [] } catch { throw damagedColumn(c.rawValue, "a blob") }
    }

    func optionalInteger<C: RawRepresentable>(_ c: C) throws(LedgerError) -> Int? where C.RawValue == String {
        do { return try decode(Int?.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "an integer or NULL") }
    }

    func count<C: RawRepresentable>(_ c: C) throws(LedgerError) -> UInt64 where C.RawValue == String {
        let v: Int64
        do { v = try decode(Int64.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "an integer") }
        guard v >= 0 else { throw damagedColumn(c.rawValue, "a non-negative integer") }
        return UInt64(v)
    }

    func optionalCount<C: RawRepresentable>(_ c: C) throws(LedgerError) -> UInt64? where C.RawValue == String {
        let v: Int64?
        do { v = try decode(Int64?.self, forColumn: c.rawValue) } catch { throw damagedColumn(c.rawValue, "an integer or NULL") }
        guard let v else { return nil }
        guard v >= 0 else { throw damagedColumn(c.rawValue, "a non-negative integer") }
        return UInt64(v)
    }

    /// nil when the column does not hold exactly 32 bytes.
    func digest<C: RawRepresentable>(_ c: C) -> Digest32? where C.RawValue == String {
        (try? decode(ColumnDigest?.self, forColumn: c.rawValue))??.digest
    }

    private func damagedColumn(_ name: String, _ what: String) -> LedgerError { LedgerError.damagedColumn(name, what) }
}

extension LedgerError {
    /// A column that does not hold what the schema says.
    static func damagedColumn(_ name: String, _ what: String) -> LedgerError {
        LedgerError(.notALedger, "the ledger file is damaged: column \(name) should hold \(what); run `ledger verify` and restore from a backup")
    }
}

/// A column's bytes read from the statement as `sqlite3_column_blob` gives them (a blob's bytes,
/// a text's UTF-8), without the `Data` that `Row.withUnsafeData` wraps them in. NULL is nil.
struct ColumnBytes: DatabaseValueConvertible, StatementColumnConvertible {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        // The pointer first, then its length (SQLite's documented order).
        let p = sqlite3_column_blob(sqliteStatement, index)
        let n = Int(sqlite3_column_bytes(sqliteStatement, index))
        guard n > 0, let p else {
            bytes = []
            return
        }
        bytes = [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }

    var databaseValue: DatabaseValue { Data(bytes).databaseValue }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ColumnBytes? {
        Data.fromDatabaseValue(dbValue).map { ColumnBytes(bytes: Array($0)) }
    }
}

/// A column of exactly 32 bytes as a digest, read from the statement; nil otherwise.
struct ColumnDigest: DatabaseValueConvertible, StatementColumnConvertible {
    var digest: Digest32?

    init(digest: Digest32?) { self.digest = digest }

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        let p = sqlite3_column_blob(sqliteStatement, index)
        let n = Int(sqlite3_column_bytes(sqliteStatement, index))
        digest = p.flatMap { Digest32(raw: UnsafeRawBufferPointer(start: $0, count: n)) }
    }

    var databaseValue: DatabaseValue { digest.map { Data($0.bytes).databaseValue } ?? .null }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ColumnDigest? {
        Data.fromDatabaseValue(dbValue).map { d in ColumnDigest(digest: d.withUnsafeBytes { Digest32(raw: $0) }) }
    }
}

/// A column's value as `StorageValue`, read from the statement the way GRDB's `DatabaseValue`
/// reads it (a text up to its first NUL byte; a real as its `String`), without the `Data` and
/// boxing of a `DatabaseValue`. NULL is nil.
struct ColumnValue: DatabaseValueConvertible, StatementColumnConvertible {
    var value: StorageValue

    init(value: StorageValue) { self.value = value }

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        switch sqlite3_column_type(sqliteStatement, index) {
        case SQLITE_INTEGER: value = .integer(sqlite3_column_int64(sqliteStatement, index))
        case SQLITE_FLOAT: value = .text(String(sqlite3_column_double(sqliteStatement, index)))
        case SQLITE_TEXT: value = .text(String(cString: sqlite3_column_text(sqliteStatement, index)!))
        case SQLITE_BLOB: value = .blob(ColumnBytes(sqliteStatement: sqliteStatement, index: index)?.bytes ?? [])
        default: value = .null
        }
    }

    var databaseValue: DatabaseValue {
        switch value {
        case .null: return .null
        case .integer(let i): return i.databaseValue
        case .text(let s): return s.databaseValue
        case .blob(let b): return Data(b).databaseValue
        }
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ColumnValue? {
        switch dbValue.storage {
        case .null: return ColumnValue(value: .null)
        case .int64(let i): return ColumnValue(value: .integer(i))
        case .double(let d): return ColumnValue(value: .text(String(d)))
        case .string(let s): return ColumnValue(value: .text(s))
        case .blob(let b): return ColumnValue(value: .blob(Array(b)))
        }
    }
}
