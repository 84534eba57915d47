/// Small validators shared by the payload and body parsers; errors name the field.
enum Fields {
    static func requireExactly(_ object: JSONObject, _ keys: Set<String>, in field: String) throws(LedgerError) {
        // Keys are unique (the parser refuses duplicates), so this is the fast exact check.
        if object.count == keys.count, object.members.allSatisfy({ keys.contains($0.key) }) { return }
        for k in object.keys where !keys.contains(k) {
            throw LedgerError(.malformed, "field `\(field)`: unknown member \"\(k.prefix(64))\"; allowed: \(keys.sorted().joined(separator: ", "))")
        }
        for k in keys.sorted() where object[k] == nil {
            throw LedgerError(.malformed, "field `\(field).\(k)` is missing")
        }
    }

    static func string(_ object: JSONObject, _ key: String, in field: String) throws(LedgerError) -> String {
        try string(object[key], key, in: field)
    }

    /// `value` (member `key` of `field`, nil when absent) as a string.
    @inline(__always)
    static func string(_ value: JSONValue?, _ key: String, in field: String) throws(LedgerError) -> String {
        guard let v = value else { throw LedgerError(.malformed, "field `\(field).\(key)` is missing") }
        guard let s = v.stringValue else {
            throw .malformed(field.isEmpty ? key : "\(field).\(key)", "must be a string, found \(v.kindName)")
        }
        return s
    }

    static func validateName(_ name: String, field: String) throws(LedgerError) {
        let count = name.unicodeScalars.count
        guard count >= 1, count <= 100 else { throw .malformed(field, "must be 1 to 100 Unicode code points") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .malformed(field, "must not contain control characters")
        }
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
            !first.properties.isWhitespace, !last.properties.isWhitespace
        else { throw .malformed(field, "must not start or end with white space") }
    }
}

extension String {
    /// True when every code point has the Unicode White_Space property (or there are none).
    var isAllWhiteSpace: Bool { unicodeScalars.allSatisfy(\.properties.isWhitespace) }
}
