import LedgerCrypto

/// An inclusion proof file (C2SP tlog-proof@v1): header, optional `extra` (the entry line),
/// `index`, the RFC 9162 inclusion path, an empty line, then the signed checkpoint note.
public struct InclusionProofFile: Sendable, Equatable {
    public static let header = "c2sp.org/tlog-proof@v1"
    public var entryLine: [UInt8]?
    public var index: UInt64
    public var path: [Digest32]
    public var note: [UInt8]

    public init(entryLine: [UInt8]?, index: UInt64, path: [Digest32], note: [UInt8]) {
        self.entryLine = entryLine
        self.index = index
        self.path = path
        self.note = note
    }

    public func encoded() -> [UInt8] {
        var out = Array("\(InclusionProofFile.header)\n".utf8)
        if let entryLine { out += Array("extra \(Base64.encode(entryLine))\n".utf8) }
        out += Array("index \(index)\n".utf8)
        for h in path { out += Array("\(h.base64)\n".utf8) }
        out.append(0x0A)
        return out + note
    }

    public init(bytes: [UInt8]) throws(LedgerError) {
        var lines = ProofLines(bytes)
        guard lines.next() == InclusionProofFile.header else { throw ProofLines.bad("the first line must be \(InclusionProofFile.header)") }
        var line = lines.next()
        if let l = line, l.hasPrefix("extra ") {
            guard let extra = Base64.decode(String(l.dropFirst(6))) else { throw ProofLines.bad("the extra line is not valid base64") }
            entryLine = extra
            line = lines.next()
        } else {
            entryLine = nil
        }
        guard let l = line, l.hasPrefix("index "), let n = ProofLines.decimal(l.dropFirst(6)) else {
            throw ProofLines.bad("expected \"index N\" (decimal, no leading zeros)")
        }
        index = n
        path = try lines.hashes()
        note = lines.rest()
    }
}

/// A consistency proof file (this project's format, FORMAT.md §13).
public struct ConsistencyProofFile: Sendable, Equatable {
    public static let header = "incidentledger/consistency-proof@v1"
    public var oldSize: UInt64
    public var proof: [Digest32]
    public var oldNote: [UInt8]
    public var newNote: [UInt8]

    public init(oldSize: UInt64, proof: [Digest32], oldNote: [UInt8], newNote: [UInt8]) {
        self.oldSize = oldSize
        self.proof = proof
        self.oldNote = oldNote
        self.newNote = newNote
    }

    public func encoded() -> [UInt8] {
        var out = Array("\(ConsistencyProofFile.header)\nold \(oldSize)\n".utf8)
        for h in proof { out += Array("\(h.base64)\n".utf8) }
        out.append(0x0A)
        out += oldNote
        out.append(0x0A)
        return out + newNote
    }

    public init(bytes: [UInt8]) throws(LedgerError) {
        var lines = ProofLines(bytes)
        guard lines.next() == ConsistencyProofFile.header else { throw ProofLines.bad("the first line must be \(ConsistencyProofFile.header)") }
        guard let l = lines.next(), l.hasPrefix("old "), let n = ProofLines.decimal(l.dropFirst(4)) else {
            throw ProofLines.bad("expected \"old S1\" (decimal, no leading zeros)")
        }
        oldSize = n
        proof = try lines.hashes()
        // The first note: its text lines (three, and the view line in format 2), an empty line,
        // signature lines up to the next empty line.
        let rest = lines.rest()
        var lineStarts = [0]
        for (i, b) in rest.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
        guard lineStarts.count > 5 else { throw ProofLines.bad("the two checkpoint notes are missing or incomplete") }
        // The empty line after the text: the first line (from the fourth) that is empty.
        var k = 3
        while k < lineStarts.count, lineStarts[k] < rest.count, rest[lineStarts[k]] != 0x0A { k += 1 }
        k += 1  // the first signature line
        guard k < lineStarts.count else { throw ProofLines.bad("the two checkpoint notes are missing or incomplete") }
        while k + 1 < lineStarts.count, lineStarts[k] < rest.count, rest[lineStarts[k]] != 0x0A { k += 1 }
        let end = lineStarts[k]
        guard end < rest.count, rest[end] == 0x0A else {
            throw ProofLines.bad("the first checkpoint note must be followed by an empty line and the second note")
        }
        oldNote = Array(rest[0..<end])
        newNote = Array(rest[(end + 1)...])
    }
}

/// Line reader for proof files.
struct ProofLines {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func bad(_ what: String) -> LedgerError { LedgerError(.malformed, "proof file: \(what)") }

    static func decimal(_ s: Substring) -> UInt64? {
        guard let n = UInt64(s), String(n) == s else { return nil }
        return n
    }

    /// The next line without its newline; nil at the end or when the line is not terminated.
    mutating func next() -> String? {
        guard offset < bytes.count, let nl = bytes[offset...].firstIndex(of: 0x0A) else { return nil }
        defer { offset = nl + 1 }
        return String(decoding: bytes[offset..<nl], as: UTF8.self)
    }

    /// Base64 hash lines up to and including the empty line that ends them.
    mutating func hashes() throws(LedgerError) -> [Digest32] {
        var out: [Digest32] = []
        while true {
            guard let l = next() else { throw ProofLines.bad("the proof hashes must end with an empty line before the checkpoint") }
            if l.isEmpty { return out }
            guard out.count < 64, let raw = Base64.decode(l), let h = Digest32(bytes: raw) else {
                throw ProofLines.bad("proof line \(out.count + 1) is not the base64 of a 32-byte hash")
            }
            out.append(h)
        }
    }

    func rest() -> [UInt8] { Array(bytes[offset...]) }
}
