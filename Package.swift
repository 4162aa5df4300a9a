// swift-tools-version:6.2
import PackageDescription

// wstream runs on Linux only: the memory budget is read from /proc and held with Linux's mmap, madvise and cgroup
// semantics (see README.md).

#if canImport(Glibc)
import Glibc
#endif

/// The integer kernels WStreamQuant compiles (see Sources/WStreamQuant/KernelFamily.swift), chosen at build
/// time because swiftc crashes on intrinsics the target CPU lacks instead of reporting an error.
/// WSTREAM_KERNELS=avx512vnni|avx2|portable overrides the host's CPU flags, so that every family can be built
/// and tested on one machine; `make portable` sets WSTREAM_PORTABLE=1, which means portable.
enum KernelFamily: String {
    case avx512vnni, avx2, portable
}

/// The flags of the first processor in /proc/cpuinfo (empty where there is none, e.g. on macOS).
func hostCPUFlags() -> Set<Substring> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line)
        if text.hasPrefix("flags") {
            return Set(text.split(separator: ":", maxSplits: 1).last?.split(whereSeparator: { $0 == " " || $0 == "\n" }) ?? [])
        }
    }
    return []
}

let forcedFamily: KernelFamily? = {
    if getenv("WSTREAM_PORTABLE") != nil { return .portable }
    guard let value = getenv("WSTREAM_KERNELS") else { return nil }
    guard let family = KernelFamily(rawValue: String(cString: value)) else {
        fatalError("WSTREAM_KERNELS is '\(String(cString: value))'; use avx512vnni, avx2 or portable")
    }
    return family
}()

let kernelFamily: KernelFamily = forcedFamily ?? {
    let flags = hostCPUFlags()
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "f16c", "fma"]) { return .avx512vnni }
    if flags.isSuperset(of: ["avx2", "f16c", "fma"]) { return .avx2 }
    return .portable
}()

/// Kernels and the forward pass only reach C speed with a target CPU (see ../shared/MEASURED.md): without
/// one swiftc emits SSE2 and Float16 conversions become library calls. A forced AVX2 build targets Haswell
/// so that nothing from AVX-512 sneaks in on a machine that has it; portable builds name no CPU.
let targetCPU: [String] = switch kernelFamily {
case .avx512vnni: ["-target-cpu", "native"]
case .avx2: forcedFamily == nil ? ["-target-cpu", "native"] : ["-target-cpu", "haswell"]
case .portable: []
}

/// WSTREAM_AVX2 also holds for AVX-512 VNNI builds, so their tests cover the AVX2 kernels too.
let kernelConditions: [SwiftSetting] = switch kernelFamily {
case .avx512vnni: [.define("WSTREAM_AVX512VNNI"), .define("WSTREAM_AVX2")]
case .avx2: [.define("WSTREAM_AVX2")]
case .portable: []
}

/// The kernels, the forward pass and the container code (checksums, shuffles, zstd calls) are built with `-O` in both configurations, so the shipped build is the tested
/// build: `-Ounchecked` (which removes every precondition) measured no faster (LFM2-1.2B shape, all resident, A/B in
/// one run: decode 32.6 and 34.2 tok/s against 32.5 and 35.1 with `-O`). Debug builds (the tests) optimise them too,
/// or model tests would take minutes.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-O"] + targetCPU),
]

let package = Package(
    name: "wstream",
    products: [
        .library(name: "WStream", targets: ["WStream"]),
        .library(name: "WStreamServer", targets: ["WStreamServer"]),
        .executable(name: "wstream", targets: ["wstream"]),
        // What the libFuzzer targets in Fuzzing/ (a package of their own) run; see Sources/WStreamFuzzing.
        .library(name: "WStreamFuzzing", targets: ["WStreamFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Without its default traits Hummingbird needs neither swift-configuration nor full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "WStreamFormat", dependencies: ["CZstd"], swiftSettings: hotPathSettings),
        .executableTarget(name: "FamilyRegistryGenerator"),
        .plugin(name: "FamilyRegistry", capability: .buildTool(), dependencies: ["FamilyRegistryGenerator"]),
        .target(name: "WStreamImport", dependencies: ["WStreamFormat"], plugins: ["FamilyRegistry"]),
        .systemLibrary(name: "CPrefetch"),
        .target(name: "WStreamQuant", dependencies: ["CPrefetch"], swiftSettings: hotPathSettings + kernelConditions),
        .target(name: "WStreamTokenizer", dependencies: ["WStreamFormat"]),
        .target(name: "WStreamPack", dependencies: ["WStreamFormat", "WStreamImport", "WStreamQuant"]),
        .target(name: "WStreamSynth", dependencies: ["WStreamFormat", "WStreamImport", "WStreamQuant"]),
        .target(name: "WStreamRuntime", dependencies: ["WStreamFormat"]),
        .target(
            name: "WStreamModel",
            dependencies: ["WStreamFormat", "WStreamRuntime", "WStreamQuant", "WStreamTokenizer"],
            swiftSettings: hotPathSettings + kernelConditions, plugins: ["FamilyRegistry"]),
        .target(name: "WStream", dependencies: ["WStreamFormat", "WStreamRuntime", "WStreamQuant", "WStreamTokenizer", "WStreamModel"]),
        .target(name: "WStreamProcess"),
        .target(
            name: "WStreamFuzzing",
            dependencies: ["WStreamFormat", "WStreamImport", "WStreamQuant", "WStreamTokenizer", "WStreamModel", "WStreamPack", "WStreamSynth"]),
        .target(
            name: "WStreamServer",
            dependencies: [
                "WStream",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .executableTarget(
            name: "wstream",
            dependencies: [
                "WStream", "WStreamServer", "WStreamFormat", "WStreamImport", "WStreamQuant", "WStreamTokenizer", "WStreamPack",
                "WStreamSynth", "WStreamProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .target(name: "TestSupport", dependencies: ["WStreamFormat", "WStreamProcess"], path: "Tests/TestSupport"),
        .testTarget(name: "WStreamFormatTests", dependencies: ["CZstd", "WStreamFormat", "WStreamQuant", "TestSupport"]),
        .testTarget(name: "WStreamImportTests", dependencies: ["WStreamFormat", "WStreamImport", "TestSupport"]),
        .testTarget(name: "WStreamQuantTests", dependencies: ["WStreamQuant", "TestSupport"]),
        .testTarget(name: "WStreamTokenizerTests", dependencies: ["WStreamFormat", "WStreamTokenizer", "WStreamImport", "TestSupport"]),
        .testTarget(name: "WStreamSynthTests", dependencies: ["WStreamFormat", "WStreamImport", "WStreamSynth", "TestSupport"]),
        .testTarget(
            name: "WStreamPackTests",
            dependencies: ["WStreamFormat", "WStreamImport", "WStreamQuant", "WStreamPack", "WStreamSynth", "TestSupport"]),
        .testTarget(name: "WStreamRuntimeTests", dependencies: ["WStreamFormat", "WStreamRuntime", "TestSupport"]),
        .testTarget(
            name: "WStreamModelTests",
            dependencies: [
                "WStreamFormat", "WStreamImport", "WStreamQuant", "WStreamRuntime", "WStreamTokenizer", "WStreamModel", "WStreamPack", "WStreamSynth",
                "TestSupport",
            ]),
        .testTarget(name: "WStreamTests", dependencies: ["WStream", "WStreamImport", "WStreamPack", "WStreamSynth", "TestSupport"]),
        .testTarget(name: "wstreamTests", dependencies: ["WStreamFormat", "WStreamRuntime", "WStreamTokenizer", "TestSupport"]),
        .testTarget(name: "WStreamServerTests", dependencies: ["WStreamServer", "TestSupport"]),
        .testTarget(
            name: "WStreamFuzzingTests", dependencies: ["WStreamFuzzing", "WStreamFormat", "WStreamImport", "WStreamModel", "TestSupport"]),
        // The load generator for the server's figures: N clients for T seconds against a running `wstream serve`.
        .executableTarget(name: "wstream-load", dependencies: ["TestSupport"], path: "Tests/LoadTool"),
        // The soak behind `make soak`: a `wstream serve` under mixed load, cancellations and idle unloads for T seconds,
        // its RSS sampled every 100 ms against the budget.
        .executableTarget(name: "wstream-soak", dependencies: ["TestSupport", "WStreamFormat", "WStreamRuntime", "WStreamQuant"], path: "Tests/SoakTool"),
    ]
)
