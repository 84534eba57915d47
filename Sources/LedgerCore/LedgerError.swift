/// Every refusal and failure the ledger reports: a category (which maps to an exit code),
/// a message saying what failed and what to do, and where (entry index, field, key id).
/// Descriptions never contain secrets or whole payloads.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Categories of failure; each has its own documented exit code.
    public enum Code: String, Sendable, Equatable {
        /// Input that is not well-formed: bad JSON, wrong field type, too large, bad encoding.
        case malformed
        /// Well-formed input that the ledger's rules refuse: unknown or revoked key, missing role,
        /// bad signature, foreign ledger, invalid key operation.
        case refused
        /// The subject moved on: `expects` is stale, or an event id was reused for another event.
        case conflict
        /// `verify` found an entry, checkpoint or Merkle root that does not hold.
        case verificationFailed
        /// The ledger file is missing, not a ledger, damaged, or of another format version.
        case notALedger
        /// A key file could not be read or decrypted.
        case keyFile
        /// An operating-system level failure (file not found, permission, disk).
        case io
    }

    /// The category.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// The log entry index concerned, when there is one.
    public var index: UInt64?
    /// The position (0-based) of the event concerned within a submitted batch, when there is one.
    public var position: Int?

    public init(_ code: Code, _ message: String, index: UInt64? = nil, position: Int? = nil) {
        self.code = code
        self.message = message
        self.index = index
        self.position = position
    }

    public var description: String {
        if let index { return "entry \(index): \(message)" }
        if let position { return "event #\(position + 1) of the batch: \(message)" }
        return message
    }

    /// The same error, located at `index` (unless already located).
    public func at(_ index: UInt64) -> LedgerError {
        var e = self
        if e.index == nil { e.index = index }
        return e
    }

    static func malformed(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.malformed, "field `\(field)`: \(problem)")
    }
}
