import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// `--bits 32` stores every tensor exactly as the source holds it, whichever format the source came in.
@Suite struct Float32PackTests {
    @Test(arguments: zip(["stories260K/hf", "tiny-lfm2/hf"], ["stories260K/stories260K.gguf", "tiny-lfm2/tiny-lfm2.gguf"]))
    func huggingFaceAndGGUFPacksHoldTheSameSourceValuesBitForBit(huggingFace: String, gguf: String) throws {
        let directory = TemporaryDirectory("wstream-pack")
        let hfPath = try SharedModels.path(huggingFace)
        let ggufPath = try SharedModels.path(gguf)
        try pack(hfPath, to: directory.file("hf.wst"), bits: 32)
        try pack(ggufPath, to: directory.file("gguf.wst"), bits: 32)
        let fromHF = try PackedFile(directory.file("hf.wst"))
        let fromGGUF = try PackedFile(directory.file("gguf.wst"))
        let sources = try ModelImporter.importWeights(at: hfPath).tensors

        #expect(fromHF.tensors.map(\.name) == fromGGUF.tensors.map(\.name))
        #expect(Set(fromHF.tensors.map(\.name)) == Set(sources.map(\.name)))
        #expect(fromHF.regionNames == fromGGUF.regionNames)
        #expect(fromHF.reader.metadata.quantization == QuantizationInfo(bits: 32, groupSize: 0))
        for source in sources {
            let left = try fromHF.tensor(source.name)
            let right = try fromGGUF.tensor(source.name)
            #expect(left.shape == source.shape, "\(source.name)")
            #expect(right.shape == source.shape, "\(source.name)")
            #expect(left.storage == .f32 && right.storage == .f32, "\(source.name)")
            #expect(left.rowsPerBlock == right.rowsPerBlock, "\(source.name)")
            let expected = float32Bytes(try sourceValues(source))
            let leftBytes = try fromHF.bytes(of: left)
            #expect(leftBytes == expected, "\(source.name) of the Hugging Face pack differs from the source")
            #expect(try fromGGUF.bytes(of: right) == leftBytes, "\(source.name) differs between the two packs")
        }
    }

    @Test func float32PackOfATiedModelPutsTheTokenTableInTheHeadRegion() throws {
        let directory = TemporaryDirectory("wstream-pack")
        try pack(try SharedModels.storiesHF, to: directory.file("stories.wst"), bits: 32)
        let file = try PackedFile(directory.file("stories.wst"))
        #expect(file.regionNames == ["layer.0", "layer.1", "layer.2", "layer.3", "layer.4", "head"])
        #expect(file.regionName(of: try file.tensor(TensorName.tokenEmbedding)) == "head")
        #expect(file.tensors.last?.name == TensorName.tokenEmbedding)
        try file.reader.verify()
    }
}
