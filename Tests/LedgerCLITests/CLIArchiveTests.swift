import Foundation
import LedgerCrypto
import LedgerTesting
import Testing

// Runs on SQLite and PostgreSQL (`arguments: StoreKind.all`), except:
// - projectionVersion (SQLite only): it damages the projections with a `sqlite3` edit of the file.

/// The archive commands end to end, through the `ledger` executable.
@Suite("ledger CLI: archive views")
struct CLIArchiveTests {
    static let registry = [
        #"{"type":"facility.registered","subject":"facility:tarmala","expects":0,"body":{"names":{"en":"Tarmala maternity hospital","#
            + #""ar":"مشفى الترملا للنسائية والأطفال"},"type":"maternity","location":{"admin1":"Idlib","#
            + #""town":"Tarmala"}}}"#,
        #"{"type":"actor.registered","subject":"actor:sy-gov","expects":0,"body":{"names":{"en":"Syrian government forces"},"type":"state-forces","#
            + #""country":"SY"}}"#,
        #"{"type":"source.registered","subject":"source:uossm","expects":0,"body":{"publisher":"UOSSM","title":"Statement","lang":"en","type":"statement"}}"#,
        #"{"type":"incident.reported","subject":"incident:tarmala","expects":0,"body":{"title":{"en":"Bombing of Tarmala maternity hospital"},"#
            + #""occurred":"2019-05","place":{"admin1":"Idlib","town":"Tarmala"},"facilities":[{"facility":"facility:tarmala","#
            + #""impact":"destroyed"}]}}"#,
    ]

    func setUp(_ store: StoreKind = .sqlite) throws -> Sandbox {
        let s = try Sandbox(store: store)
        try s.standardSetup()
        try s.newKey("reviewer")
        try s.enroll("reviewer", roles: "reviewer")
        try s.append(Self.registry)
        return s
    }

    @Test("show, history and show --at-size: current view, old → new, and the view before a correction", arguments: StoreKind.all)
    func showHistory(store: StoreKind) throws {
        let s = try setUp(store)
        let sizeBefore = try s.verifiedSize()
        try s.append([
            #"{"type":"incident.corrected","subject":"incident:tarmala","expects":1,"body":{"changes":{"occurred":"2019-05-15"},"reason":"the day is known"}}"#,
            #"{"type":"attribution.claimed","subject":"incident:tarmala","expects":2,"body":{"claimant":"source:uossm","perpetrator":"actor:sy-gov","#
                + #""stance":"asserts","basis":["witness-testimony"]}}"#,
        ])
        let now = try s.run(["show", "--ledger", s.ledger, "incident:tarmala", "--json"])
        try #require(now.status == 0, "\(now)")
        let state = try #require(try now.jsonLines().first?["state"] as? [String: Any])
        #expect(state["occurred"] as? String == "2019-05-15")
        let then = try s.run(["show", "--ledger", s.ledger, "incident:tarmala", "--at-size", String(sizeBefore), "--json"])
        #expect((try then.jsonLines().first?["state"] as? [String: Any])?["occurred"] as? String == "2019-05")
        let text = try s.run(["show", "--ledger", s.ledger, "facility:tarmala"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("2019-05-15  incident:tarmala  destroyed"), "\(text)")
        // Arabic is isolated so it cannot reorder the line around it.
        #expect(text.stdout.contains("\u{2068}مشفى الترملا للنسائية والأطفال\u{2069}"))
        let history = try s.run(["history", "--ledger", s.ledger, "incident:tarmala", "--json"])
        let revisions = try history.jsonLines()
        #expect(revisions.map { $0["type"] as? String } == ["incident.reported", "incident.corrected", "attribution.claimed"])
        let correction = revisions[1]
        #expect(correction["reason"] as? String == "the day is known")
        #expect(correction["signerName"] as? String == "Archivist holder")
        let changes = try #require(correction["changes"] as? [[String: Any]])
        #expect(changes.count == 1)
        #expect(changes.first?["field"] as? String == "occurred")
        #expect(changes.first?["old"] as? String == "2019-05")
        #expect(changes.first?["new"] as? String == "2019-05-15")
        let plain = try s.run(["history", "--ledger", s.ledger, "incident:tarmala"])
        #expect(plain.stdout.contains("occurred  2019-05 → 2019-05-15"), "\(plain)")
    }

    @Test("bad archive events: exit 65 or 3 naming the field, the ledger unchanged", arguments: StoreKind.all)
    func badEvents(store: StoreKind) throws {
        let s = try setUp(store)
        let cases: [(String, Int32, [String])] = [
            (
                #"{"type":"incident.corrected","subject":"incident:tarmala","expects":1,"body":{"changes":{"colour":"red"},"reason":"x"}}"#, 65,
                ["body.changes.colour"]
            ),
            (
                #"{"type":"attribution.claimed","subject":"incident:tarmala","expects":1,"body":{"claimant":"source:uossm","#
                    + #""perpetrator":"actor:ghost","stance":"asserts","basis":["video"]}}"#,
                3, ["body.perpetrator", "actor:ghost"]
            ),
            (
                #"{"type":"incident.source-cited","subject":"incident:tarmala","expects":1,"body":{"source":"source:ghost"}}"#, 3,
                ["body.source", "source:ghost"]
            ),
            (
                #"{"type":"casualties.reported","subject":"incident:tarmala","expects":1,"body":{"source":"source:uossm","category":"killed","#
                    + #""min":4,"max":2}}"#,
                65, ["body.min", "greater than max"]
            ),
            (
                #"{"type":"incident.reported","subject":"incident:x","expects":0,"body":{"title":{"en":"x"},"occurred":"2019-13","place":{"admin1":"Idlib"}}}"#,
                65, ["body.occurred", "2019-13"]
            ),
            (
                #"{"type":"incident.merged","subject":"incident:tarmala","expects":1,"body":{"into":"incident:tarmala","reason":"x"}}"#, 65,
                ["body.into", "itself"]
            ),
            // Rules that need the archive's state exit 3, like the log's rules.
            (
                #"{"type":"incident.corrected","subject":"incident:tarmala","expects":1,"body":{"changes":{"occurred":"2019-05"},"reason":"x"}}"#, 3,
                ["body.changes.occurred", "equals the current"]
            ),
            (
                #"{"type":"incident.reported","subject":"incident:tarmala","expects":1,"body":{"title":{"en":"x"},"occurred":"2019","#
                    + #""place":{"admin1":"Idlib"}}}"#,
                3, ["already exists"]
            ),
            (#"{"type":"facility.alias-added","subject":"facility:tarmala","expects":1,"body":{"alias":{"name":"T","lang":"en","kind":"codename"}}}"#, 0, []),
            (
                #"{"type":"facility.alias-added","subject":"facility:tarmala","expects":2,"body":{"alias":{"name":"T","lang":"EN","kind":"codename"}}}"#, 3,
                ["already has the alias"]
            ),
            (
                #"{"type":"facility.registered","subject":"facility:x","expects":0,"body":{"names":{"en":"a","EN":"b"},"type":"clinic"}}"#, 65,
                ["body.names.", "given twice"]
            ),
        ]
        for (event, status, mentions) in cases {
            let before = try s.fingerprint()
            let file = s.write("bad.json", event)
            let r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), file])
            #expect(r.status == status, "\(r)")
            for m in mentions { #expect(r.stderr.contains(m), "\(r.stderr) lacks \(m)") }
            #expect(!r.stderr.contains("Fatal"), "\(r)")
            if status != 0 { #expect(try s.fingerprint() == before, "the refused event changed the ledger: \(r)") }
        }
        // A reviewer's judgement signed by an archivist is refused by role.
        let graded = s.write(
            "g.json", #"{"type":"incident.certainty-graded","subject":"incident:tarmala","expects":1,"body":{"certainty":"confirmed","reason":"x"}}"#)
        let r = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("archivist"), graded])
        #expect(r.status == 3 && r.stderr.contains("reviewer"), "\(r)")
        let ok = try s.run(["append", "--ledger", s.ledger, "--key", s.keyPath("reviewer"), graded])
        #expect(ok.status == 0, "\(ok)")
        // `sign` checks the schema offline, before signing.
        let bad = s.write("bad-sign.json", cases[0].0)
        let signed = try s.run(["sign", "--key", s.keyPath("archivist"), "--origin", s.origin, bad])
        #expect(signed.status == 65 && signed.stderr.contains("body.changes.colour"), "\(signed)")
    }

    @Test("snapshot as of a moment is byte-identical when regenerated after more appends; list filters; rebuild", arguments: StoreKind.all)
    func snapshotListRebuild(store: StoreKind) throws {
        let s = try setUp(store)
        let size = try s.verifiedSize()
        let first = try s.run(["snapshot", "--ledger", s.ledger, "--at-size", String(size), "--out", s.path("a.json")])
        try #require(first.status == 0, "\(first)")
        try s.append([
            #"{"type":"incident.reported","subject":"incident:other","expects":0,"body":{"title":{"en":"Other"},"occurred":"2020-02","#
                + #""place":{"admin1":"Aleppo","town":"Darat Izza"}}}"#,
            #"{"type":"attribution.claimed","subject":"incident:tarmala","expects":1,"body":{"claimant":"source:uossm","perpetrator":"actor:sy-gov","#
                + #""stance":"asserts","basis":["witness-testimony"]}}"#,
        ])
        let second = try s.run(["snapshot", "--ledger", s.ledger, "--at-size", String(size), "--out", s.path("b.json")])
        #expect(second.stdout.split(separator: " ").first == first.stdout.split(separator: " ").first)
        let a = try #require(FileManager.default.contents(atPath: s.path("a.json")))
        #expect(a == FileManager.default.contents(atPath: s.path("b.json")))
        #expect(first.stdout.hasPrefix(SHA256.hash(Array(a)).hex))
        // The current snapshot (from the projections) equals the one replayed at the current size.
        let now = try s.verifiedSize()
        _ = try s.run(["snapshot", "--ledger", s.ledger, "--out", s.path("now.json")])
        _ = try s.run(["snapshot", "--ledger", s.ledger, "--at-size", String(now), "--out", s.path("replayed.json")])
        #expect(FileManager.default.contents(atPath: s.path("now.json")) == FileManager.default.contents(atPath: s.path("replayed.json")))
        let exists = try s.run(["snapshot", "--ledger", s.ledger, "--out", s.path("a.json")])
        #expect(exists.status == 74)

        func ids(_ args: [String]) throws -> [String] {
            let r = try s.run(["list", "--ledger", s.ledger, "--json"] + args)
            #expect(r.status == 0, "\(r)")
            return try r.jsonLines().compactMap { $0["id"] as? String }
        }
        #expect(try ids([]) == ["incident:other", "incident:tarmala"])
        #expect(try ids(["--perpetrator", "actor:sy-gov"]) == ["incident:tarmala"])
        #expect(try ids(["--perpetrator", "actor:sy-gov", "--at-size", String(size)]) == [])
        #expect(try ids(["--place", "darat izza"]) == ["incident:other"])
        #expect(try ids(["--occurred-from", "2019-06", "--occurred-to", "2020"]) == ["incident:other"])
        #expect(try ids(["--facility", "facility:tarmala"]) == ["incident:tarmala"])
        for (args, mention) in [
            (["--status", "gone"], "--status"), (["--facility", "m10"], "--facility"), (["--perpetrator", "incident:x"], "--perpetrator"),
            (["--occurred-from", "2020", "--occurred-to", "2019"], "after"), (["--as-of", "2999-01-01T00:00:00Z"], "future"),
        ] {
            let bad = try s.run(["list", "--ledger", s.ledger] + args)
            #expect(bad.status == 65 && bad.stderr.contains(mention), "\(bad)")
        }

        let rebuild = try s.run(["rebuild", "--ledger", s.ledger])
        #expect(rebuild.status == 0, "\(rebuild)")
        _ = try s.run(["snapshot", "--ledger", s.ledger, "--out", s.path("rebuilt.json")])
        #expect(FileManager.default.contents(atPath: s.path("rebuilt.json")) == FileManager.default.contents(atPath: s.path("replayed.json")))
    }

    @Test("a merged incident's id resolves to the survivor", arguments: StoreKind.all)
    func mergeResolves(store: StoreKind) throws {
        let s = try setUp(store)
        try s.append([
            #"{"type":"incident.reported","subject":"incident:tarmala-dup","expects":0,"body":{"title":{"en":"Maternity hospital hit"},"#
                + #""occurred":"2019-05-15","place":{"admin1":"Idlib"}}}"#,
            #"{"type":"incident.merged","subject":"incident:tarmala-dup","expects":1,"body":{"into":"incident:tarmala","reason":"same strike"}}"#,
        ])
        let r = try s.run(["show", "--ledger", s.ledger, "incident:tarmala-dup"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("was merged into incident:tarmala"))
        #expect(r.stdout.contains("incident incident:tarmala  [active]"))
        #expect(r.stdout.contains("absorbed"))
        let missing = try s.run(["show", "--ledger", s.ledger, "incident:nothing"])
        #expect(missing.status == 65 && missing.stderr.contains("not in the archive"), "\(missing)")
    }

    @Test("projections of another fold version are refused until `rebuild`, which then restores them")
    func projectionVersion() throws {
        let s = try setUp()
        let before = try s.run(["show", "--ledger", s.ledger, "incident:tarmala", "--json"])
        _ = try SQLTool.run(s.ledger, "UPDATE meta SET value = '0' WHERE key = 'projection_version'; DELETE FROM entities;")
        let show = try s.run(["show", "--ledger", s.ledger, "incident:tarmala"])
        #expect(show.status == 5 && show.stderr.contains("ledger rebuild"), "\(show)")
        let append = try s.run([
            "append", "--ledger", s.ledger, "--key", s.keyPath("archivist"),
            s.write("c.json", #"{"type":"incident.retracted","subject":"incident:tarmala","expects":1,"body":{"reason":"x"}}"#),
        ])
        #expect(append.status == 5 && append.stderr.contains("ledger rebuild"), "\(append)")
        let rebuild = try s.run(["rebuild", "--ledger", s.ledger])
        #expect(rebuild.status == 0, "\(rebuild)")
        let after = try s.run(["show", "--ledger", s.ledger, "incident:tarmala", "--json"])
        #expect(after.stdout == before.stdout)
    }
}
