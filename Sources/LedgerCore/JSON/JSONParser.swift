import LedgerCrypto

/// A strict RFC 8259 parser: valid UTF-8 only, no duplicate keys, every string in NFC,
/// bounded depth and size, nothing after the value.
public struct JSONParser {
    /// Limits applied while parsing.
    public struct Limits: Sendable {
        /// Maximum document size in bytes.
        public var maxBytes: Int
        /// Maximum nesting depth of arrays and objects.
        public var maxDepth: Int
        /// Refuse strings that are not in Unicode NFC. Input is held to it; verification of
        /// stored payloads is not, because the answer can depend on the Unicode version.
        public var requireNFC: Bool
        /// Whether member names are taken from `KnownKeys` when they are one of its names: off
        /// only to check that both paths give the same value (tests, the `json` fuzz target).
        package var knownKeys = true

        public init(maxBytes: Int, maxDepth: Int, requireNFC: Bool = true) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.requireNFC = requireNFC
        }

        /// 1 MiB, depth 64: the limits for event payloads.
        public static let standard = Limits(maxBytes: 1 << 20, maxDepth: 64)
    }

    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var pos: Int = 0
    private let limits: Limits

    private init(_ buffer: UnsafeRawBufferPointer, limits: Limits) {
        // An empty buffer has no base address; point at a static byte so reads stay in bounds by `end`.
        base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? JSONParser.emptyBase
        end = buffer.count
        self.limits = limits
    }

    nonisolated(unsafe) private static let emptyBase: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()

    /// Parses one JSON document of any type.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = .standard) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes, limits: limits)
        if bytes.count > limits.maxBytes { throw p.error(.tooLarge(limits.maxBytes), at: 0) }
        p.skipWhitespace()
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos != p.end { throw p.error(.trailingData, at: p.pos) }
        return value
    }

    /// Parses one JSON document from a byte collection.
    public static func parse<C: RawBytes>(_ bytes: C, limits: Limits = .standard) throws(JSONError) -> JSONValue {
        try withRawBytes(bytes) { (raw) throws(JSONError) in try parse(raw, limits: limits) }
    }

    /// Parses a document whose top level must be an object.
    public static func parseObject(_ bytes: UnsafeRawBufferPointer, limits: Limits = .standard) throws(JSONError) -> JSONObject {
        var p = JSONParser(bytes, limits: limits)
        if bytes.count > limits.maxBytes { throw p.error(.tooLarge(limits.maxBytes), at: 0) }
        p.skipWhitespace()
        if p.pos < p.end, p.base[p.pos] != UInt8(ascii: "{") { throw p.error(.topLevelNotObject, at: p.pos) }
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos != p.end { throw p.error(.trailingData, at: p.pos) }
        return value.objectValue!
    }

    /// Parses a document whose top level must be an object, from a byte collection.
    public static func parseObject<C: RawBytes>(_ bytes: C, limits: Limits = .standard) throws(JSONError) -> JSONObject {
        try withRawBytes(bytes) { (raw) throws(JSONError) in try parseObject(raw, limits: limits) }
    }

    // MARK: - Errors

    private func error(_ reason: JSONError.Reason, at offset: Int) -> JSONError {
        var line = 1
        var column = 1
        var i = 0
        while i < offset && i < end {
            if base[i] == 0x0A {
                line += 1
                column = 1
            } else {
                column += 1
            }
            i += 1
        }
        return JSONError(reason: reason, offset: offset, line: line, column: column)
    }

    // MARK: - Values

    @inline(__always)
    private mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { break }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard pos < end else { throw error(.unexpectedEnd, at: pos) }
        switch base[pos] {
        case UInt8(ascii: "{"): return .object(try parseObjectBody(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.unexpectedByte(base[pos]), at: pos)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        let lit = literal.utf8Start
        for i in 0..<n {
            guard pos + i < end else { throw error(.unexpectedEnd, at: end) }
            if base[pos + i] != lit[i] { throw error(.unexpectedByte(base[pos + i]), at: pos + i) }
        }
        pos += n
    }

    private mutating func parseObjectBody(depth: Int) throws(JSONError) -> JSONObject {
        if depth > limits.maxDepth { throw error(.tooDeep(limits.maxDepth), at: pos) }
        pos += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var names: Set<[UInt8]> = []  // UTF-8 of the names, used once an object has many members
        skipWhitespace()
        if pos < end, base[pos] == UInt8(ascii: "}") {
            pos += 1
            return JSONObject(uniqueMembers: members)
        }
        // A payload and its body (depths 1 and 2) get room for eight members at once: growing
        // from one by doubling allocated three or four times. Deeper objects, smaller and kept
        // in the archive's states, grow as they need.
        if depth <= 2 { members.reserveCapacity(8) }
        while true {
            skipWhitespace()
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            guard base[pos] == UInt8(ascii: "\"") else { throw error(.unexpectedByte(base[pos]), at: pos) }
            let keyOffset = pos
            let key: String
            if limits.knownKeys, let known = knownKey() { key = known } else { key = try parseString() }
            if members.count < 16 {
                for m in members where m.key.sameBytes(key) { throw error(.duplicateKey(key), at: keyOffset) }
            } else {
                if names.isEmpty { names = Set(members.map { Array($0.key.utf8) }) }
                guard names.insert(Array(key.utf8)).inserted else { throw error(.duplicateKey(key), at: keyOffset) }
            }
            skipWhitespace()
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            guard base[pos] == UInt8(ascii: ":") else { throw error(.unexpectedByte(base[pos]), at: pos) }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key, value))
            skipWhitespace()
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            let c = base[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return JSONObject(uniqueMembers: members) }
            throw error(.unexpectedByte(c), at: pos - 1)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> [JSONValue] {
        if depth > limits.maxDepth { throw error(.tooDeep(limits.maxDepth), at: pos) }
        pos += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < end, base[pos] == UInt8(ascii: "]") {
            pos += 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            let c = base[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "]") { return items }
            throw error(.unexpectedByte(c), at: pos - 1)
        }
    }

    private mutating func parseNumber() throws(JSONError) -> String {
        let start = pos
        if base[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < end else { throw error(.invalidNumber, at: start) }
        if base[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if isDigit(base[pos]) {
            while pos < end, isDigit(base[pos]) { pos += 1 }
        } else {
            throw error(.invalidNumber, at: start)
        }
        if pos < end, base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < end, isDigit(base[pos]) else { throw error(.invalidNumber, at: start) }
            while pos < end, isDigit(base[pos]) { pos += 1 }
        }
        if pos < end, base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < end, base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < end, isDigit(base[pos]) else { throw error(.invalidNumber, at: start) }
            while pos < end, isDigit(base[pos]) { pos += 1 }
        }
        if pos < end, isDigit(base[pos]) || base[pos] == UInt8(ascii: ".") { throw error(.invalidNumber, at: start) }
        return String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
    }

    @inline(__always)
    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// True when one of the eight bytes of `w` is a quote or a backslash, below 0x20 or at least
    /// 0x80 (a byte the string scan must look at one by one). Word-at-a-time zero-byte test:
    /// `(x - 0x01…) & ~x & 0x80…` is nonzero exactly when some byte of `x` is zero (a borrow can
    /// also mark a byte above a zero one, which only sends the scan to the byte loop early).
    @inline(__always)
    static func hasSpecialByte(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let quote = hasZero(w ^ (ones &* 0x22))
        let backslash = hasZero(w ^ (ones &* 0x5C))
        // Below 0x20 (for bytes under 0x80): subtracting 0x20 borrows into the high bit.
        let control = (w &- (ones &* 0x20)) & ~w & highs
        return (quote | backslash | control | (w & highs)) != 0
    }

    /// The member name starting at the opening quote at `pos` when it is one of `KnownKeys`,
    /// written plainly: the table's string, past the closing quote. Otherwise nil, with `pos`
    /// unchanged, for `parseString`. The name's bytes are read as two words up to the first
    /// quote; they can equal a known name's only when they are that name's letters and digits
    /// (no escape, no control or non-ASCII byte), so no byte needs a look of its own.
    @inline(__always)
    private mutating func knownKey() -> String? {
        let start = pos + 1
        guard start + 17 <= end else { return nil }
        let p = UnsafeRawPointer(base + start)
        var w0 = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        var w1 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let count: Int
        if let q = Self.firstQuote(w0) {
            count = q
            w0 &= q == 0 ? 0 : ~0 >> (64 - 8 * q)
            w1 = 0
        } else if let q = Self.firstQuote(w1) {
            count = 8 + q
            w1 &= q == 0 ? 0 : ~0 >> (64 - 8 * q)
        } else if base[start + 16] == UInt8(ascii: "\"") {
            count = 16
        } else {
            return nil
        }
        guard let name = KnownKeys.lookup((w0, w1), count: count) else { return nil }
        pos = start + count + 1
        return name
    }

    /// The position (0–7) of the first quote among the eight bytes of `w`, read little-endian.
    /// `hasZero`'s borrow can mark a byte above a true zero byte, never one below, so the lowest
    /// mark is exact.
    @inline(__always)
    static func firstQuote(_ w: UInt64) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let x = w ^ (ones &* 0x22)
        let marks = (x &- ones) & ~x & (ones &* 0x80)
        return marks == 0 ? nil : marks.trailingZeroBitCount / 8
    }

    /// Parses a string starting at the opening quote.
    private mutating func parseString() throws(JSONError) -> String {
        let start = pos
        pos += 1
        let contentStart = pos
        var ascii = true
        // Fast path: scan for the closing quote with no escapes, first eight bytes at a time
        // while none of them is a quote, a backslash, a control character or non-ASCII.
        while pos + 8 <= end {
            let w = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
            if Self.hasSpecialByte(w) { break }
            pos += 8
        }
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let buffer = UnsafeBufferPointer(start: base + contentStart, count: pos - contentStart)
                pos += 1
                if ascii { return String(decoding: buffer, as: UTF8.self) }
                return try finishNonASCII(Array(buffer), at: start)
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error(.controlCharacterInString, at: pos) }
            if c >= 0x80 {
                ascii = false
                try skipUTF8Sequence()
                continue
            }
            pos += 1
        }
        // Slow path: escapes present.
        var bytes = [UInt8](UnsafeBufferPointer(start: base + contentStart, count: pos - contentStart))
        while true {
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                return try finishNonASCII(bytes, at: start)
            }
            if c < 0x20 { throw error(.controlCharacterInString, at: pos) }
            if c >= 0x80 {
                ascii = false
                let s = pos
                try skipUTF8Sequence()
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + s, count: pos - s))
                continue
            }
            if c != UInt8(ascii: "\\") {
                bytes.append(c)
                pos += 1
                continue
            }
            let escapeStart = pos
            pos += 1
            guard pos < end else { throw error(.unexpectedEnd, at: pos) }
            let e = base[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: escapeStart)
                if (0xD800...0xDBFF).contains(scalar) {
                    guard pos + 1 < end, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                        throw error(.loneSurrogate, at: escapeStart)
                    }
                    pos += 2
                    let low = try hex4(at: escapeStart)
                    guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate, at: escapeStart) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error(.loneSurrogate, at: escapeStart)
                }
                if scalar >= 0x80 { ascii = false }
                bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw error(.invalidEscape, at: escapeStart)
            }
        }
    }

    private mutating func hex4(at escapeStart: Int) throws(JSONError) -> UInt32 {
        guard pos + 4 <= end else { throw error(.unexpectedEnd, at: end) }
        var v: UInt32 = 0
        for i in 0..<4 {
            let c = base[pos + i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error(.invalidEscape, at: escapeStart)
            }
            v = v << 4 | d
        }
        pos += 4
        return v
    }

    /// Validates one UTF-8 sequence at `pos` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    private mutating func skipUTF8Sequence() throws(JSONError) {
        guard let n = Self.utf8SequenceLength(base, at: pos, end: end) else { throw error(.invalidUTF8, at: pos) }
        pos += n
    }

    /// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates,
    /// ≤ U+10FFFF) starting with the non-ASCII byte at `base[pos]`, which must be followed by at
    /// least one more byte before `end` (a string's closing quote); nil when it is not one.
    @inline(__always)
    static func utf8SequenceLength(_ base: UnsafePointer<UInt8>, at pos: Int, end: Int) -> Int? {
        let c0 = base[pos]
        var need: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch c0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; upperBound = 0x9F
        case 0xF0: need = 3; lowerBound = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; upperBound = 0x8F
        default: return nil
        }
        guard pos + need < end else { return nil }
        let c1 = base[pos + 1]
        guard c1 >= lowerBound && c1 <= upperBound else { return nil }
        var i = 2
        while i <= need {
            let c = base[pos + i]
            guard c >= 0x80 && c <= 0xBF else { return nil }
            i += 1
        }
        return need + 1
    }

    private func finishNonASCII(_ bytes: [UInt8], at offset: Int) throws(JSONError) -> String {
        let s = String(decoding: bytes, as: UTF8.self)
        if limits.requireNFC, !NFC.isNormalized(s) { throw error(.notNFC, at: offset) }
        return s
    }
}

/// Unicode NFC checks, through the Swift standard library's own normaliser.
public enum NFC {
    /// True when `s` is already in Normalization Form C.
    public static func isNormalized(_ s: String) -> Bool {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return true }
        // Fast path: no combining marks start below U+0300, and Arabic letters U+0600–U+064A
        // are all NFC quick-check "Yes" with combining class 0.
        if s.unicodeScalars.allSatisfy({ $0.value < 0x300 || (0x600...0x64A).contains($0.value) }) { return true }
        var same = true
        var it = s.utf8.makeIterator()
        s._withNFCCodeUnits { b in
            if same, it.next() != b { same = false }
        }
        return same && it.next() == nil
    }

    /// `s` in Normalization Form C.
    public static func normalize(_ s: String) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        return String(decoding: s._nfcCodeUnits, as: UTF8.self)
    }
}

/// Member names that payloads repeat event after event (the payload's own members, the bodies'
/// fields): the parser hands out these strings instead of making a new one for each occurrence
/// (about 200 instructions each). A name is looked up by its bytes as two zero-padded words, in
/// an open-addressed table made once; a name not here is parsed as any string.
enum KnownKeys {
    static let names: [String] = [
        // The payload (FORMAT.md §2).
        "ledger", "id", "type", "subject", "expects", "signedAt", "body",
        // Bodies (EVENTS.md §3–4) and the members of their values.
        "admin", "admin1", "admin2", "aggregates", "alias", "aliases", "alternative", "ar", "archivedSha256", "asOf", "basis",
        "category", "certainty", "changes", "claimant", "claimedOn", "confidence", "coordinates", "country", "dataset", "description",
        "eitherOf", "en", "encryptionKey", "externalIds", "facilities", "facility", "figure", "impact", "includes", "incidents", "into",
        "kind", "lang", "lat", "locator", "location", "lon", "max", "means", "measure", "min", "name", "names", "note", "occurred",
        "operators", "partOf", "percent", "period", "perpetrator", "persons", "place", "precision", "publicKey", "published",
        "publisher", "qualifier", "rationale", "reason", "roles", "rule", "sharedOn", "sharedWith", "source", "sources", "stance",
        "statedOn", "statement", "summary", "title", "to", "town", "unit", "url", "value", "witness",
    ]

    /// The longest name a lookup takes, in bytes: two words.
    static let maxLength = 16

    private static let mask = 255

    /// A name's bytes as two little-endian words, zero-padded (`JSONParser.knownKey` builds them
    /// as it scans).
    static func words(_ name: String) -> (UInt64, UInt64) {
        var w: (UInt64, UInt64) = (0, 0)
        for (k, c) in name.utf8.enumerated() {
            if k < 8 { w.0 |= UInt64(c) << (8 * k) } else { w.1 |= UInt64(c) << (8 * (k - 8)) }
        }
        return w
    }

    @inline(__always)
    private static func slot(_ w: (UInt64, UInt64), _ count: Int) -> Int {
        Int(truncatingIfNeeded: ((w.0 ^ (w.1 &* 31) ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15) >> 56) & mask
    }

    private struct Slot {
        var words: (UInt64, UInt64) = (0, 0)
        /// 0: an empty slot.
        var count = 0
        var name = ""
    }

    /// The open-addressed table, made once and never freed: read through a pointer, so that a
    /// lookup neither retains an array nor checks bounds (`slot` is always below `mask + 1`).
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Slot> = {
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: mask + 1)
        slots.initialize(repeating: Slot(), count: mask + 1)
        for name in names {
            precondition(name.utf8.count <= maxLength && !name.isEmpty, "KnownKeys: \(name)")
            let w = Self.words(name)
            var i = slot(w, name.utf8.count)
            while slots[i].count != 0 { i = (i + 1) & mask }
            slots[i] = Slot(words: w, count: name.utf8.count, name: name)
        }
        return slots
    }()

    /// The table's string for a name of `count` bytes given as `words` (nil: not a known name).
    @inline(__always)
    static func lookup(_ w: (UInt64, UInt64), count: Int) -> String? {
        guard count > 0, count <= maxLength else { return nil }
        let slots = self.slots
        var i = slot(w, count)
        while true {
            let n = slots[i].count
            if n == 0 { return nil }
            if n == count, slots[i].words == w { return slots[i].name }
            i = (i + 1) & mask
        }
    }
}
