import Foundation
import Testing

/// The independent Python verifier (Tools/verify_log.py, written from docs/FORMAT.md alone)
/// must agree with `ledger verify` on ledgers the tool made, good and tampered.
@Suite("ledger verify and Tools/verify_log.py agree", .enabled(if: CrossVerifier.isAvailable))
struct CLICrossVerifierTests {
    private func sandbox() throws -> Sandbox {
        let s = try Sandbox()
        try s.standardSetup()
        try s.append(
            (0..<12).map {
                EventJSON.make(subject: "incident:inc-\($0)", body: EventJSON.reportBody(title: ["en": "Event \($0)", "ar": "قصف مستشفى \($0)"]))
            })
        let cp = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        try #require(cp.status == 0, "\(cp)")
        try s.append([EventJSON.make(type: "incident.corrected", subject: "incident:inc-0", expects: 1, body: EventJSON.correctionBody(title: "A correction"))])
        return s
    }

    /// Exports entries and checkpoints the way an auditor would, then runs the Python verifier.
    private func python(_ s: Sandbox, trust: String) throws -> CLIResult {
        let entries = try s.run(["log", "--ledger", s.ledger, "--raw"])
        try #require(entries.status == 0, "\(entries)")
        let notes = try s.run(["checkpoint", "--ledger", s.ledger, "--list"])
        try #require(notes.status == 0, "\(notes)")
        let entriesPath = s.write("entries.jsonl", entries.stdout)
        let notesPath = s.write("checkpoints.txt", notes.stdout)
        let child = try Child(
            executable: CrossVerifier.python3!, arguments: [CrossVerifier.script, entriesPath, "--checkpoints", notesPath, "--trust", trust],
            stdin: nil, passphrase: nil, directory: nil)
        return try child.wait(timeout: 120)
    }

    @Test("a good ledger: both accept, with the same root")
    func good() throws {
        let s = try sandbox()
        let ours = try s.run(["verify", "--ledger", s.ledger, "--trust", s.keyID("admin"), "--json"])
        #expect(ours.status == 0, "\(ours)")
        let root = try #require(try ours.jsonLines().first?["root"] as? String)
        let theirs = try python(s, trust: s.keyID("admin"))
        #expect(theirs.status == 0, "\(theirs)")
        #expect(theirs.stdout.contains(root), "same root \(root): \(theirs.stdout)")
        let wrongPin = try python(s, trust: s.keyID("archivist"))
        #expect(wrongPin.status == 1, "\(wrongPin)")
        #expect(wrongPin.stdout.contains("entry 0"), "\(wrongPin.stdout)")
    }

    @Test("a payload byte changed in entry 7: both fail at entry 7")
    func tampered() throws {
        let s = try sandbox()
        let line = try SQLTool.entryLine(s.ledger, 7)
        let marker = try #require(line.range(of: #""payload":""#))
        var chars = Array(line)
        let at = line.distance(from: line.startIndex, to: marker.upperBound) + 40
        chars[at] = chars[at] == "A" ? "B" : "A"
        let hex = String(chars).utf8.map { String(format: "%02x", $0) }.joined()
        try SQLTool.run(s.ledger, "UPDATE entries SET line = x'\(hex)' WHERE idx = 7")
        let ours = try s.run(["verify", "--ledger", s.ledger, "--trust", s.keyID("admin")])
        #expect(ours.status == 1, "\(ours)")
        #expect(ours.stderr.contains("entry 7:"), "\(ours.stderr)")
        let theirs = try python(s, trust: s.keyID("admin"))
        #expect(theirs.status == 1, "\(theirs)")
        #expect(theirs.stdout.contains("entry 7"), "\(theirs.stdout)")
    }
}

enum CrossVerifier {
    static let python3 = SQLTool.python3
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Tools/verify_log.py").standardized.path
    static var isAvailable: Bool {
        guard let python3, FileManager.default.fileExists(atPath: script) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python3)
        p.arguments = ["-c", "import cryptography"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}
