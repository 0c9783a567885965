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
            ],
            resources: [.copy("Public")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
