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

    /// Canonical 8-4-4-4-12 lowercase text of 16 bytes.
    public static func format(_ b: [UInt8]) -> String {
        let h = Hex.encode(b)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    /// The 16 bytes of a canonical lowercase UUIDv7 (version 7, RFC 9562 variant); nil otherwise.
    public static func parse(_ text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count == 36, u[8] == 45, u[13] == 45, u[18] == 45, u[23] == 45 else { return nil }
        var hex = u
        hex.removeAll { $0 == 45 }
        guard hex.count == 32, let bytes = Hex.decode(String(decoding: hex, as: UTF8.self)) else { return nil }
        guard bytes[6] >> 4 == 7, bytes[8] >> 6 == 2 else { return nil }
        return bytes
    }
}
