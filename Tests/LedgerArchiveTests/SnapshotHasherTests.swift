import LedgerArchive
import LedgerCore
import LedgerCrypto
import Testing

/// `Snapshot.Hasher`, the view hash of entities handed over one at a time, against the bytes
/// `Snapshot.write` gives.
@Suite("Snapshot.Hasher: the SHA-256 of the snapshot's bytes")
struct SnapshotHasherTests {
    @Test("no entity, one, and enough to cross many 64 KiB pieces", arguments: [0, 1, 2, 700, 5_000])
    func sameAsTheBytes(count: Int) {
        let header = Snapshot.Header(origin: "example.org/l", treeSize: 12_345, rootHash: "root=", asOf: "2026-01-01T00:00:00.000000Z")
        let entities = (0..<count).map { i in Array(#"{"id":"incident:i\#(i)","summary":"\#(String(repeating: "x", count: i % 300))"}"#.utf8) }
        var bytes: [UInt8] = []
        Snapshot.write(header: header, entities: entities, into: &bytes)
        var hasher = Snapshot.Hasher(header: header)
        for e in entities { hasher.add(e) }
        #expect(hasher.finalize() == SHA256.hash(bytes))
        #expect(Snapshot.hash(header: header, entities: entities) == SHA256.hash(bytes))
        if count == 5_000 { #expect(bytes.count > 10 * 65_536) }
    }
}
