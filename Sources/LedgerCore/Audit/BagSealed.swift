import LedgerCrypto

/// A keeper's bundle (FORMAT.md §11): beside the log, the sealed values wrapped for one reader,
/// one canonical JSON line each in `data/sealed.jsonl`.
extension Bag {
    public static let sealedPath = "data/sealed.jsonl"

    /// One sealed value for one reader: where its marker is in the log, its ciphertext and its
    /// data key wrapped for the reader.
    public struct SealedLine: Sendable, Equatable {
        public var index: UInt64
        public var commitment: String
        public var subject: String
        public var field: String
        public var reader: String
        public var ciphertext: [UInt8]
        public var wrapped: [UInt8]

        public init(index: UInt64, commitment: String, subject: String, field: String, reader: String, ciphertext: [UInt8], wrapped: [UInt8]) {
            self.index = index
            self.commitment = commitment
            self.subject = subject
            self.field = field
            self.reader = reader
            self.ciphertext = ciphertext
            self.wrapped = wrapped
        }

        /// The canonical line (members in this order, no white space), without its newline.
        public func encoded() -> [UInt8] {
            let members: [(key: String, value: JSONValue)] = [
                ("index", .number(String(index))), ("commitment", .string(commitment)), ("subject", .string(subject)), ("field", .string(field)),
                ("reader", .string(reader)), ("ciphertext", .string(Base64.encode(ciphertext))), ("wrapped", .string(Base64.encode(wrapped))),
            ]
            return JSONWriter.encode(.object(JSONObject(uniqueMembers: members)))
        }

        /// Reads a line; it must be exactly the canonical encoding of what it says.
        public init(line: [UInt8], number: Int) throws(LedgerError) {
            func bad(_ why: String) -> LedgerError { LedgerError(.verificationFailed, "\(Bag.sealedPath) line \(number): \(why)") }
            let o: JSONObject
            do { o = try JSONParser.parseObject(line, limits: .init(maxBytes: 1 << 24, maxDepth: 2, requireNFC: false)) } catch {
                throw bad("not a JSON object (\(error))")
            }
            guard let i = o["index"]?.unsignedIntegerValue, let c = o["commitment"]?.stringValue, let s = o["subject"]?.stringValue,
                let f = o["field"]?.stringValue, let r = o["reader"]?.stringValue, let ct = o["ciphertext"]?.stringValue.flatMap(Base64.decode),
                let w = o["wrapped"]?.stringValue.flatMap(Base64.decode)
            else { throw bad("must hold index, commitment, subject, field, reader, ciphertext and wrapped") }
            guard c.utf8.count == 64, c.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw bad("commitment must be 64 lowercase hex digits")
            }
            guard f.hasPrefix("body."), r.hasPrefix("reader:") else { throw bad("field must start with body. and reader with reader:") }
            // A sealed box of a 32-byte key, and a nonce, a tag and at least one byte of opening.
            guard w.count == ValueSealing.wrappedLength else { throw bad("wrapped must be \(ValueSealing.wrappedLength) bytes (a sealed box of a data key)") }
            guard ct.count > ValueSealing.nonceLength + 16 else { throw bad("ciphertext is too short to hold a nonce, an opening and a tag") }
            self.init(index: i, commitment: c, subject: s, field: f, reader: r, ciphertext: ct, wrapped: w)
            guard encoded() == line else {
                throw bad("not in canonical form (members index, commitment, subject, field, reader, ciphertext, wrapped; no white space)")
            }
        }

        /// Checks that the entry line at `index` is about `subject` and holds this value's marker
        /// (`{"sealed": COMMITMENT}`) at `field` of its payload.
        public func check(entryLine: [UInt8]) throws(LedgerError) {
            let where_ = "sealed value \(commitment)"
            let payload = try EventPayload(bytes: try EntryLine(bytes: entryLine).envelope.payload, requireNFC: false)
            guard payload.subject == subject else {
                throw LedgerError(.verificationFailed, "\(where_) says entry \(index) is about \(subject), but it is about \(payload.subject)")
            }
            var v: JSONValue = .object(payload.body)
            for key in field.split(separator: ".").dropFirst() {
                guard let next = v.objectValue?[String(key)] else {
                    throw LedgerError(.verificationFailed, "\(where_): entry \(index) has no \(field)")
                }
                v = next
            }
            guard let o = v.objectValue, o.count == 1, o["sealed"]?.stringValue == commitment else {
                throw LedgerError(.verificationFailed, "\(where_): entry \(index) does not hold this commitment at \(field)")
            }
        }
    }

    /// Reads `data/sealed.jsonl`: canonical lines, in increasing (index, commitment), each
    /// commitment once, all for one reader.
    public static func parseSealed(_ bytes: [UInt8]) throws(LedgerError) -> [SealedLine] {
        guard bytes.last == 0x0A else { throw LedgerError(.verificationFailed, "\(sealedPath): empty, or the last line is not ended by a newline") }
        var out: [SealedLine] = []
        for (n, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().enumerated() {
            let s = try SealedLine(line: Array(line), number: n + 1)
            if let last = out.last {
                let increasing = last.index < s.index || (last.index == s.index && last.commitment.utf8.lexicographicallyPrecedes(s.commitment.utf8))
                guard increasing else {
                    throw LedgerError(.verificationFailed, "\(sealedPath) line \(n + 1): lines must be in increasing order of index, then commitment")
                }
                guard s.reader == last.reader else {
                    throw LedgerError(.verificationFailed, "\(sealedPath) line \(n + 1): a keeper's bundle is for one reader (\(last.reader)), not \(s.reader)")
                }
            }
            out.append(s)
        }
        return out
    }
}
