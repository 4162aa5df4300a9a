// swift-tools-version:6.0
import PackageDescription

#if canImport(Glibc)
import Glibc
#endif

/// `make portable` sets WSTREAM_PORTABLE=1 to build for any x86-64 CPU.
let targetCPU: [String] = getenv("WSTREAM_PORTABLE") == nil ? ["-target-cpu", "native"] : []

/// Kernels and the forward pass only reach C speed with a target CPU (see ../shared/MEASURED.md):
/// without one swiftc emits SSE2 and Float16 conversions become library calls.
/// `make portable` builds without it for older CPUs.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"] + targetCPU, .when(configuration: .release)),
    // Debug builds (the tests) still optimise the kernels, or model tests would take minutes.
    .unsafeFlags(["-O"] + targetCPU, .when(configuration: .debug)),
]

/// Checksums, shuffles and zstd calls in the container code are hot too, but its validation relies on
/// overflow checks, so it gets `-O` (never `-Ounchecked`).
let checkedHotPathSettings: [SwiftSetting] = [
    .unsafeFlags(targetCPU, .when(configuration: .release)),
    .unsafeFlags(["-O"] + targetCPU, .when(configuration: .debug)),
]

let package = Package(
    name: "wstream",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "WStream", targets: ["WStream"]),
        .executable(name: "wstream", targets: ["wstream"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "WStreamFormat", dependencies: ["CZstd"], swiftSettings: checkedHotPathSettings),
        .target(name: "WStreamImport", dependencies: ["WStreamFormat"]),
        .target(name: "WStreamQuant", swiftSettings: hotPathSettings),
        .target(name: "WStreamTokenizer", dependencies: ["WStreamFormat"]),
        .target(name: "WStreamPack", dependencies: ["WStreamFormat", "WStreamImport", "WStreamQuant"]),
        .target(name: "WStreamSynth", dependencies: ["WStreamImport"]),
        .target(name: "WStreamRuntime", dependencies: ["WStreamFormat"]),
        .target(
            name: "WStreamModel",
            dependencies: ["WStreamRuntime", "WStreamQuant", "WStreamTokenizer"],
            swiftSettings: hotPathSettings),
        .target(name: "WStream", dependencies: ["WStreamModel"]),
        .executableTarget(
            name: "wstream",
            dependencies: [
                "WStream", "WStreamPack", "WStreamSynth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(name: "TestSupport", dependencies: ["WStreamFormat"], path: "Tests/TestSupport"),
        .testTarget(name: "WStreamFormatTests", dependencies: ["WStreamFormat", "TestSupport"]),
        .testTarget(name: "WStreamImportTests", dependencies: ["WStreamImport", "TestSupport"]),
        .testTarget(name: "WStreamQuantTests", dependencies: ["WStreamQuant", "TestSupport"]),
        .testTarget(name: "WStreamTokenizerTests", dependencies: ["WStreamTokenizer", "WStreamImport", "TestSupport"]),
        .testTarget(name: "WStreamSynthTests", dependencies: ["WStreamSynth", "TestSupport"]),
        .testTarget(name: "WStreamPackTests", dependencies: ["WStreamPack", "WStreamSynth", "TestSupport"]),
        .testTarget(name: "WStreamRuntimeTests", dependencies: ["WStreamRuntime", "TestSupport"]),
        .testTarget(name: "WStreamModelTests", dependencies: ["WStreamModel", "WStreamPack", "TestSupport"]),
        .testTarget(name: "WStreamTests", dependencies: ["WStream", "WStreamPack", "WStreamSynth", "TestSupport"]),
        .testTarget(name: "wstreamTests", dependencies: ["WStreamFormat", "WStreamTokenizer", "TestSupport"]),
    ]
)
