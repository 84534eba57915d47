import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// What one input did to a decoder. A crash or a hang never gets here: the harness catches those.
enum Outcome {
    case accepted
    case rejected
    /// The decoder returned, but a property that must hold did not (e.g. a round trip).
    case violation(String)
}

/// One decoder under test: the valid inputs it starts from and how one input is fed to it.
struct FuzzTarget {
    let name: String
    let about: String
    /// Inputs run, per 10 of `--inputs` (10 = as many as asked; the slow targets run fewer).
    var share = 10
    /// Longest input the mutator builds: past the 1 MiB most decoders accept, so size limits and
    /// superlinear work on the largest accepted inputs are reached.
    var maxLength = (1 << 20) + 4096
    let seeds: [[UInt8]]
    /// Inputs that once crashed or hung this decoder: run first, held to the same time budget,
    /// never mutated (the same inputs are in Tests/*/FuzzRegressionTests.swift).
    var regressions: [[UInt8]] = []
    let run: ([UInt8]) -> Outcome
}

func str(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Marks the end of the decoding proper: what a target does after it (round trips, invariants)
/// is left out of the time an input is held to. Unmarked targets are timed whole.
@inline(__always)
func decoded() { decodeEnd = nowNs() }

/// Runs `body`, mapping any thrown error to `.rejected`.
@inline(__always)
func decode(_ body: () throws -> Outcome) -> Outcome {
    do { return try body() } catch { return .rejected }
}

/// A reusable scratch file for the JSON Lines reader (one per process).
final class ScratchFile {
    /// In memory (/dev/shm) where there is one: a disk file makes this target wait on I/O.
    let path = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()) + "ledger-fuzz-\(getpid()).jsonl"

    func write(_ b: [UInt8]) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var done = 0
        while done < b.count {
            let n = b.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, b.count - done) }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }
}

func makeTargets(_ c: Corpus) -> [FuzzTarget] {
    var targets: [FuzzTarget] = []

    // MARK: JSON

    let jsonSeeds =
        c.payloads.map { $0.payload.encoded() } + Corpus.csvMappings.map(bytes) + [
            bytes(#"{"a":[1,-0.5e+10,true,false,null,"\u00e9\n"],"b":{"c":{}},"d":[]}"#), bytes("[]"), bytes("\"x\""), bytes("0"),
            bytes(#"{"name":"Fuzz admin","publicKey":"\#(Base64.encode(c.admin.publicKey.bytes))","roles":["admin","log"]}"#),
        ]
    targets.append(
        FuzzTarget(name: "json", about: "JSONParser.parse / parseObject, KeyDescriptor(json:)", seeds: jsonSeeds) { b in
            decode {
                // The same document read without the table of known member names: the same value, or the same refusal.
                var plainLimits = JSONParser.Limits.standard
                plainLimits.knownKeys = false
                let plain = try? JSONParser.parse(b, limits: plainLimits)
                let v: JSONValue
                do { v = try JSONParser.parse(b) } catch {
                    return plain == nil ? .rejected : .violation("refused with the table of known member names, accepted without it")
                }
                decoded()
                guard let plain, JSONWriter.encode(plain) == JSONWriter.encode(v) else {
                    return .violation("the table of known member names changes the parsed value")
                }
                // The relaxed parse (no NFC rule) accepts a superset.
                guard (try? JSONParser.parse(b, limits: JSONParser.Limits(maxBytes: 1 << 20, maxDepth: 64, requireNFC: false))) != nil else {
                    return .violation("accepted with the NFC rule but refused without it")
                }
                let e1 = JSONWriter.encode(v)
                guard let v2 = try? JSONParser.parse(e1) else { return .violation("re-encoded JSON does not parse: \(str(e1).prefix(200))") }
                guard JSONWriter.encode(v2) == e1 else { return .violation("JSON encoding is not stable") }
                if case .object(let o) = v {
                    _ = try? KeyDescriptor(json: o, field: "fuzz")
                    _ = try? JSONParser.parseObject(b, limits: JSONParser.Limits(maxBytes: 4096, maxDepth: 8))
                }
                return .accepted
            }
        })

    // MARK: Payloads, envelopes, entry lines

    targets.append(
        FuzzTarget(
            name: "payload", about: "EventPayload(bytes:requireNFC:), its laid-out path against the general one", maxLength: (1 << 20) + 64,
            seeds: c.payloads.map { $0.payload.encoded() } + c.bundlePayloads
        ) { b in
            decode {
                // The path for payloads laid out as the tool writes them must take only what the
                // general path accepts, with the same value.
                for nfc in [true, false] {
                    let limits = EventPayload.limits(requireNFC: nfc)
                    guard let fast = b.withUnsafeBytes({ EventPayload.laidOut($0, limits: limits) }) else { continue }
                    // `==` compares strings up to canonical equivalence; the encoding compares bytes.
                    let general = b.withUnsafeBytes { try? EventPayload.general($0, limits: limits) }
                    if general.map({ $0 == fast && $0.encoded() == fast.encoded() }) != true {
                        return .violation("laid-out path took a payload the general path refuses or reads otherwise (NFC rule \(nfc ? "on" : "off"))")
                    }
                }
                // So must the path a fold reads stored payloads by (no NFC rule), its body in canonical form.
                if let parts = b.withUnsafeBytes({ EventPayload.foldParts($0) }) {
                    let general = b.withUnsafeBytes { try? EventPayload.general($0, limits: EventPayload.limits(requireNFC: false)) }
                    guard let general, general.eventType == parts.type, general.subject.sameBytes(parts.subject),
                        CanonicalObject(general.body).encoded == parts.body.encoded
                    else { return .violation("foldParts took a payload the general path refuses or reads otherwise") }
                    // The body decodes from its canonical bytes as from its tree: the same event, or the same refusal.
                    func outcome(_ checks: Archive.Prechecked) -> String {
                        var state = ArchiveState()
                        do {
                            _ = try state.applyOwning(checks, subject: parts.subject, body: parts.body, index: 1)
                            return "applied"
                        } catch { return error.message }
                    }
                    let fromTree = outcome(Archive.Prechecked(type: parts.type, subject: parts.subject, body: general.body, latestDay: nil))
                    guard fromTree == outcome(Archive.Prechecked(type: parts.type, subject: parts.subject, body: parts.body, latestDay: nil)) else {
                        return .violation("a body decodes otherwise from its canonical bytes than from its tree")
                    }
                }
                guard let p = try? EventPayload(bytes: b) else {
                    _ = try? EventPayload(bytes: b, requireNFC: false)
                    return .rejected
                }
                decoded()
                guard (try? EventPayload(bytes: b, requireNFC: false)) != nil else { return .violation("accepted with the NFC rule but refused without it") }
                let e1 = p.encoded()
                guard let p2 = try? EventPayload(bytes: e1) else { return .violation("re-encoded payload does not parse: \(str(e1).prefix(200))") }
                guard p2.encoded() == e1 else { return .violation("payload encoding is not stable") }
                guard p2.ledger.sameBytes(p.ledger), p2.id == p.id, p2.type == p.type, p2.subject == p.subject, p2.expects == p.expects else {
                    return .violation("payload members changed in a round trip")
                }
                return .accepted
            }
        })

    let envelopeSeeds = c.envelopes.map { $0.encoded() } + c.bundleLines.compactMap { try? EntryLine(bytes: $0).envelope.encoded() }
    let signers = [c.admin, c.archivist, c.reviewer]
    targets.append(
        FuzzTarget(name: "envelope", about: "Envelope(json:), its payload, signature check", maxLength: (1 << 21), seeds: envelopeSeeds) { b in
            decode {
                let e = try Envelope(json: b)
                decoded()
                let e1 = e.encoded()
                guard let e2 = try? Envelope(json: e1) else { return .violation("re-encoded envelope does not parse") }
                guard e2 == e, e2.encoded() == e1 else { return .violation("envelope changed in a round trip") }
                _ = try? EventPayload(bytes: e.payload, requireNFC: false)
                if b.count & 15 == 0 { _ = signers.contains { e.hasValidSignature(by: $0.publicKey) } }
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(
            name: "entry-line", about: "EntryLine(bytes:) then its payload, as the verifier reads a line", maxLength: (1 << 21), seeds: c.lines + c.bundleLines
        ) { b in
            decode {
                let line = try EntryLine(bytes: b)
                let payload = Result { try EventPayload(bytes: line.envelope.payload, requireNFC: false) }
                decoded()
                guard line.encoded() == b else { return .violation("an accepted entry line is not its own canonical encoding") }
                _ = try payload.get()
                return .accepted
            }
        })

    // The compact forms a ledger file keeps lines and states in (docs/FORMAT.md §15): seeded
    // with the compact forms of the corpus lines (and the lines themselves, kept as they are).
    let storedSeeds = c.lines.map { CompactLine.encode($0) } + c.lines
    targets.append(
        FuzzTarget(
            name: "stored-line", about: "EntryLine(stored:), CompactLine.expand, encode and recordTimeAndPayload, CompactState", maxLength: 1 << 16,
            seeds: storedSeeds
        ) { b in
            let line = CompactLine.expand(b)
            let fast = Result { () throws(LedgerError) in try EntryLine(stored: b) }
            let slow = Result { () throws(LedgerError) in try EntryLine(bytes: line) }
            let verify = b.withUnsafeBytes { CompactLine.lineAndEntry($0) }
            _ = CompactState.expand(b)
            decoded()
            // Reading the parts must agree with parsing the line they give, entry for entry.
            switch (fast, slow) {
            case (.success(let x), .success(let y)): guard x == y else { return .violation("a compact form's entry differs from its line's") }
            case (.failure(let x), .failure(let y)): guard x.message == y.message else { return .violation("the two reads refuse for different reasons") }
            default: return .violation("the compact form is read, its line refused, or the other way round")
            }
            // A fold's read of the record time and payload: only of what reads as an entry, and the same.
            var folded: (Timestamp, [UInt8])?
            _ = b.withUnsafeBytes { CompactLine.recordTimeAndPayload($0) { folded = ($0, Array($1)) } }
            if let folded {
                guard let x = try? fast.get(), x.recordedAt == folded.0, x.envelope.payload == folded.1 else {
                    return .violation("recordTimeAndPayload reads what EntryLine(stored:) refuses or reads otherwise")
                }
            }
            if let verify {
                guard verify.line == line else { return .violation("lineAndEntry gives another line than expand") }
                guard verify.entry == nil || verify.entry == (try? fast.get()) else { return .violation("lineAndEntry gives another entry") }
            }
            // Storing the input and reading it back gives it back, unless it is kept as it is
            // while starting with a form byte (no line or state does: they start with `{`).
            let storedLine = CompactLine.encode(b)
            // Given the parsed line (as an append is), the same value.
            guard CompactLine.encode(b, entry: try? slow.get()) == storedLine else { return .violation("encode differs when given the parsed line") }
            if storedLine != b || !(b.first == CompactLine.plainForm || b.first == CompactLine.packedForm) {
                guard CompactLine.expand(storedLine) == b else { return .violation("a line does not survive its compact form") }
            }
            let storedState = CompactState.encode(b)
            if storedState != b || b.first != CompactState.packedForm {
                guard CompactState.expand(storedState) == b else { return .violation("a state does not survive its packed form") }
            }
            guard (try? slow.get()) != nil else { return .rejected }
            return .accepted
        })

    // MARK: Checkpoints, notes, keys

    let logKey = c.logVerifierKey, witness = c.witnessVerifierKey, origin = c.origin
    let noteSeeds = c.notes + c.bundleNotes + [c.note(size: 2, cosigned: false)]
    targets.append(
        FuzzTarget(name: "note", about: "SignedNote(bytes:), Checkpoint(text:), signature and cosignature checks", seeds: noteSeeds) { b in
            decode {
                let n = try SignedNote(bytes: b)
                let cp = try? Checkpoint(text: n.text)
                _ = n.isSigned(name: origin, publicKey: logKey.publicKey)
                _ = Cosignature.cosigners(of: n, among: [witness, logKey])
                decoded()
                guard n.encoded() == b else { return .violation("an accepted note does not re-encode to its bytes") }
                guard let again = try? SignedNote(bytes: n.encoded()), again == n else { return .violation("a note's encoding does not parse back to it") }
                if let cp {
                    guard cp.text == n.text else { return .violation("checkpoint text does not re-encode to itself") }
                }
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(name: "checkpoint", about: "Checkpoint(text:)", seeds: c.notes.compactMap { try? SignedNote(bytes: $0).text }) { b in
            decode {
                let cp = try Checkpoint(text: b)
                decoded()
                guard cp.text == b else { return .violation("checkpoint text does not re-encode to itself") }
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(name: "vkey", about: "VerifierKey(parsing:)", maxLength: 1 << 16, seeds: c.verifierKeys) { b in
            decode {
                let s = str(b)
                let k = try VerifierKey(parsing: s)
                decoded()
                guard k.encoded.sameBytes(s) else { return .violation("verifier key does not re-encode to its text") }
                return .accepted
            }
        })

    // MARK: Proof files

    targets.append(
        FuzzTarget(name: "inclusion-proof", about: "InclusionProofFile(bytes:), its note, entry line and path", seeds: c.inclusionProofs) { b in
            decode {
                let f = try InclusionProofFile(bytes: b)
                decoded()
                guard f.encoded() == b else { return .violation("inclusion proof file does not re-encode to its bytes") }
                let leaf = f.entryLine.map { l in l.withUnsafeBytes { MerkleHash.leaf($0) } } ?? Digest32.zero
                if let line = f.entryLine { _ = try? EntryLine(bytes: line) }
                if let n = try? SignedNote(bytes: f.note), let cp = try? Checkpoint(text: n.text) {
                    _ = MerkleTree.verifyInclusion(leaf: leaf, index: f.index, size: cp.size, proof: f.path, root: cp.root)
                }
                // Sizes straight from the file, to reach the path-shape arithmetic at its extremes.
                _ = MerkleTree.verifyInclusion(leaf: leaf, index: f.index, size: f.index &+ UInt64(f.path.count), proof: f.path, root: leaf)
                _ = MerkleTree.verifyInclusion(leaf: leaf, index: f.index, size: .max, proof: f.path, root: leaf)
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(name: "consistency-proof", about: "ConsistencyProofFile(bytes:), its two notes and the proof", seeds: c.consistencyProofs) { b in
            decode {
                let f = try ConsistencyProofFile(bytes: b)
                decoded()
                guard f.encoded() == b else { return .violation("consistency proof file does not re-encode to its bytes") }
                let old = (try? SignedNote(bytes: f.oldNote)).flatMap { try? Checkpoint(text: $0.text) }
                let new = (try? SignedNote(bytes: f.newNote)).flatMap { try? Checkpoint(text: $0.text) }
                if let new {
                    _ = MerkleTree.verifyConsistency(from: f.oldSize, to: new.size, fromRoot: old?.root ?? .zero, toRoot: new.root, proof: f.proof)
                }
                _ = MerkleTree.verifyConsistency(from: f.oldSize, to: f.oldSize &+ UInt64(f.proof.count) &* 7, fromRoot: .zero, toRoot: .zero, proof: f.proof)
                _ = MerkleTree.verifyConsistency(from: f.oldSize, to: .max, fromRoot: .zero, toRoot: .zero, proof: f.proof)
                return .accepted
            }
        })

    // MARK: Bag files

    targets.append(
        FuzzTarget(name: "manifest", about: "Bag.parseManifest", seeds: c.manifests + c.bundleManifests) { b in
            decode {
                let m = try Bag.parseManifest(b, file: "manifest-sha256.txt")
                decoded()
                let again = Bag.manifest(m.map { (path: $0.key, digest: $0.value) })
                guard let m2 = try? Bag.parseManifest(again, file: "again"), m2 == m else { return .violation("manifest does not survive re-rendering") }
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(name: "bag-info", about: "Bag.parseInfo and the labels' values", seeds: c.bagInfos + c.bundleInfos) { b in
            decode {
                let info = try Bag.parseInfo(b)
                decoded()
                var again: [UInt8] = []
                for (label, values) in info.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    for v in values { again += bytes("\(label): \(v)\n") }
                }
                guard let info2 = try? Bag.parseInfo(again), info2 == info else { return .violation("bag-info does not survive re-rendering") }
                for t in info["IncidentLedger-Export-Time"] ?? [] {
                    if let time = Bag.parseExportTime(t), Bag.exportTimeText(time) != t { return .violation("export time \(t) re-encodes differently") }
                }
                for s in info["IncidentLedger-Tree-Size"] ?? [] { _ = Bag.checkpointSize(fileName: s) }
                for r in info["IncidentLedger-Root"] ?? [] { _ = Digest32(hex: r) }
                return .accepted
            }
        })

    let scratch = ScratchFile()
    let jsonlSeeds = [Array(c.lines.joined(separator: [0x0A])) + [0x0A], Array(c.lines.prefix(3).joined(separator: [0x0A])), [], [0x0A, 0x0A]]
    targets.append(
        FuzzTarget(name: "jsonl-reader", about: "JSONLinesReader over a file (small chunks and line limits)", share: 2, seeds: jsonlSeeds) { b in
            decode {
                guard scratch.write(b) else { return .rejected }
                defer { unlink(scratch.path) }  // the process exits without running deinitialisers
                // Chunk size and line limit from the input itself, so a replay is exact.
                let h = Int(truncatingIfNeeded: fnv1a(str(Array(b.prefix(16)))))
                var reader = JSONLinesReader(path: scratch.path)
                reader.chunkSize = 1 + (h & 0xFFF) % 700
                reader.batchSize = 1 + (h >> 12 & 0xFF) % 5
                reader.maxLine = (h >> 20 & 1) == 0 ? 8 << 20 : 1 + (h >> 21 & 0xFFF) % 2000
                var lines: [[UInt8]] = []
                let r = try reader.read { lines += $0 }
                decoded()
                guard r.bytes == UInt64(b.count) || r.tooLong != nil else { return .violation("reader read \(r.bytes) of \(b.count) bytes") }
                guard r.lines == UInt64(lines.count) else { return .violation("reader counted \(r.lines) lines but delivered \(lines.count)") }
                if r.tooLong == nil {
                    var joined: [UInt8] = []
                    for l in lines { joined += l; joined.append(0x0A) }
                    joined += r.trailing
                    guard joined == b else { return .violation("lines and trailing bytes do not rebuild the file") }
                    guard r.digest == SHA256.hash(b) else { return .violation("digest differs from SHA-256 of the file") }
                } else {
                    // The limit is checked once per chunk, so a delivered line may exceed it by less than a chunk.
                    guard lines.allSatisfy({ $0.count <= reader.maxLine + reader.chunkSize }) else {
                        return .violation("a delivered line is longer than maxLine plus a chunk")
                    }
                }
                return .accepted
            }
        })

    // MARK: Archive

    targets.append(
        FuzzTarget(name: "edtf", about: "EDTF(_:) and EDTF.problem", seeds: Corpus.edtf.map(bytes)) { b in
            let s = str(b)
            let e = EDTF(s)
            let problem = EDTF.problem(s)
            decoded()
            guard (e == nil) == (problem != nil) else { return .violation("EDTF(_:) and EDTF.problem disagree on \(s.debugDescription)") }
            guard let e else { return .rejected }
            if let lo = e.earliest, let hi = e.latest, lo > hi { return .violation("earliest after latest for \(s.debugDescription)") }
            guard e.text == s, e.earliest != nil || e.latest != nil else { return .violation("EDTF lost its text or both bounds") }
            return .accepted
        })

    targets.append(
        FuzzTarget(name: "language-tag", about: "LanguageTag.problem", seeds: Corpus.languageTags.map(bytes), regressions: [Corpus.languageTagHang]) { b in
            let s = str(b)
            let p = LanguageTag.problem(s)
            decoded()
            let lower = String(decoding: b.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
            guard (LanguageTag.problem(lower) == nil) == (p == nil) else { return .violation("verdict depends on ASCII case for \(s.debugDescription)") }
            return p == nil ? .accepted : .rejected
        })

    targets.append(
        FuzzTarget(name: "csv", about: "CSVReader.records", seeds: Corpus.csvSheets.map(bytes)) { b in
            decode {
                let records = try CSVReader.records(b, name: "f.csv")
                decoded()
                var again: [UInt8] = []
                for r in records {
                    again += bytes(r.fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",") + "\n")
                }
                guard let back = try? CSVReader.records(again, name: "again.csv"), back.map(\.fields) == records.map(\.fields) else {
                    return .violation("records do not survive re-quoting")
                }
                return .accepted
            }
        })

    targets.append(
        FuzzTarget(name: "csv-mapping", about: "CSVMapping.parse", seeds: Corpus.csvMappings.map(bytes), regressions: Corpus.mappingHangs) { b in
            decode {
                _ = try CSVMapping.parse(b, name: "m.json")
                return .accepted
            }
        })

    // The import behind the decoders: a mutated mapping over a fixed sheet, or a mutated sheet
    // through the fixed mappings (an input starting with `{` is a mapping).
    let mappings = c.parsedMappings
    let sheet = (try? CSVReader.records(bytes(Corpus.csvSheets[2]), name: "s.csv")) ?? []
    targets.append(
        FuzzTarget(
            name: "csv-import", about: "CSVImport.reports: a mapping over a fixed sheet, or a sheet through fixed mappings",
            seeds: Corpus.csvMappings.map(bytes) + Corpus.csvSheets.map(bytes)
        ) { b in
            decode {
                // The decoders are held to the time budget; the import after them only to the hang limit.
                if b.first == UInt8(ascii: "{") {
                    let m = try CSVMapping.parse(b, name: "m.json")
                    decoded()
                    _ = try CSVImport.reports(sheet, mapping: m, name: "s.csv")
                } else {
                    let records = try CSVReader.records(b, name: "f.csv")
                    decoded()
                    _ = try CSVImport.reports(records, mapping: mappings[b.count % mappings.count], name: "f.csv")
                }
                return .accepted
            }
        })

    let base = c.baseArchive
    targets.append(
        FuzzTarget(
            name: "archive-body", about: "EventPayload then Archive.checkBody and ArchiveState.apply", maxLength: (1 << 20) + 64,
            seeds: c.archivePayloads + c.bundlePayloads
        ) { b in
            decode {
                let p = try EventPayload(bytes: b)
                try Archive.checkBody(type: p.type, subject: p.subject, body: p.body)
                var state = base
                if let change = try? state.apply(p, index: 100) {
                    for (_, s) in change.changed where s.string("entity") == "incident" { _ = IncidentIndexRow(s) }
                }
                return .accepted
            }
        })

    // MARK: Small scalar decoders

    let scalarSeeds: [String] = [
        "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123Z", "2024-02-29T23:59:59.999999999Z", c.eventID(7),
        Base64.encode(c.admin.publicKey.bytes), c.tree.root.hex, "archivist,reviewer", " admin , log ", "2024-12-12T09:14:00Z", "209",
        "incident.reported", "incident:m10-1", "fuzz.example/ledger", "",
    ]
    targets.append(
        FuzzTarget(
            name: "scalars", about: "Timestamp, UUIDv7, Base64, Hex, Digest32, Role lists, export times, ids", maxLength: 4096, seeds: scalarSeeds.map(bytes)
        ) { b in
            let s = str(b)
            var any = false
            if let t = Timestamp.parseRecordTime(s) {
                any = true
                guard t.recordTimeText == s else { return .violation("record time \(s) re-encodes as \(t.recordTimeText)") }
            }
            let parsed = b.withUnsafeBytes { Timestamp.parseRFC3339($0) }
            if parsed != nil { any = true }
            guard parsed == Timestamp.referenceParseRFC3339(b) else { return .violation("RFC 3339 time \(s) parses otherwise than by the reference") }
            if let t = Bag.parseExportTime(s) {
                any = true
                guard Bag.exportTimeText(t) == s else { return .violation("export time \(s) re-encodes differently") }
            }
            if let u = UUIDv7.parse(s) {
                any = true
                guard UUIDv7.format(u) == s else { return .violation("UUIDv7 \(s) re-encodes differently") }
            }
            if let d = Base64.decode(s) {
                any = true
                guard Base64.encode(d) == s else { return .violation("base64 \(s) re-encodes differently") }
            }
            b.withUnsafeBytes { raw in _ = Base64.decode(raw) }
            if let h = Hex.decode(s) {
                any = true
                guard Hex.encode(h) == s else { return .violation("hex \(s) re-encodes differently") }
            }
            if let d = Digest32(hex: s), d.hex != s { return .violation("digest hex \(s) re-encodes differently") }
            if (try? Role.parseList(s)) != nil { any = true }
            if Bag.checkpointSize(fileName: s) != nil { any = true }
            if EventPayload.isValidType(s) || EntityID.kind(of: s) != nil || KeyID.isWellFormed(s) { any = true }
            _ = Origin.isValid(s)
            _ = EventPayload.isValidSubject(s)
            return any ? .accepted : .rejected
        })

    // MARK: The streaming verifier

    // A fixed prefix (genesis and three enrolments); the input is either the payload of entry 4,
    // signed with the key its type calls for, or a checkpoint note checked after the prefix.
    let prefix = Array(c.lines.prefix(4))
    let corpus = c
    let logSeeds = c.payloads.dropFirst(4).map { $0.payload.encoded() } + [c.notes[0], c.note(size: 4, cosigned: true)]
    targets.append(
        FuzzTarget(name: "log", about: "LogVerifier: a mutated, re-signed 5th entry, or a checkpoint note", share: 2, maxLength: 1 << 14, seeds: logSeeds) {
            b in
            decode {
                var v = LogVerifier(trustedGenesisKeyID: KeyID.of(corpus.admin.publicKey), parallelism: 1)
                if b.first != UInt8(ascii: "{") {
                    try v.process(prefix)
                    try v.finish()
                    _ = try v.checkCheckpoint(b)
                    return .accepted
                }
                let type =
                    (try? JSONParser.parseObject(b, limits: JSONParser.Limits(maxBytes: 1 << 20, maxDepth: 64, requireNFC: false)))?["type"]?.stringValue ?? ""
                let e = Envelope.sign(payload: b, with: corpus.signer(for: type))
                let line = EntryLine(index: 4, recordedAt: Timestamp(microseconds: corpus.epoch.microseconds + 4), envelope: e).encoded()
                try v.process(prefix + [line])
                try v.finish()
                guard v.size == 5 else { return .violation("verifier accepted 5 lines but reports size \(v.size)") }
                return .accepted
            }
        })

    return targets
}
