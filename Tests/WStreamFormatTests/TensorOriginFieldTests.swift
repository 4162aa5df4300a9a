import FoundationEssentials
import Testing
import TestSupport
@testable import WStreamFormat

/// `TensorEntry.origin` is optional provenance: written when given, absent (and nil) otherwise.
@Suite struct TensorOriginFieldTests {
    private static func entry(origin: String?) -> TensorEntry {
        TensorEntry(name: "blk.0.ffn_up.weight", shape: [2, 32], storage: .q4, groupSize: 32, region: 0, rowsPerBlock: 2,
                    framesPerBlock: 1, frames: [], origin: origin)
    }

    @Test func originRoundTripsThroughTheMetadataJSON() throws {
        let encoded = try JSONEncoder().encode(Self.entry(origin: "carried from Q4_0"))
        #expect(try JSONDecoder().decode(TensorEntry.self, from: encoded).origin == "carried from Q4_0")
    }

    @Test func entriesWrittenBeforeTheFieldExistedStillDecode() throws {
        let encoded = try JSONEncoder().encode(Self.entry(origin: nil))
        #expect(!String(decoding: encoded, as: UTF8.self).contains("origin"), "nil is left out, as older writers did")
        #expect(try JSONDecoder().decode(TensorEntry.self, from: encoded) == Self.entry(origin: nil))
    }

    @Test func theWriterRecordsTheOriginGivenAtTheEndOfATensor() throws {
        let directory = TemporaryDirectory("wst-origin")
        let path = directory.file("model.wst")
        let writer = try ContainerWriter(destination: path)
        try writer.beginRegion("head")
        for (name, origin) in [("output_norm.weight", "converted from F32"), ("blk.0.attn_norm.weight", nil)] {
            try writer.beginTensor(name: name, shape: [4], storage: .f32, groupSize: 0, rowsPerBlock: 1)
            try writer.appendBlock([[Float](repeating: 1, count: 4).withUnsafeBytes { FrameEncoder.encode($0, shuffleElementSize: 4, level: 3) }])
            try writer.endTensor(origin: origin)
        }
        try writer.finish(config: ContainerFixture.config, tokenizer: ContainerFixture.tokenizer,
                          quantization: QuantizationInfo(bits: 32, groupSize: 0), producer: [:])
        let tensors = try ContainerReader(path: path).metadata.tensors
        #expect(tensors.map(\.origin) == ["converted from F32", nil])
    }
}
