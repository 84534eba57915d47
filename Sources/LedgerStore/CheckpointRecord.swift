import GRDB
import LedgerCore
import LedgerCrypto

/// The ledger file's own record of every checkpoint it has stored, kept in `meta` beside the
/// `checkpoints` table so that deleting or replacing a checkpoint row must also be forged here
/// (docs/FORMAT.md §15): the count, the latest tree size and a hash chain over each
/// checkpoint's size and root, in size order. Cosignatures attached later change nothing here.
struct CheckpointRecord: Equatable, Sendable {
    /// The `meta` key holding the record.
    static let metaKey = "checkpoint_record"

    /// Checkpoints recorded.
    var count: UInt64 = 0
    /// Tree size of the latest one (0 when none).
    var latestSize: UInt64 = 0
    /// chain₀ = 32 zero bytes; chainᵢ = SHA-256(chainᵢ₋₁ ‖ uint64 big-endian size ‖ 32-byte root).
    var chain = Digest32(bytes: [UInt8](repeating: 0, count: 32))!

    /// Adds the next checkpoint (sizes only grow).
    mutating func add(size: UInt64, root: Digest32) {
        var input = chain.bytes
        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: size >> UInt64(shift))) }
        input += root.bytes
        chain = SHA256.hash(input)
        count += 1
        latestSize = size
    }

    /// `COUNT LATEST_SIZE CHAIN_HEX`.
    var text: String { "\(count) \(latestSize) \(chain.hex)" }

    init() {}

    init?(text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, let c = UInt64(parts[0]), let s = UInt64(parts[1]), let d = Digest32(hex: String(parts[2])) else { return nil }
        count = c
        latestSize = s
        chain = d
    }

    /// The record the stored checkpoint notes give (each note's size and root, in size order).
    static func computed(_ db: Database, path: String) throws -> CheckpointRecord {
        var record = CheckpointRecord()
        for row in try Row.fetchAll(db, sql: "SELECT size, note FROM checkpoints ORDER BY size") {
            let cp: Checkpoint
            do { cp = try Checkpoint(text: SignedNote(bytes: Array(try row.blob(1))).text) } catch {
                throw LedgerError(.notALedger, "\(path): the stored checkpoint at size \((try? row.count(0)) ?? 0) cannot be read; run `ledger verify`")
            }
            record.add(size: cp.size, root: cp.root)
        }
        return record
    }

    /// The record stored in `meta`, nil when absent; throws `malformed` when it cannot be read.
    static func stored(_ db: Database, malformed: @autoclosure () -> LedgerError) throws -> CheckpointRecord? {
        guard let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [metaKey]) else { return nil }
        guard let record = CheckpointRecord(text: text) else { throw malformed() }
        return record
    }

    /// Adds a newly stored checkpoint to the record in `meta` (same transaction as its row).
    static func append(_ db: Database, size: UInt64, root: Digest32, path: String) throws {
        var record =
            try stored(db, malformed: LedgerError(.notALedger, "\(path): meta.\(metaKey) is malformed; run `ledger verify`")) ?? CheckpointRecord()
        record.add(size: size, root: root)
        try write(db, record)
    }

    static func write(_ db: Database, _ record: CheckpointRecord) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [metaKey, record.text])
    }
}
