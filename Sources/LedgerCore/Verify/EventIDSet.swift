import Foundation

/// The event ids a verifier has seen, in memory that does not grow with the log: the latest
/// `runSize` ids in a hash set; older ones in sorted runs in an unlinked temporary file (16 bytes
/// per id on disk), screened by a fixed-size Bloom filter. A repeat is found when it is inserted:
/// in the set directly, or, when the filter says "maybe", by binary search in each run.
final class EventIDSet {
    private var recent = Set<EventIDKey>()
    private let runSize: Int
    private var runs: [(offset: Int64, count: Int)] = []
    private var fd: Int32 = -1
    private var fileSize: Int64 = 0
    /// 2^27 bits (16 MiB), allocated with the first run; 4 probes (a false "maybe" costs a
    /// binary search; at 10 million ids about 1 in 400 inserts pays it).
    private var bloom: [UInt64] = []
    private static let bloomBits = 1 << 27
    private static let probes = 4

    init(runSize: Int = 1 << 17) {
        self.runSize = max(1, runSize)
        recent.reserveCapacity(self.runSize)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Adds `key`; false when it was already there.
    func insert(_ key: EventIDKey) -> Bool {
        if recent.contains(key) { return false }
        if !runs.isEmpty, mayContain(key), inRuns(key) { return false }
        recent.insert(key)
        if recent.count >= runSize { spill() }
        return true
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private func forEachPosition(_ key: EventIDKey, _ body: (Int) -> Bool) {
        let h1 = EventIDSet.mix(key.hi ^ EventIDSet.mix(key.lo))
        let h2 = EventIDSet.mix(h1 ^ key.lo) | 1
        for i in 0..<UInt64(EventIDSet.probes) where !body(Int((h1 &+ i &* h2) & UInt64(EventIDSet.bloomBits - 1))) { return }
    }

    private func mayContain(_ key: EventIDKey) -> Bool {
        var all = true
        bloom.withUnsafeBufferPointer { b in
            forEachPosition(key) { p in
                all = b[p >> 6] & (1 << UInt64(p & 63)) != 0
                return all
            }
        }
        return all
    }

    /// Binary search of every run on disk.
    private func inRuns(_ key: EventIDKey) -> Bool {
        for run in runs {
            var lo = 0
            var hi = run.count
            while lo < hi {
                let mid = (lo + hi) / 2
                let k = read(at: run.offset + Int64(mid) * 16)
                if k == key { return true }
                if k < key { lo = mid + 1 } else { hi = mid }
            }
        }
        return false
    }

    private func read(at offset: Int64) -> EventIDKey {
        var buffer = (UInt64(0), UInt64(0))
        let n = withUnsafeMutableBytes(of: &buffer) { pread(fd, $0.baseAddress, 16, off_t(offset)) }
        precondition(n == 16, "event id run file: short read")
        return EventIDKey(hi: buffer.0, lo: buffer.1)
    }

    private func spill() {
        if fd < 0 {
            let template = NSTemporaryDirectory() + "/incidentledger-ids-XXXXXX"
            var path = Array(template.utf8CString)
            fd = mkstemp(&path)
            precondition(fd >= 0, "cannot create a temporary file for event ids: \(String(cString: strerror(errno)))")
            unlink(path)  // anonymous: nothing is left behind, even after a crash
            bloom = [UInt64](repeating: 0, count: EventIDSet.bloomBits / 64)
        }
        let sorted = recent.sorted(by: <)
        var bytes: [UInt64] = []
        bytes.reserveCapacity(sorted.count * 2)
        for k in sorted {
            bytes.append(k.hi)
            bytes.append(k.lo)
            bloom.withUnsafeMutableBufferPointer { b in
                forEachPosition(k) { p in
                    b[p >> 6] |= 1 << UInt64(p & 63)
                    return true
                }
            }
        }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(fileSize)) }
        precondition(written == sorted.count * 16, "event id run file: short write")
        runs.append((fileSize, sorted.count))
        fileSize += Int64(sorted.count * 16)
        recent.removeAll(keepingCapacity: true)
    }
}

extension EventIDKey: Comparable {
    init(hi: UInt64, lo: UInt64) {
        self.hi = hi
        self.lo = lo
    }

    static func < (a: EventIDKey, b: EventIDKey) -> Bool { a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo }
}
