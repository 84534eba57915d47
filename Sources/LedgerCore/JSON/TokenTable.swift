#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A table of up to 31 byte strings, each starting with a quote, that a packed form writes as
/// one byte from 0x01 (the first) to 0x1F. Canonical JSON never holds a byte below 0x20 raw
/// (the writer escapes every control character), so in the packed form of such bytes any byte
/// below 0x20 is a token and the rest are copied: unpacking gives back exactly the bytes that
/// were packed, whatever they are. Used for the payloads and states a ledger file stores
/// (`CompactLine`, `CompactState`: tables that are part of the file format and never change),
/// and for the states a whole-archive fold puts away in memory, which it keeps in the stored form.
///
/// Both directions run over raw buffers with flat tables (no array of arrays, no reference
/// counting in the loop): they sit on the paths of every rebuild, `verify` and view.
public struct TokenTable: Sendable {
    public let tokens: [[UInt8]]
    /// Every token's bytes, one after another; token t is `flat[start[t] ..< start[t + 1]]`.
    private let flat: [UInt8]
    private let start: [Int]
    /// For each byte value: the length it unpacks to (1 for a byte copied; a token's length for
    /// 0x01…count; 0 for a byte that is no token: 0x00 and those past the table).
    private let unpackedLength: [Int]
    /// Each token's bytes after its first two, up to 16, as two little-endian words with the
    /// masks of the bytes they hold: a match is two masked compares.
    private let words: [(UInt64, UInt64, UInt64, UInt64)]
    /// Each token's bytes (at most 24 are used), as three little-endian words: a token is
    /// written as three word stores where the buffer has room past it.
    private let whole: [(UInt64, UInt64, UInt64)]
    /// The tokens (index into `tokens`) by a hash of the four bytes after their quote (every
    /// token has at least four), longest first, flat: bucket h is
    /// `bucketed[bucketStart[h] ..< bucketStart[h + 1]]`. Every token that can match at a quote
    /// has the same four bytes after it, so it is in that bucket: a quote is tried against a
    /// bucket's few tokens only.
    private let bucketed: [Int]
    private let bucketStart: [Int]

    public init(_ tokens: [String]) {
        precondition(
            tokens.count <= 31 && tokens.allSatisfy { $0.utf8.count >= 5 && $0.utf8.first == 0x22 },
            "a token starts with a quote and has four bytes after it")
        let bytes = tokens.map { Array($0.utf8) }
        var lengths = [Int](repeating: 1, count: 256)
        for b in 0..<0x20 { lengths[b] = b >= 1 && b <= bytes.count ? bytes[b - 1].count : 0 }
        self.tokens = bytes
        flat = bytes.flatMap { $0 }
        start = bytes.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        unpackedLength = lengths
        words = bytes.map { t in
            let rest = Array(t.dropFirst(2).prefix(16))
            var w: [UInt64] = [0, 0]
            var m: [UInt64] = [0, 0]
            for (k, b) in rest.enumerated() {
                w[k / 8] |= UInt64(b) << UInt64(8 * (k % 8))
                m[k / 8] |= 0xFF << UInt64(8 * (k % 8))
            }
            return (w[0], w[1], m[0], m[1])
        }
        whole = bytes.map { t in
            var w: [UInt64] = [0, 0, 0]
            for (k, b) in t.prefix(24).enumerated() { w[k / 8] |= UInt64(b) << UInt64(8 * (k % 8)) }
            return (w[0], w[1], w[2])
        }
        var buckets = [[Int]](repeating: [], count: Self.bucketCount)
        for (i, t) in bytes.enumerated() {
            let four = UInt32(t[1]) | UInt32(t[2]) << 8 | UInt32(t[3]) << 16 | UInt32(t[4]) << 24
            buckets[Self.bucket(four)].append(i)
        }
        for b in buckets.indices { buckets[b].sort { bytes[$0].count > bytes[$1].count } }
        bucketed = buckets.flatMap { $0 }
        bucketStart = buckets.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    }

    private static let bucketCount = 256

    /// The bucket of the four bytes after a quote (little-endian).
    @inline(__always) private static func bucket(_ four: UInt32) -> Int { Int((four &* 0x9E37_79B1) >> 24) }

    /// The packed form of `bytes`, or nil when they hold a byte below 0x20 (not canonical JSON).
    /// Packed, the bytes never grow; the result's buffer holds them and no more (an array grows
    /// by doubling), since a packed form is kept for a long time.
    public func pack(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var clean = true
        // Written into room for all of them, then copied out at their exact size.
        let out = [UInt8](unsafeUninitializedCapacity: bytes.count) { o, written in
            let j = o.baseAddress.flatMap { pack(bytes, to: $0) }
            clean = j != nil || bytes.isEmpty
            written = j ?? 0
        }
        guard clean else { return nil }
        return Self.exactSize(out)
    }

    /// Writes the packed form of `bytes` at `out` (room for `bytes.count`); returns its length, or
    /// nil when they hold a byte below 0x20.
    public func pack(_ bytes: UnsafeRawBufferPointer, to o: UnsafeMutablePointer<UInt8>) -> Int? {
        let n = bytes.count
        guard let b = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
        return flat.withUnsafeBufferPointer { flat in
            start.withUnsafeBufferPointer { start in
                words.withUnsafeBufferPointer { words in
                    bucketed.withUnsafeBufferPointer { bucketed in
                        bucketStart.withUnsafeBufferPointer { bucketStart in
                            var i = 0
                            var j = 0
                            scan: while i < n {
                                // Eight bytes at a time while none is a quote or below 0x20.
                                Self.copyUntilStop(UnsafeRawPointer(b), n, &i, o, &j) { Self.below0x20($0) | Self.zeroBytes($0 ^ 0x2222_2222_2222_2222) }
                                guard i < n else { break }
                                let c = b[i]
                                // A token has four bytes after its quote: closer to the end none fits.
                                if c == 0x22, i + 5 <= n {
                                    // The tokens of this quote's bucket (a hash of the four bytes after it), longest first.
                                    let h = Self.bucket(UInt32(littleEndian: UnsafeRawPointer(b + i + 1).loadUnaligned(as: UInt32.self)))
                                    for k in bucketStart[h]..<bucketStart[h + 1] {
                                        let t = bucketed[k]
                                        guard let length = Self.length(of: t, at: b + i, room: n - i, start, words, flat) else { continue }
                                        o[j] = UInt8(t + 1)
                                        j += 1
                                        i += length
                                        continue scan
                                    }
                                } else if c < 0x20 {
                                    return nil
                                }
                                o[j] = c
                                j += 1
                                i += 1
                            }
                            return j
                        }
                    }
                }
            }
        }
    }

    public func pack(_ bytes: [UInt8]) -> [UInt8]? { bytes.withUnsafeBytes { pack($0) } }

    /// Token `t`'s length when the `room` bytes at `at` start with it; nil otherwise.
    @inline(__always) private static func length(
        of t: Int, at: UnsafePointer<UInt8>, room: Int, _ start: UnsafeBufferPointer<Int>,
        _ words: UnsafeBufferPointer<(UInt64, UInt64, UInt64, UInt64)>, _ flat: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        let length = start[t + 1] - start[t]
        guard length <= room else { return nil }
        if length <= 18, room >= 18 {
            let (w0, w1, m0, m1) = words[t]
            let rest = UnsafeRawPointer(at + 2)
            guard UInt64(littleEndian: rest.loadUnaligned(as: UInt64.self)) & m0 == w0,
                UInt64(littleEndian: rest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & m1 == w1
            else { return nil }
        } else {
            guard memcmp(at + 2, flat.baseAddress! + start[t] + 2, length - 2) == 0 else { return nil }
        }
        return length
    }

    /// A copy of `bytes` whose buffer holds them and no more.
    public static func exactSize(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in count = buffer.initialize(fromContentsOf: bytes) }
    }

    /// The length `packed` unpacks to; nil when it holds 0x00 or a token byte beyond the table
    /// (not a packed form).
    private func unpackedCount(_ packed: UnsafeRawBufferPointer) -> Int? {
        unpackedLength.withUnsafeBufferPointer { lengths in
            var total = 0
            var bad = false
            var i = 0
            let n = packed.count
            // Eight bytes at a time while none is below 0x20.
            while i + 8 <= n {
                let m = Self.below0x20(UInt64(littleEndian: packed.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                if m == 0 {
                    total &+= 8
                } else {
                    for k in i..<(i + 8) {
                        let l = lengths[Int(packed[k])]
                        bad = bad || l == 0
                        total &+= l
                    }
                }
                i += 8
            }
            while i < n {
                let l = lengths[Int(packed[i])]
                bad = bad || l == 0
                total &+= l
                i += 1
            }
            return bad ? nil : total
        }
    }

    /// Writes what `packed` unpacks to at `out`, which has room for `count` bytes, the
    /// `unpackedCount(packed)` (only called once that said it is a packed form).
    private func unpack(_ packed: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>, count: Int) {
        flat.withUnsafeBufferPointer { flat in
            start.withUnsafeBufferPointer { start in
                whole.withUnsafeBufferPointer { whole in
                    var j = 0
                    var i = 0
                    let n = packed.count
                    while i < n {
                        // Eight bytes at a time up to the next token.
                        if let from = packed.baseAddress { Self.copyUntilStop(from, n, &i, out, &j) { Self.below0x20($0) } }
                        guard i < n else { break }
                        let c = packed[i]
                        i += 1
                        if c >= 0x20 {
                            out[j] = c
                            j += 1
                        } else {
                            let t = Int(c) - 1
                            let length = start[t + 1] - start[t]
                            if length <= 24, j + 24 <= count {
                                // Three word stores; the bytes past the token are written over next.
                                let (w0, w1, w2) = whole[t]
                                let at = UnsafeMutableRawPointer(out + j)
                                at.storeBytes(of: w0.littleEndian, as: UInt64.self)
                                at.storeBytes(of: w1.littleEndian, toByteOffset: 8, as: UInt64.self)
                                at.storeBytes(of: w2.littleEndian, toByteOffset: 16, as: UInt64.self)
                            } else {
                                (out + j).update(from: flat.baseAddress! + start[t], count: length)
                            }
                            j += length
                        }
                    }
                }
            }
        }
    }

    /// Copies eight bytes at a time from `from + i` to `to + j` (room for eight more) while
    /// `stops` flags none of them (the high bit of a byte to stop at); leaves `i` and `j` at the
    /// first byte to stop at, or where fewer than eight bytes remain before `n`.
    @inline(__always) static func copyUntilStop(
        _ from: UnsafeRawPointer, _ n: Int, _ i: inout Int, _ to: UnsafeMutablePointer<UInt8>, _ j: inout Int, _ stops: (UInt64) -> UInt64
    ) {
        while i + 8 <= n {
            let x = UInt64(littleEndian: from.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let m = stops(x)
            let clear = m == 0 ? 8 : m.trailingZeroBitCount >> 3
            if clear > 0 { UnsafeMutableRawPointer(to + j).storeBytes(of: x.littleEndian, as: UInt64.self) }
            i += clear
            j += clear
            if clear < 8 { return }
        }
    }

    /// The high bit of each byte of `x` (little-endian) that is below 0x20, exactly (no carry
    /// crosses a byte).
    @inline(__always) static func below0x20(_ x: UInt64) -> UInt64 {
        zeroBytes(x & 0xE0E0_E0E0_E0E0_E0E0)
    }

    /// The high bit of each byte of `x` that is zero, exactly.
    @inline(__always) static func zeroBytes(_ x: UInt64) -> UInt64 {
        ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x) & 0x8080_8080_8080_8080
    }

    /// The bytes `pack` was given, in a buffer of their exact length; nil when `packed` holds 0x00
    /// or a token byte beyond the table (not a packed form).
    public func unpack(_ packed: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let count = unpackedCount(packed) else { return nil }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, written in
            if let base = buffer.baseAddress { unpack(packed, to: base, count: count) }
            written = count
        }
    }

    /// The bytes `pack` was given (nil: not a packed form).
    public func unpack(_ packed: [UInt8]) -> [UInt8]? { packed.withUnsafeBytes { unpack($0) } }

    /// Calls `body` with the bytes `pack` was given, unpacked into a temporary buffer (on the
    /// stack when small) that lives only for the call; nil when `packed` is not a packed form.
    public func withUnpacked<T>(_ packed: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        guard let count = unpackedCount(packed) else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Swift.max(count, 1)) { buffer in
            unpack(packed, to: buffer.baseAddress!, count: count)
            return body(UnsafeRawBufferPointer(start: buffer.baseAddress!, count: count))
        }
    }
}
