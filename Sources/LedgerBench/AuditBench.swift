import ArgumentParser
import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger-bench audit`: the offline audit of an export, beside the bare libsodium verify loop.
///
/// Exports the ledger as a bundle (enrolling a demo log key and signing a checkpoint first if needed),
/// then times the full offline audit beside the raw limit measured in the same run: the bare libsodium
/// verify loop over the same signed messages on all cores. Peak memory is measured by
/// Tools/bench-audit.sh around `ledger audit` in its own process.
struct AuditBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The offline audit of an export (`ledger audit`) against the bare libsodium verify loop (Tools/bench-audit.sh).",
        discussion: """
            Opens the ledger at --ledger PATH (e.g. one made by `ledger-bench archive --only-generate` or \
            Tools/bench-archive.sh), enrolls a demo log key and signs a checkpoint at its current size if either is missing \
            (so the ledger may be changed), exports it as a BagIt bundle, then in each round times the raw limit (strict Ed25519 \
            verification of every entry's signed message on all cores; reading and decoding not timed) and the full \
            offline audit of the bundle. Prints the best rates, their ratio (goal 85 %) and, last, `trust: KEYID`, the \
            genesis key id Tools/bench-audit.sh reads to run `ledger audit` in its own process.
            """)

    /// The demo log key enrolled (if missing) to sign the checkpoint.
    static let logKey = try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: 9, count: 32)))
    /// The synthetic archive's demo admin key, which enrolls the log key.
    static let adminKey = try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: 1, count: 32)))

    @Option(
        name: .customLong("ledger"),
        help: ArgumentHelp("The ledger to export and audit (e.g. one made by Tools/bench-archive.sh); it must exist.", valueName: "path"))
    var path: String
    @Option(help: ArgumentHelp("Rounds of each measurement; the best time is kept.", valueName: "r"))
    var rounds = 3
    @Option(
        help: ArgumentHelp(
            "Export the bundle to this directory and keep it (replaced if it exists). Default: a temporary directory, removed at the end.",
            valueName: "bagdir"))
    var keep: String?

    func validate() throws {
        guard !path.isEmpty else { throw ValidationError("--ledger must not be empty") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        if let keep, keep.isEmpty { throw ValidationError("--keep must not be empty") }
    }

    func run() throws {
        let (logKey, adminKey) = (Self.logKey, Self.adminKey)
        let ledger = try Ledger.open(path: path)
        let logID = KeyID.of(logKey.publicKey)
        if try ledger.keys().first(where: { $0.keyID == logID }) == nil {
            let d = KeyDescriptor(publicKey: logKey.publicKey, name: "Bench log key (demo key)", roles: [.log])
            let payload = EventPayload(
                ledger: ledger.origin, id: UUIDv7.make(at: SystemClock().now()), type: EventTypes.keyEnrolled, subject: d.keyID,
                expects: try ledger.revision(of: d.keyID), signedAt: SystemClock().now().signedTimeText, body: d.json)
            _ = try ledger.append([Envelope.sign(payload: payload.encoded(), with: adminKey)])
        }
        let size = try ledger.size()
        if try ledger.checkpointNote(size: size) == nil { _ = try ledger.checkpoint(signingKey: logKey) }
        let bag = keep ?? NSTemporaryDirectory() + "audit-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: bag)
        let tExport = try ArchiveBench.time { _ = try ledger.export(to: bag, exportTime: Timestamp(microseconds: 1_767_225_600_000_000)) }
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: bag) } }
        let keys = Dictionary(uniqueKeysWithValues: try ledger.keys().map { ($0.keyID, $0.publicKey) })
        let trust = ledger.genesisKeyID
        print(String(format: "bundle of %llu entries exported in %.2f s to %@", size, tExport, bag))
        let cores = System.activeProcessorCount
        var bestRaw = Double.infinity
        var bestAudit = Double.infinity
        var bestHashes = Double.infinity
        for round in 1...rounds {
            // Raw limit: strict Ed25519 verification of every entry's PAE message on all cores;
            // reading and decoding the file are not timed.
            var raw = 0.0
            var verified = 0
            _ = try JSONLinesReader(path: bag + "/" + Bag.entriesPath).read { lines in
                let envelopes = lines.map { try! EntryLine(bytes: $0).envelope }
                let messages = envelopes.map { Envelope.pae(type: $0.payloadType, body: $0.payload) }
                let signers = envelopes.map { keys[$0.keyID]! }
                let ok = Counter()
                raw += ArchiveBench.time {
                    Parallel.forEachChunk(count: messages.count, parallelism: cores) { range in
                        var n = 0
                        for j in range where signers[j].isValidSignature(envelopes[j].signature, for: messages[j]) { n += 1 }
                        ok.add(n)
                    }
                }
                verified += ok.value
            }
            precondition(verified == Int(size), "raw loop: \(verified) of \(size) signatures verified")
            bestRaw = min(bestRaw, raw)
            let hashes = try Self.requiredHashSeconds(bag: bag)
            bestHashes = min(bestHashes, hashes)
            var report: BagAudit.Report?
            let t = try ArchiveBench.time { report = try BagAudit(directory: bag, trust: trust).run() }
            guard let report, report.ok else { fatalError("audit failed: \(report?.failure?.description ?? "?")") }
            bestAudit = min(bestAudit, t)
            print(
                String(
                    format: "round %d: raw verify %.2f s (%.0f/s), required SHA-256 %.2f s on one core, audit %.2f s (%.0f/s)", round, raw,
                    Double(size) / raw, hashes, t, Double(size) / t))
        }
        let rawRate = Double(size) / bestRaw
        let auditRate = Double(size) / bestAudit
        print(String(format: "raw libsodium verify, %d cores: %.0f entries/s", cores, rawRate))
        print(
            String(
                format: "ledger audit (BagIt fixity, entries, checkpoints, claims): %.0f entries/s = %.1f%% of raw (goal 85%%)", auditRate,
                100 * auditRate / rawRate))
        print(
            String(
                format: "ceiling: %.1f%% of raw (the SHA-256 the bundle requires, fixity, leaves and nodes, %.2f s on one core, spread over %d cores)",
                100 * Self.ceiling(raw: bestRaw, hashes: bestHashes, cores: cores), bestHashes, cores))
        print("trust: \(trust)")
    }
}

extension AuditBench {
    /// Seconds on one core of the SHA-256 work an audit of the bundle cannot leave out, done as
    /// the audit does it (libsodium): the fixity digest of `data/entries.jsonl` (BagIt), each
    /// line's leaf hash and every node of the Merkle tree (RFC 9162). Reading and splitting the
    /// file are not timed. With the signatures on `cores` cores, the audit can reach at most
    /// `raw / (raw + seconds / cores)` of the raw verify rate (`ceiling`).
    static func requiredHashSeconds(bag: String) throws -> Double {
        var fixity = SHA256.Hasher()
        var frontier = MerkleFrontier()
        var seconds = 0.0
        let newline: [UInt8] = [0x0A]
        let read = try JSONLinesReader(path: bag + "/" + Bag.entriesPath).read { lines in
            seconds += ArchiveBench.time {
                for line in lines {
                    // The file's bytes in order, line and newline: the same digest as the whole file's.
                    line.withUnsafeBytes { fixity.update($0) }
                    newline.withUnsafeBytes { fixity.update($0) }
                    frontier.append(leaf: MerkleHash.leaf(line)) { _ in }
                }
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let digest = fixity.finalize()
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        precondition(digest == read.digest, "the timed fixity digest differs from the file's")
        return seconds
    }

    /// The highest share of the raw verify rate an audit can reach when its only other work is
    /// the SHA-256 it cannot leave out, spread over `cores` cores as the signatures are.
    static func ceiling(raw: Double, hashes: Double, cores: Int) -> Double { raw / (raw + hashes / Double(cores)) }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
