import Foundation
import LedgerCore

/// Checks a file's SQLite header before SQLite opens it, so a foreign or truncated file is
/// refused without SQLite writing anything to it.
enum FileHeader {
    static func check(path: String) throws(LedgerError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.notALedger, "\(path) does not exist; create a ledger with `ledger init`")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError(.io, "\(path) cannot be read (permission?)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        let fileSize = (try? handle.seekToEnd()) ?? 0
        guard header.count == 100, header.prefix(16) == Data("SQLite format 3\u{0}".utf8) else {
            throw LedgerError(.notALedger, "\(path) is not a ledger: it is not a SQLite database")
        }
        func be32(_ o: Int) -> UInt32 { header[o..<o + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        let appID = be32(68)
        let userVersion = be32(60)
        guard Int32(bitPattern: appID) == Schema.applicationID else {
            throw LedgerError(.notALedger, "\(path) is a SQLite database but not an IncidentLedger ledger (application id 0x\(String(appID, radix: 16)))")
        }
        guard Int32(bitPattern: userVersion) == Schema.version else {
            throw LedgerError(.notALedger, "\(path) is ledger format version \(userVersion); this tool reads version \(Schema.version)")
        }
        // A file shorter than its header's page count is truncated, unless a write-ahead log is
        // present: then a checkpoint may be copying pages back (or was cut short by a crash) and
        // SQLite itself completes or recovers it on open.
        let rawPageSize = UInt32(header[16]) << 8 | UInt32(header[17])
        let pageSize = UInt64(rawPageSize == 1 ? 65536 : rawPageSize)
        let pageCount = UInt64(be32(28))
        let walSize = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? UInt64) ?? 0
        if walSize == 0, be32(24) == be32(92), pageCount > 0, fileSize < pageSize * pageCount {
            throw LedgerError(.notALedger, "\(path) is truncated: \(fileSize) bytes, its header says \(pageSize * pageCount)")
        }
    }
}
