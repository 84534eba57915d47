import Foundation
import LedgerCore
import LedgerCrypto
import Testing

/// The worked example in docs/FORMAT.md was produced by an independent Python program
/// (Tools/format_example.py); the Swift verifier must accept it byte for byte.
@Suite("docs/FORMAT.md worked example")
struct FormatDocumentTests {
    static func document() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/FORMAT.md")
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func block(_ tag: String, in doc: String) throws -> String {
        let start = try #require(doc.range(of: "```\(tag)\n"))
        let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex))
        return String(doc[start.upperBound..<end.lowerBound])
    }

    @Test("the example entries and checkpoint verify, with the documented root")
    func example() throws {
        let doc = try Self.document()
        let lines = try Self.block("jsonl example-entries", in: doc).split(separator: "\n").map { Array($0.utf8) }
        #expect(lines.count == 4)
        let adminKeyID = "10ba682c8ad13513971e8b56881aab8bd702bb807796eca81932c735a94d6e6d"
        #expect(doc.contains("key id `\(adminKeyID)`"))
        var v = LogVerifier(trustedGenesisKeyID: adminKeyID, parallelism: 2)
        try v.process(lines)
        try v.finish()
        #expect(doc.contains("root of tree size 4: `\(v.root.hex)`"))
        let note = try Self.block("text example-checkpoint", in: doc) + "\n"
        let cp = try v.checkCheckpoint(Array(note.utf8))
        #expect(cp.size == 4)
        #expect(cp.origin == "demo.incidentledger.example/format")
        // Each documented leaf hash is SHA-256(0x00 ‖ line).
        for (i, l) in lines.enumerated() {
            #expect(doc.contains("leaf \(i): `\(l.withUnsafeBytes { MerkleHash.leaf($0) }.hex)`"))
        }
    }

    @Test("the example verifies only under its own genesis key id")
    func pin() throws {
        let doc = try Self.document()
        let lines = try Self.block("jsonl example-entries", in: doc).split(separator: "\n").map { Array($0.utf8) }
        var v = LogVerifier(trustedGenesisKeyID: String(repeating: "0", count: 64), parallelism: 1)
        do {
            try v.process(lines)
            try v.finish()
            Issue.record("accepted under a foreign pin")
        } catch {
            #expect(error.index == 0)
        }
    }
}
