import ArgumentParser
import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger key …`: make, show, enroll, revoke and list keys.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make Ed25519 keys, and enroll or revoke them in a ledger.",
        subcommands: [New.self, Show.self, VKey.self, Enroll.self, Revoke.self, List.self]
    )

    enum KDFStrength: String, ExpressibleByArgument, CaseIterable {
        case interactive, moderate, sensitive

        var cost: PassphraseSealing.Cost {
            switch self {
            case .interactive: return .interactive
            case .moderate: return .moderate
            case .sensitive: return .sensitive
            }
        }
    }

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new Ed25519 key file, encrypted with a passphrase.",
            discussion: """
                The seed is sealed with XChaCha20-Poly1305 under a key derived from the passphrase with \
                Argon2id; the file is created with mode 0600 and never overwritten. The passphrase is read \
                from the terminal (typed twice) or from LEDGER_PASSPHRASE.
                """)

        @Option(help: "A name for the key holder, e.g. \"Archivist A. (Aleppo desk)\".")
        var name: String
        @Option(help: ArgumentHelp("Key file to create.", valueName: "file"))
        var out: String
        @Flag(help: "Write the seed unencrypted (for throwaway test keys only).")
        var unencrypted = false
        @Option(help: "Argon2id cost: interactive (64 MiB), moderate (256 MiB) or sensitive (1 GiB).")
        var kdf: KDFStrength = .moderate

        func validate() throws {
            do throws(LedgerError) { try KeyDescriptor.validateName(name) } catch { throw ValidationError(error.message) }
        }

        func run() throws {
            try guarded { () throws(LedgerError) in
                let key = Ed25519.PrivateKey()
                let passphrase = unencrypted ? nil : try Passphrase.forNewKey()
                let bytes = try KeyFile.encode(name: NFC.normalize(name), key: key, passphrase: passphrase, cost: kdf.cost)
                try KeyFile.writeNew(path: out, bytes: bytes)
                print("key id:     \(KeyID.of(key.publicKey))")
                print("public key: \(Base64.encode(key.publicKey.bytes))")
                print("written to: \(out)\(unencrypted ? " (UNENCRYPTED)" : "")")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a key file's name, key id and public key (no passphrase needed).")

        @Argument(help: ArgumentHelp("Key file.", valueName: "file"))
        var file: String
        @OptionGroup var output: JSONOutputOption

        func run() throws {
            try guarded { () throws(LedgerError) in
                let k = try KeyFile(path: file)
                if output.json {
                    printJSON([
                        ("name", .string(k.name)), ("keyid", .string(k.keyID)), ("publicKey", .string(Base64.encode(k.publicKey.bytes))),
                        ("encrypted", .bool(k.isEncrypted)),
                    ])
                } else {
                    print("name:       \(Terminal.safe(k.name))")
                    print("key id:     \(k.keyID)")
                    print("public key: \(Base64.encode(k.publicKey.bytes))")
                    print("encrypted:  \(k.isEncrypted ? "yes" : "NO")")
                }
            }
        }
    }

    struct VKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vkey",
            abstract: "Print a key file's verifier key (C2SP signed-note vkey) for checkpoint or cosignature checks (no passphrase needed).",
            discussion: "For the log key, --name is the ledger's origin; for a witness key, add --witness and give the witness's name.")

        @Argument(help: ArgumentHelp("Key file.", valueName: "file"))
        var file: String
        @Option(help: "Key name: the origin for a log key, the witness name for a witness key.")
        var name: String
        @Flag(help: "A witness (cosignature, type 0x04) key rather than a log key (type 0x01).")
        var witness = false

        func validate() throws {
            guard Origin.isValid(name) else { throw ValidationError("--name must be 1–255 printable ASCII bytes without spaces or +") }
        }

        func run() throws {
            try guarded { () throws(LedgerError) in
                let k = try KeyFile(path: file)
                print(VerifierKey(name: name, kind: witness ? .cosigner : .log, publicKey: k.publicKey).encoded)
            }
        }
    }

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enroll a key in the ledger with roles (signed by an admin key).",
            discussion: "Roles: admin (enroll and revoke keys), archivist (record), reviewer (grade and assess), log (sign checkpoints).")

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var signer: SigningKeyOption
        @Option(name: .customLong("public-key-file"), help: ArgumentHelp("The new key's key file (only its public part is read).", valueName: "file"))
        var publicKeyFile: String?
        @Option(name: .customLong("public-key"), help: ArgumentHelp("The new key's public key in base64.", valueName: "base64"))
        var publicKey: String?
        @Option(help: "Name of the key holder (defaults to the name in the key file).")
        var name: String?
        @Option(help: ArgumentHelp("Comma-separated roles: admin, archivist, reviewer, log.", valueName: "roles"))
        var roles: String

        func validate() throws {
            guard (publicKeyFile == nil) != (publicKey == nil) else {
                throw ValidationError("give exactly one of --public-key-file or --public-key")
            }
            if publicKey != nil, name == nil { throw ValidationError("--name is required with --public-key") }
        }

        func run() throws {
            try guarded { () throws(LedgerError) in
                let roleList = try Role.parseList(roles)
                var pk: Ed25519.PublicKey
                var holder = name
                if let publicKeyFile {
                    let f = try KeyFile(path: publicKeyFile)
                    pk = f.publicKey
                    if holder == nil { holder = f.name }
                } else {
                    guard let b = Base64.decode(publicKey!), let k = Ed25519.PublicKey(bytes: b) else {
                        throw LedgerError(.malformed, "--public-key must be the base64 of 32 bytes")
                    }
                    pk = k
                }
                let descriptor = KeyDescriptor(publicKey: pk, name: NFC.normalize(holder!), roles: roleList)
                let store = try ledger.open()
                // One key, one use: a reader's key does not also sign (docs/DECISIONS.md 81).
                if let readerKey = try? ValueSealing.ReaderKey.publicKey(of: pk),
                    let reader = try store.readers().first(where: { $0.encryptionKey == readerKey })
                {
                    throw LedgerError(
                        .refused, "this is the key of \(reader.id), a reader of sealed values; a signing key must be a key of its own (`ledger key new`)")
                }
                let key = try signer.load()
                let outcome = try store.appendSigned(
                    type: EventTypes.keyEnrolled, subject: descriptor.keyID, body: descriptor.json, key: key, where: "key enroll")
                print("enrolled \(descriptor.keyID) (\(descriptor.name)) as \(roleList.map(\.rawValue).joined(separator: ",")) at entry \(outcome.index)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key (signed by an admin key). Its later events are refused; earlier ones stay valid.")

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var signer: SigningKeyOption
        @Option(help: "Why the key is revoked (recorded in the log).")
        var reason: String
        @Argument(help: ArgumentHelp("Key id (64 hex digits) to revoke.", valueName: "keyid"))
        var keyID: String

        func validate() throws {
            guard KeyID.isWellFormed(keyID) else { throw ValidationError("key id must be 64 lowercase hex digits") }
        }

        func run() throws {
            try guarded { () throws(LedgerError) in
                let store = try ledger.open()
                let key = try signer.load()
                let body = JSONObject(uniqueMembers: [("reason", .string(NFC.normalize(reason)))])
                let outcome = try store.appendSigned(type: EventTypes.keyRevoked, subject: keyID, body: body, key: key, where: "key revoke")
                print("revoked \(keyID) at entry \(outcome.index)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys enrolled in a ledger, with roles and status.")

        @OptionGroup var ledger: LedgerOption
        @OptionGroup var output: JSONOutputOption

        func run() throws {
            try guarded { () throws(LedgerError) in
                let store = try ledger.open(readOnly: true)
                for k in try store.keys() {
                    if output.json {
                        var m: [(key: String, value: JSONValue)] = [
                            ("keyid", .string(k.keyID)), ("name", .string(k.name)), ("roles", .array(k.roles.map { .string($0.rawValue) })),
                            ("enrolledAt", .int(k.enrolledAt)),
                        ]
                        m.append(("revokedAt", k.revokedAt.map { .int($0) } ?? .null))
                        printJSON(m)
                    } else {
                        let status = k.revokedAt.map { "revoked at \($0)" } ?? "active"
                        print(
                            "\(k.keyID)  \(k.roles.map(\.rawValue).joined(separator: ",").padding(toLength: 24, withPad: " ", startingAt: 0)) "
                                + "\(status.padding(toLength: 18, withPad: " ", startingAt: 0)) \(Terminal.safe(k.name))")
                    }
                }
            }
        }
    }
}
