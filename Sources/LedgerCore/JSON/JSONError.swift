/// Why a JSON text was refused, and where (byte offset, line and column, all 1-based except the offset).
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of problems the strict parser reports.
    public enum Reason: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidUTF8
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case invalidNumber
        case duplicateKey(String)
        case notNFC
        case tooDeep(Int)
        case trailingData
        case tooLarge(Int)
        case topLevelNotObject
    }

    /// What went wrong.
    public var reason: Reason
    /// Zero-based byte offset of the problem.
    public var offset: Int
    /// One-based line of the problem.
    public var line: Int
    /// One-based column (in bytes) of the problem.
    public var column: Int

    public init(reason: Reason, offset: Int, line: Int, column: Int) {
        self.reason = reason
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte(let b):
            what =
                (0x20..<0x7f).contains(b)
                ? "unexpected character '\(Character(Unicode.Scalar(b)))'" : "unexpected byte 0x\(String(b, radix: 16))"
        case .invalidUTF8: what = "invalid UTF-8"
        case .invalidEscape: what = "invalid escape sequence in string"
        case .loneSurrogate: what = "unpaired UTF-16 surrogate in \\u escape"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .invalidNumber: what = "invalid number"
        case .duplicateKey(let k): what = "duplicate key \"\(k.prefix(64))\""
        case .notNFC: what = "string is not in Unicode NFC form"
        case .tooDeep(let d): what = "nesting deeper than \(d) levels"
        case .trailingData: what = "unexpected data after the JSON value"
        case .tooLarge(let n): what = "document larger than \(n) bytes"
        case .topLevelNotObject: what = "the top-level value must be an object"
        }
        return "\(what) at line \(line), column \(column)"
    }
}
