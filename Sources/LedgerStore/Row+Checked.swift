import Foundation
import GRDB
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

    func bytes(_ i: Int) throws(LedgerError) -> [UInt8] {
        do { return try withUnsafeData(atIndex: i) { d in d.map { Array($0) } ?? [] } } catch { throw damaged(i, "a blob") }
    }

    /// nil when the column does not hold exactly 32 bytes.
    func digest(_ i: Int) -> Digest32? {
        (try? withUnsafeData(atIndex: i) { d in d.flatMap { $0.withUnsafeBytes { Digest32(raw: $0) } } }) ?? nil
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
        do { return try withUnsafeData(named: c.rawValue) { d in d.map { Array($0) } ?? [] } } catch { throw damagedColumn(c.rawValue, "a blob") }
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
        (try? withUnsafeData(named: c.rawValue) { d in d.flatMap { $0.withUnsafeBytes { Digest32(raw: $0) } } }) ?? nil
    }

    private func damagedColumn(_ name: String, _ what: String) -> LedgerError {
        LedgerError(.notALedger, "the ledger file is damaged: column \(name) should hold \(what); run `ledger verify` and restore from a backup")
    }
}
