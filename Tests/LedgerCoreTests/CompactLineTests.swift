import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@Suite("The compact form a ledger file keeps entry lines in (CompactLine)")
struct CompactLineTests {
    static func line(index: UInt64 = 7, n: UInt64 = 5) -> [UInt8] {
        EntryLine(index: index, recordedAt: Fixtures.epoch, envelope: Fixtures.report(subject: "incident:inc-\(n)", n: n)).encoded()
    }

    @Test("a canonical line is stored packed, about half its size, and expands to exactly its bytes")
    func roundTrip() throws {
        for (index, n) in [(0, 1), (7, 5), (9_007_199_254_740_991, 3), (123_456, 99)] as [(UInt64, UInt64)] {
            let line = Self.line(index: index, n: n)
            let stored = CompactLine.encode(line)
            #expect(stored.first == CompactLine.packedForm)
            #expect(stored.count * 100 / line.count < 60, "\(stored.count) of \(line.count)")
            #expect(CompactLine.expand(stored) == line)
            // Given the parsed line (as an append is): the same value; given another entry, the
            // line is kept as it is.
            #expect(CompactLine.encode(line, entry: try EntryLine(bytes: line)) == stored)
            #expect(CompactLine.encode(line, entry: try EntryLine(bytes: Self.line(index: index, n: n + 1))) == line)
            // The header: the index big-endian, the record time, the key id's and signature's bytes.
            let parsed = try EntryLine(bytes: line)
            #expect(stored[1...8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == index)
            #expect(String(decoding: stored[9..<36], as: UTF8.self) == parsed.recordedAt.recordTimeText)
            #expect(Hex.encode(stored[36..<68]) == parsed.envelope.keyID)
            #expect(Array(stored[68..<132]) == parsed.envelope.signature)
            #expect(CompactLine.payloadTokens.unpack(Array(stored[132...])) == parsed.envelope.payload)
        }
    }

    @Test("a payload holding a byte below 0x20 is stored as it is (form 0x01)")
    func plainPayload() {
        let envelope = Envelope(
            payload: Array(#"{"a":"#.utf8) + [0x01, 0x22] + Array(#","ledger":1}"#.utf8), keyID: String(repeating: "ab", count: 32),
            signature: Array(repeating: 9, count: 64))
        let line = EntryLine(index: 3, recordedAt: Fixtures.epoch, envelope: envelope).encoded()
        let stored = CompactLine.encode(line)
        #expect(stored.first == CompactLine.plainForm)
        #expect(Array(stored[132...]) == envelope.payload)
        #expect(CompactLine.expand(stored) == line)
    }

    @Test("a line that is not canonical is kept as it is, and so is anything that is not a compact form")
    func keptAsItIs() {
        let text = String(decoding: Self.line(), as: UTF8.self)
        let keyID = Fixtures.report(subject: "incident:inc-5", n: 5).keyID
        for variant in [
            text.replacingOccurrences(of: #"{"index":7,"#, with: #"{"index": 7,"#), text + "\n",
            text.replacingOccurrences(of: #"{"index":7"#, with: #"{"index":07"#),
            text.replacingOccurrences(of: #"","sig":""#, with: #"","sig":"A"#),
            text.replacingOccurrences(of: keyID, with: keyID.uppercased()), "", "{", "not json",
        ] {
            let bytes = Array(variant.utf8)
            #expect(variant != text)
            #expect(CompactLine.encode(bytes) == bytes, "\(variant.prefix(40))")
            #expect(CompactLine.expand(bytes) == bytes)
        }
        let stored = CompactLine.encode(Self.line())
        // Too short, or a packed payload holding 0x00 (no token): given back as they are.
        for bad in [Array(stored.prefix(131)), [CompactLine.packedForm], stored + [0x00], [0x03] + stored.dropFirst()] {
            #expect(CompactLine.expand(bad) == bad)
        }
    }

    @Test("a fold's read of a stored value (record time and payload) agrees with the entry it holds, and declines what is no compact form")
    func recordTimeAndPayload() throws {
        func read(_ stored: [UInt8]) -> (Timestamp, [UInt8])? {
            var out: (Timestamp, [UInt8])?
            let taken = stored.withUnsafeBytes { s in CompactLine.recordTimeAndPayload(s) { out = ($0, Array($1)) } }
            #expect(taken == (out != nil))
            return out
        }
        for (index, n) in [(0, 1), (9_007_199_254_740_991, 3), (123_456, 99)] as [(UInt64, UInt64)] {
            let stored = CompactLine.encode(Self.line(index: index, n: n))
            let entry = try EntryLine(stored: stored)
            let got = try #require(read(stored))
            #expect(got.0 == entry.recordedAt && got.1 == entry.envelope.payload)
        }
        let stored = CompactLine.encode(Self.line())
        var bigIndex = stored
        bigIndex[2] = 0x20  // index 2^53 and more
        var badTime = stored
        badTime[10] = UInt8(ascii: "x")
        // A line kept as it is: the fold reads it as a line.
        #expect(read(Self.line()) == nil)
        // Damaged compact forms: declined here, and refused with a message when read as an entry.
        for bad in [Array(stored.prefix(131)), stored + [0x00], bigIndex, badTime] {
            #expect(read(bad) == nil)
            #expect(throws: LedgerError.self) { try EntryLine(stored: bad) }
        }
    }

    @Test("changing any one byte of a stored compact form changes the line it gives")
    func everyByteCounts() {
        let line = Self.line()
        let stored = CompactLine.encode(line)
        for i in stored.indices {
            for x: UInt8 in [0x01, 0x20, 0x80] {
                var damaged = stored
                damaged[i] ^= x
                #expect(CompactLine.expand(damaged) != line, "byte \(i) xor \(x)")
            }
        }
    }

    @Test("the payload tokens are a fixed part of the file format")
    func frozenTable() {
        // Never change or reorder the table: files hold its bytes. This hash pins it.
        let joined = CompactLine.payloadTokens.tokens.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        #expect(CompactLine.payloadTokens.tokens.count == 31)
        #expect(SHA256.hash(Array(joined.utf8)).hex == "13ce4eeaf6b2a8a1bd036b062a238978d7bd9ecd0e5868dd910a2607c0571ed2")
    }
}

@Suite("The compact form a ledger file keeps state checkpoints in (CompactState)")
struct CompactStateTests {
    @Test("a canonical state is stored packed behind 0x01 and expands to exactly its bytes; anything else is kept as it is")
    func roundTrip() {
        let state = Array(#"{"created":3,"entity":"incident","id":"incident:i1","sources":["source:s1"],"title":{"en":"Report 5"},"updated":9}"#.utf8)
        let stored = CompactState.encode(state)
        #expect(stored.first == CompactState.packedForm)
        #expect(stored.count < state.count * 3 / 4)
        #expect(CompactState.expand(stored) == state)
        let notCanonical = Array(#"{"a":"#.utf8) + [0x0A] + Array(#"1}"#.utf8)
        #expect(CompactState.encode(notCanonical) == notCanonical)
        #expect(CompactState.expand(notCanonical) == notCanonical)
        // A packed form holding 0x00 is no packed form: given back as it is.
        #expect(CompactState.expand(stored + [0x00]) == stored + [0x00])
        #expect(CompactState.expand([]) == [])
    }

    @Test("a state in either form (StateBytes) gives the same canonical bytes and the same stored value")
    func eitherForm() {
        let state = Array(#"{"created":3,"entity":"facility","id":"facility:f1","name":{"ar":"مستشفى","en":"Clinic"},"updated":3}"#.utf8)
        let plain = StateBytes.canonical(state)
        let packed = StateBytes.stored(CompactState.encode(state))
        #expect(plain.canonical == state && packed.canonical == state)
        #expect(plain.stored == CompactState.encode(state) && packed.stored == CompactState.encode(state))
        #expect(plain.stored.first == CompactState.packedForm)
        // A value stored before version 6 (the canonical bytes themselves) reads back as they are.
        #expect(StateBytes.stored(state).canonical == state)
        // Kept for a long time (a state the fold put away): the buffer is allocated for the value
        // (the allocator may round it up a little), not for the state it was packed from.
        let exact = CompactState.encode(state, exactSize: true)
        #expect(exact == CompactState.encode(state))
        #expect(exact.count < state.count - 8)
        #expect(exact.capacity < state.count)
        #expect(CompactState.encode(state).capacity > state.count)
        let notCanonical = Array(#"{"a":"#.utf8) + [0x0A] + Array(#"1}"#.utf8)
        #expect(CompactState.encode(notCanonical, exactSize: true) == notCanonical)
    }

    @Test("the state tokens are a fixed part of the file format")
    func frozenTable() {
        let joined = CompactState.tokens.tokens.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
        #expect(CompactState.tokens.tokens.count == 31)
        #expect(SHA256.hash(Array(joined.utf8)).hex == "d9f5dfd66ba5fc1a704d8ab47d5912b0300e0b166d545618424577c4ea8a1169")
    }
}

/// The packed bytes a ledger file holds are compared byte for byte by `verify` (a state row, a
/// stored line), so the packer must keep making exactly the same bytes: at each quote the longest
/// token that starts there, every other byte copied. Checked against that rule written plainly.
@Suite("TokenTable.pack makes the bytes of the plain greedy rule")
struct TokenTablePackTests {
    /// The rule itself: left to right, at a quote the longest token matching there.
    static func reference(_ table: TokenTable, _ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c < 0x20 { return nil }
            if c == 0x22 {
                var best: Int?
                for (t, token) in table.tokens.enumerated() where i + token.count <= bytes.count && Array(bytes[i..<(i + token.count)]) == token {
                    if best == nil || token.count > table.tokens[best!].count { best = t }
                }
                if let best {
                    out.append(UInt8(best + 1))
                    i += table.tokens[best].count
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }

    /// Texts made of the tables' tokens, their parts and JSON bytes, in many lengths, so that
    /// tokens meet the end of the input, overlap and nearly match.
    static func inputs(_ table: TokenTable, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        let pieces: [[UInt8]] =
            table.tokens + table.tokens.map { Array($0.dropLast()) } + table.tokens.map { Array($0.prefix(3)) }
            + ["\"", "\":", ",", "{", "}", "[", "]", "a", "x\"", "é", "\\\"", "0", "\"entry\"", "\"source\":\"source:"].map { Array($0.utf8) }
        var out: [[UInt8]] = []
        for length in 0..<400 {
            var b: [UInt8] = []
            for _ in 0..<(length % 40) { b += pieces[Int(rng.next() % UInt64(pieces.count))] }
            out.append(b)
        }
        return out
    }

    @Test("unpacking into a temporary buffer gives what unpack gives, and refuses what it refuses")
    func withUnpacked() {
        var rng = SplitMix64(seed: 7)
        for table in [CompactLine.payloadTokens, CompactState.tokens] {
            var inputs: [[UInt8]] = Self.inputs(table, seed: 3).compactMap { table.pack($0) }
            // Byte changes: 0x00, the last token, one past it, 0x1F, and ordinary bytes.
            for p in inputs.prefix(100) where !p.isEmpty {
                for b: UInt8 in [0x00, UInt8(table.tokens.count), UInt8(table.tokens.count + 1), 0x1F, 0x20, 0x7B] {
                    var v = p
                    v[Int(rng.next() % UInt64(p.count))] = b
                    inputs.append(v)
                }
            }
            // Long inputs, and long runs of the last token.
            let big = Array(inputs.joined())
            inputs += [Array(big.prefix(20_000)), [UInt8](repeating: UInt8(table.tokens.count), count: 5000), []]
            for v in inputs {
                let a = v.withUnsafeBytes { raw in table.withUnpacked(raw) { Array($0) } }
                #expect(a == table.unpack(v), "\(v.count) bytes")
            }
        }
    }

    @Test("payload and state tables: random texts of tokens and their parts, the campaign's lines")
    func sameBytes() throws {
        for (table, seed) in [(CompactLine.payloadTokens, UInt64(1)), (CompactState.tokens, 2)] {
            for input in Self.inputs(table, seed: seed) {
                #expect(table.pack(input) == Self.reference(table, input), "\(String(decoding: input, as: UTF8.self))")
            }
            // A byte below 0x20 anywhere: no packed form.
            #expect(table.pack(Array(#"{"entry":1,"a":""#.utf8) + [0x0A]) == nil)
        }
        let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Ledger/bundle/data/entries.jsonl")
        let lines = try String(contentsOf: bundle, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 200)
        for line in lines {
            let payload = try EntryLine(bytes: Array(line.utf8)).envelope.payload
            for table in [CompactLine.payloadTokens, CompactState.tokens] { #expect(table.pack(payload) == Self.reference(table, payload)) }
        }
    }
}
