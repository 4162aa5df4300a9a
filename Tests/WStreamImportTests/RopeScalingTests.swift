import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// Llama 3's `rope_scaling` becomes per-frequency divisors of RoPE (what GGUF stores as `rope_freqs.weight`).
@Suite struct RopeScalingTests {
    static func config(ropeScaling: String) -> String {
        """
        {"model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16, "num_attention_heads": 32,
         "num_key_value_heads": 8, "head_dim": 64, "intermediate_size": 8192, "vocab_size": 128256,
         "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
         "tie_word_embeddings": true, "rope_scaling": \(ropeScaling)}
        """
    }

    static func load(_ json: String) throws -> ModelConfig {
        let directory = TemporaryDirectory()
        try FileContents.write(Array(json.utf8), to: directory.file("config.json"))
        return try HuggingFaceModel.loadConfig(directory: directory.path)
    }

    @Test func llama3ScalingDividesLowFrequenciesAndSmoothsTheMiddle() throws {
        let config = try Self.load(Self.config(ropeScaling: """
            {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
             "original_max_position_embeddings": 8192, "rope_type": "llama3"}
            """))
        let factors = try #require(config.ropeFrequencyFactors)
        // Values of Llama 3.2's scaling (transformers' _compute_llama3_parameters, computed independently).
        let expected: [Float] = Array(repeating: 1, count: 15) + [1.6513, 3.2923, 9.6667] + Array(repeating: 32, count: 14)
        #expect(factors.count == 32)
        for (found, wanted) in zip(factors, expected) { #expect(abs(found - wanted) < 1e-3, "\(factors)") }
    }

    @Test func ggufRopeFreqsTensorBecomesTheConfigsFactors() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("model.gguf")
        let factors: [Float] = [1, 1, 1, 1.5, 3, 8, 8, 8]
        try FileContents.write(TinyLlamaGGUF.build(ropeFactors: factors), to: path)
        let weights = try ModelImporter.importWeights(at: path)
        #expect(weights.config.ropeFrequencyFactors == factors)
        #expect(!weights.tensors.contains { $0.name.contains("rope") }, "the factors are configuration, not a tensor to pack")
    }

    @Test func noScalingLeavesTheFrequenciesAlone() throws {
        #expect(try Self.load(Self.config(ropeScaling: "null")).ropeFrequencyFactors == nil)
    }

    @Test func otherScalingKindsAreRefusedByName() throws {
        do {
            _ = try Self.load(Self.config(ropeScaling: #"{"type": "yarn", "factor": 4.0}"#))
            Issue.record("yarn scaling was accepted")
        } catch {
            #expect("\(error)".contains("yarn") && "\(error)".contains("llama3"), "\(error)")
        }
    }
}
