/// A validated EDTF date or interval, with the calendar-day bounds it covers.
///
/// Supports the date part of the Library of Congress Extended Date/Time Format (ISO 8601-2),
/// levels 0 and 1:
/// - `YYYY`, `YYYY-MM`, `YYYY-MM-DD` for years 0000–9999 (proleptic Gregorian calendar);
/// - one qualifier at the end of a date: `?` uncertain, `~` approximate, `%` both;
/// - unspecified digits `X`: `201X`, `20XX`, `2019-XX`, `2019-05-XX`, `2019-XX-XX`;
/// - intervals `A/B`, where a side may also be `..` (open) or empty (unknown), but not both sides.
///
/// Not supported (refused): times, signed or `Y`-prefixed years, seasons (months 21–41),
/// per-component qualifiers, lowercase `x`, and all of level 2.
public struct EDTF: Sendable, Equatable {
    /// The input, unchanged.
    public let text: String
    /// First day it could be, as yyyymmdd (e.g. 20190505); nil = open/unknown start.
    public let earliest: Int?
    /// Last day it could be, as yyyymmdd; nil = open/unknown end.
    public let latest: Int?
    /// True for `A/B` forms.
    public let isInterval: Bool
    /// True when any date carries `?` or `%`.
    public let isUncertain: Bool
    /// True when any date carries `~` or `%`.
    public let isApproximate: Bool

    /// Parses `text`; nil when it is not valid EDTF of the supported subset.
    public init?(_ text: String) {
        guard case .success(let parsed) = EDTFParser.parse(text) else { return nil }
        self.text = text
        self.earliest = parsed.earliest
        self.latest = parsed.latest
        self.isInterval = parsed.isInterval
        self.isUncertain = parsed.isUncertain
        self.isApproximate = parsed.isApproximate
    }

    /// Why `text` is not valid, for error messages (e.g. "month 13 does not exist",
    /// "day 31 does not exist in 2019-04", "interval ends before it starts"); nil when valid.
    public static func problem(_ text: String) -> String? {
        guard case .failure(let problem) = EDTFParser.parse(text) else { return nil }
        return problem.message
    }
}

/// Why a text is not valid EDTF.
struct EDTFProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The outcome of a successful parse, before it becomes an `EDTF`.
struct EDTFParsed: Equatable {
    var earliest: Int?
    var latest: Int?
    var isInterval = false
    var isUncertain = false
    var isApproximate = false
}

/// One parsed date: its day bounds and its qualifier.
struct EDTFDate {
    var earliest: Int
    var latest: Int
    var isUncertain: Bool
    var isApproximate: Bool
}

/// One side of an interval.
enum EDTFSide {
    case date(EDTFDate)
    case open  // `..`
    case unknown  // empty

    var date: EDTFDate? {
        if case .date(let d) = self { return d }
        return nil
    }
}

/// The parser behind `EDTF`; works on UTF-8 bytes.
enum EDTFParser {
    typealias Bytes = ArraySlice<UInt8>

    static let slash = UInt8(ascii: "/")
    static let hyphen = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let unspecified = UInt8(ascii: "X")
    static let expected = "expected YYYY, YYYY-MM or YYYY-MM-DD"

    /// Parses a whole EDTF text: a single date or an interval.
    static func parse(_ text: String) -> Result<EDTFParsed, EDTFProblem> {
        if let plain = plainDate(text) { return .success(EDTFParsed(earliest: plain.earliest, latest: plain.latest)) }
        return parseGeneral(text)
    }

    /// The bounds of a valid `YYYY`, `YYYY-MM` or `YYYY-MM-DD` made of digits alone (most dates
    /// an archive holds), read without the general parser; nil for anything else, which
    /// `parseGeneral` then accepts or explains. Both give the same bounds (`EDTFTests`).
    static func plainDate(_ text: String) -> (earliest: Int, latest: Int)? {
        var t = text
        return t.withUTF8 { b -> (earliest: Int, latest: Int)? in
            guard b.count == 4 || b.count == 7 || b.count == 10 else { return nil }
            func digits(_ from: Int, _ n: Int) -> Int? {
                var v = 0
                for i in from..<from + n {
                    guard isDigit(b[i]) else { return nil }
                    v = v * 10 + Int(b[i] - UInt8(ascii: "0"))
                }
                return v
            }
            guard let year = digits(0, 4) else { return nil }
            let base = year * 10000
            if b.count == 4 { return (base + 101, base + 1231) }
            guard b[4] == hyphen, let m = digits(5, 2), (1...12).contains(m) else { return nil }
            let last = daysIn(month: m, year: year)
            let monthBase = base + m * 100
            if b.count == 7 { return (monthBase + 1, monthBase + last) }
            guard b[7] == hyphen, let d = digits(8, 2), (1...last).contains(d) else { return nil }
            return (monthBase + d, monthBase + d)
        }
    }

    /// `parse` without the fast path for plain dates.
    static func parseGeneral(_ text: String) -> Result<EDTFParsed, EDTFProblem> {
        let bytes = Bytes(text.utf8)
        let slashes = bytes.indices.filter { bytes[$0] == slash }
        switch slashes.count {
        case 0: return parseSingle(bytes)
        case 1: return parseInterval(start: bytes[..<slashes[0]], end: bytes[(slashes[0] + 1)...])
        default: return .failure(EDTFProblem("an interval has exactly one '/'"))
        }
    }

    /// A single date (no `/`).
    static func parseSingle(_ bytes: Bytes) -> Result<EDTFParsed, EDTFProblem> {
        if bytes.isEmpty { return .failure(EDTFProblem("empty date")) }
        if isOpen(bytes) { return .failure(EDTFProblem("'..' (open end) is only allowed as one side of an interval")) }
        return parseDate(bytes).map {
            EDTFParsed(earliest: $0.earliest, latest: $0.latest, isUncertain: $0.isUncertain, isApproximate: $0.isApproximate)
        }
    }

    /// An interval `start/end`.
    static func parseInterval(start: Bytes, end: Bytes) -> Result<EDTFParsed, EDTFProblem> {
        let from: EDTFSide
        let to: EDTFSide
        switch parseSide(start) {
        case .success(let side): from = side
        case .failure(let p): return .failure(EDTFProblem("interval start: \(p.message)"))
        }
        switch parseSide(end) {
        case .success(let side): to = side
        case .failure(let p): return .failure(EDTFProblem("interval end: \(p.message)"))
        }
        if from.date == nil && to.date == nil {
            return .failure(EDTFProblem("an interval needs a date on at least one side"))
        }
        if let a = from.date, let b = to.date, a.earliest > b.latest {
            return .failure(EDTFProblem("interval ends before it starts"))
        }
        let dates = [from.date, to.date].compactMap { $0 }
        return .success(
            EDTFParsed(
                earliest: from.date?.earliest, latest: to.date?.latest, isInterval: true,
                isUncertain: dates.contains { $0.isUncertain }, isApproximate: dates.contains { $0.isApproximate }))
    }

    /// One side of an interval: `..`, empty, or a date.
    static func parseSide(_ bytes: Bytes) -> Result<EDTFSide, EDTFProblem> {
        if bytes.isEmpty { return .success(.unknown) }
        if isOpen(bytes) { return .success(.open) }
        return parseDate(bytes).map { .date($0) }
    }

    static func isOpen(_ bytes: Bytes) -> Bool {
        bytes.count == 2 && bytes.allSatisfy { $0 == dot }
    }

    // MARK: Dates

    /// A date with an optional trailing qualifier.
    static func parseDate(_ bytes: Bytes) -> Result<EDTFDate, EDTFProblem> {
        var body = bytes
        var uncertain = false
        var approximate = false
        switch body.last {
        case UInt8(ascii: "?"): uncertain = true
        case UInt8(ascii: "~"): approximate = true
        case UInt8(ascii: "%"): (uncertain, approximate) = (true, true)
        default: break
        }
        if uncertain || approximate { body = body.dropLast() }
        if let problem = characterProblem(body) { return .failure(problem) }
        return bounds(body).map {
            EDTFDate(earliest: $0.earliest, latest: $0.latest, isUncertain: uncertain, isApproximate: approximate)
        }
    }

    /// The first byte that cannot appear in an unqualified date, explained.
    static func characterProblem(_ body: Bytes) -> EDTFProblem? {
        if body.isEmpty { return EDTFProblem("a qualifier needs a date before it") }
        if body.first == hyphen { return EDTFProblem("negative years are not supported") }
        for byte in body where !isDigit(byte) && byte != unspecified && byte != hyphen {
            return EDTFProblem(describe(byte))
        }
        return nil
    }

    /// Explains why `byte` cannot appear in a date.
    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "?"), UInt8(ascii: "~"), UInt8(ascii: "%"):
            return "a qualifier ('?', '~', '%') is only allowed once, at the end of a date"
        case UInt8(ascii: "x"): return "unspecified digits must be an uppercase 'X'"
        case UInt8(ascii: "T"), UInt8(ascii: ":"): return "times are not supported"
        case UInt8(ascii: "Y"): return "'Y'-prefixed years are not supported"
        case UInt8(ascii: "S"), UInt8(ascii: "E"): return "exponential or significant-digit years are not supported"
        case UInt8(ascii: " "): return "spaces are not allowed"
        case 0x21...0x7E: return "unexpected character '\(Character(Unicode.Scalar(byte)))'"
        default: return "unexpected non-ASCII or control character"
        }
    }

    /// The day bounds of an unqualified date made only of digits, `X` and `-`.
    static func bounds(_ body: Bytes) -> Result<(earliest: Int, latest: Int), EDTFProblem> {
        let parts = body.split(separator: hyphen, omittingEmptySubsequences: false)
        guard parts.count <= 3 else { return .failure(EDTFProblem("too many parts; \(expected)")) }
        guard !parts.contains(where: \.isEmpty) else { return .failure(EDTFProblem("empty part; \(expected)")) }
        let yearText = parts[0]
        guard yearText.count == 4 else { return .failure(EDTFProblem("year must have exactly 4 digits")) }
        guard let years = yearRange(yearText) else {
            return .failure(EDTFProblem("year \(string(yearText)) may leave only its last one or two digits unspecified (201X, 20XX)"))
        }
        if parts.count == 1 { return .success((years.lowerBound * 10000 + 101, years.upperBound * 10000 + 1231)) }
        guard years.count == 1 else {
            return .failure(EDTFProblem("a year with unspecified digits cannot have a month or day"))
        }
        return monthBounds(year: years.lowerBound, yearText: yearText, month: parts[1], day: parts.count == 3 ? parts[2] : nil)
    }

    /// The years a 4-character year covers: `2019` → 2019...2019, `201X` → 2010...2019, `20XX` → 2000...2099.
    static func yearRange(_ text: Bytes) -> ClosedRange<Int>? {
        let digits = text.prefix { isDigit($0) }
        let rest = text.dropFirst(digits.count)
        guard digits.count >= 2, rest.allSatisfy({ $0 == unspecified }), let value = number(digits) else { return nil }
        var scale = 1
        for _ in rest { scale *= 10 }
        return (value * scale)...(value * scale + scale - 1)
    }

    /// Bounds of `YYYY-MM` or `YYYY-MM-DD` where the year is fully specified.
    static func monthBounds(year: Int, yearText: Bytes, month: Bytes, day: Bytes?)
        -> Result<(earliest: Int, latest: Int), EDTFProblem>
    {
        guard month.count == 2 else { return .failure(EDTFProblem("month must have 2 digits")) }
        let base = year * 10000
        if isAllUnspecified(month) {
            if let day, !isAllUnspecified(day) {
                return .failure(EDTFProblem("a day cannot be given when the month is unspecified (use YYYY-XX-XX)"))
            }
            if let day, day.count != 2 { return .failure(EDTFProblem("day must have 2 digits")) }
            return .success((base + 101, base + 1231))
        }
        guard let m = number(month) else { return .failure(EDTFProblem("month may only be fully unspecified (XX)")) }
        if (21...41).contains(m) { return .failure(EDTFProblem("seasons (month 21–41) are not supported")) }
        guard (1...12).contains(m) else { return .failure(EDTFProblem("month \(string(month)) does not exist")) }
        let last = daysIn(month: m, year: year)
        let monthBase = base + m * 100
        guard let day else { return .success((monthBase + 1, monthBase + last)) }
        guard day.count == 2 else { return .failure(EDTFProblem("day must have 2 digits")) }
        if isAllUnspecified(day) { return .success((monthBase + 1, monthBase + last)) }
        guard let d = number(day) else { return .failure(EDTFProblem("day may only be fully unspecified (XX)")) }
        guard (1...last).contains(d) else {
            return .failure(EDTFProblem("day \(string(day)) does not exist in \(string(yearText))-\(string(month))"))
        }
        return .success((monthBase + d, monthBase + d))
    }

    // MARK: Small helpers

    /// Number of days in `month` (1–12) of `year`, Gregorian.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    static func isAllUnspecified(_ bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 == unspecified }
    }

    /// The decimal value of an all-digit slice; nil when it holds anything else.
    static func number(_ bytes: Bytes) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func string(_ bytes: Bytes) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
