import Foundation
import LedgerCore

/// Files and folders that hold the archive's sensitive fields (ledger files, bundles, snapshots)
/// are created readable by their owner alone: files 0600, folders 0700, whatever the umask
/// (docs/DECISIONS.md, "Private files").
public enum PrivateFiles {
    /// Mode of a new private file.
    public static let fileMode: mode_t = 0o600
    /// Mode of a new private folder.
    public static let directoryMode: mode_t = 0o700

    /// Creates an empty file at `path` with mode 0600, refusing an existing one, so that SQLite
    /// opens it (and gives its `-wal` and `-shm` files the same mode) instead of creating it.
    public static func createEmpty(_ path: String) throws(LedgerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw LedgerError(.io, "\(path) cannot be created: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        do { try restrict(fd, path: path) } catch {
            unlink(path)
            throw error
        }
    }

    /// Creates a folder (and missing parents) with mode 0700: each is made by `mkdir` with that
    /// mode (the umask can only narrow it, so it is never open to others, not even briefly) and
    /// then set to exactly 0700. An existing folder is left as it is.
    public static func createDirectory(_ path: String) throws(LedgerError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw LedgerError(.io, "\(path) exists and is not a folder") }
            return
        }
        let parent = PathParts.split(path).directory
        if !parent.isEmpty, parent != path { try createDirectory(parent) }
        guard mkdir(path, directoryMode) == 0 || errno == EEXIST else {
            throw LedgerError(.io, "\(path) cannot be created: \(String(cString: strerror(errno)))")
        }
        guard chmod(path, directoryMode) == 0 else { throw LedgerError(.io, "\(path): cannot set mode 0700: \(String(cString: strerror(errno)))") }
    }

    /// Sets mode 0600 on an open file descriptor (the umask only ever narrows `open`'s mode).
    public static func restrict(_ fd: Int32, path: String) throws(LedgerError) {
        guard fchmod(fd, fileMode) == 0 else { throw LedgerError(.io, "\(path): cannot set mode 0600: \(String(cString: strerror(errno)))") }
    }
}
