import Foundation
import LedgerCrypto

/// Audits an export bundle (FORMAT.md §14) with no database and no trust in its producer: only
/// the pinned genesis key id and, optionally, trusted witnesses and a quorum.
public struct BagAudit {
    /// The stage a failure belongs to, in the order they are checked.
    public enum Step: String, Sendable {
        case layout, entries, sealed, latestCheckpoint = "latest-checkpoint", fixity, bagInfo = "bag-info", cosignatures
        /// The archive's view each checkpoint commits to (checked by `ledger audit`, which folds
        /// the archive, after the steps above).
        case view
    }

    /// The first thing that does not hold.
    public struct Failure: Sendable, Equatable {
        public var step: Step
        public var index: UInt64?
        public var file: String?
        public var reason: String

        public init(step: Step, index: UInt64?, file: String?, reason: String) {
            self.step = step
            self.index = index
            self.file = file
            self.reason = reason
        }

        public var description: String {
            var where_ = ""
            if let file { where_ += "\(file): " }
            if let index { where_ += "entry \(index): " }
            return "\(step.rawValue): \(where_)\(reason)"
        }
    }

    /// One checkpoint of the bundle, after the audit.
    public struct CheckpointSummary: Sendable {
        public var size: UInt64
        public var root: Digest32
        /// Trusted witnesses whose cosignature verified, with their cosigning times.
        public var cosigners: [(name: String, time: UInt64)]
        /// Names on signature lines that are neither the log's nor a trusted witness's.
        public var otherSigners: [String]
        /// The signed note exactly as audited.
        public var note: [UInt8]
    }

    /// What the audit found.
    public struct Report: Sendable {
        public var failure: Failure?
        public var ok: Bool { failure == nil }
        public var origin: String?
        public var treeSize: UInt64 = 0
        public var root: Digest32?
        public var genesisKeyID: String?
        public var keys: [KeyRecord] = []
        public var checkpoints: [CheckpointSummary] = []
        public var exportTime: String?
        public var files: Int = 0
        public var payloadOctets: UInt64 = 0
        public var entriesDigest: Digest32?
        /// A keeper's bundle: the sealed values it carries for its reader (empty otherwise).
        public var sealed: [Bag.SealedLine] = []
    }

    public let directory: String
    public let trust: String
    public let witnesses: [VerifierKey]
    public let quorum: Int
    public var parallelism = LogVerifier.defaultParallelism
    /// Keep each checkpoint's bytes in the report (for `import`); otherwise memory holds one note at a time.
    public var keepNotes = false
    /// Called now and then with (entries verified, entries file bytes read, file size).
    public var progress: ((UInt64, UInt64, UInt64) -> Void)?
    /// When set, receives the entries and checkpoints as they pass the log's checks, so that a
    /// check built on the archive (`ledger audit`'s view fold) runs beside the signature checks,
    /// from the payloads the verifier already parsed.
    public var observer: (any BagAuditObserver)?

    public init(directory: String, trust: String, witnesses: [VerifierKey] = [], quorum: Int = 0) {
        self.directory = directory
        self.trust = trust
        self.witnesses = witnesses
        self.quorum = quorum
    }

    struct Stop: Error { var failure: Failure }
    /// A file that exists but cannot be read: an I/O problem on the auditor's side, not a verdict.
    struct Unreadable: Error { var message: String }

    static func fail(_ step: Step, _ reason: String, file: String? = nil, index: UInt64? = nil) -> Stop {
        Stop(failure: Failure(step: step, index: index, file: file, reason: reason))
    }

    /// Runs every check; the report's `failure` is the first that does not hold. Throws only
    /// when the directory cannot be read at all.
    public func run() throws(LedgerError) -> Report {
        var report = Report()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LedgerError(.io, "\(directory) is not a directory (an export bundle is a BagIt directory)")
        }
        do {
            try audit(into: &report)
        } catch let stop as Stop {
            report.failure = stop.failure
        } catch let e as Unreadable {
            throw LedgerError(.io, e.message)
        } catch {
            report.failure = Failure(step: .layout, index: nil, file: nil, reason: "\(error)")
        }
        return report
    }

    private func path(_ relative: String) -> String { directory + "/" + relative }

    private func read(_ relative: String, step: Step = .layout, limit: Int = 64 << 20) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path(relative)) else {
            throw Unreadable(message: "\(path(relative)) cannot be read (\(String(cString: strerror(errno)))); nothing was concluded about the bundle")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw BagAudit.fail(step, "is larger than \(limit) bytes", file: relative) }
        return Array(data)
    }

    /// Lists a directory: names of regular files and directories; anything else fails.
    private func list(_ relative: String) throws -> (files: [String], directories: [String]) {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: relative.isEmpty ? directory : path(relative)) } catch {
            throw BagAudit.fail(.layout, "cannot be listed", file: relative.isEmpty ? "." : relative)
        }
        var files: [String] = []
        var dirs: [String] = []
        for name in names.sorted() {
            let rel = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(path(rel), &st) == 0 else { throw BagAudit.fail(.layout, "cannot be examined", file: rel) }
            switch st.st_mode & S_IFMT {
            case S_IFREG: files.append(name)
            case S_IFDIR: dirs.append(name)
            case S_IFLNK: throw BagAudit.fail(.layout, "is a symbolic link; a bundle holds only regular files", file: rel)
            default: throw BagAudit.fail(.layout, "is not a regular file or directory", file: rel)
            }
        }
        return (files, dirs)
    }

    private func audit(into report: inout Report) throws {
        // 1. Layout.
        let top = try list("")
        for name in top.files + top.directories where !Bag.topLevel.contains(name) {
            throw BagAudit.fail(
                .layout,
                "unexpected \(top.directories.contains(name) ? "directory" : "file") at the top of the bag (an export holds only bagit.txt, "
                    + "bag-info.txt, the two manifests and data/)",
                file: name)
        }
        for name in ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"] where !top.files.contains(name) {
            throw BagAudit.fail(.layout, "is missing", file: name)
        }
        guard top.directories.contains("data") else { throw BagAudit.fail(.layout, "is missing: the bag has no payload directory", file: "data/") }
        guard try read("bagit.txt") == Bag.bagitTxt else {
            throw BagAudit.fail(.layout, "must be exactly \"BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n\"", file: "bagit.txt")
        }
        let dataListing = try list("data")
        for name in dataListing.files + dataListing.directories where !["entries.jsonl", "checkpoint", "checkpoints", "sealed.jsonl"].contains(name) {
            throw BagAudit.fail(
                .layout,
                "unexpected \(dataListing.directories.contains(name) ? "directory" : "file") in the payload (data/ holds entries.jsonl, checkpoint "
                    + "and checkpoints/, and in a keeper's bundle sealed.jsonl)",
                file: "data/" + name)
        }
        if dataListing.directories.contains("sealed.jsonl") { throw BagAudit.fail(.layout, "must be a file", file: Bag.sealedPath) }
        let hasSealed = dataListing.files.contains("sealed.jsonl")
        for name in ["entries.jsonl", "checkpoint"] where !dataListing.files.contains(name) {
            throw BagAudit.fail(.layout, "is missing", file: "data/" + name)
        }
        guard dataListing.directories.contains("checkpoints") else { throw BagAudit.fail(.layout, "is missing", file: "data/checkpoints/") }
        let cpListing = try list(Bag.checkpointsDirectory)
        if let d = cpListing.directories.first { throw BagAudit.fail(.layout, "unexpected directory", file: "\(Bag.checkpointsDirectory)/\(d)") }
        var checkpointSizes: [UInt64] = []
        for name in cpListing.files {
            guard let size = Bag.checkpointSize(fileName: name) else {
                throw BagAudit.fail(
                    .layout, "a checkpoint file is named by its tree size (decimal, no leading zeros, at least 1)", file: "\(Bag.checkpointsDirectory)/\(name)")
            }
            checkpointSizes.append(size)
        }
        checkpointSizes.sort()
        guard !checkpointSizes.isEmpty else { throw BagAudit.fail(.layout, "holds no checkpoint", file: "data/checkpoints/") }
        let payloadFiles = Set([Bag.entriesPath, Bag.latestPath] + checkpointSizes.map(Bag.checkpointPath) + (hasSealed ? [Bag.sealedPath] : []))
        let manifest = try Bag.parseManifestOrFail(read("manifest-sha256.txt"), file: "manifest-sha256.txt")
        let tagManifest = try Bag.parseManifestOrFail(read("tagmanifest-sha256.txt"), file: "tagmanifest-sha256.txt")
        for p in payloadFiles.sorted() where manifest[p] == nil {
            throw BagAudit.fail(.layout, "is not listed in manifest-sha256.txt", file: p)
        }
        for p in manifest.keys.sorted() where !payloadFiles.contains(p) {
            throw BagAudit.fail(.layout, "manifest-sha256.txt lists \(p), which the bag does not hold", file: "manifest-sha256.txt")
        }
        for p in Bag.tagFiles where tagManifest[p] == nil {
            throw BagAudit.fail(.layout, "is not listed in tagmanifest-sha256.txt", file: p)
        }
        for p in tagManifest.keys.sorted() where !Bag.tagFiles.contains(p) {
            throw BagAudit.fail(.layout, "tagmanifest-sha256.txt lists \(p), which is not one of the bag's tag files", file: "tagmanifest-sha256.txt")
        }
        report.files = payloadFiles.count

        // 2. Entries and every checkpoint at its size.
        // Each note is read when the tree reaches its size, checked, hashed for fixity and its
        // cosignatures checked at once (the outcome is reported in step 6's turn); only the
        // latest note's bytes are kept.
        var verifier = LogVerifier(trustedGenesisKeyID: trust, parallelism: parallelism)
        verifier.collectsPayloads = observer != nil
        func handOver() {
            guard let observer else { return }
            let entries = verifier.takeVerified()
            if !entries.isEmpty { observer.verified(entries) }
        }
        var nextNote = 0
        var given: UInt64 = 0
        var noteDigests: [String: (digest: Digest32, count: Int)] = [:]
        var latestNote: [UInt8] = []
        var anyView = false
        var cosignatureFailure: Stop?
        func checkNotes() throws {
            while nextNote < checkpointSizes.count, checkpointSizes[nextNote] == given {
                let file = Bag.checkpointPath(given)
                do throws(LedgerError) { try verifier.finish() } catch {
                    throw BagAudit.fail(.entries, error.message, file: Bag.entriesPath, index: error.index)
                }
                handOver()
                let bytes = try read(file, step: .entries, limit: 1 << 20)
                let checkpoint: Checkpoint
                do throws(LedgerError) {
                    checkpoint = try verifier.checkCheckpoint(bytes)
                } catch {
                    throw BagAudit.fail(.entries, error.message, file: error.index == nil ? file : Bag.entriesPath, index: error.index)
                }
                if checkpoint.view != nil { anyView = true }
                observer?.checkpoint(checkpoint)
                noteDigests[file] = (SHA256.hash(bytes), bytes.count)
                var summary = CheckpointSummary(size: given, root: verifier.root, cosigners: [], otherSigners: [], note: keepNotes ? bytes : [])
                if let note = try? SignedNote(bytes: bytes) {
                    let (valid, failure) = Cosignature.cosigners(of: note, among: witnesses)
                    summary.cosigners = valid
                    if let failure, cosignatureFailure == nil { cosignatureFailure = BagAudit.fail(.cosignatures, failure.message, file: file) }
                    let known = witnesses.map(\.name) + [verifier.state.origin ?? ""]
                    for sig in note.signatures
                    where !known.contains(where: { $0.sameBytes(sig.name) }) && !summary.otherSigners.contains(where: { $0.sameBytes(sig.name) }) {
                        summary.otherSigners.append(sig.name)
                    }
                }
                report.checkpoints.append(summary)
                latestNote = bytes
                nextNote += 1
            }
        }
        // A keeper's bundle: each sealed value's marker is checked in its entry as the entries stream by.
        var sealedBytes: [UInt8] = []
        var sealedByIndex: [UInt64: [Bag.SealedLine]] = [:]
        if hasSealed {
            sealedBytes = try read(Bag.sealedPath, step: .sealed, limit: 1 << 30)
            do throws(LedgerError) { report.sealed = try Bag.parseSealed(sealedBytes) } catch {
                throw BagAudit.fail(.sealed, error.message, file: Bag.sealedPath)
            }
            for s in report.sealed { sealedByIndex[s.index, default: []].append(s) }
        }
        let streamed = try streamEntries { (lines) throws in
            if !sealedByIndex.isEmpty {
                for (offset, line) in lines.enumerated() {
                    for s in sealedByIndex[given + UInt64(offset)] ?? [] {
                        do throws(LedgerError) { try s.check(entryLine: line) } catch {
                            throw BagAudit.fail(.sealed, error.message, file: Bag.sealedPath, index: s.index)
                        }
                    }
                }
            }
            var start = 0
            while start < lines.count {
                var end = lines.count
                if nextNote < checkpointSizes.count, checkpointSizes[nextNote] > given, checkpointSizes[nextNote] - given < UInt64(end - start) {
                    end = start + Int(checkpointSizes[nextNote] - given)
                }
                do throws(LedgerError) {
                    try verifier.process(Array(lines[start..<end]))
                } catch {
                    throw BagAudit.fail(.entries, error.message, file: Bag.entriesPath, index: error.index)
                }
                // The batch before this one has passed: folded here while this one's signatures are checked.
                handOver()
                given += UInt64(end - start)
                try checkNotes()
                start = end
            }
            return given
        }
        do throws(LedgerError) { try verifier.finish() } catch {
            throw BagAudit.fail(.entries, error.message, file: Bag.entriesPath, index: error.index)
        }
        handOver()
        try checkNotes()
        if let index = streamed.tooLong {
            throw BagAudit.fail(.entries, "line \(index + 1) is longer than any entry can be (8 MiB without a newline)", file: Bag.entriesPath, index: index)
        }
        if !streamed.trailing.isEmpty {
            throw BagAudit.fail(
                .entries, "the last line is not ended by a newline: the file was truncated (or has stray bytes after the last entry)",
                file: Bag.entriesPath, index: streamed.lines)
        }
        let entriesDigest = streamed.digest
        report.treeSize = verifier.size
        report.root = verifier.root
        report.origin = verifier.state.origin
        report.genesisKeyID = verifier.genesisKeyID
        report.keys = verifier.state.keys.values.sorted { $0.enrolledAt < $1.enrolledAt }
        guard verifier.size > 0 else { throw BagAudit.fail(.entries, "holds no entries, not even the genesis", file: Bag.entriesPath, index: 0) }
        if let beyond = report.sealed.first(where: { $0.index >= verifier.size }) {
            throw BagAudit.fail(
                .sealed, "sealed value \(beyond.commitment) is for entry \(beyond.index), beyond the bag's \(verifier.size) entries", file: Bag.sealedPath)
        }
        if nextNote < checkpointSizes.count {
            throw BagAudit.fail(
                .entries, "is for tree size \(checkpointSizes[nextNote]) but the bag holds only \(verifier.size) entries: entries were removed",
                file: Bag.checkpointPath(checkpointSizes[nextNote]))
        }

        // 3. The latest checkpoint covers every entry.
        guard checkpointSizes.last == verifier.size else {
            throw BagAudit.fail(
                .latestCheckpoint,
                "no checkpoint commits the whole bag: the largest is for tree size \(checkpointSizes.last!), the bag holds \(verifier.size) entries",
                file: Bag.checkpointPath(verifier.size))
        }
        let latest = try read(Bag.latestPath, step: .latestCheckpoint, limit: 1 << 20)
        guard latest == latestNote else {
            throw BagAudit.fail(
                .latestCheckpoint, "differs from \(Bag.checkpointPath(verifier.size)), the checkpoint for the bag's \(verifier.size) entries",
                file: Bag.latestPath)
        }

        // 4. Fixity.
        report.entriesDigest = entriesDigest
        var octets: UInt64 = 0
        for p in payloadFiles.sorted() {
            let digest: Digest32
            if p == Bag.entriesPath {
                digest = entriesDigest
                octets += streamed.bytes
            } else if p == Bag.sealedPath {
                digest = SHA256.hash(sealedBytes)
                octets += UInt64(sealedBytes.count)
            } else if let verified = noteDigests[p] {
                // The digest of the bytes that were verified, not of a second read.
                digest = verified.digest
                octets += UInt64(verified.count)
            } else {
                let bytes = try read(p, step: .fixity, limit: 1 << 20)
                digest = SHA256.hash(bytes)
                octets += UInt64(bytes.count)
            }
            guard manifest[p] == digest else {
                throw BagAudit.fail(.fixity, "SHA-256 is \(digest.hex) but manifest-sha256.txt says \(manifest[p]!.hex)", file: p)
            }
        }
        report.payloadOctets = octets
        var infoBytes: [UInt8] = []
        for p in Bag.tagFiles {
            let bytes = try read(p, step: .fixity)
            if p == "bag-info.txt" { infoBytes = bytes }
            let digest = SHA256.hash(bytes)
            guard tagManifest[p] == digest else {
                throw BagAudit.fail(.fixity, "SHA-256 is \(digest.hex) but tagmanifest-sha256.txt says \(tagManifest[p]!.hex)", file: p)
            }
        }

        // 5. bag-info claims.
        let info: [String: [String]]
        do throws(LedgerError) { info = try Bag.parseInfo(infoBytes) } catch { throw BagAudit.fail(.bagInfo, error.message, file: "bag-info.txt") }
        // Labels as bytes: a label spelled with canonically equivalent characters is another label.
        func values(_ label: String) -> [String]? {
            let v = info.filter { $0.key.sameBytes(label) }.flatMap(\.value)
            return v.isEmpty ? nil : v
        }
        func claim(_ label: String, _ expected: String) throws {
            guard let values = values(label), values.count == 1 else {
                throw BagAudit.fail(.bagInfo, "label \(label) must appear exactly once", file: "bag-info.txt")
            }
            guard values[0].sameBytes(expected) else {
                throw BagAudit.fail(.bagInfo, "\(label) says \(values[0].prefix(100)) but the bag proves \(expected)", file: "bag-info.txt")
            }
        }
        let known: Set = [
            "IncidentLedger-Format", "IncidentLedger-Origin", "IncidentLedger-Tree-Size", "IncidentLedger-Root", "IncidentLedger-Genesis-Key-ID",
            "IncidentLedger-Export-Time",
        ]
        if let unknown = info.keys.sorted().first(where: { k in k.utf8.starts(with: "IncidentLedger-".utf8) && !known.contains { $0.sameBytes(k) } }) {
            throw BagAudit.fail(.bagInfo, "unknown label \(unknown.prefix(100)): format versions 1 and 2 define no such claim", file: "bag-info.txt")
        }
        // Format 2 exactly when the bag uses what format 1 lacks (FORMAT.md §11).
        try claim("IncidentLedger-Format", anyView || hasSealed ? "2" : "1")
        try claim("IncidentLedger-Origin", report.origin ?? "")
        try claim("IncidentLedger-Tree-Size", String(verifier.size))
        try claim("IncidentLedger-Root", verifier.root.hex)
        try claim("IncidentLedger-Genesis-Key-ID", report.genesisKeyID ?? "")
        guard let times = values("IncidentLedger-Export-Time"), times.count == 1, Bag.parseExportTime(times[0]) != nil else {
            throw BagAudit.fail(.bagInfo, "IncidentLedger-Export-Time must appear once, as YYYY-MM-DDTHH:MM:SSZ", file: "bag-info.txt")
        }
        report.exportTime = times[0]
        if let oxum = values("Payload-Oxum") {
            guard oxum.allSatisfy({ $0 == "\(octets).\(payloadFiles.count)" }) else {
                throw BagAudit.fail(
                    .bagInfo, "Payload-Oxum says \(oxum.joined(separator: ", ")) but the payload is \(octets).\(payloadFiles.count)", file: "bag-info.txt")
            }
        }

        // 6. Cosignatures (checked when each note was read).
        if let cosignatureFailure { throw cosignatureFailure }
        if !witnesses.isEmpty, let last = report.checkpoints.last {
            let distinct = Set(last.cosigners.map(\.name))
            if distinct.count < quorum {
                var reason =
                    "the latest checkpoint (tree size \(last.size)) carries valid cosignatures of \(distinct.count) trusted "
                    + "witness\(distinct.count == 1 ? "" : "es")"
                reason += distinct.isEmpty ? "" : " (\(distinct.sorted().joined(separator: ", ")))"
                reason += "; the quorum is \(quorum)"
                if !last.otherSigners.isEmpty { reason += "; cosigned also by witnesses not trusted here: \(last.otherSigners.joined(separator: ", "))" }
                throw BagAudit.fail(.cosignatures, reason, file: Bag.latestPath)
            }
        }
    }

    /// Streams `data/entries.jsonl` in batches of lines, hashing the whole file; returns its digest.
    private func streamEntries(_ body: ([[UInt8]]) throws -> UInt64) throws -> JSONLinesReader.Result {
        var verified: UInt64 = 0
        let result: JSONLinesReader.Result
        do {
            result = try JSONLinesReader(path: path(Bag.entriesPath)).read(progress: { read, total in progress?(verified, read, total) }) { lines in
                verified = try body(lines)
            }
        } catch JSONLinesReader.Failure.unreadable(let why) {
            throw Unreadable(message: "\(path(Bag.entriesPath)) cannot be read (\(why)); nothing was concluded about the bundle")
        }
        // A too-long line is reported by the caller after the entries before it are checked.
        return result
    }
}

/// Receives what a `BagAudit` has checked, in log order, as it goes.
public protocol BagAuditObserver: AnyObject {
    /// Entries that passed every check of the log (each once, in log order, whole batches).
    func verified(_ entries: [LogVerifier.VerifiedEntry])
    /// A checkpoint whose note passed the log's checks (its origin, size, root and signature),
    /// after every entry below its size was handed to `verified`.
    func checkpoint(_ checkpoint: Checkpoint)
}

extension Bag {
    static func parseManifestOrFail(_ bytes: [UInt8], file: String) throws -> [String: Digest32] {
        do throws(LedgerError) { return try parseManifest(bytes, file: file) } catch { throw BagAudit.fail(.layout, error.message, file: file) }
    }
}
