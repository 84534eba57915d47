import Foundation
import LedgerCore
import LedgerCrypto
import LedgerTesting
import Testing

@Suite("Streaming a JSON Lines file (JSONLinesReader)")
struct JSONLinesReaderTests {
    /// The file's lines and what follows the last newline, split the plain way.
    static func reference(_ bytes: [UInt8]) -> (lines: [[UInt8]], trailing: [UInt8]) {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for b in bytes {
            if b == 0x0A {
                lines.append(current)
                current = []
            } else {
                current.append(b)
            }
        }
        return (lines, current)
    }

    static let files: [[UInt8]] = [
        [],
        [0x0A],
        [0x0A, 0x0A, 0x0A],
        Array("one line\n".utf8),
        Array("no newline at the end".utf8),
        Array("a\nbb\n\nccc\ndddd\n".utf8),
        Array("a\nbb\n\nccc\ndddd\ntrailing".utf8),
        Array((0..<200).map { i in String(repeating: "x", count: i % 37) + "\n" }.joined().utf8) + Array("end".utf8),
    ]

    @Test("every line and the trailing bytes come back exactly, in batches no larger than asked, whatever the chunk size")
    func linesAcrossChunks() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/entries.jsonl"
        for file in Self.files {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(file)))
            let expected = Self.reference(file)
            for chunkSize in [1, 2, 3, 5, 8, 13, 64, 4 << 20] {
                for batchSize in [1, 2, 7, 8192] {
                    var reader = JSONLinesReader(path: path)
                    reader.chunkSize = chunkSize
                    reader.batchSize = batchSize
                    var lines: [[UInt8]] = []
                    var batches = 0
                    let result = try reader.read { batch in
                        #expect(!batch.isEmpty && batch.count <= batchSize)
                        batches += 1
                        lines += batch
                    }
                    let label = "file of \(file.count) bytes, chunks of \(chunkSize), batches of \(batchSize)"
                    #expect(lines == expected.lines, "\(label)")
                    #expect(result.trailing == expected.trailing, "\(label)")
                    #expect(result.lines == UInt64(expected.lines.count), "\(label)")
                    #expect(result.bytes == UInt64(file.count), "\(label)")
                    #expect(result.digest == SHA256.hash(file), "\(label)")
                    #expect(result.tooLong == nil, "\(label)")
                    #expect(batches == (expected.lines.count + batchSize - 1) / batchSize, "\(label)")
                }
            }
        }
    }

    /// The limit bounds what is carried from one chunk to the next (a line inside one chunk is
    /// bounded by the chunk), so the long line here spans chunks.
    @Test("a line longer than the limit stops the read at its index, after the lines before it")
    func tooLong() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/entries.jsonl"
        let file = Array("ab\ncd\n".utf8) + [UInt8](repeating: 0x61, count: 100) + Array("\nef\n".utf8)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(file)))
        for chunkSize in [1, 4, 16, 40] {
            var reader = JSONLinesReader(path: path)
            reader.chunkSize = chunkSize
            reader.maxLine = 50
            var lines: [[UInt8]] = []
            let result = try reader.read { lines += $0 }
            #expect(result.tooLong == 2, "chunks of \(chunkSize)")
            #expect(lines == [Array("ab".utf8), Array("cd".utf8)], "chunks of \(chunkSize)")
        }
    }
}
