import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// The valid inputs every target starts from, built in code with fixed keys and times so a
/// run is reproducible; `--bundle DIR` adds the files of a real export bag.
final class Corpus {
    static func key(_ n: UInt8) -> Ed25519.PrivateKey {
        try! Ed25519.PrivateKey(seed: SecureBytes([UInt8](repeating: n, count: 32)))
    }

    let admin = Corpus.key(1)
    let archivist = Corpus.key(2)
    let reviewer = Corpus.key(3)
    let logKey = Corpus.key(4)
    let witnessKey = Corpus.key(5)
    let origin = "fuzz.example/ledger"
    let witnessName = "witness.example/w1"
    /// 2026-01-01T00:00:00Z.
    let epoch = Timestamp(microseconds: 1_767_225_600_000_000)

    /// (type, subject, body JSON) of archive events, as in the archive tests.
    static let archiveEvents: [(String, String, String)] = [
        (
            "facility.registered", "facility:m10",
            #"{"names":{"en":"M10 hospital","ar":"مستشفى م10"},"type":"underground","operators":["SAMS"],"location":{"admin1":"Aleppo","#
                + #""town":"Aleppo","coordinates":{"lat":36.2,"lon":37.15,"precision":"facility"}}}"#
        ),
        (
            "actor.registered", "actor:ru-af",
            #"{"names":{"en":"Russian Aerospace Forces","ru":"Воздушно-космические силы"},"type":"state-forces","country":"RU"}"#
        ),
        ("actor.registered", "actor:sy-af", #"{"names":{"en":"Syrian Arab Air Force"},"type":"state-forces","country":"SY"}"#),
        (
            "source.registered", "source:sams-2016",
            #"{"publisher":"SAMS","title":"Attacks on M10","lang":"en","type":"report","published":"2016-10","url":"https://example.org/m10"}"#
        ),
        (
            "source.registered", "source:ru-mod",
            #"{"publisher":"Ministry of Defence","title":"Briefing","lang":"ru","type":"statement","published":"2016-10-03"}"#
        ),
        (
            "incident.reported", "incident:m10-1",
            #"{"title":{"en":"Strike on M10"},"occurred":"2016-09-28","place":{"admin1":"Aleppo","town":"Aleppo"},"#
                + #""facilities":[{"facility":"facility:m10","impact":"damaged"}],"means":["airstrike","bunker-buster"],"#
                + #""sources":["source:sams-2016"]}"#
        ),
        ("incident.source-cited", "incident:m10-1", #"{"source":"source:ru-mod","locator":"p. 2"}"#),
        (
            "attribution.claimed", "incident:m10-1",
            #"{"claimant":"source:sams-2016","perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"stance":"asserts","#
                + #""basis":["witness-testimony","flight-observations"]}"#
        ),
        (
            "attribution.claimed", "incident:m10-1",
            #"{"claimant":"actor:ru-af","perpetrator":"actor:ru-af","stance":"denies","basis":["official-statement"],"#
                + #""alternative":"says it struck other targets"}"#
        ),
        ("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"killed","min":2,"max":4}"#),
        ("casualties.adopted", "incident:m10-1", #"{"category":"killed","min":2,"max":4,"rule":"single-source"}"#),
        (
            "attribution.assessed", "incident:m10-1",
            #"{"perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"confidence":"moderate","#
                + #""rationale":"Only those two air forces flew over Aleppo then."}"#
        ),
        ("incident.certainty-graded", "incident:m10-1", #"{"certainty":"confirmed","reason":"several independent sources"}"#),
        ("incident.verification-changed", "incident:m10-1", #"{"to":"in-review","reason":"started"}"#),
        (
            "incident.corrected", "incident:m10-1",
            #"{"changes":{"occurred":"2016-09-29","place":{"admin1":"Aleppo","town":"Aleppo","admin2":"Jabal Saman"}},"#
                + #""reason":"a second source gives the 29th"}"#
        ),
        ("incident.corrected", "incident:m10-1", #"{"changes":{"means":null},"reason":"means unknown after all"}"#),
        (
            "aggregate.reported", "aggregate:ocha-24",
            #"{"source":"source:sams-2016","measure":"health-facilities-attacked","figure":{"value":24,"unit":"count","qualifier":"exact"},"#
                + #""period":"2019-04-XX/2019-06","description":{"en":"Health facilities hit in the Idlib region"},"place":{"admin1":"Idlib"},"#
                + #""perpetrator":{"eitherOf":["actor:ru-af","actor:sy-af"]},"includes":["incident:m10-1"]}"#
        ),
        ("aggregate.corrected", "aggregate:ocha-24", #"{"changes":{"note":"which nine is not said"},"reason":"clarify"}"#),
        (
            "incident.reported", "incident:m10-2",
            #"{"title":{"en":"Second strike on M10"},"occurred":"2016-10-01","place":{"admin1":"Aleppo"},"facilities":[{"facility":"facility:m10","#
                + #""impact":"out-of-service"}]}"#
        ),
        ("incident.merged", "incident:m10-2", #"{"into":"incident:m10-1","reason":"same attack"}"#),
        ("incident.retracted", "incident:m10-1", #"{"reason":"a hoax"}"#),
        ("incident.reinstated", "incident:m10-1", #"{"reason":"the hoax claim was itself false"}"#),
        ("facility.alias-added", "facility:m10", #"{"alias":{"name":"M10","lang":"en","kind":"codename"}}"#),
        ("facility.deconfliction-recorded", "facility:m10", #"{"sharedWith":"UN OCHA","sharedOn":"2016-07"}"#),
        ("casualties.reported", "incident:m10-1", #"{"source":"source:sams-2016","category":"injured","min":10,"max":10}"#),
    ]

    /// The archive state the archive-apply checks run against: the first five registrations
    /// and the first report applied.
    lazy var baseArchive: ArchiveState = {
        var s = ArchiveState()
        for (i, e) in Corpus.archiveEvents.prefix(6).enumerated() {
            _ = try? s.apply(type: e.0, subject: e.1, body: try! JSONParser.parseObject(Array(e.2.utf8)), index: UInt64(10 + i))
        }
        return s
    }()

    func eventID(_ n: UInt64) -> String {
        UUIDv7.deterministic(milliseconds: UInt64(epoch.microseconds / 1000) + n, sequence: n)
    }

    func payload(type: String, subject: String, expects: UInt64, body: JSONObject, n: UInt64) -> EventPayload {
        EventPayload(
            ledger: origin, id: eventID(n), type: type, subject: subject, expects: expects,
            signedAt: Timestamp(microseconds: epoch.microseconds + Int64(n) * 1000).signedTimeText, body: body)
    }

    /// Payloads of a small valid log: genesis, three enrolments, then the archive events.
    lazy var payloads: [(payload: EventPayload, key: Ed25519.PrivateKey)] = {
        var out: [(EventPayload, Ed25519.PrivateKey)] = []
        let d = KeyDescriptor(publicKey: admin.publicKey, name: "Fuzz admin", roles: [.admin])
        out.append(
            (payload(type: EventTypes.genesis, subject: d.keyID, expects: 0, body: JSONObject(uniqueMembers: [("admin", .object(d.json))]), n: 0), admin))
        for (k, name, role) in [(archivist, "Fuzz archivist", Role.archivist), (reviewer, "Fuzz reviewer", .reviewer), (logKey, "Fuzz log", .log)] {
            let e = KeyDescriptor(publicKey: k.publicKey, name: name, roles: [role])
            out.append((payload(type: EventTypes.keyEnrolled, subject: e.keyID, expects: 0, body: e.json, n: UInt64(out.count)), admin))
        }
        var revisions: [String: UInt64] = [:]
        for (type, subject, json) in Corpus.archiveEvents {
            let body = try! JSONParser.parseObject(Array(json.utf8))
            let expects = revisions[subject, default: 0]
            revisions[subject] = expects + 1
            let signer =
                ["attribution.assessed", "incident.certainty-graded", "incident.verification-changed", "casualties.adopted"].contains(type)
                ? reviewer : archivist
            out.append((payload(type: type, subject: subject, expects: expects, body: body, n: UInt64(out.count)), signer))
        }
        out.append(
            (
                payload(
                    type: EventTypes.keyRevoked, subject: KeyID.of(reviewer.publicKey), expects: 1,
                    body: JSONObject(uniqueMembers: [("reason", .string("rotated"))]), n: UInt64(out.count)), admin
            ))
        return out
    }()

    lazy var envelopes: [Envelope] = payloads.map { Envelope.sign(payload: $0.payload.encoded(), with: $0.key) }

    lazy var lines: [[UInt8]] = envelopes.enumerated().map { i, e in
        EntryLine(index: UInt64(i), recordedAt: Timestamp(microseconds: epoch.microseconds + Int64(i)), envelope: e).encoded()
    }

    lazy var tree: InMemoryMerkleNodes = {
        var t = InMemoryMerkleNodes()
        for l in lines { t.append(leafBytes: l) }
        return t
    }()

    /// Root of the first `size` entries.
    func root(_ size: Int) -> Digest32 {
        var t = InMemoryMerkleNodes()
        for l in lines.prefix(size) { t.append(leafBytes: l) }
        return t.root
    }

    func checkpoint(size: Int) -> Checkpoint { Checkpoint(origin: origin, size: UInt64(size), root: root(size)) }

    /// A signed checkpoint note, with a witness cosignature when `cosigned`.
    func note(size: Int, cosigned: Bool) -> [UInt8] {
        let text = checkpoint(size: size).text
        var n = SignedNote.sign(text: text, name: origin, key: logKey)
        if cosigned { n.signatures.append(Cosignature.sign(text: text, name: witnessName, key: witnessKey, time: 1_767_225_700)) }
        return n.encoded()
    }

    lazy var notes: [[UInt8]] = [note(size: 4, cosigned: false), note(size: lines.count, cosigned: true), note(size: 1, cosigned: true)]

    lazy var logVerifierKey = VerifierKey(name: origin, kind: .log, publicKey: logKey.publicKey)
    lazy var witnessVerifierKey = VerifierKey(name: witnessName, kind: .cosigner, publicKey: witnessKey.publicKey)

    lazy var inclusionProofs: [[UInt8]] = {
        var out: [[UInt8]] = []
        for (index, size) in [(0, 4), (3, lines.count), (lines.count - 1, lines.count), (0, 1)] {
            let path = (try? MerkleTree.inclusionProof(index: UInt64(index), size: UInt64(size), source: tree)) ?? []
            let note = note(size: size, cosigned: size > 1)
            out.append(InclusionProofFile(entryLine: lines[index], index: UInt64(index), path: path, note: note).encoded())
            out.append(InclusionProofFile(entryLine: nil, index: UInt64(index), path: path, note: note).encoded())
        }
        return out
    }()

    lazy var consistencyProofs: [[UInt8]] = {
        var out: [[UInt8]] = []
        for (a, b) in [(1, 4), (4, lines.count), (7, lines.count), (lines.count, lines.count)] {
            let proof = (try? MerkleTree.consistencyProof(from: UInt64(a), to: UInt64(b), source: tree)) ?? []
            out.append(
                ConsistencyProofFile(oldSize: UInt64(a), proof: proof, oldNote: note(size: a, cosigned: false), newNote: note(size: b, cosigned: true))
                    .encoded())
        }
        return out
    }()

    lazy var manifests: [[UInt8]] = {
        var files: [(path: String, digest: Digest32)] = [(Bag.entriesPath, SHA256.hash(Array(lines.joined(separator: [0x0A])) + [0x0A]))]
        files.append((Bag.latestPath, SHA256.hash(notes[1])))
        files.append((Bag.checkpointPath(4), SHA256.hash(notes[0])))
        let tags: [(path: String, digest: Digest32)] = [
            ("bagit.txt", SHA256.hash(Bag.bagitTxt)), ("bag-info.txt", SHA256.hash(bagInfos[0])), ("manifest-sha256.txt", SHA256.hash(Bag.manifest(files))),
        ]
        return [Bag.manifest(files), Bag.manifest(tags), Array("\(Digest32.zero.hex)     data/a b/ü.txt\n".utf8), []]
    }()

    lazy var bagInfos: [[UInt8]] = [
        Bag.Info(
            origin: origin, treeSize: UInt64(lines.count), root: tree.root, genesisKeyID: KeyID.of(admin.publicKey),
            exportTime: Timestamp(microseconds: epoch.microseconds + 86_400_000_000), payloadOctets: 123_456, payloadFiles: 4
        ).encoded(),
        Bag.bagitTxt,
        Array("Label: value\nLabel: second value\nContact-Name: Ana María\nEmpty: \n".utf8),
    ]

    lazy var verifierKeys: [[UInt8]] = [
        Array(logVerifierKey.encoded.utf8), Array(witnessVerifierKey.encoded.utf8),
        Array(VerifierKey(name: "a", kind: .log, publicKey: admin.publicKey).encoded.utf8),
    ]

    static let edtf: [String] = [
        "2019", "2019-05", "2019-05-05", "0000", "9999-12-31", "2020-02-29", "201X", "20XX", "2019-XX", "2019-05-XX", "2019-XX-XX",
        "2019?", "2019-05~", "2019-05-05%", "2019/2020", "2019-05-05/..", "../2019-05", "/2019", "2019/", "2019-04-XX/2019-06",
        "2016-09-28/2016-10-01?",
    ]

    static let languageTags: [String] = [
        "en", "ar", "ar-SY", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1901", "sl-rozaj-biske", "en-US-x-twain", "x-private", "i-klingon",
        "zh-min-nan", "en-a-bbb-b-ccc", "es-419", "yue-HK", "en-x-p1", "art-lojban", "sgn-BE-FR", "ru", "en-GB-oed", "hy-Latn-IT-arevela",
    ]

    static let csvSheets: [String] = [
        "\u{FEFF}a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n2,,\"\"\r\n3,last,z",
        "a,b,\n",
        """
        Ref,Title,Date,Town,Facility,Impact,Weapons
        1, Strike on M2 ,25/07/2016,Aleppo,M2,damaged,Barrel bomb; airstrike
        2,No date,,Aleppo,,,
        3,Bad means,01/01/2016,Aleppo,,,napalm
        4,Impact alone,01/01/2016,Aleppo,,destroyed,
        9,Plain,1/2/2017,Idlib,,,
        10,"Quoted, title",02/02/2017,"Kafr Nabl",M2,"destroyed",airstrike

        """,
        "Ref,Title,Date,Town,Facility,Impact,Weapons\r\n5,Night strike,03/03/2018,Ariha,,,airstrike\r\n",
    ]

    static let csvMappings: [String] = [
        #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":"s-"},"dataset":"sheet","dates":"DD/MM/YYYY","#
            + #""columns":{"title.en":"Title","occurred":"Date","place.town":"Town","facilities.facility":"Facility","facilities.impact":"Impact","#
            + #""means":"Weapons"},"values":{"means":{"Barrel bomb":"barrel-bomb"},"facilities.facility":{"M2":"facility:m2"}}}"#,
        #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"dates":"MM/DD/YYYY","columns":{"title.ar":"Title","occurred":"Date","#
            + #""place.admin1":"Town"},"constants":{"facilities.impact":"damaged","summary.en":"Imported"},"sources":["source:sheet"]}"#,
        #"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref","prefix":""},"dates":"edtf","columns":{"title.en-GB":"Title","#
            + #""occurred":"Date","place.coordinates.lat":"Town"},"constants":{"place.coordinates.lon":"36.5","#
            + #""place.coordinates.precision":"town"}}"#,
    ]

    /// Parsed mappings the CSV target imports through.
    lazy var parsedMappings: [CSVMapping] = Corpus.csvMappings.compactMap { try? CSVMapping.parse(Array($0.utf8), name: "m.json") }

    /// Archive payloads: every archive event as a payload (what `archive-body` mutates).
    lazy var archivePayloads: [[UInt8]] = payloads.filter { $0.payload.eventType?.entityKind != nil }.map { $0.payload.encoded() }

    /// Extra seeds read from a real export bag (`--bundle DIR`), by kind.
    var bundleLines: [[UInt8]] = []
    var bundleNotes: [[UInt8]] = []
    var bundleManifests: [[UInt8]] = []
    var bundleInfos: [[UInt8]] = []

    func loadBundle(_ dir: String) {
        func read(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: dir + "/" + path).map { [UInt8]($0) } }
        if let entries = read("data/entries.jsonl") {
            // A spread of entries: every type appears within the first few dozen, and the rest add variety.
            let all = entries.split(separator: 0x0A).map(Array.init)
            bundleLines = stride(from: 0, to: all.count, by: max(1, all.count / 64)).map { all[$0] }
        }
        if let n = read("data/checkpoint") { bundleNotes.append(n) }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dir + "/data/checkpoints") {
            for name in names.sorted() { if let n = read("data/checkpoints/" + name) { bundleNotes.append(n) } }
        }
        for m in ["manifest-sha256.txt", "tagmanifest-sha256.txt"] { if let b = read(m) { bundleManifests.append(b) } }
        for m in ["bag-info.txt", "bagit.txt"] { if let b = read(m) { bundleInfos.append(b) } }
    }

    /// Payloads of the bundle's entries.
    var bundlePayloads: [[UInt8]] { bundleLines.compactMap { try? EntryLine(bytes: $0).envelope.payload } }

    /// The key a payload of `type` is signed with in the fixture log.
    func signer(for type: String) -> Ed25519.PrivateKey {
        if type == EventTypes.genesis || type.hasPrefix("key.") { return admin }
        if ["attribution.assessed", "incident.certainty-graded", "incident.verification-changed", "casualties.adopted"].contains(type) { return reviewer }
        return archivist
    }

    // MARK: Inputs that once hung a decoder

    /// `count` distinct lowercase words of `width` letters (aaaa, aaab, …).
    static func counter(_ k: Int, width: Int) -> String {
        var v = k
        var out = [UInt8](repeating: 0, count: width)
        for i in stride(from: width - 1, through: 0, by: -1) {
            out[i] = UInt8(97 + v % 26)
            v /= 26
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The language tag that hung LanguageTag.problem (seed 1, input #46895 of the language-tag
    /// target): 131,582 distinct variants, 1,052,665 bytes; SHA-256 2d92bd74…2d13.
    static let languageTagHang: [UInt8] = {
        var tag = "art-ljban"
        for k in 0..<131_582 { tag += "rt-l" + counter(k, width: 4) }
        return Array(tag.utf8)
    }()

    static func mapping(columns: [String] = [], constants: [String] = [], sources: [String] = []) -> [UInt8] {
        let cols = [#""title.en":"Title""#, #""occurred":"Date""#, #""place.town":"Town""#] + columns
        let cons = constants.isEmpty ? "" : #","constants":{"# + constants.joined(separator: ",") + "}"
        let srcs = sources.isEmpty ? "" : #","sources":["# + sources.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return Array(
            (#"{"format":"incidentledger-csv-mapping/1","id":{"column":"Ref"},"columns":{"# + cols.joined(separator: ",") + "}" + cons + srcs + "}").utf8)
    }

    /// Mappings that hung CSVMapping.parse: 69,000 sources (9 s), and 16,000 title columns beside
    /// 16,000 summary constants (1.6 s).
    static let mappingHangs: [[UInt8]] = [
        mapping(sources: (0..<69_000).map { "source:\($0)" }),
        mapping(columns: (0..<16_000).map { #""title.en-x-c\#($0)":"Title""# }, constants: (0..<16_000).map { #""summary.en-x-k\#($0)":"v""# }),
    ]
}
