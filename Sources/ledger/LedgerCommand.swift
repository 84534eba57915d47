import ArgumentParser
import Dispatch

/// The `ledger` command-line tool.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "IncidentLedger: a signed, append-only archive of attacks on health care.",
        discussion: """
            Every event is an Ed25519-signed DSSE envelope appended to an RFC 9162 Merkle log kept in one \
            SQLite file or a PostgreSQL database; `ledger serve` offers it over HTTP. Exit codes: 0 success, 1 verification failed, 3 refused by the ledger's rules, \
            4 conflict (stale `expects` or reused event id; re-read and retry), 5 not a ledger or damaged \
            file, 6 key file error (e.g. wrong passphrase), 64 usage, 65 malformed input, 74 I/O error. \
            See docs/CLI.md and docs/FORMAT.md.
            """,
        subcommands: [
            KeyCommand.self, InitCommand.self, AppendCommand.self, SignCommand.self, CheckpointCommand.self,
            VerifyCommand.self, LogCommand.self, ShowCommand.self, HistoryCommand.self, ListCommand.self, SnapshotCommand.self,
            RebuildCommand.self, ExportCommand.self, AuditCommand.self,
            ImportCommand.self, ImportCSVCommand.self, ExportCSVCommand.self, ExportGeoJSONCommand.self, ProveCommand.self, CheckProofCommand.self,
            WitnessCommand.self, ServeCommand.self, ReaderCommand.self, EraseCommand.self,
        ]
    )
}

/// The process's entry point. Every command but `serve` runs synchronously on the main thread;
/// `serve` runs on the concurrency pool while the main thread waits for it. An asynchronous root
/// command would hand the main thread to `dispatch_main`, which ends it with `pthread_exit`: a
/// process shape that valgrind cannot follow, and the instruction counts of docs/BENCHMARKS.md are
/// taken under valgrind.
@main
enum LedgerMain {
    static func main() {
        do {
            var command = try LedgerCommand.parseAsRoot()
            if let asynchronous = command as? any AsyncParsableCommand {
                try runWaiting(asynchronous)
            } else {
                try command.run()
            }
        } catch {
            LedgerCommand.exit(withError: error)
        }
    }

    private static func runWaiting(_ command: any AsyncParsableCommand) throws {
        final class Outcome: @unchecked Sendable {
            var error: (any Error)?
        }
        nonisolated(unsafe) var command = command
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { try await command.run() } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}
