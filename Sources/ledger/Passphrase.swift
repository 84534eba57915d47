import Foundation
import LedgerCore

/// Reads passphrases from `LEDGER_PASSPHRASE` (for scripts) or from the terminal without echo.
enum Passphrase {
    static let environmentVariable = "LEDGER_PASSPHRASE"

    /// The passphrase for unlocking an existing key.
    static func forUnlocking(_ path: String) throws(LedgerError) -> [UInt8] {
        if let env = ProcessInfo.processInfo.environment[environmentVariable] {
            guard !env.isEmpty else {
                throw LedgerError(.keyFile, "\(environmentVariable) is set but empty; set it to the key's passphrase or unset it to be asked")
            }
            return Array(env.utf8)
        }
        return try prompt("Passphrase for \(path): ")
    }

    /// A new passphrase, typed twice at the terminal (or taken from the environment).
    static func forNewKey() throws(LedgerError) -> [UInt8] {
        if let env = ProcessInfo.processInfo.environment[environmentVariable] {
            guard env.count >= 8 else {
                throw LedgerError(.keyFile, "\(environmentVariable) must hold at least 8 characters for a new key (or pass --unencrypted for a throwaway key)")
            }
            return Array(env.utf8)
        }
        let first = try prompt("New passphrase: ")
        guard first.count >= 8 else { throw LedgerError(.keyFile, "the passphrase must be at least 8 characters") }
        let second = try prompt("Repeat the passphrase: ")
        guard first == second else { throw LedgerError(.keyFile, "the two passphrases differ; nothing was written") }
        return first
    }

    private static func prompt(_ text: String) throws(LedgerError) -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR)
        guard fd >= 0 else {
            throw LedgerError(.keyFile, "no terminal to ask for the passphrase; set \(environmentVariable) for scripts")
        }
        defer { close(fd) }
        _ = text.withCString { write(fd, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(fd, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(fd, TCSAFLUSH, &saved)
            _ = write(fd, "\n", 1)
        }
        var bytes: [UInt8] = []
        var c: UInt8 = 0
        while read(fd, &c, 1) == 1 {
            if c == 0x0A || c == 0x0D { break }
            bytes.append(c)
        }
        return bytes
    }
}
