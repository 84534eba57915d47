import LedgerArchive
import Testing

@Suite("EDTF dates and intervals")
struct EDTFTests {
    // MARK: Level 0 dates

    @Test(
        "complete dates and their bounds",
        arguments: [
            ("2019", 2019_01_01, 2019_12_31),
            ("2019-05", 2019_05_01, 2019_05_31),
            ("2019-04", 2019_04_01, 2019_04_30),
            ("2019-05-05", 2019_05_05, 2019_05_05),
            ("0000", 101, 1231),
            ("9999-12-31", 9999_12_31, 9999_12_31),
            ("1900-02", 1900_02_01, 1900_02_28),
            ("2000-02", 2000_02_01, 2000_02_29),
            ("2019-02", 2019_02_01, 2019_02_28),
            ("2020-02", 2020_02_01, 2020_02_29),
        ])
    func completeDates(_ text: String, _ earliest: Int, _ latest: Int) throws {
        let d = try #require(EDTF(text))
        #expect(d.text == text)
        #expect(d.earliest == earliest)
        #expect(d.latest == latest)
        #expect(!d.isInterval)
        #expect(!d.isUncertain)
        #expect(!d.isApproximate)
        #expect(EDTF.problem(text) == nil)
    }

    @Test("leap years follow the Gregorian rule")
    func leapYears() {
        #expect(EDTF("2020-02-29")?.earliest == 2020_02_29)
        #expect(EDTF("2000-02-29")?.latest == 2000_02_29)
        #expect(EDTF("2400-02-29") != nil)
        #expect(EDTF("0000-02-29") != nil)
        #expect(EDTF("2019-02-29") == nil)
        #expect(EDTF("1900-02-29") == nil)
        #expect(EDTF("2100-02-29") == nil)
        #expect(EDTF("2020-02-30") == nil)
        #expect(EDTF.problem("2019-02-29") == "day 29 does not exist in 2019-02")
        #expect(EDTF.problem("1900-02-29") == "day 29 does not exist in 1900-02")
    }

    @Test("month lengths", arguments: [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31), (11, 30), (12, 31)])
    func monthLengths(_ month: Int, _ days: Int) {
        let mm = month < 10 ? "0\(month)" : "\(month)"
        #expect(EDTF("2019-\(mm)-\(days)") != nil)
        #expect(EDTF.problem("2019-\(mm)-\(days + 1)") == "day \(days + 1) does not exist in 2019-\(mm)")
        #expect(EDTF("2019-\(mm)")?.latest == 2019_00_00 + month * 100 + days)
    }

    // MARK: Level 1 qualifiers

    @Test(
        "a qualifier at the end of a date",
        arguments: [
            ("2019?", true, false), ("2019-05~", false, true), ("2019-05-05%", true, true), ("2019-05-05?", true, false),
            ("1984~", false, true),
        ])
    func qualifiers(_ text: String, _ uncertain: Bool, _ approximate: Bool) throws {
        let d = try #require(EDTF(text))
        #expect(d.isUncertain == uncertain)
        #expect(d.isApproximate == approximate)
        #expect(d.text == text)
    }

    @Test("a qualifier does not change the bounds")
    func qualifierBounds() {
        #expect(EDTF("2019-05?")?.earliest == 2019_05_01)
        #expect(EDTF("2019-05?")?.latest == 2019_05_31)
        #expect(EDTF("2019-05-05~")?.earliest == 2019_05_05)
    }

    @Test("qualifiers elsewhere are refused", arguments: ["2019??", "2019?~", "2019?-05", "2019-05?-05", "?2019", "?", "~", "%"])
    func misplacedQualifiers(_ text: String) {
        #expect(EDTF(text) == nil)
        #expect(EDTF.problem(text) != nil)
    }

    // MARK: Level 1 unspecified digits

    @Test(
        "unspecified digits widen the bounds",
        arguments: [
            ("201X", 2010_01_01, 2019_12_31),
            ("20XX", 2000_01_01, 2099_12_31),
            ("000X", 101, 9_1231),
            ("2019-XX", 2019_01_01, 2019_12_31),
            ("2019-XX-XX", 2019_01_01, 2019_12_31),
            ("2019-05-XX", 2019_05_01, 2019_05_31),
            ("2019-02-XX", 2019_02_01, 2019_02_28),
            ("2020-02-XX", 2020_02_01, 2020_02_29),
            ("1900-02-XX", 1900_02_01, 1900_02_28),
            ("2019-04-XX", 2019_04_01, 2019_04_30),
            ("201X?", 2010_01_01, 2019_12_31),
            ("2019-XX~", 2019_01_01, 2019_12_31),
        ])
    func unspecified(_ text: String, _ earliest: Int, _ latest: Int) throws {
        let d = try #require(EDTF(text))
        #expect(d.earliest == earliest)
        #expect(d.latest == latest)
        #expect(!d.isInterval)
    }

    @Test(
        "unspecified digits outside level 1 are refused",
        arguments: [
            "2XXX", "XXXX", "X019", "1X19", "20X9", "201x", "2019-xx", "2019-1X", "2019-X5", "2019-05-1X", "2019-05-X1",
            "2019-XX-05", "201X-05", "20XX-XX", "201X-05-05", "2019-XXX", "2019-XX-XXX",
        ])
    func badUnspecified(_ text: String) {
        #expect(EDTF(text) == nil)
        #expect(EDTF.problem(text) != nil)
    }

    // MARK: Intervals

    @Test("closed intervals")
    func closedIntervals() throws {
        let a = try #require(EDTF("2019-05-05/2019-06-10"))
        #expect(a.isInterval)
        #expect(a.earliest == 2019_05_05)
        #expect(a.latest == 2019_06_10)
        let b = try #require(EDTF("1964/2008"))
        #expect(b.earliest == 1964_01_01)
        #expect(b.latest == 2008_12_31)
        let c = try #require(EDTF("2004-02-01/2005"))
        #expect(c.earliest == 2004_02_01)
        #expect(c.latest == 2005_12_31)
        let d = try #require(EDTF("2019/2019"))
        #expect(d.earliest == 2019_01_01)
        #expect(d.latest == 2019_12_31)
        let e = try #require(EDTF("2019-05-05/2019-05-05"))
        #expect(e.earliest == e.latest)
    }

    @Test("overlapping imprecise sides are accepted; comparison uses start's earliest and end's latest")
    func overlappingSides() throws {
        let a = try #require(EDTF("2019-05-20/2019-05"))
        #expect(a.earliest == 2019_05_20)
        #expect(a.latest == 2019_05_31)
        #expect(EDTF("2019/2019-01-01") != nil)
        #expect(EDTF("201X/2010-06") != nil)
        #expect(EDTF("2019-XX/2019-03-01") != nil)
    }

    @Test("intervals with open or unknown ends")
    func openAndUnknownEnds() throws {
        let openStart = try #require(EDTF("../2019-05-05"))
        #expect(openStart.earliest == nil)
        #expect(openStart.latest == 2019_05_05)
        #expect(openStart.isInterval)
        let openEnd = try #require(EDTF("2019-05/.."))
        #expect(openEnd.earliest == 2019_05_01)
        #expect(openEnd.latest == nil)
        let unknownStart = try #require(EDTF("/2019"))
        #expect(unknownStart.earliest == nil)
        #expect(unknownStart.latest == 2019_12_31)
        let unknownEnd = try #require(EDTF("2019-05-05/"))
        #expect(unknownEnd.earliest == 2019_05_05)
        #expect(unknownEnd.latest == nil)
        #expect(EDTF("../201X")?.latest == 2019_12_31)
    }

    @Test("qualifiers in intervals")
    func intervalQualifiers() throws {
        let a = try #require(EDTF("2004-06~/2006-08?"))
        #expect(a.isUncertain)
        #expect(a.isApproximate)
        #expect(a.earliest == 2004_06_01)
        #expect(a.latest == 2006_08_31)
        let b = try #require(EDTF("2004%/.."))
        #expect(b.isUncertain && b.isApproximate)
        let c = try #require(EDTF("2004/2005~"))
        #expect(!c.isUncertain && c.isApproximate)
        let d = try #require(EDTF("2004/2005"))
        #expect(!d.isUncertain && !d.isApproximate)
    }

    @Test("malformed intervals are refused", arguments: ["/", "../..", "..", "../", "/..", "2019//2020", "2019/2020/2021", "2019-05/2019-04", "2020/2019"])
    func badIntervals(_ text: String) {
        #expect(EDTF(text) == nil)
        #expect(EDTF.problem(text) != nil)
    }

    // MARK: Refusals

    @Test(
        "everything else is refused",
        arguments: [
            "", " 2019", "2019 ", "2019-05-05 ", "-0001", "+2019", "2019-5-5", "2019-5", "2019-05-5", "19", "201", "20190",
            "20190505", "Y20190", "Y-20190", "2019-21", "2019-24", "2019-41", "2019-05-05T10:00", "2019-05-05T10:00:00Z",
            "2019-13", "2019-00", "2019-05-00", "2019-05-32", "2019-04-31", "2019-", "2019--05", "2019-05-", "2019-05-05-01",
            "2019.05", "2019/05/05", "two thousand", "２０１９", "2019-05-05\n", "1950S2", "2019-05-05?~",
            "{2019,2020}", "[2019..2020]", "2019-05-05 / 2019-05-06",
        ])
    func refused(_ text: String) {
        #expect(EDTF(text) == nil)
        #expect(EDTF.problem(text) != nil)
    }

    // MARK: Error messages

    @Test(
        "error messages say what is wrong",
        arguments: [
            ("2019-13", "month 13 does not exist"),
            ("2019-00", "month 00 does not exist"),
            ("2019-04-31", "day 31 does not exist in 2019-04"),
            ("2019-02-29", "day 29 does not exist in 2019-02"),
            ("2019-05-00", "day 00 does not exist in 2019-05"),
            ("2020/2019", "interval ends before it starts"),
            ("2019-05-06/2019-05-05", "interval ends before it starts"),
            ("", "empty date"),
            ("-0001", "negative years are not supported"),
            ("2019-5-5", "month must have 2 digits"),
            ("2019-05-5", "day must have 2 digits"),
            ("19", "year must have exactly 4 digits"),
            ("20190", "year must have exactly 4 digits"),
            ("201x", "unspecified digits must be an uppercase 'X'"),
            ("2019-21", "seasons (month 21–41) are not supported"),
            ("2019-05-05T10:00", "times are not supported"),
            (" 2019", "spaces are not allowed"),
            ("2019 ", "spaces are not allowed"),
            ("Y20190", "'Y'-prefixed years are not supported"),
            ("2019-05?-05", "a qualifier ('?', '~', '%') is only allowed once, at the end of a date"),
            ("2XXX", "year 2XXX may leave only its last one or two digits unspecified (201X, 20XX)"),
            ("201X-05", "a year with unspecified digits cannot have a month or day"),
            ("2019-XX-05", "a day cannot be given when the month is unspecified (use YYYY-XX-XX)"),
            ("2019-1X", "month may only be fully unspecified (XX)"),
            ("2019-05-1X", "day may only be fully unspecified (XX)"),
            ("2019-05-05-01", "too many parts; expected YYYY, YYYY-MM or YYYY-MM-DD"),
            ("2019-", "empty part; expected YYYY, YYYY-MM or YYYY-MM-DD"),
            ("2019.05", "unexpected character '.'"),
            ("..", "'..' (open end) is only allowed as one side of an interval"),
            ("/", "an interval needs a date on at least one side"),
            ("../..", "an interval needs a date on at least one side"),
            ("2019/2020/2021", "an interval has exactly one '/'"),
            ("2019-13/2020", "interval start: month 13 does not exist"),
            ("2019/2019-04-31", "interval end: day 31 does not exist in 2019-04"),
            ("?", "a qualifier needs a date before it"),
            ("2019-05-05\n", "unexpected non-ASCII or control character"),
            ("２０１９", "unexpected non-ASCII or control character"),
            ("1950S2", "exponential or significant-digit years are not supported"),
            ("2019-05-05 / 2019-05-06", "interval start: spaces are not allowed"),
        ])
    func messages(_ text: String, _ message: String) {
        #expect(EDTF.problem(text) == message)
        #expect(EDTF(text) == nil)
    }

    @Test("init and problem agree on every case")
    func initAndProblemAgree() {
        let samples = [
            "2019", "2019-05-05", "201X", "2019-XX-XX", "2019?", "../2019", "2019/", "/", "2019-02-29", "2019-13", "x",
            "2019-05-05/2019-05-04", "2019~/2020%",
        ]
        for text in samples {
            #expect((EDTF(text) == nil) == (EDTF.problem(text) != nil), "\(text)")
        }
    }

    @Test("values are equatable by content")
    func equatable() {
        #expect(EDTF("2019") == EDTF("2019"))
        #expect(EDTF("2019") != EDTF("2019?"))
        #expect(EDTF("2019-01-01/2019-12-31") != EDTF("2019"))
    }
}
