import LedgerCore

/// How the columns of an incident spreadsheet become `incident.reported` bodies
/// (docs/EVENTS.md §8). Parsed from a JSON mapping file; every mistake names the member.
public struct CSVMapping: Sendable {
    public static let format = "incidentledger-csv-mapping/1"
    /// The fields a column or constant may fill.
    static let fixedFields: Set<String> = [
        "occurred", "place.admin1", "place.admin2", "place.town", "place.coordinates.lat", "place.coordinates.lon",
        "place.coordinates.precision", "facilities.facility", "facilities.impact", "means",
    ]

    public enum DateStyle: String, Sendable, CaseIterable {
        case edtf
        case dayMonthYear = "DD/MM/YYYY"
        case monthDayYear = "MM/DD/YYYY"
    }

    public var idColumn: String
    public var idPrefix: String
    public var dataset: String?
    public var dates: DateStyle
    /// Field → column, in the mapping file's order.
    public var columns: [(field: String, column: String)]
    public var constants: [(field: String, value: String)]
    /// Field → (cell text → value to record).
    public var values: [String: [String: String]]
    public var sources: [String]

    public static func parse(_ bytes: [UInt8], name: String) throws(LedgerError) -> CSVMapping {
        func fail(_ member: String, _ m: String) -> LedgerError { LedgerError(.malformed, "\(name): `\(member)`: \(m)") }
        let o: JSONObject
        do { o = try JSONParser.parseObject(bytes) } catch { throw LedgerError(.malformed, "\(name): not a JSON object: \(error)") }
        let allowed: Set<String> = ["format", "id", "dataset", "dates", "columns", "constants", "values", "sources"]
        for k in o.keys where !allowed.contains(k) {
            throw fail(k, "unknown member; a mapping has \(allowed.sorted().joined(separator: ", "))")
        }
        guard o["format"]?.stringValue == format else { throw fail("format", "must be \"\(format)\"") }
        guard let id = o["id"]?.objectValue, Set(id.keys).isSubset(of: ["column", "prefix"]), let idColumn = id["column"]?.stringValue,
            !idColumn.isEmpty
        else { throw fail("id", "must be {\"column\": COLUMN, \"prefix\": TEXT}: the column whose value names each incident") }
        let prefix = id["prefix"].map { $0.stringValue } ?? ""
        guard let prefix else { throw fail("id.prefix", "must be a string") }
        // The prefix is part of every id, so a bad one would fail every row: refused here, once.
        guard prefix.utf8.count <= maxPrefixBytes, prefix.utf8.allSatisfy(isNameByte) else {
            throw fail(
                "id.prefix",
                "must be at most \(maxPrefixBytes) bytes of A–Z a–z 0–9 . _ - (it begins every incident's name), found "
                    + "\"\(Clip.text(prefix))\"")
        }
        var m = CSVMapping(idColumn: idColumn, idPrefix: prefix, dataset: nil, dates: .edtf, columns: [], constants: [], values: [:], sources: [])
        if let d = o["dataset"] {
            guard let s = d.stringValue, !s.isEmpty, s.unicodeScalars.count <= 200 else { throw fail("dataset", "must be a text of 1–200 characters") }
            m.dataset = s
        }
        if let d = o["dates"] {
            guard let s = d.stringValue, let style = DateStyle(rawValue: s) else {
                throw fail("dates", "must be one of \(DateStyle.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            m.dates = style
        }
        func pairs(_ key: String) throws(LedgerError) -> [(String, String)] {
            guard let v = o[key] else { return [] }
            guard let obj = v.objectValue else { throw fail(key, "must be an object from field to text") }
            var out: [(String, String)] = []
            for member in obj.members {
                if let problem = fieldProblem(member.key) { throw fail("\(key).\(Clip.text(member.key))", problem) }
                guard let s = member.value.stringValue, !s.isEmpty else { throw fail("\(key).\(member.key)", "must be a non-empty text") }
                out.append((member.key, s))
            }
            return out
        }
        m.columns = try pairs("columns").map { (field: $0.0, column: $0.1) }
        m.constants = try pairs("constants").map { (field: $0.0, value: $0.1) }
        // Sets, not list scans: a 1 MiB mapping can name tens of thousands of fields or sources.
        let columnFields = Set(m.columns.map(\.field))
        for c in m.constants where columnFields.contains(c.field) {
            throw fail("constants.\(c.field)", "is also mapped to a column; give one or the other")
        }
        // Language tags are case-insensitive: `title.en` and `title.EN` would give one language twice in every row.
        var languages: [String: String] = [:]
        for (member, field) in m.columns.map({ ("columns.\($0.field)", $0.field) }) + m.constants.map({ ("constants.\($0.field)", $0.field) }) {
            guard field.hasPrefix("title.") || field.hasPrefix("summary.") else { continue }
            if let first = languages.updateValue(member, forKey: field.lowercased()) {
                throw fail(member, "gives the same language as `\(first)` (language tags are case-insensitive)")
            }
        }
        if let v = o["values"] {
            guard let obj = v.objectValue else { throw fail("values", "must be an object from field to {cell text: value}") }
            for member in obj.members {
                if let problem = fieldProblem(member.key) { throw fail("values.\(Clip.text(member.key))", problem) }
                guard let table = member.value.objectValue else { throw fail("values.\(member.key)", "must be an object from cell text to value") }
                var t: [String: String] = [:]
                for e in table.members {
                    guard let s = e.value.stringValue else { throw fail("values.\(member.key).\(e.key)", "must be a text") }
                    t[e.key] = s
                }
                m.values[member.key] = t
            }
        }
        if let s = o["sources"] {
            guard let items = s.arrayValue else { throw fail("sources", "must be an array of source ids") }
            var seenSources = Set<String>()
            for (i, item) in items.enumerated() {
                guard let id = item.stringValue, EntityID.kind(of: id) == .source else { throw fail("sources[\(i)]", "must be a source id, source:NAME") }
                guard seenSources.insert(id).inserted else { throw fail("sources[\(i)]", "\(id) is listed twice") }
                m.sources.append(id)
            }
        }
        for required in ["occurred"] where !m.columns.contains(where: { $0.field == required }) && !m.constants.contains(where: { $0.field == required }) {
            throw fail("columns", "no column gives `\(required)`, which every incident needs")
        }
        guard m.gives({ $0.hasPrefix("title.") }) else {
            throw fail("columns", "no column gives a title (title.en, title.ar, …), which every incident needs")
        }
        guard m.gives({ $0.hasPrefix("place.") }) else {
            throw fail(
                "columns", "no column or constant gives a place (place.admin1, place.admin2, place.town, place.coordinates.*), which every incident needs")
        }
        // Coordinates need all three members: with one missing from the mapping, every row that gives coordinates would fail.
        let coordinateFields = ["place.coordinates.lat", "place.coordinates.lon", "place.coordinates.precision"]
        if coordinateFields.contains(where: { f in m.gives { $0 == f } }) {
            for f in coordinateFields where !m.gives({ $0 == f }) {
                throw fail(
                    "columns",
                    "no column or constant gives `\(f)`; coordinates need place.coordinates.lat, place.coordinates.lon and place.coordinates.precision")
            }
        }
        return m
    }

    /// Whether a column or a constant gives a field matching `test`.
    func gives(_ test: (String) -> Bool) -> Bool { columns.contains { test($0.field) } || constants.contains { test($0.field) } }

    /// The longest id prefix: it leaves at least 10 bytes of an incident's name to the id cell.
    static let maxPrefixBytes = 90

    static func isField(_ f: String) -> Bool { fieldProblem(f) == nil }

    /// A byte of an entity id's name (docs/EVENTS.md §1): A–Z a–z 0–9 . _ -
    static func isNameByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// Why `f` is not a field an import can fill, or nil when it is one.
    static func fieldProblem(_ f: String) -> String? {
        if fixedFields.contains(f) { return nil }
        for p in ["title.", "summary."] where f.hasPrefix(p) {
            let tag = String(f.dropFirst(p.count))
            guard let problem = LanguageTag.problem(tag) else { return nil }
            return "the language tag \"\(Clip.text(tag))\" is not well formed (BCP 47): \(problem)"
        }
        return "is not a field an import can fill; fields: title.LANG, summary.LANG, \(fixedFields.sorted().joined(separator: ", "))"
    }
}

/// One problem with one spreadsheet row.
public struct CSVRowError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    /// The column at fault (or `constant FIELD` for a mapping constant), when one is.
    public var column: String?
    public var message: String
    /// A rule that needs the archive (an id already taken, an unregistered facility), not the row's form.
    public var needsArchive: Bool

    public init(line: Int, column: String?, message: String, needsArchive: Bool = false) {
        self.line = line
        self.column = column
        self.message = message
        self.needsArchive = needsArchive
    }

    /// `column "NAME": message`, or the message alone.
    public var description: String { (column.map { "column \"\($0)\": " } ?? "") + message }
}

/// A row turned into the body of an `incident.reported` event.
public struct CSVReport: Sendable {
    public var line: Int
    public var id: String
    public var body: JSONObject
}

public enum CSVImport {
    /// Turns a spreadsheet's records (the first one the header) into incident reports, checking
    /// each body against its schema. Returns every row's first problem rather than stopping at
    /// the first row.
    public static func reports(_ records: [CSVRecord], mapping m: CSVMapping, name: String) throws(LedgerError) -> (reports: [CSVReport], errors: [CSVRowError])
    {
        guard let header = records.first else { throw LedgerError(.malformed, "\(name): empty; expected a header line and one line per incident") }
        var columnIndex: [String: Int] = [:]
        for (i, h) in header.fields.enumerated() {
            let t = trim(h)
            guard !t.isEmpty else { throw LedgerError(.malformed, "\(name):\(header.line): header column \(i + 1) has no name") }
            guard columnIndex[t] == nil else { throw LedgerError(.malformed, "\(name):\(header.line): header names column \"\(Clip.text(t))\" twice") }
            columnIndex[t] = i
        }
        for c in [(field: "id", column: m.idColumn)] + m.columns where columnIndex[c.column] == nil {
            throw LedgerError(
                .malformed,
                "\(name): the mapping's `\(c.field == "id" ? "id.column" : "columns.\(c.field)")` names column \"\(Clip.text(c.column))\", which the "
                    + "header does not have; it has \(header.fields.map { "\"\(Clip.text(trim($0)))\"" }.joined(separator: ", "))")
        }
        var reports: [CSVReport] = []
        var errors: [CSVRowError] = []
        var seen: [String: Int] = [:]
        for r in records.dropFirst() {
            if r.fields.allSatisfy({ trim($0).isEmpty }) { continue }
            guard r.fields.count == header.fields.count else {
                errors.append(CSVRowError(line: r.line, column: nil, message: "has \(r.fields.count) fields; the header has \(header.fields.count)"))
                continue
            }
            do throws(CSVRowError) {
                reports.append(try row(r, mapping: m, columnIndex: columnIndex, seen: &seen))
            } catch {
                errors.append(error)
            }
        }
        if reports.isEmpty && errors.isEmpty { throw LedgerError(.malformed, "\(name): no rows below the header") }
        return (reports, errors)
    }

    static func row(_ r: CSVRecord, mapping m: CSVMapping, columnIndex: [String: Int], seen: inout [String: Int]) throws(CSVRowError) -> CSVReport {
        func cell(_ column: String) -> String { trim(r.fields[columnIndex[column]!]) }
        let rawID = cell(m.idColumn)
        guard !rawID.isEmpty else { throw CSVRowError(line: r.line, column: m.idColumn, message: "is empty; every row needs an id") }
        let id = "incident:" + m.idPrefix + rawID
        guard EntityID.kind(of: id) == .incident else {
            throw CSVRowError(
                line: r.line, column: m.idColumn,
                message: "\"\(Clip.text(rawID))\" cannot name an incident: with the prefix it must be 1–\(EntityID.maxNameBytes) bytes of A–Z "
                    + "a–z 0–9 . _ -")
        }
        if let first = seen[id] { throw CSVRowError(line: r.line, column: m.idColumn, message: "\(id) is also the id of line \(first)") }
        seen[id] = r.line
        // Each field's value: a column's cell (empty = absent) or a constant.
        var values: [(field: String, value: String, column: String, constant: Bool)] = []
        for c in m.columns {
            let v = cell(c.column)
            if !v.isEmpty { values.append((c.field, v, c.column, false)) }
        }
        for c in m.constants { values.append((c.field, c.value, "constant \(c.field)", true)) }
        func translated(_ field: String, _ v: String) -> String { m.values[field]?[v] ?? v }

        // Coordinates, like a facility's impact, apply only to rows that give them: when a column
        // gives lat or lon, a constant coordinate member (typically the precision) applies only to
        // rows whose lat or lon cell is filled.
        let latLon: Set<String> = ["place.coordinates.lat", "place.coordinates.lon"]
        let latLonByColumn = m.columns.contains { latLon.contains($0.field) }
        let rowGivesCoordinates = !latLonByColumn || values.contains { latLon.contains($0.field) && !$0.constant }

        var body = JSONObject()
        var title = JSONObject(), summary = JSONObject(), place = JSONObject(), coordinates = JSONObject()
        var facility = JSONObject()
        // Every mapped field's column, empty or not, so an error about a missing field names it.
        var columnOf: [String: String] = [:]
        for c in m.columns { columnOf[c.field] = c.column }
        for c in m.constants { columnOf[c.field] = "constant \(c.field)" }
        for (field, raw, column, constant) in values {
            // `means` is translated item by item (below), never as a whole cell as well.
            let v = field == "means" ? raw : translated(field, raw)
            switch field {
            case "occurred":
                body["occurred"] = .string(try date(v, style: m.dates, line: r.line, column: column))
            case "means":
                let items = v.split(separator: ";").map { trim(String($0)) }.filter { !$0.isEmpty }.map { JSONValue.string(translated(field, $0)) }
                body["means"] = .array(items)
            case "place.admin1", "place.admin2", "place.town":
                place[String(field.dropFirst("place.".count))] = .string(v)
            case "place.coordinates.lat", "place.coordinates.lon", "place.coordinates.precision":
                guard rowGivesCoordinates else {
                    if constant { continue }
                    throw CSVRowError(line: r.line, column: column, message: "gives a coordinate precision but the row gives no coordinates (lat, lon)")
                }
                let member = String(field.dropFirst("place.coordinates.".count))
                coordinates[member] = member == "precision" ? .string(v) : .number(v)
            case "facilities.facility":
                facility["facility"] = .string(v)
            case "facilities.impact":
                facility["impact"] = .string(v)
            default:
                if field.hasPrefix("title.") { title[String(field.dropFirst(6))] = .string(v) }
                if field.hasPrefix("summary.") { summary[String(field.dropFirst(8))] = .string(v) }
            }
        }
        if title.count > 0 { body["title"] = .object(title) }
        if summary.count > 0 { body["summary"] = .object(summary) }
        if coordinates.count > 0 { place["coordinates"] = .object(coordinates) }
        if place.count > 0 { body["place"] = .object(place) }
        // A facility's impact means nothing without the facility: a constant impact applies only to
        // rows that name one; an impact cell on a row without one is a mistake.
        if facility["facility"] != nil {
            body["facilities"] = .array([.object(facility)])
        } else if facility["impact"] != nil, !m.constants.contains(where: { $0.field == "facilities.impact" }), let column = columnOf["facilities.impact"] {
            throw CSVRowError(line: r.line, column: column, message: "gives an impact but the row names no facility")
        }
        if let d = m.dataset {
            body["externalIds"] = .array([.object(JSONObject(uniqueMembers: [("dataset", .string(d)), ("id", .string(rawID))]))])
        }
        if !m.sources.isEmpty { body["sources"] = .array(m.sources.map { .string($0) }) }
        // What is signed is the body in Unicode NFC, so the limits are checked on that form (a
        // text's length in code points can grow or shrink under NFC).
        guard let normalized = JSONValue.object(body).nfcNormalized()?.objectValue else {
            throw CSVRowError(line: r.line, column: nil, message: "two fields are the same once normalised to Unicode NFC")
        }
        body = normalized
        // The schema check also validates the coordinate cells, which go in as number literals,
        // before anything encodes them.
        do {
            try Archive.checkBody(type: "incident.reported", subject: id, body: body)
        } catch {
            throw CSVRowError(line: r.line, column: column(for: error.message, columnOf), message: error.message)
        }
        return CSVReport(line: r.line, id: id, body: body)
    }

    /// The column behind the body field an error names (`field \`body.means[1]\`: …` → the means column).
    static func column(for message: String, _ columnOf: [String: String]) -> String? {
        guard let start = message.range(of: "`body."), let end = message[start.upperBound...].firstIndex(of: "`") else { return nil }
        var path = ""
        var inIndex = false
        for ch in message[start.upperBound..<end] {
            if ch == "[" { inIndex = true } else if ch == "]" { inIndex = false } else if !inIndex { path.append(ch) }
        }
        var best: (field: String, column: String)?
        for (field, column) in columnOf where path == field || path.hasPrefix(field + ".") || field.hasPrefix(path + ".") {
            if best == nil || field.count > best!.field.count { best = (field, column) }
        }
        return best?.column
    }

    static func date(_ v: String, style: CSVMapping.DateStyle, line: Int, column: String) throws(CSVRowError) -> String {
        guard style != .edtf else { return v }
        let parts = v.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 2, parts[1].count <= 2, parts[2].count == 4,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= "0" && $0 <= "9" } })
        else { throw CSVRowError(line: line, column: column, message: "\"\(Clip.text(v))\" is not a date written \(style.rawValue)") }
        let (d, mo) = style == .dayMonthYear ? (parts[0], parts[1]) : (parts[1], parts[0])
        func two(_ s: Substring) -> String { s.count == 1 ? "0" + s : String(s) }
        return "\(parts[2])-\(two(mo))-\(two(d))"
    }

    static func trim(_ s: String) -> String {
        var scalars = Substring(s).unicodeScalars[...]
        while let f = scalars.first, f == " " || f == "\t" { scalars = scalars.dropFirst() }
        while let l = scalars.last, l == " " || l == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
