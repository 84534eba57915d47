import LedgerCrypto

/// The body of `key.enrolled` and the `admin` member of `ledger.genesis`:
/// `{"name": …, "publicKey": base64, "roles": [ … ]}`.
public struct KeyDescriptor: Sendable, Equatable {
    /// The public key.
    public var publicKey: Ed25519.PublicKey
    /// A human name (1–100 characters, no control characters).
    public var name: String
    /// Roles, sorted, without duplicates.
    public var roles: [Role]

    public init(publicKey: Ed25519.PublicKey, name: String, roles: [Role]) {
        self.publicKey = publicKey
        self.name = name
        self.roles = roles
    }

    /// Checks a key holder's name: 1–100 characters, no control characters, no outer spaces.
    public static func validateName(_ name: String) throws(LedgerError) {
        try Fields.validateName(name, field: "name")
    }

    /// The key id.
    public var keyID: String { KeyID.of(publicKey) }

    /// The JSON object form.
    public var json: JSONObject {
        JSONObject(uniqueMembers: [
            ("name", .string(name)),
            ("publicKey", .string(Base64.encode(publicKey.bytes))),
            ("roles", .array(roles.map { .string($0.rawValue) })),
        ])
    }

    /// Parses and validates the JSON object form; `field` names it in errors.
    public init(json: JSONObject, field: String) throws(LedgerError) {
        try Fields.requireExactly(json, ["name", "publicKey", "roles"], in: field)
        let name = try Fields.string(json, "name", in: field)
        try Fields.validateName(name, field: "\(field).name")
        let pkText = try Fields.string(json, "publicKey", in: field)
        guard let pkBytes = Base64.decode(pkText), let pk = Ed25519.PublicKey(bytes: pkBytes) else {
            throw .malformed("\(field).publicKey", "must be the base64 of a 32-byte Ed25519 public key")
        }
        guard pk.isUsable else {
            throw .malformed(
                "\(field).publicKey",
                "is not a usable Ed25519 public key (small order, non-canonical, or outside the prime-order group): no signature could ever be "
                    + "checked against it")
        }
        guard case .array(let items)? = json["roles"], !items.isEmpty else {
            throw .malformed("\(field).roles", "must be a non-empty array of role names")
        }
        var roles: [Role] = []
        for item in items {
            guard let s = item.stringValue, let role = Role(rawValue: s) else {
                throw .malformed("\(field).roles", "unknown role; roles are admin, archivist, reviewer, log")
            }
            guard !roles.contains(role) else { throw .malformed("\(field).roles", "role \(s) listed twice") }
            roles.append(role)
        }
        self.init(publicKey: pk, name: name, roles: roles.sorted())
    }
}
