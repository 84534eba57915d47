import LedgerCore
import LedgerStore
import PostgresNIO

/// Sealed values on PostgreSQL (`sealed_values`, `sealed_keys`; docs/FORMAT.md §9): the same rows
/// as the SQLite file's version 5 tables.
///
/// Writes are rare (a few per append at most), so they are not held in the write buffer: each is
/// one statement sent at once without waiting, as the meta and checkpoint rows are. They join the
/// transaction's statements in the order they are made (every statement goes through
/// `PostgresStorage.dispatch`, which first waits for a prepared write sent ahead), so they are
/// part of the same transaction, committed or rolled back with it, and a failure surfaces, named,
/// at the next read or at COMMIT. The buffer never holds rows of these tables, so a read of them
/// sends nothing first (`reads: []`) and still runs after every sealed-value write of its
/// transaction: the connection runs statements one after another.
extension PostgresRows {
    /// Whether the database has the sealed-value tables. A database made before them has none
    /// (and so no sealed value) until it is first opened for writing; only a read-only storage
    /// can meet one. Either table present is enough: one without the other is damage, which the
    /// query of the missing one reports.
    private func hasSealedTables() throws(LedgerError) -> Bool {
        if let known = storage.sealedTables { return known }
        let r = try row("SELECT to_regclass('sealed_values') IS NOT NULL OR to_regclass('sealed_keys') IS NOT NULL", reads: [])
        let present = (try? r?[0].decode(Bool.self)) ?? false
        storage.sealedTables = present
        return present
    }

    private static let sealedColumns = "commitment, idx, subject, field, ciphertext"

    private func sealedRow(_ r: PostgresRandomAccessRow) throws(LedgerError) -> SealedValueRow {
        SealedValueRow(commitment: try text(r, 0), index: try count(r, 1), subject: try text(r, 2), field: try text(r, 3), ciphertext: try bytes(r, 4))
    }

    func sealedValue(_ commitment: String) throws(LedgerError) -> SealedValueRow? {
        guard try hasSealedTables() else { return nil }
        return try row("SELECT \(Self.sealedColumns) FROM sealed_values WHERE commitment = $1", [commitment], reads: []).map(sealedRow)
    }

    func sealedValues(from: UInt64, below: UInt64) throws(LedgerError) -> [SealedValueRow] {
        guard try hasSealedTables(), from < below else { return [] }
        // commitment has the "C" collation: byte order, as SQLite's.
        return try rows(
            "SELECT \(Self.sealedColumns) FROM sealed_values WHERE idx >= $1 AND idx < $2 AND length(ciphertext) > 0 ORDER BY idx, commitment",
            [Self.n(from), Self.n(below)],
            reads: []
        ).map(sealedRow)
    }

    func wrappedKey(_ commitment: String, reader: String) throws(LedgerError) -> [UInt8]? {
        guard try hasSealedTables() else { return nil }
        return try row("SELECT wrapped FROM sealed_keys WHERE commitment = $1 AND reader = $2", [commitment, reader], reads: []).map {
            (r) throws(LedgerError) in try bytes(r, 0)
        }
    }

    /// The value row and its wrapped keys in one statement (an existing commitment is refused by
    /// the primary key, and with it the transaction).
    func insertSealedValue(_ v: SealedValueRow, keys: [WrappedKeyRow]) throws(LedgerError) {
        let sql = """
            WITH v AS (INSERT INTO sealed_values (commitment, idx, subject, field, ciphertext) VALUES ($1, $2, $3, $4, $5))
            INSERT INTO sealed_keys (commitment, reader, wrapped) SELECT * FROM unnest($6::text[], $7::text[], $8::bytea[])
            """
        let values: [any PostgresThrowingDynamicTypeEncodable] = [
            v.commitment, Self.n(v.index), v.subject, v.field, Self.bytea(v.ciphertext), keys.map(\.commitment), keys.map(\.reader),
            ByteaColumn(keys.map(\.wrapped)),
        ]
        storage.send(
            PostgresQuery(unsafeSQL: sql, binds: PostgresStorage.binds(values)), what: "the sealed value \(v.commitment) and its \(keys.count) wrapped keys")
    }

    /// The value row and every wrapped key of it, in one statement.
    func eraseSealedValue(_ commitment: String) throws(LedgerError) {
        // The value row stays, without its ciphertext: the commitment is erased, never stored again.
        let sql = "WITH k AS (DELETE FROM sealed_keys WHERE commitment = $1) UPDATE sealed_values SET ciphertext = ''::bytea WHERE commitment = $1"
        storage.send(PostgresQuery(unsafeSQL: sql, binds: PostgresStorage.binds([commitment])), what: "the erasure of sealed value \(commitment)")
    }

    func deleteWrappedKeys(reader: String) throws(LedgerError) {
        storage.send(
            PostgresQuery(unsafeSQL: "DELETE FROM sealed_keys WHERE reader = $1", binds: PostgresStorage.binds([reader])),
            what: "the deletion of the keys wrapped for \(reader)")
    }
}

extension PostgresStorage {
    /// Adds the sealed-value tables to a database made before them: one transaction under the
    /// writers' lock (a writer of the older structure is never in the middle of a transaction
    /// when they appear), checked again under the lock (another process may have added them
    /// meanwhile, or the structure may have changed). Nothing else changes: the database records
    /// no version (docs/FORMAT.md §16), its structure is the version.
    func addSealedTables() throws(LedgerError) {
        try write { (_) throws(LedgerError) in
            switch try schemaStructure(code: .notALedger) {
            case .failure(let damage): throw damage
            case .success(.current): return
            case .success(.beforeSealedValues):
                for statement in PostgresSchema.sealedStatements { try run(PostgresQuery(unsafeSQL: statement)) }
            }
        }
    }
}
