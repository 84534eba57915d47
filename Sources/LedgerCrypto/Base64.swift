import CLedgerSodium

/// Standard base64 (RFC 4648 §4, with padding) through libsodium.
public enum Base64 {
    /// Encodes `bytes` as padded standard base64.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        Sodium.ensure()
        let variant = sodium_base64_VARIANT_ORIGINAL
        let length = sodium_base64_encoded_len(bytes.count, variant)
        return String(unsafeUninitializedCapacity: length) { out in
            _ = sodium_bin2base64(
                UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: CChar.self), length,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, variant)
            return length - 1  // drop the terminating NUL
        }
    }

    /// Encodes a byte collection.
    public static func encode<C: ContiguousBytes>(_ bytes: C) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Strictly decodes padded standard base64: no whitespace, no missing padding, and
    /// canonical (re-encoding gives the same text). Nil when any of that fails.
    public static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        Sodium.ensure()
        if text.count == 0 { return [] }
        guard text.count % 4 == 0 else { return nil }
        let maxLength = text.count / 4 * 3
        var out = [UInt8](repeating: 0, count: maxLength)
        var decoded = 0
        var end: UnsafePointer<CChar>? = nil
        let rc = out.withUnsafeMutableBytes { o in
            sodium_base642bin(
                o.baseAddress!.assumingMemoryBound(to: UInt8.self), maxLength,
                text.baseAddress!.assumingMemoryBound(to: CChar.self), text.count,
                nil, &decoded, &end, sodium_base64_VARIANT_ORIGINAL)
        }
        guard rc == 0, let end,
            UnsafeRawPointer(end) == text.baseAddress! + text.count
        else { return nil }
        out.removeLast(maxLength - decoded)
        // Reject non-canonical encodings: the unused low bits of the last symbol must be zero.
        let n = text.count
        if text[n - 1] == UInt8(ascii: "=") {
            let twoPads = text[n - 2] == UInt8(ascii: "=")
            guard let last = symbolValue(text[n - (twoPads ? 3 : 2)]) else { return nil }
            if last & (twoPads ? 0x0f : 0x03) != 0 { return nil }
        }
        return out
    }

    /// Strictly decodes a string (see `decode(_:)` for bytes).
    public static func decode(_ text: String) -> [UInt8]? {
        var t = text
        return t.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private static func symbolValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
