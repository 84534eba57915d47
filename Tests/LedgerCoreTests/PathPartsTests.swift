import LedgerCore
import Testing

@Suite("path parts")
struct PathPartsTests {
    @Test(
        "directory and name without Foundation's path helpers",
        arguments: [
            ("L", ".", "L"), ("dir/L", "dir", "L"), ("/L", "/", "L"), ("a/b/c.ledger", "a/b", "c.ledger"), ("dir/", ".", "dir"), ("/x/y//", "/x", "y"),
        ])
    func split(_ path: String, _ directory: String, _ name: String) {
        let p = PathParts.split(path)
        #expect(p.directory == directory && p.name == name, "\(path) → \(p)")
    }
}
