import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Logging
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import LedgerServer

/// A ledger with the standard fixture keys and a server over it, reached through a real socket
/// on loopback (HummingbirdTesting's live client).
final class Served: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let place: TestPlace
    let ledger: Ledger
    let server: LedgerHTTPServer

    init(_ kind: StoreKind, options: ServerOptions = ServerOptions(), events: [Envelope] = []) throws {
        place = try TestPlace(kind, dir: dir)
        let prefix = Fixtures.standardPrefix()
        ledger = try Ledger.create(at: place.location, genesis: prefix[0])
        // Sealed fields are sealed as `ledger append --key` seals them, for a reader enrolled
        // first (entry 4, before the events) when there are any.
        let keys = events.map { e in [Fixtures.admin, Fixtures.archivist, Fixtures.reviewer].first { KeyID.of($0.publicKey) == e.keyID }! }
        let (sealed, openings) = Fixtures.sealing(events, keys: keys)
        let reader = openings.isEmpty ? [] : [Fixtures.enrollReader(n: 9)]
        _ = try ledger.append(Array(prefix.dropFirst()) + reader + sealed, openings: openings)
        var o = options
        o.port = 0
        server = try LedgerHTTPServer(location: place.location, options: o)
    }

    deinit { try? ledger.close() }

    func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        defer { server.close() }
        // Quiet: 10,000 request lines would bury the test output.
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        try await server.application(logger: logger).test(.live) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    func post(_ envelope: Envelope, contentType: String = "application/json") async throws -> TestResponse {
        try await post(envelope.encoded(), contentType: contentType)
    }

    func post(_ bytes: [UInt8], contentType: String = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [:]
        headers[.contentType] = contentType
        return try await execute(uri: "/v1/entries", method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    func get(_ uri: String) async throws -> TestResponse { try await execute(uri: uri, method: .get) }
}

extension TestResponse {
    var bytes: [UInt8] { Array(buffer: body) }
    var text: String { String(buffer: body) }
    var json: JSONObject? { try? JSONParser.parseObject(bytes) }
    /// `error.message` of an error reply.
    var message: String { json?["error"]?.objectValue?["message"]?.stringValue ?? "" }
}

@Suite("ledger serve: writes")
struct ServerWriteTests {
    @Test("a posted envelope is appended (201, index, leaf hash); the same again is 200 with the same index", arguments: StoreKind.all)
    func appendAndIdempotent(kind: StoreKind) async throws {
        let s = try Served(kind)
        let e = Fixtures.report(subject: "a", n: 10)
        try await s.run { client in
            let r = try await client.post(e)
            #expect(r.status == .created)
            let index = try #require(r.json?["index"]?.unsignedIntegerValue)
            #expect(index == 4)
            let line = try s.ledger.entryLine(at: index)
            #expect(r.json?["leafHash"]?.stringValue == MerkleHash.leaf(line).base64)
            #expect(r.json?["status"]?.stringValue == "appended")
            #expect(r.headers[.location] == "/v1/entries?start=4&end=5")
            let again = try await client.post(e)
            #expect(again.status == .ok)
            #expect(again.json?["status"]?.stringValue == "existing")
            #expect(again.json?["index"]?.unsignedIntegerValue == 4)
            #expect(try s.ledger.size() == 5)
        }
    }

    @Test("refusals: stale expects 409, unknown key and bad signature 403, a rule 422, bad JSON 400; nothing written", arguments: StoreKind.all)
    func refusals(kind: StoreKind) async throws {
        let s = try Served(kind, events: [Fixtures.report(subject: "a", n: 10)])
        let before = try s.place.fingerprint()
        var tampered = Fixtures.report(subject: "b", n: 11)
        tampered.signature[5] ^= 1
        let foreign = Fixtures.envelope(
            type: "incident.reported", subject: "incident:c", expects: 0, body: Fixtures.reportBody(n: 12), key: Fixtures.archivist, n: 12,
            origin: "other.example/ledger")
        let cases: [(Envelope?, [UInt8]?, HTTPResponse.Status, String)] = [
            (Fixtures.report(subject: "a", expects: 0, n: 13), nil, .conflict, "stale expects"),
            (Fixtures.report(subject: "d", n: 14, key: Fixtures.stranger), nil, .forbidden, "unknown key"),
            (tampered, nil, .forbidden, "signature does not verify"),
            (foreign, nil, .forbidden, "belongs to ledger \"other.example/ledger\""),
            (Fixtures.report(subject: "e", expects: 1, n: 15), nil, .conflict, "stale expects"),
            (Fixtures.report(subject: "f", n: 16, key: Fixtures.reviewer), nil, .forbidden, "lacks the archivist role"),
            (nil, Array("{\"payloadType\":".utf8), .badRequest, ""),
            (nil, Array("[]".utf8), .badRequest, ""),
        ]
        try await s.run { client in
            for (envelope, raw, status, text) in cases {
                let r: TestResponse
                if let envelope { r = try await client.post(envelope) } else { r = try await client.post(raw!) }
                #expect(r.status == status, "\(text): \(r.text)")
                #expect(text.isEmpty || r.message.contains(text), "\(r.message)")
            }
            let rule = Fixtures.envelope(
                type: "incident.retracted", subject: "incident:a", expects: 1,
                body: JSONObject(uniqueMembers: [("reason", .string(""))]), key: Fixtures.archivist, n: 17)
            let r = try await client.post(rule)
            #expect(r.status == .badRequest || r.status == .unprocessableContent, "\(r.text)")
            let wrongType = try await client.post(Fixtures.report(subject: "g", n: 18), contentType: "text/plain")
            #expect(wrongType.status == .unsupportedMediaType)
        }
        #expect(try s.ledger.size() == 5)
        #expect(try s.place.fingerprint() == before)
    }

    @Test("a body over the limit is 413 and nothing is written", arguments: [StoreKind.sqlite])
    func bodyLimit(kind: StoreKind) async throws {
        var o = ServerOptions()
        o.maxBodyBytes = 4096
        let s = try Served(kind, options: o)
        let before = try s.place.fingerprint()
        try await s.run { client in
            let big = Fixtures.report(subject: "big", n: 10, padding: 8000)
            let r = try await client.post(big)
            #expect(r.status == .contentTooLarge)
            #expect(r.message.contains("4096"))
            let small = try await client.post(Fixtures.report(subject: "small", n: 11))
            #expect(small.status == .created)
        }
        #expect(try s.ledger.size() == 5)
        _ = before
    }

    @Test("a read-only server answers posts 405 and serves reads", arguments: [StoreKind.sqlite])
    func readOnly(kind: StoreKind) async throws {
        var o = ServerOptions()
        o.readOnly = true
        let s = try Served(kind, options: o)
        try await s.run { client in
            let r = try await client.post(Fixtures.report(subject: "a", n: 10))
            #expect(r.status == .methodNotAllowed)
            #expect(r.headers[.allow] == "GET")
            let log = try await client.get("/v1/log")
            #expect(log.status == .ok)
            #expect(log.json?["readOnly"] == .bool(true))
        }
        #expect(try s.ledger.size() == 4)
    }

    @Test("concurrent posts share transactions; each gets its own index; a refused one does not fail the others", arguments: StoreKind.all)
    func groupCommit(kind: StoreKind) async throws {
        let s = try Served(kind)
        let n = 48
        var envelopes = (0..<n).map { Fixtures.report(subject: "g\($0)", n: UInt64(100 + $0)) }
        envelopes[17] = Fixtures.report(subject: "bad", n: 99, key: Fixtures.stranger)
        let all = envelopes
        try await s.run { client in
            let replies = try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status, UInt64?).self) { group in
                for (i, e) in all.enumerated() {
                    group.addTask {
                        let r = try await client.post(e)
                        return (i, r.status, r.json?["index"]?.unsignedIntegerValue)
                    }
                }
                var out: [(Int, HTTPResponse.Status, UInt64?)] = []
                for try await r in group { out.append(r) }
                return out.sorted { $0.0 < $1.0 }
            }
            #expect(replies[17].1 == .forbidden)
            let indexes = replies.filter { $0.0 != 17 }.compactMap(\.2)
            #expect(replies.filter { $0.0 != 17 }.allSatisfy { $0.1 == .created })
            #expect(indexes.count == n - 1)
            #expect(Set(indexes) == Set((4..<UInt64(4 + n - 1))))
        }
        #expect(try s.ledger.size() == UInt64(4 + n - 1))
        // Each entry is the envelope its index was reported for.
        #expect(s.server.transactionCount <= n)
        let report = try s.ledger.verify(trust: s.ledger.genesisKeyID)
        #expect(report.size == UInt64(4 + n - 1))
    }
}

@Suite("ledger serve: reads")
struct ServerReadTests {
    static func archive() -> [Envelope] {
        [Fixtures.report(subject: "a", n: 10), Fixtures.report(subject: "b", n: 11), Fixtures.report(subject: "a", expects: 1, n: 12)]
    }

    @Test("the log, entries, checkpoint and proofs are the bytes the ledger holds", arguments: StoreKind.all)
    func logAndProofs(kind: StoreKind) async throws {
        let s = try Served(kind, events: Self.archive())
        let noCheckpoint = s
        try await noCheckpoint.run { client in
            let cp = try await client.get("/v1/checkpoint")
            #expect(cp.status == .notFound)
            let proof = try await client.get("/v1/proofs/inclusion?index=1")
            #expect(proof.status == .notFound)
        }
        let s2 = try Served(kind, events: Self.archive())
        let note = try s2.ledger.checkpoint(signingKey: Fixtures.logKey)
        try await s2.run { client in
            let log = try await client.get("/v1/log")
            #expect(log.json?["treeSize"]?.unsignedIntegerValue == 7)
            #expect(log.json?["rootHash"]?.stringValue == (try s2.ledger.root(size: 7)).base64)
            let cp = try await client.get("/v1/checkpoint")
            #expect(cp.status == .ok)
            #expect(cp.bytes == note.encoded())
            let entries = try await client.get("/v1/entries?start=2&end=6")
            var expected: [UInt8] = []
            for i in UInt64(2)..<6 { expected += try s2.ledger.entryLine(at: i) + [0x0A] }
            #expect(entries.bytes == expected)
            #expect(try await client.get("/v1/entries?start=7").status == .notFound)
            #expect(try await client.get("/v1/entries?start=3&end=2").bytes.isEmpty)
            #expect(try await client.get("/v1/entries?start=x").status == .badRequest)
            let proof = try await client.get("/v1/proofs/inclusion?index=5")
            let file = try InclusionProofFile(bytes: proof.bytes)
            #expect(file.index == 5)
            #expect(file.path == (try s2.ledger.inclusionProof(index: 5, size: 7)))
            #expect(try await client.get("/v1/proofs/inclusion?index=7").status == .notFound)
            let trace = try await client.execute(uri: "/v1/entries", method: .init("TRACE")!)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "GET, POST")
            #expect(try await client.execute(uri: "/v1/entities/incident:a/history", method: .delete).status == .methodNotAllowed)
            #expect(try await client.get("/v1/proofs/consistency?from=3").status == .notFound)
            #expect(try await client.get("/v1/proofs/consistency?from=7").status == .ok)
        }
    }

    @Test("entity, history, incidents and snapshot answer the bytes the commands print", arguments: StoreKind.all)
    func views(kind: StoreKind) async throws {
        let s = try Served(kind, events: Self.archive())
        try await s.run { client in
            let now = try await client.get("/v1/entities/incident:a")
            #expect(now.status == .ok)
            let entity = try #require(try ArchiveView(source: s.ledger, size: nil).entity("incident:a"))
            #expect(now.bytes == Canonical.encode(ArchiveDocument.entity(entity, requested: "incident:a", moment: nil)))
            let then = try await client.get("/v1/entities/incident:a?atSize=6")
            let old = try #require(try ArchiveView(source: s.ledger, size: 6).entity("incident:a"))
            let moment = try s.ledger.moment(asOf: nil, atSize: 6, now: SystemClock().now(), names: ("", "")).moment
            #expect(then.bytes == Canonical.encode(ArchiveDocument.entity(old, requested: "incident:a", moment: moment)))
            #expect(then.bytes != now.bytes)
            #expect(try await client.get("/v1/entities/incident:a?atSize=99").status == .badRequest)
            #expect(try await client.get("/v1/entities/incident:zz").status == .notFound)
            #expect(try await client.get("/v1/entities/nonsense").status == .badRequest)
            #expect(try await client.get("/v1/entities/incident:a?asOf=2999-01-01T00:00:00Z").status == .badRequest)
            let history = try await client.get("/v1/entities/incident:a/history")
            var expected: [UInt8] = []
            for r in try s.ledger.revisions(of: "incident:a") { expected += JSONWriter.encode(.object(ArchiveDocument.revision(r))) + [0x0A] }
            #expect(history.bytes == expected)
            let list = try await client.get("/v1/incidents?status=active")
            #expect(list.text.split(separator: "\n").count == 2)
            #expect(try await client.get("/v1/incidents?status=gone").status == .badRequest)
            let snap = try await client.get("/v1/snapshot?atSize=6")
            let (bytes, size, _) = try s.ledger.snapshot(atSize: 6, asOf: moment)
            #expect(snap.bytes == bytes)
            #expect(snap.headers[HTTPField.Name("X-Tree-Size")!] == String(size))
            let whole = try await client.get("/v1/snapshot")
            #expect(whole.bytes == (try s.ledger.snapshot(atSize: nil, asOf: nil).bytes))
        }
    }
}

@Suite("ledger serve: the log as C2SP tlog-tiles")
struct ServerTileTests {
    @Test("tile paths: three-digit groups, x prefixes, .p/W; only the canonical spelling parses")
    func paths() {
        func parse(_ p: String) -> TilePath? { TilePath.parse(p.split(separator: "/", omittingEmptySubsequences: false)) }
        #expect(parse("0/x001/x234/067") == .hashes(level: 0, index: 1_234_067, width: 256))
        #expect(parse("2/005.p/17") == .hashes(level: 2, index: 5, width: 17))
        #expect(parse("entries/x001/000.p/255") == .entries(index: 1000, width: 255))
        for bad in ["0/x000/005", "00/000", "0/01", "0/0001", "0/001.p/0", "0/001.p/256", "0/001.p/07", "64/000", "0/y001/000", "0/001/002", "x/000", "0"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
        for tile in [TilePath.hashes(level: 3, index: 1_234_067, width: 9), .entries(index: 0, width: 256), .entries(index: 999_999, width: 1)] {
            #expect(parse(tile.path) == tile)
        }
    }

    @Test("hash tiles, entry bundles and the checkpoint are the log's own hashes and lines, immutable", arguments: StoreKind.all)
    func tiles(kind: StoreKind) async throws {
        let s = try Served(kind, events: (0..<296).map { Fixtures.report(subject: "t\($0)", n: UInt64(100 + $0)) })
        _ = try s.ledger.checkpoint(signingKey: Fixtures.logKey)
        let lines = try s.ledger.entryLines(from: 0, count: 300)
        #expect(lines.count == 300)
        try await s.run { client in
            let full = try await client.get("/tlog/tile/0/000")
            #expect(full.status == .ok)
            #expect(full.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(full.bytes == lines[0..<256].flatMap { line in MerkleHash.leaf(line).withUnsafeBytes { Array($0) } })
            let partial = try await client.get("/tlog/tile/0/001.p/44")
            #expect(partial.bytes == lines[256..<300].flatMap { line in MerkleHash.leaf(line).withUnsafeBytes { Array($0) } })
            #expect(try await client.get("/tlog/tile/0/001.p/45").status == .notFound)
            #expect(try await client.get("/tlog/tile/0/001").status == .notFound)
            #expect(try await client.get("/tlog/tile/0/x000/001.p/4").status == .notFound)
            // Beyond UInt64 once multiplied by 256 (a crash once), and spellings that are not canonical.
            for uri in [
                "/tlog/tile/0/x072/x057/x594/x037/x927/935", "/tlog/tile/entries/x072/x057/x594/x037/x927/935", "/tlog/tile/0/000.p/5/",
                "//tlog//tile//0//000.p//5", "/tlog/tile/entries/000.p/5/",
            ] {
                #expect(try await client.get(uri).status == .notFound, "\(uri)")
            }
            // The level-1 tile's first hash is the root of the first 256 entries.
            let up = try await client.get("/tlog/tile/1/000.p/1")
            #expect(up.bytes == (try s.ledger.root(size: 256)).withUnsafeBytes { Array($0) })
            let bundle = try await client.get("/tlog/tile/entries/001.p/44")
            var framed: [[UInt8]] = []
            var b = bundle.bytes[...]
            while b.count >= 2 {
                let n = Int(b[b.startIndex]) << 8 | Int(b[b.startIndex + 1])
                framed.append(Array(b.dropFirst(2).prefix(n)))
                b = b.dropFirst(2 + n)
            }
            #expect(framed == Array(lines[256..<300]))
            let cp = try await client.get("/tlog/checkpoint")
            #expect(cp.bytes == (try s.ledger.checkpoints().last!.note))
            #expect(cp.headers[.cacheControl] == "no-cache")
        }
    }
}

@Suite("ledger serve: the API document and abuse")
struct ServerContractTests {
    static var repo: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path }

    @Test("docs/openapi.yaml is the served document, and lists exactly the server's routes")
    func openAPI() async throws {
        let file = try String(contentsOfFile: Self.repo + "/docs/openapi.yaml", encoding: .utf8)
        #expect(file == LedgerHTTPServer.openAPIDocument, "run `ledger serve --openapi > docs/openapi.yaml`")
        // Paths and their methods as the document spells them (two-space YAML indentation).
        var documented: Set<String> = []
        var path: String?
        for line in file.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /") && line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if !line.hasPrefix("  ") {
                path = nil
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let word = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "delete", "patch"].contains(word) { documented.insert("\(word.uppercased()) \(p)") }
            }
        }
        let served = Set(Routes.all.map { "\($0.method) \($0.path)" })
        #expect(documented == served)
        let s = try Served(.sqlite)
        try await s.run { client in
            let r = try await client.get("/openapi.yaml")
            #expect(r.text == file)
            // Every listed route is the router's: its answer is never the router's own empty 404.
            for route in Routes.all {
                let uri = route.path.replacingOccurrences(of: "{id}", with: "incident:none").replacingOccurrences(of: "{level}", with: "0")
                    .replacingOccurrences(of: "{index}", with: "000").replacingOccurrences(of: "{name}", with: "none")
                let answer = try await client.execute(uri: uri, method: route.method == "POST" ? .post : .get)
                #expect(!(answer.status == .notFound && answer.message.hasPrefix("no such path")), "\(route) is not routed")
            }
            let unknown = try await client.get("/v1/nothing")
            #expect(unknown.status == .notFound && unknown.message.contains("no such path"))
        }
    }

    @Test("10,000 malformed requests: every post is answered 4xx, no answer is 5xx, nothing is written, the server still serves")
    func garbage() async throws {
        let s = try Served(.sqlite)
        let before = try s.place.fingerprint()
        let valid = Array(Fixtures.report(subject: "x", n: 10).encoded())
        try await s.run { client in
            var rng = SplitMix64(seed: 42)
            var statuses: [Int: Int] = [:]
            for i in 0..<10_000 {
                if i % 5 == 4 {
                    // A path or query of random printable bytes.
                    let junk = String(decoding: (0..<Int.random(in: 1..<60, using: &rng)).map { _ in UInt8.random(in: 33...126, using: &rng) }, as: UTF8.self)
                    let encoded = junk.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x"
                    let uris = [
                        "/v1/entities/\(encoded)", "/v1/incidents?place=\(encoded)&atSize=\(encoded)", "/tlog/tile/\(encoded)", "/v1/entries?start=\(encoded)",
                    ]
                    let r = try await client.get(uris[i % uris.count])
                    #expect(r.status.code < 500, "\(uris[i % uris.count]): \(r.status)")
                    continue
                }
                var body = valid
                switch i % 4 {
                case 0: for _ in 0..<3 { body[Int.random(in: 0..<body.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                case 1: body = (0..<Int.random(in: 0..<300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                case 2: body = Array(body.prefix(Int.random(in: 0..<body.count, using: &rng)))
                default: body = Array("{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[]}".utf8)
                }
                let r = try await client.post(body)
                statuses[r.status.code, default: 0] += 1
                if i % 200 == 0 {
                    let q = try await client.get("/v1/entities/\(String(decoding: body.prefix(20).map { $0 % 26 + 97 }, as: UTF8.self))?atSize=\(i)")
                    #expect((400..<500).contains(q.status.code))
                }
            }
            #expect(statuses.keys.allSatisfy { (400..<500).contains($0) }, "\(statuses)")
            #expect(try await client.get("/v1/log").status == .ok)
        }
        #expect(try s.place.fingerprint() == before)
    }
}

@Suite("ledger serve: group commit and slow clients")
struct ServerGroupCommitTests {
    /// Posts `envelopes` to a group committer whose writer is held busy until all of them have
    /// queued, so they form one group; each envelope's result, and the committer.
    static func queued(_ kind: StoreKind, _ envelopes: [Envelope]) async throws -> (
        results: [(Int, Result<Appended, LedgerError>)], committer: GroupCommitter, size: UInt64
    ) {
        let dir = TemporaryDirectory()
        let place = try TestPlace(kind, dir: dir)
        let prefix = Fixtures.standardPrefix()
        let ledger = try Ledger.create(at: place.location, genesis: prefix[0])
        _ = try ledger.append(Array(prefix.dropFirst()))
        let writer = Worker(try Ledger.open(at: place.location), label: "test.writer")
        defer {
            writer.close()
            try? ledger.close()
        }
        let committer = GroupCommitter(worker: writer)
        // Hold the writer busy until every post has queued behind it.
        let release = DispatchSemaphore(value: 0)
        let busy = Task { try await writer.run { _ in release.wait() } }
        let results = await withTaskGroup(of: (Int, Result<Appended, LedgerError>).self) { group in
            for (i, e) in envelopes.enumerated() {
                let payload = try! EventPayload(bytes: e.payload)
                group.addTask { (i, await committer.append(e, payload: payload)) }
            }
            // Queued: the committer's first batch takes them all once the writer is free.
            while committer.queued < envelopes.count { try? await Task.sleep(for: .milliseconds(5)) }
            release.signal()
            var out: [(Int, Result<Appended, LedgerError>)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        _ = try await busy.value
        return (results, committer, try ledger.size())
    }

    @Test("posts that wait together are committed in one transaction; a refused one costs one retry", arguments: StoreKind.all)
    func oneTransaction(kind: StoreKind) async throws {
        let n = 100
        let envelopes = (0..<n).map { i in
            i == 50 ? Fixtures.report(subject: "bad", n: 999, key: Fixtures.stranger) : Fixtures.report(subject: "q\(i)", n: UInt64(100 + i))
        }
        let (results, committer, size) = try await Self.queued(kind, envelopes)
        #expect(committer.transactionCount == 2)  // the batch, then the batch again without #50
        if case .failure(let e) = results[50].1 { #expect(e.signerRefused) } else { Issue.record("#50 was appended") }
        let indexes = results.filter { $0.0 != 50 }.compactMap { try? $0.1.get().outcome.index }
        #expect(Set(indexes) == Set(4..<UInt64(4 + n - 1)))
        #expect(size == UInt64(4 + n - 1))
    }

    @Test("a flood of forged envelopes in one group costs one screening, not one retry each", arguments: StoreKind.all)
    func forgedFlood(kind: StoreKind) async throws {
        let n = 120
        var envelopes: [Envelope] = []
        for i in 0..<n {
            var e = Fixtures.report(subject: "f\(i)", n: UInt64(100 + i), key: i % 3 == 2 ? Fixtures.stranger : Fixtures.archivist)
            if i % 3 == 1 { e.signature[7] ^= 0x20 }  // forged: the signature does not verify
            envelopes.append(e)
        }
        let (results, committer, size) = try await Self.queued(kind, envelopes)
        // The batch (refused at #1, then the rest screened), and the batch again without the 80 forged.
        #expect(committer.transactionCount == 2)
        for (i, r) in results {
            switch (i % 3, r) {
            case (0, .success): break
            case (1, .failure(let e)): #expect(e.signerRefused && e.message.contains("signature does not verify"), "\(i): \(e)")
            case (2, .failure(let e)): #expect(e.signerRefused && e.message.contains("unknown key"), "\(i): \(e)")
            default: Issue.record("#\(i): \(r)")
            }
        }
        #expect(size == UInt64(4 + n / 3))
    }

    @Test("a client that sends part of its body and stalls gets 408 and nothing is written")
    func slowClient() async throws {
        var o = ServerOptions()
        o.bodyTimeout = .seconds(1)
        let s = try Served(.sqlite, options: o)
        let before = try s.place.fingerprint()
        let envelope = Fixtures.report(subject: "slow", n: 10).encoded()
        try await s.run { client in
            let port = try #require(client.port)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            let head = "POST /v1/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(envelope.count)\r\n\r\n"
            let part = Array(head.utf8) + envelope.prefix(20)
            #expect(part.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } == part.count)
            // The 408 must come before the socket's own receive timeout (15 s, far beyond the
            // 1 s body timeout and short of the 30 s idle timeout); how much sooner is not
            // asserted: on a loaded machine the timer fires late.
            var reply = [UInt8](repeating: 0, count: 4096)
            var tv = timeval(tv_sec: 15, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, &reply, reply.count, 0)
            let text = String(decoding: reply.prefix(max(0, n)), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
        }
        #expect(try s.place.fingerprint() == before)
    }
}

@Suite("ledger serve: the web archive")
struct ServerWebTests {
    static func coordinates(_ lat: String, _ lon: String) -> JSONValue {
        .object(JSONObject(uniqueMembers: [("lat", .number(lat)), ("lon", .number(lon)), ("precision", .string("exact"))]))
    }

    /// A facility with exact coordinates and a deconfliction record, and an incident at exact
    /// coordinates corrected to others: every value a public page must never show.
    static func sensitiveArchive() -> [Envelope] {
        let facility = Fixtures.envelope(
            type: "facility.registered", subject: "facility:secret", expects: 0,
            body: JSONObject(uniqueMembers: [
                ("names", .object(JSONObject(uniqueMembers: [("en", .string("Hidden Valley Hospital"))]))), ("type", .string("hospital")),
                ("location", .object(JSONObject(uniqueMembers: [("town", .string("Kafr Nabl")), ("coordinates", coordinates("35.123456", "36.654321"))]))),
            ]), key: Fixtures.archivist, n: 10)
        let deconfliction = Fixtures.envelope(
            type: "facility.deconfliction-recorded", subject: "facility:secret", expects: 1,
            body: JSONObject(uniqueMembers: [
                ("sharedWith", .string("Deconfliction cell DCX-9")), ("sharedOn", .string("2019-04")),
                ("coordinates", coordinates("35.111111", "36.222222")), ("note", .string("SHARED-NOTE-NEVER-PUBLIC")),
            ]), key: Fixtures.archivist, n: 11)
        let report = Fixtures.envelope(
            type: "incident.reported", subject: "incident:hidden", expects: 0,
            body: JSONObject(uniqueMembers: [
                ("title", .object(JSONObject(uniqueMembers: [("en", .string("Strike on Hidden Valley Hospital")), ("ar", .string("قصف مشفى الوادي"))]))),
                ("occurred", .string("2019-05-05")),
                (
                    "place",
                    .object(
                        JSONObject(uniqueMembers: [
                            ("admin1", .string("Idlib")), ("town", .string("Kafr Nabl")), ("coordinates", coordinates("35.987654", "36.456789")),
                        ]))
                ),
                ("facilities", .array([.object(JSONObject(uniqueMembers: [("facility", .string("facility:secret")), ("impact", .string("damaged"))]))])),
            ]), key: Fixtures.archivist, n: 12)
        let correction = Fixtures.envelope(
            type: "incident.corrected", subject: "incident:hidden", expects: 1,
            body: JSONObject(uniqueMembers: [
                (
                    "changes",
                    .object(
                        JSONObject(uniqueMembers: [
                            (
                                "place",
                                .object(
                                    JSONObject(uniqueMembers: [
                                        ("admin1", .string("Idlib")), ("town", .string("Kafr Nabl")), ("coordinates", coordinates("35.555555", "36.555555")),
                                    ]))
                            )
                        ]))
                ), ("reason", .string("a better position")),
            ]), key: Fixtures.archivist, n: 13)
        return [facility, deconfliction, report, correction]
    }

    @Test("pages show the incident, in English and Arabic, at town precision, and never a coordinate or a deconfliction record")
    func publicOnly() async throws {
        let s = try Served(.sqlite, events: Self.sensitiveArchive())
        _ = try s.ledger.checkpoint(signingKey: Fixtures.logKey)
        try await s.run { client in
            let pages = [
                "/incidents", "/incidents?sort=title", "/incidents/hidden", "/incidents/hidden?atSize=8", "/incidents/hidden/history", "/log",
                "/incidents?place=Kafr%20Nabl", "/facilities/secret", "/facilities/secret?atSize=7",
            ]
            for uri in pages {
                let r = try await client.get(uri)
                #expect(r.status == .ok, "\(uri): \(r.status)")
                #expect(r.headers[.contentType] == "text/html; charset=utf-8")
                let html = r.text
                #expect(html.hasPrefix("<!doctype html>\n<html lang=\"en\">"), "\(uri)")
                for secret in [
                    "35.123456", "36.654321", "35.111111", "36.222222", "DCX-9", "SHARED-NOTE-NEVER-PUBLIC", "35.987654", "36.456789", "35.555555", "36.555555",
                ] {
                    #expect(!html.contains(secret), "\(uri) shows \(secret)")
                }
            }
            let page = try await client.get("/incidents/hidden")
            #expect(page.text.contains("<span class=\"title\" lang=\"ar\" dir=\"auto\">قصف مشفى الوادي</span>"))
            #expect(page.text.contains("Kafr Nabl, Idlib"))
            #expect(page.text.contains("Hidden Valley Hospital"))
            let facility = try await client.get("/facilities/secret")
            #expect(facility.text.contains("Strike on Hidden Valley Hospital") && facility.text.contains("damaged"))
            let then = try await client.get("/incidents/hidden?atSize=7")
            #expect(then.text.contains("tree size 7"))
            let history = try await client.get("/incidents/hidden/history")
            #expect(history.text.contains("a better position"))
            #expect(try await client.get("/incidents/nowhere").status == .notFound)
            #expect(try await client.get("/incidents?status=gone").status == .badRequest)
            let escaped = try await client.get("/incidents?place=%3Cscript%3E")
            #expect(!escaped.text.contains("<script>") && escaped.text.contains("&lt;script&gt;"))
        }
    }

    /// The `ledger-proof` data an incident page carries, parsed.
    static func proofData(_ html: String) throws -> JSONObject {
        let open = "<script type=\"application/json\" id=\"ledger-proof\">"
        let start = try #require(html.range(of: open))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        return try JSONParser.parseObject(Array(html[start.upperBound..<end.lowerBound].utf8))
    }

    @Test("an incident page carries a proof of each entry against the latest checkpoint; lines with exact coordinates are withheld")
    func proofs() async throws {
        let retract = Fixtures.envelope(
            type: "incident.retracted", subject: "incident:hidden", expects: 2, body: JSONObject(uniqueMembers: [("reason", .string("a test"))]),
            key: Fixtures.archivist, n: 14)
        let s = try Served(.sqlite, events: Self.sensitiveArchive() + [retract])
        try await s.run { client in
            let none = try await client.get("/incidents/hidden")
            #expect(none.text.contains("No checkpoint has been signed yet") && !none.text.contains("ledger-proof"))
            // Another connection signs a checkpoint and appends after it; the server's readers see both.
            let checkpoint = try Checkpoint(text: try s.ledger.checkpoint(signingKey: Fixtures.logKey).text)
            _ = try s.ledger.append([
                Fixtures.envelope(
                    type: "incident.reinstated", subject: "incident:hidden", expects: 3, body: JSONObject(uniqueMembers: [("reason", .string("later"))]),
                    key: Fixtures.archivist, n: 15)
            ])
            let page = try await client.get("/incidents/hidden")
            #expect(page.text.contains("<script src=\"/static/verify.js\" defer></script>"))
            let data = try Self.proofData(page.text)
            let last = try #require(try s.ledger.checkpoints().last)
            #expect(data["checkpoint"]?.stringValue == String(decoding: last.note, as: UTF8.self))
            #expect(data["origin"]?.stringValue == Fixtures.origin)
            #expect(
                data["logKeys"]?.arrayValue?.compactMap(\.stringValue)
                    == [VerifierKey(name: Fixtures.origin, kind: .log, publicKey: Fixtures.logKey.publicKey).encoded])
            let entries = (data["entries"]?.arrayValue ?? []).compactMap(\.objectValue)
            #expect(entries.compactMap { $0["index"]?.unsignedIntegerValue } == [7, 8, 9, 10])
            for e in entries {
                let index = try #require(e["index"]?.unsignedIntegerValue)
                let leaf = try #require(e["leafHash"]?.stringValue.flatMap(Base64.decode).flatMap { Digest32(bytes: $0) })
                #expect(leaf == MerkleHash.leaf(try s.ledger.entryLine(at: index)))
                if let line = e["line"]?.stringValue {
                    #expect(MerkleHash.leaf(Array(line.utf8)) == leaf)
                }
                // Entries 7 and 8 hold sealed exact coordinates: their lines are not on the page
                // (a line with a marker is withheld like one with a plain value); 9 and 10 hold none.
                #expect((e["line"] != nil) == (index >= 9), "entry \(index)")
                if index < checkpoint.size {
                    let path = try #require(e["path"]?.arrayValue).compactMap { $0.stringValue.flatMap(Base64.decode).flatMap { Digest32(bytes: $0) } }
                    #expect(MerkleTree.verifyInclusion(leaf: leaf, index: index, size: checkpoint.size, proof: path, root: checkpoint.root))
                } else {
                    #expect(e["pending"] == .bool(true) && e["path"] == nil)
                }
            }
            #expect(data["signers"]?.objectValue?.members.map(\.key) == [KeyID.of(Fixtures.archivist.publicKey)])
            #expect(page.text.contains("2 of these entries hold a field these pages never show"))
            #expect(page.text.contains("covers 3 of them; the other 1, newer, cannot be proven until the next checkpoint"))
            let script = try await client.get("/static/verify.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.text.contains("crypto.subtle") && !script.text.contains("fetch(") && !script.text.contains("XMLHttpRequest"))
            let log = try await client.get("/log")
            #expect(log.text.contains(VerifierKey(name: Fixtures.origin, kind: .log, publicKey: Fixtures.logKey.publicKey).encoded))
        }
    }

    /// An actor, a source, an incident at town precision attributed to the actor (claimed,
    /// denied, assessed), and a monitoring group's count that includes it.
    static func attributedArchive() -> [Envelope] {
        func o(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(uniqueMembers: members.map { (key: $0.0, value: $0.1) })) }
        func en(_ text: String) -> JSONValue { o([("en", .string(text))]) }
        let a = Fixtures.archivist
        return [
            Fixtures.envelope(
                type: "actor.registered", subject: "actor:air-force", expects: 0,
                body: JSONObject(uniqueMembers: [("names", en("Example Air Force")), ("type", .string("state-forces")), ("country", .string("XA"))]), key: a,
                n: 20),
            Fixtures.envelope(
                type: "source.registered", subject: "source:monitor", expects: 0,
                body: JSONObject(uniqueMembers: [
                    ("publisher", .string("Example Monitor")), ("title", .string("Monthly report on attacks")), ("lang", .string("en")),
                    ("type", .string("report")), ("url", .string("https://monitor.example/report")),
                ]), key: a, n: 21),
            Fixtures.envelope(
                type: "incident.reported", subject: "incident:town", expects: 0,
                body: JSONObject(uniqueMembers: [
                    ("title", en("Strike on the town clinic")), ("occurred", .string("2019-05-05")),
                    (
                        "place",
                        o([
                            ("admin1", .string("Idlib")), ("town", .string("Kafr Nabl")),
                            ("coordinates", o([("lat", .number("35.6")), ("lon", .number("36.5")), ("precision", .string("town"))])),
                        ])
                    ), ("sources", .array([.string("source:monitor")])),
                ]), key: a, n: 22),
            Fixtures.envelope(
                type: "attribution.claimed", subject: "incident:town", expects: 1,
                body: JSONObject(uniqueMembers: [
                    ("claimant", .string("source:monitor")), ("perpetrator", .string("actor:air-force")), ("stance", .string("asserts")),
                    ("basis", .array([.string("witness-testimony")])), ("source", .string("source:monitor")),
                ]), key: a, n: 23),
            Fixtures.envelope(
                type: "attribution.claimed", subject: "incident:town", expects: 2,
                body: JSONObject(uniqueMembers: [
                    ("claimant", .string("actor:air-force")), ("perpetrator", .string("actor:air-force")), ("stance", .string("denies")),
                    ("basis", .array([.string("official-statement")])), ("alternative", .string("says it struck elsewhere")),
                ]), key: a, n: 24),
            Fixtures.envelope(
                type: "attribution.assessed", subject: "incident:town", expects: 3,
                body: JSONObject(uniqueMembers: [
                    ("perpetrator", .string("actor:air-force")), ("confidence", .string("moderate")), ("rationale", .string("witnesses and the pattern")),
                ]), key: Fixtures.reviewer, n: 25),
            Fixtures.envelope(
                type: "aggregate.reported", subject: "aggregate:monitor-may", expects: 0,
                body: JSONObject(uniqueMembers: [
                    ("source", .string("source:monitor")), ("measure", .string("health-facilities-attacked")),
                    ("figure", o([("value", .number("24")), ("unit", .string("count")), ("qualifier", .string("at-least"))])),
                    ("period", .string("2019-04/2019-06")), ("description", en("Health facilities hit in the spring offensive")),
                    ("perpetrator", .string("actor:air-force")), ("includes", .array([.string("incident:town")])),
                ]), key: a, n: 26),
        ]
    }

    @Test("a witness and the people a casualty report names are sealed: no page shows them, nor their commitments")
    func sealedPeople() async throws {
        func o(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(uniqueMembers: members.map { (key: $0.0, value: $0.1) })) }
        let a = Fixtures.archivist
        let events = [
            Fixtures.envelope(
                type: "source.registered", subject: "source:testimony", expects: 0,
                body: JSONObject(uniqueMembers: [
                    ("publisher", .string("Field team")), ("title", .string("Testimony on the strike")), ("lang", .string("en")),
                    ("type", .string("testimony")), ("witness", .string("WITNESS-NAME-NEVER-PUBLIC")),
                ]), key: a, n: 30),
            Fixtures.envelope(
                type: "incident.reported", subject: "incident:people", expects: 0,
                body: JSONObject(uniqueMembers: [
                    ("title", o([("en", .string("Strike with named victims"))])), ("occurred", .string("2019-05-05")),
                    ("place", o([("town", .string("Ariha"))])),
                ]), key: a, n: 31),
            Fixtures.envelope(
                type: "casualties.reported", subject: "incident:people", expects: 1,
                body: JSONObject(uniqueMembers: [
                    ("source", .string("source:testimony")), ("category", .string("killed")), ("min", .number("2")), ("max", .number("2")),
                    ("persons", .array([.string("VICTIM-ONE-NEVER-PUBLIC"), .string("VICTIM-TWO-NEVER-PUBLIC")])),
                ]), key: a, n: 32),
        ]
        let s = try Served(.sqlite, events: events)
        var found: [String] = []
        for id in ["incident:people", "source:testimony"] { Sealing.commitments(in: .object(try #require(try s.ledger.entityState(id))), into: &found) }
        #expect(found.count == 2)
        let commitments = found
        try await s.run { client in
            for uri in ["/incidents/people", "/incidents/people/history", "/sources/testimony", "/sources", "/incidents"] {
                let html = try await client.get(uri).text
                for secret in ["WITNESS-NAME", "VICTIM-ONE", "VICTIM-TWO"] + commitments {
                    #expect(!html.contains(secret), "\(uri) shows \(secret)")
                }
                // The casualty report itself is shown, without the people it names.
                if uri.hasSuffix("/history") { #expect(html.contains("casualtyReports[0]") && html.contains("testimony")) }
            }
        }
    }

    @Test("actor, source and count pages, the lists, and the charts: monthly bars and a map point at town precision")
    func entityPagesAndCharts() async throws {
        let s = try Served(.sqlite, events: Self.sensitiveArchive() + Self.attributedArchive())
        try await s.run { client in
            let actor = try await client.get("/actors/air-force")
            #expect(actor.status == .ok)
            let actorHTML = actor.text
            #expect(actorHTML.contains("Example Air Force") && actorHTML.contains("Strike on the town clinic") && actorHTML.contains("moderate"))
            #expect(actorHTML.contains("<td>denies</td>"), "the actor's own denial")
            #expect(actorHTML.contains("<td><bdi>Example Monitor: Monthly report on attacks</bdi></td><td>asserts</td>"), "a claim by others naming it")
            #expect(actorHTML.contains("Health facilities hit in the spring offensive"), "a count attributing attacks to it")
            let source = try await client.get("/sources/monitor")
            #expect(source.status == .ok)
            #expect(source.text.contains("Example Monitor") && source.text.contains("Strike on the town clinic") && source.text.contains("at least 24"))
            let count = try await client.get("/aggregates/monitor-may")
            #expect(count.status == .ok)
            #expect(count.text.contains("<h1>at least 24: health-facilities-attacked</h1>") && count.text.contains("not an incident"))
            #expect(count.text.contains("href=\"/incidents/town\""))
            let list = try await client.get("/aggregates")
            #expect(list.text.contains("Health facilities hit in the spring offensive") && list.text.contains("a count is never split into incidents"))
            for (path, text) in [("/actors", "Example Air Force"), ("/sources", "Monthly report on attacks"), ("/facilities", "Hidden Valley Hospital")] {
                let r = try await client.get(path)
                #expect(r.status == .ok && r.text.contains(text), "\(path)")
            }
            // As of a size before the actor existed: not found; before the assessment: listed with no incident.
            #expect(try await client.get("/actors/air-force?atSize=4").status == .notFound)
            #expect(try await client.get("/actors/air-force?atSize=10").text.contains("Incidents the archive attributes to it</h2>\n\n<p>None.</p>"))
            let charts = try await client.get("/charts")
            #expect(charts.status == .ok)
            let chartsHTML = charts.text
            #expect(chartsHTML.contains("<title id=\"monthly-title\">Incidents per month by assessed perpetrator</title>"))
            #expect(chartsHTML.contains("May 2019: 1 Example Air Force") && chartsHTML.contains("May 2019: 1 not yet assessed"))
            // One point: the town-precision incident; the exact one is counted as having none.
            #expect(chartsHTML.components(separatedBy: "class=\"point\"").count == 2)
            #expect(chartsHTML.contains("<td>35.60</td><td>36.50</td><td>town</td>"))
            #expect(!chartsHTML.contains("35.987654") && !chartsHTML.contains("35.555555"))
            #expect(chartsHTML.contains("(1); 1 record none that may be shown"))
            for path in ["/actors/air-force", "/sources/monitor", "/aggregates/monitor-may", "/charts", "/facilities", "/aggregates"] {
                let r = try await client.get(path)
                for secret in ["35.123456", "36.654321", "35.111111", "DCX-9", "SHARED-NOTE-NEVER-PUBLIC", "35.987654", "35.555555"] {
                    #expect(!r.text.contains(secret), "\(path) shows \(secret)")
                }
            }
        }
    }
}

@Suite("ledger serve: the web archive escapes byte by byte")
struct ServerWebEscapeTests {
    @Test("a quote followed by a combining mark is escaped (swift-mustache's own escaping let it through as markup)")
    func combiningMark() async throws {
        #expect(WebTemplates.escape("\"\u{301} onfocus=x '\u{301} <\u{338}b> &\u{301}") == "&quot;\u{301} onfocus=x &#39;\u{301} &lt;\u{338}b&gt; &amp;\u{301}")
        let s = try Served(.sqlite)
        try await s.run { client in
            let r = try await client.get("/incidents?place=%22%CC%81%20autofocus%20onfocus%3Dalert(1)%20x%3D%22")
            #expect(r.status == .ok)
            #expect(r.text.contains("<input name=\"place\" value=\"&quot;\u{301} autofocus onfocus=alert(1) x=&quot;\">"))
        }
    }
}

@Suite("ledger serve: the web archive's queries, headers and public mode")
struct ServerWebQueryTests {
    @Test("a form's + is a space and %2B a plus; a filter holding & and = stays inside its value in the links; pages carry a CSP")
    func formQueries() async throws {
        let s = try Served(.sqlite, events: ServerWebTests.sensitiveArchive())
        try await s.run { client in
            let plus = try await client.get("/incidents?place=Kafr+Nabl")
            let percent = try await client.get("/incidents?place=Kafr%20Nabl")
            #expect(plus.text.contains("<p class=\"count\">1 incident</p>"))
            #expect(plus.text == percent.text)
            #expect(try await client.get("/incidents?place=Kafr%2BNabl").text.contains("0 incidents"))
            let sneaky = try await client.get("/incidents?place=Aleppo%26sort%3Dtitle")
            #expect(sneaky.text.contains("href=\"/incidents?place=Aleppo%26sort%3Dtitle&amp;sort=title\""))
            #expect(try await client.get("/incidents?place=%zz").status == .badRequest)
            let csp = try #require(plus.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"))
            #expect(plus.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            // The filter form keeps the moment shown.
            let atSize = try await client.get("/incidents?atSize=7").text
            #expect(atSize.contains("<input type=\"hidden\" name=\"atSize\" value=\"7\">"))
            // The date control shows a day only when a day was asked for: submitting it as it
            // stands must not move the view to an earlier moment.
            #expect(atSize.contains("<input type=\"date\" name=\"asOf\" value=\"\">"))
            #expect(try await client.get("/incidents?asOf=2020-01-01").text.contains("<input type=\"date\" name=\"asOf\" value=\"2020-01-01\">"))
        }
    }

    @Test("the incidents table by date now (read from the index) lists the same rows in the same order as at the current size (a replay)")
    func tableOrder() async throws {
        let s = try Served(.sqlite, events: ServerWebTests.sensitiveArchive() + ServerWebTests.attributedArchive())
        let size = try s.ledger.size()
        try await s.run { client in
            func incidents(_ html: String) -> [String] {
                html.components(separatedBy: "<td><a href=\"/incidents/").dropFirst().map { String($0.prefix { $0 != "\"" && $0 != "?" }) }
            }
            let now = incidents(try await client.get("/incidents").text)
            #expect(now == ["hidden", "town"])  // the same day: by id
            #expect(now == incidents(try await client.get("/incidents?atSize=\(size)").text))
            // "strike on hidden valley hospital" before "strike on the town clinic".
            #expect(incidents(try await client.get("/incidents?sort=title").text) == ["hidden", "town"])
        }
    }

    @Test("--public serves the pages, their style sheet and script, and nothing else: no API, no tiles, no entry lines, no writes")
    func publicMode() async throws {
        var o = ServerOptions()
        o.pagesOnly = true
        o.readOnly = true
        let s = try Served(.sqlite, options: o, events: ServerWebTests.sensitiveArchive())
        _ = try s.ledger.checkpoint(signingKey: Fixtures.logKey)
        try await s.run { client in
            for path in ["/incidents", "/incidents/hidden", "/facilities/secret", "/charts", "/log", "/static/style.css", "/static/verify.js"] {
                #expect(try await client.get(path).status == .ok, "\(path)")
            }
            for path in [
                "/v1/log", "/v1/entries?start=0", "/v1/entities/facility:secret", "/v1/snapshot", "/tlog/checkpoint", "/tlog/tile/0/000", "/openapi.yaml",
            ] {
                let r = try await client.get(path)
                #expect(r.status == .notFound, "\(path): \(r.status)")
                #expect(!r.text.contains("35.123456"))
            }
            #expect(try await client.post(Fixtures.report(subject: "x", n: 50)).status == .notFound)
            #expect(!(try await client.get("/log")).text.contains("/tlog/"))
        }
    }
}
