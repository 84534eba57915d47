import CLedgerSodium

/// Process-wide libsodium initialisation and the single checker for its status codes.
enum Sodium {
    /// `sodium_init` runs exactly once, the first time any crypto function is used.
    static let initialized: Bool = {
        let rc = sodium_init()
        precondition(rc >= 0, "libsodium could not be initialised (sodium_init returned \(rc))")
        return true
    }()

    @inline(__always)
    static func ensure() {
        _ = initialized
    }

    /// Turns a libsodium status code into a thrown error; every C call goes through here.
    @inline(__always)
    static func check(_ rc: Int32, _ operation: CryptoError.Operation) throws(CryptoError) {
        if rc != 0 { throw CryptoError(operation: operation) }
    }
}
