import Foundation
import Hummingbird
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import Logging
import NIOCore
import ServiceLifecycle

/// How `ledger serve` runs (docs/SERVER.md).
public struct ServerOptions: Sendable {
    /// Address to listen on: loopback by default.
    public var host = "127.0.0.1"
    /// Port (0: any free port, reported once listening).
    public var port = 8080
    /// A mirror or replica: every write is refused with 405.
    public var readOnly = false
    /// The web pages only (and their style sheet and script): every API path, tile and write is
    /// 404, so a server the public reaches gives out nothing the pages hide (entry lines and
    /// entity states carry sensitive fields whole).
    public var pagesOnly = false
    /// Largest request body taken (413 beyond it).
    public var maxBodyBytes = 1 << 20
    /// Time a client has to send its whole request body (408 after it).
    public var bodyTimeout: Duration = .seconds(10)
    /// A connection with nothing sent or received for this long is closed.
    public var idleTimeout: Duration = .seconds(30)
    /// Read-only ledger connections serving the views side by side.
    public var readers = 2
    /// Reads waiting at most per reader; beyond, 503 (a burst of slow reads cannot queue the
    /// rest behind it for ever).
    public var maxQueuedReads = 64
    /// After SIGTERM or SIGINT, requests in flight get this long to finish; then the remaining
    /// connections are closed (a client that never reads its reply cannot hold the server).
    public var shutdownGrace: Duration = .seconds(15)
    /// Envelopes at most in one group-commit transaction.
    public var maxBatch = 512
    /// Entry lines at most in one `GET /v1/entries`.
    public static let maxEntriesPerRequest: UInt64 = 1000

    public init() {}
}

/// `ledger serve`: the archive over HTTP (docs/SERVER.md, docs/openapi.yaml). Writes are DSSE
/// envelopes signed offline, checked by exactly the rules of `ledger append --signed` and
/// committed in groups; reads give the bytes the commands give offline.
public final class LedgerHTTPServer: Sendable {
    let options: ServerOptions
    let writer: GroupCommitter?
    let readers: ReadPool
    private let writerWorker: Worker?
    /// The ledger's origin and genesis key id (fixed).
    let origin: String
    let genesisKeyID: String

    /// Opens the ledger at `location`: one writing connection (unless read-only) and
    /// `options.readers` reading ones. Refuses a location that holds no ledger, or projections of
    /// another version (run `ledger rebuild` first).
    public init(location: any LedgerLocation, options: ServerOptions) throws(LedgerError) {
        self.options = options
        var opened: [Ledger] = []
        do throws(LedgerError) {
            var writerWorker: Worker?
            if !options.readOnly {
                let w = try Ledger.open(at: location)
                opened.append(w)
                try w.requireCurrentProjections()
                writerWorker = Worker(w, label: "ledger.writer")
            }
            var workers: [Worker] = []
            for i in 0..<max(1, options.readers) {
                let r = try Ledger.open(at: location, readOnly: true)
                opened.append(r)
                try r.requireCurrentProjections()
                workers.append(Worker(r, label: "ledger.reader.\(i)"))
            }
            self.writerWorker = writerWorker
            writer = writerWorker.map { GroupCommitter(worker: $0, maxBatch: options.maxBatch) }
            readers = ReadPool(workers, maxQueued: options.maxQueuedReads)
            origin = opened.last!.origin
            genesisKeyID = opened.last!.genesisKeyID
        } catch {
            for l in opened { try? l.close() }
            throw error
        }
    }

    /// Closes every connection (after the server stopped).
    public func close() {
        writerWorker?.close()
        readers.close()
    }

    /// Group-commit transactions tried so far.
    public var transactionCount: Int { writer?.transactionCount ?? 0 }

    /// The Hummingbird application serving this ledger; `onRunning` gets the address it listens
    /// on (`127.0.0.1:PORT`) once it does.
    public func application(logger: Logger, onRunning: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.middlewares.add(RequestLogger(logger: logger))
        router.middlewares.add(MethodNotAllowed())
        Routes(server: self).add(to: router)
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(options.idleTimeout.components.seconds) * 1_000_000_000))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "IncidentLedger"),
            onServerRunning: { [options] channel in
                let address = channel.localAddress
                let host = address?.ipAddress ?? options.host
                await onRunning("\(host.contains(":") ? "[\(host)]" : host):\(address?.port ?? options.port)")
            },
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight (at most
    /// `shutdownGrace`, then closes the connections left) and closes the ledger.
    public func run(logger: Logger, onRunning: @escaping @Sendable (String) async -> Void = { _ in }) async throws {
        defer { close() }
        var configuration = ServiceGroupConfiguration(
            services: [application(logger: logger, onRunning: onRunning)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = options.shutdownGrace
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// A known path asked with a method it does not take: 405 with `Allow`; an unknown path: 404
/// with the JSON error body every other error has.
struct MethodNotAllowed<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = Routes.methods(of: request.uri.path), !allowed.contains(request.method.rawValue) else {
                return Reply.error(.notFound, code: "notFound", "no such path: \(request.uri.path.prefix(200)) (the API: /openapi.yaml)")
            }
            return Reply.error(
                .methodNotAllowed, code: "malformed", "\(request.uri.path) takes \(allowed.joined(separator: " and ")), not \(request.method.rawValue)",
                headers: [.allow: allowed.joined(separator: ", ")])
        }
    }
}

/// One log line per request: method, path, status, time (swift-log, structured metadata).
struct RequestLogger<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, status: response.status.code, since: start)
            return response
        } catch let error as HTTPResponseError {
            log(request, status: error.status.code, since: start)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since start: ContinuousClock.Instant) {
        let ms = (ContinuousClock.now - start).components
        logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "ms": "\(String(format: "%.2f", Double(ms.seconds) * 1000 + Double(ms.attoseconds) / 1e15))",
            ])
    }
}

extension LedgerHTTPServer {
    /// The OpenAPI 3.1 document of the API (docs/openapi.yaml).
    public static var openAPIDocument: String { OpenAPIDocument.yaml }
}
