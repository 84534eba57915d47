/// A compact form for the canonical states a whole-archive fold puts away (`ArchiveState`):
/// the member names the schemas give most often, and two entity id prefixes, each written as one
/// byte from 0x01 to 0x1F. Canonical JSON never holds those bytes raw (the writer escapes every
/// control character), so any byte below 0x20 is a token and the rest are copied: the expansion
/// gives back exactly the bytes that were packed, whatever they are. Keys are about 40 % of a
/// state's bytes; packed, the states of the synthetic million-event archive take 35 % less room.
/// Never written anywhere: a form in memory only, so the list may change with any build.
public enum StateTokens {
    public static let tokens: [[UInt8]] = [
        #""entry":"#, #""source":"#, #""perpetrator":"#, #""locator":"#, #""claimant":"#, #""category":"#, #""stance":"#,
        #""basis":"#, #""max":"#, #""min":"#, #""casualtyReports":"#, #""verification":"#, #""externalIds":"#, #""created":"#,
        #""updated":"#, #""casualties":"#, #""facilities":"#, #""entity":"#, #""reason":"#, #""absorbed":"#, #""occurred":"#,
        #""facility":"#, #""title":"#, #""admin1":"#, #""sources":"#, #""summary":"#, #""eitherOf":"#, #""source:"#, #""actor:"#,
        #""confidence":"#, #""assessment":"#,
    ].map { Array($0.utf8) }

    /// For each byte that may follow a quote, the tokens (index into `tokens`) that start with
    /// the quote and that byte, longest first.
    private static let bySecondByte: [[Int]] = {
        var table = [[Int]](repeating: [], count: 256)
        for (i, t) in tokens.enumerated() { table[Int(t[1])].append(i) }
        for b in table.indices { table[b].sort { tokens[$0].count > tokens[$1].count } }
        return table
    }()

    /// The packed form of `bytes`, or nil when they hold a byte below 0x20 (not canonical JSON:
    /// kept as it is).
    public static func pack(_ bytes: [UInt8]) -> [UInt8]? {
        let n = bytes.count
        var clean = true
        // Packed, the bytes never grow: written into room for all of them, then copied out at
        // their exact size (the packed form is kept for a long time).
        let out = [UInt8](unsafeUninitializedCapacity: n) { o, written in
            var j = 0
            bytes.withUnsafeBufferPointer { b in
                var i = 0
                scan: while i < n {
                    let c = b[i]
                    if c == 0x22, i + 1 < n {
                        for t in bySecondByte[Int(b[i + 1])] {
                            let token = tokens[t]
                            guard i + token.count <= n else { continue }
                            var k = 2
                            while k < token.count, b[i + k] == token[k] { k += 1 }
                            if k == token.count {
                                o[j] = UInt8(t + 1)
                                j += 1
                                i += token.count
                                continue scan
                            }
                        }
                    } else if c < 0x20 {
                        clean = false
                        break
                    }
                    o[j] = c
                    j += 1
                    i += 1
                }
            }
            written = j
        }
        guard clean else { return nil }
        return exactSize(out)
    }

    /// A copy of `bytes` whose buffer holds them and no more (an array grows by doubling): for
    /// bytes kept for a long time.
    static func exactSize(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in count = buffer.initialize(fromContentsOf: bytes) }
    }

    /// The bytes `pack` was given.
    public static func unpack(_ packed: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(packed.count * 3 / 2 + 16)
        packed.withUnsafeBufferPointer { b in
            var start = 0
            for i in 0..<b.count where b[i] < 0x20 {
                if start < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<i])) }
                out.append(contentsOf: tokens[Int(b[i]) - 1])
                start = i + 1
            }
            if start < b.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<b.count])) }
        }
        return out
    }
}
