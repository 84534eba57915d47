import LedgerArchive
import LedgerCore
import Testing

/// `rebuild` makes, on its decoding threads, the bytes an event adds to its subject's state
/// (`Archive.CheckedEvent.prepared`); the fold must come out byte for byte as when it makes them.
@Suite("A fold given the bytes made ahead equals one that makes them")
struct PreparedFoldTests {
    /// Every event kind whose addition is made ahead (a report's sources, an item appended to a
    /// list, an object set), with the registrations they need.
    static let events: [(type: EventType, subject: String, json: String)] = [
        (.facilityRegistered, "facility:m10", #"{"names":{"en":"M10"},"type":"hospital"}"#),
        (.actorRegistered, "actor:a", #"{"names":{"en":"A"},"type":"state-forces"}"#),
        (.actorRegistered, "actor:b", #"{"names":{"en":"B"},"type":"state-forces"}"#),
        (.sourceRegistered, "source:s", #"{"lang":"en","publisher":"P","title":"T","type":"report"}"#),
        (.sourceRegistered, "source:t", #"{"lang":"en","publisher":"Q","title":"U","type":"report"}"#),
        (
            .incidentReported, "incident:i1",
            #"{"facilities":[{"facility":"facility:m10","impact":"damaged"}],"occurred":"2016-09-28","place":{"admin1":"Aleppo"},"#
                + #""sources":["source:s","source:t"],"title":{"en":"Strike"}}"#
        ),
        (.incidentReported, "incident:i2", #"{"occurred":"2016-09-28","place":{"admin1":"Aleppo"},"title":{"en":"Same strike"}}"#),
        (.incidentReported, "incident:i3", #"{"occurred":"2016-10","place":{"admin1":"Idlib"},"title":{"en":"Another"}}"#),
        (.incidentSourceCited, "incident:i1", #"{"locator":"p. 4","source":"source:s"}"#),
        (.attributionClaimed, "incident:i1", #"{"basis":["video"],"claimant":"source:s","perpetrator":"actor:a","stance":"asserts"}"#),
        (
            .attributionClaimed, "incident:i1",
            #"{"basis":["witness-testimony"],"claimant":"actor:b","perpetrator":{"eitherOf":["actor:a","actor:b"]},"stance":"denies"}"#
        ),
        (.attributionAssessed, "incident:i1", #"{"confidence":"high","perpetrator":"actor:a","rationale":"two sources agree"}"#),
        (.casualtiesReported, "incident:i1", #"{"category":"killed","max":4,"min":2,"source":"source:s"}"#),
        (.incidentCertaintyGraded, "incident:i1", #"{"certainty":"confirmed","reason":"several sources"}"#),
        (.incidentVerificationChanged, "incident:i1", #"{"reason":"started","to":"in-review"}"#),
        (.facilityDeconflictionRecorded, "facility:m10", #"{"sharedOn":"2016-07","sharedWith":"UN OCHA"}"#),
        (.incidentMerged, "incident:i2", #"{"into":"incident:i1","reason":"the same strike"}"#),
        (.incidentRetracted, "incident:i3", #"{"reason":"a duplicate of a report elsewhere"}"#),
    ]

    /// The states after folding `events`, each event prechecked with the index given by
    /// `preparedAt` (nil: nothing made ahead).
    static func fold(preparedAt: (UInt64) -> UInt64?) throws -> (ArchiveState, [String]) {
        var state = ArchiveState()
        var ids: [String] = []
        for (i, e) in events.enumerated() {
            let index = UInt64(i + 1)
            let body = try #require(CanonicalObject(validatingCanonical: Array(e.json.utf8)), "\(e.json) is not canonical")
            let prechecked = Archive.Prechecked(type: e.type, subject: e.subject, body: body, latestDay: 20_250_101, index: preparedAt(index))
            let change = try state.applyOwning(prechecked, subject: e.subject, body: body, index: index)
            #expect(change != nil, "\(e.type.name) was not folded")
            if !ids.contains(e.subject) { ids.append(e.subject) }
        }
        return (state, ids)
    }

    @Test("made ahead at the entry's index, made by the fold, or made ahead for another index (ignored): the same states")
    func sameStates() throws {
        let (plain, ids) = try Self.fold { _ in nil }
        let (prepared, _) = try Self.fold { $0 }
        let (elsewhere, _) = try Self.fold { $0 + 1 }
        for id in ids {
            let expected = try #require(plain.encoded(id), "\(id) missing")
            #expect(prepared.encoded(id) == expected, "\(id)")
            #expect(elsewhere.encoded(id) == expected, "\(id)")
        }
        // The additions are in the states: the report's sources with their entry, the claims,
        // the merge and the retraction.
        let i1 = String(decoding: try #require(plain.encoded("incident:i1")), as: UTF8.self)
        #expect(i1.contains(#""sources":[{"entry":6,"source":"source:s"},{"entry":6,"source":"source:t"},{"entry":9,"#))
        #expect(i1.contains(#""claims":[{"basis":["video"],"claimant":"source:s","entry":10,"#))
        #expect(i1.contains(#""absorbed":["incident:i2"]"#))
        #expect(String(decoding: try #require(plain.encoded("incident:i2")), as: UTF8.self).contains(#""merge":{"entry":17,"into":"incident:i1""#))
        #expect(String(decoding: try #require(plain.encoded("incident:i3")), as: UTF8.self).contains(#""retraction":{"entry":18,"#))
    }
}
