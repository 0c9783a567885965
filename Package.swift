// swift-tools-version: 6.0
import PackageDescription

// MembershipExport has no package dependencies by design: only the toolchain and system C libraries.
let package = Package(
    name: "MembershipExport",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ExportCore", targets: ["ExportCore"]),
        // One product per adapter family, so a file-system-only host links no SigV4 code; the umbrella
        // `ExportAdapters` re-exports the first three (ExportPostgres is linked on its own).
        .library(name: "ExportInMemory", targets: ["ExportInMemory"]),
        .library(name: "ExportFileSystem", targets: ["ExportFileSystem"]),
        .library(name: "ExportAWS", targets: ["ExportAWS"]),
        .library(name: "ExportPostgres", targets: ["ExportPostgres"]),
        .library(name: "ExportAdapters", targets: ["ExportAdapters"]),
        .library(name: "ExportConformance", targets: ["ExportConformance"]),
        .library(name: "ExportHTTPAPI", targets: ["ExportHTTPAPI"]),
        .executable(name: "membership-export-demo", targets: ["MembershipExportDemo"]),
        .executable(name: "export-aws-worker", targets: ["AWSExportWorker"]),
        .executable(name: "export-benchmarks", targets: ["ExportBenchmarks"]),
    ],
    targets: [
        // zlib, linked from the system (`zlib1g-dev` on Debian/Ubuntu), for the `.csv.gz` format.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        // SHA-256 compression in C: SHA instructions behind a run-time CPU check, portable C otherwise.
        .target(name: "CSHA256"),
        .target(name: "ExportCore", dependencies: ["CZlib", "CSHA256"]),
        .target(name: "ExportInMemory", dependencies: ["ExportCore"], path: "Sources/ExportAdapters/InMemory"),
        .target(name: "ExportFileSystem", dependencies: ["ExportCore"], path: "Sources/ExportAdapters/FileSystem"),
        .target(name: "ExportAWS", dependencies: ["ExportCore", "CZlib"], path: "Sources/ExportAdapters/HTTP"),
        // PostgreSQL through a small SQL port the host implements with its own driver: no dependency here.
        .target(name: "ExportPostgres", dependencies: ["ExportCore"], path: "Sources/ExportAdapters/Postgres"),
        .target(
            name: "ExportAdapters", dependencies: ["ExportInMemory", "ExportFileSystem", "ExportAWS"],
            path: "Sources/ExportAdapters/Umbrella"),
        .target(name: "ExportConformance", dependencies: ["ExportCore"]),
        .target(name: "ExportHTTPAPI", dependencies: ["ExportCore"]),
        .executableTarget(
            name: "MembershipExportDemo",
            dependencies: ["ExportCore", "ExportAdapters", "ExampleSupport"],
            path: "Examples/MembershipExportDemo"
        ),
        .executableTarget(
            name: "AWSExportWorker",
            dependencies: ["ExportCore", "ExportAdapters", "ExampleSupport"],
            path: "Examples/AWSExportWorker"
        ),
        // What the example executables share (graceful SIGTERM/SIGINT handling); not a product.
        .target(name: "ExampleSupport", dependencies: ["ExportCore"], path: "Examples/ExampleSupport"),
        // What the test targets share (the skip log that Scripts/test-all.sh summarises); not a product.
        .target(name: "ExportTestSupport", dependencies: ["ExportCore", "ExportAdapters"], path: "Tests/ExportTestSupport"),
        .executableTarget(
            name: "ExportBenchmarks", dependencies: ["ExportCore", "ExportInMemory", "ExportFileSystem", "ExportAWS"],
            path: "Benchmarks/ExportBenchmarks"),
        .testTarget(name: "ExportCoreTests", dependencies: ["ExportCore", "ExportAdapters", "ExportTestSupport"]),
        .testTarget(
            name: "ExportAdaptersTests",
            dependencies: ["ExportCore", "ExportAdapters", "ExportConformance", "ExportTestSupport"],
            exclude: ["HTTP/Fixtures"]
        ),
        // Types named as a host's imports name them (HTTPTypes, CryptoKit), for the name-clash test.
        .target(name: "ClashingHostTypes", path: "Tests/ClashingHostTypes"),
        .testTarget(
            name: "NameClashTests",
            dependencies: [
                "ClashingHostTypes", "ExportCore", "ExportAdapters", "ExportInMemory", "ExportFileSystem", "ExportAWS",
                "ExportHTTPAPI", "ExportConformance",
            ]),
        .testTarget(name: "ExportHTTPAPITests", dependencies: ["ExportHTTPAPI", "ExportCore", "ExportAdapters", "ExportTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
