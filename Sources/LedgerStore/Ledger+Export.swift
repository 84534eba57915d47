import Foundation
import LedgerCore
import LedgerCrypto

/// What `export` wrote.
public struct ExportReport: Sendable {
    public var directory: String
    public var treeSize: UInt64
    public var root: Digest32
    public var checkpoints: Int
    public var payloadOctets: UInt64
    /// Sealed values in a keeper's bundle (0 in a public one).
    public var sealedValues: Int = 0
}

extension Ledger {
    /// Writes entries `0 … size-1` and every stored checkpoint up to `size` as a BagIt bundle
    /// (FORMAT.md §11) at `directory`, which must not exist. `size` defaults to the log's size and
    /// must be the size of a stored checkpoint (an export never carries entries that no signed
    /// checkpoint commits). Everything is read in one transaction, written under a temporary name,
    /// fsynced, and renamed into place, so a crash leaves no partial bundle at `directory`.
    ///
    /// With `reader` (`reader:NAME`), a keeper's bundle: it also holds, in `data/sealed.jsonl`,
    /// every sealed value of those entries whose data key is wrapped for that reader.
    public func export(
        to directory: String, upTo requested: UInt64? = nil, exportTime: Timestamp, reader: String? = nil, progress: ((UInt64, UInt64) -> Void)? = nil
    ) throws(LedgerError) -> ExportReport {
        guard !FileManager.default.fileExists(atPath: directory) else {
            throw LedgerError(.io, "\(directory) already exists; give a new directory (an export never overwrites)")
        }
        let (parent, name) = PathParts.split(directory)
        let temp = parent + "/.\(name).partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: temp)
        do throws(LedgerError) {
            let report = try read { (r) throws(LedgerError) in
                try self.export(r, temp: temp, requested: requested, exportTime: exportTime, reader: reader, progress: progress)
            }
            guard rename(temp, directory) == 0 else {
                throw LedgerError(.io, "\(directory) could not be created (\(String(cString: strerror(errno))))")
            }
            DurableFile.syncDirectory(parent.isEmpty ? "." : parent)
            var r = report
            r.directory = directory
            return r
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
    }

    private func export(
        _ r: any StorageReader, temp: String, requested: UInt64?, exportTime: Timestamp, reader: String?, progress: ((UInt64, UInt64) -> Void)?
    ) throws(LedgerError) -> ExportReport {
        let logSize = try r.size()
        let stored = try r.checkpoints()
        let size = requested ?? logSize
        guard size >= 1, size <= logSize else {
            throw LedgerError(.refused, "--upto \(size) is outside the log, which holds \(logSize) entries")
        }
        guard let latest = stored.first(where: { $0.size == size }) else {
            let sizes = stored.map { String($0.size) }
            let known =
                sizes.isEmpty
                ? "there are none yet"
                : "stored checkpoints: " + (sizes.count > 8 ? sizes.suffix(8).joined(separator: ", ") + " (latest 8)" : sizes.joined(separator: ", "))
            throw LedgerError(
                .refused,
                "no signed checkpoint covers exactly \(size) entries, so the export could not prove them (\(known)); sign one with `ledger "
                    + "checkpoint --key LOGKEY`, or pass --upto with a checkpointed size")
        }
        let root = try Self.merkle(path) { () throws in try MerkleTree.root(size: size, source: r) }
        let latestCP = try Checkpoint(text: SignedNote(bytes: latest.note).text)
        guard latestCP.root == root, latestCP.origin == origin else {
            throw LedgerError(.verificationFailed, "the stored checkpoint at size \(size) does not match the stored tree; run `ledger verify`")
        }
        // The bundle holds every payload, sensitive fields included: owner-only, whatever the umask.
        for d in ["", "/data", "/data/checkpoints"] { try PrivateFiles.createDirectory(temp + d) }
        var digests: [(path: String, digest: Digest32)] = []
        var octets: UInt64 = 0

        // Entries, streamed and hashed as they are written.
        let entries = try DurableFile(path: temp + "/" + Bag.entriesPath)
        var hasher = SHA256.Hasher()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8 << 20)
        var expected: UInt64 = 0
        while expected < size {
            let batch = try r.entryLines(from: expected, below: size, limit: 8192)
            if batch.isEmpty { break }
            for (index, line) in batch {
                guard index == expected else {
                    throw LedgerError(.verificationFailed, "entry \(expected) is missing from the ledger file; run `ledger verify`")
                }
                buffer.append(contentsOf: line)
                buffer.append(0x0A)
                expected += 1
            }
            if buffer.count >= 8 << 20 {
                hasher.update(buffer)
                try entries.write(buffer)
                octets += UInt64(buffer.count)
                buffer.removeAll(keepingCapacity: true)
                progress?(expected, size)
            }
        }
        guard expected == size else { throw LedgerError(.verificationFailed, "the ledger file holds \(expected) of \(size) entries; run `ledger verify`") }
        hasher.update(buffer)
        try entries.write(buffer)
        octets += UInt64(buffer.count)
        try entries.close()
        digests.append((Bag.entriesPath, hasher.finalize()))
        progress?(size, size)

        var count = 0
        for cp in stored where cp.size <= size {
            try DurableFile.write(cp.note, to: temp + "/" + Bag.checkpointPath(cp.size))
            digests.append((Bag.checkpointPath(cp.size), SHA256.hash(cp.note)))
            octets += UInt64(cp.note.count)
            count += 1
        }
        try DurableFile.write(latest.note, to: temp + "/" + Bag.latestPath)
        digests.append((Bag.latestPath, SHA256.hash(latest.note)))
        octets += UInt64(latest.note.count)
        var sealedCount = 0
        if let reader {
            guard try Self.readers(r, overlay: nil, path: path).contains(where: { $0.id == reader }) else {
                throw LedgerError(.refused, "\(reader) is not a reader of this ledger (`ledger reader list`)")
            }
            let lines = try Self.sealedLines(r, reader: reader, below: size)
            var bytes: [UInt8] = []
            for l in lines { bytes += l.encoded() + [0x0A] }
            if !lines.isEmpty {
                try DurableFile.write(bytes, to: temp + "/" + Bag.sealedPath)
                digests.append((Bag.sealedPath, SHA256.hash(bytes)))
                octets += UInt64(bytes.count)
            }
            sealedCount = lines.count
        }

        // Format 2 when the bag uses what format 1 lacks: a checkpoint's view line, sealed values.
        let views = stored.contains { cp in cp.size <= size && (try? Checkpoint(text: SignedNote(bytes: cp.note).text).view) != nil }
        let info = Bag.Info(
            origin: origin, treeSize: size, root: root, genesisKeyID: genesisKeyID, exportTime: exportTime, payloadOctets: octets, payloadFiles: digests.count,
            format: views || sealedCount > 0 ? 2 : 1
        ).encoded()
        let manifest = Bag.manifest(digests)
        let tags: [(String, [UInt8])] = [("bagit.txt", Bag.bagitTxt), ("bag-info.txt", info), ("manifest-sha256.txt", manifest)]
        for (name, bytes) in tags { try DurableFile.write(bytes, to: temp + "/" + name) }
        try DurableFile.write(Bag.manifest(tags.map { ($0.0, SHA256.hash($0.1)) }), to: temp + "/tagmanifest-sha256.txt")
        for d in ["/data/checkpoints", "/data", ""] { DurableFile.syncDirectory(temp + d) }
        return ExportReport(directory: temp, treeSize: size, root: root, checkpoints: count, payloadOctets: octets, sealedValues: sealedCount)
    }
}

/// A file written and fsynced, mode 0600; refuses to replace an existing file.
final class DurableFile {
    let path: String
    private var fd: Int32

    init(path: String) throws(LedgerError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, PrivateFiles.fileMode)
        guard fd >= 0 else { throw LedgerError(.io, "\(path): \(String(cString: strerror(errno)))") }
        try PrivateFiles.restrict(fd, path: path)
    }

    func write(_ bytes: [UInt8]) throws(LedgerError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { throw LedgerError(.io, "\(path): write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    func close() throws(LedgerError) {
        let synced = fsync(fd) == 0
        Foundation.close(fd)
        fd = -1
        guard synced else { throw LedgerError(.io, "\(path): fsync failed: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    static func write(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        let f = try DurableFile(path: path)
        try f.write(bytes)
        try f.close()
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            Foundation.close(fd)
        }
    }
}
