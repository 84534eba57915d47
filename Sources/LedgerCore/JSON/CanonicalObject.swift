import Foundation

/// A JSON object kept in canonical form (`JSONWriter.encode(_:sortedKeys: true)`): its members
/// in UTF-8 byte order of their names, members sorted at every depth, no white space, the
/// writer's escapes, number literals as written. The object is held as its canonical bytes, one
/// buffer, with a table of where each member's name and value are in it: a rule that reads a
/// member parses only that member, setting a member rewrites only its value's bytes, and
/// appending an item to a list member inserts only the item.
///
/// What the archive's fold keeps entity states in: encoding a state, which the fold does at each
/// state checkpoint, for every row it writes and for every state it puts away, hands over the
/// buffer, and unpacking a state put away keeps its bytes and reads the table from them (two
/// allocations for a state, whatever its member count).
public struct CanonicalObject: Sendable, Equatable {
    /// Equal when the canonical bytes are (Swift's `==` on names would also match canonically
    /// equivalent ones; canonical bytes are one spelling per object).
    public static func == (a: CanonicalObject, b: CanonicalObject) -> Bool { a.encoded == b.encoded }

    /// Where a member is in `encoded`. Offsets are 32-bit: a state is stored as one SQLite blob,
    /// which is at most 1,000,000,000 bytes.
    struct Slot: Sendable {
        /// The name's first eight UTF-8 bytes, big-endian, zeros after a shorter name
        /// (`orderPrefix`): two names whose prefixes differ are ordered by them, so a lookup
        /// compares whole names only with the member whose prefix equals its own.
        var order: UInt64
        /// The name's bytes between its quotes.
        var nameStart: Int32
        var nameEnd: Int32
        /// Just past the value, which starts after the name's closing quote and the colon.
        var valueEnd: Int32
        /// Whether the name is written with escapes (its bytes are then not its UTF-8).
        var escaped: Bool

        var valueStart: Int { Int(nameEnd) + 2 }
        var value: Range<Int> { valueStart..<Int(valueEnd) }

        mutating func shift(_ d: Int32) {
            nameStart += d
            nameEnd += d
            valueEnd += d
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

    /// The canonical bytes of the whole object.
    public private(set) var encoded: [UInt8]
    /// The members' places in `encoded`, in UTF-8 byte order of their names.
    private var slots: [Slot]

    public init() {
        encoded = [UInt8(ascii: "{"), UInt8(ascii: "}")]
        slots = []
    }

    /// The object of `members`, given in key order (UTF-8 byte order of their names, no name
    /// twice, no name that needs an escape: names are the program's own), each value its
    /// canonical bytes: written in one pass, each member after the last (setting them one by one
    /// would move the bytes after each).
    package init(sortedMembers members: [(key: StaticString, value: [UInt8])]) {
        // The braces, then for each member its name's quotes, a colon and a comma before it but
        // the first: one byte more than four for each, or two bytes when there is none.
        let count = members.isEmpty ? 2 : members.reduce(1) { $0 + 4 + $1.key.utf8CodeUnitCount + $1.value.count }
        var slots: [Slot] = []
        slots.reserveCapacity(members.count)
        let out = [UInt8](unsafeUninitializedCapacity: count) { o, written in
            var j = 0
            o[j] = UInt8(ascii: "{")
            j += 1
            for (n, m) in members.enumerated() {
                let name = UnsafeBufferPointer(start: m.key.utf8Start, count: m.key.utf8CodeUnitCount)
                precondition(!JSONWriter.needsEscape(name), "CanonicalObject: a name with an escape")
                if n > 0 {
                    let previous = members[n - 1].key
                    precondition(
                        Self.compare(UnsafeBufferPointer(start: previous.utf8Start, count: previous.utf8CodeUnitCount), name) < 0,
                        "CanonicalObject: members not in key order")
                    o[j] = UInt8(ascii: ",")
                    j += 1
                }
                o[j] = UInt8(ascii: "\"")
                let nameStart = j + 1
                _ = UnsafeMutableBufferPointer(rebasing: o[nameStart...]).initialize(fromContentsOf: name)
                let nameEnd = nameStart + name.count
                o[nameEnd] = UInt8(ascii: "\"")
                o[nameEnd + 1] = UInt8(ascii: ":")
                j = nameEnd + 2
                j += m.value.withUnsafeBufferPointer { UnsafeMutableBufferPointer(rebasing: o[j...]).initialize(fromContentsOf: $0) }
                slots.append(Self.plainSlot(UnsafeBufferPointer(o), name: nameStart..<nameEnd, valueEnd: j))
            }
            o[j] = UInt8(ascii: "}")
            written = j + 1
        }
        self.init(canonical: out, slots: slots)
    }

    /// Bytes already canonical, with their members' places (`init(validatingCanonical:)`).
    init(canonical bytes: [UInt8], slots: [Slot]) {
        precondition(bytes.count < Int32.max, "CanonicalObject: an object of 2 GiB or more")
        encoded = bytes
        self.slots = slots
    }

    /// The object `o` in canonical form (its members sorted, each value encoded canonically).
    public init(_ o: JSONObject) {
        self.init(trustingCanonical: JSONWriter.encode(.object(o), sortedKeys: true))
    }

    /// Takes bytes this type (or `Canonical.encode`) wrote: a canonical object. Trusting: the
    /// bytes are not validated, so only bytes kept in memory by the same process may come here
    /// (a state put away); bytes read from storage are parsed and checked first.
    package init(trustingCanonical bytes: [UInt8]) {
        precondition(bytes.count < Int32.max, "CanonicalObject: an object of 2 GiB or more")
        var slots: [Slot] = []
        slots.reserveCapacity(24)
        bytes.withUnsafeBufferPointer { b in
            precondition(b.count >= 2 && b[0] == UInt8(ascii: "{") && b[b.count - 1] == UInt8(ascii: "}"), "CanonicalObject: not an object")
            var pos = 1
            let end = b.count - 1
            while pos < end {
                let nameStart = pos + 1
                pos = Self.skip(b, from: pos)
                precondition(pos < end && b[pos] == UInt8(ascii: ":"), "CanonicalObject: no colon after a key")
                let nameEnd = pos - 1
                pos = Self.skip(b, from: pos + 1)
                slots.append(Self.slot(b, name: nameStart..<nameEnd, valueEnd: pos))
                if pos < end {
                    precondition(b[pos] == UInt8(ascii: ","), "CanonicalObject: no comma between members")
                    pos += 1
                }
            }
        }
        encoded = bytes
        self.slots = slots
    }

    /// Appends the canonical bytes of the whole object to `out`.
    public func write(into out: inout [UInt8]) { out.append(contentsOf: encoded) }

    /// The object as a tree, its members in key order.
    public var object: JSONObject {
        guard case .object(let o) = Self.parse(encoded) else { preconditionFailure("CanonicalObject: not an object") }
        return o
    }

    public var count: Int { slots.count }

    /// The members' names, in key order.
    public var keys: [String] { slots.indices.map(name) }

    /// Whether the object has a member `key`.
    public func contains(_ key: String) -> Bool { position(of: key).found }

    /// The canonical bytes of member `key`'s value.
    public func raw(_ key: String) -> [UInt8]? {
        let (i, found) = position(of: key)
        return found ? Array(encoded[slots[i].value]) : nil
    }

    /// Calls `body` with the object's bytes and the range of member `key`'s value in them
    /// (nothing is copied); nil when there is no such member.
    @inline(__always)
    public func withRaw<R>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>, Range<Int>) throws -> R) rethrows -> R? {
        let (i, found) = position(of: key)
        guard found else { return nil }
        let range = slots[i].value
        return try encoded.withUnsafeBufferPointer { try body($0, range) }
    }

    /// Member `key`'s value, parsed; setting encodes the new value (nil removes the member).
    public subscript(key: String) -> JSONValue? {
        get { withRaw(key) { b, r in Self.value(in: b, r) } }
        set { setRaw(key, newValue.map { JSONWriter.encode($0, sortedKeys: true) }) }
    }

    /// Member `key`'s value when it is a string. A canonical string without a backslash is its
    /// bytes between the quotes, read without the parser (the fold reads `status` this way for
    /// most events).
    public func string(_ key: String) -> String? {
        withRaw(key) { b, r in Self.string(in: b, r) } ?? nil
    }

    /// Whether member `key` is there with the canonical bytes `value` (`#""active""#` for the
    /// string `active`): canonical bytes are one spelling per value, so this is equality of the
    /// values, read without making a `String`.
    public func has(_ key: String, raw value: [UInt8]) -> Bool {
        withRaw(key) { b, r in value.withUnsafeBufferPointer { Self.compare(UnsafeBufferPointer(rebasing: b[r]), $0) == 0 } } ?? false
    }

    /// Sets member `key` to the canonical bytes `value` (nil removes it), keeping key order.
    public mutating func setRaw(_ key: String, _ value: [UInt8]?) {
        let (i, found) = position(of: key)
        switch (found, value) {
        case (true, let v?):
            let range = slots[i].value
            resize(range, to: v.count)
            copy(v, to: range.lowerBound)
            moved(from: i, by: v.count - range.count)
        case (true, nil): remove(at: i)
        case (false, let v?):
            copy(v, to: insertName(key, at: i, valueCount: v.count))
        case (false, nil): break
        }
    }

    /// Sets every member of `o` (replacing a member of the same name), as setting them one by one
    /// would: `o` in canonical form, merged as bytes.
    public mutating func merge(_ o: JSONObject) {
        guard !o.members.isEmpty else { return }
        merge(CanonicalObject(o))
    }

    /// Sets every member of `o` (replacing a member of the same name), from its canonical bytes,
    /// in one pass: each member of either object is copied as it is, in key order, and its place
    /// is moved with it (no value is encoded or scanned again; a registration copies its whole
    /// body into the new state).
    public mutating func merge(_ o: CanonicalObject) {
        guard !o.slots.isEmpty else { return }
        guard !slots.isEmpty else {
            self = o
            return
        }
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + o.encoded.count)
        out.append(UInt8(ascii: "{"))
        var merged: [Slot] = []
        merged.reserveCapacity(slots.count + o.slots.count)
        /// Copies member `slot` of `bytes`, its name's quote to its value's end.
        func copy(_ slot: Slot, of bytes: [UInt8]) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            var moved = slot
            moved.shift(Int32(out.count + 1) - slot.nameStart)
            out.append(contentsOf: bytes[(Int(slot.nameStart) - 1)..<Int(slot.valueEnd)])
            merged.append(moved)
        }
        var i = 0
        var j = 0
        while i < slots.count || j < o.slots.count {
            let order = i == slots.count ? 1 : j == o.slots.count ? -1 : compare(member: i, with: o, member: j)
            if order < 0 {
                copy(slots[i], of: encoded)
                i += 1
            } else {
                copy(o.slots[j], of: o.encoded)
                j += 1
                if order == 0 { i += 1 }
            }
        }
        out.append(UInt8(ascii: "}"))
        self = CanonicalObject(canonical: out, slots: merged)
    }

    /// Member `i`'s name against member `j`'s of `o`, in UTF-8 byte order: negative, zero or positive.
    private func compare(member i: Int, with o: CanonicalObject, member j: Int) -> Int {
        let (a, b) = (slots[i], o.slots[j])
        if a.order != b.order { return a.order < b.order ? -1 : 1 }
        if a.escaped || b.escaped {
            let (x, y) = (name(i), o.name(j))
            return x.sameBytes(y) ? 0 : JSONWriter.utf8Precedes(x, y) ? -1 : 1
        }
        return encoded.withUnsafeBufferPointer { x in
            o.encoded.withUnsafeBufferPointer { y in
                Self.compare(
                    UnsafeBufferPointer(rebasing: x[Int(a.nameStart)..<Int(a.nameEnd)]), UnsafeBufferPointer(rebasing: y[Int(b.nameStart)..<Int(b.nameEnd)]))
            }
        }
    }

    /// The canonical bytes of this object with member `key` set to the number `value` (an entry
    /// index): the object is not changed, and its bytes are copied once, with the member in its
    /// place (an item a list of a state gets: an event's body and the entry that recorded it).
    public func encoded(settingDigits value: UInt64, as key: String) -> [UInt8] {
        let (i, found) = position(of: key)
        guard !found else {
            var copy = self
            copy.setDigits(key, value)
            return copy.encoded
        }
        let at = i == slots.count ? encoded.count - 1 : Int(slots[i].nameStart) - 1
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count + key.utf8.count + 24)
        out.append(contentsOf: encoded[..<at])
        if !slots.isEmpty, i == slots.count { out.append(UInt8(ascii: ",")) }
        JSONWriter.writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.appendDigits(value, to: &out)
        if i < slots.count { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: encoded[at...])
        return out
    }

    /// The first member name, in key order, that `allowed` does not hold; nil when it holds them all.
    public func firstName(notIn allowed: [String]) -> String? {
        encoded.withUnsafeBufferPointer { b in
            for i in slots.indices {
                let s = slots[i]
                if s.escaped {
                    let n = name(i)
                    if !allowed.contains(where: { $0.sameBytes(n) }) { return n }
                    continue
                }
                let n = UnsafeBufferPointer(rebasing: b[Int(s.nameStart)..<Int(s.nameEnd)])
                if !allowed.contains(where: { a in Self.withUTF8(a) { Self.compare($0, n) == 0 } }) { return name(i) }
            }
            return nil
        }
    }

    /// Member `i`'s name against `key`, whose UTF-8 bytes are `k`, in UTF-8 byte order:
    /// negative, zero or positive. A name written with escapes is compared by its parsed form.
    @inline(__always)
    private func compare(member i: Int, _ key: String, utf8 k: UnsafeBufferPointer<UInt8>) -> Int {
        let s = slots[i]
        if s.escaped {
            let n = name(i)
            return n.sameBytes(key) ? 0 : JSONWriter.utf8Precedes(n, key) ? -1 : 1
        }
        return encoded.withUnsafeBufferPointer { b in Self.compare(UnsafeBufferPointer(rebasing: b[Int(s.nameStart)..<Int(s.nameEnd)]), k) }
    }

    /// Calls `body` with the UTF-8 bytes of `s`, copied only when the string does not hold them
    /// contiguously.
    @inline(__always)
    private static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(s.utf8).withUnsafeBufferPointer(body)
    }

    /// Sets member `key` to the number `value` (an entry index), writing its digits in place
    /// (the fold sets `updated` for every event).
    public mutating func setDigits(_ key: String, _ value: UInt64) {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        let (i, found) = position(of: key)
        let start: Int
        if found {
            let range = slots[i].value
            if range.count != count {
                resize(range, to: count)
                moved(from: i, by: count - range.count)
            }
            start = range.lowerBound
        } else {
            start = insertName(key, at: i, valueCount: count)
        }
        encoded.withUnsafeMutableBufferPointer { o in
            var v = value
            for j in stride(from: start + count - 1, through: start, by: -1) {
                o[j] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            }
        }
    }

    /// Appends an item, given as its canonical bytes, to the list member `key` (made `[item]`
    /// when the object has no such member, or when the member is not a list).
    public mutating func append(_ item: [UInt8], toList key: String) {
        let (i, found) = position(of: key)
        guard found, Self.isList(encoded, slots[i].value) else {
            setRaw(key, [UInt8(ascii: "[")] + item + [UInt8(ascii: "]")])
            return
        }
        let range = slots[i].value
        let comma = range.count > 2
        let at = range.upperBound - 1
        let n = item.count + (comma ? 1 : 0)
        resize(at..<at, to: n)
        if comma { encoded[at] = UInt8(ascii: ",") }
        copy(item, to: at + n - item.count)
        moved(from: i, by: n)
    }

    /// Member `i`'s value changed length by `d`: its end and every later member move.
    private mutating func moved(from i: Int, by d: Int) {
        guard d != 0 else { return }
        let d = Int32(d)
        precondition(encoded.count < Int32.max, "CanonicalObject: an object of 2 GiB or more")
        slots.withUnsafeMutableBufferPointer { s in
            s[i].valueEnd += d
            for j in (i + 1)..<s.count { s[j].shift(d) }
        }
    }

    /// Removes member `i` with the comma that separated it from its neighbour.
    private mutating func remove(at i: Int) {
        var start = Int(slots[i].nameStart) - 1
        var end = Int(slots[i].valueEnd)
        if i > 0 { start -= 1 } else if slots.count > 1 { end += 1 }
        encoded.removeSubrange(start..<end)
        slots.remove(at: i)
        let d = Int32(start - end)
        slots.withUnsafeMutableBufferPointer { s in for j in i..<s.count { s[j].shift(d) } }
    }

    /// Inserts member `key` as member `i`, its name, colon and a value of `valueCount` bytes
    /// still to be written, with a comma between it and a neighbour; where the value goes.
    private mutating func insertName(_ key: String, at i: Int, valueCount: Int) -> Int {
        var escapedName: [UInt8] = []
        let escaped = key.utf8.withContiguousStorageIfAvailable(JSONWriter.needsEscape) ?? true
        if escaped { JSONWriter.writeString(key, into: &escapedName) }
        let nameCount = escaped ? escapedName.count : key.utf8.count + 2
        // Before member i (and a comma after), after the last member (a comma before), or alone.
        let leading = i == slots.count && !slots.isEmpty
        let trailing = i < slots.count
        let at = trailing ? Int(slots[i].nameStart) - 1 : encoded.count - 1
        let n = nameCount + 1 + valueCount + (leading || trailing ? 1 : 0)
        precondition(encoded.count + n < Int32.max, "CanonicalObject: an object of 2 GiB or more")
        resize(at..<at, to: n)
        let nameAt = at + (leading ? 1 : 0)
        if escaped {
            copy(escapedName, to: nameAt)
        } else {
            encoded[nameAt] = UInt8(ascii: "\"")
            copy(key.utf8, to: nameAt + 1)
            encoded[nameAt + nameCount - 1] = UInt8(ascii: "\"")
        }
        encoded[nameAt + nameCount] = UInt8(ascii: ":")
        if leading { encoded[at] = UInt8(ascii: ",") }
        if trailing { encoded[at + n - 1] = UInt8(ascii: ",") }
        let nameEnd = nameAt + nameCount - 1
        let slot = Slot(
            order: Self.orderPrefix(key), nameStart: Int32(nameAt + 1), nameEnd: Int32(nameEnd), valueEnd: Int32(nameEnd + 2 + valueCount), escaped: escaped)
        let d = Int32(n)
        slots.withUnsafeMutableBufferPointer { s in for j in i..<s.count { s[j].shift(d) } }
        slots.insert(slot, at: i)
        return nameEnd + 2
    }

    /// Makes the bytes at `range` of `encoded` `count` long, moving what follows; the bytes in
    /// the new range are left for the caller to write.
    private mutating func resize(_ range: Range<Int>, to count: Int) {
        let d = count - range.count
        let tail = encoded.count - range.upperBound
        guard d != 0 else { return }
        if d > 0 {
            if d <= Self.zeros.count {
                Self.zeros.withUnsafeBufferPointer { encoded.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<d])) }
            } else {
                encoded.append(contentsOf: repeatElement(0, count: d))
            }
        }
        encoded.withUnsafeMutableBytes { o in
            guard let p = o.baseAddress else { return }
            (p + range.upperBound + d).copyMemory(from: p + range.upperBound, byteCount: tail)
        }
        if d < 0 { encoded.removeLast(-d) }
    }

    /// Room for `resize` to append in one copy.
    private static let zeros = [UInt8](repeating: 0, count: 1024)

    /// Writes `bytes` into `encoded` from `at` (the room is there already).
    private mutating func copy(_ bytes: some Collection<UInt8>, to at: Int) {
        encoded.withUnsafeMutableBufferPointer { o in
            let done: Void? = bytes.withContiguousStorageIfAvailable { b in
                guard let src = b.baseAddress, let dst = o.baseAddress else { return }
                (dst + at).update(from: src, count: b.count)
            }
            if done == nil { for (j, c) in bytes.enumerated() { o[at + j] = c } }
        }
    }

    /// Member `i`'s name.
    private func name(_ i: Int) -> String {
        let s = slots[i]
        return encoded.withUnsafeBufferPointer { b in
            if !s.escaped { return String(decoding: UnsafeBufferPointer(rebasing: b[Int(s.nameStart)..<Int(s.nameEnd)]), as: UTF8.self) }
            guard case .string(let name) = Self.parse(Array(b[(Int(s.nameStart) - 1)...Int(s.nameEnd)])) else {
                preconditionFailure("CanonicalObject: a key is not a string")
            }
            return name
        }
    }

    static func orderPrefix(_ key: String) -> UInt64 { withUTF8(key) { orderPrefix($0) } }

    /// Whether the value at `range` of canonical bytes is a list.
    static func isList(_ b: [UInt8], _ range: Range<Int>) -> Bool {
        range.count >= 2 && b[range.lowerBound] == UInt8(ascii: "[") && b[range.upperBound - 1] == UInt8(ascii: "]")
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
        return parse(b, range).stringValue
    }

    /// The value at `range` of the canonical bytes `b`, parsed where it is (nothing copied): a
    /// string without a backslash, a number (its literal, as canonical bytes keep it), `true`,
    /// `false` and `null` are read without the parser.
    static func value(in b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> JSONValue {
        switch b[range.lowerBound] {
        case UInt8(ascii: "\""):
            let inner = b[(range.lowerBound + 1)..<(range.upperBound - 1)]
            if !inner.contains(UInt8(ascii: "\\")) { return .string(String(decoding: inner, as: UTF8.self)) }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(String(decoding: b[range], as: UTF8.self))
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "n"): return .null
        default: break
        }
        return parse(b, range)
    }

    /// Calls `body` with each item of the canonical list `b` (trusting) and, when the item is an
    /// object, the byte range of its member `key`'s value (nil: no such member, or not an
    /// object), until `body` returns true; whether it did. One pass over the bytes
    /// (`itemRanges` and then `memberRange` on each item walk them twice). `key` is the member
    /// name's canonical bytes, quotes included.
    package static func firstItem(
        ofList b: UnsafeBufferPointer<UInt8>, member key: [UInt8], where body: (_ item: Range<Int>, _ value: Range<Int>?) -> Bool
    ) -> Bool {
        firstItem(in: b, list: 0..<b.count, member: key, where: body)
    }

    /// `firstItem(ofList:member:where:)` for the list at `list` of `b`.
    package static func firstItem(
        in b: UnsafeBufferPointer<UInt8>, list: Range<Int>, member key: [UInt8], where body: (_ item: Range<Int>, _ value: Range<Int>?) -> Bool
    ) -> Bool {
        guard list.count >= 2, list.upperBound <= b.count, b[list.lowerBound] == UInt8(ascii: "["), b[list.upperBound - 1] == UInt8(ascii: "]") else {
            return false
        }
        let end = list.upperBound - 1
        var pos = list.lowerBound + 1
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
    @inline(__always)
    private func position(of key: String) -> (index: Int, found: Bool) { Self.withUTF8(key) { position(of: key, utf8: $0) } }

    private func position(of key: String, utf8 k: UnsafeBufferPointer<UInt8>) -> (index: Int, found: Bool) {
        let order = Self.orderPrefix(k)
        return slots.withUnsafeBufferPointer { s in
            var lo = 0
            var hi = s.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let m = s[mid].order
                if m != order {
                    if m < order { lo = mid + 1 } else { hi = mid }
                    continue
                }
                let c = compare(member: mid, key, utf8: k)
                if c == 0 { return (mid, true) }
                if c < 0 { lo = mid + 1 } else { hi = mid }
            }
            return (lo, false)
        }
    }

    /// Byte order of two byte strings: negative, zero or positive.
    @inline(__always)
    private static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    /// Parses canonical bytes this type holds: they cannot fail unless memory is damaged.
    public static func parse(_ bytes: [UInt8]) -> JSONValue { bytes.withUnsafeBufferPointer { parse($0, 0..<$0.count) } }

    /// `parse` of the canonical bytes at `range` of `b`, where they are.
    private static func parse(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> JSONValue {
        do {
            return try JSONParser.parse(
                UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[range])), limits: JSONParser.Limits(maxBytes: Int.max, maxDepth: 1024, requireNFC: false)
            )
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

    /// The place of the member whose name's bytes (between the quotes) are at `name` of `b` and
    /// whose value ends at `valueEnd`: the order prefix is read from a name without escapes, and
    /// from the parsed name otherwise.
    private static func slot(_ b: UnsafeBufferPointer<UInt8>, name: Range<Int>, valueEnd: Int) -> Slot {
        let inner = UnsafeBufferPointer(rebasing: b[name])
        let escaped = inner.contains(UInt8(ascii: "\\"))
        let order: UInt64
        if escaped {
            guard case .string(let n) = parse(Array(b[(name.lowerBound - 1)...name.upperBound])) else {
                preconditionFailure("CanonicalObject: a key is not a string")
            }
            order = orderPrefix(n)
        } else {
            order = orderPrefix(inner)
        }
        return Slot(order: order, nameStart: Int32(name.lowerBound), nameEnd: Int32(name.upperBound), valueEnd: Int32(valueEnd), escaped: escaped)
    }

    /// A member place for `init(validatingCanonical:)`, whose names have no escapes.
    static func plainSlot(_ b: UnsafeBufferPointer<UInt8>, name: Range<Int>, valueEnd: Int) -> Slot {
        Slot(
            order: orderPrefix(UnsafeBufferPointer(rebasing: b[name])), nameStart: Int32(name.lowerBound), nameEnd: Int32(name.upperBound),
            valueEnd: Int32(valueEnd), escaped: false)
    }
}
