import ArgumentParser
import Foundation
import LedgerCore
import LedgerCrypto
import LedgerStore

/// `ledger witness`: cosign a checkpoint only when it is consistent with the last one seen.
struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Cosign a checkpoint (C2SP tlog-cosignature) if it is consistent with the last one this witness cosigned for its origin.",
        discussion: """
            The witness keeps its state in --state DIR: its name, and per origin the log's verifier keys and the last checkpoint it \
            cosigned. The first checkpoint of an origin needs --log-key. A larger checkpoint needs a consistency proof from the last \
            size seen: --proof FILE (from `ledger prove consistency`) or --ledger PATH (computed from that file, then checked). \
            A fork (another root at the same size, a smaller tree, or a proof that does not verify) is refused with exit 1 and both \
            signed checkpoints are kept under DIR/logs/<origin hash>/forks/ as evidence. The cosigned checkpoint goes to standard output; \
            give it to the log operator for `ledger checkpoint --attach`. See docs/CLI.md.
            """)

    @OptionGroup var signer: SigningKeyOption
    @Option(help: ArgumentHelp("The witness's state directory (created on first use).", valueName: "dir"))
    var state: String
    @Argument(help: ArgumentHelp("The signed checkpoint to cosign.", valueName: "checkpoint"))
    var checkpoint: String
    @Option(help: ArgumentHelp("The witness's name (key name in cosignature lines), e.g. witness.example.org/w1; fixed on first use.", valueName: "name"))
    var name: String?
    @Option(
        name: .customLong("log-key"),
        help: ArgumentHelp("A verifier key of the log (ORIGIN+HASH+BASE64 or a file); adds it to the keys trusted for that origin.", valueName: "vkey"))
    var logKeyArgs: [String] = []
    @Option(help: ArgumentHelp("Consistency proof file from the last size this witness saw to the new checkpoint.", valueName: "file"))
    var proof: String?
    @Option(help: ArgumentHelp("Ledger file to compute the consistency proof from (it is checked like any proof).", valueName: "path"))
    var ledger: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Cosigning time as POSIX seconds (for reproducible tests). Default: now.", valueName: "seconds"))
    var time: UInt64?

    func validate() throws {
        if let name, !Origin.isValid(name) { throw ValidationError("--name must be 1–255 printable ASCII bytes without spaces or +") }
        if proof != nil && ledger != nil { throw ValidationError("give --proof or --ledger, not both") }
        for k in try logKeyArgs.map({ try readVerifierKey($0, option: "--log-key") }) where k.kind != .log {
            throw ValidationError("--log-key \(k.name): this is a witness key (type 0x04), not a log key (type 0x01)")
        }
        if let time, time >= 1 << 63 { throw ValidationError("--time must be below 2^63") }
    }

    func run() throws {
        let newLogKeys = try logKeyArgs.map { try readVerifierKey($0, option: "--log-key") }
        try guarded { () throws(LedgerError) in
            let store = WitnessState(directory: state)
            // One witness run at a time per state directory: two concurrent runs could otherwise
            // each cosign one side of a fork. The lock is released when the process exits.
            let lock = try store.lock()
            defer { close(lock) }
            let witnessName = try store.name(given: name)
            let offeredBytes = try Input.read(checkpoint, limit: Limits.note, what: Limits.noteName).bytes
            let offered: SignedNote
            let cp: Checkpoint
            do throws(LedgerError) {
                offered = try SignedNote(bytes: offeredBytes)
                cp = try Checkpoint(text: offered.text)
            } catch {
                throw LedgerError(.malformed, "\(checkpoint) is not a signed checkpoint: \(error.message)")
            }
            for k in newLogKeys where k.name != cp.origin {
                throw LedgerError(.refused, "--log-key is named \(k.name) but the checkpoint's origin is \(cp.origin)")
            }
            let log = try store.log(origin: cp.origin, adding: newLogKeys)
            guard !log.keys.isEmpty else {
                throw LedgerError(
                    .refused, "this witness has not seen origin \(cp.origin) before: give the log's verifier key with --log-key (see `ledger key vkey`)")
            }
            guard log.keys.contains(where: { offered.isSigned(name: cp.origin, publicKey: $0.publicKey) }) else {
                throw LedgerError(.verificationFailed, "the checkpoint is not signed by any log key this witness trusts for \(cp.origin); nothing cosigned")
            }
            if let latestBytes = log.latest {
                let latest = try Checkpoint(text: try SignedNote(bytes: latestBytes).text)
                func fork(_ reason: String) throws(LedgerError) -> Never {
                    let evidence = try store.recordFork(origin: cp.origin, known: latestBytes, offered: offeredBytes, reason: reason)
                    throw LedgerError(.verificationFailed, "FORK: \(reason); refused to cosign. Both signed checkpoints are kept as evidence in \(evidence)")
                }
                if cp.size < latest.size {
                    try fork(
                        "the checkpoint is for tree size \(cp.size), smaller than the \(latest.size) this witness already cosigned (root \(latest.root.hex))")
                }
                if cp.size == latest.size, cp.root != latest.root {
                    try fork("the checkpoint has root \(cp.root.hex) for tree size \(cp.size), but this witness cosigned root \(latest.root.hex) for that size")
                }
                if cp.size > latest.size {
                    let hashes: [Digest32]
                    if let proof {
                        let file = try ConsistencyProofFile(bytes: try Input.read(proof, limit: Limits.proof, what: Limits.proofName).bytes)
                        guard file.oldSize == latest.size, try Checkpoint(text: try SignedNote(bytes: file.newNote).text) == cp else {
                            throw LedgerError(
                                .refused,
                                "the proof in \(proof) is from size \(file.oldSize); this witness needs one from \(latest.size) (the last size it "
                                    + "cosigned) to \(cp.size)")
                        }
                        hashes = file.proof
                    } else if let ledger {
                        hashes = try OpenLedgers.open(path: ledger, readOnly: true).consistencyProof(from: latest.size, to: cp.size)
                    } else {
                        throw LedgerError(
                            .refused,
                            "this witness last cosigned tree size \(latest.size) of \(cp.origin); give a consistency proof to size \(cp.size) with "
                                + "--proof (ledger prove consistency --from \(latest.size) --to \(cp.size)) or --ledger")
                    }
                    guard MerkleTree.verifyConsistency(from: latest.size, to: cp.size, fromRoot: latest.root, toRoot: cp.root, proof: hashes) else {
                        try fork(
                            "no valid consistency proof from tree size \(latest.size) (root \(latest.root.hex)) to \(cp.size) (root \(cp.root.hex)): "
                                + "the log may have been rewritten")
                    }
                }
            }
            let key = try signer.load()
            let now = time ?? UInt64(max(0, SystemClock().now().microseconds / 1_000_000))
            var cosigned = offered
            let mine = Cosignature.sign(text: offered.text, name: witnessName, key: key, time: now)
            cosigned.signatures.removeAll { $0.name.sameBytes(mine.name) && $0.keyHash == mine.keyHash }
            cosigned.signatures.append(mine)
            try store.saveLatest(origin: cp.origin, note: cosigned.encoded())
            FileHandle.standardOutput.write(Data(cosigned.encoded()))
            Terminal.note(
                "cosigned \(cp.origin) at tree size \(cp.size) as \(witnessName); verifier key: "
                    + "\(VerifierKey(name: witnessName, kind: .cosigner, publicKey: key.publicKey).encoded)")
        }
    }
}

/// A witness's state directory: `name`, and per origin (named by the hex SHA-256 of the origin)
/// `logs/<hash>/origin`, `log-keys` (one vkey per line), `latest` (the last cosigned note) and
/// `forks/<n>/` (evidence: `known`, `offered`, `reason`).
struct WitnessState {
    let directory: String

    struct Log {
        var keys: [VerifierKey]
        var latest: [UInt8]?
    }

    /// A state folder, owner-only: whoever could write it could make the witness cosign a fork.
    private func ensure(_ path: String) throws(LedgerError) {
        try PrivateFiles.createDirectory(path)
    }

    /// Takes the state directory's exclusive lock (waiting for another run to finish).
    func lock() throws(LedgerError) -> Int32 {
        try ensure(directory)
        let fd = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX) == 0 else {
            throw LedgerError(.io, "\(directory)/lock cannot be locked: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    func name(given: String?) throws(LedgerError) -> String {
        try ensure(directory)
        let file = directory + "/name"
        if let d = FileManager.default.contents(atPath: file) {
            let stored = String(decoding: d, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard Origin.isValid(stored) else {
                throw LedgerError(
                    .io, "\(file) does not hold a valid witness name (1–255 printable ASCII bytes without spaces or +): the state directory is damaged")
            }
            if let given, given != stored {
                throw LedgerError(.refused, "this witness state belongs to witness \(stored), not \(given) (a witness's name never changes)")
            }
            return stored
        }
        guard let given else { throw LedgerError(.refused, "new witness state: give the witness's name with --name (e.g. witness.example.org/w1)") }
        try OutputFile.write(Array((given + "\n").utf8), to: file)
        return given
    }

    private func logDirectory(_ origin: String) -> String { directory + "/logs/" + SHA256.hash(utf8: origin).hex }

    func log(origin: String, adding: [VerifierKey]) throws(LedgerError) -> Log {
        let dir = logDirectory(origin)
        var keys: [VerifierKey] = []
        if let d = FileManager.default.contents(atPath: dir + "/log-keys") {
            for line in String(decoding: d, as: UTF8.self).split(separator: "\n") {
                do throws(LedgerError) { keys.append(try VerifierKey(parsing: String(line))) } catch {
                    throw LedgerError(.io, "\(dir)/log-keys is damaged: \(error.message)")
                }
            }
        }
        let fresh = adding.filter { !keys.contains($0) }
        if !fresh.isEmpty {
            try ensure(dir)
            if !FileManager.default.fileExists(atPath: dir + "/origin") { try OutputFile.write(Array((origin + "\n").utf8), to: dir + "/origin") }
            keys += fresh
            try OutputFile.replace(Array(keys.map { $0.encoded + "\n" }.joined().utf8), at: dir + "/log-keys")
        }
        let latest = FileManager.default.contents(atPath: dir + "/latest").map { Array($0) }
        if let latest {
            do throws(LedgerError) {
                let cp = try Checkpoint(text: try SignedNote(bytes: latest).text)
                guard cp.origin.sameBytes(origin) else { throw LedgerError(.malformed, "it names origin \(cp.origin)") }
            } catch {
                throw LedgerError(.io, "\(dir)/latest is damaged (\(error.message)); restore it from a backup: it is this witness's memory of the log")
            }
        }
        return Log(keys: keys, latest: latest)
    }

    func saveLatest(origin: String, note: [UInt8]) throws(LedgerError) {
        try OutputFile.replace(note, at: logDirectory(origin) + "/latest")
    }

    func recordFork(origin: String, known: [UInt8], offered: [UInt8], reason: String) throws(LedgerError) -> String {
        let forks = logDirectory(origin) + "/forks"
        try ensure(forks)
        var n = 1
        while FileManager.default.fileExists(atPath: "\(forks)/\(n)") { n += 1 }
        let dir = "\(forks)/\(n)"
        try ensure(dir)
        try OutputFile.write(known, to: dir + "/known")
        try OutputFile.write(offered, to: dir + "/offered")
        try OutputFile.write(Array("\(Bag.exportTimeText(SystemClock().now()))\n\(reason)\n".utf8), to: dir + "/reason")
        return dir
    }
}
