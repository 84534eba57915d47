import ArgumentParser
import Foundation
import LedgerCore
import LedgerCrypto
import LedgerPostgres
import LedgerStore

/// `ledger export`: write a BagIt bundle an auditor can check with no database.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log (entries and signed checkpoints) as a BagIt bundle for auditors (docs/FORMAT.md §11).",
        discussion: """
            The bundle holds entries 0 to SIZE-1, every stored checkpoint up to SIZE, and the checkpoint for SIZE itself, which must \
            exist: sign one first with `ledger checkpoint`. OUT must not exist; it appears only once complete. Give --export-time for a \
            reproducible bundle (the same ledger prefix and time always give byte-identical files).
            """)

    @OptionGroup var ledger: LedgerOption
    @Option(help: ArgumentHelp("Directory to create.", valueName: "dir"))
    var out: String
    @Option(parsing: .unconditional, help: ArgumentHelp("Export only entries 0 to SIZE-1 (a checkpointed size). Default: the whole log.", valueName: "size"))
    var upto: UInt64?
    @Option(
        name: .customLong("export-time"), help: ArgumentHelp("Export time recorded in bag-info.txt, YYYY-MM-DDTHH:MM:SSZ. Default: now.", valueName: "time"))
    var exportTime: String?
    @Option(
        name: .customLong("for"),
        help: ArgumentHelp(
            "A keeper's bundle for this reader (its id, reader:NAME, or its key file): also the sealed values wrapped for it, in data/sealed.jsonl.",
            valueName: "reader"))
    var forReader: String?

    func validate() throws {
        if let exportTime, Bag.parseExportTime(exportTime) == nil { throw ValidationError("--export-time must be YYYY-MM-DDTHH:MM:SSZ (UTC, whole seconds)") }
        if let upto, upto == 0 || upto > UInt64(Int64.max) { throw ValidationError("--upto must be at least 1") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.open(readOnly: true)
            let time = exportTime.flatMap(Bag.parseExportTime) ?? SystemClock().now()
            let progress = Progress(label: "exported")
            var reader: String?
            if let forReader {
                if forReader.hasPrefix("reader:") {
                    reader = forReader
                } else {
                    // A key file: the reader enrolled with its key.
                    let file = try KeyFile(path: forReader)
                    let key: [UInt8]
                    do { key = try ValueSealing.ReaderKey.publicKey(of: file.publicKey) } catch { throw LedgerError(.keyFile, "\(forReader): \(error)") }
                    guard let r = try store.readers().first(where: { $0.encryptionKey == key }) else {
                        throw LedgerError(.refused, "\(forReader) is not the key of a reader of this ledger (`ledger reader list`)")
                    }
                    reader = r.id
                }
            }
            let report = try store.export(to: out, upTo: upto, exportTime: time, reader: reader, progress: progress.update)
            progress.finish()
            let logSize = try store.size()
            print("exported \(report.treeSize) entries and \(report.checkpoints) checkpoints to \(out)")
            if let reader { print("keeper's bundle: \(report.sealedValues) sealed values wrapped for \(reader) (keep it as safe as the reader's key)") }
            print("root:           \(report.root.hex)")
            print("genesis key id: \(store.genesisKeyID)")
            print("audit it with:  ledger audit \(out) --trust \(store.genesisKeyID)")
            if logSize > report.treeSize {
                Terminal.note("note: the log holds \(logSize) entries; entries \(report.treeSize) to \(logSize - 1) are not in this bundle")
            }
        }
    }
}

/// Reads a verifier key given as text or as a file holding it.
func readVerifierKey(_ arg: String, option: String) throws -> VerifierKey {
    var text = arg
    if !arg.contains("+"), let data = FileManager.default.contents(atPath: arg) {
        text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    do { return try VerifierKey(parsing: text) } catch { throw ValidationError("\(option) \(arg.prefix(80)): \(error.message)") }
}

/// Trusted witnesses and a quorum, shared by `audit` and `check-proof`.
struct WitnessPolicyOption: ParsableArguments {
    @Option(
        name: .customLong("witness"),
        help: ArgumentHelp("A trusted witness's verifier key (NAME+HASH+BASE64, or a file holding it); repeat for each.", valueName: "vkey"))
    var witnessArgs: [String] = []
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("How many trusted witnesses must have cosigned the latest checkpoint (default: all given).", valueName: "k"))
    var quorum: Int?

    func witnesses() throws -> [VerifierKey] {
        let keys = try witnessArgs.map { try readVerifierKey($0, option: "--witness") }
        for k in keys where k.kind != .cosigner { throw ValidationError("--witness \(k.name): this is a log key (type 0x01), not a witness key (type 0x04)") }
        guard Set(keys.map(\.name)).count == keys.count else { throw ValidationError("--witness: two keys have the same name") }
        if let quorum {
            guard !keys.isEmpty else { throw ValidationError("--quorum needs at least one --witness") }
            guard quorum >= 1, quorum <= keys.count else {
                throw ValidationError("--quorum must be between 1 and the number of --witness keys (\(keys.count))")
            }
        }
        return keys
    }

    var effectiveQuorum: Int { quorum ?? witnessArgs.count }
}

/// The bundle, the trusted genesis key and witnesses: what `audit` and `import` share.
struct BundleAuditOption: ParsableArguments {
    @Argument(help: ArgumentHelp("The bundle directory.", valueName: "dir"))
    var bag: String
    @Option(help: ArgumentHelp("The genesis key id you trust (obtained out of band).", valueName: "keyid"))
    var trust: String
    @OptionGroup var policy: WitnessPolicyOption

    func validate() throws {
        guard KeyID.isWellFormed(trust) else { throw ValidationError("--trust must be 64 lowercase hex digits (the genesis key id)") }
        _ = try policy.witnesses()
    }

    /// Runs the audit with progress on stderr in a terminal.
    func audit(witnesses: [VerifierKey], keepNotes: Bool = false) throws(LedgerError) -> BagAudit.Report {
        var audit = BagAudit(directory: bag, trust: trust, witnesses: witnesses, quorum: policy.effectiveQuorum)
        audit.keepNotes = keepNotes
        // The archive's view each checkpoint commits to: the entries are folded as they pass,
        // beside the next batch's signature checks; its verdict comes after the log's.
        let fold = ViewFold()
        audit.observer = fold
        let progress = Progress(label: "audited")
        audit.progress = { verified, read, total in progress.update(read, total, unit: "bytes", detail: "\(verified) entries") }
        var report = try audit.run()
        progress.finish()
        if report.ok, let failure = fold.finish(sealed: report.sealed) { report.failure = failure }
        return report
    }
}

/// `ledger audit`: check a bundle with no database.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit an export bundle with no database: BagIt fixity, every entry, every checkpoint, bag-info claims, cosignatures.",
        discussion: """
            Trusts only the genesis key id given with --trust (and the witnesses given with --witness). Checks are those of \
            docs/FORMAT.md §14, in that order; the first failure is the verdict. Exit 0 when everything holds, 1 when the bundle fails \
            (the reason names the step, the file and the entry index), 64 for bad arguments, 74 when the directory cannot be read. \
            --json prints a report fit to attach to a chain-of-custody record.
            """)

    @OptionGroup var input: BundleAuditOption
    @OptionGroup var output: JSONOutputOption

    func run() throws {
        let witnesses = try input.policy.witnesses()
        try guarded { () throws(LedgerError) in
            let started = SystemClock().now()
            let report = try input.audit(witnesses: witnesses)
            if output.json {
                printJSON(
                    AuditCommand.json(
                        report, bag: input.bag, trust: input.trust, witnesses: witnesses, quorum: input.policy.effectiveQuorum, auditedAt: started))
            } else if report.ok {
                AuditCommand.printText(report, witnesses: witnesses)
            }
            if let failure = report.failure {
                throw LedgerError(.verificationFailed, "audit failed: \(failure.description)")
            }
        }
    }

    static func printText(_ r: BagAudit.Report, witnesses: [VerifierKey]) {
        print("ok: \(r.treeSize) entries, \(r.checkpoints.count) checkpoints, \(r.keys.count) keys, \(r.files) payload files verified")
        print("origin:         \(Terminal.safe(r.origin ?? ""))")
        print("root:           \(r.root?.hex ?? "")")
        print("genesis key id: \(r.genesisKeyID ?? "")  (pinned)")
        print("exported at:    \(r.exportTime ?? "")")
        if let first = r.sealed.first {
            print("keeper's bundle: \(r.sealed.count) sealed values for \(first.reader), each at its commitment in the log (not opened)")
        }
        if let last = r.checkpoints.last {
            if witnesses.isEmpty {
                print("cosignatures:   not checked (no --witness given)")
            } else {
                let names = last.cosigners.map { "\($0.name) at \(Bag.exportTimeText(Timestamp(microseconds: Int64(clamping: $0.time) &* 1_000_000)))" }
                print("cosigned by:    \(names.isEmpty ? "none" : names.joined(separator: ", "))")
            }
        }
    }

    static func json(_ r: BagAudit.Report, bag: String, trust: String, witnesses: [VerifierKey], quorum: Int, auditedAt: Timestamp) -> [(
        key: String, value: JSONValue
    )] {
        let failure: JSONValue =
            r.failure.map { f in
                .object(
                    JSONObject(uniqueMembers: [
                        ("step", .string(f.step.rawValue)), ("index", f.index.map { .int($0) } ?? .null), ("file", f.file.map { .string($0) } ?? .null),
                        ("reason", .string(f.reason)),
                    ]))
            } ?? .null
        let keys: [JSONValue] = r.keys.map { k in
            .object(
                JSONObject(uniqueMembers: [
                    ("keyID", .string(k.keyID)), ("name", .string(k.name)), ("roles", .array(k.roles.map { .string($0.rawValue) })),
                    ("enrolledAt", .int(k.enrolledAt)), ("revokedAt", k.revokedAt.map { .int($0) } ?? .null),
                ]))
        }
        let checkpoints: [JSONValue] = r.checkpoints.map { c in
            .object(
                JSONObject(uniqueMembers: [
                    ("size", .int(c.size)), ("root", .string(c.root.hex)),
                    ("cosigners", .array(c.cosigners.map { .object(JSONObject(uniqueMembers: [("name", .string($0.name)), ("time", .int($0.time))])) })),
                    ("otherSigners", .array(c.otherSigners.map { .string($0) })),
                ]))
        }
        return [
            ("ok", .bool(r.ok)), ("tool", .string("ledger audit (IncidentLedger formats 1 and 2)")), ("auditedAt", .string(Bag.exportTimeText(auditedAt))),
            ("bag", .string(bag)), ("trustedGenesisKeyID", .string(trust)), ("origin", r.origin.map { .string($0) } ?? .null),
            ("treeSize", .int(r.treeSize)), ("root", r.root.map { .string($0.hex) } ?? .null), ("genesisKeyID", r.genesisKeyID.map { .string($0) } ?? .null),
            ("exportTime", r.exportTime.map { .string($0) } ?? .null), ("entriesSHA256", r.entriesDigest.map { .string($0.hex) } ?? .null),
            ("payloadFiles", .int(UInt64(r.files))), ("payloadOctets", .int(r.payloadOctets)),
            ("witnesses", .array(witnesses.map { .string($0.encoded) })), ("quorum", .int(UInt64(witnesses.isEmpty ? 0 : quorum))),
            ("keys", .array(keys)), ("checkpoints", .array(checkpoints)), ("failure", failure),
        ]
    }
}

/// `ledger import`: audit a bundle, then build a working ledger from it.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Audit an export bundle, then build a new ledger file from it (entries byte for byte, checkpoints with their cosignatures).",
        discussion: """
            The audit is `ledger audit`'s; an import happens only when it passes. The new file is built under a temporary name and \
            appears at --ledger only when complete; an existing file is never overwritten. Exit codes as for audit, and 3 when an \
            entry breaks an archive rule (the bundle is a valid log, but not one this tool would have written).
            """)

    @OptionGroup var input: BundleAuditOption
    @Option(help: ArgumentHelp("Path of the new ledger file, or a postgres:// URL of a database holding no ledger.", valueName: "path|url"))
    var ledger: String

    func run() throws {
        let witnesses = try input.policy.witnesses()
        try guarded { () throws(LedgerError) in
            let location = try Locations.parse(ledger)
            guard location is PostgresLocation || !FileManager.default.fileExists(atPath: ledger) else {
                throw LedgerError(.io, "\(ledger) already exists; choose a new path (an existing ledger is never overwritten)")
            }
            // keepNotes: the checkpoint bytes stored are the ones audited.
            let report = try input.audit(witnesses: witnesses, keepNotes: true)
            if let failure = report.failure { throw LedgerError(.verificationFailed, "audit failed, nothing imported: \(failure.description)") }
            let building = Progress(label: "imported")
            let store = try OpenLedgers.adopt(
                Ledger.importBundle(
                    at: location, entries: input.bag + "/" + Bag.entriesPath, checkpoints: report.checkpoints.map { ($0.size, $0.note) }, size: report.treeSize,
                    root: report.root!, sealed: report.sealed, progress: building.update))
            building.finish()
            print("imported \(report.treeSize) entries and \(report.checkpoints.count) checkpoints into \(location.description)")
            if let first = report.sealed.first { print("and \(report.sealed.count) sealed values for \(first.reader)") }
            print("root:           \(try store.root(size: try store.size()).hex)")
            print("genesis key id: \(store.genesisKeyID)  (pinned)")
        }
    }
}
