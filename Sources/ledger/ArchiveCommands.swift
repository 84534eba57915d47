import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `--as-of TIME` or `--at-size N`: the moment a view is taken at.
struct AsOfOption: ParsableArguments {
    @Option(
        name: .customLong("as-of"), help: ArgumentHelp("Show the archive as it stood at this moment (RFC 3339, e.g. 2019-06-01T00:00:00Z).", valueName: "time"))
    var asOf: String?
    @Option(
        name: .customLong("at-size"), parsing: .unconditional,
        help: ArgumentHelp("Show the archive as it stood when the log had this many entries.", valueName: "n"))
    var atSize: UInt64?

    func validate() throws {
        if asOf != nil && atSize != nil { throw ValidationError("--as-of and --at-size are alternatives") }
        if let asOf, Timestamp.parseRFC3339(asOf) == nil {
            throw ValidationError("--as-of \"\(Terminal.safe(asOf))\" is not a UTC time such as 2019-06-01T00:00:00Z (RFC 3339 with Z)")
        }
    }

    var isSet: Bool { asOf != nil || atSize != nil }

    /// The tree size the view is taken at, and the moment it names (RFC 3339 with microseconds).
    func resolve(_ store: Ledger) throws(LedgerError) -> (size: UInt64, moment: String) {
        try store.moment(asOf: asOf.flatMap { Timestamp.parseRFC3339($0) }, atSize: atSize, now: SystemClock().now(), names: ("--as-of", "--at-size"))
    }
}

/// Refuses an argument that is not an entity id.
func requireEntityID(_ id: String) throws(LedgerError) { try ArchiveDocument.requireEntityID(id) }

/// `ledger show ID`: one entity's view.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an incident, facility, actor, source or aggregate count: now, or as the archive held it at an earlier moment.")

    @OptionGroup var ledger: LedgerOption
    @Argument(help: ArgumentHelp("Entity id, e.g. incident:2016-09-28-m10 or facility:m10.", valueName: "id"))
    var id: String
    @OptionGroup var moment: AsOfOption
    @OptionGroup var reader: ReaderKeyOption
    @OptionGroup var output: JSONOutputOption

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.openArchive()
            try requireEntityID(id)
            let readerKey = try reader.load()
            let (size, when) = try moment.resolve(store)
            let view = ArchiveView(source: store, size: moment.isSet ? size : nil)
            guard var entity = try view.entity(id) else { throw ArchiveDocument.notInArchive(id, size: size, moment: moment.isSet ? when : nil) }
            // Sealed values: opened for the reader whose key is given, else shown as sealed.
            entity.state = try store.openSealed(.object(entity.state), reader: readerKey).objectValue ?? entity.state
            let state = entity.state
            if output.json {
                print(String(decoding: Canonical.encode(ArchiveDocument.entity(entity, requested: id, moment: moment.isSet ? when : nil)), as: UTF8.self))
                return
            }
            for m in entity.merges {
                print("note: \(Terminal.safe("\(m.from) was merged into \(m.into) (entry \(EntityText.inline(m.entry)))"))")
            }
            if moment.isSet { print("as of \(when.isEmpty ? "the start" : when) (tree size \(size))") }
            print(try EntityText.render(state, names: { (id) throws(LedgerError) in try view.displayName(id) }, attacks: entity.attacks))
        }
    }
}

/// `ledger history ID`: every revision of an entity, field by field.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List every revision of an entity: entry, record time, signer, event type, reason, and each field's old → new.")

    @OptionGroup var ledger: LedgerOption
    @Argument(help: ArgumentHelp("Entity id.", valueName: "id"))
    var id: String
    @OptionGroup var reader: ReaderKeyOption
    @OptionGroup var output: JSONOutputOption

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.openArchive()
            try requireEntityID(id)
            let readerKey = try reader.load()
            let revisions = try store.revisions(of: id)
            guard !revisions.isEmpty else { throw LedgerError(.malformed, "\(id) is not in the archive") }
            if output.json {
                for r in revisions {
                    let document = try store.openSealed(.object(ArchiveDocument.revision(r)), reader: readerKey)
                    print(String(decoding: JSONWriter.encode(document), as: UTF8.self))
                }
                return
            }
            for r in revisions {
                let e = r.entry
                var head = "entry \(e.index)  \(e.recordedAt)  \(e.payload.type)  by \(Terminal.isolated(e.signerName))"
                if e.payload.subject != id { head += "  (on \(e.payload.subject))" }
                print(head)
                if let reason = e.payload.body["reason"]?.stringValue { print("    reason: \(Terminal.isolated(reason))") }
                let width = min(32, r.changes.map(\.path.count).max() ?? 0)
                for c in r.changes {
                    let old = try c.old.map { (v) throws(LedgerError) in try store.openSealed(v, reader: readerKey) }
                    let new = try c.new.map { (v) throws(LedgerError) in try store.openSealed(v, reader: readerKey) }
                    print("    \(c.path.rightPad(width))  \(EntityText.inline(old)) → \(EntityText.inline(new))")
                }
            }
        }
    }
}

/// `ledger list`: incidents matching filters, now or as of a moment.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List incidents, filtered by when they occurred, place, facility, perpetrator, status; now or as of a moment.")

    @OptionGroup var ledger: LedgerOption
    @Option(
        name: .customLong("occurred-from"),
        help: ArgumentHelp("Incidents that may have occurred on or after this day (YYYY, YYYY-MM or YYYY-MM-DD).", valueName: "date"))
    var occurredFrom: String?
    @Option(name: .customLong("occurred-to"), help: ArgumentHelp("Incidents that may have occurred on or before this day.", valueName: "date"))
    var occurredTo: String?
    @Option(help: ArgumentHelp("Governorate, district or town (exact name).", valueName: "name"))
    var place: String?
    @Option(help: ArgumentHelp("A facility id: incidents that hit it.", valueName: "id"))
    var facility: String?
    @Option(help: ArgumentHelp("An actor id: incidents where an asserting claim or the archive's assessment names it.", valueName: "id"))
    var perpetrator: String?
    @Option(help: ArgumentHelp("active, merged or retracted.", valueName: "status"))
    var status: String?
    @Option(help: ArgumentHelp("rumor, possible, probable or confirmed.", valueName: "grade"))
    var certainty: String?
    @Option(help: ArgumentHelp("unverified, in-review, verified or disputed.", valueName: "state"))
    var verification: String?
    @OptionGroup var moment: AsOfOption
    @OptionGroup var output: JSONOutputOption

    func filter() throws(LedgerError) -> IncidentFilter {
        try IncidentFilter(
            occurredFrom: occurredFrom, occurredTo: occurredTo, place: place, facility: facility, perpetrator: perpetrator, status: status,
            certainty: certainty, verification: verification,
            name: { part in
                switch part {
                case .occurredFrom: return "--occurred-from"
                case .occurredTo: return "--occurred-to"
                default: return "--\(part.rawValue)"
                }
            })
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.openArchive()
            let f = try filter()
            let incidents = try ArchiveView(source: store, size: moment.isSet ? try moment.resolve(store).size : nil).incidents(matching: f)
            if output.json {
                for s in incidents { print(String(decoding: Canonical.encode(s), as: UTF8.self)) }
                return
            }
            let idWidth = min(60, incidents.map { ($0["id"]?.stringValue ?? "").count }.max() ?? 2)
            print("id".rightPad(idWidth) + "  " + "occurred".rightPad(23) + "  " + "status".rightPad(9) + "  " + "certainty".rightPad(9) + "  place / title")
            for s in incidents {
                let r = IncidentIndexRow(s)
                let place = [r.town, r.admin2, r.admin1].compactMap { $0 }.first ?? ""
                let title = EntityText.preferred(s["title"]?.objectValue) ?? ""
                print(
                    r.id.rightPad(idWidth) + "  " + (s["occurred"]?.stringValue ?? "").rightPad(23) + "  " + r.status.rightPad(9) + "  "
                        + (r.certainty ?? "-").rightPad(9) + "  " + Terminal.isolated(place) + " — " + Terminal.isolated(title))
            }
        }
    }
}

/// `ledger snapshot`: the whole archive as deterministic JSON.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write the whole archive, now or as of a moment, as deterministic JSON; print its SHA-256. Or check a snapshot against a checkpoint.",
        discussion: """
            The same moment always gives the same bytes, however many entries were appended since. A checkpoint commits to the \
            snapshot at its tree size (docs/FORMAT.md §7): `ledger snapshot --check CHECKPOINT --log-key VKEY FILE` checks, with no \
            ledger, that FILE is the archive's official view at that size (exit 0), or says why not (exit 1).
            """)

    @OptionGroup var ledgerArgument: OptionalLedgerOption
    @OptionGroup var moment: AsOfOption
    @OptionGroup var reader: ReaderKeyOption
    @Option(help: ArgumentHelp("Output file (refused if it exists).", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Check FILE against this signed checkpoint instead of writing a snapshot.", valueName: "checkpoint"))
    var check: String?
    @Option(name: .customLong("log-key"), help: ArgumentHelp("With --check: the log's verifier key (`ledger key vkey`), text or file.", valueName: "vkey"))
    var logKeyArgs: [String] = []
    @Argument(help: ArgumentHelp("With --check: the snapshot file to check.", valueName: "file"))
    var file: String?

    var ledger: LedgerOption { ledgerArgument.ledger }

    func validate() throws {
        if check != nil {
            guard file != nil, out == nil, ledgerArgument.given == nil, !moment.isSet, reader.readerKey == nil else {
                throw ValidationError("--check takes the snapshot FILE and --log-key, and no --ledger, --out, moment or --reader-key")
            }
            guard !logKeyArgs.isEmpty else { throw ValidationError("--check needs the log's verifier key (--log-key; see `ledger key vkey`)") }
        } else {
            guard out != nil, file == nil, logKeyArgs.isEmpty else { throw ValidationError("give --out FILE (or --check CHECKPOINT --log-key VKEY FILE)") }
            try ledger.validate()
        }
    }

    func run() throws {
        if let check {
            let keys = try logKeyArgs.map { try readVerifierKey($0, option: "--log-key") }
            for k in keys where k.kind != .log { throw ValidationError("--log-key \(k.name): this is a witness key, not a log key") }
            try guarded { () throws(LedgerError) in try Self.check(snapshot: file!, checkpoint: check, logKeys: keys) }
            return
        }
        let out = out!
        try guarded { () throws(LedgerError) in
            let store = try ledger.openArchive()
            guard !FileManager.default.fileExists(atPath: out) else { throw LedgerError(.io, "\(out) already exists; choose another name") }
            let readerKey = try reader.load()
            var requested: UInt64?
            var when: String?
            if moment.isSet { (requested, when) = try moment.resolve(store) }
            var (bytes, size, asOf) = try store.snapshot(atSize: requested, asOf: when)
            // A keeper's snapshot: the sealed values wrapped for the reader, opened. It is not
            // the archive's official view (whose states hold commitments only).
            if let readerKey { bytes = try store.openSealedSnapshot(bytes, reader: readerKey) }
            let root = try store.root(size: size)
            try OutputFile.write(bytes, to: out, private: true)  // restricted fields included
            print("\(SHA256.hash(bytes).hex)  \(out)")
            Terminal.note("snapshot of \(store.origin) at tree size \(size) (as of \(asOf.isEmpty ? "the start" : asOf)), root \(root.base64)")
        }
    }

    /// `--check`: the checkpoint is signed by a log key given, carries a view line, and the
    /// snapshot's bytes hash to it; its header names the checkpoint's origin, size and root.
    static func check(snapshot path: String, checkpoint: String, logKeys: [VerifierKey]) throws(LedgerError) {
        let note = try Input.read(checkpoint, limit: Limits.note, what: Limits.noteName).bytes
        let cp = try NoteChecker(logKeys: logKeys, witnesses: [], quorum: 0).check(note, what: "the checkpoint \(checkpoint)")
        guard let view = cp.view else {
            throw LedgerError(
                .verificationFailed, "the checkpoint \(checkpoint) (size \(cp.size)) commits to no view: it has no `incidentledger-view` line (format 1)")
        }
        let bytes = try Input.read(path, limit: 1 << 34, what: nil).bytes
        let hash = SHA256.hash(bytes)
        // The header first, for a message that says what differs.
        let headerLine = bytes.split(separator: 0x0A, maxSplits: 1).first.map(Array.init) ?? []
        if let header = try? JSONParser.parseObject(Array(headerLine.dropLast()) + [0x7D], limits: .init(maxBytes: 1 << 20, maxDepth: 8, requireNFC: false)),
            let h = header["snapshot"]?.objectValue
        {
            if h["origin"]?.stringValue != cp.origin || h["treeSize"]?.unsignedIntegerValue != cp.size || h["rootHash"]?.stringValue != cp.root.base64 {
                throw LedgerError(
                    .verificationFailed,
                    "\(path) is a snapshot of \(h["origin"]?.stringValue ?? "?") at tree size \(h["treeSize"]?.unsignedIntegerValue.map { String($0) } ?? "?"), "
                        + "not of \(cp.origin) at the checkpoint's size \(cp.size) and root")
            }
        }
        guard hash == view else {
            throw LedgerError(
                .verificationFailed,
                "\(path) hashes to \(hash.hex), but the checkpoint commits to the view \(view.hex): it is not the archive's snapshot at tree size "
                    + "\(cp.size) (a keeper's snapshot, one made with --as-of, or an altered file)")
        }
        print("ok: \(path) is the archive's view at tree size \(cp.size) of \(cp.origin), as the checkpoint signed by its log key commits to")
    }
}

/// `ledger rebuild`: recompute every projection from the log.
struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recompute every projection (current views, indexes) from the log, in one transaction.")

    @OptionGroup var ledger: LedgerOption

    func run() throws {
        try guarded { () throws(LedgerError) in
            let store = try ledger.open()
            let progress = Progress(label: "rebuilding")
            let report = try store.rebuildProjections(progress: progress.update)
            progress.finish()
            print(String(format: "rebuilt %d entities from %llu archive events in %.2f s", report.entities, report.events, report.seconds))
        }
    }
}

/// Writes a new file completely under a temporary name, syncs it, then links it into place:
/// a crash leaves either no file at `path` or the whole one. Refuses to overwrite.
enum OutputFile {
    /// Writes `bytes` to the new file `out` (as `write` does), or to standard output when nil.
    static func emit(_ bytes: [UInt8], out: String?, private isPrivate: Bool = false) throws(LedgerError) {
        if let out { try write(bytes, to: out, private: isPrivate) } else { FileHandle.standardOutput.write(Data(bytes)) }
    }

    /// Writes a new file; `private` (for output holding sensitive fields) makes it mode 0600
    /// whatever the umask, otherwise it is 0644 less the umask.
    static func write(_ bytes: [UInt8], to path: String, private isPrivate: Bool = false) throws(LedgerError) {
        try write(bytes, to: path, replacing: false, private: isPrivate)
    }

    /// Like `write`, but atomically replaces an existing file (rename over it).
    static func replace(_ bytes: [UInt8], at path: String) throws(LedgerError) {
        try write(bytes, to: path, replacing: true, private: false)
    }

    private static func write(_ bytes: [UInt8], to path: String, replacing: Bool, private isPrivate: Bool) throws(LedgerError) {
        guard replacing || !FileManager.default.fileExists(atPath: path) else { throw LedgerError(.io, "\(path) already exists; choose another name") }
        let temp = path + ".writing-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, isPrivate ? PrivateFiles.fileMode : 0o644)
        guard fd >= 0 else { throw LedgerError(.io, "\(path) cannot be created: \(String(cString: strerror(errno)))") }
        defer { unlink(temp) }
        if isPrivate {
            do { try PrivateFiles.restrict(fd, path: path) } catch {
                close(fd)
                throw error
            }
        }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw LedgerError(.io, "\(path): write failed: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { throw LedgerError(.io, "\(path): fsync failed: \(String(cString: strerror(errno)))") }
        guard (replacing ? rename(temp, path) : link(temp, path)) == 0 else {
            throw LedgerError(.io, "\(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        let dir = open(PathParts.split(path).directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
