import LedgerCrypto

/// A C2SP tlog-checkpoint body: origin, tree size, root hash, and optionally the hash of the
/// archive's view at that size (FORMAT.md §7).
public struct Checkpoint: Sendable, Equatable {
    /// The log's origin.
    public var origin: String
    /// Tree size (number of entries).
    public var size: UInt64
    /// RFC 9162 root hash of the first `size` entries.
    public var root: Digest32
    /// SHA-256 of the archive's snapshot at `size` (docs/EVENTS.md §6, `ledger snapshot
    /// --at-size SIZE`), carried as the extension line `incidentledger-view <hex>`; nil when the
    /// checkpoint has no such line (format 1).
    public var view: Digest32?

    /// The one extension line's keyword.
    public static let viewKeyword = "incidentledger-view"

    public init(origin: String, size: UInt64, root: Digest32, view: Digest32? = nil) {
        self.origin = origin
        self.size = size
        self.root = root
        self.view = view
    }

    /// The note text that is signed.
    public var text: [UInt8] {
        var t = "\(origin)\n\(size)\n\(root.base64)\n"
        if let view { t += "\(Self.viewKeyword) \(view.hex)\n" }
        return Array(t.utf8)
    }

    /// Parses a checkpoint body: three lines, and at most one extension line, which must be
    /// `incidentledger-view` and 64 lowercase hex digits.
    public init(text: [UInt8]) throws(LedgerError) {
        guard text.last == 0x0A else { throw LedgerError(.malformed, "checkpoint text must end with a newline") }
        let lines = text.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.count == 3 || lines.count == 4 else {
            throw LedgerError(
                .malformed, "checkpoint must have 3 lines (origin, size, root) and at most one extension line (the view hash), found \(lines.count)")
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
        var view: Digest32?
        if lines.count == 4 {
            let ext = String(decoding: lines[3], as: UTF8.self)
            let prefix = Self.viewKeyword + " "
            guard ext.hasPrefix(prefix), ext.utf8.count == prefix.utf8.count + 64, let d = Digest32(hex: String(ext.dropFirst(prefix.count))) else {
                throw LedgerError(.malformed, "checkpoint extension line must be `\(Self.viewKeyword)` and 64 lowercase hex digits")
            }
            view = d
        }
        self.init(origin: o, size: size, root: root, view: view)
    }
}
