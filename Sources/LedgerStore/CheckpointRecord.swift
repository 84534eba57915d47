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
    static func computed(_ rows: any StorageReader, location: String) throws(LedgerError) -> CheckpointRecord {
        var record = CheckpointRecord()
        for (size, note) in try rows.checkpoints() {
            let cp: Checkpoint
            do throws(LedgerError) { cp = try Checkpoint(text: SignedNote(bytes: note).text) } catch {
                throw LedgerError(.notALedger, "\(location): the stored checkpoint at size \(size) cannot be read; run `ledger verify`")
            }
            record.add(size: cp.size, root: cp.root)
        }
        return record
    }

    /// The record stored in `meta`, nil when absent; throws `malformed` when it cannot be read.
    static func stored(_ rows: any StorageReader, malformed: @autoclosure () -> LedgerError) throws(LedgerError) -> CheckpointRecord? {
        guard let text = try rows.meta()[metaKey] else { return nil }
        guard let record = CheckpointRecord(text: text) else { throw malformed() }
        return record
    }

    /// Adds a newly stored checkpoint to the record in `meta` (same transaction as its row).
    static func append(_ rows: any StorageWriter, size: UInt64, root: Digest32, location: String) throws(LedgerError) {
        var record =
            try stored(rows, malformed: LedgerError(.notALedger, "\(location): meta.\(metaKey) is malformed; run `ledger verify`")) ?? CheckpointRecord()
        record.add(size: size, root: root)
        try write(rows, record)
    }

    static func write(_ rows: any StorageWriter, _ record: CheckpointRecord) throws(LedgerError) {
        try rows.setMeta(metaKey, record.text)
    }
}
