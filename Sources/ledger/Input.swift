import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// Size limits of inputs read whole.
enum Limits {
    /// A signed note (FORMAT.md §7).
    static let note = 1 << 20
    /// A proof file: two notes and up to 64 hashes, or one note and an entry line (a payload of
    /// up to 1 MiB in base64, twice).
    static let proof = 8 << 20
    /// How a too-large note or proof is named in the error.
    static let noteName = "a signed note (at most 1 MiB, docs/FORMAT.md §7)"
    static let proofName = "a proof file (at most 8 MiB, docs/FORMAT.md §13)"
}

/// Reading events and envelopes from files or standard input; errors name file and line.
enum Input {
    /// The bytes of `path` (a file, pipe or FIFO), or of standard input for `-` or nil; refuses
    /// inputs larger than `limit` bytes without reading past it.
    /// `what` names the kind of input in the too-large message (nil: events, which can be split).
    static func read(_ path: String?, limit: Int, what: String? = nil) throws(LedgerError) -> (name: String, bytes: [UInt8]) {
        let name = path == nil || path == "-" ? "<stdin>" : path!
        let handle: FileHandle
        if name == "<stdin>" {
            handle = FileHandle.standardInput
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) else {
                throw LedgerError(.io, "cannot read \(name): no such file")
            }
            guard !isDirectory.boolValue else { throw LedgerError(.io, "cannot read \(name): it is a directory") }
            guard let h = FileHandle(forReadingAtPath: name) else { throw LedgerError(.io, "cannot read \(name): permission denied") }
            handle = h
        }
        defer { if name != "<stdin>" { try? handle.close() } }
        var bytes: [UInt8] = []
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { throw LedgerError(.io, "cannot read \(name): \(error.localizedDescription)") }
            guard let chunk, !chunk.isEmpty else { break }
            bytes += chunk
            if bytes.count > limit {
                let hint = what.map { "\($0) is never that large, so this is not one (check the file name)" } ?? "split it into smaller inputs"
                throw LedgerError(.malformed, "\(name) is larger than \(limit) bytes; \(hint)")
            }
        }
        return (name, bytes)
    }

    /// Splits a JSON Lines text into (line number, bytes) pairs, skipping blank lines.
    static func lines(_ bytes: [UInt8]) -> [(line: Int, bytes: ArraySlice<UInt8>)] {
        var out: [(Int, ArraySlice<UInt8>)] = []
        var n = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            n += 1
            var l = raw
            if l.last == 0x0D { l = l.dropLast() }
            if l.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            out.append((n, l))
        }
        return out
    }

    /// The documents in an input: the whole input, or each line with `batch`.
    static func documents(_ path: String?, batch: Bool) throws(LedgerError) -> (name: String, docs: [(line: Int, bytes: [UInt8])]) {
        let (name, bytes) = try read(path, limit: batch ? 1 << 30 : 4 << 20)
        if batch {
            let docs = lines(bytes).map { ($0.line, Array($0.bytes)) }
            guard !docs.isEmpty else { throw LedgerError(.malformed, "\(name): no events (expected one JSON object per line)") }
            return (name, docs)
        }
        return (name, [(1, bytes)])
    }
}

/// An event as an archivist writes it before signing:
/// `{"type", "subject", "expects", "body"}` plus optional `id` and `signedAt`.
extension EventDraft {
    /// Takes the plain values of the event's sealed fields out of its body, leaving commitments
    /// (docs/EVENTS.md §9); returns what was taken out.
    mutating func seal() -> [Sealing.Sealed] {
        guard let t = EventType(name: type) else { return [] }
        let (sealedBody, taken) = Sealing.seal(type: t, body: body)
        body = sealedBody
        return taken
    }
}

extension Ledger {
    /// Signs one event with `key`, expecting its subject's current revision, and appends it
    /// (the key, revocation, reader and erasure commands); `location` names it in messages.
    func appendSigned(type: String, subject: String, body: JSONObject, key: Ed25519.PrivateKey, where location: String) throws(LedgerError)
        -> AppendOutcome
    {
        let draft = EventDraft(type: type, subject: subject, expects: try revision(of: subject), body: body)
        return try append([try draft.sign(origin: origin, key: key, now: SystemClock().now(), where: location)])[0]
    }
}

struct EventDraft {
    var type: String
    var subject: String
    var expects: UInt64
    var body: JSONObject
    var id: String?
    var signedAt: String?

    static let members: Set<String> = ["type", "subject", "expects", "body", "id", "signedAt"]

    init(type: String, subject: String, expects: UInt64, body: JSONObject) {
        self.type = type
        self.subject = subject
        self.expects = expects
        self.body = body
    }

    /// Parses a draft, normalising its strings to NFC; `where` prefixes errors (file and line).
    init(bytes: [UInt8], where location: String) throws(LedgerError) {
        func fail(_ m: String) -> LedgerError { LedgerError(.malformed, "\(location): \(m)") }
        // Strings are brought to Unicode NFC here, so what the author signs is normalised.
        let parsed: JSONObject
        do { parsed = try JSONParser.parseObject(bytes, limits: .init(maxBytes: EventPayload.maxBytes, maxDepth: 64, requireNFC: false)) } catch {
            throw fail("not valid JSON: \(error)")
        }
        guard let object = JSONValue.object(parsed).nfcNormalized()?.objectValue else {
            throw fail("two member names of one object are the same once normalised to Unicode NFC")
        }
        for k in object.keys where !EventDraft.members.contains(k) {
            throw fail("unknown field `\(k.prefix(64))`; an event has type, subject, expects, body and optionally id, signedAt")
        }
        guard let t = object["type"]?.stringValue else { throw fail("field `type` is missing or not a string") }
        guard let s = object["subject"]?.stringValue else { throw fail("field `subject` is missing or not a string") }
        guard let e = object["expects"] else { throw fail("field `expects` is missing (the subject's revision you saw; 0 to create)") }
        guard let ev = e.unsignedIntegerValue else { throw fail("field `expects` must be a non-negative integer") }
        guard case .object(let b)? = object["body"] else { throw fail("field `body` is missing or not an object") }
        type = t
        subject = s
        expects = ev
        body = b
        if let i = object["id"] {
            guard let s = i.stringValue else { throw fail("field `id` must be a string") }
            id = s
        }
        if let sa = object["signedAt"] {
            guard let s = sa.stringValue else { throw fail("field `signedAt` must be a string") }
            signedAt = s
        }
    }

    /// Builds, validates and signs the payload for ledger `origin`.
    func sign(origin: String, key: Ed25519.PrivateKey, now: Timestamp, where location: String) throws(LedgerError) -> Envelope {
        let payload = EventPayload(
            ledger: origin, id: id ?? UUIDv7.make(at: now), type: type, subject: subject, expects: expects,
            signedAt: signedAt ?? now.signedTimeText, body: body)
        let bytes = payload.encoded()
        do throws(LedgerError) {
            _ = try EventPayload(bytes: bytes)  // the same strict checks an auditor will apply
        } catch {
            throw LedgerError(error.code, "\(location): \(error.message)")
        }
        return Envelope.sign(payload: bytes, with: key)
    }
}
