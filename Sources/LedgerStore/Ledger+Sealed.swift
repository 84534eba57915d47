import LedgerArchive
import LedgerCore
import LedgerCrypto

/// Sealed values (docs/EVENTS.md §9, docs/FORMAT.md §9): stored, read and erased beside the log.
extension Ledger {
    /// A reader of sealed values: its entity id, X25519 key and whether it is active.
    public struct Reader: Sendable, Equatable {
        public var id: String
        public var encryptionKey: [UInt8]
        public var active: Bool
    }

    /// Every reader enrolled (`reader.enrolled`), in id order.
    public func readers() throws(LedgerError) -> [Reader] {
        try read { (r) throws(LedgerError) in try Self.readers(r, overlay: nil, path: path) }
    }

    /// The readers in `rows`, with the states a transaction changed (`overlay`) taking precedence.
    static func readers(_ rows: any StorageReader, overlay: ProjectionWriter?, path: String) throws(LedgerError) -> [Reader] {
        var ids = Set(try rows.entityIDs(prefix: "reader:"))
        if let overlay { ids.formUnion(overlay.changedIDs(prefix: "reader:")) }
        var out: [Reader] = []
        for id in ids.sorted(by: { JSONWriter.utf8Precedes($0, $1) }) {
            var state: JSONObject?
            if let overlay {
                state = try overlay.state(of: id)
            } else if let blob = try rows.entityState(id) {
                state = try ProjectionRows.decodeState(blob, id: id, path: path)
            }
            guard let state, let k = state["encryptionKey"]?.stringValue, let key = Base64.decode(k) else { continue }
            out.append(Reader(id: id, encryptionKey: key, active: state["status"]?.stringValue == "active"))
        }
        return out
    }

    /// What an append does with the sealed values of one event, inside its transaction, before
    /// the entry is inserted at `index`: refuses a plain value in a sealed field, checks each
    /// marker's opening (its commitment and its value's schema), encrypts it under a new data key
    /// wrapped for every active reader, and stores it; for an erasure, destroys the value; for a
    /// revoked reader, its wrapped keys. `used` collects the commitments whose openings were used.
    /// True when it deleted secrets (an erasure's ciphertext and keys, a revoked reader's keys):
    /// the append scrubs the storage's journal after the commit.
    static func storeSealed(
        _ w: any StorageWriter, payload: EventPayload, type: EventType, index: UInt64, openings: [String: Sealing.Opening],
        used: inout Set<String>, projection: ProjectionWriter
    ) throws(LedgerError) -> Bool {
        if let f = Sealing.unsealedField(type: type, body: payload.body) {
            throw LedgerError(
                .malformed,
                "field `\(f.field)` is sealed (docs/EVENTS.md §9) and may not be signed in the clear: the signed log goes whole to every auditor. "
                    + "`ledger append --key` and `ledger sign --openings` seal it for you")
        }
        switch type {
        case .valueErased:
            let c = payload.body["value"]!.stringValue!
            guard let row = try w.sealedValue(c) else {
                throw LedgerError(.refused, "field `body.value`: no sealed value \(c) is held in this ledger (it was never stored here)")
            }
            guard !row.ciphertext.isEmpty else { throw LedgerError(.refused, "field `body.value`: sealed value \(c) is erased already") }
            guard row.subject == payload.subject else {
                throw LedgerError(
                    .refused, "field `body.value`: sealed value \(c) belongs to \(row.subject) (entry \(row.index), \(row.field)), not \(payload.subject)")
            }
            try w.eraseSealedValue(c)
            return true
        case .readerRevoked:
            try w.deleteWrappedKeys(reader: payload.subject)
            return true
        default:
            break
        }
        let markers = Sealing.markers(type: type, body: payload.body)
        if markers.isEmpty { return false }
        let readers = try Self.readers(w, overlay: projection, path: projection.location).filter(\.active)
        guard !readers.isEmpty else {
            throw LedgerError(
                .refused,
                "field `\(markers[0].field)` is sealed, but no reader is enrolled: nobody could ever read the value. Enrol one first "
                    + "(`ledger reader enroll`)")
        }
        var plain = payload.body
        for (field, c) in markers {
            guard let opening = openings[c] else {
                throw LedgerError(
                    .malformed,
                    "field `\(field)`: sealed value \(c) came without its opening; submit the event with `ledger append --key`, which seals it, or "
                        + "give the openings `ledger sign --openings` wrote (`ledger append --signed --openings FILE`)")
            }
            guard opening.commitment == c else {
                throw LedgerError(.malformed, "field `\(field)`: the opening given does not match its commitment \(c)")
            }
            guard Sealing.strippingMarkers(opening.value) == opening.value else {
                throw LedgerError(.malformed, "field `\(field)`: the opened value is itself a sealed marker; an opening holds the value")
            }
            Sealing.setValue(opening.value, at: field, in: &plain)
        }
        // The opened values must pass the body's schema as if they had been signed in the clear.
        do throws(LedgerError) { try Archive.checkBody(type: type.name, subject: payload.subject, body: plain) } catch {
            throw LedgerError(error.code, "sealed value: \(error.message)")
        }
        for (field, c) in markers {
            if let existing = try w.sealedValue(c) {
                if existing.ciphertext.isEmpty {
                    throw LedgerError(.refused, "field `\(field)`: sealed value \(c) was erased; an erased value is never stored again")
                }
                throw LedgerError(
                    .conflict,
                    "field `\(field)`: sealed value \(c) is already stored (entry \(existing.index)); a commitment is used once: seal the value again")
            }
            guard used.insert(c).inserted else {
                throw LedgerError(.conflict, "field `\(field)`: sealed value \(c) appears twice in this append; seal each value with its own salt")
            }
            let dataKey = ValueSealing.newDataKey()
            let ciphertext: [UInt8]
            var keys: [WrappedKeyRow] = []
            do throws(CryptoError) {
                ciphertext = try ValueSealing.encrypt(openings[c]!.encoded(), dataKey: dataKey, associatedData: Sealing.associatedData(c))
                for r in readers { keys.append(WrappedKeyRow(commitment: c, reader: r.id, wrapped: try ValueSealing.wrap(dataKey, for: r.encryptionKey))) }
            } catch {
                throw LedgerError(.refused, "field `\(field)`: \(error)")
            }
            try w.insertSealedValue(SealedValueRow(commitment: c, index: index, subject: payload.subject, field: field, ciphertext: ciphertext), keys: keys)
        }
        return false
    }

    // MARK: - Keeper's bundles

    /// The sealed values of entries below `size` whose data key is wrapped for `reader`, as the
    /// lines of a keeper's bundle (FORMAT.md §11).
    static func sealedLines(_ r: any StorageReader, reader: String, below size: UInt64) throws(LedgerError) -> [Bag.SealedLine] {
        var out: [Bag.SealedLine] = []
        for v in try r.sealedValues(from: 0, below: size) {
            guard let wrapped = try r.wrappedKey(v.commitment, reader: reader) else { continue }
            out.append(
                Bag.SealedLine(
                    index: v.index, commitment: v.commitment, subject: v.subject, field: v.field, reader: reader, ciphertext: v.ciphertext, wrapped: wrapped))
        }
        return out
    }

    /// Stores an audited keeper's bundle's sealed values in a ledger just imported from it, in
    /// one transaction. Refuses a reader the log does not enrol, and a value the log erased.
    static func storeSealedLines(_ lines: [Bag.SealedLine], into storage: any LedgerStorage) throws(LedgerError) {
        try storage.write { (w) throws(LedgerError) in
            let readers = try Self.readers(w, overlay: nil, path: storage.location)
            for line in lines {
                guard readers.contains(where: { $0.id == line.reader }) else {
                    throw LedgerError(.verificationFailed, "\(Bag.sealedPath): \(line.reader) is not a reader this log enrols")
                }
                // The import left a row without ciphertext for each value the log erased.
                if try w.sealedValue(line.commitment) != nil {
                    throw LedgerError(
                        .refused, "\(Bag.sealedPath): sealed value \(line.commitment) was erased in this log; an erased value is never brought back")
                }
                try w.insertSealedValue(
                    SealedValueRow(commitment: line.commitment, index: line.index, subject: line.subject, field: line.field, ciphertext: line.ciphertext),
                    keys: [WrappedKeyRow(commitment: line.commitment, reader: line.reader, wrapped: line.wrapped)])
            }
        }
    }

    // MARK: - Reading

    /// The stored sealed value with this commitment (nil: never stored here; an empty ciphertext:
    /// erased).
    public func sealedValue(_ commitment: String) throws(LedgerError) -> SealedValueRow? {
        try read { (r) throws(LedgerError) in try r.sealedValue(commitment) }
    }

    /// `value` (a state or view) with each sealed value shown as `reader` may see it: opened
    /// (its commitment checked) when the data key was wrapped for that reader, erased when its
    /// row has lost its ciphertext (whatever moment `value` shows), otherwise left sealed.
    /// Throws `refused` when `reader` is not the key of one of the ledger's readers.
    /// Throws `verificationFailed`, naming the value, when a ciphertext does not decrypt or
    /// its opening does not match the commitment (swapped or altered rows).
    public func openSealed(_ value: JSONValue, reader: ValueSealing.ReaderKey?) throws(LedgerError) -> JSONValue {
        var commitments: [String] = []
        Sealing.commitments(in: value, into: &commitments)
        if commitments.isEmpty { return value }
        return try read { (r) throws(LedgerError) in
            var readerID: String?
            if let reader {
                guard let found = try Self.readers(r, overlay: nil, path: path).first(where: { $0.encryptionKey == reader.publicKey }) else {
                    throw LedgerError(.refused, "the reader key given is not the key of a reader of this ledger (`ledger reader list`)")
                }
                readerID = found.id
            }
            return try Sealing.open(value) { (c) throws(LedgerError) in
                // No row: never held here (a ledger imported from a public bundle); a row
                // without ciphertext: erased.
                guard let row = try r.sealedValue(c) else { return .sealed }
                if row.ciphertext.isEmpty { return .erased }
                guard let reader, let readerID, let wrapped = try r.wrappedKey(c, reader: readerID) else { return .sealed }
                return .value(try Self.open(row, wrapped: wrapped, reader: reader))
            }
        }
    }

    /// A snapshot (docs/EVENTS.md §6) with each state's sealed values opened for `reader` as
    /// `openSealed` does; the header and the layout stay as they are.
    public func openSealedSnapshot(_ bytes: [UInt8], reader: ValueSealing.ReaderKey) throws(LedgerError) -> [UInt8] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        // Lines 0 and 1 are the header and `"entities":[`; the last two are `]}` and the empty
        // string after the final line feed.
        guard lines.count >= 4 else { return bytes }
        for i in 2..<(lines.count - 2) {
            var line = lines[i]
            let comma = line.last == UInt8(ascii: ",")
            if comma { line.removeLast() }
            let state: JSONObject
            do { state = try JSONParser.parseObject(line, limits: .init(maxBytes: 1 << 30, maxDepth: 64, requireNFC: false)) } catch {
                throw LedgerError(.notALedger, "snapshot line \(i + 1) is not a state (\(error))")
            }
            var out = Canonical.encode(try openSealed(.object(state), reader: reader))
            if comma { out.append(UInt8(ascii: ",")) }
            lines[i] = out
        }
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }

    /// The opening of one stored value, with its data key wrapped for `reader`.
    static func open(_ row: SealedValueRow, wrapped: [UInt8], reader: ValueSealing.ReaderKey) throws(LedgerError) -> JSONValue {
        let place = "sealed value \(row.commitment) (entry \(row.index), \(row.field))"
        let dataKey: SecureBytes
        do { dataKey = try reader.unwrap(wrapped) } catch {
            throw LedgerError(.verificationFailed, "\(place): its data key does not open with this reader key (the wrapped key was altered or swapped)")
        }
        let plain: [UInt8]
        do { plain = try ValueSealing.decrypt(row.ciphertext, dataKey: dataKey, associatedData: Sealing.associatedData(row.commitment)) } catch {
            throw LedgerError(
                .verificationFailed, "\(place): the ciphertext does not decrypt with its data key: it belongs to another value or was altered")
        }
        guard let opening = Sealing.Opening(bytes: plain), opening.commitment == row.commitment else {
            throw LedgerError(.verificationFailed, "\(place): the opened value does not match its commitment: the stored value was swapped or altered")
        }
        return opening.value
    }
}
