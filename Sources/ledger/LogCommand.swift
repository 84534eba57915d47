import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `ledger log`: list entries.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List entries: index, record time, type, subject and signer.")

    @OptionGroup var ledger: LedgerOption
    @Option(parsing: .unconditional, help: "First entry index to list.")
    var from: UInt64 = 0
    @Option(parsing: .unconditional, help: "Most entries to list (default 1000, or all with --raw).")
    var limit: Int?
    @Flag(help: "Print the stored entry lines themselves (JSON Lines, the exact Merkle leaf bytes) from --from on; --limit applies.")
    var raw = false
    @OptionGroup var output: JSONOutputOption

    func validate() throws {
        if raw && output.json { throw ValidationError("--raw and --json are alternatives") }
        if from > UInt64(Int64.max) { throw ValidationError("--from must be at most \(Int64.max)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, not \(limit)") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.open(readOnly: true)
            if raw {
                var remaining = max(0, limit ?? Int.max)
                try store.forEachBatch(batchSize: 4096) { (batch) throws(LedgerError) in
                    var out: [UInt8] = []
                    for e in batch where e.index >= from && remaining > 0 {
                        out += e.line
                        out.append(0x0A)
                        remaining -= 1
                    }
                    FileHandle.standardOutput.write(Data(out))
                }
                return
            }
            let rows = try store.logRows(from: from, limit: max(0, limit ?? 1000))
            if output.json {
                for r in rows {
                    printJSON([
                        ("index", .int(r.index)), ("recordedAt", .string(r.recordedAt)), ("type", .string(r.type)), ("subject", .string(r.subject)),
                        ("id", .string(r.eventID)), ("signer", .string(r.signerKeyID)), ("signerName", .string(r.signerName)),
                    ])
                }
                return
            }
            let typeWidth = max(4, rows.map(\.type.count).max() ?? 0)
            let subjectWidth = min(64, max(7, rows.map(\.subject.count).max() ?? 0))
            print(
                "index".leftPad(7) + "  " + "recorded at".rightPad(27) + "  " + "type".rightPad(typeWidth) + "  " + "subject".rightPad(subjectWidth)
                    + "  signer")
            for r in rows {
                print(
                    String(r.index).leftPad(7) + "  " + r.recordedAt.rightPad(27) + "  " + r.type.rightPad(typeWidth) + "  "
                        + r.subject.rightPad(subjectWidth) + "  " + Terminal.safe(r.signerName))
            }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
