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
        static let keys = ["a", "b", "entry", "é", "Z", "aa", "source", "stance", "x\"y", "tab\t", "ünï", "perpetrator", "0"]
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
                switch m.rng.next() % 3 {
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
            }
        }
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
