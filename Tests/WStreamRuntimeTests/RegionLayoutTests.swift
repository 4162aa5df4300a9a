import Testing
import TestSupport
import WStreamFormat
import WStreamRuntime

/// A head much larger than a block is cut between row blocks, so no slot must hold all of it.
@Suite struct RegionLayoutTests {
    /// A file with one region `head`: a 16-float norm, then a 100 × 64 float32 matrix in blocks of 8 rows.
    static func headFile(in directory: TemporaryDirectory) throws -> ContainerReader {
        let path = directory.file("head.wst")
        let writer = try ContainerWriter(destination: path)
        try writer.beginRegion("head")
        try writer.beginTensor(name: TensorName.outputNorm, shape: [16], storage: .f32, groupSize: 0, rowsPerBlock: 1)
        try [Float](repeating: 1, count: 16).withUnsafeBytes { try writer.appendBlock([FrameEncoder.encode($0, shuffleElementSize: 4, level: 1)]) }
        try writer.endTensor()
        try writer.beginTensor(name: TensorName.output, shape: [100, 64], storage: .f32, groupSize: 0, rowsPerBlock: 8)
        for block in 0..<13 {
            let rows = min(8, 100 - block * 8)
            let values = (0..<(rows * 64)).map { Float(block * 8 * 64 + $0) }
            try values.withUnsafeBytes { try writer.appendBlock([FrameEncoder.encode($0, shuffleElementSize: 4, level: 1)]) }
        }
        try writer.endTensor()
        let config = ModelConfig(architecture: "llama", hiddenSize: 64, layerCount: 0, headCount: 1, kvHeadCount: 1, headDim: 64,
                                 ffnSize: 64, vocabSize: 100, contextLength: 8, normEps: 1e-5, ropeTheta: 1e4, tiedEmbeddings: false)
        try writer.finish(config: config, tokenizer: TokenizerSpec(model: .bytePairEncoding, preTokenizer: .byteLevel, tokens: ["a"]),
                          quantization: QuantizationInfo(bits: 32, groupSize: 0), producer: [:])
        return try ContainerReader(path: path)
    }

    @Test func aLargeRegionIsCutBetweenRowBlocksCoveringEveryRowOnce() throws {
        let directory = TemporaryDirectory()
        let reader = try Self.headFile(in: directory)
        let whole = RegionLayout(region: 0, in: reader)
        let blockBytes = 8 * 64 * 4
        let parts = whole.split(maximumBytes: 3 * blockBytes, reader: reader)
        #expect(parts.count == 5)
        #expect(parts.map(\.name) == (1...5).map { "head[\($0)/5]" })
        #expect(parts[0].placement(of: TensorName.outputNorm) != nil, "the norm stays in the first part")
        #expect(parts.dropFirst().allSatisfy { $0.placement(of: TensorName.outputNorm) == nil })
        let rows = parts.compactMap { $0.placement(of: TensorName.output)?.rows }
        #expect(rows.first?.lowerBound == 0 && rows.last?.upperBound == 100)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(parts.allSatisfy { $0.byteCount <= 3 * blockBytes + RegionLayout.tensorAlignment })
        #expect(whole.split(maximumBytes: whole.byteCount, reader: reader).count == 1)
    }
}
