// ledger-fuzz: a seeded mutation fuzzer for the decoders of untrusted input (envelopes, payloads,
// entry lines, checkpoint notes, proof files, bag manifests and bag-info, verifier keys, EDTF
// dates, language tags, CSV sheets and mappings, archive bodies, the streaming log verifier).
//
//   swift run -c release ledger-fuzz [--target NAME[,NAME…]|all] [--inputs N] [--seed S]
//                                    [--save-crashes DIR] [--bundle DIR] [--hang-seconds H]
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
import Foundation
import LedgerCore

@main
enum LedgerFuzzCommand {
    static func usage() -> Never {
        FileHandle.standardError.write(
            Data(
                """
                usage: ledger-fuzz [--target NAME[,NAME...]|all] [--inputs N] [--seed S] [--save-crashes DIR]
                                   [--bundle DIR] [--hang-seconds H] [--slow-seconds S]
                       ledger-fuzz --list | --write-corpus DIR | --target NAME --replay FILE...
                --inputs N is per target; the slow targets (jsonl-reader, log) run a fifth of N.

                """.utf8))
        exit(64)
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

    static func main() {
        var options = RunOptions()
        var targetNames = "all"
        var bundle: String?
        var hangSeconds = 10.0
        var replay: [String] = []
        var writeCorpus: String?
        var list = false

        var args = Array(CommandLine.arguments.dropFirst())
        while !args.isEmpty {
            let a = args.removeFirst()
            func value() -> String {
                guard !args.isEmpty else { usage() }
                return args.removeFirst()
            }
            switch a {
            case "--target": targetNames = value()
            case "--inputs": guard let n = Int(value()), n >= 0 else { usage() }; options.inputs = n
            case "--seed": guard let s = UInt64(value()) else { usage() }; options.seed = s
            case "--save-crashes": options.saveDir = value()
            case "--bundle": bundle = value()
            case "--hang-seconds": guard let h = Double(value()), h > 0 else { usage() }; hangSeconds = h
            case "--slow-seconds": guard let s = Double(value()), s > 0 else { usage() }; options.slowSeconds = s
            case "--write-corpus": writeCorpus = value()
            case "--list": list = true
            case "--replay":
                replay = args
                args = []
            default: usage()
            }
        }

        let corpus = Corpus()
        if let bundle { corpus.loadBundle(bundle) }
        var all = makeTargets(corpus)
        // Hidden targets that check the harness itself: a trap, a stack overflow and a hang on
        // an input holding "boom", each of which must be caught, saved and reported.
        if targetNames.hasPrefix("selftest-") { all.append(selfTest(targetNames)) }

        if list {
            for t in all { print(t.name.padding(toLength: 18, withPad: " ", startingAt: 0) + t.about) }
            exit(0)
        }

        let chosen: [FuzzTarget]
        if targetNames == "all" {
            chosen = all
        } else {
            var picked: [FuzzTarget] = []
            for name in targetNames.split(separator: ",") {
                guard let t = all.first(where: { $0.name == name }) else {
                    FileHandle.standardError.write(Data("ledger-fuzz: no target \(name); --list shows them\n".utf8))
                    exit(64)
                }
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
            exit(0)
        }

        if let dir = options.saveDir { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        installCrashHandlers()
        startWatchdog(limitSeconds: hangSeconds)

        if !replay.isEmpty {
            guard chosen.count == 1 else { usage() }
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
            exit(bad ? 1 : 0)
        }

        print("ledger-fuzz: seed \(options.seed), \(options.inputs) inputs per target, targets: \(chosen.map(\.name).joined(separator: " "))")
        var total = Stats()
        var seedProblems: [String] = []
        for t in chosen {
            let count = options.inputs * t.share / 10
            let s = run(t, count: count, options: options)
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
        if failed > 0 { print("FAILED: \(total.violations) violations, \(total.slow) slow inputs") }
        exit(failed > 0 ? 1 : 0)
    }
}
#endif
