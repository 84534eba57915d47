import ArgumentParser
import Foundation
import LedgerCore
import LedgerServer
import Logging

/// `ledger serve`: the archive over HTTP (docs/SERVER.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the archive over HTTP: signed appends, the log, proofs and the archive's views (docs/SERVER.md).",
        discussion: """
            Writes are DSSE envelopes signed offline (`ledger sign`, or `ledger append --server`), admitted by the \
            rules of `ledger append --signed`; concurrent posts share one transaction. Prints "listening on \
            http://HOST:PORT" once it listens; stops on SIGTERM or SIGINT after the requests in flight. The API is \
            described by docs/openapi.yaml (also served at /openapi.yaml).
            """)

    @OptionGroup var ledgerArgument: OptionalLedgerOption
    @Option(help: ArgumentHelp("Address and port to listen on (port 0: any free port).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Flag(name: .customLong("read-only"), help: "A mirror or replica: serve reads only; posts are answered 405.")
    var readOnly = false
    @Flag(
        name: .customLong("public"),
        help:
            "Serve the web pages only (and their style sheet and script): no API, no tiles, no entry lines, no writes. For a server the public reaches.")
    var publicPages = false
    @Option(name: .customLong("max-body"), help: ArgumentHelp("Largest request body accepted, in bytes (413 beyond).", valueName: "bytes"))
    var maxBody = 1 << 20
    @Option(help: ArgumentHelp("Read-only ledger connections serving views side by side.", valueName: "n"))
    var readers = 2
    @Flag(help: "Print the OpenAPI document and exit.")
    var openapi = false

    var address: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":") else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    var ledger: LedgerOption { ledgerArgument.ledger }

    func validate() throws {
        if openapi { return }
        try ledger.validate()
        guard address != nil else { throw ValidationError("--listen \"\(Terminal.safe(listen))\" is not HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080") }
        guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
        guard (1...64).contains(readers) else { throw ValidationError("--readers must be between 1 and 64") }
    }

    func run() async throws {
        if openapi {
            FileHandle.standardOutput.write(Data(LedgerHTTPServer.openAPIDocument.utf8))
            return
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "ledger.serve")
        var options = ServerOptions()
        (options.host, options.port) = address!
        options.readOnly = readOnly || publicPages
        options.pagesOnly = publicPages
        options.maxBodyBytes = maxBody
        options.readers = readers
        let server: LedgerHTTPServer
        do {
            server = try LedgerHTTPServer(location: try ledger.location, options: options)
        } catch {
            Terminal.error(error.description)
            throw ExitCode(Exit.code(for: error))
        }
        do {
            try await server.run(logger: logger) { address in
                FileHandle.standardOutput.write(Data("listening on http://\(address)\n".utf8))
            }
        } catch {
            Terminal.error("the server stopped: \(error)")
            throw ExitCode(Exit.io)
        }
    }
}
