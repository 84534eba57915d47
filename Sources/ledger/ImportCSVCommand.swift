import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger import-csv`: an existing incident spreadsheet as signed `incident.reported` events,
/// all rows or none (docs/EVENTS.md §8).
struct ImportCSVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-csv",
        abstract: "Import an incident spreadsheet (CSV) as signed incident reports: every row, or none.",
        discussion: """
            The mapping file (JSON, docs/EVENTS.md §8) says which column gives the incident id and which \
            columns give the title, date, place, facility and means. Every row is checked first; if any row \
            has a problem, each row's first problem is listed (line and column) and nothing is imported. \
            Otherwise all rows are signed with --key (an archivist key) and appended in one transaction.
            """)

    @OptionGroup var ledger: LedgerOption
    @OptionGroup var signing: SigningKeyOption
    @Option(help: ArgumentHelp("Mapping file (JSON): columns to incident fields.", valueName: "file"))
    var mapping: String
    @OptionGroup var output: JSONOutputOption
    @Argument(help: ArgumentHelp("The spreadsheet, CSV (RFC 4180, UTF-8, a header line); `-` for standard input.", valueName: "file"))
    var input: String

    /// Row problems listed in one error message at most; the count of the rest follows.
    static let listed = 100

    func validate() throws {
        if input == "-" && mapping == "-" {
            throw ValidationError("the spreadsheet and --mapping cannot both be standard input (`-`); give one of them as a file")
        }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (mappingName, mappingBytes) = try Input.read(mapping, limit: Limits.note, what: "a CSV mapping (at most 1 MiB)")
            let map = try CSVMapping.parse(mappingBytes, name: mappingName)
            let (name, bytes) = try Input.read(input, limit: 1 << 30)
            let records = try CSVReader.records(bytes, name: name)
            var (reports, errors) = try CSVImport.reports(records, mapping: map, name: name)

            // The rules that need the archive, for every row: ids not taken, references registered.
            let store = try ledger.open()
            try store.requireCurrentProjections()
            var known: [String: Bool] = [:]
            func exists(_ id: String) throws(LedgerError) -> Bool {
                if let k = known[id] { return k }
                let k = try store.entityState(id) != nil
                known[id] = k
                return k
            }
            // An unregistered source is a problem of the mapping, reported once and beside the rows' problems.
            var mappingProblems: [String] = []
            for (i, s) in map.sources.enumerated() where try !exists(s) {
                mappingProblems.append("\(mappingName): `sources[\(i)]`: \(s) is not in the archive; register it first")
            }
            let facilityColumn = map.columns.first { $0.field == "facilities.facility" }?.column ?? "constant facilities.facility"
            for r in reports {
                if try exists(r.id) {
                    errors.append(CSVRowError(line: r.line, column: map.idColumn, message: "\(r.id) already exists in the archive", needsArchive: true))
                } else if let f = r.body["facilities"]?.arrayValue?.first?.objectValue?["facility"]?.stringValue, try !exists(f) {
                    errors.append(
                        CSVRowError(
                            line: r.line, column: facilityColumn, message: "\(f) is not in the archive; register the facility first", needsArchive: true))
                }
            }
            if errors.isEmpty, mappingProblems.count == 1 {
                throw LedgerError(.refused, mappingProblems[0] + "; nothing was imported")
            }
            if !errors.isEmpty || !mappingProblems.isEmpty {
                errors.sort { $0.line < $1.line }
                var listing = ""
                for p in mappingProblems { listing += "\(Terminal.safe(p))\n" }
                for e in errors.prefix(Self.listed) { listing += "\(Terminal.safe(name)):\(e.line): \(Terminal.safe(e.description))\n" }
                if errors.count > Self.listed { listing += "… and \(errors.count - Self.listed) more\n" }
                FileHandle.standardError.write(Data(listing.utf8))
                let bad = Set(errors.map(\.line))
                let total = bad.union(reports.map(\.line)).count
                let mappingNote =
                    mappingProblems.isEmpty
                    ? "" : "the mapping cites \(mappingProblems.count) source\(mappingProblems.count == 1 ? "" : "s") the archive does not hold"
                let rowNote = errors.isEmpty ? "" : "\(bad.count) of \(total) rows have problems"
                let what = [rowNote, mappingNote].filter { !$0.isEmpty }.joined(separator: " and ")
                throw LedgerError(
                    errors.allSatisfy(\.needsArchive) ? .refused : .malformed,
                    "\(errors.isEmpty ? mappingName : name): \(what) (listed above); nothing was imported")
            }

            let key = try signing.load()
            let now = SystemClock().now()
            var envelopes: [Envelope] = []
            var openings: [String: Sealing.Opening] = [:]
            envelopes.reserveCapacity(reports.count)
            for r in reports {
                // The body is already in Unicode NFC (CSVImport checks the form that is signed).
                // Coordinates finer than a town are sealed before signing (docs/EVENTS.md §9).
                var draft = EventDraft(type: "incident.reported", subject: r.id, expects: 0, body: r.body)
                for s in draft.seal() { openings[s.commitment] = s.opening }
                envelopes.append(try draft.sign(origin: store.origin, key: key, now: now, where: "\(name):\(r.line)"))
            }
            let outcomes: [AppendOutcome]
            do throws(LedgerError) {
                outcomes = try store.appendShowingProgress(envelopes, openings: openings)
            } catch {
                let location = error.position.map { "\(name):\(reports[$0].line)" } ?? name
                throw LedgerError(
                    error.code, "\(location): \(error.message)\(error.fault == nil ? "; nothing was imported" : "")", index: error.index, fault: error.fault)
            }
            var first: UInt64?, last: UInt64?
            for (i, o) in outcomes.enumerated() {
                guard case .appended(let idx) = o else { continue }
                first = first ?? idx
                last = idx
                if output.json { printJSON([("line", .int(UInt64(reports[i].line))), ("id", .string(reports[i].id)), ("index", .int(idx))]) }
            }
            if !output.json {
                print("imported \(reports.count) incidents from \(name)" + (first.map { ": entries \($0)–\(last!)" } ?? ""))
            }
        }
    }
}
