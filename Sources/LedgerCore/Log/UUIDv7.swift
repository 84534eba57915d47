import LedgerCrypto

/// RFC 9562 version-7 UUIDs: 48-bit Unix milliseconds, then random bits.
public enum UUIDv7 {
    /// A new UUIDv7 for `time`, in lowercase canonical text form.
    public static func make(at time: Timestamp) -> String {
        var b = SecureRandom.bytes(16)
        let ms = UInt64(max(0, time.microseconds / 1000))
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        b[6] = 0x70 | (b[6] & 0x0F)
        b[8] = 0x80 | (b[8] & 0x3F)
        return format(b)
    }

    /// A reproducible UUIDv7 for generated data (demo archives, benchmarks, fuzz seeds): the
    /// 48-bit milliseconds, then `sequence` in the last 64 bits instead of random bits (with the
    /// RFC 9562 variant bits set). Never for real events: their ids must be unpredictable.
    public static func deterministic(milliseconds ms: UInt64, sequence n: UInt64) -> String {
        var b = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        b[6] = 0x70
        for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: n >> (8 * (7 - UInt64(i)))) }
        b[8] = 0x80 | (b[8] & 0x3F)
        return format(b)
    }

    /// Canonical 8-4-4-4-12 lowercase text of 16 bytes.
    public static func format(_ b: [UInt8]) -> String {
        let h = Hex.encode(b)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    /// The 16 bytes of a canonical lowercase UUIDv7 (version 7, RFC 9562 variant); nil otherwise.
    public static func parse(_ text: String) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 16)
        let ok = out.withUnsafeMutableBufferPointer { decode(text, into: $0) }
        return ok ? out : nil
    }

    /// `body` of the 16 bytes of `text` (what `parse` gives, nothing allocated); nil when `parse`
    /// refuses it.
    static func withBytes<R>(_ text: String, _ body: (UnsafeMutableBufferPointer<UInt8>) -> R) -> R? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { out in decode(text, into: out) ? body(out) : nil }
    }

    /// True when `text` is what `parse` accepts (no bytes kept, nothing allocated).
    public static func isValid(_ text: String) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { decode(text, into: $0) }
    }

    /// `isValid` of a UUID's UTF-8 bytes.
    static func isValid(_ u: UnsafeRawBufferPointer) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { decode(u.assumingMemoryBound(to: UInt8.self), into: $0) }
    }

    /// The 16 bytes of `text` into `out`; false when it is not a lowercase UUIDv7.
    private static func decode(_ text: String, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        var t = text
        return t.withUTF8 { decode($0, into: out) }
    }

    private static func decode(_ u: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard u.count == 36, u[8] == 45, u[13] == 45, u[18] == 45, u[23] == 45 else { return false }
        var o = 0
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                i += 1
                continue
            }
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return false }
            out[o] = hi << 4 | lo
            o += 1
            i += 2
        }
        return out[6] >> 4 == 7 && out[8] >> 6 == 2
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }
}
