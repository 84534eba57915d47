@testable import LedgerArchive
import Testing

/// `EDTFParser.plainDate`, the fast path for digit-only dates, against the general parser.
@Suite("EDTF plain dates read without the general parser")
struct EDTFPlainDateTests {
    /// The outcome of both paths, comparable: the bounds, or the problem's message.
    private static func outcomes(_ text: String) -> (fast: String, general: String) {
        func describe(_ r: Result<EDTFParsed, EDTFProblem>) -> String {
            switch r {
            case .success(let p): return "\(p.earliest as Int?) \(p.latest as Int?) \(p.isInterval) \(p.isUncertain) \(p.isApproximate)"
            case .failure(let p): return "problem: \(p.message)"
            }
        }
        return (describe(EDTFParser.parse(text)), describe(EDTFParser.parseGeneral(text)))
    }

    @Test("every month and day 00–99 of leap, common and edge years: the same bounds or the same problem")
    func everyMonthAndDay() {
        var fast = 0
        for year in ["0000", "0001", "1900", "1999", "2000", "2015", "2016", "2019", "2024", "2100", "9999"] {
            let y = Self.outcomes(year)
            #expect(y.fast == y.general, "\(year)")
            for m in 0..<100 {
                let month = "\(year)-\(m < 10 ? "0" : "")\(m)"
                let o = Self.outcomes(month)
                #expect(o.fast == o.general, "\(month)")
                for d in 0..<100 {
                    let day = "\(month)-\(d < 10 ? "0" : "")\(d)"
                    let o = Self.outcomes(day)
                    #expect(o.fast == o.general, "\(day)")
                    if EDTFParser.plainDate(day) != nil { fast += 1 }
                }
            }
        }
        // Every real day of those eleven years took the fast path: 0000, 2000, 2016 and 2024 are
        // leap years; 1900 and 2100 are not.
        #expect(fast == 7 * 365 + 4 * 366)
    }

    @Test("dates the fast path leaves to the general parser")
    func leftToTheGeneralParser() {
        let texts = [
            "2019-1-011", "201X", "20XX", "2019-XX", "2019-05-XX", "2019-XX-XX", "2019/05/01", "2019-05-01?", "2019~", "20190501xx",
            "-019-05-01", "2019_05_01", "2019-05_01", "２０１９", "2019-02-29", "2016-02-30", "2019-13", "2019-00-10", "2019-05-1 ", " 2019",
            "2019-05-01/2019-06", "../2019", "", "abcd", "2019-05-00",
        ]
        for text in texts {
            let o = Self.outcomes(text)
            #expect(o.fast == o.general, "\(text)")
        }
        #expect(EDTFParser.plainDate("2016-02-29")! == (20_160_229, 20_160_229))
        #expect(EDTFParser.plainDate("2019-02-29") == nil && EDTFParser.plainDate("2019-02")! == (20_190_201, 20_190_228))
        #expect(EDTFParser.plainDate("2019-05-01?") == nil && EDTFParser.plainDate("201X") == nil)
    }
}
