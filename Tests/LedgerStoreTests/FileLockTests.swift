import Foundation
import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// Opening a second connection to a ledger file must not drop the record locks of the first
/// (POSIX drops every lock a process holds on a file when it closes any descriptor of it).
/// Otherwise another process's closing connection believes it is the last one, checkpoints and
/// deletes the `-wal` file, and every later commit of the first connection goes into a deleted
/// file: acknowledged appends lost (found by a hostile review of `ledger serve`, whose writer
/// stays open while its readers open).
@Suite("SQLite: a second connection in the process keeps the first one's locks")
struct FileLockTests {
    @Test("appends of an open writer survive another process opening and closing the file after this process opened a reader")
    func writerKeepsItsLocks() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("locks.ledger")
        let prefix = Fixtures.standardPrefix()
        let writer = try Ledger.create(path: path, genesis: prefix[0])
        _ = try writer.append(Array(prefix.dropFirst()))
        _ = try writer.append((0..<5).map { Fixtures.report(subject: "before-\($0)", n: UInt64(100 + $0)) })
        // A second ledger of this process on the same file (its header check opens the file).
        let reader = try Ledger.open(path: path, readOnly: true)
        _ = try writer.append((0..<5).map { Fixtures.report(subject: "between-\($0)", n: UInt64(200 + $0)) })
        // Another process opens the file read-write with SQLite and closes it.
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT COUNT(*) FROM entries').fetchone(); c.close()", path,
        ]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "the other process deleted the -wal file of an open writer")
        _ = try writer.append((0..<5).map { Fixtures.report(subject: "after-\($0)", n: UInt64(300 + $0)) })
        let size = try writer.size()
        try reader.close()
        try writer.close()
        let reopened = try Ledger.open(path: path)
        defer { try? reopened.close() }
        #expect(try reopened.size() == size)
        #expect(size == 19)
        #expect(try reopened.verify(trust: reopened.genesisKeyID).size == 19)
    }
}
