/// The members of a JSON object a decoder reads: a parsed tree, or an object held as its
/// canonical bytes (`rebuild`, `verify` and `audit` decode bodies from their bytes without making
/// their trees).
/// Members read the same from either: a member's value is parsed from its bytes when it is
/// read (a string without escapes, a number and a literal without the parser).
public enum BodyMembers: Sendable {
    case tree(JSONObject)
    case canonical(CanonicalObject)

    public subscript(key: String) -> JSONValue? {
        switch self {
        case .tree(let o): return o[key]
        case .canonical(let c): return c[key]
        }
    }

    public var count: Int {
        switch self {
        case .tree(let o): return o.count
        case .canonical(let c): return c.count
        }
    }

    /// The first member name, in the object's order, outside `allowed` (the order of a tree is
    /// its document's; canonical bytes are in key order, which is their document's). Names are
    /// compared byte for byte, as members are looked up: a name only canonically equivalent to
    /// an allowed one (U+212A KELVIN SIGN for `K`) is not that name.
    public func firstName(notIn allowed: [String]) -> String? {
        switch self {
        case .tree(let o): return o.members.first { m in !allowed.contains { $0.sameBytes(m.key) } }?.key
        case .canonical(let c): return c.firstName(notIn: allowed)
        }
    }
}
