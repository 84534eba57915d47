import LedgerCore
import LedgerCrypto

/// Draws for the mutator; the generator is LedgerCore's seeded SplitMix64, so a run is
/// reproducible from `--seed` alone.
extension SplitMix64 {
    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// True with probability 1/n.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// FNV-1a of a target name, mixed into the seed so each target's inputs do not depend on which
/// other targets run in the same process.
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in s.utf8 {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01B3
    }
    return h
}

/// Tokens that tend to reach edge paths of text decoders: JSON syntax, escapes, surrogates,
/// invalid and overlong UTF-8, non-NFC text, line ends, base64 padding, huge and odd numbers.
enum Tokens {
    static let all: [[UInt8]] = {
        var t: [[UInt8]] = []
        let text = [
            "\"", "\\", "\\\"", "\\\\", "\\u0000", "\\u001f", "\\ud800", "\\udc00", "\\ud800\\udc00", "\\udbff\\udfff",
            "\\uFFFF", "\\ufeff", "\\u00e9", "\\u0065\\u0301", "\\u212a", "\\u2028", "\\x41", "\\", "\\u12", "\\U0041",
            "{", "}", "[", "]", ":", ",", "{}", "[]", "\"\"", "null", "true", "false", "nul", "tru", "\"a\":1", "{\"a\":",
            "0", "-0", "-", "00", "01", "1.", ".5", "1e", "1e400", "1E+2", "-1", "1.0", "0.0000000000000000001",
            "9007199254740991", "9007199254740992", "9007199254740993", "4294967296", "18446744073709551615",
            "18446744073709551616", "99999999999999999999999999999999999999", "-9223372036854775808",
            "\n", "\r", "\r\n", "\n\n", "\n\n\n", "\t", " ", "  ", "\u{0B}", "\u{0C}",
            "+", "=", "==", "===", "/", "//", "-", "--", "..", "...", "%", "?", "~", "X", "XX", "x", "T", "Z", ":", "::",
            "\u{2014}", "\u{2014} ", "\u{00A0}", "\u{2028}", "\u{212A}", "\u{00E9}", "e\u{0301}", "\u{FEFF}", "\u{FFFD}",
            "\u{1F600}", "\u{0627}\u{0644}", "\u{10FFFF}",
            "AAAA", "AAA=", "AA==", "A===", "====", "////", "++++", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "incident:", "source:", "facility:", "actor:", "aggregate:", "x-", "en-", "-x-", "i-", "zh-min-nan",
            "payloadType", "payload", "signatures", "keyid", "sig", "index", "recordedAt", "envelope", "ledger", "id",
            "type", "subject", "expects", "signedAt", "body",
            "2019-02-29", "2019-13", "0000", "9999-12-31", "2019-05-05T10:00:00Z", "2026-01-01T00:00:00.000000Z",
            "2026-01-01T00:00:00.1234567891Z", "23:59:60", "BagIt-Version: ", "Payload-Oxum: ", ": ",
            "IncidentLedger-Tree-Size: ", "c2sp.org/tlog-proof@v1\n", "incidentledger/consistency-proof@v1\n",
            "extra ", "index ", "old ", "cosignature/v1\n", "time ",
        ]
        for s in text { t.append(Array(s.utf8)) }
        // Raw bytes no Swift string can hold: invalid, overlong and truncated UTF-8, surrogates.
        t += [
            [0x00], [0xFF], [0xFE], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xE0, 0x9F, 0xBF],
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x80], [0xE2], [0xF0, 0x9F, 0x98], [0xC3], [0xEF, 0xBB, 0xBF], [0x7F],
            [0xE2, 0x80, 0x94, 0x00],
        ]
        return t
    }()

    static let bigNumbers: [[UInt8]] = [
        "18446744073709551616", "18446744073709551615", "9007199254740992", "9007199254740991", "4294967296",
        "99999999999999999999999999999999999999999999999999", "0", "00", "-1", "1e308", "1e-400", "9223372036854775807",
        "9223372036854775808", "1" + String(repeating: "0", count: 400),
    ].map { Array($0.utf8) }
}

/// Byte-level mutations of one input, optionally borrowing from the rest of the corpus.
struct Mutator {
    var rng: SplitMix64
    let maxLength: Int

    init(seed: UInt64, maxLength: Int) {
        rng = SplitMix64(seed: seed)
        self.maxLength = maxLength
    }

    /// A random position in 0...count.
    mutating func position(_ count: Int) -> Int { rng.below(count + 1) }

    /// A random range inside `count` bytes, mostly short.
    mutating func range(_ count: Int) -> Range<Int> {
        guard count > 0 else { return 0..<0 }
        let start = rng.below(count)
        let maxLen = count - start
        let len: Int
        switch rng.below(4) {
        case 0: len = 1
        case 1: len = 1 + rng.below(min(maxLen, 8))
        case 2: len = 1 + rng.below(min(maxLen, 64))
        default: len = 1 + rng.below(maxLen)
        }
        return start..<(start + min(len, maxLen))
    }

    /// Applies 1–6 stacked mutations (mostly 1 or 2).
    mutating func mutate(_ input: [UInt8], corpus: [[UInt8]]) -> [UInt8] {
        var out = input
        var rounds = 1
        while rounds < 6 && rng.oneIn(2) { rounds += 1 }
        for _ in 0..<rounds { mutateOnce(&out, corpus: corpus) }
        if out.count > maxLength { out.removeLast(out.count - maxLength) }
        return out
    }

    /// One mutation; `op` forces the kind (0..<21), otherwise it is drawn.
    mutating func mutateOnce(_ b: inout [UInt8], corpus: [[UInt8]], op: Int? = nil) {
        switch op ?? rng.below(21) {
        case 0, 1:  // flip a bit
            guard !b.isEmpty else { fallthrough }
            b[rng.below(b.count)] ^= UInt8(1) << UInt8(rng.below(8))
        case 2:  // set a byte
            guard !b.isEmpty else { fallthrough }
            b[rng.below(b.count)] = rng.oneIn(2) ? UInt8(truncatingIfNeeded: rng.next()) : rng.pick([0, 0xFF, 0x7F, 0x80, 0x20, 0x0A, 0x22, 0x5C, 0x2B, 0x3D])
        case 3:  // insert random bytes
            let n = 1 + rng.below(8)
            var bytes: [UInt8] = []
            for _ in 0..<n { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            b.insert(contentsOf: bytes, at: position(b.count))
        case 4, 5:  // delete a range
            guard !b.isEmpty else { fallthrough }
            b.removeSubrange(range(b.count))
        case 6:  // duplicate a range somewhere
            guard !b.isEmpty else { fallthrough }
            let r = range(b.count)
            b.insert(contentsOf: Array(b[r]), at: position(b.count))
        case 7:  // truncate
            guard !b.isEmpty else { fallthrough }
            b.removeLast(1 + rng.below(b.count))
        case 8:  // splice: a prefix of this input, a suffix of another
            let other = corpus.isEmpty ? b : rng.pick(corpus)
            let cut = position(b.count)
            let from = position(other.count)
            b = Array(b[..<cut]) + Array(other[from...])
        case 9, 10:  // insert an interesting token
            b.insert(contentsOf: rng.pick(Tokens.all), at: position(b.count))
        case 11:  // replace a range with a token
            let token = rng.pick(Tokens.all)
            if b.isEmpty { b = token } else { b.replaceSubrange(range(b.count), with: token) }
        case 12:  // deep nesting
            let depth = rng.oneIn(8) ? 50 + rng.below(20_000) : 1 + rng.below(80)
            let opener: [UInt8] = rng.pick([[0x5B], [0x7B, 0x22, 0x61, 0x22, 0x3A], [0x5B, 0x7B, 0x22, 0x22, 0x3A]])
            var nest: [UInt8] = []
            nest.reserveCapacity(depth * opener.count * 2)
            for _ in 0..<depth { nest += opener }
            if rng.oneIn(2) {
                nest.append(0x31)
                for _ in 0..<depth { nest.append(opener[0] == 0x5B && opener.count == 1 ? 0x5D : 0x7D) }
            }
            b.insert(contentsOf: nest, at: position(b.count))
        case 13:  // replace a run of digits with a huge or odd number
            let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 }
            guard !digits.isEmpty else { fallthrough }
            var start = rng.pick(digits)
            var end = start
            while start > 0, b[start - 1] >= 0x30, b[start - 1] <= 0x39 { start -= 1 }
            while end < b.count, b[end] >= 0x30, b[end] <= 0x39 { end += 1 }
            b.replaceSubrange(start..<end, with: rng.pick(Tokens.bigNumbers))
        case 14:  // repeat a chunk many times (size limits, quadratic paths)
            guard !b.isEmpty else { fallthrough }
            let r = range(min(b.count, 256))
            let chunk = Array(b[r])
            let times = rng.oneIn(16) ? (maxLength - b.count) / max(1, chunk.count) : 2 + rng.below(64)
            guard times > 0 else { break }
            var rep: [UInt8] = []
            rep.reserveCapacity(chunk.count * times)
            for _ in 0..<times { rep += chunk }
            b.insert(contentsOf: rep, at: position(b.count))
        case 15:  // insert a slice of another input
            guard let other = corpus.isEmpty ? nil : rng.pick(corpus), !other.isEmpty else { fallthrough }
            b.insert(contentsOf: Array(other[range(other.count)]), at: position(b.count))
        case 16:  // line operations: drop, duplicate or swap lines
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            guard lines.count > 1 else { fallthrough }
            let i = rng.below(lines.count), j = rng.below(lines.count)
            switch rng.below(3) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: j)
            default: lines.swapAt(i, j)
            }
            b = Array(lines.joined(separator: [0x0A]))
        case 17:  // a byte plus or minus a little, or ASCII case change
            guard !b.isEmpty else { fallthrough }
            let i = rng.below(b.count)
            if rng.oneIn(3), (0x41...0x5A).contains(b[i]) || (0x61...0x7A).contains(b[i]) {
                b[i] ^= 0x20
            } else {
                b[i] = b[i] &+ UInt8(truncatingIfNeeded: rng.below(9) - 4)
            }
        case 18:  // rewrite the bytes under some base64 text and encode them again
            mutateBase64(&b, corpus: corpus)
        case 19:  // many distinct copies of a chunk (list items, keys, subtags): quadratic duplicate checks
            guard !b.isEmpty else { fallthrough }
            repeatWithCounter(&b)
        default:  // swap two bytes
            guard b.count > 1 else {
                b.insert(contentsOf: rng.pick(Tokens.all), at: position(b.count))
                break
            }
            b.swapAt(rng.below(b.count), rng.below(b.count))
        }
    }

    /// Inserts copies of a chunk, each with its last run of letters or digits replaced by a
    /// counter of the same kind (aaaa, aaab, …), so every copy differs: up to the length limit.
    mutating func repeatWithCounter(_ b: inout [UInt8]) {
        let r = range(min(b.count, 64))
        let chunk = Array(b[r])
        guard let last = chunk.lastIndex(where: { Mutator.isAlnum($0) }) else { return }
        var first = last
        while first > 0, Mutator.isAlnum(chunk[first - 1]), last - first < 3 { first -= 1 }
        let width = last - first + 1
        let letters = !(chunk[last] >= 0x30 && chunk[last] <= 0x39)
        let radix = letters ? 26 : 10
        var capacity = 1
        for _ in 0..<width { capacity *= radix }
        let budget = max(0, (rng.oneIn(8) ? maxLength : 1 << 16) - b.count) / max(1, chunk.count)
        let times = min(capacity, rng.oneIn(2) ? budget : min(budget, 2 + rng.below(2000)))
        guard times > 1 else { return }
        var out: [UInt8] = []
        out.reserveCapacity(times * chunk.count)
        var copy = chunk
        for k in 0..<times {
            var v = k
            for i in stride(from: last, through: first, by: -1) {
                copy[i] = letters ? UInt8(97 + v % 26) : UInt8(48 + v % 10)
                v /= radix
            }
            out += copy
        }
        b.insert(contentsOf: out, at: r.upperBound)
    }

    static func isAlnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) }

    static func isBase64Char(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2F || c == 0x3D
    }

    /// Finds a run of base64 text (at least 8 characters), decodes it, mutates the decoded
    /// bytes and encodes them again, so changes reach inside payloads and signature blobs.
    mutating func mutateBase64(_ b: inout [UInt8], corpus: [[UInt8]]) {
        var runs: [Range<Int>] = []
        var i = 0
        while i < b.count {
            if Mutator.isBase64Char(b[i]) {
                let s = i
                while i < b.count, Mutator.isBase64Char(b[i]) { i += 1 }
                if i - s >= 8 { runs.append(s..<i) }
            } else {
                i += 1
            }
        }
        guard !runs.isEmpty else { return }
        let r = rng.pick(runs)
        guard let decoded = Base64.decode(String(decoding: b[r], as: UTF8.self)) else { return }
        var inner = decoded
        var rounds = 1
        while rounds < 4 && rng.oneIn(2) { rounds += 1 }
        for _ in 0..<rounds {
            // No recursion into base64 again: the inner bytes are JSON or raw key material.
            var op = rng.below(21)
            if op == 18 { op = 0 }
            mutateOnce(&inner, corpus: corpus, op: op)
        }
        b.replaceSubrange(r, with: Array(Base64.encode(inner).utf8))
    }
}
