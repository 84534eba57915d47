import Foundation
import LedgerArchive
import LedgerCore
import Testing

/// The typed bodies of the event catalogue: what the schema check decodes once, and the date
/// rule read from those decoded dates.
@Suite("ArchiveEvent: bodies decoded once by their schemas")
struct ArchiveEventTests {
    private func checked(_ type: EventType, _ subject: String, _ json: String, latestDay: Int? = nil) throws -> Archive.CheckedEvent {
        let body = try JSONParser.parseObject(Array(json.utf8))
        return try #require(try Archive.checkAlone(type: type, subject: subject, body: body, latestDay: latestDay))
    }

    private func refusal(_ type: EventType, _ subject: String, _ json: String, latestDay: Int? = nil) -> String? {
        do {
            _ = try checked(type, subject, json, latestDay: latestDay)
            return nil
        } catch let e as LedgerError {
            return e.message
        } catch {
            return "\(error)"
        }
    }

    @Test("a claim decodes its claimant, either-of perpetrator, stance, basis in order, source and date")
    func claim() throws {
        let c = try checked(
            .attributionClaimed, "incident:i1",
            #"{"claimant":"source:s1","perpetrator":{"eitherOf":["actor:b","actor:a"]},"stance":"asserts","#
                + #""basis":["video","flight-logs"],"source":"source:s2","claimedOn":"2019-05","statement":"said so"}"#)
        guard case .attributionClaimed(let claim) = c.event else {
            Issue.record("decoded as \(c.event)")
            return
        }
        #expect(claim.claimant == "source:s1")
        #expect(claim.perpetrator == .eitherOf(["actor:b", "actor:a"]))
        #expect(claim.stance == "asserts")
        #expect(claim.basis == ["video", "flight-logs"])
        #expect(claim.source == "source:s2")
        #expect(claim.claimedOn?.earliest == 20_190_501)
        #expect(claim.statement == "said so")
        #expect(claim.alternative == nil)
    }

    @Test("a correction keeps its changes in the body's order, a removal as nil")
    func correction() throws {
        let c = try checked(.incidentCorrected, "incident:i1", #"{"changes":{"summary":null,"occurred":"2019-05-02"},"reason":"r"}"#)
        guard case .incidentCorrected(let correction) = c.event else {
            Issue.record("decoded as \(c.event)")
            return
        }
        #expect(correction.changes.map(\.field) == ["summary", "occurred"])
        #expect(correction.changes[0].value == nil)
        #expect(correction.changes[1].value == .string("2019-05-02"))
        #expect(correction.newValue("occurred") == .string("2019-05-02"))
        #expect(correction.reason == "r")
    }

    @Test("sealed members decode as their commitments; plain ones as their values")
    func sealed() throws {
        let commitment = String(repeating: "ab", count: 32)
        let c = try checked(
            .casualtiesReported, "incident:i1",
            #"{"source":"source:s1","category":"killed","min":2,"max":5,"persons":{"sealed":"\#(commitment)"}}"#)
        guard case .casualtiesReported(let report) = c.event else {
            Issue.record("decoded as \(c.event)")
            return
        }
        #expect(report.persons == .sealed(commitment: commitment))
        #expect(report.min == 2 && report.max == 5)
        let named = try checked(.casualtiesReported, "incident:i1", #"{"source":"source:s1","category":"killed","min":1,"max":1,"persons":["A B"]}"#)
        guard case .casualtiesReported(let plain) = named.event else {
            Issue.record("decoded as \(named.event)")
            return
        }
        #expect(plain.persons == .names(["A B"]))
    }

    @Test("a body read from its canonical bytes decodes and fails as its tree does, with the same message")
    func canonicalBodies() throws {
        let cases: [(EventType, String, String)] = [
            (.incidentSourceCited, "incident:i1", #"{"locator":"p. 2","source":"source:s1"}"#),
            (.incidentSourceCited, "incident:i1", #"{"extra":1,"source":"source:s1"}"#),
            (.incidentSourceCited, "incident:i1", #"{"source":"actor:x"}"#),
            (.incidentSourceCited, "incident:i1", #"{"locator":5,"source":"source:s1"}"#),
            (.incidentSourceCited, "incident:i1", #"{"locator":" x","source":"source:s1"}"#),
            (.incidentSourceCited, "incident:i1", #"{"locator":"a\u0001b","source":"source:s1"}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video","video"],"claimant":"actor:a","perpetrator":"actor:b","stance":"denies"}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"incident:x","perpetrator":"actor:b","stance":"denies"}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"actor:a","perpetrator":{"eitherOf":["actor:b"]},"stance":"asserts"}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"actor:a","perpetrator":null,"stance":"asserts"}"#),
            (.casualtiesReported, "incident:i1", #"{"category":"killed","max":1,"min":2,"source":"source:s1"}"#),
            (.casualtiesReported, "incident:i1", #"{"category":"killed","max":-1,"min":0,"source":"source:s1"}"#),
            (.casualtiesReported, "incident:i1", #"{"category":"killed","max":1.5,"min":0,"source":"source:s1"}"#),
            (.casualtiesReported, "incident:i1", #"{"category":"killed","max":true,"min":0,"source":"source:s1"}"#),
            (.casualtiesReported, "incident:i1", #"{"category":"maimed","max":1,"min":0,"source":"source:s1"}"#),
            (.incidentReported, "incident:i1", #"{"occurred":"2016-09-28","place":{"admin1":"Aleppo"},"title":{"en":"x"}}"#),
            (.incidentReported, "incident:i1", #"{"occurred":"2016-13","place":{"admin1":"Aleppo"},"title":{"en":"x"}}"#),
            (.incidentReported, "incident:i1", #"{"occurred":"2016","place":{},"title":{"en":"x"}}"#),
            (.incidentCorrected, "incident:i1", #"{"changes":{"occurred":"2019-05-02","summary":null},"reason":"r"}"#),
            (.incidentCorrected, "incident:i1", #"{"changes":{"bogus":1},"reason":"r"}"#),
            (.incidentCorrected, "incident:i1", #"{"changes":{},"reason":"r"}"#),
            (.incidentRetracted, "incident:i1", #"{"reason":"r"}"#),
            (.incidentRetracted, "incident:i1", #"{"reason":""}"#),
            (.incidentRetracted, "incident:i1", #"{"a":1,"b":2,"reason":"r"}"#),
            (.incidentRetracted, "incident:i1", #"{}"#),
            (.valueErased, "incident:i1", #"{"reason":"r","value":"zz"}"#),
            (.actorRegistered, "actor:a", #"{"names":{"EN":"B","en":"A"},"type":"state-military"}"#),
            (.sourceRegistered, "source:s", #"{"lang":"en","publisher":"P","title":"T","type":"report","url":"ftp://x"}"#),
            // A name only canonically equivalent to an allowed one (U+212A KELVIN SIGN for K) is not that name.
            (.readerEnrolled, "reader:r", #"{"encryptionKey":"AAAA","encryption\#u{212A}ey":"x","name":"R"}"#),
            (.readerEnrolled, "reader:r", #"{"encryption\#u{212A}ey":"x","name":"R"}"#),
        ]
        // A vocabulary value written with an escape, or not a string; texts in many languages
        // (compared in a set rather than a list), one given twice.
        let many = (0..<16).map { "\"a\(String(UnicodeScalar(UInt8(97 + $0))))\":\"x\"" }.joined(separator: ",")
        let more: [(EventType, String, String)] = [
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"actor:a","perpetrator":"actor:b","stance":"de\"nies"}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"actor:a","perpetrator":"actor:b","stance":7}"#),
            (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"actor:a","perpetrator":"actor:b","stance":"Denies"}"#),
            (.incidentReported, "incident:i1", #"{"occurred":"2016","place":{"admin1":"A"},"title":{"EN":"x","# + many + #","en":"y"}}"#),
            (.incidentReported, "incident:i1", #"{"occurred":"2016","place":{"admin1":"A"},"title":{"EN":"x","# + many + "}}"),
        ]
        var refused = 0
        for (type, subject, json) in cases + more {
            // Stored payloads are read without the NFC rule (a name with U+212A is not in NFC).
            let tree = try JSONParser.parseObject(Array(json.utf8), limits: JSONParser.Limits(maxBytes: 1 << 20, maxDepth: 64, requireNFC: false))
            let canonical = try #require(CanonicalObject(validatingCanonical: Array(json.utf8)), "\(json) is not canonical")
            func outcome(_ prechecked: Archive.Prechecked) -> String {
                var state = ArchiveState()
                do {
                    _ = try state.applyOwning(prechecked, subject: subject, body: canonical, index: 1)
                    return "applied"
                } catch { return error.message }
            }
            let fromTree = outcome(Archive.Prechecked(type: type, subject: subject, body: tree, latestDay: 20_200_101))
            let fromBytes = outcome(Archive.Prechecked(type: type, subject: subject, body: canonical, latestDay: 20_200_101))
            #expect(fromTree == fromBytes, "\(type.name) \(json)")
            if fromTree.contains("field `body") { refused += 1 }
            if json.contains("\u{212A}") { #expect(fromTree.contains("unknown member; allowed here: name, encryptionKey"), "\(fromTree)") }
        }
        // Most cases fail a schema check, so the messages compared are the decoder's own.
        #expect(refused >= 24, "\(refused)")
    }

    @Test("a schema failure names the same field as before: a basis listed twice, a claimant of the wrong kind")
    func failures() {
        let twice = refusal(
            .attributionClaimed, "incident:i1", #"{"claimant":"actor:a","perpetrator":"actor:b","stance":"denies","basis":["video","video"]}"#)
        #expect(twice?.contains("field `body.basis[1]`: \"video\" is listed twice") == true, "\(twice ?? "accepted")")
        let kind = refusal(.attributionClaimed, "incident:i1", #"{"claimant":"incident:x","perpetrator":"actor:b","stance":"denies","basis":["video"]}"#)
        #expect(kind?.contains("field `body.claimant`") == true, "\(kind ?? "accepted")")
    }

    @Test("the date rule reads the decoded dates: the first late one in the catalogue's date order, top level or in changes")
    func dates() throws {
        let aggregate =
            #"{"statedOn":"2019-09-01","source":"source:s1","measure":"attacks-on-health-care","#
            + #""figure":{"value":3,"unit":"count","qualifier":"exact"},"period":"2019-08","description":{"en":"d"}}"#
        // Both dates begin after 2019-07-01; `period` comes before `statedOn` in the rule's order.
        let both = refusal(.aggregateReported, "aggregate:a", aggregate, latestDay: 20_190_701)
        #expect(both?.contains("field `body.period`: \"2019-08\" begins after 2019-07-01") == true, "\(both ?? "accepted")")
        // Only `statedOn` is late.
        let one = refusal(.aggregateReported, "aggregate:a", aggregate, latestDay: 20_190_815)
        #expect(one?.contains("field `body.statedOn`: \"2019-09-01\" begins after 2019-08-15") == true, "\(one ?? "accepted")")
        #expect(refusal(.aggregateReported, "aggregate:a", aggregate, latestDay: 20_190_901) == nil)
        let changed = refusal(.incidentCorrected, "incident:i1", #"{"changes":{"occurred":"2020"},"reason":"r"}"#, latestDay: 20_191_231)
        #expect(changed?.contains("field `body.changes.occurred`") == true, "\(changed ?? "accepted")")
        // An open start passes; a typed date (a claim's) is checked too.
        #expect(refusal(.incidentCorrected, "incident:i1", #"{"changes":{"occurred":"../2030"},"reason":"r"}"#, latestDay: 20_191_231) == nil)
        let claimed = refusal(
            .attributionClaimed, "incident:i1",
            #"{"claimant":"actor:a","perpetrator":"actor:b","stance":"denies","basis":["video"],"claimedOn":"2020-01-01"}"#, latestDay: 20_191_231)
        #expect(claimed?.contains("field `body.claimedOn`") == true, "\(claimed ?? "accepted")")
    }

    @Test(
        "an event that does not change an incident's index row (changesIncidentIndex false) leaves it as it was; a merge survivor's too",
        arguments: [false, true])
    func indexRows(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        let commitment = String(repeating: "cd", count: 32)
        let events: [(type: String, subject: String, body: String)] = [
            ("incident.source-cited", "incident:m10-1", #"{"source":"source:ru-mod","locator":"p. 2"}"#),
            ("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"killed","min":2,"max":4}"#),
            ("casualties.adopted", "incident:m10-1", #"{"category":"killed","min":2,"max":4,"rule":"single-source"}"#),
            ("value.erased", "incident:m10-1", #"{"value":"\#(commitment)","reason":"a witness at risk"}"#),
            (
                "attribution.claimed", "incident:m10-1",
                #"{"claimant":"source:sams-2016","perpetrator":"actor:ru-af","stance":"asserts","basis":["witness-testimony"]}"#
            ),
            ("incident.certainty-graded", "incident:m10-1", #"{"certainty":"confirmed","reason":"r"}"#),
            (
                "incident.reported", "incident:m10-2",
                #"{"title":{"en":"Second report"},"occurred":"2016-09-28","place":{"admin1":"Aleppo"},"sources":["source:sams-2016"]}"#
            ),
            ("incident.merged", "incident:m10-2", #"{"into":"incident:m10-1","reason":"the same strike"}"#),
        ]
        var changedSome = 0
        for e in events {
            let before = try s.state.state(of: "incident:m10-1").map { IncidentIndexRow($0) }
            let body = try JSONParser.parseObject(Array(e.body.utf8))
            let type = try #require(EventType(name: e.type))
            let event = try #require(try Archive.checkAlone(type: type, subject: e.subject, body: body, latestDay: nil)).event
            try s.add(e.type, e.subject, e.body)
            let after = try s.state.state(of: "incident:m10-1").map { IncidentIndexRow($0) }
            // Only the subject's row may change, and only when the event says it may.
            if e.subject != "incident:m10-1" || !event.changesIncidentIndex {
                #expect(before == after, "\(e.type) on \(e.subject) changed incident:m10-1's index row")
            } else if before != after {
                changedSome += 1
            }
        }
        // The claim and the grade did change the row: the check above is not vacuous.
        #expect(changedSome == 2)
    }
}

/// The index row made from a state the fold keeps (parsing only the members the row reads, and
/// of the claims only the asserting ones' perpetrators) and the one made from the state as a
/// tree (the row's definition) must agree on every incident.
@Suite("IncidentIndexRow from canonical states")
struct IncidentIndexRowTests {
    static let bundle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Ledger/bundle/data/entries.jsonl")

    @Test("every incident of the campaign archive in Ledger/ gives the same row both ways", arguments: [false, true])
    func campaign(cools: Bool) throws {
        var state = cools ? ArchiveState(cooling: ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)) : ArchiveState()
        let text = try String(contentsOf: Self.bundle, encoding: .utf8)
        var index: UInt64 = 0
        for line in text.split(separator: "\n") {
            let entry = try EntryLine(bytes: Array(line.utf8))
            let payload = try EventPayload(bytes: entry.envelope.payload, requireNFC: false)
            state.coolIfDue(before: index)
            try state.apply(payload, index: index)
            index += 1
        }
        var incidents = 0
        for id in state.sortedIDs where id.hasPrefix("incident:") {
            let object = try #require(try state.entity(id))
            #expect(IncidentIndexRow(object) == IncidentIndexRow(object.object), "\(id)")
            incidents += 1
        }
        #expect(incidents > 10)
    }

    @Test(
        "an entity's row, and a state put away, reuse the stored form a state checkpoint made only while the state is unchanged",
        arguments: [1, 7, 50], [false, true])
    func rowsAfterCheckpoints(every: Int, cools: Bool) throws {
        // Folded with a state checkpoint every `every` entries (and, cooling, entities put away
        // between them), and without either: the same rows.
        var checkpointed = cools ? ArchiveState(cooling: ArchiveState.Cooling(window: 3, step: 2, treeLimit: 0)) : ArchiveState()
        var plain = ArchiveState()
        let text = try String(contentsOf: Self.bundle, encoding: .utf8)
        var changed = Set<String>()
        var index: UInt64 = 0
        for line in text.split(separator: "\n") {
            let entry = try EntryLine(bytes: Array(line.utf8))
            let payload = try EventPayload(bytes: entry.envelope.payload, requireNFC: false)
            if index > 0, index % UInt64(every) == 0 {
                let ids = changed.sorted()
                let made = checkpointed.checkpointStates(ids, before: index, stored: true)
                #expect(made == plain.rows(ids, stored: true).map(\.state))
                changed = []
            }
            checkpointed.coolIfDue(before: index)
            if let change = try checkpointed.apply(payload, index: index) { changed.formUnion(change.changed.map(\.id)) }
            try plain.apply(payload, index: index)
            index += 1
        }
        let ids = plain.sortedIDs
        #expect(checkpointed.sortedIDs == ids && ids.count > 50)
        for stored in [true, false] {
            let a = checkpointed.rows(ids, stored: stored)
            let b = plain.rows(ids, stored: stored)
            for (x, y) in zip(a, b) {
                #expect(x.id == y.id && x.kind == y.kind && x.state == y.state && x.index == y.index, "\(x.id)")
                #expect(x.state.canonical == plain.encoded(x.id), "\(x.id)")
            }
        }
    }

    @Test("odd shapes: an assessment naming no one or either of two, facilities without a facility, members that are not objects")
    func shapes() throws {
        let states = [
            #"{"id":"incident:a","assessment":{"confidence":"low","perpetrator":null,"rationale":"r"},"facilities":[],"status":"active"}"#,
            #"{"id":"incident:b","assessment":{"entry":3,"perpetrator":{"eitherOf":["actor:x","actor:y"]},"rationale":"long \"quoted\" text"},"#
                + #""certainty":{"grade":"probable","reason":"a, b: [c]"},"claims":[{"perpetrator":"actor:z","stance":"denies"},"#
                + #"{"perpetrator":"actor:y","stance":"asserts"}],"facilities":[{"facility":"facility:f","impact":"destroyed"},{"impact":"damaged"},"#
                + #""not an object"],"occurred":"2016-09/2016-10","place":{"admin1":"Aleppo","admin2":"Jebel Saman","coordinates":{"lat":1,"lon":2},"#
                + #""town":"Aleppo"},"status":"merged","verification":{"reason":"x","state":"verified"}}"#,
            #"{"certainty":"not an object","id":"incident:c","verification":[1,2]}"#,
            // Escapes and non-ASCII text, strings that are not what the row reads, lists that are not lists.
            #"{"claims":[{"perpetrator":"actor:q\"x","stance":"asserts"},{"perpetrator":{"eitherOf":["actor:p",7,null,"actor:\u00e9"]},"#
                + #""stance":"asserts"},{"perpetrator":"actor:r","stance":"asserts "},{"perpetrator":"actor:s","stance":["asserts"]},"#
                + #"{"perpetrator":["actor:t"],"stance":"asserts"},"asserts",{"stance":"asserts"}],"facilities":{"facility":"facility:g"},"#
                + #""id":"incident:d\\e","occurred":"not a date","place":{"admin1":"Idlib \"north\"","admin2":5,"town":"Ma\u2019arrat"},"#
                + #""status":"active\nmerged","verification":{"state":"ḥ"}}"#,
            // The same actor named twice, by a claim and by the assessment; members that are not objects.
            #"{"assessment":{"perpetrator":"actor:a"},"claims":[{"perpetrator":"actor:b","stance":"asserts"},{"perpetrator":"actor:a","stance":"asserts"}],"#
                + #""id":"incident:f","place":"Aleppo","status":3}"#,
            #"{"assessment":[],"claims":{},"facilities":"none","id":7,"occurred":"2016?","place":null}"#,
            #"{}"#,
        ]
        for json in states {
            let tree = try JSONParser.parseObject(Array(json.utf8))
            let object = CanonicalObject(tree)
            #expect(IncidentIndexRow(object) == IncidentIndexRow(tree), "\(json)")
        }
        let b = IncidentIndexRow(CanonicalObject(try JSONParser.parseObject(Array(states[1].utf8))))
        #expect(b.perpetrators == ["actor:x", "actor:y"] && b.facilities == ["facility:f"] && b.certainty == "probable" && b.verification == "verified")
        #expect(b.admin2 == "Jebel Saman" && b.earliest == 20_160_901 && b.latest == 20_161_031 && b.status == "merged")
    }
}
