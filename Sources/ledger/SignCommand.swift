import ArgumentParser
import Foundation
import LedgerArchive
import LedgerCore
import LedgerCrypto

/// `ledger sign`: sign events offline, with no database.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign events offline as DSSE envelopes (no ledger file needed); append them later with `ledger append --signed`.",
        discussion: """
            Input as for `ledger append`; output is one envelope per line. Sealed fields (docs/EVENTS.md §9) are replaced by their \
            commitments before signing, and their openings (the values, in the clear) are written to the new file --openings names, \
            mode 0600: give it to `ledger append --signed --openings FILE`, then destroy it.
            """)

    @OptionGroup var signer: SigningKeyOption
    @Option(help: ArgumentHelp("Origin of the ledger the events are for (it is signed into each payload).", valueName: "name"))
    var origin: String
    @Flag(help: "The input holds one event per line.")
    var batch = false
    @Option(help: ArgumentHelp("Write envelopes to this new file instead of standard output.", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("New file for the openings of sealed fields (needed when an event holds one).", valueName: "file"))
    var openings: String?
    @Argument(help: ArgumentHelp("Event file; `-` or nothing for standard input.", valueName: "file"))
    var input: String?

    func validate() throws {
        guard Origin.isValid(origin) else { throw ValidationError("origin must be 1–255 printable ASCII characters without spaces or '+'") }
    }

    func run() throws {
        try guarded { () throws(LedgerError) in
            let (name, docs) = try Input.documents(input, batch: batch)
            let key = try signer.load()
            let now = SystemClock().now()
            var text: [UInt8] = []
            var opened: [Sealing.Sealed] = []
            for doc in docs {
                let location = "\(name):\(doc.line)"
                var draft = try EventDraft(bytes: doc.bytes, where: location)
                // The body schema needs no ledger: refuse a bad event before it is signed.
                do throws(LedgerError) { try Archive.checkBody(type: draft.type, subject: draft.subject, body: draft.body) } catch {
                    var e = error
                    e.message = "\(location): \(error.message)"
                    throw e
                }
                let sealed = draft.seal()
                if !sealed.isEmpty, openings == nil {
                    throw LedgerError(
                        .malformed,
                        "\(location): field `\(sealed[0].field)` is sealed (docs/EVENTS.md §9): give --openings FILE for the values taken out")
                }
                opened += sealed
                text += try draft.sign(origin: origin, key: key, now: now, where: location).encoded()
                text.append(0x0A)
            }
            if let openings {
                var lines: [UInt8] = []
                for s in opened { lines += SealedOpenings.line(s) + [0x0A] }
                try KeyFile.writeNew(path: openings, bytes: lines)  // 0600, never overwritten
            }
            if let out {
                try KeyFile.writeNew(path: out, bytes: text)
            } else {
                FileHandle.standardOutput.write(Data(text))
            }
        }
    }
}

/// The openings file `ledger sign --openings` writes and `ledger append --signed --openings` reads:
/// one `{"commitment", "salt", "value"}` per line (the salt in base64). It holds the sealed values
/// in the clear: keep it like a key, and destroy it once appended.
enum SealedOpenings {
    static func line(_ s: Sealing.Sealed) -> [UInt8] {
        JSONWriter.encode(
            .object(
                JSONObject(uniqueMembers: [
                    ("commitment", .string(s.commitment)), ("salt", .string(Base64.encode(s.opening.salt))), ("value", s.opening.value),
                ])))
    }

    /// Reads an openings file; each line's commitment must be its salt and value's.
    static func read(_ path: String) throws(LedgerError) -> [String: Sealing.Opening] {
        let (name, docs) = try Input.documents(path, batch: true)
        var out: [String: Sealing.Opening] = [:]
        for doc in docs {
            let o: JSONObject
            do { o = try JSONParser.parseObject(doc.bytes) } catch { throw LedgerError(.malformed, "\(name):\(doc.line): not a JSON object (\(error))") }
            guard o.count == 3, let c = o["commitment"]?.stringValue, let salt = o["salt"]?.stringValue.flatMap(Base64.decode), salt.count == 32,
                let value = o["value"]
            else { throw LedgerError(.malformed, "\(name):\(doc.line): an opening is exactly {\"commitment\", \"salt\" (base64 of 32 bytes), \"value\"}") }
            let opening = Sealing.Opening(salt: salt, value: value)
            guard opening.commitment == c else {
                throw LedgerError(.malformed, "\(name):\(doc.line): the salt and value do not give the commitment \(c.prefix(64))")
            }
            out[c] = opening
        }
        return out
    }
}
