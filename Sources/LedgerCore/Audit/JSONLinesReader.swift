import Foundation
import LedgerCrypto

/// Streams a JSON Lines file in batches of lines (without their `\n`), hashing every byte read.
/// Memory holds one read chunk and one batch.
public struct JSONLinesReader {
    public let path: String
    public var batchSize = 8192
    public var chunkSize = 4 << 20
    /// Longest line accepted (an entry is at most a few MiB).
    public var maxLine = 8 << 20

    public init(path: String) { self.path = path }

    public enum Failure: Error {
        case unreadable(String)
    }

    /// What is left once every full line was delivered.
    public struct Result {
        /// SHA-256 of the whole file.
        public var digest: Digest32
        /// Lines delivered.
        public var lines: UInt64
        /// Bytes after the last `\n` (a truncated line), empty for a well-formed file.
        public var trailing: [UInt8]
        public var bytes: UInt64
        /// The index of a line longer than `maxLine`, where reading stopped (the complete lines
        /// before it were delivered; `digest` then covers only what was read).
        public var tooLong: UInt64?
    }

    /// Calls `body` with each batch of lines, and `progress` with (bytes read, file size).
    public func read(progress: ((UInt64, UInt64) -> Void)? = nil, _ body: ([[UInt8]]) throws -> Void) throws -> Result {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure.unreadable(String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        let total = fstat(fd, &st) == 0 ? UInt64(st.st_size) : 0
        var hasher = SHA256.Hasher()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var carry: [UInt8] = []
        var bytes: UInt64 = 0
        var delivered: UInt64 = 0
        var lines: [[UInt8]] = []
        lines.reserveCapacity(batchSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, chunkSize) }
            guard n >= 0 else { throw Failure.unreadable(String(cString: strerror(errno))) }
            if n == 0 { break }
            bytes += UInt64(n)
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            // Newlines found by `memchr` (a loop over the buffer's elements cost about 10
            // instructions a byte, a fifth of the audit's work beside signatures and hashes).
            let start = try buffer.withUnsafeBytes { (chunk) throws -> Int in
                let base = chunk.baseAddress!
                var start = 0
                while start < n, let found = memchr(base + start, 0x0A, n - start) {
                    let end = base.distance(to: UnsafeRawPointer(found))
                    let line = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
                    if carry.isEmpty {
                        lines.append(Array(line))
                    } else {
                        carry += line
                        lines.append(carry)
                        carry = []
                    }
                    start = end + 1
                    if lines.count == batchSize {
                        try body(lines)
                        delivered += UInt64(lines.count)
                        lines.removeAll(keepingCapacity: true)
                    }
                }
                return start
            }
            carry += buffer[start..<n]
            if carry.count > maxLine {
                // The complete lines before it are delivered first, so a failure among them comes first.
                if !lines.isEmpty {
                    try body(lines)
                    delivered += UInt64(lines.count)
                }
                return Result(digest: hasher.finalize(), lines: delivered, trailing: [], bytes: bytes, tooLong: delivered)
            }
            progress?(bytes, total)
        }
        if !lines.isEmpty {
            try body(lines)
            delivered += UInt64(lines.count)
        }
        return Result(digest: hasher.finalize(), lines: delivered, trailing: carry, bytes: bytes, tooLong: nil)
    }
}
