/// Recognising canonical bytes without parsing them into a tree.
extension CanonicalObject {
    /// `bytes` as a canonical object when they are exactly what `JSONWriter.encode(_:sortedKeys:
    /// true)` writes for some JSON object whose names have no escapes, nested at most `maxDepth`
    /// deep: then its members are cut out of `bytes` as they are. Nil otherwise, including for
    /// bytes that are no JSON at all: the caller parses those the general way, which accepts what
    /// it always did and reports what it always did.
    ///
    /// One pass over the bytes, no allocation but the table of members: the object keeps `bytes` as
    /// they are. What it accepts is a subset of the canonical form: no white space; names in
    /// strictly ascending UTF-8 byte order (so none twice), without backslashes; strings of
    /// well-formed UTF-8 (RFC 3629) with no raw control character and only the writer's escapes
    /// (`\"` `\\` `\n` `\r` `\t` `\b` `\f`, and `\u00xx` in lower-case hex for the other characters
    /// below U+0020); numbers as RFC 8259 spells them (the writer keeps a number's spelling);
    /// `true`, `false`, `null`.
    public init?(validatingCanonical bytes: [UInt8], maxDepth: Int = 64) {
        var members: [Slot] = []
        members.reserveCapacity(16)
        let ok = bytes.withUnsafeBufferPointer { b -> Bool in
            var v = CanonicalValidator(b: b, maxDepth: maxDepth)
            guard v.object(depth: 1, collect: true, members: &members), v.pos == b.count else { return false }
            return true
        }
        guard ok else { return nil }
        self.init(canonical: bytes, slots: members)
    }
}

private struct CanonicalValidator {
    let b: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0

    init(b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.maxDepth = maxDepth
    }

    private var end: Int { b.count }

    /// An object at `pos`; its members go to `members` when `collect` (the top level's only).
    mutating func object(depth: Int, collect: Bool, members: inout [CanonicalObject.Slot]) -> Bool {
        guard depth <= maxDepth, pos < end, b[pos] == UInt8(ascii: "{") else { return false }
        pos += 1
        if pos < end, b[pos] == UInt8(ascii: "}") {
            pos += 1
            return true
        }
        var previousKey: Range<Int>? = nil
        while true {
            guard pos < end, b[pos] == UInt8(ascii: "\"") else { return false }
            let keyStart = pos + 1
            guard let keyEnd = key() else { return false }
            let k = keyStart..<keyEnd
            if let p = previousKey, !precedes(p, k) { return false }
            previousKey = k
            guard pos < end, b[pos] == UInt8(ascii: ":") else { return false }
            pos += 1
            guard value(depth: depth) else { return false }
            if collect {
                members.append(CanonicalObject.plainSlot(b, name: k, valueEnd: pos))
            }
            guard pos < end else { return false }
            let c = b[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            return c == UInt8(ascii: "}")
        }
    }

    /// Whether the name bytes `a` sort strictly before `b`.
    private func precedes(_ a: Range<Int>, _ c: Range<Int>) -> Bool {
        let n = min(a.count, c.count)
        for i in 0..<n where b[a.lowerBound + i] != b[c.lowerBound + i] {
            return b[a.lowerBound + i] < b[c.lowerBound + i]
        }
        return a.count < c.count
    }

    private mutating func value(depth: Int) -> Bool {
        guard pos < end else { return false }
        var unused: [CanonicalObject.Slot] = []
        switch b[pos] {
        case UInt8(ascii: "{"): return object(depth: depth + 1, collect: false, members: &unused)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return false
        }
    }

    private mutating func array(depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        pos += 1  // [
        if pos < end, b[pos] == UInt8(ascii: "]") {
            pos += 1
            return true
        }
        while true {
            guard value(depth: depth), pos < end else { return false }
            let c = b[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            return c == UInt8(ascii: "]")
        }
    }

    private mutating func literal(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        for i in 0..<n where b[pos + i] != s.utf8Start[i] { return false }
        pos += n
        return true
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// RFC 8259's number grammar; the byte after it must end the value.
    private mutating func number() -> Bool {
        if b[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < end else { return false }
        if b[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if isDigit(b[pos]) {
            while pos < end, isDigit(b[pos]) { pos += 1 }
        } else {
            return false
        }
        if pos < end, b[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < end, isDigit(b[pos]) else { return false }
            while pos < end, isDigit(b[pos]) { pos += 1 }
        }
        if pos < end, b[pos] == UInt8(ascii: "e") || b[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < end, b[pos] == UInt8(ascii: "+") || b[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < end, isDigit(b[pos]) else { return false }
            while pos < end, isDigit(b[pos]) { pos += 1 }
        }
        guard pos < end else { return false }  // a value inside an object is followed by , } or ]
        let c = b[pos]
        return c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]")
    }

    /// A member name: a string without backslashes. Returns the index of its closing quote and
    /// leaves `pos` after it.
    private mutating func key() -> Int? {
        let start = pos
        guard string(), pos - start >= 2 else { return nil }
        let close = pos - 1
        for i in (start + 1)..<close where b[i] == UInt8(ascii: "\\") { return nil }
        return close
    }

    /// A string in the writer's form, from its opening quote; `pos` ends after the closing one.
    private mutating func string() -> Bool {
        pos += 1
        while pos < end {
            // Eight bytes at a time while none is a quote, a backslash, a control character or
            // outside ASCII; then the byte that stopped it.
            if pos + 8 <= end, let base = b.baseAddress {
                let x = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                let stops =
                    TokenTable.below0x20(x) | (x & 0x8080_8080_8080_8080) | TokenTable.zeroBytes(x ^ 0x2222_2222_2222_2222)
                    | TokenTable.zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C)
                if stops == 0 {
                    pos += 8
                    continue
                }
                pos += stops.trailingZeroBitCount >> 3
            }
            let c = b[pos]
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return true
            case 0..<0x20:
                return false
            case UInt8(ascii: "\\"):
                guard pos + 1 < end else { return false }
                switch b[pos + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"):
                    pos += 2
                case UInt8(ascii: "u"):
                    // Only \u00xx for a control character without a short escape, lower-case hex.
                    guard pos + 5 < end, b[pos + 2] == UInt8(ascii: "0"), b[pos + 3] == UInt8(ascii: "0"),
                        let hi = lowerHex(b[pos + 4]), let lo = lowerHex(b[pos + 5])
                    else { return false }
                    let scalar = hi << 4 | lo
                    guard scalar < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar) else { return false }
                    pos += 6
                default:
                    return false
                }
            case 0x80...:
                guard utf8Sequence() else { return false }
            default:
                pos += 1
            }
        }
        return false
    }

    private func lowerHex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// One well-formed UTF-8 sequence at `pos`, as `JSONParser` checks it.
    private mutating func utf8Sequence() -> Bool {
        guard let base = b.baseAddress, let n = JSONParser.utf8SequenceLength(base, at: pos, end: end) else { return false }
        pos += n
        return true
    }
}
