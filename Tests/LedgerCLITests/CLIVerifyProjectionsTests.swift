import Foundation
import Testing

@Suite("verify holds the projections to the log")
struct CLIVerifyProjectionsTests {
    func sandbox() throws -> Sandbox {
        let s = try Sandbox()
        try s.standardSetup()
        try s.append([
            EventJSON.make(type: "facility.registered", subject: "facility:m2", body: ["names": ["en": "M2 Hospital"], "type": "hospital"]),
            EventJSON.make(
                subject: "incident:a",
                body: [
                    "title": ["en": "Strike"], "occurred": "2016-07", "place": ["admin1": "Aleppo"],
                    "facilities": [["facility": "facility:m2", "impact": "damaged"]],
                ]),
        ])
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        return s
    }

    @Test(
        "an altered row in each projection table fails verify naming the table; rebuild repairs it",
        arguments: [
            ("entities", "UPDATE entities SET state = replace(state, '2016-07', '2016-08') WHERE id = 'incident:a'", "incident:a"),
            ("incident_index", "UPDATE incident_index SET admin1 = 'Idlib' WHERE id = 'incident:a'", "incident:a"),
            ("incident_links", "DELETE FROM incident_links WHERE incident = 'incident:a'", "incident:a"),
            ("concerns", "INSERT INTO concerns (entity, idx) VALUES ('incident:a', 1)", "incident:a"),
            ("concerns", "DELETE FROM concerns WHERE entity = 'incident:a'", "incident:a"),
            ("concerns", "UPDATE concerns SET idx = idx + 1000 WHERE entity = 'incident:a'", "incident:a"),
            ("concerns", "INSERT INTO concerns (entity, idx) VALUES ('zz:extra', 3)", "zz:extra"),
            // The first stored row that differs from the log's is named: here the one after the gap.
            ("concerns", "DELETE FROM concerns WHERE entity = 'facility:m2'", "incident:a"),
            ("meta", "UPDATE meta SET value = '7' WHERE key = 'projection_version'", "projection_version"),
        ])
    func altered(_ table: String, _ sql: String, _ key: String) throws {
        let s = try sandbox()
        try SQLTool.run(s.ledger, sql)
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains(table == "meta" ? "projection_version" : "`\(table)`") && r.stderr.contains(key), "\(r.stderr)")
        #expect(try s.run(["rebuild", "--ledger", s.ledger]).status == 0)
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
    }

    /// `verify` compares the state checkpoints with the stored ones as its fold reaches each
    /// size, and counts the rest: a row at a size the fold gives none for is found too.
    @Test(
        "an altered, missing or extra state checkpoint fails verify naming `state_versions` and the row; rebuild repairs it",
        arguments: [
            ("UPDATE state_versions SET state = X'7B7D' WHERE id = 'incident:a'", "differs", "incident:a"),
            ("DELETE FROM state_versions WHERE id = 'incident:a'", "missing", "incident:a"),
            (
                "INSERT INTO state_versions (id, size, state) SELECT 'zz:extra', size, state FROM state_versions WHERE id = 'incident:a'", "does not give",
                "zz:extra"
            ),
            // Size 3 is no multiple of the interval (5): no checkpoint of the fold is compared with it.
            ("INSERT INTO state_versions (id, size, state) SELECT id, 3, state FROM state_versions WHERE id = 'incident:a'", "does not give", "incident:a"),
        ])
    func alteredStateCheckpoint(_ sql: String, _ what: String, _ key: String) throws {
        let s = try sandbox()
        // Entries 0 to 5: the checkpoint at size 5 holds incident:a's state after entry 4.
        try s.append([
            EventJSON.make(type: "source.registered", subject: "source:s", body: ["publisher": "SAMS", "title": "Report", "lang": "en", "type": "report"])
        ])
        try SQLTool.run(s.ledger, "INSERT OR REPLACE INTO meta (key, value) VALUES ('state_checkpoint_interval', '5')")
        #expect(try s.run(["rebuild", "--ledger", s.ledger]).status == 0)
        #expect(try SQLTool.run(s.ledger, "SELECT count(*) FROM state_versions WHERE id = 'incident:a'") == "1")
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
        try SQLTool.run(s.ledger, sql)
        let r = try s.run(["verify", "--ledger", s.ledger])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains("`state_versions`") && r.stderr.contains(what) && r.stderr.contains("key \(key)"), "\(r.stderr)")
        #expect(try s.run(["rebuild", "--ledger", s.ledger]).status == 0)
        #expect(try s.run(["verify", "--ledger", s.ledger]).status == 0)
    }
}
