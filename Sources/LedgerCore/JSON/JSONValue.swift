#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A parsed JSON value. Numbers keep their literal text so nothing is lost or re-rounded.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, validated against RFC 8259's grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The object, when this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The array, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The value as a non-negative integer that fits in 53 bits (exact in every JSON reader);
    /// nil for fractions, exponents, signs or larger values.
    public var unsignedIntegerValue: UInt64? {
        guard case .number(let text) = self, !text.isEmpty, text.utf8.count <= 16 else { return nil }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        guard let v = UInt64(text), v <= (1 << 53) - 1 else { return nil }
        return v
    }

    /// A short name of the value's kind, for error messages.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A JSON object that keeps its members in document order; keys are unique.
public struct JSONObject: Sendable, Equatable {
    /// Members in document order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// An empty object.
    public init() { members = [] }

    /// Builds an object from members; the caller guarantees unique keys.
    public init(uniqueMembers: [(key: String, value: JSONValue)]) { members = uniqueMembers }

    /// The member named `key`.
    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key.sameBytes(key) { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key.sameBytes(key) }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// Keys in document order.
    public var keys: [String] { members.map(\.key) }

    /// Number of members.
    public var count: Int { members.count }

    /// True when the members are in UTF-8 byte order of their keys (the canonical order).
    public var isInKeyOrder: Bool {
        var i = 1
        while i < members.count {
            guard JSONWriter.utf8Precedes(members[i - 1].key, members[i].key) else { return false }
            i += 1
        }
        return true
    }

    /// Puts the members in UTF-8 byte order of their keys, unless they already are (this
    /// object only, not nested ones). The canonical encoder then writes them without sorting.
    public mutating func sortKeys() {
        guard !isInKeyOrder else { return }
        members.sort { JSONWriter.utf8Precedes($0.key, $1.key) }
    }

    /// Sets `key` as the subscript does, but a new member goes before the first member whose key
    /// follows it in UTF-8 byte order, so that an object in key order stays in key order.
    public mutating func setInKeyOrder(_ key: String, _ value: JSONValue) {
        var i = 0
        while i < members.count {
            let k = members[i].key
            if k.sameBytes(key) {
                members[i].value = value
                return
            }
            if JSONWriter.utf8Precedes(key, k) { break }
            i += 1
        }
        members.insert((key, value), at: i)
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (a, b) in zip(lhs.members, rhs.members) where a.key != b.key || a.value != b.value { return false }
        return true
    }
}

extension JSONValue {
    /// The same value with every string and member name in Unicode NFC. Nil when two member
    /// names of one object become equal after normalisation (the caller reports it).
    public func nfcNormalized() -> JSONValue? {
        switch self {
        case .string(let s): return .string(NFC.normalize(s))
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard let n = item.nfcNormalized() else { return nil }
                out.append(n)
            }
            return .array(out)
        case .object(let o):
            var members: [(key: String, value: JSONValue)] = []
            var seen = Set<String>()
            for m in o.members {
                let key = NFC.normalize(m.key)
                guard seen.insert(key).inserted, let value = m.value.nfcNormalized() else { return nil }
                members.append((key, value))
            }
            return .object(JSONObject(uniqueMembers: members))
        default: return self
        }
    }
}

extension String {
    /// Byte-for-byte equality of the UTF-8 forms. Swift's `==` treats canonically equivalent
    /// strings as equal (K and U+212A KELVIN SIGN), which a verifier must not; object members
    /// are looked up by their exact bytes too. Compares lengths first, then the bytes.
    @inline(__always)
    public func sameBytes(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        let fast = utf8.withContiguousStorageIfAvailable { x in
            other.utf8.withContiguousStorageIfAvailable { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
        if let r = fast ?? nil { return r }
        return utf8.elementsEqual(other.utf8)
    }

    /// True when every UTF-8 byte satisfies `test`; a loop over the contiguous bytes (native
    /// strings are), not over `UTF8View`'s index machinery.
    @inline(__always)
    public func allUTF8(_ test: (UInt8) -> Bool) -> Bool {
        if let r = utf8.withContiguousStorageIfAvailable({ b in
            for c in b where !test(c) { return false }
            return true
        }) {
            return r
        }
        return utf8.allSatisfy(test)
    }
}
