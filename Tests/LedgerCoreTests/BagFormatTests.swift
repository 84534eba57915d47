import LedgerCrypto
import LedgerTesting
import Testing

@testable import LedgerCore

@Suite("Bundle formats: vkeys, cosignatures, proof files, manifests (FORMAT.md §11–13)")
struct BagFormatTests {
    let text = Array("example.org/log\n16\n\(Digest32(hex: String(repeating: "ab", count: 32))!.base64)\n".utf8)

    @Test("vkeys round-trip, including base64 with + in it; bad ones are refused with the reason")
    func vkeys() throws {
        for n in UInt8(1)...UInt8(40) {
            let key = Fixtures.key(n).publicKey
            for kind in [VerifierKey.Kind.log, .cosigner] {
                let v = VerifierKey(name: "w\(n).example/x", kind: kind, publicKey: key)
                #expect(try VerifierKey(parsing: v.encoded) == v)
            }
        }
        let good = VerifierKey(name: "w.example", kind: .cosigner, publicKey: Fixtures.key(1).publicKey).encoded
        let parts = good.split(separator: "+", maxSplits: 2).map(String.init)
        #expect(throws: LedgerError.self) { try VerifierKey(parsing: "w.example+00000000+" + parts[2]) }  // wrong key hash
        #expect(throws: LedgerError.self) { try VerifierKey(parsing: "other.example+" + parts[1] + "+" + parts[2]) }  // hash of another name
        #expect(throws: LedgerError.self) { try VerifierKey(parsing: "w example+" + parts[1] + "+" + parts[2]) }
        #expect(throws: LedgerError.self) { try VerifierKey(parsing: parts[0] + "+" + parts[1]) }
        #expect(throws: LedgerError.self) {
            try VerifierKey(parsing: parts[0] + "+" + parts[1] + "+" + Base64.encode([0x02] + Fixtures.key(1).publicKey.bytes))
        }
    }

    @Test("a cosignature verifies over cosignature/v1 + time + text; altering its time, signature or the text fails it")
    func cosignatures() throws {
        let w = Fixtures.key(7)
        let vkey = VerifierKey(name: "w.example/1", kind: .cosigner, publicKey: w.publicKey)
        let line = Cosignature.sign(text: text, name: "w.example/1", key: w, time: 1_700_000_000)
        #expect(line.keyHash == vkey.keyHash && line.signature.count == 72)
        // The signed message is exactly the C2SP one.
        #expect(w.publicKey.isValidSignature(Array(line.signature[8...]), for: Array("cosignature/v1\ntime 1700000000\n".utf8) + text))
        let note = SignedNote(text: text, signatures: [line])
        let parsed = try SignedNote(bytes: note.encoded())
        #expect(try Cosignature.check(parsed, witness: vkey)?.get() == 1_700_000_000)
        var laterTime = parsed
        laterTime.signatures[0].signature[7] ^= 1
        #expect(throws: LedgerError.self) { try Cosignature.check(laterTime, witness: vkey)?.get() }
        var otherText = parsed
        otherText.text[17] ^= 1
        #expect(throws: LedgerError.self) { try Cosignature.check(otherText, witness: vkey)?.get() }
        var short = parsed
        short.signatures[0].signature.removeLast()
        #expect(throws: LedgerError.self) { try Cosignature.check(short, witness: vkey)?.get() }
        let stranger = VerifierKey(name: "w.example/2", kind: .cosigner, publicKey: w.publicKey)
        #expect(Cosignature.check(parsed, witness: stranger) == nil)
        // Names are bytes: KELVIN SIGN is not K, though Swift's == says they are equal.
        let kelvin = VerifierKey(name: "K.example", kind: .cosigner, publicKey: w.publicKey)
        var renamed = SignedNote(text: text, signatures: [Cosignature.sign(text: text, name: "K.example", key: w, time: 9)])
        renamed.signatures[0].name = "\u{212A}.example"
        #expect(Cosignature.check(renamed, witness: kelvin) == nil)
        let logSigned = SignedNote.sign(text: text, name: "K.example", key: w)
        var kelvinLog = logSigned
        kelvinLog.signatures[0].name = "\u{212A}.example"
        #expect(logSigned.isSigned(name: "K.example", publicKey: w.publicKey))
        #expect(!kelvinLog.isSigned(name: "K.example", publicKey: w.publicKey))
    }

    @Test("proof files round-trip; malformed ones are refused")
    func proofFiles() throws {
        let note = SignedNote.sign(text: text, name: "example.org/log", key: Fixtures.key(3))
        var cosigned = note
        cosigned.signatures.append(Cosignature.sign(text: text, name: "w.example/1", key: Fixtures.key(7), time: 5))
        let hashes = (0..<5).map { SHA256.hash([UInt8($0)]) }
        let inc = InclusionProofFile(entryLine: Array("{\"index\":3}".utf8), index: 3, path: hashes, note: cosigned.encoded())
        #expect(try InclusionProofFile(bytes: inc.encoded()) == inc)
        let bare = InclusionProofFile(entryLine: nil, index: 0, path: [], note: note.encoded())
        #expect(try InclusionProofFile(bytes: bare.encoded()) == bare)
        let cons = ConsistencyProofFile(oldSize: 9, proof: hashes, oldNote: cosigned.encoded(), newNote: cosigned.encoded())
        #expect(try ConsistencyProofFile(bytes: cons.encoded()) == cons)
        let encoded = String(decoding: inc.encoded(), as: UTF8.self)
        for bad in [
            encoded.replacingOccurrences(of: "c2sp.org/tlog-proof@v1", with: "c2sp.org/tlog-proof@v2"),
            encoded.replacingOccurrences(of: "index 3", with: "index 03"),
            encoded.replacingOccurrences(of: "index 3", with: "index -3"),
            encoded.replacingOccurrences(of: hashes[1].base64, with: "AAAA"),
            String(encoded.prefix(80)),
            "c2sp.org/tlog-proof@v1\nindex 1\n" + String(repeating: hashes[0].base64 + "\n", count: 65) + "\n"
                + String(decoding: note.encoded(), as: UTF8.self),
        ] {
            #expect(throws: LedgerError.self, "accepted: \(bad.prefix(60))") { try InclusionProofFile(bytes: Array(bad.utf8)) }
        }
        let consText = String(decoding: cons.encoded(), as: UTF8.self)
        #expect(throws: LedgerError.self) { try ConsistencyProofFile(bytes: Array(consText.replacingOccurrences(of: "old 9", with: "old x").utf8)) }
        #expect(throws: LedgerError.self) { try ConsistencyProofFile(bytes: Array(consText.prefix(consText.utf8.count / 2).utf8)) }
    }

    @Test("manifests: the tool's form parses; duplicates, unsafe paths, tabs, uppercase hex and a missing final newline are refused")
    func manifests() throws {
        let d = SHA256.hash([1, 2, 3])
        let m = Bag.manifest([("data/b", d), ("data/a", d)])
        #expect(String(decoding: m, as: UTF8.self) == "\(d.hex)  data/a\n\(d.hex)  data/b\n")
        #expect(try Bag.parseManifest(m, file: "m") == ["data/a": d, "data/b": d])
        #expect(try Bag.parseManifest(Array("\(d.hex) data/a\n".utf8), file: "m") == ["data/a": d])
        for bad in [
            "\(d.hex)  data/a\n\(d.hex)  data/a\n", "\(d.hex)  ../data/a\n", "\(d.hex)  data/./a\n", "\(d.hex)  /data/a\n", "\(d.hex)  data/a%0A\n",
            "\(d.hex)\tdata/a\n", "\(d.hex.uppercased())  data/a\n", "\(d.hex)  data/a", "\(d.hex)  data\\a\n", "\(d.hex)  data/a\r\n",
        ] {
            #expect(throws: LedgerError.self, "accepted \(bad.debugDescription)") { try Bag.parseManifest(Array(bad.utf8), file: "m") }
        }
        #expect(Bag.parseExportTime("2026-01-02T03:04:05Z") != nil)
        #expect(Bag.parseExportTime("2026-01-02T03:04:05.5Z") == nil)
        #expect(Bag.parseExportTime("2026-02-30T03:04:05Z") == nil)
        #expect(Bag.exportTimeText(Timestamp(microseconds: 1_767_225_600_999_999)) == "2026-01-01T00:00:00Z")
    }
}
