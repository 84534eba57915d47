// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "IncidentLedger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ledger", targets: ["ledger"]),
        .library(name: "LedgerCore", targets: ["LedgerCore"]),
        .library(name: "LedgerArchive", targets: ["LedgerArchive"]),
        .library(name: "LedgerStore", targets: ["LedgerStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
    ],
    targets: [
        // The only C library binding for libsodium; imported by LedgerCrypto alone.
        .systemLibrary(
            name: "CLedgerSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Ed25519, SHA-256, Argon2id, XChaCha20-Poly1305, base64: the only code touching libsodium.
        .target(name: "LedgerCrypto", dependencies: ["CLedgerSodium"]),
        // Pure log core: JSON, envelopes, entries, Merkle tree, checkpoints, key rules, verification.
        .target(name: "LedgerCore", dependencies: ["LedgerCrypto"]),
        // Pure archive domain: entity events and their schemas, the fold into current state, history, snapshots.
        .target(name: "LedgerArchive", dependencies: ["LedgerCore", "LedgerCrypto"]),
        // SQLite storage through GRDB: the only module importing GRDB.
        .target(
            name: "LedgerStore",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The PostgreSQL storage on postgres-nio: the only module importing PostgresNIO.
        .target(
            name: "LedgerPostgres",
            dependencies: ["LedgerCore", "LedgerArchive", "LedgerCrypto", "LedgerStore", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // `ledger serve`: the archive over HTTP on Hummingbird (the only module importing it).
        .target(
            name: "LedgerServer",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto", "LedgerStore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // The command-line tool.
        .executableTarget(
            name: "ledger",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto", "LedgerStore", "LedgerPostgres", "LedgerServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks against the raw limits (not tests): `swift run -c release ledger-bench`.
        .executableTarget(
            name: "ledger-bench",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto", "LedgerStore", "LedgerPostgres", "LedgerServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/LedgerBench"
        ),
        // Builds the campaign archive's bundle from Ledger/records with demo keys and fixed times:
        // `bash Tools/build-ledger.sh`.
        .executableTarget(
            name: "ledger-build",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto", "LedgerStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LedgerBuild"
        ),
        // Seeded mutation fuzzer of every decoder of untrusted input: `bash Tools/fuzz.sh`.
        .executableTarget(
            name: "ledger-fuzz",
            dependencies: [
                "LedgerCore", "LedgerArchive", "LedgerCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/LedgerFuzz"
        ),
        // Shared fixtures for tests: fixed keys, a manual clock, in-memory Merkle storage, the stores tests run against.
        .target(name: "LedgerTesting", dependencies: ["LedgerCore", "LedgerCrypto", "LedgerStore", "LedgerPostgres"], path: "Tests/LedgerTesting"),
        .testTarget(name: "LedgerCryptoTests", dependencies: ["LedgerCrypto", "CLedgerSodium", "LedgerTesting"], resources: [.copy("Vectors")]),
        .testTarget(name: "LedgerCoreTests", dependencies: ["LedgerCore", "LedgerTesting"], resources: [.copy("Vectors")]),
        .testTarget(name: "LedgerArchiveTests", dependencies: ["LedgerArchive", "LedgerCore", "LedgerTesting"]),
        .testTarget(name: "LedgerStoreTests", dependencies: ["LedgerStore", "LedgerPostgres", "LedgerCore", "LedgerTesting"]),
        .testTarget(name: "LedgerCLITests", dependencies: ["ledger", "LedgerCore", "LedgerCrypto", "LedgerStore", "LedgerTesting"]),
        .testTarget(
            name: "LedgerServerTests",
            dependencies: [
                "LedgerServer", "LedgerStore", "LedgerCore", "LedgerCrypto", "LedgerTesting", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.unsafeFlags(["-warnings-as-errors"]))
    target.swiftSettings = settings
}
