import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// A clock that moves one hour forward each time the ledger asks (once per append batch), so
/// record times spread over years and `--as-of` moments select real prefixes.
final class SteppingClock: LedgerClock, @unchecked Sendable {
    private var t: Timestamp
    init(start: Timestamp) { t = start }
    func now() -> Timestamp {
        t.microseconds += 3_600_000_000
        return t
    }
}

/// Generates a synthetic archive shaped like the real one: actors, facilities and sources
/// registered over time; incidents reported, then cited, claimed, counted, corrected, assessed,
/// graded and reviewed, mostly soon after the report and sometimes years later; a few merges
/// and retractions. Every event is valid under the archive rules. Demo keys from fixed seeds.
struct ArchiveGenerator {
    static let origin = "bench.example/synthetic-archive"
    static func key(_ n: UInt8) -> Ed25519.PrivateKey { try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: n, count: 32))) }
    let admin = key(1)
    let archivist = key(2)
    let reviewer = key(3)

    var rng = SplitMix64(seed: 2015)
    var n = 0
    var revisions: [String: UInt64] = [:]
    var actors: [String] = []
    var facilities: [String] = []
    var sources: [String] = []
    /// Active incidents (merged and retracted ones leave this list).
    var active: [String] = []
    var retracted: [String] = []
    var certainty: [String: String] = [:]
    var verification: [String: String] = [:]
    var corrections: [String: Int] = [:]
    var citations: [String: Int] = [:]

    struct Draft {
        var type: String
        var subject: String
        var expects: UInt64
        var body: JSONObject
        var reviewer: Bool
    }

    func text(_ s: String) -> JSONValue { .string(s) }
    func obj(_ m: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(uniqueMembers: m.map { (key: $0.0, value: $0.1) })) }
    func lang(_ en: String, ar: String? = nil) -> JSONValue {
        var m: [(String, JSONValue)] = [("en", .string(en))]
        if let ar { m.insert(("ar", .string(ar)), at: 0) }
        return obj(m)
    }

    static let governorates = ["Idlib", "Aleppo", "Hama", "Rif Dimashq", "Daraa", "Homs", "Latakia"]
    static let towns = ["Kafr Nabl", "Maarrat al-Nu'man", "Khan Shaykhun", "Atarib", "Darat Izza", "Sarmin", "Azaz", "Douma", "Tarmala", "Ariha"]

    mutating func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func draft(_ type: String, _ subject: String, _ body: [(String, JSONValue)], reviewer: Bool = false) -> Draft {
        let expects = revisions[subject, default: 0]
        revisions[subject] = expects + 1
        return Draft(type: type, subject: subject, expects: expects, body: JSONObject(uniqueMembers: body.map { (key: $0.0, value: $0.1) }), reviewer: reviewer)
    }

    mutating func date() -> String {
        let y = Int.random(in: 2015...2024, using: &rng), m = Int.random(in: 1...12, using: &rng), d = Int.random(in: 1...28, using: &rng)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return String(format: "%04d-%02d", y, m)
        case 1: return String(format: "%04d-%02d-%02d/%04d-%02d-%02d", y, m, d, y, m, min(28, d + 1))
        default: return String(format: "%04d-%02d-%02d", y, m, d)
        }
    }

    mutating func place() -> JSONValue {
        obj([("admin1", text(pick(Self.governorates))), ("town", text(pick(Self.towns)))])
    }

    /// The next event; `progress` is how far through the run we are (0…1).
    mutating func next() -> Draft {
        n += 1
        if actors.count < 40 {
            let id = "actor:a\(actors.count)"
            actors.append(id)
            return draft(
                "actor.registered", id,
                [("names", lang("Armed actor \(actors.count)")), ("type", text(pick(["state-forces", "state", "non-state-armed-group"])))])
        }
        if facilities.count < 20 || chance(0.005) {
            let id = "facility:f\(facilities.count)"
            facilities.append(id)
            return draft(
                "facility.registered", id,
                [
                    ("names", lang("Hospital \(facilities.count)", ar: "مستشفى \(facilities.count)")),
                    ("type", text(pick(["hospital", "maternity", "underground", "field", "clinic"]))),
                    ("operators", .array([text(pick(["SAMS", "MSF", "UOSSM"]))])), ("location", place()),
                ])
        }
        if sources.count < 20 || chance(0.02) {
            let id = "source:s\(sources.count)"
            sources.append(id)
            return draft(
                "source.registered", id,
                [
                    ("publisher", text(pick(["SAMS", "PHR", "UN OCHA", "Amnesty International", "The New York Times", "UOSSM"]))),
                    ("title", text("Report number \(sources.count) on attacks on health care")), ("lang", text("en")),
                    ("type", text(pick(["report", "news", "investigation", "statement"]))), ("published", text(date())),
                ])
        }
        if active.count < 10 || chance(0.066) {
            let id = "incident:i\(n)"
            active.append(id)
            verification[id] = "unverified"
            var body: [(String, JSONValue)] = [
                ("title", lang("Strike on a hospital, event \(n)", ar: "غارة على مستشفى \(n)")), ("occurred", text(date())), ("place", place()),
                (
                    "facilities",
                    .array([obj([("facility", text(pick(facilities))), ("impact", text(pick(["destroyed", "damaged", "out-of-service", "unknown"])))])])
                ),
                ("means", .array([text(pick(["airstrike", "barrel-bomb", "missile", "shelling"]))])),
                ("summary", lang("A synthetic incident for benchmarks:\(String(repeating: " details", count: 12))")),
            ]
            if chance(0.5) { body.append(("sources", .array([text(pick(sources))]))) }
            return draft("incident.reported", id, body)
        }
        // Follow-ups: mostly on recent incidents, sometimes on old ones.
        let recent = active.count > 300 && chance(0.85)
        let idx = recent ? Int.random(in: (active.count - 300)..<active.count, using: &rng) : Int.random(in: 0..<active.count, using: &rng)
        let id = active[idx]
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<22:
            citations[id, default: 0] += 1
            return draft("incident.source-cited", id, [("source", text(pick(sources))), ("locator", text("p. \(citations[id]!)"))])
        case 22..<42:
            let either = chance(0.3)
            let p: JSONValue = either ? obj([("eitherOf", .array([text(actors[0]), text(actors[1])]))]) : text(pick(actors))
            let denies = chance(0.2)
            var body: [(String, JSONValue)] = [
                ("claimant", text(chance(0.5) ? pick(sources) : pick(actors))), ("perpetrator", p), ("stance", text(denies ? "denies" : "asserts")),
                ("basis", .array([text(pick(["witness-testimony", "flight-observations", "radio-intercepts", "munition-remnants"]))])),
            ]
            if denies { body.append(("alternative", text("says it struck other targets"))) }
            return draft("attribution.claimed", id, body)
        case 42..<60:
            let lo = Int.random(in: 0...20, using: &rng)
            return draft(
                "casualties.reported", id,
                [
                    ("source", text(pick(sources))), ("category", text(pick(["killed", "injured", "health-workers-killed"]))),
                    ("min", .number(String(lo))), ("max", .number(String(lo + Int.random(in: 0...5, using: &rng)))),
                ])
        case 60..<72:
            corrections[id, default: 0] += 1
            return draft(
                "incident.corrected", id,
                [
                    ("changes", obj([("title", lang("Strike on a hospital, event \(n), corrected \(corrections[id]!)"))])), ("reason", text("a better source")),
                ])
        case 72..<78:
            return draft(
                "casualties.adopted", id, [("category", text("killed")), ("min", .number("1")), ("max", .number("3")), ("rule", text("range-of-sources"))],
                reviewer: true)
        case 78..<85:
            return draft(
                "attribution.assessed", id,
                [("perpetrator", text(pick(actors))), ("confidence", text(pick(["low", "moderate", "high"]))), ("rationale", text("weighing the claims"))],
                reviewer: true)
        case 85..<91:
            let grades = Vocabulary.certainties.filter { $0 != certainty[id] }
            let g = pick(grades)
            certainty[id] = g
            return draft("incident.certainty-graded", id, [("certainty", text(g)), ("reason", text("new evidence"))], reviewer: true)
        case 91..<98:
            let from = verification[id] ?? "unverified"
            let to = pick(["unverified": ["in-review"], "in-review": ["verified", "disputed"], "verified": ["in-review"], "disputed": ["in-review"]][from]!)
            verification[id] = to
            return draft("incident.verification-changed", id, [("to", text(to)), ("reason", text("review step"))], reviewer: true)
        case 98:
            if let r = retracted.popLast(), chance(0.5) {
                active.append(r)
                return draft("incident.reinstated", r, [("reason", text("the retraction was mistaken"))])
            }
            active.remove(at: idx)
            retracted.append(id)
            return draft("incident.retracted", id, [("reason", text("not an attack on health care"))])
        default:
            guard active.count > 2 else { return draft("incident.source-cited", id, [("source", text(pick(sources))), ("locator", text("x\(n)"))]) }
            active.remove(at: idx)
            let into = pick(active)
            return draft("incident.merged", id, [("into", text(into)), ("reason", text("the same strike, reported twice"))])
        }
    }

    /// Signs drafts in parallel; event ids are UUIDv7s derived from the event number.
    /// The one event of a durable single-append measurement: report number `number`, signed.
    func durableReport(_ number: Int, signedAt: Timestamp) -> [Envelope] {
        let body = JSONObject(uniqueMembers: [
            ("title", .object(JSONObject(uniqueMembers: [("en", .string("Durable report \(number)"))]))), ("occurred", .string("2019-05-05")),
            ("place", .object(JSONObject(uniqueMembers: [("admin1", .string("Idlib"))]))),
        ])
        return sign(
            [Draft(type: "incident.reported", subject: "incident:d\(number)", expects: 0, body: body, reviewer: false)], firstNumber: number,
            signedAt: signedAt)
    }

    /// The rows a bare insert writes for `events` appended after `setup` entries: each event's
    /// entry line and its subject's state after it.
    static func rawRows(_ events: [Envelope], setup: Int, recordedAt: Timestamp) throws -> (rows: [[UInt8]], states: [(id: String, state: [UInt8])]) {
        var rows: [[UInt8]] = []
        var states: [(id: String, state: [UInt8])] = []
        rows.reserveCapacity(events.count)
        states.reserveCapacity(events.count)
        var fold = ArchiveState()
        for (k, e) in events.enumerated() {
            rows.append(EntryLine(index: UInt64(k + setup), recordedAt: recordedAt, envelope: e).encoded())
            let pl = try EventPayload(bytes: e.payload)
            _ = try fold.apply(pl, index: UInt64(k))
            states.append((pl.subject, fold.encoded(pl.subject)!))
        }
        return (rows, states)
    }

    func sign(_ drafts: [Draft], firstNumber: Int, signedAt: Timestamp) -> [Envelope] {
        var out = [Envelope?](repeating: nil, count: drafts.count)
        out.withUnsafeMutableBufferPointer { buf in
            nonisolated(unsafe) let buf = buf
            Parallel.forEachChunk(count: drafts.count, parallelism: System.activeProcessorCount) { r in
                for i in r {
                    let d = drafts[i]
                    let number = UInt64(firstNumber + i)
                    let id = UUIDv7.deterministic(milliseconds: UInt64(signedAt.microseconds / 1000) + number, sequence: number)
                    let payload = EventPayload(
                        ledger: Self.origin, id: id, type: d.type, subject: d.subject, expects: d.expects,
                        signedAt: signedAt.signedTimeText, body: d.body)
                    buf[i] = Envelope.sign(payload: payload.encoded(), with: d.reviewer ? reviewer : archivist)
                }
            }
        }
        return out.map { $0! }
    }

    /// The genesis and the enrollments every generated archive starts with: the admin, an
    /// archivist, a reviewer and, when given, a log key (so checkpoints can be signed).
    func setup(start: Timestamp, logKey: Ed25519.PrivateKey? = nil) -> (genesis: Envelope, enrollments: [Envelope]) {
        let adminD = KeyDescriptor(publicKey: admin.publicKey, name: "Synthetic admin (DEMO key)", roles: [.admin])
        let genesis = sign(
            [
                Draft(
                    type: EventTypes.genesis, subject: adminD.keyID, expects: 0, body: JSONObject(uniqueMembers: [("admin", .object(adminD.json))]),
                    reviewer: false)
            ], firstNumber: 0, signedAt: start)[0]
        let signedGenesis = Envelope.sign(payload: genesis.payload, with: admin)
        var keys = [(archivist, "Synthetic archivist (DEMO key)", Role.archivist), (reviewer, "Synthetic reviewer (DEMO key)", Role.reviewer)]
        if let logKey { keys.append((logKey, "Synthetic log key (DEMO key)", Role.log)) }
        var enroll: [Envelope] = []
        for (k, name, role) in keys {
            let d = KeyDescriptor(publicKey: k.publicKey, name: name, roles: [role])
            let p = EventPayload(
                ledger: Self.origin,
                id: UUIDv7.format([0x01, 0x90, 0, 0, 0, UInt8(enroll.count + 1), 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, UInt8(enroll.count + 1)]),
                type: EventTypes.keyEnrolled, subject: d.keyID, expects: 0, signedAt: start.signedTimeText, body: d.json)
            enroll.append(Envelope.sign(payload: p.encoded(), with: admin))
        }
        return (signedGenesis, enroll)
    }

    /// After every date the generator draws (up to 2024-12-28), so none begins after its record day.
    static let start = Timestamp(microseconds: 1_735_689_600_000_000)  // 2025-01-01

    /// Creates a ledger at `path` holding `events` archive events (plus genesis and enrollments).
    static func generate(events: Int, path: String, progress: (Int) -> Void) throws -> Ledger {
        var g = ArchiveGenerator()
        let (genesis, enroll) = g.setup(start: start)
        let ledger = try Ledger.create(path: path, genesis: genesis, clock: SteppingClock(start: start))
        _ = try ledger.append(enroll)
        var done = 0
        while done < events {
            let count = min(10_000, events - done)
            var drafts: [Draft] = []
            drafts.reserveCapacity(count)
            for _ in 0..<count { drafts.append(g.next()) }
            _ = try ledger.append(g.sign(drafts, firstNumber: 100 + done, signedAt: start))
            done += count
            progress(done)
        }
        return ledger
    }
}
