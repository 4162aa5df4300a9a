import Testing
import TestSupport

/// `pack` of already-quantized checkpoints through the release binary: the one-line origin summary and the
/// per-tensor origins `inspect --tensors` shows.
@Suite struct QuantizedSourcePackTests {
    @Test func packOfAQ4KMFileSummarisesWhereEachTensorCameFrom() throws {
        let directory = TemporaryDirectory("wstream-e2e-kquant")
        let output = directory.file("q4km.wst")
        let pack = try WStreamExecutable.run("pack", try SharedModels.path("tiny-kquant/tiny-kquant-Q4_K_M.gguf"), "-o", output)
        #expect(pack.succeeded, "\(pack)")
        let origin = try #require(pack.stdout.split(separator: "\n").first { $0.hasPrefix("  origin: ") }, "\(pack)")
        #expect(origin.hasPrefix("  origin: 13 carried from Q4_K ("), "\(origin)")
        #expect(origin.hasSuffix("3 re-quantized from Q6_K, 5 converted from F32"), "\(origin)")

        let inspect = try WStreamExecutable.run("inspect", output, "--tensors")
        #expect(inspect.succeeded, "\(inspect)")
        let lines = inspect.stdout.split(separator: "\n").map(String.init)
        let output6K = try #require(lines.first { $0.hasPrefix("  output.weight ") }, "\(inspect)")
        #expect(output6K.contains("q6r g32") && output6K.hasSuffix("re-quantized from Q6_K"), "\(output6K)")
        let embedding = try #require(lines.first { $0.hasPrefix("  token_embd.weight ") }, "\(inspect)")
        #expect(embedding.contains("q4 g32") && embedding.contains("carried from Q4_K"), "\(embedding)")
    }

    @Test func packOfAnMLXFolderCarriesItsGroups() throws {
        let directory = TemporaryDirectory("wstream-e2e-mlx")
        let output = directory.file("mlx.wst")
        let pack = try WStreamExecutable.run("pack", try SharedModels.path("stories260K-mlx4"), "-o", output)
        #expect(pack.succeeded, "\(pack)")
        #expect(pack.stdout.contains("  origin: 31 carried from MLX q4 g32, 5 quantized from BF16, 11 converted from BF16"), "\(pack)")
        let inspect = try WStreamExecutable.run("inspect", output, "--tensors")
        #expect(inspect.stdout.contains("carried from MLX q4 g32"), "\(inspect)")
        #expect(inspect.stdout.contains("quantization   4 bits, group 32"), "\(inspect)")

        // --bits given explicitly: the folder's groups are re-quantized to it.
        let requantized = try WStreamExecutable.run("pack", try SharedModels.path("stories260K-mlx4"), "-o", directory.file("b4.wst"), "--bits", "4")
        #expect(requantized.stdout.contains("  origin: 31 re-quantized from MLX q4 g32, 5 quantized from BF16"), "\(requantized)")
    }
}
