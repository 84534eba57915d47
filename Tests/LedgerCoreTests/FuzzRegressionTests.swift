import LedgerCore
import LedgerCrypto
import Testing

/// Inputs from the decoder fuzzer (`bash Tools/fuzz.sh`, Sources/LedgerFuzz): every input that
/// ever crashed or hung a decoder belongs here, with the outcome it must now have. No fuzz run so
/// far has crashed or hung one; these are inputs of the fuzzer's nastiest mutation kinds (deep
/// nesting, huge numbers, invalid and overlong UTF-8, surrogates, base64 padding, 2^64 sizes),
/// each pinned to the error it gets, so a change that turns a refusal into a crash shows here.
@Suite("Fuzz regressions: log formats")
struct FuzzRegressionTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func key(_ n: UInt8) -> Ed25519.PrivateKey { try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: n, count: 32))) }

    /// A valid payload whose `body` is `body` (raw JSON text).
    static func payload(body: String, expects: String = "0") -> [UInt8] {
        bytes(
            #"{"ledger":"fuzz.example/ledger","id":"019b7784-bc00-7000-8000-000000000007","type":"incident.reported","subject":"incident:a","#
                + #""expects":\#(expects),"signedAt":"2026-01-01T00:00:00.007Z","body":\#(body)}"#)
    }

    func reason(_ b: [UInt8]) -> JSONError.Reason? {
        do {
            _ = try JSONParser.parse(b)
            return nil
        } catch {
            return error.reason
        }
    }

    /// The message of the LedgerError `body` throws; nil when it returns.
    func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as LedgerError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    // MARK: JSON

    @Test("deep nesting is refused at the depth limit, without recursing further")
    func deepNesting() {
        // 100,000 opening brackets: a recursive parser without a limit overflows its stack here.
        #expect(reason([UInt8](repeating: 0x5B, count: 100_000)) == .tooDeep(64))
        #expect(reason(Array(String(repeating: #"{"a":"#, count: 20_000).utf8)) == .tooDeep(64))
        // Exactly at the limit is fine, one more is not.
        #expect(reason(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)) == nil)
        #expect(reason(Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8)) == .tooDeep(64))
        // A payload body nested past 64 levels, and an envelope past its limit of 8.
        let deepBody = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
        #expect(message { _ = try EventPayload(bytes: Self.payload(body: deepBody)) }?.contains("nesting deeper than 64") == true)
        let deepEnvelope = Self.bytes(#"{"payloadType":"#) + Array(String(repeating: "[", count: 9).utf8)
        #expect(message { _ = try Envelope(json: deepEnvelope) }?.contains("nesting deeper than 8") == true)
    }

    @Test("huge and odd numbers parse as text and are refused where an integer is needed")
    func hugeNumbers() throws {
        let big = "1" + String(repeating: "0", count: 400)
        #expect(
            try JSONParser.parse(Self.bytes("[\(big),1e400,-0,0.0000000000000000001]"))
                == .array([.number(big), .number("1e400"), .number("-0"), .number("0.0000000000000000001")]))
        for expects in ["18446744073709551616", "18446744073709551615", "9007199254740992", "-1", "1e3", "1.0", big] {
            #expect(message { _ = try EventPayload(bytes: Self.payload(body: "{}", expects: expects)) }?.contains("expects") == true, "\(expects)")
        }
        #expect(try EventPayload(bytes: Self.payload(body: "{}", expects: "9007199254740991")).expects == 9_007_199_254_740_991)
        for bad in ["01", "1.", "-", "1e", "+1", ".5", "00"] { #expect(reason(Self.bytes("[\(bad)]")) != nil, "\(bad)") }
    }

    @Test("invalid, overlong and surrogate UTF-8 and lone surrogate escapes are refused")
    func invalidUTF8() throws {
        let cases: [([UInt8], JSONError.Reason)] = [
            ([0x22, 0xC0, 0x80, 0x22], .invalidUTF8),  // overlong NUL
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidUTF8),  // overlong '/'
            ([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8),  // UTF-16 surrogate encoded in UTF-8
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8),  // above U+10FFFF
            ([0x22, 0xE2, 0x80], .invalidUTF8),  // truncated at the end of input
            ([0x22, 0xFF, 0x22], .invalidUTF8),
            (Self.bytes(#""\ud800""#), .loneSurrogate),
            (Self.bytes(#""\udc00\ud800""#), .loneSurrogate),
            (Self.bytes(#""\ud800\u0041""#), .loneSurrogate),
            (Self.bytes(#""\u12zz""#), .invalidEscape),
            (Self.bytes(#""\u12""#), .unexpectedEnd),
            (Self.bytes(#""\u212a""#), .notNFC),  // KELVIN SIGN normalises to K
            ([0x22, 0x00, 0x22], .controlCharacterInString),
        ]
        for (input, expected) in cases { #expect(reason(input) == expected, "\(input)") }
        // An escaped NUL is a valid JSON string.
        #expect(try JSONParser.parse(Self.bytes(#""\u0000""#)) == .string("\u{0}"))
    }

    // MARK: Envelopes and entry lines

    @Test("envelopes: non-canonical base64, oversized payloads, extra signatures")
    func envelopes() {
        func env(_ payload: String, _ sig: String = String(repeating: "A", count: 86) + "==", extra: String = "") -> [UInt8] {
            Self.bytes(
                #"{"payloadType":"application/vnd.incidentledger.event+json","payload":"\#(payload)","#
                    + #""signatures":[{"keyid":"\#(String(repeating: "a", count: 64))","sig":"\#(sig)"}\#(extra)]}"#)
        }
        #expect(message { _ = try Envelope(json: env("e30=")) } == nil)
        #expect(message { _ = try Envelope(json: env("e31=")) }?.contains("base64") == true)  // unused bits set
        #expect(message { _ = try Envelope(json: env("e30")) }?.contains("base64") == true)  // missing padding
        #expect(message { _ = try Envelope(json: env("e3==0")) }?.contains("base64") == true)
        #expect(message { _ = try Envelope(json: env("e30=", "AAAA")) }?.contains("64-byte") == true)
        #expect(message { _ = try Envelope(json: env("e30=", extra: #",{"keyid":"","sig":""}"#)) }?.contains("exactly one") == true)
        let big = Base64.encode([UInt8](repeating: 0x20, count: (1 << 20) + 1))
        #expect(message { _ = try Envelope(json: env(big)) }?.contains("limit") == true)
    }

    @Test("entry lines: 2^53 and larger indexes, truncation, non-canonical spelling")
    func entryLines() throws {
        let key = Self.key(7)
        let envelope = Envelope.sign(payload: Self.payload(body: "{}"), with: key)
        let line = EntryLine(index: 5, recordedAt: Timestamp(microseconds: 1_767_225_600_000_000), envelope: envelope).encoded()
        #expect(try EntryLine(bytes: line).encoded() == line)
        let text = String(decoding: line, as: UTF8.self)
        for index in ["9007199254740992", "18446744073709551616", "05", "-1"] {
            let changed = Self.bytes(text.replacingOccurrences(of: #""index":5"#, with: #""index":\#(index)"#))
            #expect(message { _ = try EntryLine(bytes: changed) } != nil, "\(index)")
        }
        // Every truncation is refused (the canonical matcher and the general parser both).
        for cut in stride(from: 0, to: line.count, by: 7) { #expect(message { _ = try EntryLine(bytes: Array(line.prefix(cut))) } != nil) }
        #expect(message { _ = try EntryLine(bytes: []) } != nil)
        // Valid JSON, but spaced: refused as non-canonical.
        let spaced = Self.bytes(text.replacingOccurrences(of: #""index":5,"#, with: #""index": 5,"#))
        #expect(message { _ = try EntryLine(bytes: spaced) }?.contains("canonical") == true)
    }

    // MARK: Notes, checkpoints, keys

    @Test("signed notes: invalid UTF-8, short blobs, names with + or spaces, missing blank line")
    func notes() throws {
        let key = Self.key(4)
        let text = Self.bytes("fuzz.example/ledger\n5\n\(Digest32.zero.base64)\n")
        let good = SignedNote.sign(text: text, name: "fuzz.example/ledger", key: key).encoded()
        #expect(try SignedNote(bytes: good).encoded() == good)
        #expect(message { _ = try SignedNote(bytes: [0xFF] + good) }?.contains("UTF-8") == true)
        #expect(message { _ = try SignedNote(bytes: Array(good.dropLast()) + [0xC0, 0x80, 0x0A]) }?.contains("UTF-8") == true)
        #expect(message { _ = try SignedNote(bytes: text + Self.bytes("\n\u{2014} name AAAAAA==\n")) }?.contains("base64") == true)  // 4-byte blob
        #expect(message { _ = try SignedNote(bytes: text + Self.bytes("\n\u{2014} a+b AAAAAAAA\n")) }?.contains("no + and no white space") == true)
        #expect(message { _ = try SignedNote(bytes: text + Self.bytes("\n\u{2014} a\u{00A0}b AAAAAAAA\n")) }?.contains("no + and no white space") == true)
        #expect(message { _ = try SignedNote(bytes: text + Self.bytes("\n\u{2014} name AAAAAAAA")) }?.contains("newline") == true)
        #expect(message { _ = try SignedNote(bytes: Self.bytes("\n")) } != nil)
        #expect(message { _ = try SignedNote(bytes: []) } != nil)
        #expect(message { _ = try SignedNote(bytes: Self.bytes("\n\n")) } != nil)
        #expect(message { _ = try SignedNote(bytes: [UInt8](repeating: 0x0A, count: 1000)) } != nil)
    }

    @Test("checkpoints: sizes with signs, leading zeros and 2^64; proofs at the extremes of the size range")
    func checkpoints() throws {
        let root = Digest32.zero.base64
        for size in ["+5", "05", "18446744073709551616", "-1", " 5", "5 ", ""] {
            #expect(message { _ = try Checkpoint(text: Self.bytes("o\n\(size)\n\(root)\n")) }?.contains("size") == true, "\(size)")
        }
        let max = try Checkpoint(text: Self.bytes("o\n18446744073709551615\n\(root)\n"))
        #expect(max.size == .max)
        // Verifying against UInt64.max sizes and indexes neither traps nor loops.
        let path = [Digest32](repeating: .zero, count: 64)
        #expect(!MerkleTree.verifyInclusion(leaf: .zero, index: .max - 1, size: .max, proof: path, root: .zero))
        #expect(!MerkleTree.verifyInclusion(leaf: .zero, index: 0, size: .max, proof: path, root: .zero))
        #expect(!MerkleTree.verifyConsistency(from: 1, to: .max, fromRoot: .zero, toRoot: .zero, proof: path))
        #expect(!MerkleTree.verifyConsistency(from: .max - 1, to: .max, fromRoot: .zero, toRoot: .zero, proof: path))
        #expect(message { _ = try Checkpoint(text: Self.bytes("o\n1\n\(root)\nextension\n")) }?.contains("extension line") == true)
        #expect(message { _ = try Checkpoint(text: Self.bytes("o\n1\n\(root)\nextension\nmore\n")) }?.contains("3 lines") == true)
        #expect(message { _ = try Checkpoint(text: Self.bytes("o\n1\nAAAA\n")) }?.contains("32 bytes") == true)
    }

    @Test("verifier keys: wrong type byte, short key, + in the name, hash mismatch")
    func verifierKeys() throws {
        let k = VerifierKey(name: "fuzz.example/ledger", kind: .log, publicKey: Self.key(4).publicKey)
        #expect(try VerifierKey(parsing: k.encoded) == k)
        let parts = k.encoded.split(separator: "+").map(String.init)
        var blob = Base64.decode(parts[2])!
        blob[0] = 0x02
        #expect(message { _ = try VerifierKey(parsing: "\(parts[0])+\(parts[1])+\(Base64.encode(blob))") }?.contains("type byte") == true)
        #expect(message { _ = try VerifierKey(parsing: "\(parts[0])+\(parts[1])+\(Base64.encode(Array(blob.prefix(32))))") }?.contains("32-byte") == true)
        #expect(message { _ = try VerifierKey(parsing: "\(parts[0])+00000000+\(parts[2])") }?.contains("does not match") == true)
        #expect(message { _ = try VerifierKey(parsing: "a b+\(parts[1])+\(parts[2])") } != nil)
        #expect(message { _ = try VerifierKey(parsing: "++") } != nil)
    }

    // MARK: Proof files

    @Test("proof files: too many hash lines, truncated notes, sizes with leading zeros")
    func proofFiles() throws {
        let hash = Digest32.zero.base64
        let note = "o\n1\n\(hash)\n\n\u{2014} o AAAAAAAA\n"
        let tooMany = "c2sp.org/tlog-proof@v1\nindex 0\n" + String(repeating: hash + "\n", count: 65) + "\n" + note
        #expect(message { _ = try InclusionProofFile(bytes: Self.bytes(tooMany)) }?.contains("proof line 65") == true)
        #expect(message { _ = try InclusionProofFile(bytes: Self.bytes("c2sp.org/tlog-proof@v1\nindex 00\n\n" + note)) }?.contains("index N") == true)
        #expect(message { _ = try InclusionProofFile(bytes: Self.bytes("c2sp.org/tlog-proof@v1\nextra ===\nindex 0\n\n")) }?.contains("extra") == true)
        #expect(message { _ = try InclusionProofFile(bytes: Self.bytes("c2sp.org/tlog-proof@v1\nindex 0\n" + hash)) }?.contains("empty line") == true)
        let f = try InclusionProofFile(bytes: Self.bytes("c2sp.org/tlog-proof@v1\nindex 18446744073709551615\n\n"))
        #expect(f.index == .max && f.note.isEmpty)
        let head = "incidentledger/consistency-proof@v1\nold 1\n\n"
        for rest in ["", note, "o\n1\n\(hash)\n\n\u{2014}"] {
            #expect(message { _ = try ConsistencyProofFile(bytes: Self.bytes(head + rest)) }?.contains("note") == true, "\(rest.debugDescription)")
        }
        // The file format only splits the two notes; reading them is the caller's next step.
        #expect(try ConsistencyProofFile(bytes: Self.bytes(head + note + "\n")).newNote.isEmpty)
        #expect(try ConsistencyProofFile(bytes: Self.bytes(head + "\n\n\n\n\n\n")).oldNote == Self.bytes("\n\n\n\n"))
        let both = try ConsistencyProofFile(bytes: Self.bytes(head + note + "\n" + note))
        #expect(both.encoded() == Self.bytes(head + note + "\n" + note))
    }

    // MARK: Bag files

    @Test("bag manifests and bag-info: dot segments, CR, BOM, short lines, continuation lines")
    func bagFiles() throws {
        let hex = Digest32.zero.hex
        for bad in [
            "\(hex)  ../x\n", "\(hex)  a/./b\n", "\(hex)  /abs\n", "\(hex)  a%20b\n", "\(hex)  a\\b\n", "\(hex)  a\r\n", "\(hex)  \n", "\(hex)\n", "\(hex)  a",
            "\(hex) a\n\(hex) a\n",
        ] {
            #expect(message { _ = try Bag.parseManifest(Self.bytes(bad), file: "m") } != nil, "\(bad.debugDescription)")
        }
        #expect(message { _ = try Bag.parseManifest(Self.bytes(String(repeating: "AB", count: 32) + "  a\n"), file: "m") } != nil)  // uppercase hex
        #expect(message { _ = try Bag.parseManifest([UInt8](repeating: 0x30, count: 64) + [0x20, 0x61, 0xFF, 0x0A], file: "m") } != nil)  // invalid UTF-8 path
        #expect(try Bag.parseManifest(Self.bytes("\(hex)     a b/ü\n"), file: "m") == ["a b/ü": .zero])
        for bad in ["\u{FEFF}A: b\n", "A: b\r\n", " A: b\n", "A:b\n", ": b\n", "A : b\n", "A: b"] {
            #expect(message { _ = try Bag.parseInfo(Self.bytes(bad)) } != nil, "\(bad.debugDescription)")
        }
        #expect(message { _ = try Bag.parseInfo([0x41, 0x3A, 0x20, 0xC0, 0x80, 0x0A]) }?.contains("UTF-8") == true)
        #expect(try Bag.parseInfo(Self.bytes("A: b: c\nA: \n")) == ["A": ["b: c", ""]])
        #expect(Bag.parseExportTime("2024-12-12T09:14:00.5Z") == nil)
        #expect(Bag.checkpointSize(fileName: "18446744073709551616") == nil)
        #expect(Bag.checkpointSize(fileName: "0") == nil)
    }
}
