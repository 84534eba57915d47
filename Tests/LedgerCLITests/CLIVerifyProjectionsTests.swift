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
}
