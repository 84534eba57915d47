import Dispatch
import Foundation
import LedgerCore
import LedgerStore
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The bare PostgreSQL limits the PostgreSQL benchmarks compare the ledger against, on the same
/// server in the same run: rows of the same size written the way the storage writes them
/// (one statement of unnest arrays per batch; a durable commit per row), the server's default durability.
public enum PostgresRawBaselines {
    /// Seconds to insert `rows` (and each row's projected state, replaced when its id repeats)
    /// into fresh tables in one transaction, the way the storage writes a batch: per batch of
    /// 10,000 rows (the ledger's bulk batch), one statement per table carrying the rows as
    /// arrays (`INSERT … SELECT * FROM unnest($1::bigint[], $2::bytea[])`), states upserted
    /// with only the last state of each id in the batch.
    public static func batchedInsert(rows: [[UInt8]], states: [(id: String, state: [UInt8])], url: String) throws -> Double {
        let c = try Raw(url: url)
        defer { c.close() }
        try c.fresh()
        let start = DispatchTime.now()
        try c.exec("BEGIN")
        var first = 0
        while first < rows.count {
            let end = min(rows.count, first + 10_000)
            var idx: [Int64] = []
            var lines: [ByteBuffer] = []
            var last: [String: Int] = [:]
            var order: [String] = []
            for i in first..<end {
                idx.append(Int64(i))
                lines.append(ByteBuffer(bytes: rows[i]))
                if last.updateValue(i, forKey: states[i].id) == nil { order.append(states[i].id) }
            }
            var ids: [String] = []
            var blobs: [ByteBuffer] = []
            for id in order {
                ids.append(id)
                blobs.append(ByteBuffer(bytes: states[last[id]!].state))
            }
            var binds = PostgresBindings()
            binds.append(idx)
            binds.append(lines)
            binds.append(ids)
            binds.append(blobs)
            try c.exec(
                PostgresQuery(
                    unsafeSQL: """
                        WITH a AS (INSERT INTO raw (idx, line) SELECT * FROM unnest($1::bigint[], $2::bytea[]))
                        INSERT INTO raw_state (id, state) SELECT * FROM unnest($3::text[], $4::bytea[])
                        ON CONFLICT (id) DO UPDATE SET state = excluded.state
                        """, binds: binds))
            first = end
        }
        try c.exec("COMMIT")
        return seconds(since: start)
    }

    /// Seconds to insert `rows` (with their states) one durable transaction each: BEGIN, the two
    /// rows, COMMIT, sent together and waited for once.
    public static func durableCommits(rows: [[UInt8]], states: [(id: String, state: [UInt8])], url: String) throws -> Double {
        let c = try Raw(url: url)
        defer { c.close() }
        try c.fresh()
        let start = DispatchTime.now()
        for (i, r) in rows.enumerated() {
            let answers = [
                c.send("BEGIN"), c.send("INSERT INTO raw (idx, line) VALUES (\(Int64(i)), \(ByteBuffer(bytes: r)))"),
                c.send(
                    "INSERT INTO raw_state (id, state) VALUES (\(states[i].id), \(ByteBuffer(bytes: states[i].state))) ON CONFLICT (id) DO UPDATE SET state = excluded.state"
                ), c.send("COMMIT"),
            ]
            for a in answers { try a.value() }
        }
        return seconds(since: start)
    }

    /// Makes a new, empty database `name` through the server `adminURL` names; its URL.
    public static func createDatabase(adminURL: String, name: String) throws -> String {
        let c = try Raw(url: adminURL)
        defer { c.close() }
        try c.exec(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
        try c.exec(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        guard var parts = URLComponents(string: adminURL) else { throw LedgerError(.malformed, "bad URL \(adminURL)") }
        parts.path = "/" + name
        return parts.string ?? adminURL
    }

    /// Drops database `name`.
    public static func dropDatabase(adminURL: String, name: String) throws {
        let c = try Raw(url: adminURL)
        defer { c.close() }
        try c.exec(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// One bare connection, sent to and waited for the way the storage does (`Watch.send`).
    final class Raw {
        let connection: PostgresConnection
        let watch: Watch
        let logger = Logger(label: "incidentledger.postgres.raw")

        init(url: String) throws {
            let location = try PostgresLocation(url: url)
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: location.configuration, id: 2, logger: logger
            ).wait()
            watch = Watch(connection)
        }

        func fresh() throws {
            try exec("DROP TABLE IF EXISTS raw, raw_state")
            try exec("CREATE TABLE raw (idx bigint PRIMARY KEY, line bytea NOT NULL)")
            try exec(#"CREATE TABLE raw_state (id text COLLATE "C" PRIMARY KEY, state bytea NOT NULL)"#)
        }

        func send(_ q: PostgresQuery) -> Answer { watch.send(q, on: connection, logger: logger) }
        func exec(_ q: PostgresQuery) throws { try send(q).value() }
        func close() { _ = try? connection.close().wait() }
    }
}
