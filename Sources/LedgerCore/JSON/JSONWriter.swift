#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes JSON with no insignificant whitespace. Objects keep member order unless `sortedKeys`.
public enum JSONWriter {
    /// The compact encoding of `value`; with `sortedKeys`, object keys in ascending UTF-8 byte order.
    public static func encode(_ value: JSONValue, sortedKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        // Room for a scalar's bytes as they are most often written (a string without escapes),
        // or 256 for a list or an object: the fold keeps each member's bytes as they come from
        // here, so room beyond them is held for as long as the state.
        switch value {
        case .null, .bool: out.reserveCapacity(5)
        case .number(let n): out.reserveCapacity(n.utf8.count)
        case .string(let s): out.reserveCapacity(s.utf8.count + 2)
        case .array, .object: out.reserveCapacity(256)
        }
        write(value, sortedKeys: sortedKeys, into: &out)
        return out
    }

    /// Appends the compact encoding of `value` to `out`.
    public static func write(_ value: JSONValue, sortedKeys: Bool, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, sortedKeys: sortedKeys, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            let members = object.members
            let ordered = !sortedKeys || object.isInKeyOrder ? members : members.sorted { utf8Precedes($0.key, $1.key) }
            for i in ordered.indices {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(ordered[i].key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(ordered[i].value, sortedKeys: sortedKeys, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The decimal digits of `value`, as `String(value)` writes them: an entry index as the
    /// canonical bytes of a JSON number.
    public static func digits(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        appendDigits(value, to: &out)
        return out
    }

    /// Appends the decimal digits of `value` to `out` (`digits`, into a buffer the caller keeps).
    public static func appendDigits(_ value: UInt64, to out: inout [UInt8]) {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        out.withUnsafeMutableBufferPointer { o in
            var v = value
            for i in stride(from: start + count - 1, through: start, by: -1) {
                o[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            }
        }
    }

    /// True when `a` sorts before `b` in UTF-8 byte order (memcmp on native strings).
    @inline(__always)
    public static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                let n = min(x.count, y.count)
                if n > 0, let xp = x.baseAddress, let yp = y.baseAddress {
                    let c = memcmp(xp, yp, n)
                    if c != 0 { return c < 0 }
                }
                return x.count < y.count
            }
        }
        if let r = fast ?? nil { return r }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// True when some byte of `bytes` is a quote, a backslash or a control character: eight
    /// bytes at a time (the test of `JSONParser.hasSpecialByte` without its non-ASCII part: UTF-8
    /// is written as it is), then byte by byte. A borrow can mark a word with no such byte; the
    /// byte loop then decides exactly.
    @inline(__always)
    static func needsEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = bytes.baseAddress else { return false }
        let n = bytes.count
        var i = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= n {
            let w = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            let q = w ^ (ones &* 0x22)
            let b = w ^ (ones &* 0x5C)
            let special = ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- (ones &* 0x20)) & ~w)
            if special & highs != 0 { break }
            i += 8
        }
        while i < n {
            let c = p[i]
            if c < 0x20 || c == 0x22 || c == 0x5C { return true }
            i += 1
        }
        return false
    }

    /// Appends `s` as a JSON string: escapes `"` `\` and control characters only; other
    /// characters, including non-ASCII, are written as UTF-8.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape, copy the bytes at once.
        let copied = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !needsEscape(bytes) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 0xF)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
