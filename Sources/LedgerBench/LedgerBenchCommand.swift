import ArgumentParser

/// `ledger-bench`: the ledger's speed beside the raw limits of its parts, timed in the same run.
@main
struct LedgerBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-bench",
        abstract: "Benchmarks of the ledger against the raw limits of its parts, measured in the same run.",
        discussion: """
            Every figure is reported as a ratio to a raw limit measured moments before on the same machine (the bare \
            libsodium verify loop over the same messages, bare SQLite inserts and durable commits of rows of the same size, \
            decoding every entry, bare primary-key lookups), because these machines are shared and noisy: compare the \
            ratios, not the rates. Every key is a demo key from a fixed seed. Build with `swift build -c release` and run \
            on an otherwise idle machine; docs/BENCHMARKS.md has the results and how to rerun them.

            Without a subcommand, `ledger-bench [--events N] [--durable M] [--rounds R] [--dir DIR]` runs `log`. The \
            scripts: Tools/bench.sh runs `suite`, Tools/bench-archive.sh runs `archive`, Tools/bench-audit.sh runs \
            `archive --only-generate` and `audit`, Tools/bench-postgres.sh runs `postgres` on a throwaway cluster.
            """,
        subcommands: [LogBench.self, SuiteBench.self, ArchiveBench.self, AuditBench.self, PostgresBench.self, ServeBench.self, WebBench.self],
        defaultSubcommand: LogBench.self
    )
}
