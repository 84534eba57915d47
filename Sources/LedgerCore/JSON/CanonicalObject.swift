/// A JSON object kept in canonical form (`JSONWriter.encode(_:sortedKeys: true)`): its members
/// in UTF-8 byte order of their names, each value held as its own canonical bytes (members
/// sorted at every depth, no white space, the writer's escapes, number literals as written).
/// The whole object's bytes are the members' joined; a rule that reads a member parses only that
/// member, and appending an item to a list member writes only the item.
///
/// What the archive's fold keeps entity states in: encoding a state, which the fold does at each
/// state checkpoint, for every row it writes and for every state it puts away, is a copy instead
/// of a walk over a tree.
public struct CanonicalObject: Sendable, Equatable {
    /// Equal when the members have the same key bytes and value bytes (Swift's `==` on the keys
    /// would also match canonically equivalent names).
    public static func == (a: CanonicalObject, b: CanonicalObject) -> Bool {
        a.members.count == b.members.count && zip(a.members, b.members).allSatisfy { $0.key.sameBytes($1.key) && $0.value == $1.value }
    }

    public struct Member: Sendable, Equatable {
        public let key: String
        /// The value's canonical bytes.
        public fileprivate(set) var value: [UInt8]
        /// The key's first eight UTF-8 bytes, big-endian, zeros after a shorter key
        /// (`orderPrefix`): two keys whose prefixes differ are ordered by them, so a lookup
        /// compares whole keys only with the member whose prefix equals its own.
        let order: UInt64

        /// Equal names (as `String`s) and value bytes; `order` follows from the name.
        public static func == (a: Member, b: Member) -> Bool { a.key == b.key && a.value == b.value }

        /// A member whose value bytes are canonical already.
        init(_ key: String, canonical value: [UInt8]) {
            self.key = key
            self.value = value
            order = CanonicalObject.orderPrefix(key)
        }

        /// A member whose key's UTF-8 bytes are `keyBytes` (so its prefix is read from them).
        init(_ key: String, keyBytes: UnsafeBufferPointer<UInt8>, canonical value: [UInt8]) {
            self.key = key
            self.value = value
            order = CanonicalObject.orderPrefix(keyBytes)
        }
    }

    /// The first eight bytes of `bytes` as a big-endian number, zeros after a shorter run. For
    /// two byte strings whose prefixes differ, the smaller prefix belongs to the string first in
    /// byte order: the first byte where the prefixes differ is either a byte of both (which
    /// decides) or a padding zero against a nonzero byte of the longer, which it is a prefix of.
    /// Equal prefixes decide nothing (`"a"` and `"a\u0000"`).
    @inline(__always)
    static func orderPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let p = bytes.baseAddress else { return 0 }
        if bytes.count >= 8 { return UInt64(bigEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)) }
        var x: UInt64 = 0
        for i in 0..<bytes.count { x |= UInt64(p[i]) << (56 - 8 * i) }
        return x
    }

    static func orderPrefix(_ key: String) -> UInt64 {
        if let x = key.utf8.withContiguousStorageIfAvailable({ orderPrefix($0) }) { return x }
        var x: UInt64 = 0
        for (i, c) in key.utf8.prefix(8).enumerated() { x |= UInt64(c) << (56 - 8 * i) }
        return x
    }

    /// Members in UTF-8 byte order of their keys.
    public private(set) var members: [Member]

    public init() { members = [] }

    /// Members already in key order with canonical values (`init(validatingCanonical:)`).
    init(members: [Member]) { self.members = members }

    /// The object `o` in canonical form (its members sorted, each value encoded canonically).
    public init(_ o: JSONObject) {
        members = o.members.map { Member($0.key, canonical: JSONWriter.encode($0.value, sortedKeys: true)) }
        if !o.isInKeyOrder { members.sort { JSONWriter.utf8Precedes($0.key, $1.key) } }
    }

    /// Splits bytes this type (or `Canonical.encode`) wrote: a canonical object. Trusting: the
    /// bytes are not validated, so only bytes kept in memory by the same process may come here
    /// (a state put away); bytes read from storage are parsed and checked first.
    package init(trustingCanonical bytes: [UInt8]) {
        members = []
        bytes.withUnsafeBufferPointer { b in
            precondition(b.count >= 2 && b[0] == UInt8(ascii: "{") && b[b.count - 1] == UInt8(ascii: "}"), "CanonicalObject: not an object")
            var pos = 1
            let end = b.count - 1
            while pos < end {
                let keyStart = pos
                pos = Self.skip(b, from: pos)
                precondition(pos < end && b[pos] == UInt8(ascii: ":"), "CanonicalObject: no colon after a key")
                let key = keyStart..<pos
                pos += 1
                let valueStart = pos
                pos = Self.skip(b, from: pos)
                members.append(Self.member(b, key: key, value: Array(b[valueStart..<pos])))
                if pos < end {
                    precondition(b[pos] == UInt8(ascii: ","), "CanonicalObject: no comma between members")
                    pos += 1
                }
            }
        }
    }

    /// The canonical bytes of the whole object.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(members.reduce(2) { $0 + $1.key.utf8.count + $1.value.count + 4 })
        write(into: &out)
        return out
    }

    /// Appends the canonical bytes of the whole object to `out`.
    public func write(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for i in members.indices {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(members[i].key, into: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: members[i].value)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The object as a tree, its members in key order.
    public var object: JSONObject {
        JSONObject(uniqueMembers: members.map { ($0.key, Self.parse($0.value)) })
    }

    public var count: Int { members.count }

    /// Whether the object has a member `key`.
    public func contains(_ key: String) -> Bool { position(of: key).found }

    /// The canonical bytes of member `key`'s value.
    public func raw(_ key: String) -> [UInt8]? {
        let (i, found) = position(of: key)
        return found ? members[i].value : nil
    }

    /// Member `key`'s value, parsed; setting encodes the new value (nil removes the member).
    public subscript(key: String) -> JSONValue? {
        get { raw(key).map(Self.parse) }
        set { setRaw(key, newValue.map { JSONWriter.encode($0, sortedKeys: true) }) }
    }

    /// Member `key`'s value when it is a string. A canonical string without a backslash is its
    /// bytes between the quotes, read without the parser (the fold reads `status` this way for
    /// most events).
    public func string(_ key: String) -> String? {
        guard let r = raw(key) else { return nil }
        return r.withUnsafeBufferPointer { Self.string(in: $0, 0..<$0.count) }
    }

    /// Whether member `key` is there with the canonical bytes `value` (`#""active""#` for the
    /// string `active`): canonical bytes are one spelling per value, so this is equality of the
    /// values, read without making a `String`.
    public func has(_ key: String, raw value: [UInt8]) -> Bool {
        let (i, found) = position(of: key)
        return found && members[i].value == value
    }

    /// Sets member `key` to the canonical bytes `value` (nil removes it), keeping key order.
    public mutating func setRaw(_ key: String, _ value: [UInt8]?) {
        let (i, found) = position(of: key)
        switch (found, value) {
        case (true, let v?): members[i].value = v
        case (true, nil): members.remove(at: i)
        case (false, let v?): members.insert(Member(key, canonical: v), at: i)
        case (false, nil): break
        }
    }

    /// Sets member `key` to the number `value` (an entry index), writing its digits into the
    /// member's own buffer when it has one (the fold sets `updated` for every event).
    public mutating func setDigits(_ key: String, _ value: UInt64) {
        let (i, found) = position(of: key)
        guard found else {
            members.insert(Member(key, canonical: JSONWriter.digits(value)), at: i)
            return
        }
        members[i].value.removeAll(keepingCapacity: true)
        JSONWriter.appendDigits(value, to: &members[i].value)
    }

    /// Appends an item, given as its canonical bytes, to the list member `key` (made `[item]`
    /// when the object has no such member, or when the member is not a list).
    public mutating func append(_ item: [UInt8], toList key: String) {
        let (i, found) = position(of: key)
        guard found, Self.isList(members[i].value) else {
            setRaw(key, [UInt8(ascii: "[")] + item + [UInt8(ascii: "]")])
            return
        }
        members[i].value.removeLast()
        if members[i].value.count > 1 { members[i].value.append(UInt8(ascii: ",")) }
        members[i].value.append(contentsOf: item)
        members[i].value.append(UInt8(ascii: "]"))
    }

    /// Whether canonical bytes are a list.
    public static func isList(_ value: [UInt8]) -> Bool { value.count >= 2 && value[0] == UInt8(ascii: "[") && value[value.count - 1] == UInt8(ascii: "]") }

    /// The byte ranges of the items of the canonical list `b` (trusting, as
    /// `init(trustingCanonical:)`); none when `b` is not a list.
    package static func itemRanges(ofList b: UnsafeBufferPointer<UInt8>) -> [Range<Int>] { itemRanges(in: b, list: 0..<b.count) }

    /// The byte ranges of the items of the canonical list at `list` of `b` (trusting); none when
    /// the value there is not a list.
    package static func itemRanges(in b: UnsafeBufferPointer<UInt8>, list: Range<Int>) -> [Range<Int>] {
        guard list.count >= 2, list.upperBound <= b.count, b[list.lowerBound] == UInt8(ascii: "["), b[list.upperBound - 1] == UInt8(ascii: "]") else {
            return []
        }
        var out: [Range<Int>] = []
        var pos = list.lowerBound + 1
        while pos < list.upperBound - 1 {
            let start = pos
            pos = skip(b, from: pos)
            out.append(start..<pos)
            if pos < list.upperBound, b[pos] == UInt8(ascii: ",") { pos += 1 }
        }
        return out
    }

    /// The value at `range` of the canonical bytes `b` when it is a string (nil: another kind of
    /// value). A string without a backslash is read from its bytes, without the parser.
    package static func string(in b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard range.count >= 2, b[range.lowerBound] == UInt8(ascii: "\""), b[range.upperBound - 1] == UInt8(ascii: "\"") else { return nil }
        let inner = b[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return parse(Array(b[range])).stringValue
    }

    /// Calls `body` with each item of the canonical list `b` (trusting) and, when the item is an
    /// object, the byte range of its member `key`'s value (nil: no such member, or not an
    /// object), until `body` returns true; whether it did. One pass over the bytes
    /// (`itemRanges` and then `memberRange` on each item walk them twice). `key` is the member
    /// name's canonical bytes, quotes included.
    package static func firstItem(
        ofList b: UnsafeBufferPointer<UInt8>, member key: [UInt8], where body: (_ item: Range<Int>, _ value: Range<Int>?) -> Bool
    ) -> Bool {
        guard b.count >= 2, b[0] == UInt8(ascii: "["), b[b.count - 1] == UInt8(ascii: "]") else { return false }
        let end = b.count - 1
        var pos = 1
        while pos < end {
            let start = pos
            var found: Range<Int>? = nil
            if b[pos] == UInt8(ascii: "{") {
                pos += 1
                while pos < end, b[pos] != UInt8(ascii: "}") {
                    let value = readMember(b, at: &pos, matching: key)
                    if found == nil { found = value }
                    if b[pos] == UInt8(ascii: ",") { pos += 1 }
                }
                pos += 1  // the closing brace
            } else {
                pos = skip(b, from: pos)
            }
            if body(start..<pos, found) { return true }
            if pos < end, b[pos] == UInt8(ascii: ",") { pos += 1 }
        }
        return false
    }

    /// The byte range of member `key`'s value in the canonical object at `object` of `b`
    /// (trusting); `key` is the member name's canonical bytes, quotes included.
    package static func memberRange(_ key: [UInt8], in b: UnsafeBufferPointer<UInt8>, object: Range<Int>) -> Range<Int>? {
        guard object.count >= 2, object.upperBound <= b.count, b[object.lowerBound] == UInt8(ascii: "{") else { return nil }
        var pos = object.lowerBound + 1
        while pos < object.upperBound - 1 {
            if let value = readMember(b, at: &pos, matching: key) { return value }
            if pos < b.count, b[pos] == UInt8(ascii: ",") { pos += 1 }
        }
        return nil
    }

    /// Reads the member (name, colon, value) at `pos`, moving past it: the value's range when the
    /// name's canonical bytes are `key`.
    @inline(__always)
    private static func readMember(_ b: UnsafeBufferPointer<UInt8>, at pos: inout Int, matching key: [UInt8]) -> Range<Int>? {
        let keyStart = pos
        pos = skip(b, from: pos)
        let matches = b[keyStart..<pos].elementsEqual(key)
        pos += 1  // the colon
        let valueStart = pos
        pos = skip(b, from: pos)
        return matches ? valueStart..<pos : nil
    }

    /// Where member `key` is, or where it would go.
    private func position(of key: String) -> (index: Int, found: Bool) {
        let order = Self.orderPrefix(key)
        var lo = 0
        var hi = members.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let m = members[mid].order
            if m != order {
                if m < order { lo = mid + 1 } else { hi = mid }
                continue
            }
            let k = members[mid].key
            if k.sameBytes(key) { return (mid, true) }
            if JSONWriter.utf8Precedes(k, key) { lo = mid + 1 } else { hi = mid }
        }
        return (lo, false)
    }

    /// Parses canonical bytes this type holds: they cannot fail unless memory is damaged.
    public static func parse(_ bytes: [UInt8]) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, limits: JSONParser.Limits(maxBytes: Int.max, maxDepth: 1024, requireNFC: false))
        } catch {
            preconditionFailure("CanonicalObject: a member's bytes do not parse (\(error))")
        }
    }

    /// The index just past the JSON value (or key) that starts at `pos`.
    private static func skip(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var pos = start
        var depth = 0
        repeat {
            precondition(pos < b.count, "CanonicalObject: a value runs past the end")
            switch b[pos] {
            case UInt8(ascii: "\""):
                pos += 1
                // Eight bytes at a time up to the first quote or backslash, then byte by byte.
                if let base = b.baseAddress {
                    while pos + 8 <= b.count {
                        let x = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                        let stops = TokenTable.zeroBytes(x ^ 0x2222_2222_2222_2222) | TokenTable.zeroBytes(x ^ 0x5C5C_5C5C_5C5C_5C5C)
                        if stops != 0 {
                            pos += stops.trailingZeroBitCount >> 3
                            break
                        }
                        pos += 8
                    }
                }
                while pos < b.count, b[pos] != UInt8(ascii: "\"") { pos += b[pos] == UInt8(ascii: "\\") ? 2 : 1 }
                pos += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                pos += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                pos += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                pos += 1
            default:
                // A number, true, false or null: up to the next delimiter.
                while pos < b.count, !Self.isDelimiter(b[pos]) { pos += 1 }
            }
        } while depth > 0
        return pos
    }

    private static func isDelimiter(_ c: UInt8) -> Bool {
        c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == UInt8(ascii: ":")
    }

    /// The member named by the canonical string at `key` of `b`, with the value `value`: a name
    /// without escapes is its bytes between the quotes (and its order prefix is read from them);
    /// an escaped one is parsed.
    private static func member(_ b: UnsafeBufferPointer<UInt8>, key range: Range<Int>, value: [UInt8]) -> Member {
        let inner = UnsafeBufferPointer(rebasing: b[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return Member(String(decoding: inner, as: UTF8.self), keyBytes: inner, canonical: value) }
        guard case .string(let name) = parse(Array(b[range])) else { preconditionFailure("CanonicalObject: a key is not a string") }
        return Member(name, canonical: value)
    }
}
