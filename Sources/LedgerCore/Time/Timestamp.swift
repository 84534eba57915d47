/// A UTC instant with microsecond resolution, written in RFC 3339 form.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Seconds since the Unix epoch.
    public init(secondsSinceEpoch: Double) { microseconds = Int64((secondsSinceEpoch * 1_000_000).rounded(.down)) }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.microseconds < b.microseconds }

    /// Record-time form: always 27 bytes, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, so byte order is time order.
    public var recordTimeText: String { format(fractionDigits: 6) }

    /// Signed-time form: `YYYY-MM-DDTHH:MM:SS.fffZ` (milliseconds).
    public var signedTimeText: String { format(fractionDigits: 3) }

    public var description: String { recordTimeText }

    /// The UTC calendar day as yyyymmdd (e.g. 20190505), the form EDTF bounds use.
    public var day: Int {
        let (y, m, d) = Civil.date(fromDays: dayAndTime.days)
        return Int(y) * 10_000 + Int(m) * 100 + Int(d)
    }

    /// Days since the epoch (rounded down) and microseconds into that day.
    private var dayAndTime: (days: Int64, us: Int64) {
        var days = microseconds / 86_400_000_000
        var us = microseconds - days * 86_400_000_000
        if us < 0 {
            us += 86_400_000_000
            days -= 1
        }
        return (days, us)
    }

    /// Writes the digits into one buffer of the form's fixed width (the reference below built
    /// the text from a dozen small strings, about 9.5 k instructions a time, and record times are
    /// formatted once per entry in appends, verify and audit).
    private func format(fractionDigits: Int) -> String {
        let (days, us) = dayAndTime
        let (y, m, d) = Civil.date(fromDays: days)
        guard y >= 0, y <= 9999, fractionDigits == 6 || fractionDigits == 3 || fractionDigits == 0 else {
            return referenceFormat(fractionDigits: fractionDigits)
        }
        let secs = us / 1_000_000
        let frac = us % 1_000_000
        let count = fractionDigits == 0 ? 20 : 21 + fractionDigits
        return String(unsafeUninitializedCapacity: count) { b in
            func put(_ value: Int64, _ width: Int, at start: Int) {
                var v = value
                var i = start + width - 1
                while i >= start {
                    b[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                    i -= 1
                }
            }
            put(y, 4, at: 0)
            b[4] = UInt8(ascii: "-")
            put(Int64(m), 2, at: 5)
            b[7] = UInt8(ascii: "-")
            put(Int64(d), 2, at: 8)
            b[10] = UInt8(ascii: "T")
            put(secs / 3600, 2, at: 11)
            b[13] = UInt8(ascii: ":")
            put(secs / 60 % 60, 2, at: 14)
            b[16] = UInt8(ascii: ":")
            put(secs % 60, 2, at: 17)
            if fractionDigits > 0 {
                b[19] = UInt8(ascii: ".")
                put(fractionDigits == 6 ? frac : frac / 1000, fractionDigits, at: 20)
            }
            b[count - 1] = UInt8(ascii: "Z")
            return count
        }
    }

    /// The form built from strings: the meaning of `format`, and what it falls back to outside
    /// years 0–9999.
    func referenceFormat(fractionDigits: Int) -> String {
        let (days, us) = dayAndTime
        let (y, m, d) = Civil.date(fromDays: days)
        let secs = us / 1_000_000
        let frac = us % 1_000_000
        var s = pad(y, 4) + "-" + pad(Int64(m), 2) + "-" + pad(Int64(d), 2)
        s += "T" + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2)
        if fractionDigits == 6 {
            s += "." + pad(frac, 6)
        } else if fractionDigits == 3 {
            s += "." + pad(frac / 1000, 3)
        }
        return s + "Z"
    }

    private func pad(_ v: Int64, _ width: Int) -> String {
        let t = String(v)
        return t.count >= width ? t : String(repeating: "0", count: width - t.count) + t
    }

    /// Parses the fixed 27-byte record-time form; nil for anything else.
    public static func parseRecordTime(_ text: String) -> Timestamp? {
        var t = text
        return t.withUTF8 { parseRecordTime(UnsafeRawBufferPointer($0)) }
    }

    /// Parses the fixed 27-byte record-time form from bytes; nil for anything else.
    public static func parseRecordTime(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        guard b.count == 27, b[19] == UInt8(ascii: "."), b[26] == UInt8(ascii: "Z") else { return nil }
        return parseRFC3339(b)
    }

    /// Parses RFC 3339 in UTC: `YYYY-MM-DDTHH:MM:SS` with an optional fraction of 1–9 digits and `Z`.
    /// Offsets other than `Z`, lowercase `t`/`z` and leap seconds are refused.
    public static func parseRFC3339(_ text: String) -> Timestamp? {
        var t = text
        return t.withUTF8 { parseRFC3339(UnsafeRawBufferPointer($0)) }
    }

    /// `parseRFC3339` of UTF-8 bytes: the fixed positions read at once, without a call or an
    /// overflow check per digit (every entry's record time and signed time are parsed in
    /// `rebuild`, `verify` and audits; the reference below took about 570 instructions a time).
    public static func parseRFC3339(_ b: UnsafeRawBufferPointer) -> Timestamp? {
        let n = b.count
        guard n >= 20, n != 21, n <= 30, b[n - 1] == UInt8(ascii: "Z"), b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":")
        else { return nil }
        // A byte minus "0" is above 9 for anything but a digit; `notDigit` gathers every one.
        var notDigit = false
        @inline(__always) func two(_ i: Int) -> Int64 {
            let hi = b[i] &- 48
            let lo = b[i + 1] &- 48
            notDigit = notDigit || hi > 9 || lo > 9
            return Int64(hi) &* 10 &+ Int64(lo)
        }
        let y = two(0) &* 100 &+ two(2)
        let mo = two(5)
        let d = two(8)
        let h = two(11)
        let mi = two(14)
        let s = two(17)
        var micro: Int64 = 0
        if n > 20 {
            guard b[19] == UInt8(ascii: ".") else { return nil }
            // 1–9 fraction digits, scaled to microseconds (digits past the sixth dropped).
            for i in 20..<(n - 1) {
                let c = b[i] &- 48
                notDigit = notDigit || c > 9
                if i < 26 { micro = micro &* 10 &+ Int64(c) }
            }
            for _ in min(n - 21, 6)..<6 { micro &*= 10 }
        }
        guard !notDigit, mo >= 1, mo <= 12, d >= 1, d <= Civil.daysInMonth(year: y, month: mo), h < 24, mi < 60, s < 60 else { return nil }
        let days = Civil.days(year: y, month: mo, day: d)
        return Timestamp(microseconds: ((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + micro)
    }

    /// The parser `parseRFC3339` must agree with, digit by digit (`TimestampFormatTests`).
    package static func referenceParseRFC3339<C: RandomAccessCollection>(_ b: C) -> Timestamp? where C.Element == UInt8, C.Index == Int {
        guard b.count >= 20, b.last == UInt8(ascii: "Z") else { return nil }
        func num(_ from: Int, _ count: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<(from + count) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
            let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2)
        else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= Civil.daysInMonth(year: y, month: mo),
            h < 24, mi < 60, s < 60
        else { return nil }
        var micro: Int64 = 0
        if b.count > 20 {
            guard b[19] == UInt8(ascii: "."), b.count - 21 >= 1, b.count - 21 <= 9,
                let f = num(20, b.count - 21)
            else { return nil }
            let digits = b.count - 21
            var scaled = f
            if digits < 6 {
                for _ in digits..<6 { scaled *= 10 }
            } else {
                for _ in 6..<digits { scaled /= 10 }
            }
            micro = scaled
        } else if b.count != 20 {
            return nil
        }
        let days = Civil.days(year: y, month: mo, day: d)
        return Timestamp(microseconds: ((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + micro)
    }
}

/// Proleptic Gregorian calendar arithmetic (H. Hinnant's days-from-civil algorithms).
enum Civil {
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func date(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, Int(m), Int(d))
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
