import LedgerCrypto

/// Runs `body` over the raw bytes of `bytes`, keeping `body`'s typed error (the standard
/// library's `withUnsafeBytes` only rethrows untyped errors).
func withRawBytes<C: RawBytes, T, E: Error>(_ bytes: C, _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    var result: Result<T, E>?
    bytes.withUnsafeBytes { raw in
        do throws(E) { result = .success(try body(raw)) } catch { result = .failure(error) }
    }
    return try result!.get()
}
