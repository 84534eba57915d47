/// BCP 47 (RFC 5646) language tags: a well-formedness check, case-insensitive.
///
/// Follows the `Language-Tag` ABNF of RFC 5646 §2.1 (langtag, privateuse, grandfathered),
/// plus the §2.2.5/§2.2.6 rules that a variant and an extension singleton appear at most once.
/// One deliberate restriction beyond the ABNF: the primary language subtag must have 2–3 letters.
/// The ABNF also admits 4 letters ("reserved for future use") and 5–8 letters ("registered"),
/// but the IANA registry holds no such subtag, so refusing them catches mistakes like `english`.
public enum LanguageTag {
    /// nil when `tag` is a well-formed BCP 47 language tag (RFC 5646 §2.1 `Language-Tag` ABNF: langtag,
    /// privateuse, and the irregular/regular grandfathered tags); otherwise a short reason naming the bad subtag.
    public static func problem(_ tag: String) -> String? {
        // The common case, a bare primary language subtag ("en", "ar", "fra"): 2–3 ASCII letters
        // are always a well-formed `langtag` (language = 2*3ALPHA), and no grandfathered tag has
        // that shape; answered without parsing (`parsedProblem` gives the same verdict).
        let count = tag.utf8.count
        if count >= 2, count <= 3, tag.allUTF8(isAlpha) { return nil }
        return parsedProblem(tag)
    }

    /// `problem` by the full parser, for every tag.
    static func parsedProblem(_ tag: String) -> String? {
        let bytes = Array(tag.utf8)
        if bytes.isEmpty { return "empty tag" }
        let lowered = bytes.map(lowercase)
        if grandfathered.contains(where: { $0.utf8.elementsEqual(lowered) }) { return nil }
        let subtags = bytes.split(separator: hyphen, omittingEmptySubsequences: false)
        if let problem = shapeProblem(subtags) { return problem }
        var parser = Parser(subtags: subtags)
        return parser.run()
    }

    /// Irregular and regular grandfathered tags (RFC 5646 §2.1), lowercase.
    static let grandfathered = [
        "en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux", "i-mingo", "i-navajo",
        "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-be-fr", "sgn-be-nl", "sgn-ch-de",
        "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang",
    ]

    static let hyphen = UInt8(ascii: "-")

    /// Empty subtags, bad characters and over-long subtags, which no rule accepts.
    static func shapeProblem(_ subtags: [ArraySlice<UInt8>]) -> String? {
        for subtag in subtags {
            if subtag.isEmpty { return "empty subtag (tags must not start or end with '-' or contain '--')" }
            if let bad = subtag.first(where: { !isAlphanumeric($0) }) { return "subtag '\(text(subtag))' \(describe(bad))" }
            if subtag.count > 8 { return "subtag '\(text(subtag))' is longer than 8 characters" }
        }
        return nil
    }

    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "_"): return "contains '_' (subtags are separated by '-')"
        case UInt8(ascii: " "): return "contains a space"
        case 0x21...0x7E: return "contains '\(Character(Unicode.Scalar(byte)))'"
        default: return "contains a non-ASCII or control character"
        }
    }

    /// Walks the subtags of a `langtag` or `privateuse` in ABNF order.
    struct Parser {
        let subtags: [ArraySlice<UInt8>]
        var index = 0

        init(subtags: [ArraySlice<UInt8>]) { self.subtags = subtags }

        var current: ArraySlice<UInt8>? { index < subtags.count ? subtags[index] : nil }

        /// Consumes the next subtag when it satisfies `rule`.
        mutating func take(_ rule: (ArraySlice<UInt8>) -> Bool) -> ArraySlice<UInt8>? {
            guard let subtag = current, rule(subtag) else { return nil }
            index += 1
            return subtag
        }

        mutating func run() -> String? {
            if let first = current, isPrivateUseSingleton(first) { return privateUse() }
            if let problem = language() { return problem }
            _ = take(isScript)
            _ = take(isRegion)
            if let problem = variants() { return problem }
            if let problem = extensions() { return problem }
            if let subtag = current, isPrivateUseSingleton(subtag) { return privateUse() }
            guard let subtag = current else { return nil }
            return "subtag '\(text(subtag))' is not valid here (\(expectation(subtag)))"
        }

        /// `language ["-" extlang]`, restricted to 2–3 letters (see the type's documentation).
        mutating func language() -> String? {
            guard let subtag = take({ _ in true }) else { return "empty tag" }
            guard subtag.allSatisfy(isAlpha) else { return "language subtag '\(text(subtag))' must be letters only" }
            switch subtag.count {
            case 2...3:
                for _ in 0..<3 { if take(isExtlang) == nil { break } }
                return nil
            case 4...8:
                return "language subtag '\(text(subtag))' must have 2 or 3 letters (4–8 letters are reserved or unassigned)"
            default:
                return "language subtag '\(text(subtag))' must have 2 or 3 letters"
            }
        }

        /// `*("-" variant)`, each variant at most once.
        mutating func variants() -> String? {
            // A set, not a list: a tag within 1 MiB can hold ~170,000 variants (found by ledger-fuzz).
            var seen = Set<[UInt8]>()
            while let variant = take(isVariant) {
                guard seen.insert(variant.map(lowercase)).inserted else { return "variant '\(text(variant))' appears twice" }
            }
            return nil
        }

        /// `*("-" extension)`, each singleton at most once, each with at least one 2–8 character subtag.
        mutating func extensions() -> String? {
            var seen: [UInt8] = []
            while let singleton = take(isExtensionSingleton) {
                let key = lowercase(singleton[singleton.startIndex])
                if seen.contains(key) { return "extension singleton '\(text(singleton))' appears twice" }
                seen.append(key)
                var count = 0
                while take({ (2...8).contains($0.count) }) != nil { count += 1 }
                if count == 0 { return "extension '\(text(singleton))' needs at least one subtag of 2–8 characters after it" }
            }
            return nil
        }

        /// `"x" 1*("-" (1*8alphanum))`, which runs to the end of the tag.
        mutating func privateUse() -> String? {
            index += 1
            if current == nil { return "private use 'x' needs at least one subtag after it" }
            index = subtags.count  // every remaining subtag is 1–8 alphanumerics, checked by `shapeProblem`
            return nil
        }

        /// What the ABNF would have accepted where `subtag` stands.
        func expectation(_ subtag: ArraySlice<UInt8>) -> String {
            if isScript(subtag) { return "a script must follow the language directly" }
            if isRegion(subtag) { return "a region comes once, right after the language or script" }
            if isVariant(subtag) { return "variants must come before extensions" }
            if subtag.count == 1 { return "a singleton needs subtags after it" }
            return "expected a script, region, variant, extension or private use"
        }
    }

    // MARK: Subtag rules (RFC 5646 §2.1)

    /// extlang: 3ALPHA.
    static func isExtlang(_ s: ArraySlice<UInt8>) -> Bool { s.count == 3 && s.allSatisfy(isAlpha) }

    /// script: 4ALPHA.
    static func isScript(_ s: ArraySlice<UInt8>) -> Bool { s.count == 4 && s.allSatisfy(isAlpha) }

    /// region: 2ALPHA / 3DIGIT.
    static func isRegion(_ s: ArraySlice<UInt8>) -> Bool {
        (s.count == 2 && s.allSatisfy(isAlpha)) || (s.count == 3 && s.allSatisfy(isDigit))
    }

    /// variant: 5*8alphanum / (DIGIT 3alphanum).
    static func isVariant(_ s: ArraySlice<UInt8>) -> Bool {
        guard s.allSatisfy(isAlphanumeric), let first = s.first else { return false }
        return (5...8).contains(s.count) || (s.count == 4 && isDigit(first))
    }

    /// singleton: any alphanumeric except `x`/`X`.
    static func isExtensionSingleton(_ s: ArraySlice<UInt8>) -> Bool {
        guard s.count == 1, let c = s.first else { return false }
        return isAlphanumeric(c) && lowercase(c) != UInt8(ascii: "x")
    }

    static func isPrivateUseSingleton(_ s: ArraySlice<UInt8>) -> Bool {
        s.count == 1 && s.first.map(lowercase) == UInt8(ascii: "x")
    }

    // MARK: Bytes

    static func isAlpha(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
    }

    static func isDigit(_ c: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) }

    static func isAlphanumeric(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) }

    static func lowercase(_ c: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) ? c + 32 : c
    }

    /// A subtag for a message: control characters are escaped so the message stays on one line.
    static func text(_ s: ArraySlice<UInt8>) -> String {
        var out = ""
        for scalar in String(decoding: s, as: UTF8.self).unicodeScalars {
            if scalar.properties.generalCategory == .control {
                out += scalar.escaped(asASCII: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
