import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger append`: sign and append events, or append envelopes signed elsewhere.
struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append events to the ledger: sign them with --key, or take envelopes already signed with `ledger sign` (--signed).",
        discussion: """
            An event file is one JSON object: {"type": …, "subject": …, "expects": N, "body": {…}}, with optional \
            "id" (a UUIDv7; the idempotency key) and "signedAt". With --batch the input holds one object per line \
            and all of them are appended in one transaction, or none. Re-submitting an event whose id is already \
            in the log prints its existing index and adds nothing. Prints "appended INDEX" or "exists INDEX" per event.
            """)

    @OptionGroup var ledgerArgument: OptionalLedgerOption
    @Option(
        help: ArgumentHelp(
            "Post to a `ledger serve` server at this URL instead of opening a ledger (signed here: the key never leaves this machine).",
            valueName: "url"))
    var server: String?
    @Option(help: ArgumentHelp("Private key file that signs the events.", valueName: "file"))
    var key: String?
    @Flag(help: "The input holds DSSE envelopes made by `ledger sign`, not unsigned events.")
    var signed = false
    @Option(help: ArgumentHelp("With --signed: the openings file `ledger sign --openings` wrote for the envelopes' sealed fields.", valueName: "file"))
    var openings: String?
    @Flag(help: "The input holds one JSON document per line, appended in one transaction (with --server: posted one by one, in order).")
    var batch = false
    @OptionGroup var output: JSONOutputOption
    @Argument(help: ArgumentHelp("Event or envelope file; `-` or nothing for standard input.", valueName: "file"))
    var input: String?

    var ledger: LedgerOption { ledgerArgument.ledger }

    func validate() throws {
        guard signed != (key != nil) else { throw ValidationError("give --key to sign events, or --signed for envelopes signed elsewhere (not both)") }
        if openings != nil, !signed || server != nil { throw ValidationError("--openings goes with --signed, appending to a ledger (not a server)") }
        if server != nil {
            guard ledgerArgument.given == nil else { throw ValidationError("give --ledger or --server, not both") }
        } else {
            try ledger.validate()
        }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (name, docs) = try Input.documents(input, batch: batch)
            if let server {
                try post(to: try ServerClient(server), name: name, docs: docs)
                return
            }
            let store = try ledger.open()
            var envelopes: [Envelope] = []
            var openings: [String: Sealing.Opening] = try self.openings.map { (p) throws(LedgerError) in try SealedOpenings.read(p) } ?? [:]
            envelopes.reserveCapacity(docs.count)
            if signed {
                for doc in docs {
                    do throws(LedgerError) {
                        envelopes.append(try Envelope(json: doc.bytes))
                    } catch {
                        throw LedgerError(error.code, "\(name):\(doc.line): \(error.message)")
                    }
                }
            } else {
                let signingKey = try SigningKeyOption(key: key!).load()
                let now = SystemClock().now()
                for doc in docs {
                    let location = "\(name):\(doc.line)"
                    var draft = try EventDraft(bytes: doc.bytes, where: location)
                    // Sealed fields are taken out before signing (docs/EVENTS.md §9).
                    for s in draft.seal() { openings[s.commitment] = s.opening }
                    envelopes.append(try draft.sign(origin: store.origin, key: signingKey, now: now, where: location))
                }
            }
            let outcomes: [AppendOutcome]
            do throws(LedgerError) {
                outcomes = try store.appendShowingProgress(envelopes, openings: openings)
            } catch {
                let location = error.position.map { "\(name):\(docs[$0].line)" } ?? (batch ? name : "\(name):\(docs[0].line)")
                throw LedgerError(
                    error.code, "\(location): \(error.message)\(batch && error.fault == nil ? "; nothing was appended" : "")",
                    index: error.index, fault: error.fault)
            }
            for (i, o) in outcomes.enumerated() {
                let id = (try? EventPayload(bytes: envelopes[i].payload).id) ?? ""
                if output.json {
                    switch o {
                    case .appended(let idx): printJSON([("status", .string("appended")), ("index", .int(idx)), ("id", .string(id))])
                    case .existing(let idx): printJSON([("status", .string("existing")), ("index", .int(idx)), ("id", .string(id))])
                    }
                } else {
                    switch o {
                    case .appended(let idx): print("appended \(idx)")
                    case .existing(let idx): print("exists \(idx)")
                    }
                }
            }
        }
    }
}

extension AppendCommand {
    /// `--server`: signs here (or takes the envelopes as signed) and posts each in turn. Each post
    /// is its own append on the server; the first refusal stops, naming its line, after the
    /// lines before it were appended. A line that cannot be read or signed posts nothing.
    func post(to client: ServerClient, name: String, docs: [(line: Int, bytes: [UInt8])]) throws(LedgerError) {
        let origin = try client.origin()
        let signingKey = signed ? nil : try SigningKeyOption(key: key!).load()
        let now = SystemClock().now()
        // Every line is read and signed before anything is posted: bad input posts nothing.
        var envelopes: [Envelope] = []
        for doc in docs {
            let location = "\(name):\(doc.line)"
            if let signingKey {
                // Messages of the draft and of signing name the location already.
                var draft = try EventDraft(bytes: doc.bytes, where: location)
                if !draft.seal().isEmpty {
                    throw LedgerError(
                        .malformed,
                        "\(location): the event holds sealed fields (docs/EVENTS.md §9), which a server does not take yet; append it to the ledger "
                            + "directly (--ledger)")
                }
                envelopes.append(try draft.sign(origin: origin, key: signingKey, now: now, where: location))
            } else {
                do throws(LedgerError) { envelopes.append(try Envelope(json: doc.bytes)) } catch {
                    throw LedgerError(error.code, "\(location): \(error.message)")
                }
            }
        }
        for (i, (doc, envelope)) in zip(docs, envelopes).enumerated() {
            let status: String
            let index: UInt64
            do throws(LedgerError) { (status, index) = try client.append(envelope) } catch {
                let note = i > 0 ? "; the \(i) event(s) before it were appended" : ""
                throw LedgerError(error.code, "\(name):\(doc.line): \(error.message)\(note)", fault: error.fault)
            }
            if output.json {
                let id = (try? EventPayload(bytes: envelope.payload).id) ?? ""
                printJSON([("status", .string(status)), ("index", .int(index)), ("id", .string(id))])
            } else {
                print("\(status == "appended" ? "appended" : "exists") \(index)")
            }
        }
    }
}

extension Ledger {
    /// Appends in one transaction (`append`), with a progress bar on standard error in a
    /// terminal when there are 10,000 envelopes or more.
    func appendShowingProgress(_ envelopes: [Envelope], openings: [String: Sealing.Opening] = [:]) throws(LedgerError) -> [AppendOutcome] {
        guard envelopes.count >= 10_000 else { return try append(envelopes, openings: openings) }
        let progress = Progress(label: "checked and written")
        defer { progress.finish() }
        let outcomes = try append(envelopes, openings: openings) { done, total in progress.update(done, total) }
        progress.update(UInt64(envelopes.count), UInt64(envelopes.count))
        return outcomes
    }
}

extension SigningKeyOption {
    init(key: String) {
        self.init()
        self.key = key
    }
}
