import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamModel
import WStreamPack

/// Weights that are damaged yet sealed with valid checksums (a hostile or broken writer) never turn into a token
/// chosen at random: generation stops with an error naming the file.
@Suite struct DamagedWeightsTests {
    @Test(arguments: [Float.nan, Float.infinity])
    func logitsThatAreNotFiniteStopGenerationNamingTheFile(value: Float) throws {
        let directory = TemporaryDirectory()
        let packed = directory.file("stories.wst")
        _ = try Packer.pack(try ModelImporter.importModel(at: try SharedModels.storiesHF), to: packed, options: PackOptions())
        // The final norm's first weight, resealed: the checksums all hold, the logits are all NaN or infinite.
        let norm = try #require(try ContainerReader(path: packed).tensor(named: TensorName.outputNorm)?.frames.first)
        var bytes = try FileContents.read(packed)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(Int(norm.offset)..<Int(norm.offset) + 4, with: $0) }
        let patched = directory.file("patched.wst")
        try FileContents.write(bytes, to: patched)
        let damaged = directory.file("damaged.wst")
        let checksum = bytes.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[Int(norm.offset)..<Int(norm.offset + norm.storedLength)])) }
        try ContainerRewrite.rewriteMetadata(of: patched, to: damaged) { metadata in
            let index = metadata.tensors.firstIndex { $0.name == TensorName.outputNorm }!
            metadata.tensors[index].frames[0].checksum = checksum
        }

        let model = try LanguageModel(path: damaged, options: .init(contextLength: 32, budget: nil, threads: 1))
        for sampling in [SamplingOptions.greedy, SamplingOptions()] {
            var options = GenerationOptions()
            options.maxTokens = 4
            options.sampling = sampling
            #expect(throws: ModelError.nonFiniteLogits(file: damaged, position: 5)) {
                try model.generate(promptIds: model.tokenizer.encode("Once upon a time"), options: options)
            }
        }
    }
}
