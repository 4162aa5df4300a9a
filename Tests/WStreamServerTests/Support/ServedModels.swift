#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// The models the server tests serve, packed once per test run by the real `wstream pack` (4-bit).
enum ServedModels {
    /// Holds the packed files; removed when the test process exits.
    static let scratch: TemporaryDirectory = {
        let directory = TemporaryDirectory("wstream-served")
        atexit { _ = system("rm -rf '\(ServedModels.scratch.path)'") }
        return directory
    }()

    /// stories260K (Llama, SentencePiece vocabulary of 512, context 512).
    static func stories() throws -> String { try storiesResult.get() }
    /// tiny-lfm2 (LFM2, GPT-2 vocabulary of 50257).
    static func lfm2() throws -> String { try lfm2Result.get() }

    private static let storiesResult = Result { try pack(try SharedModels.storiesHF, "stories-q4.wst") }
    private static let lfm2Result = Result { try pack(try SharedModels.tinyLFM2HF, "tiny-lfm2-q4.wst") }

    private static func pack(_ source: String, _ name: String) throws -> String {
        let output = scratch.file(name)
        let result = try WStreamExecutable.run(["pack", source, "-o", output])
        guard result.succeeded else { throw ServerStartFailure(description: "pack failed: \(result)") }
        return output
    }
}
