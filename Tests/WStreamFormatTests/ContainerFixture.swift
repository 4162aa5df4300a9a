import Foundation
@testable import WStreamFormat
import WStreamQuant


/// One tensor of the fixture: its description and the decoded bytes written for it.
struct FixtureTensor {
    var name: String
    var region: String
    var shape: [Int]
    var storage: StorageType
    var groupSize: Int
    var rowsPerBlock: Int
    /// Cut points within a block's decoded bytes: a frame runs between consecutive cuts, the last to the end.
    var split: (Int) -> [Int]
    var shuffles: [Int]
    var decoded: [UInt8]

    var bytesPerRow: Int { TensorEntry.decodedBytesPerRow(storage: storage, cols: shape.last!, groupSize: groupSize)! }
    var rows: Int { shape.count == 2 ? shape[0] : 1 }
}

/// Writes small but complete containers: several regions, every storage type, raw and zstd frames,
/// shuffles whose element size does not divide the frame, and a tensor larger than the writer's buffer.
enum ContainerFixture {
    static let config = ModelConfig(
        architecture: "llama", hiddenSize: 64, layerCount: 2, headCount: 2, kvHeadCount: 1, headDim: 32, ffnSize: 128,
        vocabSize: 10, contextLength: 256, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: false)
    static let tokenizer = TokenizerSpec(
        model: .sentencePiece, preTokenizer: .metaspace, tokens: ["<unk>", "<s>", "</s>", "▁a", "b"], scores: [0, 0, 0, -1, -2],
        bosTokenId: 1, eosTokenId: 2, chatTemplate: "{{ messages }}")
    static let quantization = QuantizationInfo(bits: 4, groupSize: 32)

    static func tensors() -> [FixtureTensor] {
        var random = SplitMix64(seed: 42)
        func compressible(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(($0 / 7) % 5) } }
        // q4 [10, 64] group 32: 32 code bytes + 2 groups · 4 = 40 bytes per row; codes random, scales/biases repetitive.
        var embedding: [UInt8] = []
        for rows in [4, 4, 2] { embedding += random.bytes(rows * 32) + compressible(rows * 8) }
        return [
            FixtureTensor(
                name: "token_embd.weight", region: "embed", shape: [10, 64], storage: .q4, groupSize: 32, rowsPerBlock: 4,
                split: { [$0 / 40 * 32] }, shuffles: [1, 2], decoded: embedding),
            FixtureTensor(
                name: "blk.0.attn_norm.weight", region: "layer.0", shape: [37], storage: .f32, groupSize: 0, rowsPerBlock: 1,
                split: { _ in [] }, shuffles: [4], decoded: compressible(37 * 4)),
            FixtureTensor(
                name: "blk.0.attn_q.weight", region: "layer.0", shape: [7, 33], storage: .f16, groupSize: 0, rowsPerBlock: 3,
                split: { _ in [] }, shuffles: [2], decoded: random.bytes(7 * 66)),
            FixtureTensor(
                name: "blk.1.ffn_down.weight", region: "layer.1", shape: [300, 1001], storage: .f32, groupSize: 0, rowsPerBlock: 128,
                split: { _ in [] }, shuffles: [4], decoded: compressible(300 * 1001 * 4)),
            FixtureTensor(
                name: "output.weight", region: "head", shape: [5, 40], storage: .q8, groupSize: 32, rowsPerBlock: 2,
                split: { _ in [] }, shuffles: [3], decoded: random.bytes(5 * 72)),
        ]
    }

    /// Writes the fixture to `path` and returns what was written.
    @discardableResult
    static func write(to path: String, alignment: Int = 16 * 1024) throws -> [FixtureTensor] {
        let tensors = tensors()
        let writer = try ContainerWriter(destination: path, alignment: alignment)
        var region = ""
        for tensor in tensors {
            if tensor.region != region {
                try writer.beginRegion(tensor.region)
                region = tensor.region
            }
            try writer.beginTensor(
                name: tensor.name, shape: tensor.shape, storage: tensor.storage, groupSize: tensor.groupSize,
                rowsPerBlock: tensor.rowsPerBlock)
            var start = 0
            while start < tensor.decoded.count {
                let rows = min(tensor.rowsPerBlock, tensor.rows - start / tensor.bytesPerRow)
                let block = Array(tensor.decoded[start..<start + rows * tensor.bytesPerRow])
                var frames: [EncodedFrame] = []
                var cut = 0
                for (index, length) in (tensor.split(block.count) + [block.count]).enumerated() {
                    frames.append(block[cut..<length].withUnsafeBytes {
                        FrameEncoder.encode($0, shuffleElementSize: tensor.shuffles[index], level: 3)
                    })
                    cut = length
                }
                try writer.appendBlock(frames)
                start += block.count
            }
            try writer.endTensor()
        }
        try writer.finish(config: config, tokenizer: tokenizer, quantization: quantization, producer: ["tool": "fixture"])
        return tensors
    }
}
