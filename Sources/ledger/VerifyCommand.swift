import ArgumentParser
import Foundation
import LedgerCore
import LedgerStore

/// `ledger verify`: re-check the whole ledger.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-check every entry: signatures, signer rights at each index, origin, record-time order, Merkle roots against checkpoints.",
        discussion: "Exit 0 when everything holds; exit 1 naming the first bad entry otherwise. Progress goes to stderr in a terminal.")

    @OptionGroup var ledger: LedgerOption
    @Option(help: ArgumentHelp("The genesis key id you trust (obtained out of band). Without it the key in entry 0 is taken and printed.", valueName: "keyid"))
    var trust: String?
    @Option(
        help: ArgumentHelp(
            "A signed checkpoint note you kept (from `ledger checkpoint`, a witness or an export): confirm the log is consistent with it and the "
                + "file still holds it.",
            valueName: "file"))
    var checkpoint: String?
    @OptionGroup var output: JSONOutputOption

    func validate() throws {
        if let trust, !KeyID.isWellFormed(trust) { throw ValidationError("--trust must be 64 lowercase hex digits") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let outside = try checkpoint.map { path throws(LedgerError) in try Input.read(path, limit: Limits.note, what: Limits.noteName) }
            let store = try ledger.open(readOnly: true)
            var info = stat()
            // A file's mode; a database has roles instead (nil: reported as null).
            let isFile = try ledger.location is SQLiteLocation
            let fileMode: mode_t? = isFile && stat(ledger.value, &info) == 0 ? info.st_mode & 0o777 : nil
            let progress = Progress(label: "verified")
            let folding = Progress(label: "projections recomputed and compared")
            nonisolated(unsafe) var firstPhaseDone = false
            let report: VerifyReport
            do throws(LedgerError) {
                report = try store.verify(
                    trust: trust, outside: outside.map { ($0.bytes, $0.name) }, progress: progress.update,
                    projectionProgress: { done, total in
                        if !firstPhaseDone { progress.finish(); firstPhaseDone = true }
                        folding.update(done, total)
                    })
                if !firstPhaseDone { progress.finish() }
                folding.finish()
            } catch {
                if !firstPhaseDone { progress.finish() }
                folding.finish()
                if output.json {
                    printJSON([("ok", .bool(false)), ("index", error.index.map { .int($0) } ?? .null), ("reason", .string(error.message))])
                }
                throw error
            }
            if output.json {
                printJSON([
                    ("ok", .bool(true)), ("origin", .string(report.origin)), ("size", .int(report.size)), ("root", .string(report.root.hex)),
                    ("genesisKeyID", .string(report.genesisKeyID)), ("trusted", .bool(trust != nil)), ("checkpoints", .int(UInt64(report.checkpoints))),
                    ("keys", .int(UInt64(report.keys))), ("lastCheckpointSize", .int(report.lastCheckpointSize)),
                    ("checkpointRecordChecked", .bool(report.checkpointRecordChecked)),
                    ("confirmedCheckpointSize", report.confirmedCheckpointSize.map { .int($0) } ?? .null),
                    ("fileMode", fileMode.map { .string(String($0, radix: 8)) } ?? .null),
                ])
                return
            }
            print("ok: \(report.size) entries, \(report.checkpoints) checkpoints, \(report.keys) keys verified")
            print(
                "checkpoints:    \(report.checkpoints), the latest at tree size \(report.lastCheckpointSize)"
                    + (report.checkpointRecordChecked
                        ? " (matching the ledger's checkpoint record)" : " (a version 2 file: no checkpoint record yet; the next write adds one)"))
            if let size = report.confirmedCheckpointSize {
                print("your checkpoint: tree size \(size), signed by the log key, consistent with the log and still held by the file")
            }
            print("origin:         \(report.origin)")
            print("root:           \(report.root.hex)")
            print(
                "genesis key id: \(report.genesisKeyID)"
                    + (trust == nil ? "  (NOT pinned: pass --trust \(report.genesisKeyID) once you have confirmed it out of band)" : "  (pinned)"))
            if let fileMode, fileMode & 0o077 != 0 {
                print(
                    "note: \(ledger.value) is accessible by group or others (mode \(String(fileMode, radix: 8))) and holds sensitive fields; "
                        + "unless that is deliberate, `chmod 600` it (new ledgers are created 0600)")
            }
            if report.size > report.lastCheckpointSize {
                print(
                    "note: entries \(report.lastCheckpointSize) to \(report.size - 1) are not yet committed by a signed checkpoint; until one covers "
                        + "them (ledger checkpoint) and someone outside holds it, they could be rewritten without detection")
            }
        }
    }
}
