import Foundation

/// A progress line on stderr, only when stderr is a terminal.
final class Progress: @unchecked Sendable {
    private let label: String
    private let enabled = Terminal.stderrIsTerminal
    private var last = Date.distantPast
    private let start = Date()
    private var shown = false

    init(label: String) { self.label = label }

    func update(_ done: UInt64, _ total: UInt64) { update(done, total, unit: "entries", detail: nil) }

    func update(_ done: UInt64, _ total: UInt64, unit: String, detail: String?) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(last) > 0.2 || done == total else { return }
        last = now
        let rate = Double(done) / max(now.timeIntervalSince(start), 0.001)
        let pct = total > 0 ? Double(done) * 100 / Double(total) : 100
        FileHandle.standardError.write(
            Data(String(format: "\r%@ %llu / %llu %@ (%.0f%%, %.0f/s)%@", label, done, total, unit, pct, rate, detail.map { ", " + $0 } ?? "").utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
