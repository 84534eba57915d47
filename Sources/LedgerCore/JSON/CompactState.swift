/// The form in which a ledger file (version 6 and later) keeps a state checkpoint's canonical
/// state in `state_versions.state` (docs/FORMAT.md §15, docs/DECISIONS.md 103): the byte 0x01,
/// then the state with each of `tokens` written as the one byte that numbers it (0x01 the first).
/// A canonical state starts with `{` and never holds a byte below 0x20, so the first byte tells
/// the forms apart and the packing loses nothing; it saves about 38 % of a state's bytes.
public enum CompactState {
    public static let packedForm: UInt8 = 0x01

    /// The member names the archive's schemas give most often, and two entity id prefixes. Part
    /// of the file format: never change or reorder it (a new table needs a new form byte).
    public static let tokens = TokenTable([
        #""entry":"#, #""source":"#, #""perpetrator":"#, #""locator":"#, #""claimant":"#, #""category":"#, #""stance":"#,
        #""basis":"#, #""max":"#, #""min":"#, #""casualtyReports":"#, #""verification":"#, #""externalIds":"#, #""created":"#,
        #""updated":"#, #""casualties":"#, #""facilities":"#, #""entity":"#, #""reason":"#, #""absorbed":"#, #""occurred":"#,
        #""facility":"#, #""title":"#, #""admin1":"#, #""sources":"#, #""summary":"#, #""eitherOf":"#, #""source:"#, #""actor:"#,
        #""confidence":"#, #""assessment":"#,
    ])

    /// The value to store for the canonical state `state`: its packed form, or the state as it is
    /// when it holds a byte below 0x20 (not canonical JSON).
    /// With `exactSize`, the value's buffer holds it and no more (for a value kept a long time).
    public static func encode(_ state: [UInt8], exactSize: Bool = false) -> [UInt8] {
        var clean = true
        let out = state.withUnsafeBytes { raw in
            [UInt8](unsafeUninitializedCapacity: raw.count + 1) { o, written in
                o[0] = packedForm
                let j = tokens.pack(raw, to: o.baseAddress! + 1)
                clean = j != nil
                written = 1 + (j ?? 0)
            }
        }
        guard clean else { return exactSize ? TokenTable.exactSize(state) : state }
        return exactSize ? TokenTable.exactSize(out) : out
    }

    /// The state a stored value holds: the value itself unless it starts with 0x01; a packed form
    /// holding 0x00 is given back as it is (and fails as a state wherever it is read).
    public static func expand(_ stored: [UInt8]) -> [UInt8] {
        guard stored.first == packedForm else { return stored }
        return stored.withUnsafeBytes { tokens.unpack(UnsafeRawBufferPointer(rebasing: $0[1...])) } ?? stored
    }
}

/// A canonical state in either form a ledger file keeps it in: as it is, or as `CompactState`
/// stores it. A storage takes the form it keeps and the other is made only when asked for, so a
/// state already packed (one the fold put away) is stored without being unpacked and packed again.
public enum StateBytes: Sendable, Equatable {
    /// The canonical bytes.
    case canonical([UInt8])
    /// The value a ledger file keeps: what `CompactState.encode` gives for the canonical bytes
    /// or, read from a file older than version 6, the canonical bytes themselves (`expand`
    /// reads both).
    case stored([UInt8])

    /// The canonical bytes `canonical`, packed when `stored`.
    public init(_ canonical: [UInt8], stored: Bool) { self = stored ? .stored(CompactState.encode(canonical)) : .canonical(canonical) }

    /// The canonical bytes.
    public var canonical: [UInt8] {
        switch self {
        case .canonical(let b): return b
        case .stored(let s): return CompactState.expand(s)
        }
    }

    /// The value `CompactState.encode` gives.
    public var stored: [UInt8] {
        switch self {
        case .canonical(let b): return CompactState.encode(b)
        case .stored(let s): return s
        }
    }
}
