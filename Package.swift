// swift-tools-version:6.0
import PackageDescription

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
        .target(name: "WStreamQuant", swiftSettings: hotPathSettings + kernelConditions),
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
        .testTarget(name: "wstreamTests", dependencies: ["WStreamFormat", "TestSupport"]),
    ]
)
