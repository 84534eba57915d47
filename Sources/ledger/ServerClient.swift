import Foundation
import LedgerCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of `ledger serve` for `ledger append --server`: reads the log's origin, posts
/// envelopes signed here (keys never leave this machine). Failures map to the exit codes of the
/// same refusal offline (docs/CLI.md).
struct ServerClient {
    let base: URL

    init(_ url: String) throws(LedgerError) {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        guard let u = URL(string: text), let scheme = u.scheme, scheme == "http" || scheme == "https", u.host != nil else {
            throw LedgerError(.malformed, "--server \"\(url.prefix(200))\" is not an http:// or https:// URL such as http://127.0.0.1:8080")
        }
        // Foundation's HTTP client on Linux refuses IPv6 literals (NSURLErrorBadURL); a name works.
        guard !(u.host ?? "").contains(":") else {
            throw LedgerError(
                .malformed, "--server \"\(url.prefix(200))\": an IPv6 address cannot be used here; give a host name (for [::1], http://localhost:PORT)")
        }
        base = u
    }

    /// The ledger's origin, from `GET /v1/log`.
    func origin() throws(LedgerError) -> String {
        let (status, body) = try request("GET", "/v1/log", body: nil)
        guard status == 200, let o = try? JSONParser.parseObject(body), let origin = o["origin"]?.stringValue else {
            throw Self.failure(status, body, what: "reading \(base.absoluteString)/v1/log")
        }
        return origin
    }

    /// Posts one envelope: its outcome, or the server's refusal as the command line's error.
    func append(_ envelope: Envelope) throws(LedgerError) -> (status: String, index: UInt64) {
        let (status, body) = try request("POST", "/v1/entries", body: envelope.encoded())
        guard status == 200 || status == 201, let o = try? JSONParser.parseObject(body), let index = o["index"]?.unsignedIntegerValue else {
            throw Self.failure(status, body, what: "posting to \(base.absoluteString)/v1/entries")
        }
        return (status == 201 ? "appended" : "existing", index)
    }

    /// A reply that is not a success, as a `LedgerError` of the category its status means.
    static func failure(_ status: Int, _ body: [UInt8], what: String) -> LedgerError {
        let message = (try? JSONParser.parseObject(body))?["error"]?.objectValue?["message"]?.stringValue
        let code: LedgerError.Code
        switch status {
        case 400, 413, 415: code = .malformed
        case 403, 422: code = .refused
        case 409: code = .conflict
        default: code = .io
        }
        return LedgerError(code, message ?? "the server answered \(status) when \(what)")
    }

    private func request(_ method: String, _ path: String, body: [UInt8]?) throws(LedgerError) -> (Int, [UInt8]) {
        guard let url = URL(string: base.absoluteString + path) else { throw LedgerError(.malformed, "bad URL \(base.absoluteString)\(path)") }
        var r = URLRequest(url: url, timeoutInterval: 60)
        r.httpMethod = method
        if let body {
            r.httpBody = Data(body)
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, [UInt8]), LedgerError> = .failure(LedgerError(.io, "no answer"))
        let task = URLSession.shared.dataTask(with: r) { data, response, error in
            if let error {
                let why: String
                switch (error as? URLError)?.code {
                case .timedOut?:
                    why = "no answer within 60 s; the outcome is unknown: send the same envelope again (an event already stored is answered with its index)"
                case .cannotConnectToHost?, .cannotFindHost?:
                    why = "cannot connect (is `ledger serve` running there?); nothing was sent"
                case .networkConnectionLost?:
                    why = "the connection was lost; the outcome is unknown: send the same envelope again"
                default:
                    why = "\(error.localizedDescription); the outcome is unknown: send the same envelope again"
                }
                result = .failure(LedgerError(.io, "\(self.base.absoluteString): \(why)"))
            } else {
                result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data ?? Data())))
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return try result.get()
    }
}
