import Hummingbird
import LedgerArchive
import LedgerCore
import LedgerStore

/// The web archive's pages about actors, sources and monitoring groups' counts (aggregates), and
/// the lists of every entity of a kind. Fields are picked one by one, as on the incident pages.
extension Routes {
    func addEntityPages(to router: Router<some RequestContext>) {
        for kind in ListKind.allCases {
            router.get(RouterPath(stringLiteral: "/" + kind.path)) { request, _ in await page { try await listPage(request, kind) } }
        }
        router.get("/actors/{name}") { request, context in await page { try await actorPage(request, name: context.parameters.get("name") ?? "") } }
        router.get("/sources/{name}") { request, context in
            await page { try await sourcePage(request, name: context.parameters.get("name") ?? "") }
        }
        router.get("/aggregates/{name}") { request, context in
            await page { try await aggregatePage(request, name: context.parameters.get("name") ?? "") }
        }
    }

    enum ListKind: String, CaseIterable {
        case facility, actor, source, aggregate

        var path: String { self == .facility ? "facilities" : rawValue + "s" }
        var title: String {
            switch self {
            case .facility: "Facilities"
            case .actor: "Actors"
            case .source: "Sources"
            case .aggregate: "Counts by monitoring groups"
            }
        }
    }

    /// Every entity of `kind` in the view, in id order.
    static func states(_ kind: ListKind, view: ArchiveView, ledger: Ledger) throws(LedgerError) -> [JSONObject] {
        let prefix = kind.rawValue + ":"
        guard let size = view.size else { return try ledger.entityStates(prefix: prefix) }
        let archive = try ledger.archive(atSize: size)
        return archive.sortedIDs.filter { $0.hasPrefix(prefix) }.compactMap { archive[$0] }
    }

    /// The actor ids a perpetrator value names (an id, or `{"eitherOf": […]}`).
    static func actorIDs(_ p: JSONValue?) -> [String] {
        if let id = p?.stringValue { return [id] }
        return (p?.objectValue?["eitherOf"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The page path of an entity id, keeping the moment shown.
    static func href(_ id: String, at: (size: UInt64, moment: String)?) -> String {
        guard let kind = EntityID.kind(of: id) else { return "/incidents" }
        let folder = kind.rawValue == "facility" ? "facilities" : kind.rawValue + "s"
        return "/\(folder)/\(name(id))" + (at.map { "?atSize=\($0.size)" } ?? "")
    }

    /// A link to an entity by its display name.
    static func link(_ id: String, view: ArchiveView, at: (size: UInt64, moment: String)?) throws(LedgerError) -> [String: String] {
        ["text": try view.displayName(id) ?? id, "href": href(id, at: at)]
    }

    /// A figure as the source gave it: "more than 20 health facilities attacked".
    static func figure(_ o: JSONObject?) -> String {
        let value = o?["value"]?.unsignedIntegerValue.map(String.init) ?? "?"
        let unit = o?["unit"]?.stringValue ?? ""
        let qualifier = o?["qualifier"]?.stringValue ?? "exact"
        let number: String
        switch unit {
        case "percent": number = value + " %"
        case "hours-between": number = "one every \(value) hours"
        default: number = value
        }
        switch qualifier {
        case "exact": return number
        default: return qualifier.replacingOccurrences(of: "-", with: " ") + " " + number
        }
    }

    // MARK: Lists

    /// A view that takes only the moment (`asOf` or `atSize`): `body` renders it on a reader.
    func viewPage(
        _ request: Request,
        _ body: @escaping @Sendable (Ledger, ArchiveView, (size: UInt64, moment: String)?) throws(LedgerError) -> Response
    ) async throws -> Response {
        var q = try Query(request, allowed: ["asOf", "atSize"])
        let moment = try Self.webMoment(&q)
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let at = try moment.resolve(ledger)
            return try body(ledger, ArchiveView(source: ledger, size: at?.size), at)
        }
    }

    func listPage(_ request: Request, _ kind: ListKind) async throws -> Response {
        let origin = server.origin
        return try await viewPage(request) { (ledger, view, at) throws(LedgerError) in
            var columns: [String]
            var rows: [[String: Any]] = []
            switch kind {
            case .facility: columns = ["Facility", "Type", "Operated by"]
            case .actor: columns = ["Actor", "Type", "Country", "Part of"]
            case .source: columns = ["Source", "Publisher", "Type", "Published"]
            case .aggregate: columns = ["What was counted", "Figure", "Period", "Counted by"]
            }
            for s in try Self.states(kind, view: view, ledger: ledger) {
                let id = s["id"]?.stringValue ?? ""
                var first: [String: Any] = ["href": Self.href(id, at: at), "id": id]
                var cells: [String] = []
                switch kind {
                case .facility:
                    first["texts"] = Self.texts(s["names"]?.objectValue)
                    cells = [
                        s["type"]?.stringValue ?? "",
                        try (s["operators"]?.arrayValue ?? []).compactMap(\.stringValue).map { (o) throws(LedgerError) in try view.displayName(o) ?? o }
                            .joined(separator: ", "),
                    ]
                case .actor:
                    first["texts"] = Self.texts(s["names"]?.objectValue)
                    cells = [
                        s["type"]?.stringValue ?? "", s["country"]?.stringValue ?? "",
                        try s["partOf"]?.stringValue.map { (p) throws(LedgerError) in try view.displayName(p) ?? p } ?? "",
                    ]
                case .source:
                    first["texts"] = [["lang": s["lang"]?.stringValue ?? "", "text": s["title"]?.stringValue ?? id]]
                    cells = [s["publisher"]?.stringValue ?? "", s["type"]?.stringValue ?? "", s["published"]?.stringValue ?? ""]
                case .aggregate:
                    first["texts"] = Self.texts(s["description"]?.objectValue).prefix(1).map { $0 }
                    let source = s["source"]?.stringValue ?? ""
                    cells = [Self.figure(s["figure"]?.objectValue), s["period"]?.stringValue ?? "", try view.displayName(source) ?? source]
                }
                rows.append(["first": first, "cells": cells])
            }
            let object: [String: Any] = [
                "title": kind.title, "columns": Array(columns.dropFirst()), "firstColumn": columns[0], "rows": rows, "count": String(rows.count),
                "aggregate": kind == .aggregate, "action": "/" + kind.path, "hidden": [[String: String]](),
                "asOfDate": Self.dateControl(at),
            ]
            return html(
                .ok, title: kind.title, body: WebTemplates.render("list", object),
                context: PageContext(origin: origin, moment: at, nowLink: "/" + kind.path))
        }
    }

    // MARK: An actor

    func actorPage(_ request: Request, name raw: String) async throws -> Response {
        let name = raw.removingPercentEncoding ?? raw
        return try await entityPage(request, id: "actor:" + name) { (id, view, at, ledger) throws(LedgerError) in
            guard let s = try view.state(id), s["entity"]?.stringValue == "actor" else { return nil }
            var assessed: [[String: Any]] = []
            var made: [[String: Any]] = []
            var naming: [[String: Any]] = []
            for incident in try view.incidents(matching: IncidentFilter()) {
                let iid = incident["id"]?.stringValue ?? ""
                func row() -> [String: Any] {
                    ["href": Self.href(iid, at: at), "titles": Self.texts(incident["title"]?.objectValue), "occurred": incident["occurred"]?.stringValue ?? ""]
                }
                if let a = incident["assessment"]?.objectValue, Self.actorIDs(a["perpetrator"]).contains(id) {
                    var r = row()
                    r["confidence"] = a["confidence"]?.stringValue ?? ""
                    r["either"] = Self.actorIDs(a["perpetrator"]).count > 1
                    assessed.append(r)
                }
                for c in (incident["claims"]?.arrayValue ?? []).compactMap(\.objectValue) {
                    let byIt = c["claimant"]?.stringValue == id
                    let namingIt = !byIt && Self.actorIDs(c["perpetrator"]).contains(id)
                    guard byIt || namingIt else { continue }
                    var r = row()
                    r["stance"] = c["stance"]?.stringValue ?? ""
                    r["perpetrator"] = try Self.perpetrator(c["perpetrator"], view: view)
                    r["claimant"] = try view.displayName(c["claimant"]?.stringValue ?? "") ?? ""
                    r["claimedOn"] = c["claimedOn"]?.stringValue ?? ""
                    if byIt { made.append(r) } else { naming.append(r) }
                }
            }
            let counts = try Self.states(.aggregate, view: view, ledger: ledger).filter { Self.actorIDs($0["perpetrator"]).contains(id) }
                .map { (a) throws(LedgerError) -> [String: Any] in try self.aggregateRow(a, view: view, at: at) }
            let names = Self.texts(s["names"]?.objectValue)
            var object: [String: Any] = [
                "names": names, "id": id, "type": s["type"]?.stringValue ?? "", "country": s["country"]?.stringValue ?? "",
                "notes": Self.texts(s["note"]?.objectValue), "assessed": assessed, "made": made, "naming": naming, "counts": counts,
                "hasAssessed": !assessed.isEmpty, "hasMade": !made.isEmpty, "hasNaming": !naming.isEmpty, "hasCounts": !counts.isEmpty,
                "action": "/actors/\(name)", "hidden": [[String: String]](), "asOfDate": Self.dateControl(at),
            ]
            if let p = s["partOf"]?.stringValue { object["partOf"] = try Self.link(p, view: view, at: at) }
            return html(
                .ok, title: names.first?["text"] ?? id, body: WebTemplates.render("actor", object),
                context: PageContext(origin: server.origin, moment: at, nowLink: "/actors/\(name)"))
        }
    }

    // MARK: A source

    func sourcePage(_ request: Request, name raw: String) async throws -> Response {
        let name = raw.removingPercentEncoding ?? raw
        return try await entityPage(request, id: "source:" + name) { (id, view, at, ledger) throws(LedgerError) in
            guard let s = try view.state(id), s["entity"]?.stringValue == "source" else { return nil }
            var cited: [[String: Any]] = []
            var claims: [[String: Any]] = []
            var figures: [[String: Any]] = []
            for incident in try view.incidents(matching: IncidentFilter()) {
                let iid = incident["id"]?.stringValue ?? ""
                func row() -> [String: Any] {
                    ["href": Self.href(iid, at: at), "titles": Self.texts(incident["title"]?.objectValue), "occurred": incident["occurred"]?.stringValue ?? ""]
                }
                for c in (incident["sources"]?.arrayValue ?? []).compactMap(\.objectValue) where c["source"]?.stringValue == id {
                    var r = row()
                    r["locator"] = c["locator"]?.stringValue ?? ""
                    r["note"] = c["note"]?.stringValue ?? ""
                    cited.append(r)
                }
                for c in (incident["claims"]?.arrayValue ?? []).compactMap(\.objectValue)
                where c["source"]?.stringValue == id || c["claimant"]?.stringValue == id {
                    var r = row()
                    r["stance"] = c["stance"]?.stringValue ?? ""
                    r["perpetrator"] = try Self.perpetrator(c["perpetrator"], view: view)
                    r["claimant"] = try view.displayName(c["claimant"]?.stringValue ?? "") ?? ""
                    claims.append(r)
                }
                for f in (incident["casualtyReports"]?.arrayValue ?? []).compactMap(\.objectValue) where f["source"]?.stringValue == id {
                    var r = row()
                    r["category"] = f["category"]?.stringValue ?? ""
                    r["range"] = Self.range(f)
                    figures.append(r)
                }
            }
            let counts = try Self.states(.aggregate, view: view, ledger: ledger).filter { $0["source"]?.stringValue == id }
                .map { (a) throws(LedgerError) -> [String: Any] in try self.aggregateRow(a, view: view, at: at) }
            let object: [String: Any] = [
                "title": s["title"]?.stringValue ?? id, "lang": s["lang"]?.stringValue ?? "", "id": id, "publisher": s["publisher"]?.stringValue ?? "",
                "type": s["type"]?.stringValue ?? "", "published": s["published"]?.stringValue ?? "", "url": s["url"]?.stringValue ?? "",
                "archivedSha256": s["archivedSha256"]?.stringValue ?? "", "cited": cited, "claims": claims, "figures": figures, "counts": counts,
                "hasCited": !cited.isEmpty, "hasClaims": !claims.isEmpty, "hasFigures": !figures.isEmpty, "hasCounts": !counts.isEmpty,
                "action": "/sources/\(name)", "hidden": [[String: String]](), "asOfDate": Self.dateControl(at),
            ]
            return html(
                .ok, title: s["title"]?.stringValue ?? id, body: WebTemplates.render("source", object),
                context: PageContext(origin: server.origin, moment: at, nowLink: "/sources/\(name)"))
        }
    }

    // MARK: A count (aggregate)

    /// One row of a table of counts.
    func aggregateRow(_ a: JSONObject, view: ArchiveView, at: (size: UInt64, moment: String)?) throws(LedgerError) -> [String: Any] {
        let id = a["id"]?.stringValue ?? ""
        let source = a["source"]?.stringValue ?? ""
        return [
            "href": Self.href(id, at: at), "descriptions": Self.texts(a["description"]?.objectValue).prefix(1).map { $0 },
            "figure": Self.figure(a["figure"]?.objectValue), "measure": a["measure"]?.stringValue ?? "", "period": a["period"]?.stringValue ?? "",
            "source": try Self.link(source, view: view, at: at),
        ]
    }

    func aggregatePage(_ request: Request, name raw: String) async throws -> Response {
        let name = raw.removingPercentEncoding ?? raw
        return try await entityPage(request, id: "aggregate:" + name) { (id, view, at, _) throws(LedgerError) in
            guard let s = try view.state(id), s["entity"]?.stringValue == "aggregate" else { return nil }
            let includes = try (s["includes"]?.arrayValue ?? []).compactMap(\.stringValue).map { (iid) throws(LedgerError) -> [String: Any] in
                let state = try view.state(iid)
                return ["href": Self.href(iid, at: at), "titles": Self.texts(state?["title"]?.objectValue), "occurred": state?["occurred"]?.stringValue ?? ""]
            }
            var object: [String: Any] = [
                "descriptions": Self.texts(s["description"]?.objectValue), "id": id, "figure": Self.figure(s["figure"]?.objectValue),
                "measure": s["measure"]?.stringValue ?? "", "period": s["period"]?.stringValue ?? "", "place": Self.place(s),
                "source": try Self.link(s["source"]?.stringValue ?? "", view: view, at: at), "statedOn": s["statedOn"]?.stringValue ?? "",
                "locator": s["locator"]?.stringValue ?? "", "note": s["note"]?.stringValue ?? "", "includes": includes, "hasIncludes": !includes.isEmpty,
                "action": "/aggregates/\(name)", "hidden": [[String: String]](), "asOfDate": Self.dateControl(at),
            ]
            if s["perpetrator"] != nil { object["perpetrator"] = try Self.perpetrator(s["perpetrator"], view: view) }
            if let p = s["partOf"]?.stringValue { object["partOf"] = try Self.link(p, view: view, at: at) }
            return html(
                .ok, title: "A count: \(name)", body: WebTemplates.render("aggregate", object),
                context: PageContext(origin: server.origin, moment: at, nowLink: "/aggregates/\(name)"))
        }
    }
}
