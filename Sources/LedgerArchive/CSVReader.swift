import LedgerCore

/// An RFC 4180 reader over bytes: records with the physical line each starts on, so errors can
/// name it. Accepts CRLF or LF line ends, a leading UTF-8 byte order mark and a missing final
/// line end; a CRLF inside a quoted field becomes LF. Refuses invalid UTF-8, a quote inside an
/// unquoted field, text after a closing quote, an unterminated quoted field and a line ended by
/// CR alone (classic Mac line ends), naming the line.
public struct CSVRecord: Sendable, Equatable {
    /// The 1-based line the record starts on.
    public var line: Int
    public var fields: [String]
}

public enum CSVReader {
    public static func records(_ input: [UInt8], name: String) throws(LedgerError) -> [CSVRecord] {
        var bytes = input[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var out: [CSVRecord] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var i = bytes.startIndex
        let end = bytes.endIndex

        func finishField() throws(LedgerError) {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw LedgerError(.malformed, "\(name):\(line): field \(fields.count + 1) is not valid UTF-8")
            }
            fields.append(s)
            field.removeAll(keepingCapacity: true)
        }
        func finishRecord() {
            out.append(CSVRecord(line: recordLine, fields: fields))
            fields = []
        }

        func loneCR(_ line: Int) -> LedgerError {
            LedgerError(.malformed, "\(name):\(line): a line ends with CR alone (classic Mac line ends); save the file with LF or CRLF line ends")
        }

        var atRecordStart = true
        while i < end {
            if atRecordStart { recordLine = line; atRecordStart = false }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") && field.isEmpty {
                // A quoted field: up to the closing quote, with "" for a quote.
                let startLine = line
                i += 1
                var closed = false
                while i < end {
                    let q = bytes[i]
                    if q == UInt8(ascii: "\"") {
                        if i + 1 < end, bytes[i + 1] == UInt8(ascii: "\"") {
                            field.append(q)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    if q == 0x0D, i + 1 < end, bytes[i + 1] == 0x0A {
                        // A line end inside the field, written CRLF: kept as LF, as an LF file gives it.
                        field.append(0x0A)
                        line += 1
                        i += 2
                        continue
                    }
                    if q == 0x0A { line += 1 }
                    field.append(q)
                    i += 1
                }
                guard closed else {
                    throw LedgerError(.malformed, "\(name):\(startLine): a quoted field (field \(fields.count + 1)) is never closed")
                }
                // After the closing quote: the end of the input, or a comma or line end (which the
                // next turn handles).
                if i == end {
                    try finishField()
                    finishRecord()
                    atRecordStart = true
                    continue
                }
                let n = bytes[i]
                if n == 0x0D, !(i + 1 < end && bytes[i + 1] == 0x0A) { throw loneCR(line) }
                guard n == UInt8(ascii: ",") || n == 0x0A || n == 0x0D else {
                    throw LedgerError(.malformed, "\(name):\(line): field \(fields.count + 1) has text after its closing quote")
                }
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                try finishField()
                i += 1
                if i == end { try finishField(); finishRecord(); atRecordStart = true }
            case 0x0A:
                try finishField()
                finishRecord()
                line += 1
                i += 1
                atRecordStart = true
            case 0x0D where i + 1 < end && bytes[i + 1] == 0x0A:
                try finishField()
                finishRecord()
                line += 1
                i += 2
                atRecordStart = true
            case 0x0D:
                throw loneCR(line)
            case UInt8(ascii: "\""):
                throw LedgerError(
                    .malformed, "\(name):\(line): field \(fields.count + 1) has a quote inside an unquoted field (quote the whole field and double the quote)")
            default:
                field.append(c)
                i += 1
                if i == end { try finishField(); finishRecord(); atRecordStart = true }
            }
        }
        return out
    }
}
