import LedgerCore
import Testing

/// `CanonicalObject` against the tree it stands for: every operation must give the bytes that
/// `JSONWriter.encode(_:sortedKeys: true)` (`Canonical.encode`) gives for the same change made to a `JSONObject`.
@Suite("Canonical objects")
struct CanonicalObjectTests {
    /// Random values with the spellings canonical form must keep or change: keys out of order,
    /// escapes, non-ASCII and control characters, number literals written several ways, nesting.
    struct Maker {
        var rng = SplitMix64(seed: 0x5EED)
        /// With names that share their first eight bytes, or differ only past them or by a
        /// trailing NUL (a lookup orders members by their first eight bytes first).
        static let keys = [
            "a", "b", "entry", "é", "Z", "aa", "source", "stance", "x\"y", "tab\t", "ünï", "perpetrator", "0", "casualties", "casualtyReports",
            "casualtyReportsX", "\u{0}", "a\u{0}", "a\u{0}b", "aaaaaaa", "aaaaaaaa", "aaaaaaaab", "ünïcodeé", "ünïcodeéé",
        ]
        static let texts = ["", "plain", "quote\"in", "back\\slash", "new\nline", "\u{01}ctl", "é", "e\u{301}", "😀", "source:s1", "\u{7F}"]
        static let numbers = ["0", "-0", "1", "35.10", "3.51e1", "1E+2", "-12.5", "9007199254740991"]

        mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }

        mutating func value(depth: Int) -> JSONValue {
            switch rng.next() % (depth > 2 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(rng.next() % 2 == 0)
            case 2: return .number(pick(Self.numbers))
            case 3: return .string(pick(Self.texts))
            case 4: return .array((0..<Int(rng.next() % 4)).map { _ in value(depth: depth + 1) })
            default: return .object(object(depth: depth + 1))
            }
        }

        mutating func object(depth: Int) -> JSONObject {
            var o = JSONObject()
            for _ in 0..<Int(rng.next() % 6) { o[pick(Self.keys)] = value(depth: depth) }
            return o
        }
    }

    @Test("bytes, splitting, reads, sets, removals and list appends agree with the tree and its canonical encoding")
    func agreesWithTrees() throws {
        var m = Maker()
        for _ in 0..<2_000 {
            var tree = m.object(depth: 0)
            var c = CanonicalObject(tree)
            #expect(c.encoded == JSONWriter.encode(.object(tree), sortedKeys: true))
            #expect(CanonicalObject(trustingCanonical: c.encoded) == c)
            #expect(c.object == JSONObject(uniqueMembers: tree.members.sorted { JSONWriter.utf8Precedes($0.key, $1.key) }).sortedDeep)
            for _ in 0..<4 {
                let key = m.pick(Maker.keys)
                #expect(c[key].map { JSONWriter.encode($0, sortedKeys: true) } == tree[key].map { JSONWriter.encode($0, sortedKeys: true) })
                // The bytes with an entry index set, the object unchanged; the first name outside a list.
                let n = m.rng.next() >> (m.rng.next() % 64)
                var withIndex = tree
                withIndex[key] = .number(String(n))
                #expect(c.encoded(settingDigits: n, as: key) == JSONWriter.encode(.object(withIndex), sortedKeys: true))
                let allowed = (0..<Int(m.rng.next() % 8)).map { _ in m.pick(Maker.keys) }
                #expect(c.firstName(notIn: allowed) == c.keys.first { !allowed.contains($0) })
                switch m.rng.next() % 6 {
                case 4, 5:
                    // A whole object's members set at once, as one by one: from a tree, or from
                    // another canonical object's bytes.
                    let o = m.object(depth: 1)
                    if m.rng.next() % 2 == 0 { c.merge(o) } else { c.merge(CanonicalObject(o)) }
                    for member in o.members { tree[member.key] = member.value }
                case 3:
                    // An entry index: digits written in place, longer or shorter than the value there.
                    let n = m.rng.next() >> (m.rng.next() % 64)
                    c.setDigits(key, n)
                    tree[key] = .number(String(n))
                case 0:
                    let v = m.value(depth: 1)
                    c[key] = v
                    tree[key] = v
                case 1:
                    c[key] = nil
                    tree[key] = nil
                default:
                    let item = m.value(depth: 1)
                    if case .array(var items)? = tree[key] {
                        items.append(item)
                        tree[key] = .array(items)
                    } else if tree[key] == nil {
                        tree[key] = .array([item])
                    } else {
                        continue  // not a list: appending is not defined
                    }
                    c.append(JSONWriter.encode(item, sortedKeys: true), toList: key)
                }
                #expect(c.encoded == JSONWriter.encode(.object(tree), sortedKeys: true))
                // Every member's place in the bytes is kept up to date by each change.
                #expect(c.count == tree.count)
                #expect(c.keys == tree.members.map(\.key).sorted { JSONWriter.utf8Precedes($0, $1) })
                for k in Maker.keys {
                    let want = tree[k].map { JSONWriter.encode($0, sortedKeys: true) }
                    #expect(c.raw(k) == want, "\(k)")
                    #expect(c.withRaw(k) { b, r in Array(b[r]) } == want, "\(k)")
                }
            }
        }
    }

    @Test("has(_:raw:) is true only for a member present with exactly those canonical bytes")
    func hasRaw() {
        var c = CanonicalObject()
        c["status"] = .string("active")
        c["n"] = .number("1")
        #expect(c.has("status", raw: Array(#""active""#.utf8)))
        #expect(!c.has("status", raw: Array(#""retracted""#.utf8)))
        #expect(!c.has("status", raw: Array("active".utf8)))
        #expect(!c.has("missing", raw: Array(#""active""#.utf8)))
        #expect(c.has("n", raw: Array("1".utf8)))
    }

    @Test("a member read as a string is the parsed string, with or without escapes; nil for other values and absent members")
    func stringMembers() throws {
        let members: [(key: String, value: JSONValue)] = [
            ("a", .string("active")), ("b", .string(#"say "no"\ now"#)), ("c", .string("مستشفى\u{1}\n")), ("d", .number("7")),
            ("e", .array([.string("x")])), ("f", .string("")), ("g", .null),
        ]
        let c = CanonicalObject(JSONObject(uniqueMembers: members))
        for m in members { #expect(c.string(m.key) == m.value.stringValue, "\(m.key)") }
        #expect(c.string("b")?.utf8.count == 13)
        #expect(c.string("z") == nil)
    }

    @Test("appending to a member that is not a list replaces it with a list of the item, as the tree fold did; ranges of a non-list are none")
    func appendToNonList() throws {
        var c = CanonicalObject(JSONObject(uniqueMembers: [("claims", .string("damaged")), ("id", .string("incident:x"))]))
        c.append(Array(#"{"a":1}"#.utf8), toList: "claims")
        #expect(String(decoding: c.encoded, as: UTF8.self) == #"{"claims":[{"a":1}],"id":"incident:x"}"#)
        c.append(Array("2".utf8), toList: "claims")
        #expect(String(decoding: c.encoded, as: UTF8.self) == #"{"claims":[{"a":1},2],"id":"incident:x"}"#)
        Array(#""text""#.utf8).withUnsafeBufferPointer { #expect(CanonicalObject.itemRanges(ofList: $0).isEmpty) }
    }

    @Test("item and member ranges find the canonical bytes of list items and of one member")
    func ranges() throws {
        var m = Maker()
        for _ in 0..<500 {
            let items = (0..<Int(m.rng.next() % 5)).map { _ in JSONValue.object(m.object(depth: 1)) }
            let list = JSONWriter.encode(.array(items), sortedKeys: true)
            list.withUnsafeBufferPointer { b in
                let ranges = CanonicalObject.itemRanges(ofList: b)
                #expect(ranges.count == items.count)
                for (r, item) in zip(ranges, items) {
                    #expect(Array(b[r]) == JSONWriter.encode(item, sortedKeys: true))
                    for key in Maker.keys {
                        var keyBytes: [UInt8] = []
                        JSONWriter.writeString(key, into: &keyBytes)
                        let found = CanonicalObject.memberRange(keyBytes, in: b, object: r).map { Array(b[$0]) }
                        #expect(found == item.objectValue?[key].map { JSONWriter.encode($0, sortedKeys: true) })
                    }
                }
            }
        }
    }

    @Test("firstItem walks a list's items once and gives each object item's member as itemRanges and memberRange do, stopping where asked")
    func firstItem() throws {
        var m = Maker()
        for _ in 0..<500 {
            // Objects, and now and then another value among them.
            let items = (0..<Int(m.rng.next() % 6)).map { _ in m.rng.next() % 4 == 0 ? m.value(depth: 2) : JSONValue.object(m.object(depth: 1)) }
            let list = JSONWriter.encode(.array(items), sortedKeys: true)
            let key = m.pick(Maker.keys)
            var keyBytes: [UInt8] = []
            JSONWriter.writeString(key, into: &keyBytes)
            let stopAt = Int(m.rng.next() % 7)
            list.withUnsafeBufferPointer { b in
                let ranges = CanonicalObject.itemRanges(ofList: b)
                var seen: [(Range<Int>, Range<Int>?)] = []
                let stopped = CanonicalObject.firstItem(ofList: b, member: keyBytes) { item, value in
                    seen.append((item, value))
                    return seen.count == stopAt
                }
                #expect(stopped == (stopAt >= 1 && stopAt <= ranges.count))
                #expect(seen.count == min(ranges.count, stopAt == 0 ? ranges.count : stopAt))
                for (i, (item, value)) in seen.enumerated() {
                    #expect(item == ranges[i])
                    #expect(value == CanonicalObject.memberRange(keyBytes, in: b, object: item))
                }
            }
        }
        // Not a list: no item.
        for bytes in ["{}", "\"[\"", "1", "[]"] {
            Array(bytes.utf8).withUnsafeBufferPointer { b in
                #expect(!CanonicalObject.firstItem(ofList: b, member: Array(#""a""#.utf8)) { _, _ in true })
            }
        }
    }

    /// Whether no name in `v`, at any depth, needs an escape (the validator leaves such objects to the parser).
    static func namesPlain(_ v: JSONValue) -> Bool {
        switch v {
        case .object(let o): return o.members.allSatisfy { !$0.key.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } && namesPlain($0.value) }
        case .array(let items): return items.allSatisfy(namesPlain)
        default: return true
        }
    }

    /// What the validator may accept: only bytes that parse, and whose canonical encoding is them.
    static func expectSafe(_ bytes: [UInt8]) {
        guard let c = CanonicalObject(validatingCanonical: bytes) else { return }
        let parsed = try? JSONParser.parseObject(bytes, limits: JSONParser.Limits(maxBytes: Int.max, maxDepth: 64, requireNFC: false))
        #expect(parsed != nil, "accepted bytes that do not parse: \(String(decoding: bytes, as: UTF8.self))")
        guard let parsed else { return }
        #expect(
            JSONWriter.encode(.object(parsed), sortedKeys: true) == bytes, "accepted bytes that are not canonical: \(String(decoding: bytes, as: UTF8.self))")
        #expect(CanonicalObject(parsed) == c)
    }

    @Test("validating canonical bytes: the writer's bytes are cut into the same members; anything accepted parses back to the same bytes")
    func validatesCanonicalBytes() throws {
        var m = Maker()
        var accepted = 0
        let odd: [UInt8] = Array(" \\/\"uUA0eE+-.,}]{[:tfn".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE9, 0xED, 0xF4, 0xFF]
        for _ in 0..<2_000 {
            let tree = m.object(depth: 0)
            let bytes = JSONWriter.encode(.object(tree), sortedKeys: true)
            let v = CanonicalObject(validatingCanonical: bytes)
            if Self.namesPlain(.object(tree)) {
                #expect(v == CanonicalObject(tree))
                accepted += v == nil ? 0 : 1
            }
            Self.expectSafe(bytes)
            for _ in 0..<16 {
                var b = bytes
                let i = Int(m.rng.next() % UInt64(b.count + 1))
                switch m.rng.next() % 3 {
                case 0 where i < b.count: b[i] = m.pick(odd)
                case 1: b.insert(m.pick(odd), at: i)
                default: if i < b.count { b.remove(at: i) }
                }
                Self.expectSafe(b)
            }
        }
        #expect(accepted > 500)
        for good in [#"{}"#, #"{"a":"\u001f","b":-0.5e+3,"c":[],"d":{},"e":[true,false,null],"f":"\n\"\\"}"#, #"{"a":1,"aa":2,"b":0}"#] {
            #expect(CanonicalObject(validatingCanonical: Array(good.utf8)) != nil, "refused \(good)")
            Self.expectSafe(Array(good.utf8))
        }
        let bad = [
            #"{"a":1, "b":2}"#, #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{"a":"\/"}"#, #"{"a":"\u00e9"}"#, #"{"a":"\u001F"}"#,
            #"{"a":"\u000a"}"#, #"{"a":01}"#, #"{"a":1.}"#, #"{"a":tru}"#, #"{"a":1}x"#, #"{"a":[1,]}"#, #"{"a":1,}"#, #" {"a":1}"#,
            #"{"a\"b":1}"#, #"["a"]"#, #"{"a":"x"#, "{\"a\":\"\u{01}\"}",
        ]
        for b in bad { #expect(CanonicalObject(validatingCanonical: Array(b.utf8)) == nil, "accepted \(b)") }
        let deep = { (n: Int) in Array((String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)).utf8) }
        #expect(CanonicalObject(validatingCanonical: deep(64)) != nil)
        #expect(CanonicalObject(validatingCanonical: deep(65)) == nil)
        #expect(CanonicalObject(validatingCanonical: [0xEF, 0xBB, 0xBF] + Array(#"{}"#.utf8)) == nil)
    }

    @Test("members given in key order make the object that setting them one by one makes, with every member found where it is")
    func sortedMembers() throws {
        var maker = Maker()
        let names: [StaticString] = ["a", "aaaaaaaa", "aaaaaaaab", "casualties", "casualtyReports", "created", "entity", "id", "z"]
        for round in 0..<50 {
            // Some of the names, in order, each with a random value in canonical form.
            let members = names.filter { _ in maker.rng.next() % 3 != 0 }.map { name -> (key: StaticString, value: [UInt8]) in
                (name, JSONWriter.encode(maker.value(depth: 1), sortedKeys: true))
            }
            let built = CanonicalObject(sortedMembers: members)
            var setOneByOne = CanonicalObject()
            for m in members.reversed() { setOneByOne.setRaw(String(describing: m.key), m.value) }
            #expect(built.encoded == setOneByOne.encoded, "round \(round)")
            for m in members { #expect(built.raw(String(describing: m.key)) == m.value, "round \(round): \(String(describing: m.key))") }
            // The places are right for changes too: a body merged in, a member set, one removed.
            let body = maker.object(depth: 1)
            var a = built
            var b = setOneByOne
            a.merge(body)
            b.merge(body)
            a.setRaw("id", Array("7".utf8))
            b.setRaw("id", Array("7".utf8))
            a.setRaw("casualties", [UInt8]?.none)
            b.setRaw("casualties", [UInt8]?.none)
            #expect(a.encoded == b.encoded, "round \(round)")
            #expect(a.object == b.object)
        }
        #expect(CanonicalObject(sortedMembers: []).encoded == Array("{}".utf8))
    }
}

extension JSONObject {
    /// The object with members in key order at every depth (what parsing canonical bytes gives).
    fileprivate var sortedDeep: JSONObject {
        func sorted(_ v: JSONValue) -> JSONValue {
            switch v {
            case .array(let a): return .array(a.map(sorted))
            case .object(let o): return .object(o.sortedDeep)
            default: return v
            }
        }
        return JSONObject(uniqueMembers: members.sorted { JSONWriter.utf8Precedes($0.key, $1.key) }.map { ($0.key, sorted($0.value)) })
    }

}

@Suite("An entry index as the canonical bytes of a JSON number (JSONWriter.digits)")
struct EntryBytesTests {
    @Test(
        "the decimal digits of the index, as String(index) writes them", arguments: [0, 7, 9, 10, 99, 100, 101, 4_096, 1_000_003, UInt64(1) << 53, UInt64.max])
    func digits(index: UInt64) {
        #expect(JSONWriter.digits(index) == Array(String(index).utf8))
        var out = Array("[1,".utf8)
        JSONWriter.appendDigits(index, to: &out)
        #expect(out == Array("[1,\(index)".utf8))
    }

    @Test("setDigits: a member set again in its own buffer, shorter or longer, or added in key order", arguments: [0, 9, 10, 12_345, UInt64.max])
    func setDigits(index: UInt64) throws {
        var o = CanonicalObject(try JSONParser.parseObject(Array(#"{"a":1,"updated":123456,"z":[]}"#.utf8)))
        o.setDigits("updated", index)
        o.setDigits("created", index)
        #expect(o.encoded == Array(#"{"a":1,"created":\#(index),"updated":\#(index),"z":[]}"#.utf8))
        #expect(o.raw("updated") == JSONWriter.digits(index))
    }
}
