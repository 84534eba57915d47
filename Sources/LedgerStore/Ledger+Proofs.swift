import Foundation
import LedgerCore
import LedgerCrypto

extension Ledger {
    /// The stored entry line at `index`.
    public func entryLine(at index: UInt64) throws(LedgerError) -> [UInt8] {
        let line = try read { (r) throws(LedgerError) in try r.entryLines(from: index, below: index &+ 1, limit: 1).first?.line }
        guard let line else { throw LedgerError(.refused, "entry \(index) does not exist (the log holds \(try size()) entries)") }
        return line
    }

    /// The stored entry lines at `indexes`, in that order, read in one transaction.
    public func entryLines(at indexes: [UInt64]) throws(LedgerError) -> [[UInt8]] {
        let lines = try read { (r) throws(LedgerError) in
            try indexes.map { (i) throws(LedgerError) in try r.entryLines(from: i, below: i &+ 1, limit: 1).first?.line }
        }
        return try zip(indexes, lines).map { (pair) throws(LedgerError) in
            guard let line = pair.1 else { throw LedgerError(.refused, "entry \(pair.0) does not exist (the log holds \(try size()) entries)") }
            return line
        }
    }

    /// The stored signed checkpoint for tree size `size`, if there is one.
    public func checkpointNote(size: UInt64) throws(LedgerError) -> [UInt8]? {
        try read { (r) throws(LedgerError) in try r.checkpoint(size: size) }
    }

    /// Adds the cosignatures of `witnesses` found in `cosigned` (a copy of a stored checkpoint
    /// with further signature lines, as `ledger witness` prints it) to the stored note of the same
    /// tree size. The checkpoint text must be identical to the stored one, and each cosignature
    /// must verify; a witness's stored cosignature is replaced only by a later one. Lines of other
    /// signers are not taken. Returns the stored note, the witnesses added or updated, and the
    /// names on lines that were not taken.
    public func attachCosignatures(_ cosigned: SignedNote, witnesses: [VerifierKey]) throws(LedgerError) -> (
        note: SignedNote, added: [String], ignored: [String]
    ) {
        let cp = try Checkpoint(text: cosigned.text)
        guard cp.origin.sameBytes(origin) else {
            throw LedgerError(.refused, "the checkpoint names origin \(cp.origin.prefix(80)), not this ledger's \(origin)")
        }
        var offered: [(VerifierKey, UInt64, SignedNote.Signature)] = []
        for w in witnesses {
            switch Cosignature.check(cosigned, witness: w) {
            case nil: continue
            case .failure(let e)?: throw LedgerError(.refused, "not attached: \(e.message)")
            case .success(let time)?:
                let line = cosigned.signatures.last { $0.name.sameBytes(w.name) && $0.keyHash == w.keyHash }!
                offered.append((w, time, line))
            }
        }
        let ignored = cosigned.signatures.filter { s in
            !s.name.sameBytes(origin) && !witnesses.contains { $0.name.sameBytes(s.name) && $0.keyHash == s.keyHash }
        }.map(\.name)
        guard !offered.isEmpty else {
            throw LedgerError(.refused, "the file carries no cosignature by the witnesses given (--witness); nothing attached")
        }
        return try storage.write { (rows) throws(LedgerError) in
            guard let note = try rows.checkpoint(size: cp.size) else {
                throw LedgerError(.refused, "this ledger has no stored checkpoint for tree size \(cp.size) to attach cosignatures to")
            }
            var stored = try SignedNote(bytes: note)
            guard stored.text == cosigned.text else {
                throw LedgerError(
                    .verificationFailed,
                    "the cosigned checkpoint for tree size \(cp.size) has root \(cp.root.hex), but this ledger's checkpoint for that size "
                        + "differs: it is not this log's checkpoint (or the log forked)")
            }
            var added: [String] = []
            for (w, time, line) in offered {
                let mine = { (s: SignedNote.Signature) in s.name.sameBytes(w.name) && s.keyHash == w.keyHash }
                if let i = stored.signatures.firstIndex(where: mine) {
                    if case .success(let old)? = Cosignature.check(stored, witness: w), old >= time { continue }
                    stored.signatures.removeAll(where: mine)
                    stored.signatures.insert(line, at: min(i, stored.signatures.count))
                } else {
                    stored.signatures.append(line)
                }
                added.append(w.name)
            }
            let bytes = stored.encoded()
            guard bytes.count <= 1 << 20 else { throw LedgerError(.refused, "the checkpoint would grow beyond 1 MiB; nothing attached") }
            if !added.isEmpty { try rows.replaceCheckpoint(size: cp.size, note: bytes) }
            return (stored, added, ignored)
        }
    }
}

extension Ledger {
    /// `count` consecutive hashes of the Merkle tree at `level` (0: the leaves), from `index`,
    /// read in one transaction: the perfect subtrees covering leaves [i << level, (i + 1) << level)
    /// for i = index, index + 1, … (what a C2SP tlog-tiles hash tile lists). Refuses hashes
    /// beyond the tree; a missing stored node is reported as damage.
    public func treeHashes(level: Int, from index: UInt64, count: Int) throws(LedgerError) -> [Digest32] {
        try read { (r) throws(LedgerError) in
            let size = try r.size()
            let (end, overflow) = index.addingReportingOverflow(UInt64(count))
            guard level >= 0, level < 64, !overflow, end <= size >> UInt64(level) else {
                throw LedgerError(.malformed, "no hashes \(index)…\(index &+ UInt64(count) &- 1) at level \(level) in a tree of \(size) entries")
            }
            if level == 0 {
                return try r.entries(from: index, below: end, limit: count).map { $0.leaf ?? MerkleHash.leaf($0.line) }
            }
            let nodes = try r.merkleNodes(level: level, from: index, limit: count)
            var out: [Digest32] = []
            out.reserveCapacity(count)
            for (i, n) in nodes.enumerated() {
                guard n.index == index + UInt64(i), let h = n.hash else { break }
                out.append(h)
            }
            guard out.count == count else {
                throw LedgerError(.notALedger, "\(path): Merkle node (level \(level), index \(index + UInt64(out.count))) is missing")
            }
            return out
        }
    }

    /// The stored entry lines `from` ..< `from + count`, in one transaction.
    public func entryLines(from index: UInt64, count: Int) throws(LedgerError) -> [[UInt8]] {
        try read { (r) throws(LedgerError) in try r.entryLines(from: index, below: index &+ UInt64(count), limit: count).map(\.line) }
    }
}
