import Foundation
import LedgerCore
import Synchronization

/// Checks a file's SQLite header before SQLite opens it, so a foreign or truncated file is
/// refused without SQLite writing anything to it.
enum FileHeader {
    /// SQLite's lock bytes (sqlite3.c, `PENDING_BYTE`): connections hold a read lock on the
    /// 510-byte SHARED range after it while they use the file; the last one to close takes a
    /// write lock on it (EXCLUSIVE) to checkpoint and delete the `-wal` file.
    static let sharedFirst: Int = 0x4000_0000 + 2
    static let sharedSize: Int = 510

    static func check(path: String) throws(LedgerError) {
        let fd = descriptor(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw LedgerError(.notALedger, "\(path) does not exist; create a ledger with `ledger init`") }
            throw LedgerError(.io, "\(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        // Read the header, the file size and the -wal size under a shared lock, as a SQLite
        // reader would hold it: no other connection can be closing the database (checkpointing
        // and deleting the -wal file) while they are read, so they describe one moment.
        lockShared(fd)
        defer { unlock(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 100, 0) }
        var info = stat()
        let fileSize = fstat(fd, &info) == 0 ? UInt64(info.st_size) : 0
        guard got == 100, header.prefix(16).elementsEqual(Array("SQLite format 3\u{0}".utf8)) else {
            throw LedgerError(.notALedger, "\(path) is not a ledger: it is not a SQLite database")
        }
        func be32(_ o: Int) -> UInt32 { header[o..<o + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        let appID = be32(68)
        let userVersion = Int32(bitPattern: be32(60))
        guard Int32(bitPattern: appID) == Schema.applicationID else {
            throw LedgerError(.notALedger, "\(path) is a SQLite database but not an IncidentLedger ledger (application id 0x\(String(appID, radix: 16)))")
        }
        guard (Schema.oldestReadable...Schema.fileVersion).contains(userVersion) else {
            throw LedgerError(
                .notALedger, "\(path) is ledger format version \(userVersion); this tool reads versions \(Schema.oldestReadable) to \(Schema.fileVersion)")
        }
        // A file shorter than its header's page count is truncated, unless a write-ahead log is
        // present: then a checkpoint may be copying pages back (or was cut short by a crash) and
        // SQLite itself completes or recovers it on open.
        let rawPageSize = UInt32(header[16]) << 8 | UInt32(header[17])
        let pageSize = UInt64(rawPageSize == 1 ? 65536 : rawPageSize)
        let pageCount = UInt64(be32(28))
        var walInfo = stat()
        let walSize = stat(path + "-wal", &walInfo) == 0 ? UInt64(walInfo.st_size) : 0
        if walSize == 0, be32(24) == be32(92), pageCount > 0, fileSize < pageSize * pageCount {
            throw LedgerError(.notALedger, "\(path) is truncated: \(fileSize) bytes, its header says \(pageSize * pageCount)")
        }
    }

    /// Removes an empty `-wal` and its `-shm` that a read-only connection of this process
    /// created and could not remove itself (only a writer may), doing what SQLite's last
    /// connection does on close: only while holding the SHARED range exclusively, which no
    /// connection of any process can hold the file open against (in WAL mode each holds a
    /// read lock on it while open, and takes it before opening the `-shm`).
    static func removeUnusedSidecars(path: String) {
        #if os(Linux)
        var walInfo = stat()
        guard stat(path + "-wal", &walInfo) == 0, walInfo.st_size == 0 else { return }
        // A write lock needs a descriptor open for writing; nothing is written through it.
        let fd = descriptor(path, O_RDWR)
        guard fd >= 0 else { return }
        guard ofdLock(fd, type: F_WRLCK, attempts: 1) else { return }
        defer { unlock(fd) }
        // Again under the lock: a writer may have committed between the first look and the lock.
        guard stat(path + "-wal", &walInfo) == 0, walInfo.st_size == 0 else { return }
        unlink(path + "-wal")
        unlink(path + "-shm")
        #endif
    }

    /// Descriptors of ledger files this process opened for the checks above, by file identity
    /// and access mode. They are never closed: on Linux (POSIX) closing any descriptor of a file
    /// drops every record lock the process holds on it, SQLite's included, and a SQLite connection
    /// of this process on the same file (a server's writer, while its readers open) would then
    /// look closed to other processes, whose last connection would checkpoint and delete the
    /// `-wal` file under it, losing its committed writes (found by a hostile review of
    /// `ledger serve`). SQLite itself defers such closes for the same reason. A process opens
    /// a handful of ledger files, so the descriptors kept stay few.
    private static let descriptors = Mutex<[String: Int32]>([:])

    /// An open descriptor of the file at `path` (`O_RDONLY` or `O_RDWR`), kept for the process's
    /// life; -1 with `errno` set when it cannot be opened.
    static func descriptor(_ path: String, _ mode: Int32) -> Int32 {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        let key = "\(info.st_dev):\(info.st_ino):\(mode)"
        return descriptors.withLock { held -> Int32 in
            if let fd = held[key] { return fd }
            let fd = open(path, mode | O_CLOEXEC)
            guard fd >= 0 else { return -1 }
            var opened = stat()
            // The path may name another file since `stat` (replaced): keep it under its own identity.
            let actual = fstat(fd, &opened) == 0 ? "\(opened.st_dev):\(opened.st_ino):\(mode)" : key
            held[actual] = fd
            return fd
        }
    }

    /// Releases this process's open-file-description lock on the SHARED range (the descriptor
    /// stays open: see `descriptors`).
    private static func unlock(_ fd: Int32) {
        #if os(Linux)
        _ = ofdLock(fd, type: F_UNLCK, attempts: 1)
        #endif
    }

    /// Takes an open-file-description read lock on SQLite's SHARED range, waiting up to 10 s
    /// while a closing connection holds it exclusively. Where such locks are not supported the
    /// check goes on unlocked, as before.
    private static func lockShared(_ fd: Int32) {
        #if os(Linux)
        _ = ofdLock(fd, type: F_RDLCK, attempts: 1000)
        #endif
    }

    #if os(Linux)
    /// An open-file-description lock on the SHARED range, retried every 10 ms; false when not taken.
    private static func ofdLock(_ fd: Int32, type: Int32, attempts: Int) -> Bool {
        let setOFDLock: Int32 = 37  // F_OFD_SETLK (Linux ≥ 3.15, all architectures; needs _GNU_SOURCE in C)
        var lock = flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = off_t(sharedFirst)
        lock.l_len = off_t(sharedSize)
        lock.l_pid = 0
        for attempt in 0..<attempts {
            if fcntl(fd, setOFDLock, &lock) == 0 { return true }
            guard errno == EAGAIN || errno == EACCES || errno == EINTR, attempt + 1 < attempts else { return false }
            usleep(10_000)
        }
        return false
    }
    #endif
}
