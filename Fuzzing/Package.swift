// swift-tools-version:6.2
import PackageDescription

// The libFuzzer targets: a package of its own, so that `swift build` and `make test` in the root never build them
// (the folder is not called Fuzz: a package cannot depend on one in a folder of the same name, and a checkout may well
// be called fuzz). Each target's logic is in the root's WStreamFuzzing module, where the regression tests run the same
// entry points; the executables here only hand libFuzzer's inputs to it.
//
// `make fuzz` builds them with AddressSanitizer and coverage instrumentation in every module
// (`-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=…`), and links libFuzzer into these executables only:
// `-Xswiftc -sanitize=fuzzer` would also reach the root's build-tool plugin executable, which then fails to link
// (libFuzzer's main wants LLVMFuzzerTestOneInput), and SwiftPM's `--sanitize=fuzzer` compiles every executable
// with -parse-as-library, which that tool's main.swift does not allow.
let targets = ["gguf", "safetensors", "wst", "frame", "tokenizer", "template"]

let package = Package(
    name: "WStreamFuzz",
    dependencies: [.package(name: "wstream", path: "..")],
    targets: [
        .systemLibrary(name: "CLibFuzzer"),
        .target(name: "FuzzDriver", dependencies: ["CLibFuzzer", .product(name: "WStreamFuzzing", package: "wstream")]),
    ] + targets.map {
        .executableTarget(name: "fuzz-\($0)", dependencies: ["FuzzDriver"], linkerSettings: [.unsafeFlags(["-sanitize=fuzzer"])])
    }
)
