import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// Shared fixtures: fixed keys from published seeds, a manual clock, and builders for
/// signed events and whole logs held in memory.
public enum Fixtures {
    /// A deterministic key from a one-byte seed pattern (never use outside tests).
    public static func key(_ n: UInt8) -> Ed25519.PrivateKey {
        try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: n, count: 32)))
    }

    /// The admin key used by fixture logs.
    public static let admin = key(1)
    /// An archivist key.
    public static let archivist = key(2)
    /// A reviewer key.
    public static let reviewer = key(3)
    /// A log (checkpoint) key.
    public static let logKey = key(4)
    /// A key never enrolled anywhere.
    public static let stranger = key(9)

    /// The fixture origin.
    public static let origin = "test.example/ledger"

    /// 2026-01-01T00:00:00Z.
    public static let epoch = Timestamp(microseconds: 1_767_225_600_000_000)

    /// A deterministic UUIDv7 for sequence number `n`.
    public static func eventID(_ n: UInt64) -> String {
        var b = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(epoch.microseconds / 1000) + n
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
        b[6] = 0x70
        for i in 0..<8 { b[8 + i] = UInt8(truncatingIfNeeded: n >> (8 * (7 - UInt64(i)))) }
        b[8] = 0x80 | (b[8] & 0x3F)
        return UUIDv7.format(b)
    }

    /// Signs a payload built from the parts.
    public static func envelope(
        type: String, subject: String, expects: UInt64, body: JSONObject, key: Ed25519.PrivateKey, n: UInt64,
        origin: String = Fixtures.origin
    ) -> Envelope {
        let payload = EventPayload(
            ledger: origin, id: eventID(n), type: type, subject: subject, expects: expects,
            signedAt: Timestamp(microseconds: epoch.microseconds + Int64(n) * 1000).signedTimeText, body: body)
        return Envelope.sign(payload: payload.encoded(), with: key)
    }

    /// The genesis envelope naming `admin`.
    public static func genesis(origin: String = Fixtures.origin, admin: Ed25519.PrivateKey = Fixtures.admin) -> Envelope {
        let d = KeyDescriptor(publicKey: admin.publicKey, name: "Fixture admin", roles: [.admin])
        return envelope(
            type: EventTypes.genesis, subject: d.keyID, expects: 0, body: JSONObject(uniqueMembers: [("admin", .object(d.json))]),
            key: admin, n: 0, origin: origin)
    }

    /// A `key.enrolled` envelope signed by the fixture admin.
    public static func enroll(_ key: Ed25519.PrivateKey, name: String, roles: [Role], n: UInt64, by admin: Ed25519.PrivateKey = Fixtures.admin) -> Envelope {
        let d = KeyDescriptor(publicKey: key.publicKey, name: name, roles: roles)
        return envelope(type: EventTypes.keyEnrolled, subject: d.keyID, expects: 0, body: d.json, key: admin, n: n)
    }

    /// A `key.revoked` envelope signed by the fixture admin.
    public static func revoke(_ key: Ed25519.PrivateKey, expects: UInt64 = 1, n: UInt64) -> Envelope {
        envelope(
            type: EventTypes.keyRevoked, subject: KeyID.of(key.publicKey), expects: expects,
            body: JSONObject(uniqueMembers: [("reason", .string("fixture revocation"))]), key: admin, n: n)
    }

    /// The key of the fixture reader of sealed values (docs/EVENTS.md §9).
    public static let readerKey = key(12)

    /// A `reader.enrolled` envelope for `reader:NAME` with `key`'s X25519 key, signed by the fixture admin.
    public static func enrollReader(_ name: String = "keeper", key: Ed25519.PrivateKey = Fixtures.readerKey, n: UInt64) -> Envelope {
        let body = JSONObject(uniqueMembers: [
            ("encryptionKey", .string(Base64.encode(try! ValueSealing.ReaderKey(key).publicKey))), ("name", .string(name)),
        ])
        return envelope(type: EventType.readerEnrolled.name, subject: "reader:\(name)", expects: 0, body: body, key: admin, n: n)
    }

    /// Events whose sealed fields (docs/EVENTS.md §9) still hold plain values, sealed as `ledger
    /// append --key` seals them: the envelopes (re-signed) and the openings to append them with.
    public static func sealing(_ envelopes: [Envelope], keys: [Ed25519.PrivateKey]) -> ([Envelope], [String: Sealing.Opening]) {
        var out: [Envelope] = []
        var openings: [String: Sealing.Opening] = [:]
        for (e, k) in zip(envelopes, keys) {
            var p = try! EventPayload(bytes: e.payload)
            if let t = p.eventType {
                let (body, taken) = Sealing.seal(type: t, body: p.body)
                p.body = body
                for s in taken { openings[s.commitment] = s.opening }
            }
            out.append(Envelope.sign(payload: p.encoded(), with: k))
        }
        return (out, openings)
    }

    /// The fixture incident id for `subject`: an id that already names its kind (`incident:…`) is
    /// kept; a bare name gets the `incident:` prefix.
    public static func incidentID(_ subject: String) -> String {
        subject.contains(":") ? subject : "incident:" + subject
    }

    /// The most code points one language's text may hold in an incident summary.
    public static let summaryLimit = 5000

    /// A language-text object of `count` copies of `fill`, spread over `parts` languages ("en", then
    /// private-use tags "en-x-p1", "en-x-p2", …), each text at most `summaryLimit` code points, so a
    /// valid incident body can carry any amount of padding. Parts may be empty when `count` is
    /// smaller than `parts` (only useful to measure a skeleton).
    public static func paddingTexts(_ count: Int, fill: Character = "x", parts: Int? = nil) -> JSONObject {
        let n = max(1, parts ?? (count + summaryLimit - 1) / summaryLimit)
        var members: [(key: String, value: JSONValue)] = []
        for i in 0..<n {
            let length = count / n + (i < count % n ? 1 : 0)
            members.append((i == 0 ? "en" : "en-x-p\(i)", .string(String(repeating: fill, count: length))))
        }
        return JSONObject(uniqueMembers: members)
    }

    /// A valid `incident.reported` body: title "Report n" (English and Arabic), a date and a place;
    /// with `padding`, a summary of that many extra characters.
    public static func reportBody(n: UInt64, padding: Int = 0) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = [
            ("title", .object(JSONObject(uniqueMembers: [("en", .string("Report \(n)")), ("ar", .string("تقرير \(n)"))]))),
            ("occurred", .string("2019-05-05")),
            ("place", .object(JSONObject(uniqueMembers: [("admin1", .string("Idlib"))]))),
        ]
        if padding > 0 { members.append(("summary", .object(paddingTexts(padding)))) }
        return JSONObject(uniqueMembers: members)
    }

    /// A valid `incident.corrected` body: the title becomes "Report n" (unique per `n`, so it always
    /// changes something); with `padding`, the summary becomes that many copies of a character
    /// chosen by `n` (so successive padded corrections differ too).
    public static func correctionBody(n: UInt64, padding: Int = 0) -> JSONObject {
        var changes: [(key: String, value: JSONValue)] = [
            ("title", .object(JSONObject(uniqueMembers: [("en", .string("Report \(n)")), ("ar", .string("تقرير \(n)"))])))
        ]
        if padding > 0 {
            let fill = Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(n % 26)))
            changes.append(("summary", .object(paddingTexts(padding, fill: fill))))
        }
        return JSONObject(uniqueMembers: [("changes", .object(JSONObject(uniqueMembers: changes))), ("reason", .string("fixture correction \(n)"))])
    }

    /// A valid archive event about incident `subject` (a bare name gets the `incident:` prefix):
    /// `incident.reported` when `expects` is 0, otherwise `incident.corrected` with a title unique
    /// to `n`. The body carries about `padding` extra bytes in its summary.
    public static func report(subject: String, expects: UInt64 = 0, n: UInt64, key: Ed25519.PrivateKey = Fixtures.archivist, padding: Int = 0) -> Envelope {
        if expects == 0 {
            return envelope(type: "incident.reported", subject: incidentID(subject), expects: 0, body: reportBody(n: n, padding: padding), key: key, n: n)
        }
        return envelope(
            type: "incident.corrected", subject: incidentID(subject), expects: expects, body: correctionBody(n: n, padding: padding), key: key, n: n)
    }

    /// The standard prefix of a fixture log: genesis, then archivist, reviewer and log keys enrolled.
    public static func standardPrefix() -> [Envelope] {
        [
            genesis(),
            enroll(archivist, name: "Fixture archivist", roles: [.archivist], n: 1),
            enroll(reviewer, name: "Fixture reviewer", roles: [.reviewer], n: 2),
            enroll(logKey, name: "Fixture log", roles: [.log], n: 3),
        ]
    }

    /// Entry lines for envelopes, as a log would record them, one microsecond apart.
    public static func lines(_ envelopes: [Envelope]) -> [[UInt8]] {
        envelopes.enumerated().map { i, e in
            EntryLine(index: UInt64(i), recordedAt: Timestamp(microseconds: epoch.microseconds + Int64(i)), envelope: e).encoded()
        }
    }
}

/// A clock the test moves by hand.
public final class ManualClock: LedgerClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp

    public init(_ start: Timestamp = Fixtures.epoch) { current = start }

    public func now() -> Timestamp { lock.withLock { current } }

    /// Moves the clock by `microseconds` (negative to go back).
    public func advance(_ microseconds: Int64) { lock.withLock { current.microseconds += microseconds } }

    /// Sets the clock.
    public func set(_ t: Timestamp) { lock.withLock { current = t } }
}

/// Temporary directories removed when the test ends.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory path.
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "ledger-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }
}
