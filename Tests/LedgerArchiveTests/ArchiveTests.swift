import LedgerArchive
import LedgerCore
import Testing

/// A sequence of archive events folded in memory, as the store folds them on append.
struct Scenario {
    var state: ArchiveState
    /// Whether every incident is put away as bytes before each event (`ArchiveState.Cooling`):
    /// each test that takes `cools` must pass alike both ways.
    let cools: Bool

    init(cools: Bool = false) {
        self.cools = cools
        state = cools ? ArchiveState(cooling: ArchiveState.Cooling(window: 0, step: 1, treeLimit: 0)) : ArchiveState()
    }
    var events: [(index: UInt64, type: String, subject: String, body: JSONObject, concerns: [String])] = []

    static func body(_ json: String) -> JSONObject {
        try! JSONParser.parseObject(Array(json.utf8))
    }

    @discardableResult
    mutating func add(_ type: String, _ subject: String, _ json: String) throws(LedgerError) -> ArchiveChange? {
        let index = UInt64(events.count + 10)
        let body = Scenario.body(json)
        state.coolIfDue(before: index)
        let change = try state.apply(type: type, subject: subject, body: body, index: index)
        events.append((index, type, subject, body, (change?.concerns ?? []) + (change?.changed.map(\.id) ?? [])))
        return change
    }

    /// The campaign's basic cast: a facility, two actors, two sources and one incident.
    static func base(cools: Bool = false) throws(LedgerError) -> Scenario {
        var s = Scenario(cools: cools)
        try s.add(
            "facility.registered", "facility:m10",
            #"{"names":{"en":"M10 hospital","ar":"مستشفى م10"},"type":"underground","operators":["SAMS"],"location":{"admin1":"Aleppo","#
                + #""town":"Aleppo","coordinates":{"lat":36.2,"lon":37.15,"precision":"facility"}}}"#)
        try s.add(
            "actor.registered", "actor:ru-af",
            #"{"names":{"en":"Russian Aerospace Forces","ru":"Воздушно-космические силы"},"type":"state-forces","country":"RU"}"#)
        try s.add("actor.registered", "actor:sy-af", #"{"names":{"en":"Syrian Arab Air Force"},"type":"state-forces","country":"SY"}"#)
        try s.add(
            "source.registered", "source:sams-2016",
            #"{"publisher":"SAMS","title":"Attacks on M10","lang":"en","type":"report","published":"2016-10","url":"https://example.org/m10"}"#)
        try s.add(
            "source.registered", "source:ru-mod",
            #"{"publisher":"Ministry of Defence","title":"Briefing","lang":"ru","type":"statement","published":"2016-10-03"}"#)
        try s.add(
            "incident.reported", "incident:m10-1",
            #"{"title":{"en":"Strike on M10"},"occurred":"2016-09-28","place":{"admin1":"Aleppo","town":"Aleppo"},"#
                + #""facilities":[{"facility":"facility:m10","impact":"damaged"}],"means":["airstrike","bunker-buster"],"#
                + #""sources":["source:sams-2016"]}"#)
        return s
    }
}

@Suite("Archive events, rules and fold")
struct ArchiveTests {
    @Test("a whole-archive fold's refused event leaves its subject absent, its state gone with the refusal (ArchiveState.applyOwning)")
    func refusedOwning() throws {
        var state = ArchiveState(cooling: .standard)
        let body = Scenario.body(#"{"names":{"en":"M10 hospital"},"type":"hospital"}"#)
        try state.applyOwning(type: .facilityRegistered, subject: "facility:m10", body: body, index: 1, latestDay: nil)
        #expect(try state.contains("facility:m10"))
        #expect(state.count == 1)
        // Refused by a rule that needs the state: after the state was taken out for the fold.
        let same = Scenario.body(#"{"changes":{"type":"hospital"},"reason":"no change"}"#)
        #expect(throws: LedgerError.self) {
            try state.applyOwning(type: .facilityCorrected, subject: "facility:m10", body: same, index: 2, latestDay: nil)
        }
        #expect(try !state.contains("facility:m10"))
        #expect(try state.entity("facility:m10") == nil)
        #expect(state.count == 0)
        #expect(state.sortedIDs.isEmpty)
    }

    @Test("a report, its citations, claims, casualties and judgements fold into one incident state", arguments: [false, true])
    func fold(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        try s.add("incident.source-cited", "incident:m10-1", #"{"source":"source:ru-mod","locator":"p. 2"}"#)
        try s.add(
            "attribution.claimed", "incident:m10-1",
            #"{"claimant":"source:sams-2016","perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"stance":"asserts","#
                + #""basis":["witness-testimony","flight-observations"]}"#)
        try s.add(
            "attribution.claimed", "incident:m10-1",
            #"{"claimant":"actor:ru-af","perpetrator":"actor:ru-af","stance":"denies","basis":["official-statement"],"#
                + #""alternative":"says it struck other targets"}"#)
        try s.add("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"killed","min":2,"max":4}"#)
        try s.add("casualties.adopted", "incident:m10-1", #"{"category":"killed","min":2,"max":4,"rule":"single-source"}"#)
        try s.add(
            "attribution.assessed", "incident:m10-1",
            #"{"perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"confidence":"moderate","#
                + #""rationale":"Only those two air forces flew over Aleppo then."}"#)
        try s.add("incident.certainty-graded", "incident:m10-1", #"{"certainty":"confirmed","reason":"several independent sources"}"#)
        try s.add("incident.verification-changed", "incident:m10-1", #"{"to":"in-review","reason":"started"}"#)
        try s.add("incident.verification-changed", "incident:m10-1", #"{"to":"verified","reason":"two reviewers agree"}"#)
        let i = try #require(try s.state.state(of: "incident:m10-1"))
        #expect(i["claims"]?.arrayValue?.count == 2)
        #expect(i["sources"]?.arrayValue?.count == 2)
        #expect(i["casualties"]?.objectValue?["killed"]?.objectValue?["rule"] == .string("single-source"))
        #expect(i["certainty"]?.objectValue?["grade"] == .string("confirmed"))
        #expect(i["verification"]?.objectValue?["state"] == .string("verified"))
        let row = IncidentIndexRow(i)
        #expect(row.perpetrators == ["actor:ru-af", "actor:sy-af"])  // asserted either/or, and assessed; the denial names no one
        #expect(row.facilities == ["facility:m10"])
        #expect(row.earliest == 20160928 && row.latest == 20160928)
        // A denial never erases a claim: both stay.
        #expect(i["claims"]?.arrayValue?.last?.objectValue?["stance"] == .string("denies"))
    }

    @Test(
        "a state read from the fold is its canonical bytes parsed, nested members in key order (adopted casualties listed alike now and as of a moment)",
        arguments: [false, true])
    func statesInKeyOrder(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        // Adopted out of key order, with bodies whose members are out of key order too.
        try s.add("casualties.adopted", "incident:m10-1", #"{"rule":"single-source","category":"killed","min":2,"max":4}"#)
        try s.add("casualties.adopted", "incident:m10-1", #"{"category":"injured","max":9,"min":5,"rule":"single-source"}"#)
        try s.add(
            "attribution.claimed", "incident:m10-1",
            #"{"stance":"asserts","perpetrator":"actor:sy-af","claimant":"source:sams-2016","basis":["witness-testimony"]}"#)
        for id in ["incident:m10-1", "facility:m10", "actor:ru-af"] {
            let tree = try #require(try s.state.state(of: id))
            let bytes = try #require(s.state.encoded(id))
            #expect(tree == (try JSONParser.parseObject(bytes, limits: .init(maxBytes: 1 << 20, maxDepth: 64, requireNFC: false))))
            #expect(Canonical.encode(tree) == bytes)
            let object = try #require(try s.state.entity(id))
            #expect(object.encoded == bytes)
            if id.hasPrefix("incident:") { #expect(IncidentIndexRow(object) == IncidentIndexRow(tree)) }
        }
        let adopted = try #require(try s.state.state(of: "incident:m10-1")?["casualties"]?.objectValue)
        #expect(adopted.keys == ["injured", "killed"])
        #expect(adopted["killed"]?.objectValue?.keys == ["entry", "max", "min", "rule"])
        let row = IncidentIndexRow(try #require(try s.state.entity("incident:m10-1")))
        #expect(row.perpetrators == ["actor:sy-af"])
    }

    @Test("a correction keeps old → new field by field, and refuses a change that changes nothing", arguments: [false, true])
    func correction(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        let before = try s.state.state(of: "incident:m10-1")
        try s.add(
            "incident.corrected", "incident:m10-1",
            #"{"changes":{"occurred":"2016-09-29","place":{"admin1":"Aleppo","town":"Aleppo","admin2":"Jabal Saman"}},"#
                + #""reason":"a second source gives the 29th"}"#)
        let after = try s.state.state(of: "incident:m10-1")
        let diff = History.diff(before, after)
        #expect(diff.contains(FieldChange(path: "occurred", old: .string("2016-09-28"), new: .string("2016-09-29"))))
        #expect(diff.contains(FieldChange(path: "place.admin2", old: nil, new: .string("Jabal Saman"))))
        #expect(!diff.contains { $0.path == "updated" })
        #expect(throws: LedgerError.self) {
            try s.add("incident.corrected", "incident:m10-1", #"{"changes":{"occurred":"2016-09-29"},"reason":"again"}"#)
        }
        // Optional fields may be removed with null; required ones may not.
        try s.add("incident.corrected", "incident:m10-1", #"{"changes":{"means":null},"reason":"means unknown after all"}"#)
        // A field whose state defaults to [] gets [] back, so the state keeps its shape (EVENTS.md §5) …
        #expect(try s.state.state(of: "incident:m10-1")?["means"] == .array([]))
        // … and [] is "not set": removing it again is refused.
        do {
            try s.add("incident.corrected", "incident:m10-1", #"{"changes":{"means":null},"reason":"again"}"#)
            Issue.record("removed means twice")
        } catch {
            #expect(error.code == .refused && error.message.contains("body.changes.means") && error.message.contains("nothing to remove"), "\(error.message)")
        }
    }

    @Test("a correction that only respells a number changes nothing and is refused; numbers compare by value", arguments: [false, true])
    func numberRespelling(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        for respelt in [
            #"{"lat":36.20,"lon":37.150,"precision":"facility"}"#, #"{"lat":3.62e1,"lon":37.15,"precision":"facility"}"#,
            #"{"precision":"facility","lon":37.15,"lat":36.2}"#,
        ] {
            do {
                try s.add(
                    "facility.corrected", "facility:m10",
                    #"{"changes":{"location":{"admin1":"Aleppo","town":"Aleppo","coordinates":\#(respelt)}},"reason":"r"}"#)
                Issue.record("\(respelt) accepted as a change")
            } catch {
                #expect(error.message.contains("body.changes.location"), "\(error.message)")
            }
        }
        try s.add(
            "facility.corrected", "facility:m10",
            #"{"changes":{"location":{"admin1":"Aleppo","town":"Aleppo","coordinates":{"lat":36.21,"lon":37.15,"precision":"facility"}}},"reason":"r"}"#)
        for (a, b, same) in [
            ("35.1", "35.10", true), ("0", "-0", true), ("1e2", "100", true), ("1E+2", "100.0", true), ("0.001", "1e-3", true),
            ("35.1", "35.01", false), ("10", "1", false), ("-1", "1", false), ("100", "1e3", false),
        ] {
            #expect(Canonical.equal(.number(a), .number(b)) == same, "\(a) vs \(b)")
        }
    }

    @Test("History.diff of objects with 30,000 members lists every change (member lookups are not quadratic)")
    func wideDiff() {
        let n = 30_000
        let old = JSONObject(uniqueMembers: (0..<n).map { ("k\($0)", JSONValue.string("a")) })
        let new = JSONObject(uniqueMembers: (0..<n).reversed().map { ("k\($0)", JSONValue.string($0 % 2 == 0 ? "a" : "b")) } + [("extra", .string("x"))])
        let changes = History.diff(JSONObject(uniqueMembers: [("t", .object(old))]), JSONObject(uniqueMembers: [("t", .object(new))]))
        #expect(changes.count == n / 2 + 1)
        #expect(changes.first == FieldChange(path: "t.extra", old: nil, new: .string("x")))
        #expect(changes.contains(FieldChange(path: "t.k1", old: .string("a"), new: .string("b"))))
        #expect(!changes.contains { $0.path == "t.k2" })
    }

    @Test("every field whose state defaults to [] treats [] as not set for a removal, and gets [] back after one", arguments: [false, true])
    func emptyArrayDefaults(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        try s.add(
            "aggregate.reported", "aggregate:a",
            #"{"source":"source:sams-2016","measure":"attacks-on-health-care","figure":{"value":3,"unit":"count","qualifier":"exact"},"#
                + #""period":"2016","description":{"en":"d"}}"#)
        let cases: [(type: String, subject: String, field: String, value: String)] = [
            ("incident.corrected", "incident:m10-1", "facilities", #"[{"facility":"facility:m10","impact":"damaged"}]"#),
            ("incident.corrected", "incident:m10-1", "means", #"["airstrike"]"#),
            ("incident.corrected", "incident:m10-1", "externalIds", #"[{"dataset":"d","id":"1"}]"#),
            ("facility.corrected", "facility:m10", "operators", #"["SAMS"]"#),
            ("aggregate.corrected", "aggregate:a", "includes", #"["incident:m10-1"]"#),
        ]
        for c in cases {
            let subject = c.subject
            func remove() throws(LedgerError) { try s.add(c.type, subject, #"{"changes":{"\#(c.field)":null},"reason":"r"}"#) }
            // Set (or already set) → removed → [] in the state.
            if try s.state.state(of: subject)?[c.field] == .array([]) {
                try s.add(c.type, subject, #"{"changes":{"\#(c.field)":\#(c.value)},"reason":"r"}"#)
            }
            try remove()
            #expect(try s.state.state(of: subject)?[c.field] == .array([]), "\(c.field)")
            // [] is not set: nothing to remove, nothing changed.
            let before = s.state.states.mapValues { Canonical.encode($0) }
            do {
                try remove()
                Issue.record("removed an unset \(c.field)")
            } catch {
                #expect(
                    error.code == .refused && error.message.contains("body.changes.\(c.field)")
                        && error.message.contains("is not set, so there is nothing to remove"), "\(error.message)")
            }
            #expect(s.state.states.mapValues { Canonical.encode($0) } == before)
        }
    }

    static let refusals: [(String, String, String, [String])] = [
        (
            "incident.reported", "incident:x", #"{"title":{"en":"x"},"occurred":"2016-09-28","place":{"admin1":"A"},"means":["bomb"]}"#,
            ["body.means[0]", "bomb", "barrel-bomb"]
        ),
        ("incident.reported", "incident:x", #"{"title":{"en":"x"},"occurred":"2019-02-29","place":{"admin1":"A"}}"#, ["body.occurred", "EDTF"]),
        ("incident.reported", "incident:x", #"{"title":{"english":"x"},"occurred":"2019","place":{"admin1":"A"}}"#, ["body.title.english", "BCP 47"]),
        ("incident.reported", "incident:x", #"{"title":{"en":"x"},"place":{"admin1":"A"}}"#, ["body.occurred", "missing"]),
        (
            "incident.reported", "incident:x", #"{"title":{"en":"x"},"occurred":"2019","place":{"admin1":"A"},"colour":"red"}"#,
            ["body.colour", "unknown member"]
        ),
        ("incident.reported", "facility:x", #"{"title":{"en":"x"},"occurred":"2019","place":{"admin1":"A"}}"#, ["subject", "incident:NAME"]),
        ("incident.corrected", "incident:m10-1", #"{"changes":{"occurred":"2016"}}"#, ["body.reason", "missing"]),
        ("incident.corrected", "incident:m10-1", #"{"changes":{"colour":"red"},"reason":"r"}"#, ["body.changes.colour", "no field"]),
        ("incident.corrected", "incident:m10-1", #"{"changes":{"title":null},"reason":"r"}"#, ["body.changes.title", "required"]),
        (
            "attribution.claimed", "incident:m10-1", #"{"claimant":"source:sams-2016","perpetrator":"actor:nobody","stance":"asserts","basis":["video"]}"#,
            ["body.perpetrator", "actor:nobody", "not in the archive"]
        ),
        (
            "attribution.claimed", "incident:m10-1", #"{"claimant":"source:sams-2016","perpetrator":"actor:ru-af","stance":"suggests","basis":["video"]}"#,
            ["body.stance", "asserts, denies"]
        ),
        ("incident.source-cited", "incident:m10-1", #"{"source":"source:unknown"}"#, ["body.source", "source:unknown", "not in the archive"]),
        ("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"killed","min":5,"max":3}"#, ["body.min", "greater than max"]),
        ("incident.verification-changed", "incident:m10-1", #"{"to":"verified","reason":"r"}"#, ["body.to", "unverified", "in-review"]),
        ("incident.retracted", "incident:nope", #"{"reason":"r"}"#, ["incident:nope", "not in the archive"]),
        ("source.registered", "source:x", #"{"publisher":"p","title":"t","lang":"en","type":"report","archivedSha256":"ABC"}"#, ["body.archivedSha256"]),
        ("facility.registered", "facility:m10", #"{"names":{"en":"again"},"type":"hospital"}"#, ["facility:m10", "already exists"]),
    ]

    @Test("bad events are refused with a message naming the field, and change nothing", arguments: refusals.indices, [false, true])
    func refused(_ i: Int, cools: Bool) throws {
        let (type, subject, json, mentions) = Self.refusals[i]
        var s = try Scenario.base(cools: cools)
        let before = s.state.states
        do {
            try s.add(type, subject, json)
            Issue.record("accepted: \(type) \(json)")
        } catch {
            for m in mentions { #expect(error.message.contains(m), "\(error.message) does not mention \(m)") }
        }
        #expect(s.state.states.keys.sorted() == before.keys.sorted())
        for (id, st) in before { #expect(Canonical.encode(s.state.states[id]!) == Canonical.encode(st)) }
    }

    @Test("an aggregate records a source's count as stated; subsets, included incidents and corrections fold; bad ones are refused", arguments: [false, true])
    func aggregates(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        try s.add(
            "aggregate.reported", "aggregate:ocha-24",
            #"{"source":"source:sams-2016","measure":"health-facilities-attacked","figure":{"value":24,"unit":"count","qualifier":"exact"},"#
                + #""period":"2019-04-XX/2019-06","description":{"en":"Health facilities hit in the Idlib region"},"place":{"admin1":"Idlib"},"#
                + #""perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"includes":["incident:m10-1"]}"#)
        try s.add(
            "aggregate.reported", "aggregate:ocha-9",
            #"{"source":"source:sams-2016","measure":"health-facilities-attacked","figure":{"value":9,"unit":"count","qualifier":"exact"},"#
                + #""period":"2019-04-XX/2019-06","description":{"en":"Of those, facilities whose coordinates had been shared"},"#
                + #""partOf":"aggregate:ocha-24"}"#)
        let a = try #require(try s.state.state(of: "aggregate:ocha-24"))
        #expect(a["entity"] == .string("aggregate"))
        #expect(a["figure"]?.objectValue?["value"] == .number("24"))
        #expect(a["includes"] == .array([.string("incident:m10-1")]))
        #expect(try s.state.state(of: "aggregate:ocha-9")?["includes"] == .array([]))
        // The incident it includes is not changed by being counted.
        #expect(s.events.last?.concerns.contains("incident:m10-1") == false)
        try s.add("aggregate.corrected", "aggregate:ocha-9", #"{"changes":{"note":"which nine is not said"},"reason":"clarify"}"#)
        #expect(try s.state.state(of: "aggregate:ocha-9")?["note"] == .string("which nine is not said"))

        func refusal(_ type: String, _ subject: String, _ json: String) -> String {
            let before = s.state.states.mapValues { Canonical.encode($0) }
            defer { #expect(s.state.states.mapValues { Canonical.encode($0) } == before) }
            do { try s.add(type, subject, json); return "accepted" } catch { return error.message }
        }
        let base = #""source":"source:sams-2016","measure":"attacks-on-health-care","period":"2015","description":{"en":"d"}"#
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":120,"unit":"percent","qualifier":"about"}}"#).contains(
                "body.figure.value"))
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"roughly"}}"#).contains(
                "body.figure.qualifier"))
        #expect(refusal("aggregate.reported", "aggregate:p", #"{\#(base)}"#).contains("body.figure"))
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"},"partOf":"aggregate:p"}"#)
                .contains("part of itself"))
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"},"includes":["incident:none"]}"#)
                .contains("body.includes[0]"))
        #expect(
            refusal(
                "aggregate.reported", "aggregate:p",
                #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"},"includes":["incident:m10-1","incident:m10-1"]}"#
            ).contains("listed twice"))
        #expect(refusal("aggregate.reported", "incident:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"}}"#).contains("aggregate:NAME"))
        // Nothing is more than 100 percent; a rate needs at least one hour between occurrences.
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":100,"unit":"percent","qualifier":"more-than"}}"#).contains(
                "body.figure.qualifier"))
        #expect(
            refusal("aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":0,"unit":"hours-between","qualifier":"exact"}}"#).contains(
                "body.figure.value"))
        let accepted = [
            #"{"value":100,"unit":"percent","qualifier":"at-least"}"#, #"{"value":99,"unit":"percent","qualifier":"more-than"}"#,
            #"{"value":1,"unit":"hours-between","qualifier":"about"}"#,
        ]
        for (i, figure) in accepted.enumerated() {
            #expect(throws: Never.self, "\(figure)") { try s.add("aggregate.reported", "aggregate:ok-\(i)", #"{\#(base),"figure":\#(figure)}"#) }
        }
        // The article before a kind name agrees with it: "an aggregate", "an incident".
        let subjectMessage = refusal("aggregate.reported", "incident:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"}}"#)
        #expect(subjectMessage.contains("an aggregate.reported event is about an aggregate;"), "\(subjectMessage)")
        let refMessage = refusal(
            "aggregate.reported", "aggregate:p", #"{\#(base),"figure":{"value":3,"unit":"count","qualifier":"exact"},"includes":["facility:m10"]}"#)
        #expect(refMessage.contains("is not an incident id"), "\(refMessage)")
        #expect(
            refusal(
                "incident.reported", "incident:p",
                #"{"title":{"en":"t"},"occurred":"2016","place":{"town":"x"},"facilities":[{"facility":"actor:x","impact":"damaged"}]}"#
            ).contains("is not a facility id"))
        #expect(refusal("aggregate.corrected", "aggregate:ocha-9", #"{"changes":{"figure":null},"reason":"r"}"#).contains("required"))
        #expect(
            refusal("aggregate.corrected", "aggregate:ocha-24", #"{"changes":{"partOf":"aggregate:ocha-9"},"reason":"r"}"#).contains(
                "aggregate:ocha-24 → aggregate:ocha-9 → aggregate:ocha-24"))
    }

    @Test("merges: the absorbed incident points to the survivor; into retracted, merged, itself or in a cycle is refused", arguments: [false, true])
    func merges(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        let report = #"{"title":{"en":"t"},"occurred":"2016","place":{"admin1":"Aleppo"}}"#
        for id in ["a", "b", "c", "r"] { try s.add("incident.reported", "incident:\(id)", report) }
        try s.add("incident.retracted", "incident:r", #"{"reason":"a hoax"}"#)
        try s.add("incident.merged", "incident:a", #"{"into":"incident:b","reason":"same strike"}"#)
        #expect(try s.state.state(of: "incident:a")?["mergedInto"] == .string("incident:b"))
        #expect(try s.state.state(of: "incident:b")?["absorbed"] == .array([.string("incident:a")]))
        func refusal(_ type: String, _ subject: String, _ json: String) -> String {
            do { try s.add(type, subject, json); return "accepted" } catch { return error.message }
        }
        #expect(refusal("incident.merged", "incident:c", #"{"into":"incident:r","reason":"x"}"#).contains("retracted"))
        #expect(refusal("incident.merged", "incident:c", #"{"into":"incident:a","reason":"x"}"#).contains("merge into incident:b instead"))
        #expect(refusal("incident.merged", "incident:b", #"{"into":"incident:a","reason":"x"}"#).contains("merge cycle"))
        #expect(refusal("incident.merged", "incident:c", #"{"into":"incident:c","reason":"x"}"#).contains("itself"))
        #expect(refusal("incident.corrected", "incident:a", #"{"changes":{"occurred":"2017"},"reason":"x"}"#).contains("merged into incident:b"))
        #expect(refusal("incident.source-cited", "incident:r", #"{"source":"source:sams-2016"}"#).contains("retracted"))
        #expect(refusal("incident.reinstated", "incident:c", #"{"reason":"x"}"#).contains("not retracted"))
        try s.add("incident.reinstated", "incident:r", #"{"reason":"the hoax claim was itself false"}"#)
        #expect(try s.state.state(of: "incident:r")?["status"] == .string("active"))
    }

    @Test("replaying only the entries that concern an entity gives the same state as the full fold", arguments: [false, true])
    func partialReplay(cools: Bool) throws {
        var s = try Scenario.base(cools: cools)
        try s.add(
            "incident.reported", "incident:m10-2",
            #"{"title":{"en":"Second strike on M10"},"occurred":"2016-10-01","place":{"admin1":"Aleppo"},"facilities":[{"facility":"facility:m10","#
                + #""impact":"out-of-service"}]}"#)
        try s.add("incident.merged", "incident:m10-2", #"{"into":"incident:m10-1","reason":"same attack"}"#)
        try s.add("facility.alias-added", "facility:m10", #"{"alias":{"name":"M10","lang":"en","kind":"codename"}}"#)
        try s.add("facility.deconfliction-recorded", "facility:m10", #"{"sharedWith":"UN OCHA","sharedOn":"2016-07"}"#)
        try s.add("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"injured","min":10,"max":10}"#)
        for id in s.state.states.keys {
            var partial = ArchiveState(only: [id])
            for e in s.events where e.concerns.contains(id) {
                try partial.apply(type: e.type, subject: e.subject, body: e.body, index: e.index)
            }
            #expect(try partial.state(of: id).map { Canonical.encode($0) } == Canonical.encode(s.state.states[id]!), "\(id)")
        }
    }

    @Test("a snapshot is canonical: the same states give the same bytes in any insertion order")
    func snapshot() throws {
        let s = try Scenario.base()
        let header = Snapshot.Header(origin: "test.example/ledger", treeSize: 16, rootHash: "AAAA", asOf: "2026-01-01T00:00:00.000000Z")
        var a: [UInt8] = []
        Snapshot.write(header: header, entities: s.state.sortedIDs.map { Canonical.encode(s.state.states[$0]!) }, into: &a)
        // The same states parsed back (members now in sorted order) encode identically.
        let reparsed = s.state.sortedIDs.map { try! JSONParser.parseObject(Canonical.encode(s.state.states[$0]!)) }
        var b: [UInt8] = []
        Snapshot.write(header: header, entities: reparsed.map { Canonical.encode($0) }, into: &b)
        #expect(a == b)
        let doc = try JSONParser.parseObject(a, limits: .init(maxBytes: 1 << 24, maxDepth: 64))
        #expect(doc["snapshot"]?.objectValue?["treeSize"] == .number("16"))
        #expect(doc["entities"]?.arrayValue?.count == s.state.states.count)
    }

    @Test("entity ids: kind prefix and the subject alphabet")
    func ids() {
        #expect(EntityID.kind(of: "incident:2016-09-28_m10.a") == .incident)
        #expect(EntityID.kind(of: "facility:m10") == .facility)
        #expect(EntityID.kind(of: "incident:") == nil)
        #expect(EntityID.kind(of: "place:x") == nil)
        #expect(EntityID.kind(of: "incident:a b") == nil)
        #expect(EntityID.kind(of: "incident:a:b") == nil)
        #expect(EntityID.kind(of: "incident:" + String(repeating: "a", count: 101)) == nil)
    }
}

@Suite("The token table states are packed with, in memory and in the file (CompactState.tokens)")
struct StateTokenTests {
    @Test("at most 31 tokens, each a quote and more: every token is one byte below 0x20")
    func table() {
        let tokens = CompactState.tokens.tokens
        #expect(tokens.count <= 31)
        #expect(tokens.allSatisfy { $0.count >= 2 && $0[0] == 0x22 })
        #expect(Set(tokens).count == tokens.count)
    }

    @Test("packing and unpacking give back the same bytes, tokens or near misses anywhere; a byte below 0x20 is not packed")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 7)
        let pieces: [[UInt8]] =
            CompactState.tokens.tokens + CompactState.tokens.tokens.map { Array($0.dropLast()) } + [
                Array(#"""#.utf8), Array(#"\""#.utf8), Array(#""sources""#.utf8), Array(#""source"#.utf8), Array("مستشفى".utf8), Array("x".utf8),
                Array(#"":"#.utf8),
            ]
        var packedTotal = 0
        var plainTotal = 0
        for _ in 0..<2000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(rng.next() % 40) { bytes += pieces[Int(rng.next() % UInt64(pieces.count))] }
            let packed = try #require(CompactState.tokens.pack(bytes))
            #expect(CompactState.tokens.unpack(packed) == bytes)
            packedTotal += packed.count
            plainTotal += bytes.count
        }
        #expect(packedTotal < plainTotal)
        #expect(CompactState.tokens.pack(Array(#"{"entry":1,"a":"\#u{1}"}"#.utf8)) == nil)
        #expect(CompactState.tokens.unpack(CompactState.tokens.pack([])!) == [])
    }
}

@Suite("Entity rows and checkpoint states in the form a storage keeps (StateBytes)")
struct StoredFormTests {
    @Test("rows and checkpoint states give the same states in either form, whether the entities were put away or not", arguments: [false, true])
    func eitherForm(cools: Bool) throws {
        let s = try Scenario.base(cools: cools)
        let ids = s.state.sortedIDs
        #expect(ids.count >= 6)
        let plain = s.state.rows(ids, stored: false)
        let packed = s.state.rows(ids, stored: true)
        #expect(plain.map(\.id) == ids && packed.map(\.id) == ids)
        for (p, q) in zip(plain, packed) {
            #expect(p.kind == q.kind && p.index == q.index)
            #expect(p.state == .canonical(s.state.encoded(p.id)!))
            #expect(q.state == .stored(CompactState.encode(s.state.encoded(p.id)!)))
        }
        // A checkpoint puts away what the next cooling would (all of them here, when cooling);
        // the states it gives, and the rows after it, are the same in either form.
        let index = UInt64(s.events.count + 10)
        var a = s.state
        var b = s.state
        let x = a.checkpointStates(ids, before: index, stored: false)
        let y = b.checkpointStates(ids, before: index, stored: true)
        #expect(x.allSatisfy { if case .canonical = $0 { true } else { false } })
        #expect(y.allSatisfy { if case .stored = $0 { true } else { false } })
        #expect(x.map(\.canonical) == s.state.encoded(ids))
        #expect(y.map(\.canonical) == s.state.encoded(ids))
        #expect(b.rows(ids, stored: true).map(\.state.canonical) == s.state.encoded(ids))
        #expect(a.rows(ids, stored: false).map(\.state) == plain.map(\.state))
    }
}
