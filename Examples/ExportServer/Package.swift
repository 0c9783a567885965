// swift-tools-version: 6.0
import PackageDescription

// The host a Swift team would write around MembershipExport: a Hummingbird service serving the library's
// HTTP API, the e-mailed download links, /metrics, /health and a small web page. It is its own package so the
// root package keeps zero dependencies.
let package = Package(
    name: "ExportServer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "export-server", targets: ["ExportServer"]),
        .library(name: "PostgresNIOPort", targets: ["PostgresNIOPort"]),
        .executable(name: "export-postgres-bench", targets: ["PostgresBench"]),
    ],
    dependencies: [
        .package(name: "MembershipExport", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .executableTarget(
            name: "ExportServer",
            dependencies: [
                .product(name: "ExportCore", package: "MembershipExport"),
                .product(name: "ExportAdapters", package: "MembershipExport"),
                .product(name: "ExportHTTPAPI", package: "MembershipExport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ExportPostgres", package: "MembershipExport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "PostgresNIOPort",
            ],
            resources: [.copy("Public")]
        ),
        // ExportPostgres's SQL port on postgres-nio (the host's side of the port, ~30 lines).
        .target(
            name: "PostgresNIOPort",
            dependencies: [
                .product(name: "ExportPostgres", package: "MembershipExport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Tiny exports through PostgreSQL, request to notified (Scripts/postgres_bench.py runs it beside pgbench).
        .executableTarget(
            name: "PostgresBench",
            dependencies: [
                "PostgresNIOPort",
                .product(name: "ExportCore", package: "MembershipExport"),
                .product(name: "ExportInMemory", package: "MembershipExport"),
                .product(name: "ExportPostgres", package: "MembershipExport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The Postgres adapters against a real PostgreSQL 15 the tests start themselves.
        .testTarget(
            name: "PostgresTests",
            dependencies: [
                "PostgresNIOPort",
                .product(name: "ExportCore", package: "MembershipExport"),
                .product(name: "ExportPostgres", package: "MembershipExport"),
                .product(name: "ExportInMemory", package: "MembershipExport"),
                .product(name: "ExportAWS", package: "MembershipExport"),
                .product(name: "ExportConformance", package: "MembershipExport"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/PostgresTests"),
    ],
    swiftLanguageModes: [.v6]
)
