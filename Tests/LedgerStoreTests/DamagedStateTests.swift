import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore
import LedgerTesting
import Testing

/// An append on a subject whose stored state is damaged (not JSON): the event's own faults are
/// named first, then the damage; nothing is written either way (DECISIONS 67).
@Suite("appends over a damaged stored state")
final class DamagedStateTests {
    let dir = TemporaryDirectory()
    var place: TestPlace?

    @Test("a malformed body is named before the damage; a valid one names the damage", arguments: StoreKind.inProcess)
    func order(store: StoreKind) throws {
        let made = try StoreFixtures.standardLedger(store, dir: dir)
        place = made.place
        let l = made.ledger
        _ = try l.append([Fixtures.report(subject: "incident:inc-1", n: 10)])
        try l.storage.write { (w) throws(LedgerError) in try w.putEntity(id: "incident:inc-1", kind: "incident", state: Array("{not json".utf8), replace: true)
        }
        let size = try l.size()

        let unknownField = JSONObject(uniqueMembers: [
            ("changes", .object(JSONObject(uniqueMembers: [("colour", .string("red"))]))), ("reason", .string("a field incidents do not have")),
        ])
        let malformed = Fixtures.envelope(type: "incident.corrected", subject: "incident:inc-1", expects: 1, body: unknownField, key: Fixtures.archivist, n: 11)
        let first = try #require(throws: LedgerError.self) { try l.append([malformed]) }
        #expect(first.code == .malformed && first.message.contains("body.changes.colour"), "\(first)")

        let valid = Fixtures.report(subject: "incident:inc-1", expects: 1, n: 12)
        let second = try #require(throws: LedgerError.self) { try l.append([valid]) }
        #expect(second.code == .notALedger && second.message.contains("stored state of incident:inc-1"), "\(second)")
        #expect(try l.size() == size)
    }
}
