import LedgerCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The form in which a ledger file (version 6 and later) keeps an entry line in `entries.line`
/// (docs/FORMAT.md §15, docs/DECISIONS.md 103). A line is canonical (§4), so its bytes follow
/// from five values: index, record time, payload, key id and signature. The file keeps those, the
/// payload's most frequent member names as one byte each, instead of the line's JSON, base64 and
/// hex (about 54 % of the line's bytes):
///
/// - byte 0: the form, 0x01 (payload as it is) or 0x02 (payload packed with `payloadTokens`);
/// - bytes 1–8: the index, unsigned, big-endian;
/// - bytes 9–35: the record time, its 27 bytes as the line writes them;
/// - bytes 36–67: the key id's 32 bytes (the value of its 64 hex digits);
/// - bytes 68–131: the signature's 64 bytes;
/// - bytes 132 to the end: the payload, or its packed form.
///
/// A stored value whose first byte is neither form (a line kept as it is starts with `{`) is the
/// line itself. `encode` keeps a line as it is unless the compact form gives back exactly its
/// bytes, so a line that is not canonical (which `verify` must still see and report) never
/// changes; `expand` gives back a value it cannot read (too short, a packed payload holding a
/// byte that is no token) as it is, so that `verify` fails at its index.
public enum CompactLine {
    public static let plainForm: UInt8 = 0x01
    public static let packedForm: UInt8 = 0x02
    static let headerSize = 132

    /// The member names (and entity id prefixes) a payload holds most often, each written as
    /// one byte (0x01 the first), in this order. Part of the file format: never change or
    /// reorder it (a new table needs a new form byte).
    public static let payloadTokens = TokenTable([
        #""signedAt":"#, #""subject":"#, #""expects":"#, #""incident:"#, #""ledger":"#, #""type":"#, #""body":"#, #""id":"#,
        #""source:"#, #""perpetrator":"#, #""source":"#, #""actor:"#, #""category":"#, #""reason":"#, #""claimant":"#,
        #""locator":"#, #""stance":"#, #""title":"#, #""basis":"#, #""min":"#, #""max":"#, #""changes":"#, #""en":"#,
        #""facilities":"#, #""confidence":"#, #""rationale":"#, #""occurred":"#, #""facility":"#, #""facility:"#,
        #""summary":"#, #""certainty":"#,
    ])

    private static let linePrefix = Array(#"{"index":"#.utf8)
    private static let afterIndex = Array(#","recordedAt":""#.utf8)
    private static let afterTime = Array(#"","envelope":{"payloadType":"application/vnd.incidentledger.event+json","payload":""#.utf8)
    private static let afterPayload = Array(#"","signatures":[{"keyid":""#.utf8)
    private static let afterKeyID = Array(#"","sig":""#.utf8)
    private static let lineSuffix = Array(#""}]}}"#.utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The value to store for `line`: its compact form when that gives back exactly its bytes,
    /// else the line as it is. `entry`, when the caller has it, is the line parsed (it spares the
    /// parse; a wrong one only means the line is kept as it is).
    public static func encode(_ line: [UInt8], entry: EntryLine? = nil) -> [UInt8] {
        guard let parsed = entry ?? line.withUnsafeBytes({ EntryLine.parseCanonical($0) }),
            parsed.envelope.payloadType == EventPayload.payloadType, parsed.envelope.signature.count == 64,
            let keyID = Hex.decode(parsed.envelope.keyID), keyID.count == 32
        else { return line }
        let timeAt = linePrefix.count + String(parsed.index).utf8.count + afterIndex.count
        guard line.count >= timeAt + 27 else { return line }
        let packed = payloadTokens.pack(parsed.envelope.payload)
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + (packed ?? parsed.envelope.payload).count)
        out.append(packed == nil ? plainForm : packedForm)
        withUnsafeBytes(of: parsed.index.bigEndian) { out.append(contentsOf: $0) }
        out += line[timeAt..<(timeAt + 27)]
        out += keyID
        out += parsed.envelope.signature
        out += packed ?? parsed.envelope.payload
        let back = expand(out)
        let same = back.count == line.count && back.withUnsafeBytes { a in line.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
        return same ? out : line
    }

    /// The entry line a stored value holds (the value itself unless it is a compact form).
    public static func expand(_ stored: [UInt8]) -> [UInt8] {
        stored.withUnsafeBytes { expand($0) } ?? stored
    }

    /// The line of a compact form; nil when `stored` is not one (kept as it is by the caller).
    public static func expand(_ s: UnsafeRawBufferPointer) -> [UInt8]? {
        payload(s) { payload in line(s, payload: payload) }
    }

    /// Calls `body` with the payload of the compact form `s` (unpacked when packed); nil when `s`
    /// is no compact form.
    private static func payload<T>(_ s: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        guard s.count >= headerSize, s[0] == plainForm || s[0] == packedForm else { return nil }
        let stored = UnsafeRawBufferPointer(rebasing: s[headerSize...])
        guard s[0] == packedForm else { return body(stored) }
        return payloadTokens.withUnpacked(stored, body)
    }

    /// The line of the compact form `s` whose payload is `payload`, written into a buffer of its
    /// exact length.
    private static func line(_ s: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> [UInt8] {
        var index: UInt64 = 0
        for i in 1...8 { index = index << 8 | UInt64(s[i]) }
        let digits = JSONWriter.digits(index)
        let length = fixedLength + digits.count + (payload.count + 2) / 3 * 4
        return [UInt8](unsafeUninitializedCapacity: length) { out, written in
            let start = out.baseAddress!
            var o = start
            put(linePrefix, &o)
            digits.withUnsafeBytes { put($0, &o) }
            put(afterIndex, &o)
            put(UnsafeRawBufferPointer(rebasing: s[9..<36]), &o)
            put(afterTime, &o)
            o += Base64.write(payload, into: UnsafeMutableBufferPointer(start: o, count: length - (o - start)))
            put(afterPayload, &o)
            hexDigits.withUnsafeBufferPointer { hex in
                for k in 36..<68 {
                    let b = Int(s[k])
                    o[0] = hex[b >> 4]
                    o[1] = hex[b & 0x0F]
                    o += 2
                }
            }
            put(afterKeyID, &o)
            o += Base64.write(UnsafeRawBufferPointer(rebasing: s[68..<132]), into: UnsafeMutableBufferPointer(start: o, count: length - (o - start)))
            put(lineSuffix, &o)
            written = o - start
        }
    }

    @inline(__always) private static func put(_ bytes: UnsafeRawBufferPointer, _ o: inout UnsafeMutablePointer<UInt8>) {
        if let from = bytes.baseAddress { o.update(from: from.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        o += bytes.count
    }

    @inline(__always) private static func put(_ bytes: [UInt8], _ o: inout UnsafeMutablePointer<UInt8>) {
        bytes.withUnsafeBytes { put($0, &o) }
    }

    /// The entry the compact form `s` holds, read from its parts with `payload` (no base64); nil
    /// when it fails any check `EntryLine(bytes:)` makes of the line it gives (the caller then
    /// parses that line, for the same message).
    private static func entry(_ s: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> EntryLine? {
        guard let (index, time) = indexAndTime(s, payload: payload) else { return nil }
        let keyID = hexDigits.withUnsafeBufferPointer { hex in
            String(unsafeUninitializedCapacity: 64) { out in
                for k in 0..<32 {
                    let b = Int(s[36 + k])
                    out[2 * k] = hex[b >> 4]
                    out[2 * k + 1] = hex[b & 0x0F]
                }
                return 64
            }
        }
        return EntryLine(index: index, recordedAt: time, envelope: Envelope(payload: Array(payload), keyID: keyID, signature: Array(s[68..<132])))
    }

    /// Calls `body` with the record time and the payload of the compact form `s`, without making
    /// the entry (no key id, signature or copy of the payload): for a fold, which reads nothing
    /// else of an entry. Nil when `s` is no compact form or fails a check of `entry(_:payload:)`
    /// (then `EntryLine(stored:)` reads it and names the problem), and `body` is not called.
    /// Not generic, so that a caller in another module needs no generic metadata per entry.
    public static func recordTimeAndPayload(_ s: UnsafeRawBufferPointer, _ body: (Timestamp, UnsafeRawBufferPointer) -> Void) -> Bool {
        payload(s) { (payload) -> Bool in
            guard let (_, time) = indexAndTime(s, payload: payload) else { return false }
            body(time, payload)
            return true
        } ?? false
    }

    /// The index and record time of the compact form `s` whose payload is `payload`; nil when the
    /// index is 2^53 or more, the payload is over the limit or the time does not parse.
    private static func indexAndTime(_ s: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> (index: UInt64, time: Timestamp)? {
        var index: UInt64 = 0
        for i in 1...8 { index = index << 8 | UInt64(s[i]) }
        guard index < (1 << 53), payload.count <= EventPayload.maxBytes,
            let time = Timestamp.parseRecordTime(UnsafeRawBufferPointer(rebasing: s[9..<36]))
        else { return nil }
        return (index, time)
    }

    /// The entry a compact form holds, without making its line; nil when `s` is no compact form
    /// or the entry fails a check (see `entry(_:payload:)`).
    static func entryLine(_ s: UnsafeRawBufferPointer) -> EntryLine? {
        payload(s) { entry(s, payload: $0) } ?? nil
    }

    /// The line a compact form gives and the entry it holds, from one unpacking: for `verify`,
    /// which hashes the line and checks the entry. Nil when `s` is no compact form; the entry is
    /// nil when it fails a check (parse the line then, for the message).
    public static func lineAndEntry(_ s: UnsafeRawBufferPointer) -> (line: [UInt8], entry: EntryLine?)? {
        payload(s) { p in (line(s, payload: p), entry(s, payload: p)) }
    }

    /// A line's bytes apart from its index digits and its payload's base64.
    private static let fixedLength =
        linePrefix.count + afterIndex.count + 27 + afterTime.count + afterPayload.count + 64 + afterKeyID.count + 88 + lineSuffix.count
}

extension EntryLine {
    /// Reads an entry line as a store keeps it: a compact form (`CompactLine`) or the line itself.
    /// Only for what a store gives back: a line from anywhere else (a bundle, a request) must be
    /// the line's own bytes, read with `init(bytes:)`.
    public init(stored: [UInt8]) throws(LedgerError) {
        if let line = stored.withUnsafeBytes({ CompactLine.entryLine($0) }) {
            self = line
            return
        }
        self = try EntryLine(bytes: CompactLine.expand(stored))
    }
}
