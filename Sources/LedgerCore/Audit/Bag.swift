import LedgerCrypto

/// The BagIt layout of an export (FORMAT.md §11).
public enum Bag {
    public static let bagitTxt: [UInt8] = Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)
    public static let tagFiles = ["bag-info.txt", "bagit.txt", "manifest-sha256.txt"]
    public static let topLevel: Set<String> = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "data"]
    public static let entriesPath = "data/entries.jsonl"
    public static let latestPath = "data/checkpoint"
    public static let checkpointsDirectory = "data/checkpoints"

    /// `data/checkpoints/<size>`.
    public static func checkpointPath(_ size: UInt64) -> String { "\(checkpointsDirectory)/\(size)" }

    /// The size a checkpoint file name stands for: decimal, no leading zeros, at least 1.
    public static func checkpointSize(fileName: String) -> UInt64? {
        guard let n = UInt64(fileName), n > 0, String(n) == fileName else { return nil }
        return n
    }

    /// Manifest text: `<hex>  <path>\n`, sorted by path bytes.
    public static func manifest(_ files: [(path: String, digest: Digest32)]) -> [UInt8] {
        var out: [UInt8] = []
        for f in files.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            out += Array("\(f.digest.hex)  \(f.path)\n".utf8)
        }
        return out
    }

    /// Parses a manifest: each line `<64 lowercase hex> <one or more spaces> <path>\n`; paths must be
    /// plain relative names (no percent-encoding needed or accepted) and appear once.
    public static func parseManifest(_ bytes: [UInt8], file: String) throws(LedgerError) -> [String: Digest32] {
        guard bytes.isEmpty || bytes.last == 0x0A else { throw LedgerError(.verificationFailed, "\(file): the last line is not ended by a newline") }
        var out: [String: Digest32] = [:]
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            func bad(_ why: String) -> LedgerError { LedgerError(.verificationFailed, "\(file) line \(lineNumber): \(why)") }
            guard line.count > 66, let digest = Digest32(hex: String(decoding: line.prefix(64), as: UTF8.self)) else {
                throw bad("expected 64 lowercase hex digits of SHA-256, spaces, then a path")
            }
            var i = line.startIndex + 64
            guard line[i] == 0x20 else { throw bad("expected a space after the digest") }
            while i < line.endIndex, line[i] == 0x20 { i += 1 }
            guard let path = String(validating: line[i...], as: UTF8.self), isPlainPath(path) else {
                throw bad("the path is not a plain relative path (no %, backslash, control character, empty, . or .. segment, or leading /)")
            }
            guard out[path] == nil else { throw bad("\(path) is listed twice") }
            out[path] = digest
        }
        return out
    }

    static func isPlainPath(_ path: String) -> Bool {
        if path.isEmpty || path.hasPrefix("/") { return false }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "%" || $0 == "\\" }) { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// The bag-info labels an export writes (FORMAT.md §11).
    public struct Info: Sendable, Equatable {
        public var origin: String
        public var treeSize: UInt64
        public var root: Digest32
        public var genesisKeyID: String
        public var exportTime: Timestamp
        public var payloadOctets: UInt64
        public var payloadFiles: Int
        /// 2 when a checkpoint carries the view line or the bag is a keeper's (FORMAT.md §11), else 1.
        public var format: Int

        public init(
            origin: String, treeSize: UInt64, root: Digest32, genesisKeyID: String, exportTime: Timestamp, payloadOctets: UInt64, payloadFiles: Int,
            format: Int = 1
        ) {
            self.format = format
            self.origin = origin
            self.treeSize = treeSize
            self.root = root
            self.genesisKeyID = genesisKeyID
            self.exportTime = exportTime
            self.payloadOctets = payloadOctets
            self.payloadFiles = payloadFiles
        }

        public static func agent(format: Int) -> String { "IncidentLedger ledger export (format \(format))" }

        public func encoded() -> [UInt8] {
            let time = Bag.exportTimeText(exportTime)
            return Array(
                """
                Bag-Software-Agent: \(Info.agent(format: format))
                Bagging-Date: \(time.prefix(10))
                Payload-Oxum: \(payloadOctets).\(payloadFiles)
                External-Description: IncidentLedger export of \(origin), entries 0 to \(treeSize - 1)
                IncidentLedger-Format: \(format)
                IncidentLedger-Origin: \(origin)
                IncidentLedger-Tree-Size: \(treeSize)
                IncidentLedger-Root: \(root.hex)
                IncidentLedger-Genesis-Key-ID: \(genesisKeyID)
                IncidentLedger-Export-Time: \(time)

                """.utf8)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public static func exportTimeText(_ t: Timestamp) -> String {
        let whole = Timestamp(microseconds: t.microseconds - ((t.microseconds % 1_000_000) + 1_000_000) % 1_000_000)
        return String(whole.recordTimeText.prefix(19)) + "Z"
    }

    /// Parses an export time (`YYYY-MM-DDTHH:MM:SSZ`, whole seconds).
    public static func parseExportTime(_ text: String) -> Timestamp? {
        guard text.utf8.count == 20, let t = Timestamp.parseRFC3339(text) else { return nil }
        return t
    }

    /// `Label: value` lines of bag-info.txt; values of repeated labels are all kept. Parsed as
    /// bytes (CRLF is not one character here): LF line ends only, no byte-order mark, and each
    /// line is a non-empty label without colons or surrounding white space, `": "`, the value.
    public static func parseInfo(_ bytes: [UInt8]) throws(LedgerError) -> [String: [String]] {
        func bad(_ why: String) -> LedgerError { LedgerError(.verificationFailed, "bag-info.txt: \(why)") }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw bad("not valid UTF-8") }
        guard !bytes.starts(with: [0xEF, 0xBB, 0xBF]) else { throw bad("begins with a byte-order mark") }
        guard bytes.isEmpty || bytes.last == 0x0A else { throw bad("the last line is not ended by a newline") }
        var out: [String: [String]] = [:]
        for (n, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().enumerated() {
            guard !line.contains(0x0D) else { throw bad("line \(n + 1) contains a carriage return (lines end with LF only)") }
            guard line.first != 0x20, line.first != 0x09 else { throw bad("line \(n + 1) is a continuation line") }
            var sep: Int?
            var i = line.startIndex
            while i + 1 < line.endIndex {
                if line[i] == 0x3A, line[i + 1] == 0x20 { sep = i; break }
                i += 1
            }
            guard let sep else { throw bad("line \(n + 1) is not \"Label: value\"") }
            let label = String(decoding: line[line.startIndex..<sep], as: UTF8.self)
            let scalars = label.unicodeScalars
            guard let first = scalars.first, let last = scalars.last, !label.contains(":"), !first.properties.isWhitespace, !last.properties.isWhitespace
            else { throw bad("line \(n + 1) is not \"Label: value\" (a non-empty label without colons or surrounding spaces)") }
            out[label, default: []].append(String(decoding: line[(sep + 2)...], as: UTF8.self))
        }
        return out
    }
}
