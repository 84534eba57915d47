@testable import LedgerArchive
import Testing

@Suite("BCP 47 language tags")
struct LanguageTagTests {
    @Test(
        "well-formed tags pass",
        arguments: [
            "en", "ar", "ar-SY", "en-GB", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1901", "ar-Latn", "x-private", "en-x-foo",
            "i-klingon", "ru", "tr", "ku-Arab",
        ])
    func required(_ tag: String) {
        #expect(LanguageTag.problem(tag) == nil)
    }

    @Test(
        "ill-formed tags fail",
        arguments: [
            "", "e", "english", "en_GB", "en-", "-en", "en--GB", "ar-SYR1", "en-a", "en-a-bb-a-cc", "de-1901-1901", "abcdefghi",
            "en GB",
        ])
    func refused(_ tag: String) {
        #expect(LanguageTag.problem(tag) != nil)
    }

    @Test(
        "more of the RFC 5646 grammar",
        arguments: [
            // language + extlang (up to three)
            "zh-yue", "zh-yue-HK", "ar-aao", "zh-min-nan", "abc-def-ghi-jkl",
            // script, region (2ALPHA / 3DIGIT), variants
            "es-419", "sl-rozaj", "sl-rozaj-biske", "sl-IT-nedis", "hy-Latn-IT-arevela", "de-DE-1901", "en-US-posix",
            "de-1996", "sl-rozaj-biske-1994",
            // extensions and private use
            "en-US-u-islamcal", "de-DE-u-co-phonebk", "en-a-bbb-x-a-ccc", "en-a-bbb-b-ccc", "zh-CN-a-myext-x-private",
            "en-u-ca-gregory-nu-arab", "qaa-Qaaa-QM-x-southern", "x-whatever", "x-a-b-c", "X-ABC", "en-x-12345678",
            "ar-SY-x-a1", "en-0-abc", "en-abcd1", "en-US-1901-a-bb-1901",
            // irregular and regular grandfathered
            "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao",
            "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
            "zh-guoyu", "zh-hakka", "zh-min", "zh-xiang",
        ])
    func grammar(_ tag: String) {
        #expect(LanguageTag.problem(tag) == nil)
    }

    @Test("case does not matter", arguments: ["EN", "en-gb", "ZH-HANT-TW", "sR-lAtN-rS", "I-KLINGON", "EN-gb-OED", "X-Private", "DE-ch-1901"])
    func caseInsensitive(_ tag: String) {
        #expect(LanguageTag.problem(tag) == nil)
    }

    @Test(
        "more ill-formed tags fail",
        arguments: [
            "a", "x", "x-", "x-123456789", "en-x", "en-x-", "i-xyz", "i", "123", "en-123-456", "en-US-GB", "en-US-Latn",
            "en-Latn-Cyrl", "zh-min-nan-yue-abc", "en-a-x-foo", "en-abc1", "en-1234567890", "de-419-DE", "en-u",
            "en-u-a", "sl-rozaj-ROZAJ", "en-a-bb-A-cc", "en-GB-", "en.GB", "en-GB\n", "ёж", "en-ÄB",
            "en-b-abcdefghi", "en-12", "en-US-a1", "en-Latn-US-ab1",
        ])
    func moreRefused(_ tag: String) {
        #expect(LanguageTag.problem(tag) != nil)
    }

    @Test(
        "reasons name the bad subtag",
        arguments: [
            ("", "empty tag"),
            ("e", "'e'"),
            ("english", "'english'"),
            ("en_GB", "'en_GB'"),
            ("en GB", "'en GB'"),
            ("ar-SYR1", "'SYR1'"),
            ("en-a", "'a'"),
            ("en-a-bb-a-cc", "'a' appears twice"),
            ("de-1901-1901", "'1901' appears twice"),
            ("sl-rozaj-ROZAJ", "'ROZAJ' appears twice"),
            ("abcdefghi", "'abcdefghi' is longer than 8 characters"),
            ("en-", "empty subtag"),
            ("-en", "empty subtag"),
            ("en--GB", "empty subtag"),
            ("en-US-Latn", "'Latn'"),
            ("x", "private use 'x' needs at least one subtag"),
            ("123", "'123' must be letters only"),
        ])
    func reasons(_ tag: String, _ fragment: String) throws {
        let problem = try #require(LanguageTag.problem(tag))
        #expect(problem.contains(fragment), "\(problem)")
    }

    @Test("exact reasons")
    func exactReasons() {
        #expect(LanguageTag.problem("e") == "language subtag 'e' must have 2 or 3 letters")
        #expect(
            LanguageTag.problem("english") == "language subtag 'english' must have 2 or 3 letters (4–8 letters are reserved or unassigned)")
        #expect(LanguageTag.problem("en_GB") == "subtag 'en_GB' contains '_' (subtags are separated by '-')")
        #expect(LanguageTag.problem("en GB") == "subtag 'en GB' contains a space")
        #expect(
            LanguageTag.problem("ar-SYR1")
                == "subtag 'SYR1' is not valid here (expected a script, region, variant, extension or private use)")
        #expect(LanguageTag.problem("en-a") == "extension 'a' needs at least one subtag of 2–8 characters after it")
        #expect(LanguageTag.problem("en-a-bb-a-cc") == "extension singleton 'a' appears twice")
        #expect(LanguageTag.problem("de-1901-1901") == "variant '1901' appears twice")
        #expect(LanguageTag.problem("en-US-Latn") == "subtag 'Latn' is not valid here (a script must follow the language directly)")
        #expect(LanguageTag.problem("en-US-GB") == "subtag 'GB' is not valid here (a region comes once, right after the language or script)")
        #expect(LanguageTag.problem("x") == "private use 'x' needs at least one subtag after it")
        #expect(LanguageTag.problem("en-x-") == "empty subtag (tags must not start or end with '-' or contain '--')")
    }

    @Test("the short path for 2–3 letter tags gives the full parser's verdict on every 1–4 byte tag of letters, digits and a few others")
    func shortPath() {
        let alphabet = Array("aZq0-_x@[`{ é".unicodeScalars).map(String.init)
        var tags: [String] = []
        for a in alphabet {
            tags.append(a)
            for b in alphabet {
                tags.append(a + b)
                for c in alphabet {
                    tags.append(a + b + c)
                    for d in ["e", "-", "9"] { tags.append(a + b + c + d) }
                }
            }
        }
        for first in UInt8(ascii: "A")...UInt8(ascii: "z") {
            for second in UInt8(ascii: "A")...UInt8(ascii: "z") { tags.append(String(decoding: [first, second], as: UTF8.self)) }
        }
        for t in tags { #expect(LanguageTag.problem(t) == LanguageTag.parsedProblem(t), "\(t.debugDescription)") }
        #expect(LanguageTag.problem("en") == nil && LanguageTag.problem("Ara") == nil)
        #expect(LanguageTag.problem("e@") != nil && LanguageTag.problem("e[") != nil && LanguageTag.problem("é") != nil)
    }

    @Test("reasons escape control characters")
    func controlCharacters() {
        #expect(LanguageTag.problem("en-GB\n") == "subtag 'GB\\n' contains a non-ASCII or control character")
        #expect(LanguageTag.problem("ёж") == "subtag 'ёж' contains a non-ASCII or control character")
    }
}
