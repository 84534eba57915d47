import Foundation

/// Where the ledger reads the current time; tests use a manual clock.
public protocol LedgerClock: Sendable {
    /// The current instant.
    func now() -> Timestamp
}

/// The system's real-time clock.
public struct SystemClock: LedgerClock {
    public init() {}

    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// A clock that always reports one fixed instant (reproducible builds and tests).
public struct FixedClock: LedgerClock {
    /// The instant reported.
    public var instant: Timestamp

    public init(_ instant: Timestamp) { self.instant = instant }

    public func now() -> Timestamp { instant }
}
