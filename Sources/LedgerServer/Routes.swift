import Foundation
import HTTPTypes
import Hummingbird
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import NIOCore

/// The routes of `ledger serve` (docs/openapi.yaml lists the same; a test checks both ways).
struct Routes: Sendable {
    let server: LedgerHTTPServer

    /// Every route: method and path, as docs/openapi.yaml spells them.
    static let all: [(method: String, path: String)] = [
        ("GET", "/openapi.yaml"),
        ("GET", "/v1/log"),
        ("GET", "/v1/checkpoint"),
        ("GET", "/v1/entries"),
        ("POST", "/v1/entries"),
        ("GET", "/v1/proofs/inclusion"),
        ("GET", "/v1/proofs/consistency"),
        ("GET", "/v1/incidents"),
        ("GET", "/v1/entities/{id}"),
        ("GET", "/v1/entities/{id}/history"),
        ("GET", "/v1/snapshot"),
        ("GET", "/tlog/checkpoint"),
        ("GET", "/tlog/tile/{level}/{index}"),
        ("GET", "/tlog/tile/entries/{index}"),
        ("GET", "/"),
        ("GET", "/static/style.css"),
        ("GET", "/static/verify.js"),
        ("GET", "/incidents"),
        ("GET", "/incidents/{name}"),
        ("GET", "/incidents/{name}/history"),
        ("GET", "/facilities"),
        ("GET", "/facilities/{name}"),
        ("GET", "/actors"),
        ("GET", "/actors/{name}"),
        ("GET", "/sources"),
        ("GET", "/sources/{name}"),
        ("GET", "/aggregates"),
        ("GET", "/aggregates/{name}"),
        ("GET", "/charts"),
        ("GET", "/log"),
    ]

    /// The methods a path takes (nil: no such path).
    static func methods(of path: String) -> [String]? {
        var methods: [String] = []
        for route in all {
            let matches: Bool
            if let brace = route.path.firstIndex(of: "{") {
                let prefix = route.path[..<brace]
                matches = path.hasPrefix(prefix) && path.count > prefix.count && (route.path.hasSuffix("/history") == path.hasSuffix("/history"))
            } else {
                matches = path == route.path
            }
            if matches, !methods.contains(route.method) { methods.append(route.method) }
        }
        return methods.isEmpty ? nil : methods
    }

    func add(to router: Router<some RequestContext>) {
        if server.options.pagesOnly {
            addWeb(to: router)
            return
        }
        router.get("/openapi.yaml") { _, _ in Reply.bytes(.ok, "application/yaml", Array(OpenAPIDocument.yaml.utf8)) }
        router.get("/v1/log") { request, _ in await respond { try await log(request) } }
        router.get("/v1/checkpoint") { request, _ in await respond { try await checkpoint(request) } }
        router.get("/v1/entries") { request, _ in await respond { try await entries(request) } }
        router.post("/v1/entries") { request, _ in await respond { try await append(request) } }
        router.get("/v1/proofs/inclusion") { request, _ in await respond { try await inclusion(request) } }
        router.get("/v1/proofs/consistency") { request, _ in await respond { try await consistency(request) } }
        router.get("/v1/incidents") { request, _ in await respond { try await incidents(request) } }
        router.get("/v1/entities/{id}") { request, context in
            await respond { try await entity(request, id: context.parameters.get("id") ?? "") }
        }
        router.get("/v1/entities/{id}/history") { request, context in
            await respond { try await history(request, id: context.parameters.get("id") ?? "") }
        }
        router.get("/v1/snapshot") { request, _ in await respond { try await snapshot(request) } }
        addWeb(to: router)
        router.get("/tlog/checkpoint") { request, _ in await respond { try await tlogCheckpoint(request) } }
        router.get("/tlog/tile/**") { request, context in
            await respond { try await tile(request, elements: context.parameters.getCatchAll()) }
        }
    }

    // MARK: Writes

    func append(_ request: Request) async throws -> Response {
        guard let writer = server.writer else {
            return Reply.error(
                .methodNotAllowed, code: "readOnly", "this server is a read-only mirror; post to the archive's primary server",
                headers: [.allow: "GET"])
        }
        _ = try Query(request, allowed: [])
        let type = request.headers[.contentType].map { $0.lowercased() } ?? ""
        let mediaType = type.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" else {
            return Reply.error(
                .unsupportedMediaType, code: "malformed", "send the DSSE envelope made by `ledger sign` as application/json (got \"\(type.prefix(80))\")")
        }
        let body: [UInt8]
        switch await Body.read(request, limit: server.options.maxBodyBytes, timeout: server.options.bodyTimeout) {
        case .bytes(let b): body = b
        case .tooLarge:
            return Reply.error(.contentTooLarge, code: "malformed", "the body is larger than this server's limit of \(server.options.maxBodyBytes) bytes")
        case .timedOut:
            return Reply.error(.requestTimeout, code: "malformed", "the body did not arrive within \(server.options.bodyTimeout.components.seconds) s")
        case .failed(let why):
            return Reply.error(.badRequest, code: "malformed", "the body could not be read: \(why)")
        }
        let envelope = try Envelope(json: body)
        // Checked here, before the envelope joins a group: a payload that cannot be decoded is
        // refused without costing the others a retry.
        let payload = try EventPayload(bytes: envelope.payload)
        let appended = try await writer.append(envelope, payload: payload).get()
        let status: HTTPResponse.Status
        let word: String
        switch appended.outcome {
        case .appended: (status, word) = (.created, "appended")
        case .existing: (status, word) = (.ok, "existing")
        }
        let index = appended.outcome.index
        return Reply.json(
            status,
            JSONObject(uniqueMembers: [
                ("status", .string(word)), ("index", .number(String(index))), ("leafHash", .string(appended.leafHash.base64)),
                ("id", .string(appended.eventID)),
            ]), headers: [.location: "/v1/entries?start=\(index)&end=\(index + 1)"])
    }

    // MARK: The log

    func log(_ request: Request) async throws -> Response {
        _ = try Query(request, allowed: [])
        let readOnly = server.options.readOnly
        let limit = server.options.maxBodyBytes
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let size = try ledger.size()
            var members: [(key: String, value: JSONValue)] = [
                ("origin", .string(ledger.origin)), ("genesisKeyID", .string(ledger.genesisKeyID)), ("treeSize", .number(String(size))),
                ("rootHash", .string(try ledger.root(size: size).base64)),
                ("checkpointSize", try ledger.checkpoints().last.map { .number(String($0.size)) } ?? .null), ("readOnly", .bool(readOnly)),
                ("maxBodyBytes", .number(String(limit))),
            ]
            members.sort { $0.key < $1.key }
            return Reply.json(.ok, JSONObject(uniqueMembers: members))
        }
    }

    func checkpoint(_ request: Request) async throws -> Response {
        _ = try Query(request, allowed: [])
        return try await server.readers.run { (ledger) throws(LedgerError) in
            guard let last = try ledger.checkpoints().last else {
                return Reply.error(.notFound, code: "notFound", "the ledger has no signed checkpoint yet; sign one with `ledger checkpoint --key LOGKEY`")
            }
            return Reply.bytes(.ok, "text/plain; charset=utf-8", last.note, headers: [.cacheControl: "no-cache"])
        }
    }

    func entries(_ request: Request) async throws -> Response {
        var q = try Query(request, allowed: ["start", "end"])
        let start = try q.number("start") ?? 0
        let end = try q.number("end")
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let size = try ledger.size()
            guard start < size else { return Reply.error(.notFound, code: "notFound", "start \(start) is beyond the log's \(size) entries") }
            let stop = min(end ?? size, size, start + ServerOptions.maxEntriesPerRequest)
            guard stop > start else { return Reply.bytes(.ok, "application/jsonl", []) }  // an empty range
            var out: [UInt8] = []
            try ledger.forEachBatch(batchSize: 1000, from: start, upTo: stop) { (batch) throws(LedgerError) in
                for e in batch {
                    out += e.line
                    out.append(0x0A)
                }
            }
            return Reply.bytes(.ok, "application/jsonl", out)
        }
    }

    func inclusion(_ request: Request) async throws -> Response {
        var q = try Query(request, allowed: ["index", "size"])
        guard let index = try q.number("index") else { throw LedgerError(.malformed, "give the entry's index (?index=N)") }
        let size = try q.number("size")
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let signed = try Self.signedCheckpoint(ledger, size: size)
            guard case .success(let (treeSize, note)) = signed else { return Reply.error(.notFound, code: "notFound", signed.failureMessage) }
            guard index < treeSize else {
                return Reply.error(.notFound, code: "notFound", "entry \(index) is not in the tree of size \(treeSize) (the latest signed checkpoint, or size)")
            }
            let proof = InclusionProofFile(
                entryLine: try ledger.entryLine(at: index), index: index, path: try ledger.inclusionProof(index: index, size: treeSize), note: note)
            return Reply.bytes(.ok, "text/plain; charset=utf-8", proof.encoded())
        }
    }

    func consistency(_ request: Request) async throws -> Response {
        var q = try Query(request, allowed: ["from", "to"])
        guard let from = try q.number("from") else { throw LedgerError(.malformed, "give the older checkpoint's tree size (?from=N)") }
        let to = try q.number("to")
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let newer = try Self.signedCheckpoint(ledger, size: to)
            guard case .success(let (newSize, newNote)) = newer else { return Reply.error(.notFound, code: "notFound", newer.failureMessage) }
            guard from <= newSize else { throw LedgerError(.malformed, "from \(from) is larger than to \(newSize)") }
            let older = try Self.signedCheckpoint(ledger, size: from)
            guard case .success(let (oldSize, oldNote)) = older else { return Reply.error(.notFound, code: "notFound", older.failureMessage) }
            let proof = ConsistencyProofFile(
                oldSize: oldSize, proof: try ledger.consistencyProof(from: oldSize, to: newSize), oldNote: oldNote, newNote: newNote)
            return Reply.bytes(.ok, "text/plain; charset=utf-8", proof.encoded())
        }
    }

    /// The stored checkpoint of `size`, or the latest; or the 404 reply saying there is none.
    static func signedCheckpoint(_ ledger: Ledger, size: UInt64?) throws(LedgerError) -> Result<(UInt64, [UInt8]), NotFound> {
        if let size {
            guard let note = try ledger.checkpointNote(size: size) else { return .failure(NotFound("no signed checkpoint for tree size \(size)")) }
            return .success((size, note))
        }
        guard let last = try ledger.checkpoints().last else {
            return .failure(NotFound("the ledger has no signed checkpoint yet; sign one with `ledger checkpoint --key LOGKEY`"))
        }
        return .success((last.size, last.note))
    }

    // MARK: The archive

    func incidents(_ request: Request) async throws -> Response {
        var q = try Query(
            request, allowed: ["occurredFrom", "occurredTo", "place", "facility", "perpetrator", "status", "certainty", "verification"] + Moment.names)
        let filter = try IncidentFilter(
            occurredFrom: q.text("occurredFrom"), occurredTo: q.text("occurredTo"), place: q.text("place"), facility: q.text("facility"),
            perpetrator: q.text("perpetrator"), status: q.text("status"), certainty: q.text("certainty"), verification: q.text("verification"),
            name: { $0.rawValue })
        let moment = try Moment(&q)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let size = try moment.resolve(ledger)?.size
            var out: [UInt8] = []
            for s in try ArchiveView(source: ledger, size: size).incidents(matching: filter) {
                out += Canonical.encode(s)
                out.append(0x0A)
            }
            return Reply.bytes(.ok, "application/jsonl", out)
        }
    }

    func entity(_ request: Request, id raw: String) async throws -> Response {
        let id = raw.removingPercentEncoding ?? raw
        var q = try Query(request, allowed: Moment.names)
        let moment = try Moment(&q)
        try ArchiveDocument.requireEntityID(id)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let at = try moment.resolve(ledger)
            guard let entity = try ArchiveView(source: ledger, size: at?.size).entity(id) else {
                return Reply.error(.notFound, code: "notFound", ArchiveDocument.notInArchive(id, size: at?.size ?? 0, moment: at?.moment).message)
            }
            return Reply.bytes(.ok, "application/json", Canonical.encode(ArchiveDocument.entity(entity, requested: id, moment: at?.moment)))
        }
    }

    func history(_ request: Request, id raw: String) async throws -> Response {
        let id = raw.removingPercentEncoding ?? raw
        _ = try Query(request, allowed: [])
        try ArchiveDocument.requireEntityID(id)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let revisions = try ledger.revisions(of: id)
            guard !revisions.isEmpty else { return Reply.error(.notFound, code: "notFound", "\(id) is not in the archive") }
            var out: [UInt8] = []
            for r in revisions {
                out += JSONWriter.encode(.object(ArchiveDocument.revision(r)))
                out.append(0x0A)
            }
            return Reply.bytes(.ok, "application/jsonl", out)
        }
    }

    func snapshot(_ request: Request) async throws -> Response {
        var q = try Query(request, allowed: Moment.names)
        let moment = try Moment(&q)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let at = try moment.resolve(ledger)
            let (bytes, size, _) = try ledger.snapshot(atSize: at?.size, asOf: at?.moment)
            var headers: HTTPFields = [:]
            headers[.init("X-Tree-Size")!] = String(size)
            headers[.init("X-Content-SHA256")!] = SHA256.hash(bytes).hex
            return Reply.streamed(.ok, "application/json", bytes, headers: headers)
        }
    }
}

/// `asOf` (RFC 3339, UTC) or `atSize` (a tree size): the moment a view is taken at.
struct Moment: Sendable {
    static let names = ["asOf", "atSize"]
    var asOf: Timestamp?
    var atSize: UInt64?

    /// The current view.
    init() {}

    init(_ q: inout Query) throws(LedgerError) {
        if let text = q.text("asOf") {
            guard let t = Timestamp.parseRFC3339(text) else {
                throw LedgerError(.malformed, "asOf \"\(text.prefix(80))\" is not a UTC time such as 2019-06-01T00:00:00Z (RFC 3339 with Z)")
            }
            asOf = t
        }
        atSize = try q.number("atSize")
        if asOf != nil, atSize != nil { throw LedgerError(.malformed, "asOf and atSize are alternatives; give one") }
    }

    /// The tree size and moment, or nil for the current view.
    func resolve(_ ledger: Ledger) throws(LedgerError) -> (size: UInt64, moment: String)? {
        guard asOf != nil || atSize != nil else { return nil }
        return try ledger.moment(asOf: asOf, atSize: atSize, now: SystemClock().now(), names: ("asOf", "atSize"))
    }
}

/// A request's query parameters, each taken once; unknown or repeated ones are refused by name.
struct Query {
    private var values: [String: String] = [:]
    private var taken: Set<String> = []

    /// Parses the query as a form does (`application/x-www-form-urlencoded`: `+` is a space,
    /// then percent-decoding), so that what an HTML form sends for "Kafr Nabl" (`Kafr+Nabl`) is
    /// what `Kafr%20Nabl` means; a literal plus is `%2B`.
    init(_ request: Request, allowed: [String]) throws(LedgerError) {
        for part in (request.uri.query ?? "").split(separator: "&") {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws(LedgerError) -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw LedgerError(.malformed, "the query \"\(part.prefix(80))\" is not percent-encoded correctly")
                }
                return d
            }
            let k = try decode(pair[0])
            let value = pair.count > 1 ? try decode(pair[1]) : ""
            guard allowed.contains(k) else {
                throw LedgerError(
                    .malformed,
                    "unknown query parameter \"\(k.prefix(80))\"\(allowed.isEmpty ? "; this path takes none" : "; this path takes \(allowed.joined(separator: ", "))")"
                )
            }
            guard values[k] == nil else { throw LedgerError(.malformed, "query parameter \(k) is given twice") }
            values[k] = String(value)
        }
    }

    mutating func text(_ name: String) -> String? {
        taken.insert(name)
        return values[name]
    }

    mutating func number(_ name: String) throws(LedgerError) -> UInt64? {
        guard let t = text(name) else { return nil }
        guard !t.isEmpty, t.utf8.count <= 20, t.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = UInt64(t) else {
            throw LedgerError(.malformed, "query parameter \(name) must be a whole number, not \"\(t.prefix(80))\"")
        }
        return n
    }
}

/// A checkpoint that does not exist: 404.
struct NotFound: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Result where Failure == NotFound {
    var failureMessage: String {
        if case .failure(let f) = self { return f.message }
        return ""
    }
}

/// Runs a handler; a `LedgerError` becomes its JSON error reply.
func respond(_ body: () async throws -> Response) async -> Response {
    do {
        return try await body()
    } catch let e as LedgerError {
        return Reply.error(e)
    } catch {
        return Reply.error(.internalServerError, code: "internal", "the server failed: \(error)")
    }
}

/// Building replies.
enum Reply {
    static func bytes(_ status: HTTPResponse.Status, _ contentType: String, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = contentType
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A large body sent in pieces of 64 KiB, so the connection never holds a second copy.
    static func streamed(_ status: HTTPResponse.Status, _ contentType: String, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = contentType
        let body = ResponseBody(contentLength: bytes.count) { writer in
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 65_536)
                try await writer.write(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: h, body: body)
    }

    static func json(_ status: HTTPResponse.Status, _ object: JSONObject, headers: HTTPFields = [:]) -> Response {
        bytes(status, "application/json", JSONWriter.encode(.object(object)), headers: headers)
    }

    /// `{"error": {"code": CODE, "message": MESSAGE}}`.
    static func error(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(
            status, JSONObject(uniqueMembers: [("error", .object(JSONObject(uniqueMembers: [("code", .string(code)), ("message", .string(message))])))]),
            headers: headers)
    }

    /// The reply for a refusal or failure (docs/SERVER.md, "Status codes"): the same message the
    /// command line prints for it.
    static func error(_ e: LedgerError) -> Response {
        let status: HTTPResponse.Status
        switch e.code {
        case .malformed: status = .badRequest
        case .refused: status = e.signerRefused ? .forbidden : .unprocessableContent
        case .conflict: status = .conflict
        case .io, .notALedger, .verificationFailed, .keyFile: status = .serviceUnavailable
        }
        var code = e.code.rawValue
        if let fault = e.fault { code = fault.rawValue }
        return error(status, code: code, e.description)
    }
}
