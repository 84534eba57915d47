import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// The states, size, root and moment a public export is built from.
func publicExportInput(_ ledger: LedgerOption, _ moment: AsOfOption) throws(LedgerError) -> (Ledger, ArchiveState, UInt64, Digest32, String) {
    let store = try ledger.openArchive()
    let size: UInt64
    let when: String
    if moment.isSet {
        (size, when) = try moment.resolve(store)
    } else {
        size = try store.size()
        when = try store.logRows(from: size - 1, limit: 1).first?.recordedAt ?? ""
    }
    return (store, try store.archive(atSize: size), size, try store.root(size: size), when)
}

/// `ledger export-csv`: one row per incident (docs/EVENTS.md §7).
struct ExportCSVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-csv",
        abstract: "Write every incident, now or as of a moment, as CSV (RFC 4180, UTF-8, documented columns; no sensitive fields).",
        discussion: "Every row names the tree size and root it was built from; the same moment always gives the same bytes. See docs/EVENTS.md §7.")

    @OptionGroup var ledger: LedgerOption
    @OptionGroup var moment: AsOfOption
    @Option(help: ArgumentHelp("Output file (refused if it exists). Default: standard output.", valueName: "file"))
    var out: String?

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (_, states, size, root, _) = try publicExportInput(ledger, moment)
            let bytes = PublicExport.csv(states: states, treeSize: size, root: root.hex)
            try OutputFile.emit(bytes, out: out)
            if out != nil { Terminal.note("\(SHA256.hash(bytes).hex)  \(out!)  (tree size \(size), root \(root.hex))") }
        }
    }
}

/// `ledger export-geojson`: incidents with publishable coordinates as GeoJSON (docs/EVENTS.md §7).
struct ExportGeoJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-geojson",
        abstract: "Write incidents with coordinates of a publishable precision as GeoJSON (RFC 7946), now or as of a moment.",
        discussion: """
            Only incident coordinates of town, district or governorate precision are written; facility coordinates and \
            deconfliction records are left out. --include-sensitive writes them all (for the archive's keepers only). The \
            collection's `incidentledger` member names the tree size and root. See docs/EVENTS.md §7.
            """)

    @OptionGroup var ledger: LedgerOption
    @OptionGroup var moment: AsOfOption
    @Flag(name: .customLong("include-sensitive"), help: "Also write exact coordinates, facility locations and deconfliction records (never publish this).")
    var includeSensitive = false
    @Option(help: ArgumentHelp("Output file (refused if it exists). Default: standard output.", valueName: "file"))
    var out: String?

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (store, states, size, root, when) = try publicExportInput(ledger, moment)
            let bytes = PublicExport.geojson(
                states: states, origin: store.origin, treeSize: size, root: root.hex, asOf: when, includeSensitive: includeSensitive)
            try OutputFile.emit(bytes, out: out, private: includeSensitive)
            if out != nil { Terminal.note("\(SHA256.hash(bytes).hex)  \(out!)  (tree size \(size), root \(root.hex))") }
        }
    }
}
