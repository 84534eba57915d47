import ArgumentParser
import Foundation
import LedgerCore

/// Exit codes, documented in docs/CLI.md.
enum Exit {
    static let ok: Int32 = 0
    static let verificationFailed: Int32 = 1
    static let refused: Int32 = 3
    static let conflict: Int32 = 4
    static let notALedger: Int32 = 5
    static let keyFile: Int32 = 6
    static let usage: Int32 = 64
    static let malformed: Int32 = 65
    static let io: Int32 = 74

    static func code(for error: LedgerError) -> Int32 {
        switch error.code {
        case .verificationFailed: return verificationFailed
        case .refused: return refused
        case .conflict: return conflict
        case .notALedger: return notALedger
        case .keyFile: return keyFile
        case .malformed: return malformed
        case .io: return io
        }
    }
}

/// Runs a command body, turning a `LedgerError` into a message on stderr and its exit code.
func guarded(_ body: () throws(LedgerError) -> Void) throws {
    defer { OpenLedgers.closeAll() }
    do {
        try body()
    } catch {
        Terminal.error(error.description)
        throw ExitCode(Exit.code(for: error))
    }
}

/// Output helpers.
enum Terminal {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("ledger: error: \(safe(message))\n".utf8))
    }

    /// `text` with control characters (C0, C1, DEL) and bidirectional overrides shown as `\u{…}`
    /// escapes, so names and fields taken from input cannot move the cursor, ring the terminal
    /// or reorder what is displayed.
    static func safe(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            let v = s.value
            // C0, C1, DEL; bidi embeddings, overrides, isolates and marks (LRM, RLM, ALM); line and paragraph separators.
            if v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                || v == 0x200E || v == 0x200F || v == 0x061C || v == 0x2028 || v == 0x2029
            {
                out += "\\u{\(String(v, radix: 16))}"
            } else {
                out.unicodeScalars.append(s)
            }
        }
        return out
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
