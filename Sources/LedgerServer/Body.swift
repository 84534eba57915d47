import Hummingbird
import NIOCore

/// Reading a request body with a size limit and a deadline (slow clients get 408, not a
/// connection held open forever).
enum Body {
    enum Outcome: Sendable {
        case bytes([UInt8])
        case tooLarge
        case timedOut
        case failed(String)
    }

    static func read(_ request: Request, limit: Int, timeout: Duration) async -> Outcome {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { return .tooLarge }
        let body = request.body
        do {
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    var collected = ByteBuffer()
                    for try await part in body {
                        guard collected.readableBytes + part.readableBytes <= limit else { return .tooLarge }
                        collected.writeImmutableBuffer(part)
                    }
                    return .bytes(Array(buffer: collected))
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                let first = try await group.next() ?? .timedOut
                group.cancelAll()
                return first
            }
        } catch {
            return .failed(String(describing: error).prefix(200).description)
        }
    }
}
