#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A model packed by the real `wstream pack`, shared by every test that needs it.
struct PackedModel: Sendable {
    let path: String
    /// What `pack` printed and how long it took.
    let pack: CommandResult
}

/// A fixture could not be made; every test that needs it fails with this message.
struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
}

/// Models the end-to-end tests pack once per test run (tests run in parallel; a `static let` is
/// initialised exactly once, by whichever test asks first).
enum Fixtures {
    /// Holds every fixture; removed when the test process exits.
    static let scratch: TemporaryDirectory = {
        let directory = TemporaryDirectory("wstream-e2e")
        atexit { _ = system("rm -rf '\(Fixtures.scratch.path)'") }
        return directory
    }()

    /// The synthetic model the budget and kill tests use: ~55 MB of 4-bit weights.
    static let syntheticShape = "llama-small"

    /// stories260K from its Hugging Face directory, 4-bit.
    static func storiesHF() throws -> PackedModel { try storiesHFResult.get() }
    /// stories260K from its GGUF file, 4-bit.
    static func storiesGGUF() throws -> PackedModel { try storiesGGUFResult.get() }
    /// stories260K in float32 (`--bits 32`): the model the reference ids are exact for.
    static func storiesFloat32() throws -> PackedModel { try storiesFloat32Result.get() }
    /// The Hugging Face directory `wstream synth` wrote for `syntheticShape`.
    static func syntheticSource() throws -> String { try syntheticSourceResult.get() }
    /// `syntheticSource()` packed at 4 bits.
    static func synthetic() throws -> PackedModel { try syntheticResult.get() }

    /// The same synthetic model in fp16: ~200 MB, larger than the address-space limits the tests set.
    static func syntheticFloat16() throws -> PackedModel { try syntheticFloat16Result.get() }

    private static let storiesHFResult = Result { try pack(try SharedModels.storiesHF, "stories-hf-q4.wst") }
    private static let storiesGGUFResult = Result { try pack(try SharedModels.storiesGGUF, "stories-gguf-q4.wst") }
    private static let storiesFloat32Result = Result { try pack(try SharedModels.storiesHF, "stories-f32.wst", ["--bits", "32"]) }
    private static let syntheticSourceResult = Result { () throws -> String in
        let directory = scratch.file(syntheticShape)
        let result = try WStreamExecutable.run(["synth", "--shape", syntheticShape, "--out", directory])
        guard result.succeeded else { throw FixtureFailure(description: "synth failed: \(result)") }
        return directory
    }
    private static let syntheticResult = Result { try pack(try syntheticSource(), "\(syntheticShape)-q4.wst") }
    private static let syntheticFloat16Result = Result { try pack(try syntheticSource(), "\(syntheticShape)-f16.wst", ["--bits", "16"]) }

    private static func pack(_ source: String, _ name: String, _ options: [String] = []) throws -> PackedModel {
        let output = scratch.file(name)
        let result = try WStreamExecutable.run(["pack", source, "-o", output] + options)
        guard result.succeeded else { throw FixtureFailure(description: "pack failed: \(result)") }
        return PackedModel(path: output, pack: result)
    }
}
