/// Standard base64 (RFC 4648 §4, with padding). Table-driven; decoding is strict.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 255 marks a byte outside the alphabet.
    private static let values: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Encodes `bytes` as padded standard base64.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let length = (bytes.count + 2) / 3 * 4
        if length == 0 { return "" }
        return String(unsafeUninitializedCapacity: length) { out in write(bytes, into: out) }
    }

    /// Each 12-bit group's two base64 characters, the first in the low byte.
    private static let pairs: [UInt16] = (0..<4096).map { UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 63]) << 8 }

    /// Writes the base64 of `bytes` at the start of `out` (room for all of it); returns its length.
    /// Three bytes at a time, two characters per table read.
    public static func write(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let n = bytes.count
        let length = (n + 2) / 3 * 4
        guard length > 0, let o = out.baseAddress, let b = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        precondition(out.count >= length)
        pairs.withUnsafeBufferPointer { pairs in
            var i = 0
            var j = 0
            while i + 3 <= n {
                let v = Int(b[i]) << 16 | Int(b[i + 1]) << 8 | Int(b[i + 2])
                let w = UInt32(pairs[v >> 12]) | UInt32(pairs[v & 0xFFF]) << 16
                UnsafeMutableRawPointer(o + j).storeBytes(of: w.littleEndian, as: UInt32.self)
                i += 3
                j += 4
            }
            let rest = n - i
            if rest > 0 {
                let v = Int(b[i]) << 16 | (rest == 2 ? Int(b[i + 1]) << 8 : 0)
                let high = pairs[v >> 12]
                let low = pairs[v & 0xFFF]
                o[j] = UInt8(truncatingIfNeeded: high)
                o[j + 1] = UInt8(truncatingIfNeeded: high >> 8)
                o[j + 2] = rest == 2 ? UInt8(truncatingIfNeeded: low) : UInt8(ascii: "=")
                o[j + 3] = UInt8(ascii: "=")
            }
        }
        return length
    }

    /// Encodes a byte collection.
    public static func encode<C: RawBytes>(_ bytes: C) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// For each of the four places in a group, each byte's 6 bits already shifted into place;
    /// a byte outside the alphabet has its top byte set (`0xFF000000`), so one OR over a group
    /// both assembles its 24 bits and flags a bad byte.
    private static let placed: [UInt32] = {
        var t = [UInt32](repeating: 0xFF00_0000, count: 4 * 256)
        for (i, c) in alphabet.enumerated() {
            for place in 0..<4 { t[place * 256 + Int(c)] = UInt32(i) << UInt32(18 - 6 * place) }
        }
        return t
    }()

    /// Strictly decodes padded standard base64: length a multiple of 4, only the standard
    /// alphabet, `=` only as final padding, and canonical (unused trailing bits zero).
    /// Nil when any of that fails.
    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        let n = text.count
        if n == 0 { return [] }
        guard n % 4 == 0 else { return nil }
        var pad = 0
        if text[n - 1] == UInt8(ascii: "=") { pad = text[n - 2] == UInt8(ascii: "=") ? 2 : 1 }
        let outLength = n / 4 * 3 - pad
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: outLength) { buf, count in
            let full = pad > 0 ? n - 4 : n
            placed.withUnsafeBufferPointer { p in
                let t = p.baseAddress!
                var i = 0
                var o = 0
                var bad: UInt32 = 0
                while i < full {
                    let v = t[Int(text[i])] | t[256 + Int(text[i + 1])] | t[512 + Int(text[i + 2])] | t[768 + Int(text[i + 3])]
                    bad |= v
                    buf[o] = UInt8(truncatingIfNeeded: v >> 16)
                    buf[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    buf[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                if bad & 0xFF00_0000 != 0 { ok = false }
            }
            values.withUnsafeBufferPointer { t in
                let i = full
                let o = full / 4 * 3
                if ok && pad > 0 {
                    let a = t[Int(text[i])], b = t[Int(text[i + 1])]
                    let c = pad == 1 ? t[Int(text[i + 2])] : 0
                    if (a | b | c) & 0x80 != 0 {
                        ok = false
                    } else if pad == 2 {
                        if b & 0x0F != 0 { ok = false }
                        buf[o] = a << 2 | b >> 4
                    } else {
                        if c & 0x03 != 0 { ok = false }
                        buf[o] = a << 2 | b >> 4
                        buf[o + 1] = (b & 0x0F) << 4 | c >> 2
                    }
                }
            }
            count = ok ? outLength : 0
        }
        return ok ? out : nil
    }

    /// Strictly decodes a string (see `decode(_:)` for bytes).
    public static func decode(_ text: String) -> [UInt8]? {
        var t = text
        return t.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}
