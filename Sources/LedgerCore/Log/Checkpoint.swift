import LedgerCrypto

/// A C2SP tlog-checkpoint body: `origin\nsize\nbase64(root)\n`.
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin.
    public var origin: String
    /// Tree size (number of entries).
    public var size: UInt64
    /// RFC 9162 root hash of the first `size` entries.
    public var root: Digest32

    public init(origin: String, size: UInt64, root: Digest32) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note text that is signed.
    public var text: [UInt8] { Array("\(origin)\n\(size)\n\(root.base64)\n".utf8) }

    /// Parses a checkpoint body (no extension lines accepted).
    public init(text: [UInt8]) throws(LedgerError) {
        guard text.last == 0x0A else { throw LedgerError(.malformed, "checkpoint text must end with a newline") }
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count == 3 else {
            throw LedgerError(.malformed, "checkpoint must have exactly 3 lines (origin, size, root), found \(lines.count)")
        }
        let o = String(decoding: lines[0], as: UTF8.self)
        guard Origin.isValid(o) else { throw LedgerError(.malformed, "checkpoint origin is not valid") }
        let s = String(decoding: lines[1], as: UTF8.self)
        guard let size = UInt64(s), String(size) == s else {
            throw LedgerError(.malformed, "checkpoint size must be a decimal number without leading zeros")
        }
        guard let rootBytes = Base64.decode(String(decoding: lines[2], as: UTF8.self)), let root = Digest32(bytes: rootBytes) else {
            throw LedgerError(.malformed, "checkpoint root must be the base64 of 32 bytes")
        }
        self.init(origin: o, size: size, root: root)
    }
}
