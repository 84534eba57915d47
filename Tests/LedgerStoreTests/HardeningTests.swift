import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

/// Issue 16: what a hostile review got through, each refused now and changing nothing.
@Suite("Hardening: unusable keys, ids before signatures, impossible dates")
final class HardeningTests {
    let dir = TemporaryDirectory()
    var place: TestPlace?

    func makeLedger(_ store: StoreKind = .sqlite, clock: ManualClock = ManualClock()) throws -> Ledger {
        let made = try StoreFixtures.standardLedger(store, dir: dir, clock: clock)
        place = made.place
        return made.ledger
    }

    func fingerprint(_ path: String) -> [String] { StoreFixtures.fingerprint(path) }

    /// `key.enrolled` for raw public-key bytes, signed by the fixture admin.
    static func enrollRaw(_ bytes: [UInt8], roles: [String], n: UInt64) -> Envelope {
        let body = JSONObject(uniqueMembers: [
            ("name", .string("Raw key")), ("publicKey", .string(Base64.encode(bytes))), ("roles", .array(roles.map { .string($0) })),
        ])
        return Fixtures.envelope(type: EventTypes.keyEnrolled, subject: SHA256.hash(bytes).hex, expects: 0, body: body, key: Fixtures.admin, n: n)
    }

    /// p − y for a little-endian 255-bit y (p = 2^255 − 19).
    static func negateY(_ y: [UInt8]) -> [UInt8] {
        var p = [UInt8](repeating: 0xFF, count: 32)
        p[0] = 0xED
        p[31] = 0x7F
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in 0..<32 {
            var d = Int(p[i]) - Int(y[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        return out
    }

    /// Encodings that are not usable Ed25519 public keys, with why.
    static var unusableKeys: [(String, [UInt8])] {
        let identity = [1] + [UInt8](repeating: 0, count: 31)  // (0, 1): order 1
        var orderTwo = negateY(identity)  // (0, −1): order 2
        orderTwo[31] &= 0x7F
        var nonCanonical = [UInt8](repeating: 0xFF, count: 32)  // y = 2^255 − 1 ≥ p
        nonCanonical[31] = 0x7F
        nonCanonical[0] = 0xEE  // p + 1: the non-canonical encoding of y = 1
        // P + (0, −1) = (−x, −y): a point of order 2L, outside the prime-order subgroup.
        let valid = Fixtures.key(40).publicKey.bytes
        var y = valid
        y[31] &= 0x7F
        var mixed = negateY(y)
        mixed[31] |= (valid[31] & 0x80) ^ 0x80
        return [("all zero", [UInt8](repeating: 0, count: 32)), ("identity", identity), ("order 2", orderTwo), ("y ≥ p", nonCanonical), ("order 2L", mixed)]
    }

    @Test("libsodium's point check: fixture keys usable, small-order, non-canonical and mixed-order encodings not")
    func pointCheck() {
        for n: UInt8 in 1...50 { #expect(Fixtures.key(n).publicKey.isUsable) }
        for (name, bytes) in Self.unusableKeys { #expect(Ed25519.PublicKey(bytes: bytes)?.isUsable == false, "\(name)") }
    }

    @Test(
        "enrolling an unusable admin key is refused at body.publicKey and changes nothing", arguments: StoreKind.inProcess, HardeningTests.unusableKeys.map(\.0)
    )
    func unusableEnrollment(store: StoreKind, name: String) throws {
        let bytes = Self.unusableKeys.first { $0.0 == name }!.1
        let l = try makeLedger(store)
        try l.close()
        let place = try #require(place)
        let before = try place.fingerprint()
        let reopened = try Ledger.open(at: place.location, clock: ManualClock())
        do {
            _ = try reopened.append([Self.enrollRaw(bytes, roles: ["admin"], n: 60)])
            Issue.record("\(name): accepted")
        } catch {
            #expect(error.code == .malformed, "\(error)")
            #expect(error.message.contains("body.publicKey") && error.message.contains("not a usable Ed25519 public key"), "\(error)")
        }
        try reopened.close()
        #expect(try place.fingerprint() == before)
    }

    @Test("a genesis naming an unusable key is refused")
    func unusableGenesis() throws {
        // The envelope cannot be signed by the all-zero key; the rule refuses the descriptor first.
        let zero = [UInt8](repeating: 0, count: 32)
        let body = JSONObject(uniqueMembers: [
            (
                "admin",
                .object(
                    JSONObject(uniqueMembers: [("name", .string("Zero")), ("publicKey", .string(Base64.encode(zero))), ("roles", .array([.string("admin")]))]))
            )
        ])
        let g = Fixtures.envelope(type: EventTypes.genesis, subject: SHA256.hash(zero).hex, expects: 0, body: body, key: Fixtures.admin, n: 0)
        do {
            _ = try Ledger.create(path: dir.file("g.ledger"), genesis: g, clock: ManualClock())
            Issue.record("accepted")
        } catch {
            #expect(error.message.contains("not a usable Ed25519 public key"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("g.ledger")))
    }

    @Test("an edited envelope keeping a logged event id gets the signature answer, not the id's", arguments: StoreKind.inProcess)
    func signatureBeforeID(store: StoreKind) throws {
        let l = try makeLedger(store)
        let original = Fixtures.report(subject: "incident:inc-1", n: 10)
        _ = try l.append([original])
        var edited = original
        let at = try #require(edited.payload.firstRange(of: Array("Report".utf8)))
        edited.payload[at.lowerBound + 1] = UInt8(ascii: "0")
        do {
            _ = try l.append([edited])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .refused, "\(error)")
            #expect(error.message.contains("signature does not verify"), "\(error)")
            #expect(!error.message.contains("already used"), "\(error)")
        }
        // An unenrolled key reusing the id learns nothing either.
        let stranger = Fixtures.envelope(
            type: "incident.reported", subject: "incident:inc-1", expects: 0, body: Fixtures.reportBody(n: 10), key: Fixtures.stranger, n: 10)
        do {
            _ = try l.append([stranger])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .refused && error.message.contains("not enrolled"), "\(error)")
        }
        // A validly signed other event under the same id is still a conflict.
        do {
            _ = try l.append([Fixtures.report(subject: "incident:inc-9", n: 10)])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .conflict && error.message.contains("already used"), "\(error)")
        }
        #expect(try l.append([original]) == [.existing(4)])
        // A key without the role, and a revoked key, get the answer a fresh id would get.
        let roleless = Fixtures.report(subject: "incident:inc-7", n: 10, key: Fixtures.logKey)
        do {
            _ = try l.append([roleless])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .refused && error.message.contains("lacks the archivist role"), "\(error)")
        }
        _ = try l.append([Fixtures.revoke(Fixtures.archivist, n: 11)])
        do {
            _ = try l.append([Fixtures.report(subject: "incident:inc-8", n: 10)])
            Issue.record("accepted")
        } catch {
            #expect(error.code == .refused && error.message.contains("was revoked"), "\(error)")
        }
        // The exact bytes logged are still answered with their index (an honest retry).
        #expect(try l.append([original]) == [.existing(4)])
    }

    @Test("a new ledger is refused where a -wal, -shm or -journal of an earlier one is left")
    func leftoverSidecars() throws {
        for suffix in ["-wal", "-shm", "-journal"] {
            let path = dir.file("n\(suffix).ledger")
            _ = FileManager.default.createFile(atPath: path + suffix, contents: Data("left over".utf8))
            do {
                _ = try Ledger.create(path: path, genesis: Fixtures.genesis(), clock: ManualClock())
                Issue.record("\(suffix): created")
            } catch {
                #expect(error.code == .io && error.message.contains("\(suffix) exists"), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    /// An incident report signed at `signedAt` with `occurred`.
    static func report(n: UInt64, signedAt: Timestamp, occurred: String = "2016-07") -> Envelope {
        var body = Fixtures.reportBody(n: n)
        body["occurred"] = .string(occurred)
        let payload = EventPayload(
            ledger: Fixtures.origin, id: Fixtures.eventID(n), type: "incident.reported", subject: "incident:d\(n)", expects: 0,
            signedAt: signedAt.signedTimeText, body: body)
        return Envelope.sign(payload: payload.encoded(), with: Fixtures.archivist)
    }

    @Test("signedAt at most one hour after the record time; signing long before is fine", arguments: StoreKind.inProcess)
    func signedAtLead(store: StoreKind) throws {
        let clock = ManualClock()
        let l = try makeLedger(store, clock: clock)
        let now = clock.now().microseconds
        let hour: Int64 = 3_600_000_000
        #expect(try l.append([Self.report(n: 70, signedAt: Timestamp(microseconds: now + hour - 1000))]).count == 1)
        #expect(try l.append([Self.report(n: 71, signedAt: Timestamp(microseconds: now - 400 * 24 * hour))]).count == 1)
        for (n, lead) in [(72, hour + 1000), (73, 24 * hour), (74, 8000 * 365 * 24 * hour)] as [(UInt64, Int64)] {
            let signedAt = Timestamp(microseconds: min(now + lead, Timestamp.parseRFC3339("9999-12-31T23:59:59Z")!.microseconds))
            do {
                _ = try l.append([Self.report(n: n, signedAt: signedAt)])
                Issue.record("signedAt \(signedAt) accepted")
            } catch {
                #expect(error.code == .refused && error.message.contains("more than 1 hour after the entry's record time"), "\(error)")
            }
        }
        #expect(try l.size() == 6)
    }

    @Test("a date that begins after the day after the event's record day (UTC) is refused; ranges by their earliest day", arguments: StoreKind.inProcess)
    func futureDates(store: StoreKind) throws {
        let clock = ManualClock()  // 2026-01-01
        let l = try makeLedger(store, clock: clock)
        let at = clock.now()
        for ok in ["2026-01-01", "2026-01-02", "2025/2027", "2026", "2026-01", "../2030", "2026-01-XX"] {
            do { _ = try l.append([Self.report(n: 100 + UInt64(l.size()), signedAt: at, occurred: ok)]) } catch {
                Issue.record("\(ok) refused: \(error)")
            }
        }
        for bad in ["2026-01-03", "2027", "2026-02", "2030/2031", "9999-12-31"] {
            do {
                _ = try l.append([Self.report(n: 200 + UInt64(l.size()), signedAt: at, occurred: bad)])
                Issue.record("\(bad) accepted")
            } catch {
                #expect(error.code == .malformed && error.message.contains("body.occurred") && error.message.contains("begins after 2026-01-02"), "\(error)")
            }
        }
        // A correction's new date is checked too.
        let subject = "incident:d\(100 + 4)"
        let correction = Fixtures.envelope(
            type: "incident.corrected", subject: subject, expects: 1,
            body: JSONObject(uniqueMembers: [
                ("changes", .object(JSONObject(uniqueMembers: [("occurred", .string("2031-05"))]))), ("reason", .string("typo")),
            ]), key: Fixtures.archivist, n: 300)
        do {
            _ = try l.append([correction])
            Issue.record("correction accepted")
        } catch {
            #expect(error.message.contains("body.changes.occurred"), "\(error)")
        }
        // The rule is checked again when the projections are rebuilt and verified.
        _ = try l.verify(trust: KeyID.of(Fixtures.admin.publicKey))
    }
}
