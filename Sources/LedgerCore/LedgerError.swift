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

    /// A storage failure, typed so that callers act on it without reading the message (whose
    /// text already says what the failure left written, and what to do).
    public enum Fault: String, Sendable, Equatable {
        /// The database could not be reached, or went away before COMMIT: nothing was written.
        case unreachable
        /// The connection was lost during COMMIT: the write may or may not be stored.
        case outcomeUnknown
        /// The ledger cannot be written here (a read-only file or open, a standby): nothing was written.
        case readOnly
        /// Another writer held the write lock too long: nothing was written.
        case busy
        /// The disk is full: nothing was written.
        case diskFull
        /// An input/output error: nothing was written.
        case ioError
        /// The server rolled the transaction back: nothing was written.
        case rolledBack

        /// Whether the failed write certainly left the ledger as it was.
        public var nothingWritten: Bool { self != .outcomeUnknown }
    }

    /// The category.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// The log entry index concerned, when there is one.
    public var index: UInt64?
    /// The position (0-based) of the event concerned within a submitted batch, when there is one.
    public var position: Int?
    /// The storage failure, when it is one.
    public var fault: Fault?
    /// A refusal because of who signed: the key is unknown here, revoked, lacks the event's role,
    /// or its signature does not verify, or the event belongs to another ledger (`ledger serve`
    /// answers these 403, other refusals 422).
    public var signerRefused = false

    public init(_ code: Code, _ message: String, index: UInt64? = nil, position: Int? = nil, fault: Fault? = nil) {
        self.code = code
        self.message = message
        self.index = index
        self.position = position
        self.fault = fault
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

    /// A refusal because of who signed (`signerRefused`).
    public static func signer(_ message: String) -> LedgerError {
        var e = LedgerError(.refused, message)
        e.signerRefused = true
        return e
    }

    static func malformed(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.malformed, "field `\(field)`: \(problem)")
    }
}
