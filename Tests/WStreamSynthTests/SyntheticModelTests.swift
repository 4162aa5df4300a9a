#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import WStreamFormat
import WStreamImport
import WStreamSynth

@Suite struct SyntheticModelTests {
    let directory = TemporaryDirectory("wstream-synth")

    private func written(_ name: String, seed: UInt64 = 7, into folder: String = "model") throws -> (SyntheticShape, String) {
        let shape = try SyntheticShape.named(name)
        let path = directory.file(folder)
        try SyntheticModel.write(shape: shape, to: path, seed: seed, shards: 2)
        return (shape, path)
    }

    @Test(arguments: ["llama-tiny", "lfm2-tiny"])
    func writtenModelImportsWithItsShapesConfig(name: String) throws {
        let (shape, path) = try written(name)
        let model = try HuggingFaceModel(directory: path)
        #expect(model.config == shape.config)
        let expected = try CanonicalLayout.expectedShapes(of: shape.config)
        #expect(model.tensors.map(\.name) == expected.map(\.name))
        #expect(model.tensors.map(\.shape) == expected.map(\.shape))
        #expect(model.tensors.allSatisfy { $0.sourceType == "BF16" })
        #expect(access(path + "/model-00001-of-00002.safetensors", F_OK) == 0)
        #expect(access(path + "/model-00002-of-00002.safetensors", F_OK) == 0)
        #expect(access(path + "/model.safetensors.index.json", F_OK) == 0)
        #expect(access(path + "/tokenizer.json", F_OK) == 0)
        #expect(access(path + "/tokenizer_config.json", F_OK) == 0)
    }

    @Test func sameSeedGivesIdenticalValuesAndAnotherSeedDifferent() throws {
        let (_, first) = try written("lfm2-tiny", seed: 1, into: "a")
        let (_, again) = try written("lfm2-tiny", seed: 1, into: "b")
        let (_, other) = try written("lfm2-tiny", seed: 2, into: "c")
        let shard = "/model-00002-of-00002.safetensors"
        #expect(try FileContents.read(first + shard) == FileContents.read(again + shard))
        #expect(try FileContents.read(first + shard) != FileContents.read(other + shard))
        let tensorsA = try HuggingFaceModel(directory: first).tensors
        let tensorsC = try HuggingFaceModel(directory: other).tensors
        let q = TensorName.block(2, .attentionQ)
        let valuesA = try values(of: tensorsA.first { $0.name == q }!)
        let valuesC = try values(of: tensorsC.first { $0.name == q }!)
        #expect(zip(valuesA, valuesC).filter { $0 == $1 }.count < valuesA.count / 50)
    }

    @Test func matrixValuesLookLikeTrainedWeightsWithOutliers() throws {
        let (_, path) = try written("llama-tiny")
        let tensors = try HuggingFaceModel(directory: path).tensors
        let gate = try #require(tensors.first { $0.name == TensorName.block(1, .ffnGate) })
        let values = try values(of: gate)
        let cols = gate.shape[1]
        let bulk = values.filter { abs($0) < 0.15 }
        let (mean, deviation) = statistics(bulk)
        #expect(abs(mean) < 0.001)
        #expect(abs(deviation - 0.02) < 0.001)
        let outliersPerRow = Double(values.count - bulk.count) / Double(gate.shape[0])
        #expect(outliersPerRow > 3.5 && outliersPerRow <= 4)
        #expect(values.allSatisfy { abs($0) <= 0.5 })
        #expect(cols == 256)
    }

    @Test func normWeightsAreNearOne() throws {
        let (_, path) = try written("lfm2-tiny")
        let tensors = try HuggingFaceModel(directory: path).tensors
        let norms = try tensors.filter { $0.name.hasSuffix("norm.weight") }.flatMap { try values(of: $0) }
        let (mean, deviation) = statistics(norms)
        #expect(abs(mean - 1) < 0.01)
        #expect(abs(deviation - 0.05) < 0.01)
    }

    @Test func realSizeShapesHaveTheirPublishedParameterCounts() throws {
        // Llama 3.2 1B: 1,235,814,400 parameters with the tied head.
        #expect(try SyntheticModel.weightBytes(of: SyntheticShape.named("llama-3.2-1b")) == 2 * 1_235_814_400)
        #expect(try SyntheticModel.weightBytes(of: SyntheticShape.named("qwen3-0.6b")) == 2 * 596_049_920)
        let lfm2 = try SyntheticShape.named("lfm2-1.2b").config
        #expect(lfm2.blockKinds.indices.filter { lfm2.blockKinds[$0] == .attention } == [2, 5, 8, 10, 12, 14])
        #expect(lfm2.vocabSize == 65_536 && lfm2.ffnSize == 8192 && lfm2.convKernelSize == 3)
    }

    @Test func unknownShapeListsTheKnownOnes() {
        let known = SyntheticShape.all.map(\.name)
        #expect(throws: SynthError.unknownShape(name: "gpt-5", known: known)) { try SyntheticShape.named("gpt-5") }
        #expect(known.contains("llama-3.2-1b") && known.contains("lfm2-1.2b"))
    }

    @Test func singleShardIsWrittenAsModelSafetensors() throws {
        let shape = try SyntheticShape.named("lfm2-tiny")
        let path = directory.file("single")
        var reports = 0
        var last = 0
        let bytes = try SyntheticModel.weightBytes(of: shape)
        try SyntheticModel.write(shape: shape, to: path, seed: 3, shards: 1) { written, total in
            reports += 1
            last = written
            #expect(total == bytes)
        }
        #expect(last == bytes)
        #expect(reports > 1)
        #expect(access(path + "/model.safetensors", F_OK) == 0)
        #expect(access(path + "/model.safetensors.index.json", F_OK) != 0)
        #expect(try HuggingFaceModel(directory: path).config == shape.config)
    }

    private func values(of tensor: any TensorSource) throws -> [Float] {
        let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
        var values = [Float](repeating: .nan, count: rows * tensor.shape.last!)
        try values.withUnsafeMutableBufferPointer { try tensor.readRows(0..<rows, into: $0) }
        return values
    }

    private func statistics(_ values: [Float]) -> (mean: Double, deviation: Double) {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}
