import Foundation
import LedgerCore
import LedgerCrypto

/// A private key file: JSON holding the key's name, id and public key, and its 32-byte seed
/// either sealed under a passphrase (Argon2id + XChaCha20-Poly1305) or, only when asked for
/// explicitly, in the clear. Written with mode 0600. See docs/KEYS.md.
struct KeyFile {
    static let format = "incidentledger-key/1"
    static let sealedScheme = "argon2id+xchacha20poly1305"

    var path: String
    var name: String
    var publicKey: Ed25519.PublicKey
    var keyID: String
    /// The sealed seed, or nil when the file is unencrypted.
    var sealed: PassphraseSealing.Sealed?
    private var clearSeed: [UInt8]?
    /// The permission bits of the file as read (from the descriptor the bytes came through).
    private var mode: mode_t = 0

    var isEncrypted: Bool { sealed != nil }

    /// The associated data binding the ciphertext to this key file's identity and name.
    static func associatedData(keyID: String, name: String) -> [UInt8] { Array("\(format)\n\(keyID)\n\(name)".utf8) }

    static let encryptedMembers: Set<String> = ["format", "name", "keyid", "publicKey", "encryption", "kdf", "nonce", "ciphertext"]
    static let clearMembers: Set<String> = ["format", "name", "keyid", "publicKey", "encryption", "seed"]

    /// Serialises a new key file.
    static func encode(name: String, key: Ed25519.PrivateKey, passphrase: [UInt8]?, cost: PassphraseSealing.Cost) throws(LedgerError) -> [UInt8] {
        let keyID = KeyID.of(key.publicKey)
        var members: [(key: String, value: JSONValue)] = [
            ("format", .string(format)),
            ("name", .string(name)),
            ("keyid", .string(keyID)),
            ("publicKey", .string(Base64.encode(key.publicKey.bytes))),
        ]
        if let passphrase {
            let sealed: PassphraseSealing.Sealed
            do {
                sealed = try PassphraseSealing.seal(key.seed, passphrase: passphrase, associatedData: associatedData(keyID: keyID, name: name), cost: cost)
            } catch {
                throw LedgerError(.keyFile, "could not encrypt the key: \(error)")
            }
            members.append(("encryption", .string(sealedScheme)))
            members.append(
                (
                    "kdf",
                    .object(
                        JSONObject(uniqueMembers: [
                            ("opslimit", .number(String(sealed.cost.opsLimit))),
                            ("memlimit", .number(String(sealed.cost.memLimit))),
                            ("salt", .string(Base64.encode(sealed.salt))),
                        ]))
                ))
            members.append(("nonce", .string(Base64.encode(sealed.nonce))))
            members.append(("ciphertext", .string(Base64.encode(sealed.ciphertext))))
        } else {
            members.append(("encryption", .string("none")))
            members.append(("seed", .string(key.seed.withUnsafeBytes { Base64.encode($0) })))
        }
        var out = JSONWriter.encode(.object(JSONObject(uniqueMembers: members)))
        out.append(0x0A)
        return out
    }

    /// Writes `bytes` to a new file with mode 0600, refusing to overwrite, and syncs it.
    static func writeNew(path: String, bytes: [UInt8]) throws(LedgerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it already exists (key files are never overwritten)" : String(cString: strerror(errno))
            throw LedgerError(.io, "cannot create \(path): \(reason)")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw LedgerError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads and checks a key file (does not decrypt it).
    init(path: String) throws(LedgerError) {
        self.path = path
        // Mode and bytes from one descriptor, so the file checked is the file read.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError(.keyFile, "key file \(path) cannot be read (missing or no permission)")
        }
        defer { try? handle.close() }
        var info = stat()
        guard fstat(handle.fileDescriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw LedgerError(.keyFile, "key file \(path) is not a regular file")
        }
        mode = info.st_mode & 0o777
        let data: Data
        do { data = try handle.read(upToCount: 65537) ?? Data() } catch {
            throw LedgerError(.keyFile, "key file \(path) cannot be read: \(error.localizedDescription)")
        }
        let object: JSONObject
        do { object = try JSONParser.parseObject(Array(data), limits: .init(maxBytes: 65536, maxDepth: 4, requireNFC: false)) } catch {
            throw LedgerError(.keyFile, "key file \(path) is not valid JSON: \(error)")
        }
        func string(_ k: String) throws(LedgerError) -> String {
            guard let s = object[k]?.stringValue else { throw LedgerError(.keyFile, "key file \(path): field `\(k)` is missing or not a string") }
            return s
        }
        func bytes(_ k: String, in o: JSONObject? = nil) throws(LedgerError) -> [UInt8] {
            guard let s = (o ?? object)[k]?.stringValue, let b = Base64.decode(s) else {
                throw LedgerError(.keyFile, "key file \(path): field `\(k)` is missing or not base64")
            }
            return b
        }
        guard try string("format") == KeyFile.format else {
            throw LedgerError(.keyFile, "key file \(path) is not an IncidentLedger key (format must be \(KeyFile.format))")
        }
        name = try string("name")
        guard let pk = Ed25519.PublicKey(bytes: try bytes("publicKey")) else {
            throw LedgerError(.keyFile, "key file \(path): publicKey must be 32 bytes")
        }
        publicKey = pk
        keyID = try string("keyid")
        guard keyID == KeyID.of(pk) else { throw LedgerError(.keyFile, "key file \(path): keyid does not match publicKey; the file was altered") }
        let encryption = try string("encryption")
        let allowed = encryption == "none" ? KeyFile.clearMembers : KeyFile.encryptedMembers
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw LedgerError(.keyFile, "key file \(path): unexpected member `\(unknown.prefix(40))`; the file was altered")
        }
        switch encryption {
        case "none":
            clearSeed = try bytes("seed")
            sealed = nil
        case KeyFile.sealedScheme:
            guard case .object(let kdf)? = object["kdf"], let ops = kdf["opslimit"]?.unsignedIntegerValue,
                let mem = kdf["memlimit"]?.unsignedIntegerValue
            else { throw LedgerError(.keyFile, "key file \(path): `kdf` must hold opslimit, memlimit and salt") }
            let cost = PassphraseSealing.Cost(opsLimit: ops, memLimit: mem)
            guard cost.isAcceptable, cost.opsLimit <= 16, cost.memLimit <= PassphraseSealing.Cost.sensitive.memLimit else {
                throw LedgerError(.keyFile, "key file \(path): Argon2id limits out of range (at most 16 passes and 1 GiB)")
            }
            sealed = PassphraseSealing.Sealed(salt: try bytes("salt", in: kdf), nonce: try bytes("nonce"), ciphertext: try bytes("ciphertext"), cost: cost)
        default:
            throw LedgerError(.keyFile, "key file \(path): unknown encryption scheme")
        }
    }

    /// The environment variable that lets a key file readable by others be used anyway
    /// (`LEDGER_ALLOW_SHARED_KEY_FILE=1`, for a deliberately shared read-only demo key).
    static let allowSharedVariable = "LEDGER_ALLOW_SHARED_KEY_FILE"

    /// Refuses a key file whose permissions let group or others read or write it (as ssh does):
    /// its secret may already be copied, and using it would hide that.
    func requirePrivatePermissions() throws(LedgerError) {
        guard mode & 0o077 != 0 else { return }
        if ProcessInfo.processInfo.environment[KeyFile.allowSharedVariable] == "1" { return }
        throw LedgerError(
            .keyFile,
            "key file \(path) is accessible by group or others (mode \(String(mode, radix: 8))): a private key must be readable by its owner alone; "
                + "run `chmod 600 \(path)` (and consider the key exposed if others could read it)")
    }

    /// The private key, asking for the passphrase when the file is encrypted. Refuses a file
    /// others can read (`requirePrivatePermissions`).
    func unlock(passphrase: () throws(LedgerError) -> [UInt8]) throws(LedgerError) -> Ed25519.PrivateKey {
        try requirePrivatePermissions()
        let seed: SecureBytes
        if let sealed {
            var pass = try passphrase()
            defer { for i in pass.indices { pass[i] = 0 } }
            do {
                seed = try PassphraseSealing.open(sealed, passphrase: pass, associatedData: KeyFile.associatedData(keyID: keyID, name: name))
            } catch {
                throw LedgerError(.keyFile, "wrong passphrase for key file \(path) (or the file is damaged)")
            }
        } else {
            seed = SecureBytes(clearSeed ?? [])
        }
        let key: Ed25519.PrivateKey
        do { key = try Ed25519.PrivateKey(seed: seed) } catch {
            throw LedgerError(.keyFile, "key file \(path): the seed must be 32 bytes")
        }
        guard key.publicKey == publicKey else {
            throw LedgerError(.keyFile, "key file \(path): the secret does not match the public key; the file was altered")
        }
        return key
    }
}
