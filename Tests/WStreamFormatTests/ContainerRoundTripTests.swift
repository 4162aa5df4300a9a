import Testing
import TestSupport
@testable import WStreamFormat

@Suite struct ContainerRoundTripTests {
    let directory = TemporaryDirectory("wst-roundtrip")

    @Test func everyTensorDecodesToTheBytesWritten() throws {
        let path = directory.file("model.wst")
        let written = try ContainerFixture.write(to: path)
        let reader = try ContainerReader(path: path)
        let decoder = FrameDecoder()
        for expected in written {
            let tensor = try #require(reader.tensor(named: expected.name))
            #expect(tensor.shape == expected.shape)
            #expect(tensor.storage == expected.storage)
            #expect(tensor.decodedByteCount == expected.decoded.count)
            #expect(try reader.decodedBytes(of: tensor, using: decoder) == expected.decoded, "\(expected.name)")
        }
    }

    @Test func eachBlockDecodesOnItsOwnAtItsOffset() throws {
        let path = directory.file("model.wst")
        let written = try ContainerFixture.write(to: path)
        let reader = try ContainerReader(path: path)
        let decoder = FrameDecoder()
        for expected in written {
            let tensor = try #require(reader.tensor(named: expected.name))
            // Backwards, so no block can lean on state left by the one before it.
            for block in (0..<tensor.blockCount).reversed() {
                var bytes = [UInt8](repeating: 0, count: tensor.rowsPerBlock * tensor.decodedBytesPerRow)
                let count = try bytes.withUnsafeMutableBytes { try reader.readBlock(tensor, block: block, into: $0, using: decoder) }
                let offset = tensor.decodedOffset(ofBlock: block)
                #expect(count == tensor.decodedByteCount(ofBlock: block))
                #expect(Array(bytes[..<count]) == Array(expected.decoded[offset..<offset + count]), "\(expected.name) block \(block)")
            }
        }
    }

    @Test func regionsStartOnAlignmentBoundariesAndHoldTheirTensors() throws {
        let path = directory.file("model.wst")
        try ContainerFixture.write(to: path, alignment: 4096)
        let reader = try ContainerReader(path: path)
        #expect(reader.alignment == 4096)
        #expect(reader.metadata.regions.map(\.name) == ["embed", "layer.0", "layer.1", "head"])
        for (index, region) in reader.metadata.regions.enumerated() {
            #expect(region.offset % 4096 == 0 && region.offset >= 4096)
            let tensors = reader.tensors(inRegion: index)
            #expect(!tensors.isEmpty)
            #expect(tensors.first?.frames.first?.offset == region.offset)
            let last = try #require(tensors.last?.frames.last)
            #expect(last.offset + last.storedLength == region.offset + region.length)
        }
        #expect(reader.tensors(inRegion: 1).map(\.name) == ["blk.0.attn_norm.weight", "blk.0.attn_q.weight"])
        #expect(reader.regionIndex(named: "head") == 3)
        #expect(reader.regionIndex(named: "layer.9") == nil)
    }

    @Test func metadataSurvivesTheRoundTrip() throws {
        let path = directory.file("model.wst")
        try ContainerFixture.write(to: path)
        let reader = try ContainerReader(path: path)
        #expect(reader.metadata.config == ContainerFixture.config)
        #expect(reader.metadata.tokenizer == ContainerFixture.tokenizer)
        #expect(reader.metadata.quantization == ContainerFixture.quantization)
        #expect(reader.metadata.producer == ["tool": "fixture"])
        #expect(reader.header.fileLength == UInt64(reader.fileSize))
        #expect(reader.header.metadataOffset + reader.header.metadataLength == UInt64(reader.fileSize))
    }

    @Test func incompressibleFramesAreStoredRawAndCompressibleOnesAsZstd() throws {
        let path = directory.file("model.wst")
        try ContainerFixture.write(to: path)
        let reader = try ContainerReader(path: path)
        let embedding = try #require(reader.tensor(named: "token_embd.weight"))
        #expect(embedding.framesPerBlock == 2)
        for block in 0..<embedding.blockCount {
            let range = embedding.frameRange(ofBlock: block)
            #expect(embedding.frames[range.lowerBound].encoding == .raw)
            #expect(embedding.frames[range.lowerBound].shuffle == 1)
        }
        let big = try #require(reader.tensor(named: "blk.1.ffn_down.weight"))
        #expect(big.frames.allSatisfy { $0.encoding == .zstd && $0.shuffle == 4 && $0.storedLength < $0.decodedLength })
        let random = try #require(reader.tensor(named: "output.weight"))
        #expect(random.frames.allSatisfy { $0.encoding == .raw && $0.storedLength == $0.decodedLength })
        #expect(reader.isStoredAsDecoded(random, blocks: 0..<random.blockCount))
        #expect(!reader.isStoredAsDecoded(big, blocks: 0..<1))
    }

    @Test func verifyVisitsEveryFrame() throws {
        let path = directory.file("model.wst")
        try ContainerFixture.write(to: path)
        let reader = try ContainerReader(path: path)
        var reports: [(Int, Int)] = []
        try reader.verify { reports.append(($0, $1)) }
        let total = reader.metadata.tensors.reduce(0) { $0 + $1.frames.count }
        #expect(reports.count == total)
        #expect(reports.last.map { $0 == (total, total) } == true)
    }
}
