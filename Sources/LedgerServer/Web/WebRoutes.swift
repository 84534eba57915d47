import Foundation
import HTTPTypes
import Hummingbird
import LedgerArchive
import LedgerCore
import LedgerStore
import NIOCore

/// The web archive (issue 13): server-rendered pages, readable without JavaScript, that show
/// only what the public exports show (places at town or district precision; no coordinates, no
/// deconfliction records: fields are chosen one by one, never copied wholesale).
extension Routes {
    static let pageSize = 50
    /// Rows at most in a list that is not paged (a facility's attacks, a chart's points): a
    /// page stays readable and cheap whatever the archive's size; the rest is counted.
    static let listLimit = 500

    func addWeb(to router: Router<some RequestContext>) {
        router.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/incidents"]) }
        router.get("/static/style.css") { _, _ in
            Reply.bytes(.ok, "text/css; charset=utf-8", Array(WebTemplates.style.utf8), headers: [.cacheControl: "public, max-age=3600"])
        }
        router.get("/static/verify.js") { _, _ in
            Reply.bytes(.ok, "text/javascript; charset=utf-8", Array(WebScript.verify.utf8), headers: [.cacheControl: "public, max-age=3600"])
        }
        router.get("/incidents") { request, _ in await page { try await incidentsPage(request) } }
        router.get("/incidents/{name}") { request, context in
            await page { try await incidentPage(request, name: context.parameters.get("name") ?? "") }
        }
        router.get("/incidents/{name}/history") { request, context in
            await page { try await historyPage(request, name: context.parameters.get("name") ?? "") }
        }
        router.get("/facilities/{name}") { request, context in
            await page { try await facilityPage(request, name: context.parameters.get("name") ?? "") }
        }
        router.get("/log") { request, _ in await page { try await logPage(request) } }
        addEntityPages(to: router)
        addCharts(to: router)
    }

    /// Runs a page handler; a refusal becomes an HTML page with its message.
    func page(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let e as LedgerError {
            let status: HTTPResponse.Status = e.code == .malformed ? .badRequest : .serviceUnavailable
            return html(status, title: "Not shown", body: "<h1>Not shown</h1><p>\(Self.escape(e.message))</p>", context: nil)
        } catch {
            return html(.internalServerError, title: "Error", body: "<h1>Error</h1><p>\(Self.escape(String(describing: error)))</p>", context: nil)
        }
    }

    /// What every page's frame shows: the archive's origin and the moment shown.
    struct PageContext {
        var origin: String
        var moment: (size: UInt64, moment: String)?
        var nowLink: String
    }

    func html(_ status: HTTPResponse.Status, title: String, body: String, context: PageContext?) -> Response {
        var object: [String: Any] = ["title": title, "body": body, "origin": context?.origin ?? server.origin]
        if let m = context?.moment {
            object["asOf"] = true
            object["moment"] = m.moment.isEmpty ? "the start" : m.moment
            object["treeSize"] = String(m.size)
            object["nowLink"] = context?.nowLink ?? "/incidents"
            object["momentQuery"] = "?atSize=\(m.size)"
        }
        return Reply.bytes(status, "text/html; charset=utf-8", Array(WebTemplates.render("layout", object).utf8), headers: Self.pageHeaders)
    }

    static func escape(_ s: String) -> String { WebTemplates.escape(s) }

    /// Sent with every page: it may load its style sheet and script from this server and
    /// nothing else, send forms only here, not be framed, and its address is not sent on.
    static let pageHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    /// A value for a link's query: every byte but letters, digits and `-._~` percent-encoded
    /// (so `&`, `=`, `+` and `#` in a filter stay inside its value).
    static func queryValue(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.append(Character(Unicode.Scalar(b)))
            default:
                let h = Array("0123456789ABCDEF")
                out += "%" + String(h[Int(b >> 4)]) + String(h[Int(b & 15)])
            }
        }
        return out
    }

    /// The day the date control shows: the day asked for (`asOf=YYYY-MM-DD` resolves to that
    /// day's start), and nothing for a moment given as a size or a time of day, since submitting
    /// a day would move the view to that day's start, an earlier moment.
    static func dateControl(_ at: (size: UInt64, moment: String)?) -> String {
        guard let at, at.moment.hasSuffix("T00:00:00.000000Z") else { return "" }
        return String(at.moment.prefix(10))
    }

    /// A web form's moment: `asOf` as a day (YYYY-MM-DD: that day's start, UTC) or an RFC 3339
    /// time, or `atSize`. Empty form fields count as absent.
    static func webMoment(_ q: inout Query) throws(LedgerError) -> Moment {
        var m = Moment()
        if let text = q.text("asOf"), !text.isEmpty {
            let full = text.utf8.count == 10 ? text + "T00:00:00Z" : text
            guard let t = Timestamp.parseRFC3339(full) else {
                throw LedgerError(.malformed, "asOf \"\(text.prefix(80))\" is not a day such as 2019-06-01 or a UTC time such as 2019-06-01T00:00:00Z")
            }
            m.asOf = t
        }
        if let text = q.text("atSize"), !text.isEmpty {
            guard text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = UInt64(text) else {
                throw LedgerError(.malformed, "atSize must be a whole number, not \"\(text.prefix(80))\"")
            }
            m.atSize = n
        }
        if m.asOf != nil, m.atSize != nil { throw LedgerError(.malformed, "asOf and atSize are alternatives; give one") }
        return m
    }

    // MARK: Incidents

    func incidentsPage(_ request: Request) async throws -> Response {
        let names = ["place", "perpetrator", "facility", "occurredFrom", "occurredTo", "status", "sort", "page", "asOf", "atSize"]
        var q = try Query(request, allowed: names)
        func field(_ n: String) -> String? { q.text(n).flatMap { $0.isEmpty ? nil : $0 } }
        let values = Dictionary(uniqueKeysWithValues: ["place", "perpetrator", "facility", "occurredFrom", "occurredTo", "status"].map { ($0, field($0)) })
        let filter = try IncidentFilter(
            occurredFrom: values["occurredFrom"]!, occurredTo: values["occurredTo"]!, place: values["place"]!, facility: values["facility"]!,
            perpetrator: values["perpetrator"]!, status: values["status"]!, certainty: nil, verification: nil, name: { $0.rawValue })
        let sort = field("sort") ?? "occurred"
        guard sort == "occurred" || sort == "title" else { throw LedgerError(.malformed, "sort must be occurred or title") }
        let pageNumber =
            try field("page").map { (p: String) throws(LedgerError) -> Int in
                guard let n = Int(p), n >= 1, n <= 1_000_000 else { throw LedgerError(.malformed, "page must be a whole number from 1") }
                return n
            } ?? 1
        let moment = try Self.webMoment(&q)
        let origin = server.origin
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let at = try moment.resolve(ledger)
            let view = ArchiveView(source: ledger, size: at?.size)
            // Sort keys for every match; the display fields (names read from other entities)
            // only for the rows of the page shown. Ties are broken by id, so a page never
            // changes between requests.
            // By date now, only the index is read and sorted, and only the page's states; by title
            // or as of a moment, every matching state.
            let first = (pageNumber - 1) * Self.pageSize
            func page<T>(_ all: [T]) -> ArraySlice<T> { first < all.count ? all[first..<min(all.count, first + Self.pageSize)] : [] }
            var states: [JSONObject] = []
            var total = 0
            if at == nil, sort == "occurred" {
                let keys = try ledger.incidentKeys(matching: filter).sorted { ($0.earliest ?? 0, $0.id) < ($1.earliest ?? 0, $1.id) }
                total = keys.count
                for k in page(keys) { if let s = try ledger.entityState(k.id) { states.append(s) } }
            } else {
                var rows: [(earliest: Int, title: String, id: String, state: JSONObject)] = []
                for s in try view.incidents(matching: filter) {
                    let r = IncidentIndexRow(s)
                    rows.append((r.earliest ?? 0, (Self.texts(s["title"]?.objectValue).first?["text"] ?? r.id).lowercased(), r.id, s))
                }
                if sort == "title" {
                    rows.sort { ($0.title, $0.id) < ($1.title, $1.id) }
                } else {
                    rows.sort { ($0.earliest, $0.id) < ($1.earliest, $1.id) }
                }
                total = rows.count
                states = page(rows).map(\.state)
            }
            let shown = try states.map { (s) throws(LedgerError) -> [String: Any] in
                let r = IncidentIndexRow(s)
                return [
                    "href": "/incidents/\(Self.name(r.id))" + (at.map { "?atSize=\($0.size)" } ?? ""), "titles": Self.texts(s["title"]?.objectValue),
                    "occurred": s["occurred"]?.stringValue ?? "", "place": Self.place(s), "status": r.status, "certainty": r.certainty ?? "—",
                    "perpetrator": try Self.perpetrator(s["assessment"]?.objectValue?["perpetrator"], view: view),
                ]
            }
            func link(page: Int? = nil, sort s: String? = nil) -> String {
                var parts: [String] = []
                for n in ["place", "perpetrator", "facility", "occurredFrom", "occurredTo", "status"] {
                    if let v = values[n]! { parts.append("\(n)=\(Self.queryValue(v))") }
                }
                if let at { parts.append("atSize=\(at.size)") }
                parts.append("sort=\(s ?? sort)")
                if let page, page > 1 { parts.append("page=\(page)") }
                return "/incidents?" + parts.joined(separator: "&")
            }
            var object: [String: Any] = [
                "rows": shown, "count": String(total), "one": total == 1,
                "filters": values.compactMapValues { $0 },
                "statuses": [("", "any"), ("active", "active"), ("merged", "merged"), ("retracted", "retracted")].map {
                    ["value": $0.0, "label": $0.1, "selected": values["status"]! == $0.0]
                },
                "sortOccurred": link(sort: "occurred"), "sortTitle": link(sort: "title"),
                "action": "/incidents", "hidden": Self.hidden(values), "asOfDate": Self.dateControl(at),
            ]
            if total > Self.pageSize {
                object["paged"] = ["first": String(first + 1), "last": String(first + shown.count)]
            }
            if pageNumber > 1 { object["previous"] = link(page: pageNumber - 1) }
            if first + Self.pageSize < total { object["next"] = link(page: pageNumber + 1) }
            if let at {
                object["asOf"] = ["moment": at.moment]
                object["atSizeHidden"] = String(at.size)  // a filter keeps the moment shown
            }
            return html(
                .ok, title: "Incidents", body: WebTemplates.render("incidents", object),
                context: PageContext(origin: origin, moment: at, nowLink: "/incidents"))
        }
    }

    /// A page about entity `id`, now or as of the request's moment; `body` gives nil when the
    /// view holds no such entity of the page's kind (404).
    func entityPage(
        _ request: Request, id: String,
        _ body: @escaping @Sendable (String, ArchiveView, (size: UInt64, moment: String)?, Ledger) throws(LedgerError) -> Response?
    ) async throws -> Response {
        try ArchiveDocument.requireEntityID(id)
        var q = try Query(request, allowed: ["asOf", "atSize"])
        let moment = try Self.webMoment(&q)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let at = try moment.resolve(ledger)
            if let page = try body(id, ArchiveView(source: ledger, size: at?.size), at, ledger) { return page }
            return notFound(ArchiveDocument.notInArchive(id, size: at?.size ?? 0, moment: at?.moment).message)
        }
    }

    func notFound(_ message: String) -> Response {
        html(.notFound, title: "Not found", body: "<h1>Not found</h1><p>\(Self.escape(message))</p>", context: nil)
    }

    // MARK: One incident

    func incidentPage(_ request: Request, name raw: String) async throws -> Response {
        try await entityPage(request, id: "incident:" + (raw.removingPercentEncoding ?? raw)) { (id, view, at, ledger) throws(LedgerError) in
            guard let entity = try view.entity(id), entity.state["entity"]?.stringValue == "incident" else { return nil }
            let s = entity.state
            let titles = Self.texts(s["title"]?.objectValue)
            var object: [String: Any] = [
                "titles": titles, "id": entity.shown, "occurred": s["occurred"]?.stringValue ?? "unknown", "place": Self.place(s),
                "status": s["status"]?.stringValue ?? "active",
                "certainty": s["certainty"]?.objectValue?["grade"]?.stringValue ?? "not graded",
                "verification": s["verification"]?.objectValue?["state"]?.stringValue ?? "unverified",
                "means": (s["means"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                "summaries": Self.texts(s["summary"]?.objectValue),
                "historyHref": "/incidents/\(Self.name(entity.shown))/history", "action": "/incidents/\(Self.name(entity.shown))",
                "hidden": [[String: String]](), "asOfDate": Self.dateControl(at),
            ]
            if let r = s["certainty"]?.objectValue?["reason"]?.stringValue { object["certaintyReason"] = r }
            if let r = s["verification"]?.objectValue?["reason"]?.stringValue { object["verificationReason"] = r }
            object["facilities"] = try (s["facilities"]?.arrayValue ?? []).compactMap(\.objectValue).map { (f) throws(LedgerError) -> [String: String] in
                let fid = f["facility"]?.stringValue ?? ""
                return [
                    "id": fid, "name": try view.displayName(fid) ?? fid, "impact": f["impact"]?.stringValue ?? "unknown",
                    "href": "/facilities/\(Self.name(fid))" + (at.map { "?atSize=\($0.size)" } ?? ""),
                ]
            }
            if let a = s["assessment"]?.objectValue {
                object["assessment"] = [
                    "perpetrator": try Self.perpetrator(a["perpetrator"], view: view), "confidence": a["confidence"]?.stringValue ?? "",
                    "rationale": a["rationale"]?.stringValue ?? "",
                ]
            }
            object["hasClaims"] = !(s["claims"]?.arrayValue ?? []).isEmpty
            object["claims"] = try (s["claims"]?.arrayValue ?? []).compactMap(\.objectValue).map { (c) throws(LedgerError) -> [String: String] in
                let claimant = c["claimant"]?.stringValue ?? ""
                let source = c["source"]?.stringValue ?? ""
                let sourceName = source.isEmpty ? "" : try view.displayName(source) ?? source
                return [
                    "claimant": try view.displayName(claimant) ?? claimant, "stance": c["stance"]?.stringValue ?? "",
                    "perpetrator": try Self.perpetrator(c["perpetrator"], view: view),
                    "basis": (c["basis"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                    "claimedOn": c["claimedOn"]?.stringValue ?? "", "source": sourceName,
                ]
            }
            let adopted = (s["casualties"]?.objectValue?.members ?? []).map { m -> [String: String] in
                let o = m.value.objectValue
                return ["category": m.key, "range": Self.range(o), "rule": o?["rule"]?.stringValue ?? ""]
            }
            let reports = try (s["casualtyReports"]?.arrayValue ?? []).compactMap(\.objectValue).map { (r) throws(LedgerError) -> [String: String] in
                let source = r["source"]?.stringValue ?? ""
                return ["category": r["category"]?.stringValue ?? "", "range": Self.range(r), "source": try view.displayName(source) ?? source]
            }
            object["adopted"] = adopted
            object["reports"] = reports
            object["hasCasualties"] = !adopted.isEmpty || !reports.isEmpty
            object["sources"] = try (s["sources"]?.arrayValue ?? []).compactMap(\.objectValue).map { (c) throws(LedgerError) -> [String: String] in
                let sid = c["source"]?.stringValue ?? ""
                var item = ["name": try view.displayName(sid) ?? sid]
                if let note = c["note"]?.stringValue { item["note"] = note }
                return item
            }
            if entity.shown != id { object["merged"] = ["into": entity.shown, "href": "/incidents/\(Self.name(entity.shown))"] }
            // The entries the view was folded from: the shown incident's, and those of every
            // incident merged into it, up to the moment shown.
            let subjects = [entity.shown] + ((s["absorbed"]?.arrayValue ?? []).compactMap(\.stringValue))
            var entries: [Ledger.ConcerningEntry] = []
            for subject in subjects { entries += try ledger.entries(concerning: subject, below: at?.size) }
            entries.sort { $0.index < $1.index }
            var seen = Set<UInt64>()
            entries = entries.filter { seen.insert($0.index).inserted }
            if let proof = try Self.proofBlock(entries, subjects: subjects, ledger: ledger, origin: server.origin) { object["proof"] = proof.object }
            let pageTitle = titles.first?["text"] ?? entity.shown
            return html(
                .ok, title: pageTitle, body: WebTemplates.render("incident", object),
                context: PageContext(origin: server.origin, moment: at, nowLink: "/incidents/\(Self.name(entity.shown))"))
        }
    }

    // MARK: A facility

    func facilityPage(_ request: Request, name raw: String) async throws -> Response {
        let name = raw.removingPercentEncoding ?? raw
        return try await entityPage(request, id: "facility:" + name) { (id, view, at, _) throws(LedgerError) in
            guard let s = try view.state(id), s["entity"]?.stringValue == "facility" else { return nil }
            // Only these fields: never `location` (exact coordinates) or `deconfliction`.
            let aliases = (s["aliases"]?.arrayValue ?? []).compactMap(\.objectValue).map { a in
                ["name": a["name"]?.stringValue ?? "", "lang": a["lang"]?.stringValue ?? "", "kind": a["kind"]?.stringValue ?? ""]
            }
            let attacks = try view.attacks(on: id).map { a -> [String: Any] in
                let incident = a["incident"]?.stringValue ?? ""
                return [
                    "occurred": a["occurred"]?.stringValue ?? "", "impact": a["impact"]?.stringValue ?? "unknown",
                    "status": a["status"]?.stringValue ?? "", "titles": Self.texts(a["title"]?.objectValue),
                    "href": "/incidents/\(Self.name(incident))" + (at.map { "?atSize=\($0.size)" } ?? ""),
                ]
            }
            let names = Self.texts(s["names"]?.objectValue)
            let object: [String: Any] = [
                "names": names, "id": id, "type": s["type"]?.stringValue ?? "",
                "operators": (s["operators"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                "hasOperators": !(s["operators"]?.arrayValue ?? []).isEmpty, "aliases": aliases, "hasAliases": !aliases.isEmpty,
                "notes": Self.texts(s["note"]?.objectValue), "attacks": Array(attacks.prefix(Self.listLimit)),
                "cut": attacks.count > Self.listLimit ? String(attacks.count - Self.listLimit) : "",
                "hasAttacks": !attacks.isEmpty, "action": "/facilities/\(name)", "hidden": [[String: String]](),
                "asOfDate": Self.dateControl(at),
            ]
            return html(
                .ok, title: names.first?["text"] ?? id, body: WebTemplates.render("facility", object),
                context: PageContext(origin: server.origin, moment: at, nowLink: "/facilities/\(name)"))
        }
    }

    // MARK: History

    func historyPage(_ request: Request, name raw: String) async throws -> Response {
        let name = raw.removingPercentEncoding ?? raw
        let id = "incident:" + name
        try ArchiveDocument.requireEntityID(id)
        _ = try Query(request, allowed: [])
        let origin = server.origin
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let revisions = try ledger.revisions(of: id)
            guard let last = revisions.last, last.entry.payload.subject == id || revisions.contains(where: { $0.entry.payload.subject == id }) else {
                return notFound("\(id) is not in the archive")
            }
            let state = try ledger.entityState(id)
            var items: [[String: Any]] = []
            for r in revisions {
                let e = r.entry
                var item: [String: Any] = [
                    "index": String(e.index), "type": e.payload.type, "recordedAt": e.recordedAt, "signer": e.signerName,
                    "asOfHref": "/incidents/\(name)?atSize=\(e.index + 1)",
                    // Sealed values' markers are not shown (docs/EVENTS.md §9): a change to one alone is left out.
                    "changes": r.changes.filter { Self.shownField($0.path) }.compactMap { c -> [String: String]? in
                        let old = c.old.flatMap(Sealing.strippingMarkers)
                        let new = c.new.flatMap(Sealing.strippingMarkers)
                        if old == nil, new == nil { return nil }
                        return ["field": c.path, "old": old.map(Self.inline) ?? "—", "new": new.map(Self.inline) ?? "—"]
                    },
                ]
                item["hasChanges"] = !(item["changes"] as! [[String: String]]).isEmpty
                if e.payload.subject != id { item["on"] = e.payload.subject }
                if let reason = e.payload.body["reason"]?.stringValue { item["reason"] = reason }
                items.append(item)
            }
            let object: [String: Any] = [
                "titles": Self.texts(state?["title"]?.objectValue), "id": id, "incidentHref": "/incidents/\(name)", "revisions": items,
            ]
            return html(
                .ok, title: "History of \(id)", body: WebTemplates.render("history", object), context: PageContext(origin: origin, moment: nil, nowLink: ""))
        }
    }

    /// Fields the public pages may show: never exact coordinates (only `place` at town or
    /// district precision).
    static func shownField(_ path: String) -> Bool {
        !path.contains("coordinates") && !path.hasPrefix("deconfliction")
    }

    /// A value in one line: text as is, language texts joined, anything else as compact JSON.
    static func inline(_ v: JSONValue) -> String {
        if let s = v.stringValue { return s }
        if let o = v.objectValue, o.members.allSatisfy({ $0.value.stringValue != nil }) {
            return o.members.map { "\($0.key): \($0.value.stringValue!)" }.joined(separator: " · ")
        }
        if case .object(let o) = v {
            var copy = o
            for key in ["coordinates", "lat", "lon"] { copy[key] = nil }
            return String(decoding: JSONWriter.encode(.object(copy)), as: UTF8.self)
        }
        return String(decoding: JSONWriter.encode(v), as: UTF8.self)
    }

    // MARK: The log

    func logPage(_ request: Request) async throws -> Response {
        _ = try Query(request, allowed: [])
        let origin = server.origin
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let size = try ledger.size()
            var object: [String: Any] = [
                "origin": origin, "treeSize": String(size), "root": try ledger.root(size: size).base64, "genesisKeyID": ledger.genesisKeyID,
                "api": !server.options.pagesOnly,
            ]
            if let last = try ledger.checkpoints().last { object["checkpoint"] = String(decoding: last.note, as: UTF8.self) }
            object["logKeys"] = try ledger.keys().filter { $0.roles.contains(.log) }.map { k -> [String: String] in
                var item = ["vkey": VerifierKey(name: origin, kind: .log, publicKey: k.publicKey).encoded, "name": k.name, "enrolled": String(k.enrolledAt)]
                if let r = k.revokedAt { item["revoked"] = String(r) }
                return item
            }
            return html(.ok, title: "The log", body: WebTemplates.render("log", object), context: PageContext(origin: origin, moment: nil, nowLink: "/log"))
        }
    }

    // MARK: Fields, one by one

    /// The part of an id after `incident:` (the page's path).
    static func name(_ id: String) -> String {
        String(id.split(separator: ":", maxSplits: 1).last ?? "")
    }

    /// Language texts, English first, then Arabic, then the rest, each with its tag.
    static func texts(_ o: JSONObject?) -> [[String: String]] {
        guard let o else { return [] }
        let order = ["en": 0, "ar": 1]
        return o.members.compactMap { m in m.value.stringValue.map { (m.key, $0) } }
            .sorted { (order[$0.0] ?? 2, $0.0) < (order[$1.0] ?? 2, $1.0) }
            .map { ["lang": $0.0, "text": $0.1] }
    }

    /// A place at public precision: town, district, governorate (never coordinates).
    static func place(_ s: JSONObject) -> String {
        let p = s["place"]?.objectValue
        var parts: [String] = []
        for key in ["town", "admin2", "admin1"] {
            if let v = p?[key]?.stringValue, parts.last != v { parts.append(v) }
        }
        return parts.joined(separator: ", ")
    }

    static func range(_ o: JSONObject?) -> String {
        let lo = o?["min"]?.unsignedIntegerValue
        let hi = o?["max"]?.unsignedIntegerValue
        switch (lo, hi) {
        case (let a?, let b?) where a == b: return String(a)
        case (let a?, let b?): return "\(a)–\(b)"
        default: return "?"
        }
    }

    /// An actor id, or `{"eitherOf": […]}`, as names.
    static func perpetrator(_ p: JSONValue?, view: ArchiveView) throws(LedgerError) -> String {
        if let id = p?.stringValue { return try view.displayName(id) ?? id }
        if let either = p?.objectValue?["eitherOf"]?.arrayValue {
            var names: [String] = []
            for a in either { if let id = a.stringValue { names.append(try view.displayName(id) ?? id) } }
            return "either " + names.joined(separator: " or ")
        }
        return "—"
    }

    /// Hidden fields that keep the filters when the moment changes.
    static func hidden(_ values: [String: String?]) -> [[String: String]] {
        values.compactMap { k, v in v.map { ["name": k, "value": $0] } }.sorted { $0["name"]! < $1["name"]! }
    }
}
