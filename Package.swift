// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sleeper",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sleeper", targets: ["sleeper"])
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.86.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // Outgoing webhooks from `sleeper serve`: the swift-server HTTP client (already in the graph through Hummingbird).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // zlib (the system's), to inflate deflated entries of model archives before scanning them.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Pure domain: inventory model and validation, catalogs, scoring, rendering. No I/O.
        .target(
            name: "SleeperCore",
            dependencies: [
                "CZlib",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // PostgreSQL: connection settings, the embedded cluster, migrations, bulk import, queries.
        .target(
            name: "SleeperStore",
            dependencies: [
                "SleeperCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            plugins: ["EmbedResources"]
        ),
        // The HTTP API: routes, tokens and roles, metrics; a thin shell over the core and the store.
        .target(
            name: "SleeperServer",
            dependencies: [
                "SleeperCore",
                "SleeperStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["openapi.yaml"],
            plugins: ["EmbedResources"]
        ),
        // Command-line commands: thin shells over the core and the store.
        .target(
            name: "SleeperCLI",
            dependencies: [
                "SleeperCore",
                "SleeperStore",
                "SleeperServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(name: "sleeper", dependencies: ["SleeperCLI"]),

        // Migrations/ and Controls/ live at the top level for reviewers; this plugin compiles them
        // into the store so that a copied `sleeper` binary carries its own schema and catalogs.
        .executableTarget(name: "EmbedResourcesTool"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["EmbedResourcesTool"]),

        .testTarget(name: "SleeperCoreTests", dependencies: ["SleeperCore", .product(name: "X509", package: "swift-certificates")]),
        .testTarget(
            name: "SleeperStoreTests",
            dependencies: [
                "SleeperCore", "SleeperStore", "SleeperCLI", "SleeperServer",
                // The service is called over real HTTP with a client whose deadline bounds every wait.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
