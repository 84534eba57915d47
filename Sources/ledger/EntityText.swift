import LedgerArchive
import LedgerCore

/// Human-readable text for entity states: one field per line, labels aligned, values from
/// input made safe for the terminal, right-to-left text isolated so it cannot reorder the line.
enum EntityText {
    static let labelWidth = 14

    static func render(_ s: JSONObject, names: (String) throws(LedgerError) -> String?, attacks: [JSONObject]) throws(LedgerError) -> String {
        var lines: [String] = []
        func add(_ label: String, _ values: [String]) {
            for (i, v) in values.enumerated() { lines.append("  " + (i == 0 ? label : "").rightPad(labelWidth) + v) }
        }
        func named(_ id: String) throws(LedgerError) -> String {
            if let n = try names(id) { return "\(id) (\(Terminal.isolated(n)))" }
            return id
        }
        func perpetrator(_ p: JSONValue?) throws(LedgerError) -> String {
            if let id = p?.stringValue { return try named(id) }
            if let either = p?.objectValue?["eitherOf"]?.arrayValue {
                var parts: [String] = []
                for a in either { parts.append(try named(a.stringValue ?? "?")) }
                return "either " + parts.joined(separator: " or ")
            }
            return "undetermined"
        }
        let id = s["id"]?.stringValue ?? "?"
        let entity = s["entity"]?.stringValue ?? "?"
        var head = "\(entity) \(id)"
        if let status = s["status"]?.stringValue { head += "  [\(status)]" }
        lines.append(head)
        for key in ["title", "names"] { if let t = s[key]?.objectValue { add(key == "title" ? "title" : "names", languageLines(t)) } }
        if entity == "incident", let t = s["summary"]?.objectValue { add("summary", languageLines(t)) }
        if entity == "aggregate" { try aggregate(s, add: add, named: named, perpetrator: perpetrator) }
        if let a = s["aliases"]?.arrayValue, !a.isEmpty {
            add(
                "aliases",
                a.map { v in
                    let o = v.objectValue
                    return "\(Terminal.isolated(o?["name"]?.stringValue ?? "")) (\(o?["kind"]?.stringValue ?? ""), \(o?["lang"]?.stringValue ?? ""))"
                })
        }
        for key in ["type", "publisher", "lang", "url", "published", "country", "archivedSha256", "witness"] {
            if let v = s[key], key != "title" || entity != "source" { add(key, [inline(v)]) }
        }
        if entity == "source", let t = s["title"]?.stringValue { add("title", [Terminal.isolated(t)]) }
        if entity == "actor", let p = s["partOf"]?.stringValue { add("part of", [try named(p)]) }
        if let o = s["operators"]?.arrayValue, !o.isEmpty { add("operators", [o.map { Terminal.isolated($0.stringValue ?? "") }.joined(separator: ", ")]) }
        if let o = s["occurred"]?.stringValue { add("occurred", [o]) }
        for key in ["place", "location"] where entity != "aggregate" { if let p = s[key]?.objectValue { add(key, [place(p)]) } }
        if let f = s["facilities"]?.arrayValue, !f.isEmpty {
            var v: [String] = []
            for item in f {
                let o = item.objectValue
                v.append("\(try named(o?["facility"]?.stringValue ?? "?")): \(o?["impact"]?.stringValue ?? "?")")
            }
            add("facilities", v)
        }
        if let m = s["means"]?.arrayValue, !m.isEmpty { add("means", [m.compactMap(\.stringValue).joined(separator: ", ")]) }
        if let c = s["certainty"]?.objectValue {
            add("certainty", ["\(c["grade"]?.stringValue ?? "?") (entry \(inline(c["entry"]))): \(Terminal.isolated(c["reason"]?.stringValue ?? ""))"])
        }
        if let v = s["verification"]?.objectValue { add("verification", [v["state"]?.stringValue ?? "?"]) }
        if let claims = s["claims"]?.arrayValue, !claims.isEmpty {
            var v: [String] = []
            for c in claims {
                let o = c.objectValue ?? JSONObject()
                var line =
                    "entry \(inline(o["entry"])): \(try named(o["claimant"]?.stringValue ?? "?")) \(o["stance"]?.stringValue ?? "?") "
                    + "\(try perpetrator(o["perpetrator"]))"
                if let basis = o["basis"]?.arrayValue { line += " [\(basis.compactMap(\.stringValue).joined(separator: ", "))]" }
                if let alt = o["alternative"]?.stringValue { line += "; instead: \(Terminal.isolated(alt))" }
                v.append(line)
            }
            add("claims", v)
        }
        if let a = s["assessment"]?.objectValue {
            add(
                "assessment",
                [
                    "\(try perpetrator(a["perpetrator"])), \(a["confidence"]?.stringValue ?? "?") confidence (entry \(inline(a["entry"])))",
                    Terminal.isolated(a["rationale"]?.stringValue ?? ""),
                ])
        }
        if let r = s["casualtyReports"]?.arrayValue, !r.isEmpty {
            add(
                "casualties",
                r.map { v in
                    let o = v.objectValue ?? JSONObject()
                    var line = "\(o["category"]?.stringValue ?? "?") \(range(o)) per \(o["source"]?.stringValue ?? "?")"
                    if let p = o["persons"] {
                        line += "; persons " + (sealedText(p) ?? (p.arrayValue ?? []).map { Terminal.isolated($0.stringValue ?? "") }.joined(separator: ", "))
                    }
                    return line
                })
        }
        if let adopted = s["casualties"]?.objectValue, adopted.count > 0 {
            add(
                "adopted",
                adopted.members.map { m in "\(m.key) \(range(m.value.objectValue ?? JSONObject())) (\(m.value.objectValue?["rule"]?.stringValue ?? "?"))" })
        }
        if let src = s["sources"]?.arrayValue, !src.isEmpty {
            var v: [String] = []
            for item in src {
                let o = item.objectValue ?? JSONObject()
                var line = try named(o["source"]?.stringValue ?? "?")
                if let l = o["locator"]?.stringValue { line += ", \(Terminal.isolated(l))" }
                v.append(line)
            }
            add("sources", v)
        }
        if let d = s["deconfliction"]?.arrayValue, !d.isEmpty {
            add(
                "deconfliction",
                d.map { v in
                    let o = v.objectValue ?? JSONObject()
                    var line = "shared with \(Terminal.isolated(o["sharedWith"]?.stringValue ?? "?")) on \(o["sharedOn"]?.stringValue ?? "?") (sensitive)"
                    if let c = o["coordinates"] { line += "; coordinates " + (sealedText(c) ?? place(JSONObject(uniqueMembers: [("coordinates", c)]))) }
                    if let n = o["note"] { line += "; note " + inline(n) }
                    return line
                })
        }
        if !attacks.isEmpty {
            add(
                "attacks",
                attacks.map { a in
                    "\(a["occurred"]?.stringValue ?? "?")  \(a["incident"]?.stringValue ?? "?")  \(a["impact"]?.stringValue ?? "?")"
                        + (a["status"]?.stringValue == "active" ? "" : " [\(a["status"]?.stringValue ?? "")]")
                })
        }
        if let a = s["absorbed"]?.arrayValue, !a.isEmpty { add("absorbed", a.compactMap(\.stringValue)) }
        if let m = s["mergedInto"]?.stringValue { add("merged into", [m]) }
        if let r = s["retraction"]?.objectValue { add("retracted", ["entry \(inline(r["entry"])): \(Terminal.isolated(r["reason"]?.stringValue ?? ""))"]) }
        add("entries", ["created at \(inline(s["created"])), last changed at \(inline(s["updated"]))"])
        return lines.joined(separator: "\n")
    }

    /// An aggregate's own fields: what was counted, the figure as the source gave it, the period,
    /// the area and the incidents the archive knows are among those counted.
    private static func aggregate(
        _ s: JSONObject, add: (String, [String]) -> Void, named: (String) throws(LedgerError) -> String,
        perpetrator: (JSONValue?) throws(LedgerError) -> String
    ) throws(LedgerError) {
        if let d = s["description"]?.objectValue { add("description", languageLines(d)) }
        if let f = s["figure"]?.objectValue {
            var value = inline(f["value"])
            switch f["unit"]?.stringValue {
            case "percent": value += " %"
            case "hours-between": value = "one every \(value) hours"
            default: break
            }
            let qualifier = (f["qualifier"]?.stringValue ?? "exact").replacingOccurrences(of: "-", with: " ")
            add("figure", ["\(qualifier == "exact" ? "" : qualifier + " ")\(value) (\(s["measure"]?.stringValue ?? "?"))"])
        }
        if let p = s["period"]?.stringValue { add("period", [p]) }
        if let p = s["place"]?.objectValue { add("place", [place(p)]) }
        if let p = s["perpetrator"] { add("perpetrator", ["\(try perpetrator(p)) (as the source states it)"]) }
        if let src = s["source"]?.stringValue {
            var line = try named(src)
            if let l = s["locator"]?.stringValue { line += ", \(Terminal.isolated(l))" }
            if let d = s["statedOn"]?.stringValue { line += ", stated \(d)" }
            add("source", [line])
        }
        if let p = s["partOf"]?.stringValue { add("subset of", [try named(p)]) }
        if let inc = s["includes"]?.arrayValue, !inc.isEmpty {
            var v: [String] = []
            for i in inc { v.append(try named(i.stringValue ?? "?")) }
            add("includes", v)
        }
        if let n = s["note"]?.stringValue { add("note", [Terminal.isolated(n)]) }
    }

    static func languageLines(_ texts: JSONObject) -> [String] {
        texts.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map {
            "\($0.key.rightPad(3)) \(Terminal.isolated($0.value.stringValue ?? ""))"
        }
    }

    static func place(_ p: JSONObject) -> String {
        var parts = ["admin1", "admin2", "town"].compactMap { p[$0]?.stringValue }.map { Terminal.isolated($0) }
        if let c = p["coordinates"], let shown = sealedText(c) {
            parts.append("coordinates \(shown)")
        } else if let c = p["coordinates"]?.objectValue {
            parts.append("\(inline(c["lat"])), \(inline(c["lon"])) (\(c["precision"]?.stringValue ?? "?"))")
        }
        return parts.joined(separator: " / ")
    }

    static func range(_ o: JSONObject) -> String {
        let lo = inline(o["min"]), hi = inline(o["max"])
        return lo == hi ? lo : "\(lo)–\(hi)"
    }

    /// English title if there is one, else the first.
    static func preferred(_ texts: JSONObject?) -> String? {
        texts?["en"]?.stringValue ?? texts?.members.first?.value.stringValue
    }

    /// How a value left sealed shows (docs/EVENTS.md §9), or nil when `v` is not one.
    static func sealedText(_ v: JSONValue) -> String? {
        guard let o = v.objectValue, let c = o["sealed"]?.stringValue, o.count <= 2 else { return nil }
        return o["erased"] == .bool(true) ? "(erased: \(c.prefix(12))…)" : "(sealed: \(c.prefix(12))…)"
    }

    /// A value on one line: strings bare (made safe), anything else as compact canonical JSON.
    static func inline(_ v: JSONValue?) -> String {
        guard let v else { return "—" }
        if let shown = sealedText(v) { return shown }
        if let s = v.stringValue { return Terminal.isolated(s) }
        let text = String(decoding: Canonical.encode(v), as: UTF8.self)
        let clipped = text.count > 160 ? String(text.prefix(160)) + "…" : text
        return Terminal.safe(clipped)
    }
}

extension Terminal {
    /// `text` made safe, and wrapped in a first-strong isolate (U+2068 … U+2069) when it holds
    /// right-to-left characters, so Arabic names display in their own direction without
    /// reordering the labels and punctuation around them.
    static func isolated(_ text: String) -> String {
        let safe = safe(text)
        let rtl = safe.unicodeScalars.contains { (s: Unicode.Scalar) -> Bool in
            // Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, their presentation forms, and the
            // supplementary right-to-left blocks (e.g. Adlam).
            (0x0590...0x08FF).contains(s.value) || (0xFB1D...0xFDFF).contains(s.value) || (0xFE70...0xFEFF).contains(s.value)
                || (0x10800...0x10FFF).contains(s.value) || (0x1E800...0x1EFFF).contains(s.value)
        }
        return rtl ? "\u{2068}\(safe)\u{2069}" : safe
    }
}
