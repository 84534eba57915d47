import Foundation
import LedgerCore
import LedgerTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ledger serve` as its own process on loopback, and `ledger append --server` posting to it.
@Suite("CLI: ledger serve and append --server")
struct CLIServeTests {
    /// Starts `ledger serve` on a free loopback port; its base URL once it listens.
    static func serve(_ s: Sandbox, extra: [String] = []) throws -> (Child, String) {
        let child = try Child(
            arguments: ["serve", "--ledger", s.ledger, "--listen", "127.0.0.1:0"] + extra, stdin: nil, passphrase: nil, directory: s.dir.path)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let line = child.output.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return (child, String(line.dropFirst("listening on ".count)))
            }
            guard child.process.isRunning else { break }
            usleep(20_000)
        }
        child.kill9()
        throw HarnessError("ledger serve did not start: \(try child.wait())")
    }

    static func get(_ url: String) throws -> (Int, String) {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var out: (Int, String) = (0, "")
        URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
            out = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 30)
        return out
    }

    @Test("append --server signs here and posts; refusals keep their exit codes; SIGTERM stops the server cleanly", arguments: StoreKind.all)
    func appendThroughServer(store: StoreKind) throws {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        let (server, url) = try Self.serve(s)
        let first = s.write("a.json", EventJSON.make(subject: "incident:served-1"))
        let r = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), first])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout == "appended 3\n")
        // The same file signed again is a new event id: a second incident report is refused (exists).
        let again = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), first])
        #expect(again.status == 4, "\(again)")
        #expect(again.stderr.contains("a.json:1:"))
        // A key the ledger does not know: refused (exit 3), nothing written.
        try s.newKey("stranger")
        let stranger = try s.run(["append", "--server", url, "--key", s.keyPath("stranger"), s.write("b.json", EventJSON.make(subject: "incident:x"))])
        #expect(stranger.status == 3, "\(stranger)")
        #expect(stranger.stderr.contains("unknown key"))
        // A batch: each line posted in turn.
        let batch = s.write(
            "c.jsonl", [EventJSON.make(subject: "incident:served-2"), EventJSON.make(subject: "incident:served-3")].joined(separator: "\n") + "\n")
        let b = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), "--batch", batch])
        #expect(b.stdout == "appended 4\nappended 5\n", "\(b)")
        let (status, body) = try Self.get(url + "/v1/entities/incident:served-2")
        #expect(status == 200)
        #expect(body.contains("\"requested\":\"incident:served-2\""))
        // Other processes write to the same ledger while the server runs (the documented
        // `ledger checkpoint` beside it): each sees every entry the server acknowledged, and the
        // server's later entries survive them (a lost -wal once dropped them).
        let cp1 = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(cp1.status == 0, "\(cp1)")
        let more = s.write(
            "m.jsonl", (4..<9).map { EventJSON.make(subject: "incident:served-\($0)") }.joined(separator: "\n") + "\n")
        let m = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), "--batch", more])
        #expect(m.stdout == (6..<11).map { "appended \($0)\n" }.joined(), "\(m)")
        let cp2 = try s.run(["checkpoint", "--ledger", s.ledger, "--key", s.keyPath("log")])
        #expect(cp2.status == 0 && cp2.stdout.contains("\n11\n"), "the checkpoint does not see the server's entries: \(cp2)")
        let (_, log) = try Self.get(url + "/v1/log")
        #expect(log.contains("\"treeSize\":11") && log.contains("\"checkpointSize\":11"), "\(log)")
        _ = kill(server.pid, SIGTERM)
        let ended = try server.wait(timeout: 30)
        #expect(ended.status == 0, "\(ended)")
        #expect(!ended.signaled)
        #expect(try s.verifiedSize() == 11)
        // Nothing listens any more.
        let down = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), s.write("d.json", EventJSON.make(subject: "incident:late"))])
        #expect(down.status == 74, "\(down)")
    }

    @Test("--read-only answers posts 405 (exit 74 for append --server) and serves reads")
    func readOnly() throws {
        let s = try Sandbox()
        try s.standardSetup()
        let (server, url) = try Self.serve(s, extra: ["--read-only"])
        defer { server.kill9() }
        let before = try s.fingerprint()
        let r = try s.run(["append", "--server", url, "--key", s.keyPath("archivist"), s.write("a.json", EventJSON.make(subject: "incident:ro"))])
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("read-only"))
        let (status, body) = try Self.get(url + "/v1/log")
        #expect(status == 200)
        #expect(body.contains("\"readOnly\":true"))
        #expect(try s.fingerprint() == before)
    }

    @Test("usage errors: a bad --listen, --ledger with --server, a bad --server URL")
    func usage() throws {
        let s = try Sandbox()
        #expect(try s.run(["serve", "--ledger", "x.ledger", "--listen", "nowhere"]).status == 64)
        #expect(try s.run(["append", "--ledger", "x.ledger", "--server", "http://127.0.0.1:1", "--signed", "-"]).status == 64)
        let bad = try s.run(["append", "--server", "ftp://x", "--signed", s.write("e.json", "{}")])
        #expect(bad.status == 65, "\(bad)")
        let v6 = try s.run(["append", "--server", "http://[::1]:8080", "--signed", s.write("e.json", "{}")])
        #expect(v6.status == 65 && v6.stderr.contains("localhost"), "\(v6)")
        let missing = try s.run(["serve", "--ledger", s.path("none.ledger"), "--listen", "127.0.0.1:0"])
        #expect(missing.status == 5, "\(missing)")
    }
}
