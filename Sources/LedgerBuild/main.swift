// ledger-build: turns the human-readable records under Ledger/records into a signed ledger and
// its BagIt bundle, reproducibly: DEMO keys derived from published seeds, the record time each
// record gives, event ids and signing times derived from those times, a fixed export time.
// The same records always give a byte-identical bundle.
//
//   ledger-build RECORDS_DIR --out BUNDLE_DIR [--ledger PATH]

import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// The demo identity of the campaign archive. Published: never use for real evidence.
enum Demo {
    static let origin = "demo.incidentledger.example/syria-health-care"
    /// Seed of each demo key: SHA-256 of this label (UTF-8).
    static func key(_ label: String) -> Ed25519.PrivateKey {
        try! Ed25519.PrivateKey(seed: SecureBytes(SHA256.hash(utf8: label).bytes))
    }
    static let admin = key("IncidentLedger DEMO admin key (never for real use)")
    static let archivist = key("IncidentLedger DEMO archivist key (never for real use)")
    static let reviewer = key("IncidentLedger DEMO reviewer key (never for real use)")
    static let log = key("IncidentLedger DEMO log key (never for real use)")
    /// The archive's imagined start, before the first attack it records.
    static let genesisTime = "2012-08-01T00:00:00Z"
}

struct BuildError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A clock the builder sets to each record's time.
final class SetClock: LedgerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var t = Timestamp(microseconds: 0)
    func set(_ v: Timestamp) { lock.lock(); t = v; lock.unlock() }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return t }
}

struct Record {
    var file: String
    var position: Int
    var kindOrder: Int
    var subject: String
    var recorded: Timestamp
    var reviewer: Bool
    var type: String
    var body: JSONObject
}

func readRecords(_ dir: String) throws -> [Record] {
    var out: [Record] = []
    let fm = FileManager.default
    for (kindOrder, (kind, prefix)) in [
        ("actors", "actor"), ("sources", "source"), ("facilities", "facility"), ("incidents", "incident"), ("aggregates", "aggregate"),
    ].enumerated() {
        let sub = dir + "/" + kind
        let names = ((try? fm.contentsOfDirectory(atPath: sub)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            let file = "\(kind)/\(name)"
            guard let data = fm.contents(atPath: sub + "/" + name) else { throw BuildError("\(file): cannot be read") }
            let object: JSONObject
            do { object = try JSONParser.parseObject(Array(data)) } catch { throw BuildError("\(file): not a JSON object: \(error)") }
            guard Set(object.keys) == ["id", "events"], case .string(let id)? = object["id"], case .array(let events)? = object["events"] else {
                throw BuildError("\(file): expected exactly {\"id\": ..., \"events\": [...]}")
            }
            let expectedName = id.split(separator: ":", maxSplits: 1).last.map { String($0) + ".json" }
            guard expectedName == name, id.hasPrefix(prefix + ":") else {
                throw BuildError("\(file): id \(id) does not match the file (records/\(kind)/NAME.json holds \(prefix):NAME)")
            }
            var last: Timestamp?
            for (i, e) in events.enumerated() {
                let at = "\(file): events[\(i)]"
                guard case .object(let ev) = e, Set(ev.keys) == ["recorded", "by", "type", "body"],
                    case .string(let rec)? = ev["recorded"], case .string(let by)? = ev["by"], case .string(let type)? = ev["type"],
                    case .object(let body)? = ev["body"]
                else { throw BuildError("\(at): expected exactly recorded, by, type, body") }
                guard let t = Bag.parseExportTime(rec) else { throw BuildError("\(at).recorded: \(rec) is not YYYY-MM-DDTHH:MM:SSZ") }
                guard by == "archivist" || by == "reviewer" else { throw BuildError("\(at).by: archivist or reviewer, not \(by)") }
                if let last, t < last { throw BuildError("\(at).recorded: \(rec) is earlier than the event before it in the same file") }
                last = t
                do { try Archive.checkBody(type: type, subject: id, body: body) } catch { throw BuildError("\(at): \(error.message)") }
                out.append(Record(file: file, position: i, kindOrder: kindOrder, subject: id, recorded: t, reviewer: by == "reviewer", type: type, body: body))
            }
        }
    }
    // Record-time order; at equal times registrations (actors, sources, facilities) come first.
    return out.enumerated().sorted { a, b in
        if a.element.recorded != b.element.recorded { return a.element.recorded < b.element.recorded }
        return a.offset < b.offset
    }.map(\.element)
}

func build(records dir: String, out: String, ledgerPath: String?) throws {
    let records = try readRecords(dir)
    guard !records.isEmpty else { throw BuildError("\(dir): no records found") }
    let clock = SetClock()
    let temp = NSTemporaryDirectory() + "ledger-build-\(getpid())"
    try? FileManager.default.removeItem(atPath: temp)
    try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: temp) }
    let path = ledgerPath ?? temp + "/campaign.ledger"
    var seq: UInt64 = 0
    var revisions: [String: UInt64] = [:]
    func envelope(_ type: String, _ subject: String, _ body: JSONObject, _ key: Ed25519.PrivateKey, _ at: Timestamp) -> Envelope {
        let expects = revisions[subject, default: 0]
        revisions[subject] = expects + 1
        let payload = EventPayload(
            ledger: Demo.origin, id: UUIDv7.deterministic(milliseconds: UInt64(at.microseconds / 1000), sequence: seq), type: type, subject: subject,
            expects: expects, signedAt: at.signedTimeText, body: body)
        seq += 1
        return Envelope.sign(payload: payload.encoded(), with: key)
    }
    // Record times: the record's second, plus one microsecond per event already recorded in it,
    // so every entry has its own time and the order is the records' order.
    var lastTime = Timestamp(microseconds: Int64.min)
    func time(_ t: Timestamp) -> Timestamp {
        lastTime = max(t, Timestamp(microseconds: lastTime.microseconds + 1))
        return lastTime
    }
    let start = Bag.parseExportTime(Demo.genesisTime)!
    let adminD = KeyDescriptor(publicKey: Demo.admin.publicKey, name: "DEMO admin (published seed, never for real use)", roles: [.admin])
    clock.set(time(start))
    let genesis = envelope(EventTypes.genesis, adminD.keyID, JSONObject(uniqueMembers: [("admin", .object(adminD.json))]), Demo.admin, lastTime)
    let ledger = try Ledger.create(path: path, genesis: genesis, clock: clock)
    for (key, name, role) in [
        (Demo.archivist, "DEMO archivist (published seed, never for real use)", Role.archivist),
        (Demo.reviewer, "DEMO reviewer (published seed, never for real use)", Role.reviewer),
        (Demo.log, "DEMO log key (published seed, never for real use)", Role.log),
    ] {
        let d = KeyDescriptor(publicKey: key.publicKey, name: name, roles: [role])
        clock.set(time(start))
        _ = try ledger.append([envelope(EventTypes.keyEnrolled, d.keyID, d.json, Demo.admin, lastTime)])
    }
    var year = String(records[0].recorded.recordTimeText.prefix(4))
    for r in records {
        let y = String(r.recorded.recordTimeText.prefix(4))
        if y != year {
            _ = try ledger.checkpoint(signingKey: Demo.log)  // one checkpoint at the end of each year with records
            year = y
        }
        clock.set(time(r.recorded))
        do {
            _ = try ledger.append([envelope(r.type, r.subject, r.body, r.reviewer ? Demo.reviewer : Demo.archivist, lastTime)])
        } catch {
            throw BuildError("\(r.file): events[\(r.position)] (\(r.type), recorded \(Bag.exportTimeText(r.recorded))): \(error.message)")
        }
    }
    _ = try ledger.checkpoint(signingKey: Demo.log)
    let report = try ledger.export(to: out, exportTime: records.last!.recorded)
    print("built \(report.treeSize) entries (\(records.count) from the records), \(report.checkpoints) checkpoints")
    print("bundle:         \(out)")
    print("root:           \(report.root.hex)")
    print("genesis key id: \(ledger.genesisKeyID)")
}

/// `ledger-build`: builds the campaign archive's signed ledger and BagIt bundle from its records, reproducibly.
struct LedgerBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-build",
        abstract: "Build the campaign archive's signed ledger and BagIt bundle from its human-readable records, byte for byte.",
        discussion: """
            Reads <records-dir>/{actors,sources,facilities,incidents,aggregates}/*.json (each file {"id": ..., "events": \
            [{"recorded", "by", "type", "body"}, ...]}), checks every body against the archive's schemas, and appends the \
            events in record-time order to a new ledger signed with the DEMO keys (derived from published seeds: never use \
            them for real evidence), with event ids and signing times derived from the record times, a checkpoint at the \
            end of each year with records and one at the end. Then exports the bundle with the last record time as its \
            export time and prints its size, root and genesis key id. The same records always give a byte-identical \
            bundle: Tools/build-ledger.sh runs `ledger-build Ledger/records --out DIR` and compares DIR with Ledger/bundle. \
            Exit status 0 on success, 1 when a record or the build fails (the file and event are named), 64 on a usage error.
            """)

    @Argument(help: ArgumentHelp("Directory of the records, e.g. Ledger/records.", valueName: "records-dir"))
    var records: String
    @Option(help: ArgumentHelp("Directory to write the BagIt bundle to; it must not exist.", valueName: "bundle-dir"))
    var out: String
    @Option(
        help: ArgumentHelp(
            "Also keep the signed ledger file at this path (it must not exist). Default: a temporary file, removed at the end.", valueName: "path"))
    var ledger: String?

    func run() throws {
        do {
            try build(records: records, out: out, ledgerPath: ledger)
        } catch let e as LedgerError {
            FileHandle.standardError.write(Data("ledger-build: error: \(e.description)\n".utf8))
            throw ExitCode.failure
        } catch {
            FileHandle.standardError.write(Data("ledger-build: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

LedgerBuildCommand.main()
