import LedgerCore

/// A compact form for the canonical states a whole-archive fold puts away (`ArchiveState`):
/// the member names the schemas give most often, and two entity id prefixes, each written as one
/// byte from 0x01 to 0x1F (`TokenTable`). Keys are about 40 % of a
/// state's bytes; packed, the states of the synthetic million-event archive take 35 % less room.
/// A form in memory only; its table is the one a ledger file packs state checkpoints with.
public enum StateTokens {
    /// The table: the one the ledger file packs state checkpoints with (`CompactState`).
    public static let table = CompactState.tokens

    public static var tokens: [[UInt8]] { table.tokens }

    /// The packed form of `bytes`, or nil when they hold a byte below 0x20 (not canonical JSON:
    /// kept as it is).
    public static func pack(_ bytes: [UInt8]) -> [UInt8]? { table.pack(bytes) }

    /// The bytes `pack` was given (only ever given what `pack` made).
    public static func unpack(_ packed: [UInt8]) -> [UInt8] { table.unpack(packed)! }
}
