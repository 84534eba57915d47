import Foundation
import GRDB
import LedgerCore
import LedgerCrypto

extension SQLiteLedger {
    /// The stored entry line at `index`.
    public func entryLine(at index: UInt64) throws(LedgerError) -> [UInt8] {
        let line: [UInt8]? = try read { db in
            try Row.fetchOne(db, sql: "SELECT line FROM entries WHERE idx = ?", arguments: [Int64(clamping: index)]).map { Array(try $0.blob(0)) }
        }
        guard let line else { throw LedgerError(.refused, "entry \(index) does not exist (the log holds \(try size()) entries)") }
        return line
    }

    /// The stored signed checkpoint for tree size `size`, if there is one.
    public func checkpointNote(size: UInt64) throws(LedgerError) -> [UInt8]? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [Int64(clamping: size)]).map { Array(try $0.blob(0)) }
        }
    }

    /// Adds the witness cosignature lines of `cosigned` (a copy of a stored checkpoint with
    /// further signature lines) to the stored note of the same tree size. The checkpoint text must
    /// be identical to the stored one. A line with the name and key hash of a line already stored
    /// replaces it (a witness's newer cosignature); lines under the log's own name are not taken.
    /// Returns the stored note and the names of the lines added or replaced.
    public func attachCosignatures(_ cosigned: SignedNote) throws(LedgerError) -> (note: SignedNote, added: [String]) {
        let cp = try Checkpoint(text: cosigned.text)
        guard cp.origin == origin else {
            throw LedgerError(.refused, "the checkpoint names origin \(cp.origin.prefix(80)), not this ledger's \(origin)")
        }
        do {
            return try queue.writeWithoutTransaction { db in
                var result: (SignedNote, [String])!
                try db.inTransaction(.immediate) {
                    guard let row = try Row.fetchOne(db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [Int64(clamping: cp.size)]) else {
                        throw LedgerError(.refused, "this ledger has no stored checkpoint for tree size \(cp.size) to attach cosignatures to")
                    }
                    var stored = try SignedNote(bytes: Array(try row.blob(0)))
                    guard stored.text == cosigned.text else {
                        throw LedgerError(
                            .verificationFailed,
                            "the cosigned checkpoint for tree size \(cp.size) has root \(cp.root.hex), but this ledger's checkpoint for that size differs: it is not this log's checkpoint (or the log forked)")
                    }
                    var added: [String] = []
                    for line in cosigned.signatures where line.name != origin {
                        if let i = stored.signatures.firstIndex(where: { $0.name == line.name && $0.keyHash == line.keyHash }) {
                            if stored.signatures[i] != line {
                                stored.signatures[i] = line
                                added.append(line.name)
                            }
                        } else {
                            stored.signatures.append(line)
                            added.append(line.name)
                        }
                    }
                    if !added.isEmpty {
                        try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [Data(stored.encoded()), Int64(clamping: cp.size)])
                    }
                    result = (stored, added)
                    return .commit
                }
                return result
            }
        } catch {
            throw LedgerError.database(error, path: path)
        }
    }
}
