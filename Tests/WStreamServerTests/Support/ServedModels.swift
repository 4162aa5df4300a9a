#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
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

    /// tiny-qwen3 with Qwen3-0.6B's own chat template (the test model carries none), which renders tools.
    static func qwen3WithTemplate() throws -> String { try qwen3Result.get() }

    private static let storiesResult = Result { try pack(try SharedModels.storiesHF, "stories-q4.wst") }
    private static let qwen3Result = Result { () throws -> String in
        let source = try SharedModels.path("tiny-qwen3/hf")
        let folder = scratch.file("tiny-qwen3-chat")
        mkdir(folder, 0o755)
        for name in ["config.json", "model.safetensors", "tokenizer.json"] { symlink(source + "/" + name, folder + "/" + name) }
        let template = String(decoding: try FileContents.read(try SharedModels.path("../chat-templates/Qwen-Qwen3-0.6B.jinja")), as: UTF8.self)
        var config = String(decoding: try FileContents.read(source + "/tokenizer_config.json"), as: UTF8.self)
        config = String(config[..<config.lastIndex(of: "}")!]) + ", \"chat_template\": "
            + String(decoding: try JSONEncoder().encode(template), as: UTF8.self) + "}"
        try FileContents.write(Array(config.utf8), to: folder + "/tokenizer_config.json")
        return try pack(folder, "tiny-qwen3-chat-q4.wst")
    }
    private static let lfm2Result = Result { try pack(try SharedModels.tinyLFM2HF, "tiny-lfm2-q4.wst") }

    private static func pack(_ source: String, _ name: String) throws -> String {
        let output = scratch.file(name)
        let result = try WStreamExecutable.run(["pack", source, "-o", output])
        guard result.succeeded else { throw ServerStartFailure(description: "pack failed: \(result)") }
        return output
    }
}
