import Foundation
import Synchronization

// MARK: - Crash capture

/// What the fatal-signal handler needs, prepared outside it: the current input's bytes, where to
/// save them and what to print. The handler only reads these and calls async-signal-safe functions.
struct CrashState {
    var buffer: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var length = 0
    var index = 0
    /// NUL-terminated target name.
    var target: UnsafeMutablePointer<CChar>
    /// NUL-terminated path to save a crashing input to; empty when not saving.
    var path: UnsafeMutablePointer<CChar>
    var oldActions: UnsafeMutablePointer<sigaction>
}

nonisolated(unsafe) var crash = CrashState(
    buffer: .allocate(capacity: 1 << 22), capacity: 1 << 22,
    target: {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 256); p.initialize(to: 0); return p
    }(),
    path: {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: 4096); p.initialize(to: 0); return p
    }(),
    oldActions: .allocate(capacity: 65))

/// When the current input's decoding ended (see `decoded()`); 0 when not marked.
nonisolated(unsafe) var decodeEnd: UInt64 = 0

/// Start of the current input in monotonic nanoseconds; 0 between inputs.
let inputStart = Atomic<UInt64>(0)

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func copyCString(_ s: String, into p: UnsafeMutablePointer<CChar>, capacity: Int) {
    let u = Array(s.utf8.prefix(capacity - 1))
    for (i, c) in u.enumerated() { p[i] = CChar(bitPattern: c) }
    p[u.count] = 0
}

/// Records the input about to run so a crash can save it.
@inline(__always)
func noteInput(_ b: [UInt8], index: Int) {
    let n = min(b.count, crash.capacity)
    b.withUnsafeBufferPointer { src in
        if n > 0 { crash.buffer.update(from: src.baseAddress!, count: n) }
    }
    crash.length = n
    crash.index = index
}

private func sigWrite(_ s: StaticString) { _ = write(2, s.utf8Start, s.utf8CodeUnitCount) }
private func sigWrite(cString p: UnsafePointer<CChar>) { _ = write(2, p, strlen(p)) }
private func sigWrite(int value: Int) {
    var digits:
        (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    if value < 0 { sigWrite("-") }
    withUnsafeMutableBytes(of: &digits) { buf in
        var v = value.magnitude
        var i = buf.count
        repeat {
            i -= 1
            buf[i] = UInt8(48 + v % 10)
            v /= 10
        } while v > 0 && i > 0
        _ = write(2, buf.baseAddress! + i, buf.count - i)
    }
}

/// The fatal-signal handler: saves the current input, says which it was, then hands the signal
/// to whatever handled it before (the Swift runtime's backtracer or the default action).
func onFatalSignal(_ sig: Int32) {
    sigWrite("\nledger-fuzz: CRASH (signal ")
    sigWrite(int: Int(sig))
    sigWrite(") in target ")
    sigWrite(cString: crash.target)
    sigWrite(" at input #")
    sigWrite(int: crash.index)
    if crash.path[0] != 0 {
        let fd = open(crash.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd >= 0 {
            _ = write(fd, crash.buffer, crash.length)
            close(fd)
            sigWrite("; input saved to ")
            sigWrite(cString: crash.path)
        }
    }
    sigWrite("\n")
    // The previous handler (the Swift runtime's backtracer) runs now, at once: this handler was
    // installed with SA_NODEFER. Whatever it does, the process then ends as killed by `sig` would.
    sigaction(sig, crash.oldActions + Int(sig), nil)
    raise(sig)
    _exit(128 + sig)
}

func installCrashHandlers() {
    // An alternate stack, so a stack overflow (runaway recursion) still reaches the handler.
    var stack = stack_t()
    stack.ss_size = 1 << 16
    stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: stack.ss_size, alignment: 16)
    stack.ss_flags = 0
    sigaltstack(&stack, nil)
    for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT] {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = { onFatalSignal($0) }
        #else
        action.__sigaction_u.__sa_handler = { onFatalSignal($0) }
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_NODEFER | SA_ONSTACK)
        sigaction(sig, &action, crash.oldActions + Int(sig))
    }
}

// MARK: - Hang watchdog

/// Kills the process when one input runs longer than `limit` seconds, after saving it.
func startWatchdog(limitSeconds: Double) {
    let limit = UInt64(limitSeconds * 1e9)
    let thread = Thread {
        while true {
            usleep(100_000)
            let start = inputStart.load(ordering: .acquiring)
            guard start != 0, nowNs() &- start > limit else { continue }
            var message = "\nledger-fuzz: HANG: target \(String(cString: crash.target)) input #\(crash.index) has run for more than \(limitSeconds) s"
            if crash.path[0] != 0 {
                let path = String(cString: crash.path).replacingOccurrences(of: "/crash-", with: "/hang-")
                _ = FileManager.default.createFile(atPath: path, contents: Data(bytes: crash.buffer, count: crash.length))
                message += "; input saved to \(path)"
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            fflush(nil)
            _exit(3)
        }
    }
    thread.start()
}

// MARK: - Running a target

struct Stats {
    var inputs = 0
    var accepted = 0
    var rejected = 0
    var violations = 0
    var slow = 0
    var maxNs: UInt64 = 0
    var maxIndex = 0
    var maxLength = 0
    var seconds = 0.0
    var seedsAccepted = 0
    var seeds = 0

    mutating func add(_ o: Stats) {
        inputs += o.inputs
        accepted += o.accepted
        rejected += o.rejected
        violations += o.violations
        slow += o.slow
        if o.maxNs > maxNs { maxNs = o.maxNs }
        seconds += o.seconds
    }
}

struct RunOptions {
    var inputs = 10_000
    var seed: UInt64 = 1
    var saveDir: String?
    var slowSeconds = 1.0
    var verbose = false
}

func save(_ b: [UInt8], dir: String?, name: String) -> String? {
    guard let dir else { return nil }
    let path = dir + "/" + name
    return FileManager.default.createFile(atPath: path, contents: Data(b)) ? path : nil
}

/// Runs `count` inputs through `target`: the seeds first, then mutants of the growing corpus.
/// Accepted mutants of at most 16 KiB join the corpus (at most 512 entries), so later inputs
/// start from deeper valid shapes without every mutation working on huge inputs.
func run(_ target: FuzzTarget, count: Int, options: RunOptions) -> Stats {
    let seed = options.seed ^ fnv1a(target.name)
    var mutator = Mutator(seed: seed, maxLength: target.maxLength)
    var corpus = target.seeds.isEmpty ? [[]] : target.seeds
    let seedCount = corpus.count
    var stats = Stats()
    stats.seeds = seedCount
    copyCString(target.name, into: crash.target, capacity: 256)
    if let dir = options.saveDir {
        copyCString("\(dir)/crash-\(target.name)-seed\(options.seed).bin", into: crash.path, capacity: 4096)
    }
    let slowNs = UInt64(options.slowSeconds * 1e9)
    let began = nowNs()
    // The regression inputs first (numbered from -1 down in messages), then `count` generated ones.
    let regressions = target.regressions
    for i in -regressions.count..<count {
        let input: [UInt8]
        if i < 0 {
            input = regressions[-i - 1]
        } else if i < seedCount {
            input = corpus[i]
        } else {
            let base = corpus[mutator.rng.below(corpus.count)]
            input = mutator.mutate(base, corpus: corpus)
        }
        noteInput(input, index: i)
        decodeEnd = 0
        let t0 = nowNs()
        inputStart.store(t0, ordering: .releasing)
        let outcome = target.run(input)
        let t1 = nowNs()
        inputStart.store(0, ordering: .releasing)
        // The decoder's time: up to `decoded()` when the target marks it (the checks after it
        // are the fuzzer's own work), else the whole run.
        let dt = (decodeEnd != 0 ? decodeEnd : t1) - t0
        if dt > stats.maxNs {
            stats.maxNs = dt
            stats.maxIndex = i
            stats.maxLength = input.count
        }
        if dt > slowNs {
            stats.slow += 1
            let path = save(input, dir: options.saveDir, name: "slow-\(target.name)-seed\(options.seed)-\(i).bin")
            FileHandle.standardError.write(
                Data(
                    "ledger-fuzz: SLOW: \(target.name) input #\(i) (\(input.count) bytes) took \(Double(dt) / 1e9) s\(path.map { "; saved to \($0)" } ?? "")\n"
                        .utf8))
        }
        switch outcome {
        case .accepted:
            stats.accepted += 1
            if i >= 0, i < seedCount { stats.seedsAccepted += 1 }
            if i >= seedCount, input.count <= 1 << 14, mutator.rng.oneIn(4) {
                if corpus.count < 512 {
                    corpus.append(input)
                } else {
                    corpus[seedCount + mutator.rng.below(corpus.count - seedCount)] = input
                }
            }
        case .rejected:
            stats.rejected += 1
        case .violation(let why):
            stats.violations += 1
            let path = save(input, dir: options.saveDir, name: "violation-\(target.name)-seed\(options.seed)-\(i).bin")
            if stats.violations <= 5 {
                FileHandle.standardError.write(
                    Data("ledger-fuzz: VIOLATION: \(target.name) input #\(i): \(why)\(path.map { "; saved to \($0)" } ?? "")\n".utf8))
            }
        }
        stats.inputs += 1
    }
    stats.seconds = Double(nowNs() - began) / 1e9
    return stats
}

func format(_ name: String, _ s: Stats) -> String {
    func pad(_ t: String, _ n: Int) -> String { t.count >= n ? t : t + String(repeating: " ", count: n - t.count) }
    func lpad(_ t: String, _ n: Int) -> String { t.count >= n ? t : String(repeating: " ", count: n - t.count) + t }
    let ms = String(format: "%.3f", Double(s.maxNs) / 1e6)
    let secs = String(format: "%.1f", s.seconds)
    let rate = s.seconds > 0 ? Int(Double(s.inputs) / s.seconds) : 0
    return pad(name, 18) + " inputs " + lpad("\(s.inputs)", 9) + "  accepted " + lpad("\(s.accepted)", 8) + "  rejected " + lpad("\(s.rejected)", 9)
        + "  violations \(s.violations)  slow \(s.slow)  max " + lpad(ms, 8) + " ms  " + lpad(secs, 6) + " s  " + lpad("\(rate)", 7) + "/s"
}
