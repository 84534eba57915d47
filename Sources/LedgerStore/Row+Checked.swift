import Foundation
import GRDB
import LedgerCore

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

    private func damaged(_ i: Int, _ what: String) -> LedgerError {
        let name = i < count ? Array(columnNames)[i] : "#\(i)"
        return LedgerError(.notALedger, "the ledger file is damaged: column \(name) should hold \(what); run `ledger verify` and restore from a backup")
    }
}
