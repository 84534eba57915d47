import Foundation
import GRDB

/// The bare SQLite limits that benchmarks compare the ledger against, measured on the same
/// machine in the same run: rows of the same size, same journal and sync settings.
public enum RawBaselines {
    /// Seconds to insert `rows` into a fresh WAL database at `path` in one transaction.
    /// With `states`, each row also writes a keyed row of its projected state (the same rows an
    /// import stores: the entry, and the entity's current state, replaced when the entity
    /// already has one).
    public static func batchedInsert(rows: [[UInt8]], states: [(id: String, state: [UInt8])]? = nil, path: String) throws -> Double {
        let queue = try open(path)
        defer { try? queue.close() }
        let start = DispatchTime.now()
        try queue.write { db in
            let stmt = try db.makeStatement(sql: "INSERT INTO raw (idx, line) VALUES (?, ?)")
            let state = try db.makeStatement(sql: "INSERT OR REPLACE INTO raw_state (id, state) VALUES (?, ?)")
            for (i, r) in rows.enumerated() {
                try stmt.execute(arguments: [i, Data(r)])
                if let states { try state.execute(arguments: [states[i].id, Data(states[i].state)]) }
            }
        }
        return seconds(since: start)
    }

    /// Seconds to insert `rows` one durable transaction each (WAL, synchronous FULL).
    public static func durableCommits(rows: [[UInt8]], states: [(id: String, state: [UInt8])]? = nil, path: String) throws -> Double {
        let queue = try open(path)
        defer { try? queue.close() }
        let start = DispatchTime.now()
        for (i, r) in rows.enumerated() {
            try queue.write { db in
                try db.execute(sql: "INSERT INTO raw (idx, line) VALUES (?, ?)", arguments: [i, Data(r)])
                if let states {
                    try db.execute(sql: "INSERT OR REPLACE INTO raw_state (id, state) VALUES (?, ?)", arguments: [states[i].id, Data(states[i].state)])
                }
            }
        }
        return seconds(since: start)
    }

    /// Seconds to scan every row of a table written by `batchedInsert`.
    public static func scan(path: String) throws -> (seconds: Double, rows: Int) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        let start = DispatchTime.now()
        var n = 0
        try queue.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT idx, line FROM raw ORDER BY idx")
            while let row = try cursor.next() {
                try row.withUnsafeData(atIndex: 1) { d in n += d?.count == 0 ? 0 : 1 }
            }
        }
        return (seconds(since: start), n)
    }

    /// Seconds for each group of primary-key lookups in the `raw` table written by
    /// `batchedInsert`, one read transaction per group: the bare cost of reading the rows a
    /// proof or a view needs (a proof reads about log2(size) stored nodes).
    public static func pointLookups(path: String, groups: [[Int]]) throws -> [Double] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        var out: [Double] = []
        out.reserveCapacity(groups.count)
        for keys in groups {
            let start = DispatchTime.now()
            try queue.read { db in
                let stmt = try db.cachedStatement(sql: "SELECT line FROM raw WHERE idx = ?")
                for k in keys {
                    guard let row = try Row.fetchOne(stmt, arguments: [k]) else { continue }
                    try row.withUnsafeData(atIndex: 0) { d in precondition(d != nil) }
                }
            }
            out.append(seconds(since: start))
        }
        return out
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS raw (idx INTEGER PRIMARY KEY, line BLOB NOT NULL)")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS raw_state (id TEXT PRIMARY KEY, state BLOB NOT NULL)")
        }
        return queue
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
