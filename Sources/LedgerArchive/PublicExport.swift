import LedgerCore

/// Public exports of the archive (docs/EVENTS.md §7): CSV (RFC 4180) and GeoJSON (RFC 7946).
/// Both are functions of the states at one tree size, so the same size always gives the same
/// bytes; both name the tree size and root they were built from.
public enum PublicExport {
    /// The CSV columns, in order. Stable: columns are only ever added at the end.
    public static let csvColumns = [
        "id", "status", "merged_into", "title_en", "title_ar", "occurred", "earliest", "latest", "admin1", "admin2", "town", "facilities",
        "means", "assessed_perpetrator", "assessment_confidence", "claims", "certainty", "verification", "killed_min", "killed_max",
        "injured_min", "injured_max", "health_workers_killed_min", "health_workers_killed_max", "sources", "tree_size", "root",
    ]

    /// Precisions of incident coordinates that may be published without `--include-sensitive`.
    public static let publicPrecisions: Set<String> = ["town", "district", "governorate"]

    static func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { return s } else { return nil } }
    static func object(_ v: JSONValue?) -> JSONObject? { if case .object(let o)? = v { return o } else { return nil } }
    static func array(_ v: JSONValue?) -> [JSONValue] { if case .array(let a)? = v { return a } else { return [] } }
    static func number(_ v: JSONValue?) -> String? { if case .number(let n)? = v { return n } else { return nil } }

    static func day(_ yyyymmdd: Int?) -> String {
        guard let d = yyyymmdd else { return "" }
        let y = d / 10000, m = d / 100 % 100, dd = d % 100
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(dd, 2))"
    }

    static func perpetrator(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return s
        case .object(let o)?: return array(o["eitherOf"]).compactMap { string($0) }.joined(separator: " | ")
        default: return ""
        }
    }

    /// One incident's CSV fields, in `csvColumns` order.
    static func row(_ s: JSONObject, treeSize: UInt64, root: String) -> [String] {
        let title = object(s["title"])
        let occurred = string(s["occurred"]) ?? ""
        let edtf = EDTF(occurred)
        let place = object(s["place"])
        let facilities = array(s["facilities"]).compactMap { f -> String? in
            guard let o = object(f), let id = string(o["facility"]) else { return nil }
            return "\(id) (\(string(o["impact"]) ?? "unknown"))"
        }
        let assessment = object(s["assessment"])
        let assessed: String
        if let assessment { assessed = assessment["perpetrator"] == .null ? "undetermined" : perpetrator(assessment["perpetrator"]) } else { assessed = "" }
        let claims = array(s["claims"]).compactMap { c -> String? in
            guard let o = object(c) else { return nil }
            return "\(string(o["claimant"]) ?? "?") \(string(o["stance"]) ?? "?") \(perpetrator(o["perpetrator"]))"
        }
        let casualties = object(s["casualties"])
        func figure(_ category: String, _ bound: String) -> String { number(object(casualties?[category])?[bound]) ?? "" }
        let sources = array(s["sources"]).compactMap { string(object($0)?["source"]) }
        var uniqueSources: [String] = []
        for id in sources where !uniqueSources.contains(id) { uniqueSources.append(id) }
        return [
            string(s["id"]) ?? "", string(s["status"]) ?? "", string(s["mergedInto"]) ?? "", string(title?["en"]) ?? "", string(title?["ar"]) ?? "",
            occurred, day(edtf?.earliest), day(edtf?.latest), string(place?["admin1"]) ?? "", string(place?["admin2"]) ?? "",
            string(place?["town"]) ?? "", facilities.joined(separator: "; "), array(s["means"]).compactMap { string($0) }.joined(separator: "; "),
            assessed, string(assessment?["confidence"]) ?? "", claims.joined(separator: "; "), string(object(s["certainty"])?["grade"]) ?? "",
            string(object(s["verification"])?["state"]) ?? "", figure("killed", "min"), figure("killed", "max"), figure("injured", "min"),
            figure("injured", "max"), figure("health-workers-killed", "min"), figure("health-workers-killed", "max"),
            uniqueSources.joined(separator: "; "), String(treeSize), root,
        ]
    }

    /// RFC 4180: CRLF line ends; a field holding a comma, quote, CR or LF is quoted, quotes doubled.
    static func csvField(_ f: String) -> String {
        guard f.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return f }
        return "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The CSV of every incident (all statuses), in id order: a header line, then one row each.
    public static func csv(states: ArchiveState, treeSize: UInt64, root: String) -> [UInt8] {
        var out = csvColumns.joined(separator: ",") + "\r\n"
        for id in states.sortedIDs where id.hasPrefix("incident:") {
            out += row(states[id]!, treeSize: treeSize, root: root).map(csvField).joined(separator: ",") + "\r\n"
        }
        return Array(out.utf8)
    }

    /// A GeoJSON FeatureCollection: one Point per incident whose place has coordinates of a
    /// public precision (any precision with `includeSensitive`); with `includeSensitive` also one
    /// Point per facility with coordinates, its deconfliction records included. The top-level
    /// foreign member `incidentledger` names the origin, tree size, root and moment.
    public static func geojson(states: ArchiveState, origin: String, treeSize: UInt64, root: String, asOf: String, includeSensitive: Bool) -> [UInt8] {
        var features: [JSONValue] = []
        func point(_ c: JSONObject) -> JSONValue? {
            guard let lat = number(c["lat"]), let lon = number(c["lon"]) else { return nil }
            return .object(JSONObject(uniqueMembers: [("type", .string("Point")), ("coordinates", .array([.number(lon), .number(lat)]))]))
        }
        for id in states.sortedIDs {
            let s = states[id]!
            if id.hasPrefix("incident:") {
                guard let c = object(object(s["place"])?["coordinates"]), let precision = string(c["precision"]),
                    includeSensitive || publicPrecisions.contains(precision), let geometry = point(c)
                else { continue }
                let r = row(s, treeSize: treeSize, root: root)
                var props: [(key: String, value: JSONValue)] = []
                for (name, value) in zip(csvColumns, r) where !value.isEmpty && name != "tree_size" && name != "root" {
                    props.append((name, .string(value)))
                }
                props.append(("precision", .string(precision)))
                features.append(
                    .object(
                        JSONObject(uniqueMembers: [
                            ("type", .string("Feature")), ("id", .string(id)), ("geometry", geometry),
                            ("properties", .object(JSONObject(uniqueMembers: props))),
                        ])))
            } else if includeSensitive, id.hasPrefix("facility:") {
                guard let c = object(object(s["location"])?["coordinates"]), let geometry = point(c) else { continue }
                var props: [(key: String, value: JSONValue)] = [("kind", .string("facility"))]
                if let names = s["names"] { props.append(("names", names)) }
                if let type = s["type"] { props.append(("type", type)) }
                if let d = s["deconfliction"], !array(d).isEmpty { props.append(("deconfliction", d)) }
                features.append(
                    .object(
                        JSONObject(uniqueMembers: [
                            ("type", .string("Feature")), ("id", .string(id)), ("geometry", geometry),
                            ("properties", .object(JSONObject(uniqueMembers: props))),
                        ])))
            }
        }
        let meta: JSONValue = .object(
            JSONObject(uniqueMembers: [
                ("origin", .string(origin)), ("treeSize", .number(String(treeSize))), ("root", .string(root)), ("asOf", .string(asOf)),
                ("includesSensitive", .bool(includeSensitive)),
            ]))
        let collection = JSONValue.object(
            JSONObject(uniqueMembers: [("type", .string("FeatureCollection")), ("incidentledger", meta), ("features", .array(features))]))
        return JSONWriter.encode(collection) + [0x0A]
    }
}
