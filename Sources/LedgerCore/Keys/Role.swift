import Foundation

/// What a key may do. A key holds one or more roles; each event type needs one.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Enrolls and revokes keys.
    case admin
    /// Records reports, sources, corrections and claims.
    case archivist
    /// Grades, verifies and assesses.
    case reviewer
    /// Signs checkpoints of the log.
    case log

    public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }

    /// Parses a comma-separated role list such as `archivist,reviewer`.
    public static func parseList(_ text: String) throws(LedgerError) -> [Role] {
        var roles: [Role] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let role = Role(rawValue: name) else {
                throw LedgerError(.malformed, "unknown role \"\(name)\"; roles are admin, archivist, reviewer, log")
            }
            if !roles.contains(role) { roles.append(role) }
        }
        return roles.sorted()
    }
}
