import LedgerArchive
import LedgerCore
import Testing

/// The rule every free text field follows (docs/EVENTS.md §3), through a body's `reason`
/// (at most 2,000 code points).
@Suite("archive texts: control characters, length in code points, outer white space")
struct TextRuleTests {
    func check(_ text: String) throws(LedgerError) {
        try Archive.checkBody(type: "incident.retracted", subject: "incident:a", body: JSONObject(uniqueMembers: [("reason", .string(text))]))
    }

    func refusal(_ text: String) -> String? {
        do throws(LedgerError) {
            try check(text)
            return nil
        } catch { return error.message }
    }

    @Test("accepted: line feeds, non-ASCII text, white space inside, exactly the limit in code points")
    func accepted() throws {
        for text in ["a\nb", "قصف مشفى", "a\u{00A0}b", "x", String(repeating: "é", count: 2000), String(repeating: "😀", count: 2000)] {
            #expect(refusal(text) == nil, "\(text.prefix(20))")
        }
    }

    @Test("refused: C0 and C1 control characters other than line feed, wherever they stand")
    func controls() {
        for text in ["a\tb", "a\rb", "\u{0}", "a\u{7F}", "\u{80}a", "a\u{85}b", "ab\u{9F}", "é\u{1}é"] {
            #expect(refusal(text)?.contains("must not contain control characters") == true, "\(text.unicodeScalars.map(\.value))")
        }
    }

    @Test("refused: more code points than the limit, counted as code points, not bytes")
    func length() {
        #expect(refusal(String(repeating: "é", count: 2001))?.contains("is 2001 code points; the limit is 2000") == true)
        #expect(refusal(String(repeating: "😀", count: 2001))?.contains("is 2001 code points") == true)
        #expect(refusal(String(repeating: "a", count: 2001))?.contains("is 2001 code points") == true)
    }

    @Test("refused: empty, or white space (ASCII or not) at either end")
    func whiteSpace() {
        #expect(refusal("")?.contains("must not be empty") == true)
        for text in [" a", "a ", "\na", "a\n", "\u{3000}a", "a\u{00A0}", "\u{2003}"] {
            #expect(refusal(text)?.contains("must not start or end with white space") == true, "\(text.unicodeScalars.map(\.value))")
        }
    }
}
