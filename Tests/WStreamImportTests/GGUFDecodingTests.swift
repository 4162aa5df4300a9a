import Testing
import TestSupport
import WStreamFormat
import WStreamImport

/// Element types and row re-layout of GGUF tensors, on small files built in the test.
@Suite struct GGUFDecodingTests {
    let directory = TemporaryDirectory("wstream-gguf")

    private func importBuilt(_ bytes: [UInt8]) throws -> [String: any TensorSource] {
        let path = directory.file("model.gguf")
        try FileContents.write(bytes, to: path)
        let tensors = try ModelImporter.importWeights(at: path).tensors
        return Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
    }

    @Test func q8_0BlocksDequantizeToScaleTimesInt8() throws {
        // 32 rows × 32 cols = one block per row; scale 0.5 (fp16 0x3800), q = col − 16.
        var data: [UInt8] = []
        for _ in 0..<32 {
            data.append(UInt16(0x3800))
            for col in 0..<32 { data.append(UInt8(bitPattern: Int8(col - 16))) }
        }
        let tensors = try importBuilt(TinyLlamaGGUF.build(types: ["blk.0.ffn_gate.weight": (8, data)]))
        let gate = try #require(tensors["blk.0.ffn_gate.weight"])
        #expect(gate.sourceType == "Q8_0")
        let values = try readAll(gate)
        #expect(Array(values[32..<64]) == (0..<32).map { Float($0 - 16) * 0.5 })
    }

    @Test func q4_0BlocksDequantizeLowNibblesFirst() throws {
        // Scale 0.25 (fp16 0x3400); byte j holds low nibble j and high nibble 15 − j.
        var data: [UInt8] = []
        for _ in 0..<32 {
            data.append(UInt16(0x3400))
            for j in 0..<16 { data.append(UInt8(j | (15 - j) << 4)) }
        }
        let tensors = try importBuilt(TinyLlamaGGUF.build(types: ["blk.0.ffn_up.weight": (2, data)]))
        let up = try #require(tensors["blk.0.ffn_up.weight"])
        #expect(up.sourceType == "Q4_0")
        let row = Array(try readAll(up)[0..<32])
        let low: [Float] = (0..<16).map { Float($0 - 8) * 0.25 }
        let high: [Float] = (0..<16).map { Float(7 - $0) * 0.25 }
        let expected = low + high
        #expect(row == expected)
    }

    @Test func f16AndBF16ConvertExactly() throws {
        let half: [UInt8] = (0..<(32 * 32)).flatMap { _ in [UInt8(0x00), UInt8(0x3C)] }  // 1.0
        let brain: [UInt8] = (0..<(32 * 32)).flatMap { _ in [UInt8(0xC0), UInt8(0x3F)] }  // 1.5
        let tensors = try importBuilt(TinyLlamaGGUF.build(types: [
            "blk.0.ffn_gate.weight": (1, half), "blk.0.ffn_up.weight": (30, brain),
        ]))
        #expect(try readAll(tensors["blk.0.ffn_gate.weight"]!).allSatisfy { $0 == 1.0 })
        #expect(try readAll(tensors["blk.0.ffn_up.weight"]!).allSatisfy { $0 == 1.5 })
    }

    @Test func llamaQueryAndKeyRowsAreUnpermutedPerHead() throws {
        let tensors = try importBuilt(TinyLlamaGGUF.build())
        // Heads of 16 rows, half 8: Hugging Face row i·8 + j is stored at 2j + i within its head.
        let query = try readAll(tensors["blk.0.attn_q.weight"]!)
        let queryRows = (0..<32).map { Int(query[$0 * 32]) / 1000 }
        let firstHead = [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15]
        #expect(queryRows == firstHead + firstHead.map { $0 + 16 })
        let key = try readAll(tensors["blk.0.attn_k.weight"]!)
        #expect((0..<16).map { Int(key[$0 * 32]) / 1000 } == [0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15])
        let value = try readAll(tensors["blk.0.attn_v.weight"]!)
        #expect((0..<16).map { Int(value[$0 * 32]) / 1000 } == Array(0..<16))
    }

    @Test func partialRowReadsReturnOnlyTheRequestedRows() throws {
        let tensors = try importBuilt(TinyLlamaGGUF.build())
        var rows = [Float](repeating: 0, count: 2 * 32)
        try rows.withUnsafeMutableBufferPointer { try tensors["blk.0.ffn_down.weight"]!.readRows(5..<7, into: $0) }
        #expect(rows[0] == 5000 && rows[31] == 5031 && rows[32] == 6000)
        #expect(throws: ImportError.self) {
            try rows.withUnsafeMutableBufferPointer { try tensors["blk.0.ffn_down.weight"]!.readRows(31..<33, into: $0) }
        }
    }

    @Test func unsupportedTensorTypeIsNamedWithItsTensor() throws {
        let path = directory.file("q5_0.gguf")
        try FileContents.write(TinyLlamaGGUF.build(types: ["blk.0.ffn_gate.weight": (6, [UInt8](repeating: 0, count: 32 * 22))]), to: path)
        #expect(throws: ImportError.unsupportedTensorType(file: path, tensor: "blk.0.ffn_gate.weight", type: "Q5_0")) {
            try ModelImporter.importWeights(at: path)
        }
    }

    @Test func missingTensorIsNamed() throws {
        let path = directory.file("missing.gguf")
        try FileContents.write(TinyLlamaGGUF.build(omitting: ["blk.0.ffn_up.weight"]), to: path)
        #expect(throws: ImportError.missingTensor(file: path, tensor: "blk.0.ffn_up.weight")) {
            try ModelImporter.importWeights(at: path)
        }
    }

    @Test func fileWithoutOutputHeadIsTied() throws {
        let path = directory.file("tied.gguf")
        try FileContents.write(TinyLlamaGGUF.build(), to: path)
        let weights = try ModelImporter.importWeights(at: path)
        #expect(weights.config.tiedEmbeddings)
        #expect(!weights.tensors.contains { $0.name == TensorName.output })
        #expect(weights.config.vocabSize == 4)
    }
}
