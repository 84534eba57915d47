/// A path's directory and last component, computed on the string itself.
/// (`NSString.deletingLastPathComponent` in swift-corelibs-foundation traps on some one-character
/// relative paths such as "L", so file-placing code does not use it.)
public enum PathParts {
    /// `("dir", "name")` for "dir/name"; `(".", "name")` for "name"; `("/", "name")` for "/name".
    /// Trailing slashes are ignored.
    public static func split(_ path: String) -> (directory: String, name: String) {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return (".", String(p)) }
        let name = String(p[p.index(after: slash)...])
        let dir = p[..<slash]
        return (dir.isEmpty ? "/" : String(dir), name)
    }
}
