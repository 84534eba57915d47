// ledger-fuzz: a seeded mutation fuzzer for the decoders of untrusted input (envelopes, payloads,
// entry lines, checkpoint notes, proof files, bag manifests and bag-info, verifier keys, EDTF
// dates, language tags, CSV sheets and mappings, archive bodies, the streaming log verifier).
//
//   swift run -c release ledger-fuzz [--target NAME[,NAME…]|all] [--inputs N] [--seed S]
//                                    [--save-crashes DIR] [--bundle DIR] [--hang-seconds H] [--slow-seconds S]
//   ledger-fuzz --list
//   ledger-fuzz --target NAME --replay FILE…     run saved inputs once, printing each outcome
//   ledger-fuzz --write-corpus DIR               the seed inputs, one directory per target
//
// Each decoder must return or throw: a crash (any fatal signal) saves the input and re-raises;
// an input running longer than --hang-seconds (default 10) is saved and the process exits 3;
// one taking more than --slow-seconds (default 1) is reported and counted; a broken round-trip
// property is a "violation". Exit status 0 only when none of these happened. The same seed gives
// the same inputs (Tools/fuzz.sh runs it; the libFuzzer build of this target is described there).

#if !LIBFUZZER
import ArgumentParser
import Foundation
import LedgerCore

/// `ledger-fuzz`: the seeded mutation fuzzer of every decoder of untrusted input.
@main
struct LedgerFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-fuzz",
        abstract: "A seeded mutation fuzzer for every decoder of untrusted input (Tools/fuzz.sh runs it).",
        discussion: """
            Targets: envelopes, payloads, entry lines, checkpoint notes, proof files, bag manifests and bag-info, verifier \
            keys, EDTF dates, language tags, CSV sheets and mappings, archive bodies, the JSON Lines reader and the \
            streaming log verifier (--list names them). Each target replays its regression inputs, then runs its seed \
            inputs (built in code with fixed keys, plus entries, checkpoints, manifests and bag-info of --bundle) and \
            mutants of a growing corpus; the same seed always gives the same inputs.

            Each decoder must return or throw: a crash (any fatal signal) saves the input (with --save-crashes) and \
            re-raises; an input running longer than --hang-seconds is saved and the process exits 3; one whose decoding \
            takes more than --slow-seconds is reported and counted; a broken round-trip property is a "violation". Exit \
            status 0 only when none of these happened, 1 otherwise, 64 on a usage error.

            Modes: the default fuzzes; --list prints the targets; --write-corpus DIR writes the seed inputs, one \
            directory per target (the libFuzzer build's seeds, see Tools/fuzz.sh); --target NAME --replay FILE... runs \
            saved inputs once, printing each outcome (exit 1 when one is a violation, unreadable or slow).
            """)

    @Option(
        name: .customLong("target"),
        help: ArgumentHelp("The targets to run: names from --list, comma-separated, or all.", valueName: "name[,name...]|all"))
    var targetNames = "all"
    @Option(help: ArgumentHelp("Inputs per target (the slow targets, jsonl-reader and log, run a fifth of N).", valueName: "n"))
    var inputs = RunOptions().inputs
    @Option(help: ArgumentHelp("The seed of the mutations; the same seed gives the same inputs.", valueName: "s"))
    var seed = RunOptions().seed
    @Option(
        name: .customLong("save-crashes"),
        help: ArgumentHelp("Save crashing, hanging, slow and violating inputs to this directory (created if needed).", valueName: "dir"))
    var saveDir: String?
    @Option(help: ArgumentHelp("A BagIt bundle (e.g. Ledger/bundle) whose entries, checkpoints, manifests and bag-info join the seeds.", valueName: "dir"))
    var bundle: String?
    @Option(
        name: .customLong("hang-seconds"),
        help: ArgumentHelp("An input running longer than this is saved and the process exits 3.", valueName: "h"))
    var hangSeconds = 10.0
    @Option(
        name: .customLong("slow-seconds"),
        help: ArgumentHelp("An input whose decoding takes longer than this is reported and counted as slow.", valueName: "s"))
    var slowSeconds = RunOptions().slowSeconds
    @Option(
        name: .customLong("write-corpus"),
        help: ArgumentHelp("Write the seed inputs of the chosen targets to DIR/TARGET/seed-N, then exit.", valueName: "dir"))
    var writeCorpus: String?
    @Flag(help: "Print the targets, one a line with what each decodes, then exit.")
    var list = false
    @Option(
        parsing: .remaining,
        help: ArgumentHelp("Run these saved inputs once through the one --target and print each outcome; takes every argument after it.", valueName: "file"))
    var replay: [String] = []

    func validate() throws {
        guard !targetNames.isEmpty, !targetNames.split(separator: ",").isEmpty else {
            throw ValidationError("--target needs target names (--list shows them) or all")
        }
        guard (0...1_000_000_000_000).contains(inputs) else { throw ValidationError("--inputs must be between 0 and 1000000000000") }
        guard hangSeconds > 0, hangSeconds <= 1_000_000 else { throw ValidationError("--hang-seconds must be more than 0 and at most 1000000") }
        guard slowSeconds > 0, slowSeconds <= 1_000_000 else { throw ValidationError("--slow-seconds must be more than 0 and at most 1000000") }
        let modes = [list ? "--list" : nil, writeCorpus.map { _ in "--write-corpus" }, replay.isEmpty ? nil : "--replay"].compactMap { $0 }
        guard modes.count <= 1 else { throw ValidationError("\(modes.joined(separator: " and ")) cannot be used together") }
        // `.remaining` gives no files and no `--replay` alike: look for the option itself.
        if replay.isEmpty, CommandLine.arguments.dropFirst().contains(where: { $0 == "--replay" || $0.hasPrefix("--replay=") }) {
            throw ValidationError("--replay needs at least one FILE (a saved input)")
        }
        if !replay.isEmpty, targetNames == "all" || targetNames.contains(",") {
            throw ValidationError("--replay needs exactly one --target NAME (the target the inputs were saved from)")
        }
    }

    /// Unoptimised recursion (so not turned into a loop): it ends only by overflowing the stack.
    @_optimize(none)
    static func recurse(_ n: Int) -> Int {
        let frame = (n, n &+ 1, n &+ 2, n &+ 3, n &+ 4, n &+ 5, n &+ 6, n &+ 7)
        return n == Int.min ? 0 : recurse(n &+ frame.1) &+ frame.7
    }

    static func selfTest(_ name: String) -> FuzzTarget {
        FuzzTarget(name: name, about: "harness self-test", seeds: [Array("a boom b".utf8), Array("abc".utf8)]) { b in
            guard b.count > 3, b.indices.dropLast(3).contains(where: { b[$0...].starts(with: Array("boom".utf8)) }) else { return .rejected }
            switch name {
            case "selftest-trap": fatalError("self-test trap")
            case "selftest-overflow":
                return recurse(b.count) == 0 ? .accepted : .rejected
            default:
                while nowNs() > 0 { usleep(1000) }
                return .accepted
            }
        }
    }

    func run() throws {
        var options = RunOptions()
        options.inputs = inputs
        options.seed = seed
        options.saveDir = saveDir
        options.slowSeconds = slowSeconds

        let corpus = Corpus()
        if let bundle { corpus.loadBundle(bundle) }
        var all = makeTargets(corpus)
        // Hidden targets that check the harness itself: a trap, a stack overflow and a hang on
        // an input holding "boom", each of which must be caught, saved and reported.
        if targetNames.hasPrefix("selftest-") { all.append(Self.selfTest(targetNames)) }

        if list {
            for t in all { print(t.name.padding(toLength: 18, withPad: " ", startingAt: 0) + t.about) }
            return
        }

        let chosen: [FuzzTarget]
        if targetNames == "all" {
            chosen = all
        } else {
            var picked: [FuzzTarget] = []
            for name in targetNames.split(separator: ",") {
                guard let t = all.first(where: { $0.name == name }) else { throw ValidationError("no target \(name); --list shows them") }
                picked.append(t)
            }
            chosen = picked
        }

        if let dir = writeCorpus {
            for t in chosen {
                let d = dir + "/" + t.name
                try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                for (i, s) in t.seeds.enumerated() { _ = FileManager.default.createFile(atPath: "\(d)/seed-\(i)", contents: Data(s)) }
            }
            print("wrote the seeds of \(chosen.count) targets to \(dir)")
            return
        }

        if let dir = options.saveDir { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        installCrashHandlers()
        startWatchdog(limitSeconds: hangSeconds)

        if !replay.isEmpty {
            guard chosen.count == 1 else { throw ValidationError("--replay needs exactly one --target NAME") }
            let t = chosen[0]
            copyCString(t.name, into: crash.target, capacity: 256)
            var bad = false
            for (i, path) in replay.enumerated() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    print("\(path): unreadable")
                    bad = true
                    continue
                }
                let b = [UInt8](data)
                noteInput(b, index: i)
                decodeEnd = 0
                let t0 = nowNs()
                inputStart.store(t0, ordering: .releasing)
                let outcome = t.run(b)
                let t1 = nowNs()
                inputStart.store(0, ordering: .releasing)
                let dt = Double((decodeEnd != 0 ? decodeEnd : t1) - t0) / 1e9
                let timing = "\(b.count) bytes, decoded in \(String(format: "%.6f", dt)) s, \(String(format: "%.6f", Double(t1 - t0) / 1e9)) s with checks"
                switch outcome {
                case .accepted: print("\(path): accepted (\(timing))")
                case .rejected: print("\(path): rejected (\(timing))")
                case .violation(let why):
                    print("\(path): VIOLATION: \(why)")
                    bad = true
                }
                if dt > options.slowSeconds { bad = true }
            }
            if bad { throw ExitCode.failure }
            return
        }

        print("ledger-fuzz: seed \(options.seed), \(options.inputs) inputs per target, targets: \(chosen.map(\.name).joined(separator: " "))")
        var total = Stats()
        var seedProblems: [String] = []
        for t in chosen {
            let count = options.inputs * t.share / 10
            let s = fuzz(t, count: count, options: options)
            print(format(t.name, s))
            fflush(nil)  // so the lines so far survive an exit on a hang
            if s.seedsAccepted < min(s.seeds, count), t.name != "log" {
                seedProblems.append("\(t.name): \(s.seedsAccepted) of \(s.seeds) seeds accepted")
            }
            total.add(s)
        }
        print(format("TOTAL", total))
        for p in seedProblems { print("note: \(p)") }
        let failed = total.violations + total.slow
        if failed > 0 {
            print("FAILED: \(total.violations) violations, \(total.slow) slow inputs")
            throw ExitCode.failure
        }
    }
}

/// Runs `count` inputs through `target` (the harness's `run`, which the command's own `run()` hides).
private func fuzz(_ target: FuzzTarget, count: Int, options: RunOptions) -> Stats {
    run(target, count: count, options: options)
}
#endif
