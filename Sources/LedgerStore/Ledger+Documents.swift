import LedgerArchive
import LedgerCore

/// The archive's views as JSON documents: the bytes `ledger show/history/list --json` print and
/// `ledger serve` answers with, built in one place so that both give the same.
extension Ledger {
    /// The tree size a view is taken at and the moment it names (an RFC 3339 record time with
    /// microseconds; empty for size 0): the size the log had at `asOf`, or `atSize`, or now.
    /// `names` spell the two parameters in messages (`--as-of` on the command line, `asOf` in a
    /// URL). Refuses a moment still to come (later appends would fall before it) and a size
    /// beyond the log.
    public func moment(asOf: Timestamp?, atSize: UInt64?, now: Timestamp, names: (asOf: String, atSize: String)) throws(LedgerError) -> (
        size: UInt64, moment: String
    ) {
        if let asOf {
            guard asOf <= now else {
                throw LedgerError(
                    .malformed, "\(names.asOf) \(asOf.recordTimeText) is in the future; a view as of a moment needs a moment that has passed")
            }
            return (try size(asOf: asOf), asOf.recordTimeText)
        }
        let current = try size()
        let size = atSize ?? current
        guard size <= current else { throw LedgerError(.malformed, "\(names.atSize) \(size) is beyond the log's \(current) entries") }
        guard size > 0 else { return (0, "") }
        return (size, try logRows(from: size - 1, limit: 1).first?.recordedAt ?? "")
    }

    /// One revision of an entity: the entry and what it changed, field by field.
    public typealias Revision = (entry: ConcerningEntry, changes: [FieldChange])

    /// Every revision of `id` in log order (empty: not in the archive).
    public func revisions(of id: String) throws(LedgerError) -> [Revision] {
        let entries = try entries(concerning: id)
        return try History.revisions(of: id, entries.map { History.Entry(index: $0.index, payload: $0.payload) }).map {
            (entry: entries[$0.offset], changes: $0.changes)
        }
    }
}

/// The JSON documents of the archive's views (docs/CLI.md, docs/openapi.yaml).
public enum ArchiveDocument {
    /// Refuses an argument that is not an entity id.
    public static func requireEntityID(_ id: String) throws(LedgerError) {
        guard EntityID.kind(of: id) != nil else {
            throw LedgerError(
                .malformed,
                "\"\(id.unicodeScalars.count <= 64 ? id : String(String.UnicodeScalarView(id.unicodeScalars.prefix(64))) + "…")\" is not an entity id: "
                    + "give incident:NAME, facility:NAME, actor:NAME, source:NAME or aggregate:NAME")
        }
    }

    /// The message for an id the view does not hold.
    public static func notInArchive(_ id: String, size: UInt64, moment: String?) -> LedgerError {
        let at = moment.map { " as of \($0.isEmpty ? "tree size \(size)" : $0) (tree size \(size))" } ?? ""
        return LedgerError(.malformed, "\(id) is not in the archive\(at)")
    }

    /// `show --json`: the entity shown (after merges), the id requested, the tree size, the
    /// state, the moment (when one was asked for) and a facility's attacks.
    public static func entity(_ entity: ArchiveView.Entity, requested: String, moment: String?) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(entity.shown)), ("requested", .string(requested)), ("treeSize", .number(String(entity.treeSize))),
            ("state", .object(entity.state)),
        ]
        if let moment { members.append(("asOf", .string(moment))) }
        if entity.state["entity"]?.stringValue == "facility" { members.append(("attacks", .array(entity.attacks.map { .object($0) }))) }
        return JSONObject(uniqueMembers: members)
    }

    /// One line of `history --json`.
    public static func revision(_ r: Ledger.Revision) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = [
            ("index", .number(String(r.entry.index))), ("recordedAt", .string(r.entry.recordedAt)), ("type", .string(r.entry.payload.type)),
            ("subject", .string(r.entry.payload.subject)), ("signer", .string(r.entry.signerKeyID)), ("signerName", .string(r.entry.signerName)),
        ]
        if let reason = r.entry.payload.body["reason"] { members.append(("reason", reason)) }
        members.append(
            (
                "changes",
                .array(
                    r.changes.map { c in .object(JSONObject(uniqueMembers: [("field", .string(c.path)), ("old", c.old ?? .null), ("new", c.new ?? .null)])) })
            ))
        return JSONObject(uniqueMembers: members)
    }
}
