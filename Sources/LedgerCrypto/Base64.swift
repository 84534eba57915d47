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
        let n = bytes.count
        let length = (n + 2) / 3 * 4
        if length == 0 { return "" }
        return String(unsafeUninitializedCapacity: length) { out in
            alphabet.withUnsafeBufferPointer { a in
                var i = 0
                var o = 0
                while i + 3 <= n {
                    let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(v >> 18)]
                    out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = a[Int(v >> 6 & 63)]
                    out[o + 3] = a[Int(v & 63)]
                    i += 3
                    o += 4
                }
                let rest = n - i
                if rest > 0 {
                    let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                    out[o] = a[Int(v >> 18)]
                    out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = rest == 2 ? a[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
            }
            return length
        }
    }

    /// Encodes a byte collection.
    public static func encode<C: RawBytes>(_ bytes: C) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

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
        return values.withUnsafeBufferPointer { t -> [UInt8]? in
            var ok = true
            let out = [UInt8](unsafeUninitializedCapacity: outLength) { buf, count in
                var i = 0
                var o = 0
                let full = pad > 0 ? n - 4 : n
                var bad: UInt8 = 0
                while i < full {
                    let a = t[Int(text[i])], b = t[Int(text[i + 1])], c = t[Int(text[i + 2])], d = t[Int(text[i + 3])]
                    bad |= a | b | c | d
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    buf[o] = UInt8(truncatingIfNeeded: v >> 16)
                    buf[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    buf[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                if bad & 0x80 != 0 { ok = false }
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
                count = ok ? outLength : 0
            }
            return ok ? out : nil
        }
    }

    /// Strictly decodes a string (see `decode(_:)` for bytes).
    public static func decode(_ text: String) -> [UInt8]? {
        var t = text
        return t.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}
