import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A ledger kept in a PostgreSQL database (docs/FORMAT.md §16): the same rows as the SQLite
/// file, in tables of the same names, one transaction per append or batch. Writers on any
/// number of machines are serialised by a transaction-scoped advisory lock taken first in
/// every write transaction, so indexes stay dense, the tree stays one tree, and an entry
/// commits only after every entry with a lower index has (docs/DECISIONS.md 54).
///
/// The CLI is synchronous: each query is sent on one connection and waited for. postgres-nio
/// runs one statement at a time per connection, so every statement costs a round trip: the rows
/// a write transaction writes are collected per table (`PostgresWriteBuffer`) and sent as one
/// statement before the next read of a table they touch and before COMMIT, and the reads a batch
/// will make are fetched ahead in one statement (`prefetch`). An append is then BEGIN, the lock,
/// the tip, the prefetch, one write statement and COMMIT, whatever the number of rows.
public final class PostgresStorage: LedgerStorage, @unchecked Sendable {
    public let location: String
    let place: PostgresLocation
    /// The connection; made again when the server went away and came back.
    private(set) var connection: PostgresConnection
    /// The answers the connection still owes (lock-protected: used from this thread and the loop).
    private var watch: Watch
    let logger: Logger
    private let readOnly: Bool
    /// Inside `create`: `write` runs in the creating transaction instead of its own.
    private var building = false
    /// A transaction is open (nested use is a programming error).
    private var inTransaction = false
    /// Writes sent and not yet confirmed, in order, with what they write (for messages).
    private var pending: [(answer: Answer, what: String?)] = []
    /// Rows written in this transaction and not yet sent.
    var buffer = PostgresWriteBuffer()
    private var closed = false
    /// The first failure among writes awaited early to bound memory (`send`), for `flush`.
    private var trimmedFailure: (error: any Error, what: String?)?
    /// Rows fetched ahead for the current write transaction (`prefetch`), kept right as it writes.
    var cache: TransactionCache?
    private let lock = NSLock()
    /// Set when the connection was closed because the server stopped answering.
    private var silence = Silence()
    /// Whether the database has the sealed-value tables: true once seen (they are never
    /// dropped), false until the end of the transaction that found them missing (a database
    /// made before them, opened read-only; another process may add them), nil when not asked.
    var sealedTables: Bool?

    /// The advisory lock key every writer of a ledger takes (`pg_advisory_xact_lock`): "ILDG".
    static let writerLock: Int64 = 0x494C_4447

    init(location: PostgresLocation, readOnly: Bool) throws(LedgerError) {
        self.location = location.description
        self.place = location
        self.readOnly = readOnly
        var logger = Logger(label: "incidentledger.postgres")
        logger.logLevel = .critical
        self.logger = logger
        connection = try Self.connect(location, logger: logger)
        watch = Watch(connection)
    }

    /// A writer waits at most this long for the lock (as the SQLite file's 60 s busy timeout),
    /// and the server ends a session left idle inside a transaction (a suspended or hung writer
    /// holding the lock) after `idleInTransaction`.
    static let lockTimeout = "60s"
    static let idleInTransaction = "120s"

    private static func connect(_ location: PostgresLocation, logger: Logger) throws(LedgerError) -> PostgresConnection {
        var configuration = location.configuration
        configuration.options.additionalStartupParameters += [
            ("lock_timeout", lockTimeout), ("idle_in_transaction_session_timeout", idleInTransaction),
        ]
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: logger
            ).wait()
        } catch {
            throw PostgresStorage.map(error, location: location.description)
        }
    }

    /// Opens an existing ledger in the database.
    static func open(_ location: PostgresLocation, readOnly: Bool) throws(LedgerError) -> PostgresStorage {
        let storage = try PostgresStorage(location: location, readOnly: readOnly)
        do throws(LedgerError) {
            guard try storage.hasLedgerTables() else {
                throw LedgerError(.notALedger, "\(storage.location) holds no ledger; create one with `ledger init` or `ledger import`")
            }
            if !readOnly {
                // The schema check before any write; a database made before the sealed-value
                // tables gains them now, so that every write transaction finds them.
                if try storage.schemaStructure(code: .notALedger).get() == .beforeSealedValues { try storage.addSealedTables() }
                storage.sealedTables = true
            }
        } catch {
            try? storage.close()
            throw error
        }
        return storage
    }

    /// Makes a new ledger in one transaction: the schema, then `build`; refuses a database that
    /// holds ledger tables already. Nothing is visible to anyone until the whole ledger commits.
    static func create(_ location: PostgresLocation, _ build: (any LedgerStorage) throws(LedgerError) -> Void) throws(LedgerError) {
        let storage = try PostgresStorage(location: location, readOnly: false)
        defer { try? storage.close() }
        try storage.run("BEGIN")
        do throws(LedgerError) {
            try storage.run("SELECT pg_advisory_xact_lock(\(writerLock))")
            guard !(try storage.hasLedgerTables()) else {
                throw LedgerError(
                    .io, "\(storage.location) already holds a ledger; choose another database (an existing ledger is never overwritten)")
            }
            for statement in PostgresSchema.statements { try storage.run(PostgresQuery(unsafeSQL: statement)) }
            storage.sealedTables = true
            storage.building = true
            try build(storage)
            storage.building = false
            try storage.flush()
            try storage.commit(creating: true)
        } catch {
            storage.building = false
            storage.pending.removeAll()
            storage.buffer = PostgresWriteBuffer(rowLimit: location.writeBatchRows)
            try? storage.run("ROLLBACK")
            throw error
        }
    }

    public func close() throws(LedgerError) {
        lock.lock()
        let wasClosed = closed
        closed = true
        lock.unlock()
        if !wasClosed { _ = try? connection.close().wait() }
    }

    deinit {
        if !closed { _ = try? connection.close().wait() }
    }

    // MARK: Transactions

    public func read<T>(_ body: (any StorageReader) throws(LedgerError) -> T) throws(LedgerError) -> T {
        if building { return try body(PostgresRows(storage: self)) }
        try begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { end() }
        do throws(LedgerError) {
            let result = try body(PostgresRows(storage: self))
            try flush()
            try run("COMMIT")
            return result
        } catch {
            pending.removeAll()
            buffer = PostgresWriteBuffer(rowLimit: place.writeBatchRows)
            try? run("ROLLBACK")
            throw error
        }
    }

    public func write<T>(_ body: (any StorageWriter) throws(LedgerError) -> T) throws(LedgerError) -> T {
        cache = nil
        defer { cache = nil }
        if building {
            let result = try body(PostgresRows(storage: self))
            try flush()
            return result
        }
        guard !readOnly else { throw LedgerError(.io, "\(location) was opened read-only; nothing was written", fault: .readOnly) }
        try begin("BEGIN ISOLATION LEVEL READ COMMITTED")
        defer { end() }
        do throws(LedgerError) {
            // Every writer of this database queues here until the previous one has committed.
            // (Sent without waiting, like BEGIN: every later statement of this transaction runs
            // after it on the connection, so after the lock is held.)
            send("SELECT pg_advisory_xact_lock(\(Self.writerLock))")
            let result = try body(PostgresRows(storage: self))
            try flush()
            try commit(creating: false)
            return result
        } catch {
            pending.removeAll()
            buffer = PostgresWriteBuffer(rowLimit: place.writeBatchRows)
            try? run("ROLLBACK")
            throw error
        }
    }

    /// After an erasure: rewrites the two sealed-value tables (`VACUUM FULL`, outside any
    /// transaction), so that the deleted rows' old versions are not left in their files as dead
    /// tuples. Copies in the server's write-ahead log and in backups remain until those are
    /// recycled (docs/OPERATIONS.md).
    public func scrub() throws(LedgerError) {
        guard !readOnly, !building, sealedTables != false else { return }
        try begin("VACUUM FULL sealed_values, sealed_keys")
        defer { end() }
        do throws(LedgerError) { try run("SELECT 1") } catch {
            pending.removeAll()
            throw error
        }
    }

    private func begin(_ sql: String) throws(LedgerError) {
        lock.lock()
        let nested = inTransaction
        inTransaction = true
        lock.unlock()
        guard !nested else { fatalError("PostgresStorage: a transaction was opened inside another on the same connection") }
        do throws(LedgerError) {
            guard !closed else { throw LedgerError(.io, "\(location): the ledger was closed") }
            pending.removeAll()
            buffer = PostgresWriteBuffer(rowLimit: place.writeBatchRows)
            trimmedFailure = nil
            if sealedTables == false { sealedTables = nil }
            // The server went away since the last transaction (restarted, failed over), or a
            // prepared statement failed on this connection (postgres-nio then fails every later
            // use of its name on the connection, e.g. a first prepare refused in an aborted
            // transaction): connect again.
            if connection.isClosed || watch.spoiled {
                _ = try? connection.close().wait()
                connection = try Self.connect(place, logger: logger)
                watch = Watch(connection)
                silence = Silence()
                overtakable = nil
                prepared = []
            }
            send(PostgresQuery(unsafeSQL: sql))
        } catch {
            end()
            throw error
        }
    }

    private func end() {
        lock.lock()
        inTransaction = false
        lock.unlock()
    }

    // MARK: Queries

    /// Runs a query and waits for its rows (after the writes sent before it). The rows held in
    /// the write buffer are sent first when they touch any of the tables it `reads` (nil: any
    /// table), so that it sees every write of its transaction.
    func query(_ q: PostgresQuery, reads: Set<BufferedTable>? = nil) throws(LedgerError) -> [PostgresRow] {
        try answered(reads: reads) { dispatch(q) }
    }

    /// The same for a statement of fixed text, prepared once per connection.
    func query<S: FixedStatement>(prepared statement: S, reads: Set<BufferedTable>? = nil) throws(LedgerError) -> [PostgresRow] {
        try answered(reads: reads) { dispatch(statement) }
    }

    private func answered(reads: Set<BufferedTable>?, _ send: () -> Answer) throws(LedgerError) -> [PostgresRow] {
        if buffer.holds(reads) { sendBuffer() }
        // A query sent on a connection the server closed would never be answered.
        guard !connection.isClosed else { throw Self.lost(location, "the connection is closed", committing: false) }
        let answer = send()
        do {
            return try wait(answer).rows
        } catch {
            // A write sent earlier may have failed first (the rest then fail as "aborted").
            try awaitPending()
            throw Self.map(error, location: location)
        }
    }

    func run(_ q: PostgresQuery, reads: Set<BufferedTable>? = nil) throws(LedgerError) { _ = try query(q, reads: reads) }

    /// Sends a write without waiting; `flush` waits for it. `what` names what it writes, for
    /// the message if it fails.
    func send(_ q: PostgresQuery, what: String? = nil) {
        pend(what) { dispatch(q) }
    }

    /// Sends the rows held in the write buffer as one statement (without waiting).
    func sendBuffer() {
        guard let (q, what) = buffer.take() else { return }
        send(q, what: what)
    }

    /// After a row was added to the buffer: sends it when it holds enough (bounded memory).
    func buffered() {
        if buffer.isFull { sendBuffer() }
    }

    /// Sends the rows held (as the prepared write statement), waits for every write sent; throws
    /// the first failure.
    func flush() throws(LedgerError) {
        sendAhead()
        try awaitPending()
    }

    /// Sends the rows held as the prepared write statement, without waiting (`flush` waits for
    /// it; on the statement's first use on this connection, any statement dispatched after it
    /// waits for it first: `overtakable`).
    func sendAhead() {
        guard let (statement, what) = buffer.takePrepared() else { return }
        pend(what) { dispatch(statement) }
    }

    /// Adds a write to `pending`; one on a closed connection fails without being sent. At
    /// `pendingLimit` writes unanswered, waits for the older half first: bounded memory for long
    /// batches (a send ahead holds up to 1,024 events' rows, about 1 MB, until it is answered).
    private func pend(_ what: String?, _ dispatch: () -> Answer) {
        pending.append((connection.isClosed ? Answer(failed: ConnectionClosed()) : dispatch(), what))
        if pending.count >= Self.pendingLimit {
            let older = pending.prefix(Self.pendingLimit / 2)
            pending.removeFirst(Self.pendingLimit / 2)
            for f in older {
                do { _ = try wait(f.answer) } catch { if trimmedFailure == nil { trimmedFailure = (error, f.what) } }
            }
        }
    }

    /// Writes sent and not yet answered, at most (`pend`).
    static let pendingLimit = 64

    /// Waits for every write sent (not for the rows still held); throws the first failure.
    private func awaitPending() throws(LedgerError) {
        let sent = pending
        pending.removeAll()
        var first = trimmedFailure
        trimmedFailure = nil
        for f in sent {
            do { _ = try wait(f.answer) } catch { if first == nil { first = (error, f.what) } }
        }
        if let first { throw Self.map(first.error, location: location, writing: first.what) }
    }

    /// Sends `q` on the connection; its answer arrives in the returned `Answer`. One hop to the
    /// event loop per statement: the query is handed to postgres-nio and its answer watched from
    /// there, so no future callback, timer or close watch is added from this thread (each would
    /// be one more wake-up of the event loop, about a tenth of a single append's time).
    func dispatch(_ q: PostgresQuery) -> Answer {
        awaitOvertaking()
        PostgresStatistics.sent()
        return watch.send(q, on: connection, logger: logger)
    }

    /// A prepared statement sent for the first time on this connection and not yet answered.
    /// The first time a connection uses one, postgres-nio sends Parse and Describe and queues
    /// the Execute only when they are answered, so a statement dispatched meanwhile runs first
    /// (seen: a ROLLBACK sent after the write without waiting ran first, and the write then ran
    /// on its own and committed). So every statement waits for it first. Once one use of a name
    /// has been answered, postgres-nio knows the statement as prepared and queues its later
    /// uses in order with every other statement (`PostgresChannelHandler`: `.executeStatement`
    /// is enqueued at once), so those need no wait.
    private var overtakable: (answer: Answer, name: String)?
    /// The prepared statements answered on this connection (their later uses keep their place).
    private var prepared = Set<String>()

    private func awaitOvertaking() {
        guard let earlier = overtakable else { return }
        // Its result stays with whoever holds the answer (`pending`, `answered`).
        _ = try? wait(earlier.answer)
    }

    /// Sends a statement of fixed text, prepared on this connection the first time (postgres-nio
    /// sends Parse once per connection and statement name, then only Bind and Execute).
    /// postgres-nio offers prepared statements only to async callers: the task runs on the
    /// connection's event loop (`EventLoopExecutor`), never on the cooperative pool, whose few
    /// threads may all be blocked in synchronous waits like this one (as under swift-testing or
    /// a server). On a statement's first use on this connection, the next statement dispatched
    /// waits for its answer (`overtakable`); later uses keep their place in the queue.
    func dispatch<S: FixedStatement>(_ statement: S) -> Answer {
        awaitOvertaking()
        PostgresStatistics.sent()
        let answer = Answer()
        if !prepared.contains(S.name) { overtakable = (answer, S.name) }
        let connection = self.connection
        let watch = self.watch
        let logger = self.logger
        guard watch.owe(answer) else { return answer }
        Task(executorPreference: EventLoopExecutor(connection.eventLoop)) {
            do {
                var rows: [PostgresRow] = []
                for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
                answer.complete(.success(Reply(rows: rows, command: "")))
            } catch {
                watch.spoil()
                answer.complete(.failure(error))
            }
            watch.paid(answer)
        }
        return answer
    }

    /// Waits for an answer. A server that vanishes without closing the connection (its host lost
    /// power; the network dropped) would leave it waiting forever, so a wait also ends after the
    /// location's answer timeout: the connection is closed (a late answer cannot be taken for
    /// another query's), every answer it owes fails, and the next transaction connects again.
    func wait(_ answer: Answer) throws -> Reply {
        // The answer comes from the event loop: waiting on it there would never end.
        precondition(!connection.eventLoop.inEventLoop, "PostgresStorage is synchronous: do not call it on its event loop")
        let first = overtakable.flatMap { $0.answer === answer ? $0.name : nil }
        if first != nil { overtakable = nil }
        let timeout = place.answerTimeout
        guard let result = answer.wait(timeout: timeout) else {
            silence.set(timeout)
            let _: EventLoopFuture<Void> = connection.close()
            throw NoAnswer(after: timeout)
        }
        do {
            let reply = try result.get()
            if let first { prepared.insert(first) }
            return reply
        } catch {
            // Every query outstanding on a connection closed for silence fails; say why.
            if let after = silence.value { throw NoAnswer(after: after) }
            throw error
        }
    }

    /// COMMIT, telling apart what the caller may conclude: not sent (nothing written), refused
    /// by the server (nothing written), or no answer (the outcome is unknown). A COMMIT of a
    /// transaction the server had aborted answers ROLLBACK: nothing was written.
    func commit(creating: Bool) throws(LedgerError) {
        guard !connection.isClosed else { throw Self.lost(location, "the connection closed before COMMIT", committing: false) }
        let result: Reply
        do {
            result = try wait(dispatch("COMMIT"))
        } catch let e as PSQLError where e.code == .server {
            throw Self.map(e, location: location)
        } catch {
            if creating {
                throw LedgerError(
                    .io,
                    "\(location): the connection to PostgreSQL was lost while committing the new ledger (\(error)); it may or may not have been "
                        + "created: run `ledger verify` on it, and if it holds no ledger, run the command again", fault: .outcomeUnknown)
            }
            if error is NoAnswer { throw Self.map(error, location: location, committing: true) }
            throw Self.lost(location, String(describing: error), committing: true)
        }
        guard result.command == "COMMIT" else {
            throw LedgerError(.io, "\(location): PostgreSQL rolled the transaction back (\(result.command)); nothing was written", fault: .rolledBack)
        }
    }

    func hasLedgerTables() throws(LedgerError) -> Bool {
        let rows = try query("SELECT to_regclass('meta') IS NOT NULL AND to_regclass('entries') IS NOT NULL")
        return (try? rows.first?.makeRandomAccess()[0].decode(Bool.self)) ?? false
    }

    /// Refuses a database whose ledger tables differ in any way from the ones this code makes:
    /// a trigger, rule or row-security policy (they could alter or hide rows on every append),
    /// an added or dropped column, index or constraint, another type, collation, default or
    /// nullability (PostgresSchema.descriptionQuery lists what is compared). Both structures a
    /// ledger database may have pass (`PostgresSchema.Structure`: a database made before the
    /// sealed-value tables is read as it is and gains them when it is opened for writing).
    func schemaDamage(code: LedgerError.Code) throws(LedgerError) -> LedgerError? {
        if case .failure(let damage) = try schemaStructure(code: code) { return damage }
        return nil
    }

    /// Which structure the ledger's tables have, or what differs from the nearer one (the
    /// current one when any line describes a sealed-value table: one without the other, or
    /// either altered, is damage, never an older structure).
    func schemaStructure(code: LedgerError.Code) throws(LedgerError) -> Result<PostgresSchema.Structure, LedgerError> {
        let rows = try query(PostgresQuery(unsafeSQL: PostgresSchema.descriptionQuery, binds: Self.binds([PostgresSchema.tables])))
        let found = rows.compactMap { try? $0.makeRandomAccess()[0].decode(String.self) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if found == PostgresSchema.expectedDescription { return .success(.current) }
        if found == PostgresSchema.descriptionBeforeSealedValues { return .success(.beforeSealedValues) }
        let expected =
            found.contains(where: PostgresSchema.describesSealedTable) ? PostgresSchema.expectedDescription : PostgresSchema.descriptionBeforeSealedValues
        return .failure(schemaDifference(found: found, expected: expected, code: code))
    }

    /// The refusal naming how `found` differs from `expected` (both sorted in byte order).
    private func schemaDifference(found: [String], expected: [String], code: LedgerError.Code) -> LedgerError {
        // A line's identity is its first two words ("column keys.name"): a line whose identity is
        // expected with other words is an altered object.
        func identity(_ line: String) -> String { line.split(separator: " ", maxSplits: 2).prefix(2).joined(separator: " ") }
        let expectedByIdentity = Dictionary(expected.map { (identity($0), $0) }, uniquingKeysWith: { a, _ in a })
        let foundIdentities = Set(found.map(identity))
        let expectedSet = Set(expected)
        var problems: [String] = []
        for line in found where !expectedSet.contains(line) {
            let shown = String(line.prefix(200))
            if let want = expectedByIdentity[identity(line)] {
                problems.append("altered \(shown) (expected \(want))")
            } else {
                problems.append("unexpected \(shown)")
            }
        }
        for line in expected where !foundIdentities.contains(identity(line)) { problems.append("missing \(line)") }
        if problems.isEmpty { problems.append("an object described twice") }
        let shown = problems.prefix(5).joined(separator: "; ") + (problems.count > 5 ? "; and \(problems.count - 5) more" : "")
        return LedgerError(
            code,
            "\(location) does not have the ledger schema: \(shown). Someone changed the database's structure (a trigger could silently alter or "
                + "delete rows on every append); restore it from a backup or an export")
    }

    public func structuralDamage() -> LedgerError? {
        do throws(LedgerError) {
            let other = try PostgresStorage(location: place, readOnly: true)
            defer { try? other.close() }
            return try other.schemaDamage(code: .verificationFailed)
        } catch {
            return error
        }
    }

    static func binds(_ values: [any PostgresThrowingDynamicTypeEncodable]) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { try? b.append(v) }
        return b
    }

    /// A PostgreSQL failure as a ledger error that says what to do; `writing` names what the
    /// failed statement wrote.
    static func map(_ error: any Error, location: String, committing: Bool = false, writing: String? = nil) -> LedgerError {
        if let e = error as? LedgerError { return e }
        if error is ConnectionClosed { return lost(location, "the connection is closed", committing: committing) }
        if let e = error as? NoAnswer {
            return lost(location, "no answer for \(e.after.description) (the server or its network is gone)", committing: committing)
        }
        guard let e = error as? PSQLError else {
            if error is ChannelError || error is IOError {
                return lost(location, String(describing: error), committing: committing)
            }
            return LedgerError(.io, "\(location): \(error)")
        }
        let state = e.serverInfo?[.sqlState] ?? ""
        let message = e.serverInfo?[.message] ?? String(describing: e.code)
        switch e.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return lost(location, message, committing: committing)
        default:
            break
        }
        switch state {
        case "55P03":
            return LedgerError(
                .io,
                "\(location): another writer held the ledger's write lock for \(lockTimeout) (a stuck or suspended `ledger` process?); nothing was "
                    + "written; try again", fault: .busy)
        case "25P03":
            return lost(location, message, committing: committing)
        case "25006":
            return LedgerError(.io, "\(location) is read-only (a standby replica?): \(message); append to the primary; nothing was written", fault: .readOnly)
        case "42P01", "42703":
            return LedgerError(.notALedger, "\(location) is damaged or not a ledger of this format (PostgreSQL reports: \(message))")
        case "3D000":
            return LedgerError(.io, "\(location): the database does not exist (\(message)); create it with `createdb` first")
        case "28000", "28P01":
            return LedgerError(.io, "\(location): PostgreSQL refused the login (\(message))")
        case "57P01", "57P02", "57P03":
            return lost(location, message, committing: committing)
        default:
            guard let writing else { return LedgerError(.io, "\(location): PostgreSQL error \(state): \(message)") }
            let table = e.serverInfo?[.tableName].map { " in table \($0)" } ?? ""
            let detail = e.serverInfo?[.detail].map { " (\($0))" } ?? ""
            return LedgerError(
                .io,
                "\(location): PostgreSQL error \(state) writing \(writing)\(table): \(message)\(detail); the transaction was rolled back, nothing was written")
        }
    }

    static func lost(_ location: String, _ detail: String, committing: Bool) -> LedgerError {
        if committing {
            return LedgerError(
                .io,
                "\(location): the connection to PostgreSQL was lost while committing (\(detail)); the append may or may not have been stored: "
                    + "send the same signed events again (an event already stored is answered with its index, never stored twice)", fault: .outcomeUnknown)
        }
        return LedgerError(.io, "\(location): the PostgreSQL server went away or cannot be reached (\(detail)); nothing was written", fault: .unreachable)
    }
}

/// Statements sent to PostgreSQL by this process (each one a round trip), for the benchmarks.
public enum PostgresStatistics {
    private static let counter = Counter()

    /// Statements sent so far (queries, writes, BEGIN and COMMIT), on every connection.
    public static var statementsSent: Int { counter.value }

    static func sent() { counter.add() }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
        func add() {
            lock.lock()
            count += 1
            lock.unlock()
        }
    }
}

/// What a write transaction fetched ahead: for each event id asked about, its entry or nothing;
/// each subject's revision; each key. Updated by the transaction's own writes.
final class TransactionCache {
    var entries: [[UInt8]: (index: UInt64, line: [UInt8])?] = [:]
    var revisions: [String: UInt64] = [:]
    var keys: [String: KeyRecord?] = [:]
    var entities: [String: [UInt8]?] = [:]
    /// The log's last entry (nil: not fetched; .some(nil): the log is empty).
    var last: (index: UInt64, recordedAt: String)??
}

/// The connection was found closed before a query was sent.
struct ConnectionClosed: Error {}

/// Runs a task's jobs on a NIO event loop.
final class EventLoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// What the server answered a statement: its rows and its command tag.
struct Reply: Sendable {
    var rows: [PostgresRow]
    var command: String
}

/// One statement's answer, handed from the event loop to the thread that waits for it.
final class Answer: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Reply, any Error>?

    init() {}

    init(failed error: any Error) { result = .failure(error) }

    /// Keeps the first result (a connection closing fails answers that may also arrive).
    func complete(_ r: Result<Reply, any Error>) {
        condition.lock()
        if result == nil { result = r }
        condition.signal()
        condition.unlock()
    }

    /// Waits (without a time limit) and throws a failure.
    func value() throws {
        _ = try wait(timeout: .seconds(86_400 * 365))!.get()
    }

    /// The result, or nil when none came within `timeout` (measured on the monotonic clock: the
    /// condition's wall-clock deadline only bounds each slice of the wait, so a clock step cannot
    /// end it early).
    func wait(timeout: Duration) -> Result<Reply, any Error>? {
        let end = ContinuousClock.now + timeout
        condition.lock()
        defer { condition.unlock() }
        while result == nil {
            let left = end - ContinuousClock.now
            guard left > .zero else { return nil }
            let (seconds, attoseconds) = min(left, .seconds(1)).components
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18))
        }
        return result
    }
}

/// The answers a connection still owes, failed all at once when it closes (one close watch per
/// connection, not one per statement).
final class Watch: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var owed: [ObjectIdentifier: Answer] = [:]
    private var spoiledFlag = false

    /// A prepared statement failed on this connection: the next transaction connects again.
    var spoiled: Bool { lock.withLock { spoiledFlag } }
    func spoil() { lock.withLock { spoiledFlag = true } }

    init(_ connection: PostgresConnection) {
        connection.closeFuture.whenComplete { [self] _ in
            let all = lock.withLock {
                closed = true
                defer { owed.removeAll() }
                return owed
            }
            for answer in all.values { answer.complete(.failure(ConnectionClosed())) }
        }
    }

    /// Notes that the connection owes `answer`; fails it at once (false) when already closed.
    func owe(_ answer: Answer) -> Bool {
        let open = lock.withLock {
            if !closed { owed[ObjectIdentifier(answer)] = answer }
            return !closed
        }
        if !open { answer.complete(.failure(ConnectionClosed())) }
        return open
    }

    func paid(_ answer: Answer) {
        lock.withLock { _ = owed.removeValue(forKey: ObjectIdentifier(answer)) }
    }

    /// Sends `q` on `connection` (the one watched) in one hop to its event loop.
    func send(_ q: PostgresQuery, on connection: PostgresConnection, logger: Logger) -> Answer {
        let answer = Answer()
        connection.eventLoop.execute { [self] in
            // NIO drops a write that reaches a channel already closing, and its answer would never
            // come: the watch fails every answer still owed when the connection closes.
            guard owe(answer) else { return }
            connection.query(q, logger: logger).whenComplete { [self] result in
                paid(answer)
                answer.complete(result.map { Reply(rows: $0.rows, command: $0.metadata.command) }.mapError { $0 })
            }
        }
        return answer
    }
}

/// Whether, and after how long, a connection was given up for silence.
final class Silence: @unchecked Sendable {
    private let lock = NSLock()
    private var after: Duration?
    var value: Duration? { lock.withLock { after } }
    func set(_ d: Duration) { lock.withLock { after = d } }
}

/// The server did not answer within the location's answer timeout.
struct NoAnswer: Error {
    var after: Duration
}

/// A PostgreSQL database named by a `postgres://` or `postgresql://` URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?host=/SOCKET/DIR][&sslmode=disable]`.
/// `host=` names a Unix-socket folder (as libpq reads it); a password may also come from
/// `PGPASSWORD`. TCP connections go unencrypted in this version, so only a loopback host is
/// accepted over TCP unless `sslmode=disable` says the network is trusted (docs/OPERATIONS.md).
public struct PostgresLocation: LedgerLocation {
    let configuration: PostgresConnection.Configuration
    /// The longest wait for any one answer of the server (5 minutes): longer than the lock and
    /// idle timeouts, so only a server or network that is gone without a word reaches it.
    public var answerTimeout: Duration = .seconds(300)
    /// A write transaction's rows are sent when this many are held (and before any read of
    /// their tables, and at COMMIT): bounded memory for long imports.
    public var writeBatchRows = 50_000
    /// The URL without its password.
    public let description: String

    public static func isURL(_ s: String) -> Bool { s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") }

    public init(url: String) throws(LedgerError) {
        func bad(_ why: String) -> LedgerError {
            LedgerError(
                .malformed,
                "the PostgreSQL URL is not usable: \(why) (expected postgres://USER@HOST:PORT/DATABASE or postgres://USER@/DATABASE?host=/SOCKET/DIR)")
        }
        guard Self.isURL(url), let parts = URLComponents(string: url) else { throw bad("it cannot be parsed") }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        for name in query.keys where !["host", "sslmode", "port", "user"].contains(name) { throw bad("unknown parameter \(name)") }
        let env = ProcessInfo.processInfo.environment
        let user = parts.user ?? query["user"] ?? env["PGUSER"] ?? env["USER"] ?? "postgres"
        let password = parts.password ?? env["PGPASSWORD"]
        let database = String(parts.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw bad("no database named in the path") }
        if let mode = query["sslmode"], mode != "disable" {
            throw bad(
                "sslmode=\(mode) is not supported: this version connects without TLS (use the Unix socket, a tunnel, or sslmode=disable on a trusted network)")
        }
        if let p = query["port"], Int(p) == nil || !(1...65535).contains(Int(p)!) { throw bad("port \(p) is not a port number") }
        let port = parts.port ?? query["port"].flatMap { Int($0) } ?? 5432
        var shown = URLComponents()
        shown.scheme = "postgres"
        shown.user = user
        shown.host = parts.host
        shown.port = parts.port
        shown.path = "/" + database
        shown.queryItems = parts.queryItems
        description = shown.string ?? "postgres://\(user)@…/\(database)"
        if let socketDir = query["host"], socketDir.hasPrefix("/") {
            configuration = PostgresConnection.Configuration(
                unixSocketPath: socketDir + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let host = parts.host ?? query["host"] ?? "localhost"
            let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host)
            guard loopback || query["sslmode"] == "disable" else {
                throw bad(
                    "\(host) is not a loopback address and this version connects without TLS; add sslmode=disable only on a network you "
                        + "trust, or reach the server through a Unix socket or a tunnel")
            }
            configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
    }

    public func open(readOnly: Bool) throws(LedgerError) -> any LedgerStorage {
        try PostgresStorage.open(self, readOnly: readOnly)
    }

    public func create(_ build: (any LedgerStorage) throws(LedgerError) -> Void) throws(LedgerError) {
        try PostgresStorage.create(self, build)
    }
}
