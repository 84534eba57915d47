import LedgerCore
import LedgerCrypto
import LedgerStore

/// What an incident page carries so that the reader's browser can check it (issue 13; docs/SERVER.md,
/// "Checked in the reader's browser"): the latest signed checkpoint, the log keys that may sign it,
/// and for each entry of the incident its index, leaf hash and RFC 9162 inclusion path against that
/// checkpoint; the entry line itself (so the browser can hash it and check its DSSE signature with
/// the signer's key, which is given too) unless its payload holds a field the pages never show.
extension Routes {
    struct ProofBlock {
        /// The template's fields.
        var object: [String: Any]
    }

    /// The proof block for entries `entries` of the page's subjects `subjects`; nil when no
    /// checkpoint has been signed yet.
    static func proofBlock(_ entries: [Ledger.ConcerningEntry], subjects: [String], ledger: Ledger, origin: String) throws(LedgerError) -> ProofBlock? {
        guard let checkpoint = try ledger.lastCheckpoint() else { return nil }
        let size = checkpoint.size
        let keys = try ledger.keys()
        let logKeys = keys.filter { k in
            k.roles.contains(.log) && k.enrolledAt < size && (k.revokedAt.map { $0 >= size } ?? true)
        }.map { VerifierKey(name: origin, kind: .log, publicKey: $0.publicKey).encoded }
        let keyByID = Dictionary(keys.map { ($0.keyID, $0.publicKey) }, uniquingKeysWith: { a, _ in a })
        var items: [JSONValue] = []
        var rows: [[String: String]] = []
        var signers: [(key: String, value: JSONValue)] = []
        var withheld = 0
        let lines = try ledger.entryLines(at: entries.map(\.index))
        let proven = entries.map(\.index).filter { $0 < size }
        let paths = Dictionary(uniqueKeysWithValues: zip(proven, try ledger.inclusionProofs(indexes: proven, size: size)))
        for (e, line) in zip(entries, lines) {
            let leaf = MerkleHash.leaf(line)
            var members: [(key: String, value: JSONValue)] = [("index", .number(String(e.index))), ("leafHash", .string(leaf.base64))]
            if let path = paths[e.index] {
                members.append(("path", .array(path.map { .string($0.base64) })))
            } else {
                members.append(("pending", .bool(true)))
            }
            if Self.publishable(e.payload.body) {
                members.append(("line", .string(String(decoding: line, as: UTF8.self))))
                if !signers.contains(where: { $0.key == e.signerKeyID }), let pub = keyByID[e.signerKeyID] {
                    signers.append((e.signerKeyID, .string(Base64.encode(pub.bytes))))
                }
            } else {
                withheld += 1
            }
            items.append(.object(JSONObject(uniqueMembers: members)))
            rows.append([
                "index": String(e.index), "type": e.payload.type, "recordedAt": e.recordedAt, "signer": e.signerName, "leafHash": leaf.base64,
            ])
        }
        signers.sort { $0.key < $1.key }
        let document = JSONObject(uniqueMembers: [
            ("checkpoint", .string(String(decoding: checkpoint.note, as: UTF8.self))), ("entries", .array(items)),
            ("logKeys", .array(logKeys.map { .string($0) })), ("origin", .string(origin)), ("signers", .object(JSONObject(uniqueMembers: signers))),
            ("subjects", .array(subjects.map { .string($0) })),
        ])
        // Inside <script>, "<" is written as \u003c so that no text of the archive can close the
        // element ("<" only ever occurs inside JSON strings, where the escape means the same).
        var json: [UInt8] = []
        for b in JSONWriter.encode(.object(document)) {
            if b == UInt8(ascii: "<") { json += Array("\\u003c".utf8) } else { json.append(b) }
        }
        let text = try Checkpoint(text: SignedNote(bytes: checkpoint.note).text)
        var object: [String: Any] = [
            "checkpointSize": String(size), "root": text.root.base64, "entries": rows, "json": String(decoding: json, as: UTF8.self), "logKeys": logKeys,
            "count": String(entries.count),
        ]
        if withheld > 0 { object["withheld"] = String(withheld) }
        let pending = entries.count - proven.count
        if pending > 0 {
            object["pending"] = String(pending)
            object["proven"] = String(proven.count)
        }
        return ProofBlock(object: object)
    }

    /// Whether an entry's signed payload may be put in a public page: not when its body holds,
    /// at any depth, a facility's `location` or `deconfliction` record, or `coordinates` of a
    /// precision finer than town (the public exports' rule, EVENTS.md §7).
    static func publishable(_ body: JSONObject) -> Bool {
        func clean(_ v: JSONValue) -> Bool {
            switch v {
            case .object(let o):
                for m in o.members {
                    if m.key == "location" || m.key == "deconfliction" { return false }
                    if m.key == "coordinates" {
                        guard let p = m.value.objectValue?["precision"]?.stringValue, ["town", "district", "governorate"].contains(p) else {
                            if case .null = m.value { continue }
                            return false
                        }
                    }
                    if !clean(m.value) { return false }
                }
                return true
            case .array(let a): return a.allSatisfy(clean)
            default: return true
            }
        }
        return clean(.object(body))
    }
}
