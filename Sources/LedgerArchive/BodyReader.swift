import LedgerCore

/// Reads one JSON object of an event body strictly: every member is named by the schema,
/// unknown members are refused, and every error names the field by its path (`body.place.town`).
struct BodyReader {
    let object: BodyMembers
    let path: String

    /// Wraps `object`, refusing members outside `allowed`.
    init(_ object: BodyMembers, path: String, allowed: [String]) throws(LedgerError) {
        if let unknown = object.firstName(notIn: allowed) {
            throw LedgerError(
                .malformed, "field `\(path).\(Clip.text(unknown))`: unknown member; allowed here: \(allowed.joined(separator: ", "))")
        }
        self.object = object
        self.path = path
    }

    /// Wraps a value that must be an object.
    init(_ value: JSONValue, path: String, allowed: [String]) throws(LedgerError) {
        guard let o = value.objectValue else { throw BodyReader.error(path, "must be an object, found \(value.kindName)") }
        try self.init(.tree(o), path: path, allowed: allowed)
    }

    func field(_ key: String) -> String { "\(path).\(key)" }

    static func error(_ field: String, _ problem: String) -> LedgerError {
        LedgerError(.malformed, "field `\(field)`: \(problem)")
    }

    func value(_ key: String) throws(LedgerError) -> JSONValue {
        guard let v = object[key] else { throw LedgerError(.malformed, "field `\(field(key))` is missing") }
        return v
    }

    /// A required or optional single-line text: 1–`max` code points, no control characters,
    /// no leading or trailing white space.
    func text(_ key: String, max: Int = 500, required: Bool = true) throws(LedgerError) -> String? {
        guard let v = object[key] else {
            if required { throw LedgerError(.malformed, "field `\(field(key))` is missing") }
            return nil
        }
        return try Schema.text(v, path: field(key), max: max)
    }

    /// A value from a closed vocabulary.
    func choice(_ key: String, _ allowed: [String], required: Bool = true) throws(LedgerError) -> String? {
        // A member held as canonical bytes that is one of the values byte for byte is that
        // value (no string made); anything else is decided below.
        if case .canonical(let c) = object, let i = c.withRaw(key, { b, r in Self.position(ofString: b[r], in: allowed) }) ?? nil {
            return allowed[i]
        }
        guard let v = object[key] else {
            if required { throw LedgerError(.malformed, "field `\(field(key))` is missing") }
            return nil
        }
        return try Schema.choice(v, allowed, path: field(key))
    }

    /// The position in `allowed` of the value whose bytes are those of the canonical string
    /// `value` (quotes included), when it has no escape; nil otherwise.
    private static func position(ofString value: Slice<UnsafeBufferPointer<UInt8>>, in allowed: [String]) -> Int? {
        guard value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") else { return nil }
        let inner = value.dropFirst().dropLast()
        for (i, a) in allowed.enumerated() where a.utf8.count == inner.count && a.utf8.elementsEqual(inner) { return i }
        return nil
    }

    /// A reference to an entity of `kind`.
    func ref(_ key: String, _ kind: EntityKind, required: Bool = true) throws(LedgerError) -> String? {
        guard let v = object[key] else {
            if required { throw LedgerError(.malformed, "field `\(field(key))` is missing") }
            return nil
        }
        return try Schema.ref(v, kind, path: field(key))
    }

    /// A non-empty array whose items are checked by `item`.
    func array(_ key: String, required: Bool = true, allowEmpty: Bool = false, max: Int = 1000) throws(LedgerError) -> [JSONValue]? {
        guard let v = object[key] else {
            if required { throw LedgerError(.malformed, "field `\(field(key))` is missing") }
            return nil
        }
        return try Schema.array(v, path: field(key), allowEmpty: allowEmpty, max: max)
    }
}

/// Value checks shared by every body schema (docs/EVENTS.md §2).
enum Schema {
    /// A non-empty text of at most `max` code points, without control characters other than line
    /// feed (Unicode category Cc: U+0000–U+001F, U+007F–U+009F), not starting or ending with
    /// white space. One pass over the UTF-8 bytes; `path` is made only for an error message.
    static func text(_ v: JSONValue, path: @autoclosure () -> String, max: Int = 500) throws(LedgerError) -> String {
        guard var s = v.stringValue else { throw BodyReader.error(path(), "must be a string, found \(v.kindName)") }
        guard !s.isEmpty else { throw BodyReader.error(path(), "must not be empty") }
        let (count, hasControl) = s.withUTF8 { u -> (Int, Bool) in
            var count = 0
            var i = 0
            while i < u.count {
                let b = u[i]
                if b < 0x80 {
                    if (b < 0x20 && b != 0x0A) || b == 0x7F { return (count, true) }
                    count += 1
                } else if b & 0xC0 != 0x80 {
                    // A lead byte starts a code point; U+0080–U+009F are C2 80…C2 9F.
                    count += 1
                    if b == 0xC2, i + 1 < u.count, u[i + 1] <= 0x9F { return (count, true) }
                }
                i += 1
            }
            return (count, false)
        }
        if hasControl { throw BodyReader.error(path(), "must not contain control characters") }
        guard count <= max else { throw BodyReader.error(path(), "is \(count) code points; the limit is \(max)") }
        if let first = s.unicodeScalars.first, let last = s.unicodeScalars.last, isWhiteSpace(first) || isWhiteSpace(last) {
            throw BodyReader.error(path(), "must not start or end with white space")
        }
        return s
    }

    /// Unicode's White_Space property, without the property lookup for ASCII.
    private static func isWhiteSpace(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x80 ? c.value == 0x20 || (0x09...0x0D).contains(c.value) : c.properties.isWhitespace
    }

    static func choice(_ v: JSONValue, _ allowed: [String], path: @autoclosure () -> String) throws(LedgerError) -> String {
        guard let s = v.stringValue else { throw BodyReader.error(path(), "must be a string, found \(v.kindName)") }
        guard allowed.contains(s) else {
            throw BodyReader.error(path(), "unknown value \"\(Clip.text(s))\"; allowed: \(allowed.joined(separator: ", "))")
        }
        return s
    }

    static func ref(_ v: JSONValue, _ kind: EntityKind, path: @autoclosure () -> String) throws(LedgerError) -> String {
        guard let s = v.stringValue else { throw BodyReader.error(path(), "must be a string, found \(v.kindName)") }
        guard EntityID.kind(of: s) == kind else {
            throw BodyReader.error(
                path(),
                "\"\(Clip.text(s))\" is not \(Grammar.a(kind.rawValue)) \(kind.rawValue) id (`\(kind.rawValue):` then 1–\(EntityID.maxNameBytes) "
                    + "of A–Z a–z 0–9 . _ -)")
        }
        return s
    }

    static func array(_ v: JSONValue, path: @autoclosure () -> String, allowEmpty: Bool = false, max: Int = 1000) throws(LedgerError) -> [JSONValue] {
        guard let a = v.arrayValue else { throw BodyReader.error(path(), "must be an array, found \(v.kindName)") }
        guard allowEmpty || !a.isEmpty else { throw BodyReader.error(path(), "must not be empty") }
        guard a.count <= max else { throw BodyReader.error(path(), "has \(a.count) items; the limit is \(max)") }
        return a
    }

    /// Texts by language: an object from BCP 47 tag to text, at least one member.
    static func languageTexts(_ v: JSONValue, path: String, max: Int = 500) throws(LedgerError) -> JSONObject {
        guard let o = v.objectValue else { throw BodyReader.error(path, "must be an object from language tag to text, found \(v.kindName)") }
        guard o.count > 0 else { throw BodyReader.error(path, "must hold at least one language") }
        // Texts have a few languages each: those are compared in a list, without a table made
        // and hashed for each text; a set only for many (a list would take quadratic time).
        var few: [String] = []
        var many = Set<String>()
        let useList = o.count <= 16
        if useList { few.reserveCapacity(o.count) }
        for m in o.members {
            // Tags are case-insensitive (RFC 5646 §2.1.1): "en" and "EN" are one language.
            let lowered = m.key.lowercased()
            let isNew = useList ? !few.contains(lowered) : many.insert(lowered).inserted
            guard isNew else {
                throw BodyReader.error("\(path).\(Clip.text(m.key))", "the language \(Clip.text(m.key)) is given twice (tags are case-insensitive)")
            }
            if useList { few.append(lowered) }
            if let problem = LanguageTag.problem(m.key) {
                throw BodyReader.error("\(path).\(Clip.text(m.key))", "not a BCP 47 language tag: \(problem)")
            }
            _ = try text(m.value, path: "\(path).\(m.key)", max: max)
        }
        return o
    }

    static func edtf(_ v: JSONValue, path: @autoclosure () -> String) throws(LedgerError) -> EDTF {
        guard let s = v.stringValue else { throw BodyReader.error(path(), "must be an EDTF date string, found \(v.kindName)") }
        guard let d = EDTF(s) else {
            throw BodyReader.error(path(), "\"\(Clip.text(s))\" is not an EDTF date: \(EDTF.problem(s) ?? "unsupported form")")
        }
        return d
    }

    static func languageTag(_ v: JSONValue, path: @autoclosure () -> String) throws(LedgerError) -> String {
        guard let s = v.stringValue else { throw BodyReader.error(path(), "must be a BCP 47 language tag, found \(v.kindName)") }
        if let problem = LanguageTag.problem(s) { throw BodyReader.error(path(), "\"\(Clip.text(s))\" is not a BCP 47 language tag: \(problem)") }
        return s
    }

    /// A non-negative integer below 2^53.
    static func count(_ v: JSONValue, path: @autoclosure () -> String) throws(LedgerError) -> UInt64 {
        guard let n = v.unsignedIntegerValue else { throw BodyReader.error(path(), "must be a non-negative whole number written with digits only") }
        return n
    }

    /// A decimal degree: optional minus, 1–3 integer digits (`0` or not starting with 0, as JSON
    /// writes numbers), optional fraction of 1–7 digits, within ±limit.
    static func degrees(_ v: JSONValue, limit: Double, path: String) throws(LedgerError) -> Double {
        guard case .number(let text) = v else { throw BodyReader.error(path, "must be a number, found \(v.kindName)") }
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        let isDigits = { (p: Substring.UTF8View.SubSequence) in !p.isEmpty && p.allSatisfy { $0 >= 48 && $0 <= 57 } }
        guard parts.count <= 2, isDigits(parts[0]), parts[0].count <= 3, parts[0].count == 1 || parts[0].first != UInt8(ascii: "0"),
            parts.count == 1 || (isDigits(parts[1]) && parts[1].count <= 7),
            let d = Double(text), abs(d) <= limit
        else {
            throw BodyReader.error(
                path,
                "must be decimal degrees within ±\(Int(limit)) with at most 7 decimals and no leading zeros, found "
                    + "\(Clip.text(text))")
        }
        return d
    }

    static func sha256Hex(_ v: JSONValue, path: @autoclosure () -> String) throws(LedgerError) -> String {
        guard let s = v.stringValue, s.utf8.count == 64, s.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw BodyReader.error(path(), "must be a SHA-256 digest as 64 lowercase hex digits")
        }
        return s
    }

    static func url(_ v: JSONValue, path: String) throws(LedgerError) -> String {
        let s = try text(v, path: path, max: 2000)
        let lower = s.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), s.utf8.count > 8,
            !s.unicodeScalars.contains(where: { $0.properties.isWhitespace })
        else { throw BodyReader.error(path, "must be an http or https URL without spaces") }
        return s
    }
}

/// Clipping of user-supplied text quoted in error messages.
enum Clip {
    static func text(_ s: String) -> String { s.unicodeScalars.count <= 64 ? s : String(String.UnicodeScalarView(s.unicodeScalars.prefix(64))) + "…" }
}

/// English for messages built from names.
enum Grammar {
    /// "a" or "an", for the word that follows (`an incident`, `a facility`).
    static func a(_ word: String) -> String {
        guard let first = word.unicodeScalars.first else { return "a" }
        return "aeiouAEIOU".unicodeScalars.contains(first) ? "an" : "a"
    }
}
