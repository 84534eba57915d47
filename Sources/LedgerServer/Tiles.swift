import Hummingbird
import LedgerCore
import LedgerCrypto
import LedgerStore
import NIOCore

/// The log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), under `/tlog/`: the latest signed
/// checkpoint, hash tiles and entry bundles at static paths with immutable caching, so that
/// generic mirrors, monitors and witnesses can follow it without this API.
enum TilePath: Equatable {
    /// Hash tile: `width` hashes of tree level 8 × `level`, from hash 256 × `index`.
    case hashes(level: Int, index: UInt64, width: Int)
    /// Entry bundle: `width` entry lines from entry 256 × `index`.
    case entries(index: UInt64, width: Int)

    static let width = 256

    /// Parses the path elements after `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, where
    /// `<N>` is written in groups of three digits, every group but the last prefixed with `x`
    /// (1234067 is `x001/x234/067`), and `<W>` (1…255) marks a partial tile. Only the one
    /// canonical spelling of a path is accepted.
    static func parse(_ elements: [Substring]) -> TilePath? {
        guard elements.count >= 2 else { return nil }
        var rest = elements.dropFirst()
        var width = Self.width
        if rest.count >= 2, rest[rest.endIndex - 2].hasSuffix(".p") {
            guard let w = decimal(rest.last!), (1..<256).contains(w) else { return nil }
            width = Int(w)
            rest = rest.dropLast()
            rest[rest.endIndex - 1] = rest.last!.dropLast(2)
        }
        guard let index = tileIndex(Array(rest)) else { return nil }
        if elements[0] == "entries" { return .entries(index: index, width: width) }
        guard let level = decimal(elements[0]), level < 64 else { return nil }
        return .hashes(level: Int(level), index: index, width: width)
    }

    /// A decimal number without leading zeros.
    private static func decimal(_ s: Substring) -> UInt64? {
        guard !s.isEmpty, s.count <= 19, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), s == "0" || s.first != "0" else { return nil }
        return UInt64(s)
    }

    private static func tileIndex(_ groups: [Substring]) -> UInt64? {
        guard !groups.isEmpty, groups.count <= 7 else { return nil }
        var n: UInt64 = 0
        for (i, g) in groups.enumerated() {
            let last = i == groups.count - 1
            let digits = last ? g : (g.first == "x" ? g.dropFirst() : "")
            guard digits.count == 3, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = UInt64(digits) else { return nil }
            if i == 0, groups.count > 1, v == 0 { return nil }  // no leading zero group
            let (m, o1) = n.multipliedReportingOverflow(by: 1000)
            let (s, o2) = m.addingReportingOverflow(v)
            guard !o1, !o2 else { return nil }
            n = s
        }
        return n
    }

    /// The path of this tile after `tile/` (the inverse of `parse`).
    var path: String {
        func n(_ index: UInt64) -> String {
            var groups: [String] = []
            var v = index
            repeat {
                let g = String(v % 1000)
                groups.insert(String(repeating: "0", count: 3 - g.count) + g, at: 0)
                v /= 1000
            } while v > 0
            return groups.enumerated().map { $0.offset < groups.count - 1 ? "x" + $0.element : $0.element }.joined(separator: "/")
        }
        switch self {
        case .hashes(let level, let index, let width): return "\(level)/\(n(index))" + (width < Self.width ? ".p/\(width)" : "")
        case .entries(let index, let width): return "entries/\(n(index))" + (width < Self.width ? ".p/\(width)" : "")
        }
    }
}

extension Routes {
    static let immutable = "public, max-age=31536000, immutable"

    /// The tlog-tiles checkpoint: the same note as `/v1/checkpoint`.
    func tlogCheckpoint(_ request: Request) async throws -> Response { try await checkpoint(request) }

    func tile(_ request: Request, elements: [Substring]) async throws -> Response {
        _ = try Query(request, allowed: [])
        guard let tile = TilePath.parse(elements), request.uri.path == "/tlog/tile/" + tile.path else {
            return Reply.error(
                .notFound, code: "notFound",
                "not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], with <N> in groups of three digits (x001/x234/067) and 1 ≤ W ≤ 255")
        }
        return try await server.readers.run { (ledger) throws(LedgerError) in
            let size = try ledger.size()
            switch tile {
            case .hashes(let level, let index, let width):
                let treeLevel = 8 * level
                let first = index.multipliedReportingOverflow(by: UInt64(TilePath.width))
                let end = first.partialValue.addingReportingOverflow(UInt64(width))
                guard treeLevel < 64, !first.overflow, !end.overflow, end.partialValue <= size >> UInt64(treeLevel) else {
                    return Reply.error(.notFound, code: "notFound", "tile/\(tile.path) is not in the tree of \(size) entries")
                }
                var out: [UInt8] = []
                out.reserveCapacity(32 * width)
                for h in try ledger.treeHashes(level: treeLevel, from: first.partialValue, count: width) { h.withUnsafeBytes { out += $0 } }
                return Reply.bytes(.ok, "application/octet-stream", out, headers: [.cacheControl: Self.immutable])
            case .entries(let index, let width):
                let first = index.multipliedReportingOverflow(by: UInt64(TilePath.width))
                let end = first.partialValue.addingReportingOverflow(UInt64(width))
                guard !first.overflow, !end.overflow, end.partialValue <= size else {
                    return Reply.error(.notFound, code: "notFound", "tile/\(tile.path) is not in the log of \(size) entries")
                }
                var out: [UInt8] = []
                for (i, line) in try ledger.entryLines(from: first.partialValue, count: width).enumerated() {
                    guard line.count <= 65_535 else {
                        return Reply.error(
                            .notFound, code: "tooLong",
                            "entry \(first.partialValue + UInt64(i)) is \(line.count) bytes, more than an entry bundle can frame (65,535); read it from /v1/entries"
                        )
                    }
                    out.append(UInt8(line.count >> 8))
                    out.append(UInt8(line.count & 0xFF))
                    out += line
                }
                return Reply.bytes(.ok, "application/octet-stream", out, headers: [.cacheControl: Self.immutable])
            }
        }
    }
}
