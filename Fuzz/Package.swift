// swift-tools-version:5.4
// libFuzzer targets for MembershipExport (issue 17). A package of its own because SwiftPM links the
// executables of tools-version 5.5 and later with `--defsym main=<module>_main`, which replaces
// libFuzzer's `main`; at 5.4 the fuzzer's own `main` survives. Run them with Scripts/fuzz.sh, which
// also instruments the library code (not only these targets) for coverage.
import PackageDescription

let fuzzing: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])]
let linking: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]

let package = Package(
    name: "MembershipExportFuzz",
    dependencies: [.package(name: "MembershipExport", path: "..")],
    targets: [
        // zlib's inflate, to read the gzip output back independently of the library's deflate code.
        .systemLibrary(name: "FuzzZlib", pkgConfig: "zlib"),
        .executableTarget(
            name: "FuzzMembershipFile",
            dependencies: [.product(name: "ExportAdapters", package: "MembershipExport")],
            swiftSettings: fuzzing, linkerSettings: linking),
        .executableTarget(
            name: "FuzzHTTPPage",
            dependencies: [
                .product(name: "ExportAdapters", package: "MembershipExport"),
                .product(name: "ExportCore", package: "MembershipExport"),
            ],
            swiftSettings: fuzzing, linkerSettings: linking),
        .executableTarget(
            name: "FuzzEncoders",
            dependencies: [.product(name: "ExportCore", package: "MembershipExport"), "FuzzZlib"],
            swiftSettings: fuzzing, linkerSettings: linking),
        .executableTarget(
            name: "FuzzValues",
            dependencies: [
                .product(name: "ExportAdapters", package: "MembershipExport"),
                .product(name: "ExportCore", package: "MembershipExport"),
            ],
            swiftSettings: fuzzing, linkerSettings: linking),
        .executableTarget(
            name: "FuzzHTTPAPI",
            dependencies: [
                .product(name: "ExportCore", package: "MembershipExport"),
                .product(name: "ExportInMemory", package: "MembershipExport"),
                .product(name: "ExportFileSystem", package: "MembershipExport"),
                .product(name: "ExportHTTPAPI", package: "MembershipExport"),
            ],
            swiftSettings: fuzzing, linkerSettings: linking),
    ]
)
