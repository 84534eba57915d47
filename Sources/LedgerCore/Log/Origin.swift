/// The ledger's origin: its unique name, used in every payload and checkpoint.
public enum Origin {
    /// True for 1–255 bytes of printable ASCII without spaces or `+` (C2SP key-name rules),
    /// e.g. `incidentledger.example/syria-health-care`.
    public static func isValid(_ text: String) -> Bool {
        var t = text
        return t.withUTF8 { isValid(UnsafeRawBufferPointer($0)) }
    }

    /// `isValid` of an origin's UTF-8 bytes.
    static func isValid(_ u: UnsafeRawBufferPointer) -> Bool {
        !u.isEmpty && u.count <= 255 && u.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "+") }
    }
}
