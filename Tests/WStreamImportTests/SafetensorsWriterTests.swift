import Testing
import TestSupport
import WStreamImport

@Suite struct SafetensorsWriterTests {
    let directory = TemporaryDirectory("wstream-safetensors")

    @Test func bfloat16RoundsToNearestEven() {
        #expect(SafetensorsWriter.bfloat16Bits(1.0) == 0x3F80)
        #expect(SafetensorsWriter.bfloat16Bits(-2.0) == 0xC000)
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: ties go to the even mantissa (1.0).
        #expect(SafetensorsWriter.bfloat16Bits(1 + 0x1p-8) == 0x3F80)
        #expect(SafetensorsWriter.bfloat16Bits(1 + 3 * 0x1p-8) == 0x3F82)
        #expect(SafetensorsWriter.bfloat16Bits(.nan) & 0x7FC0 == 0x7FC0)
    }

    @Test func writtenHeaderDeclaresEachTensorInOrder() throws {
        let path = directory.file("t.safetensors")
        let writer = try SafetensorsWriter(path: path, tensors: [
            .init(name: "a", dtype: .f32, shape: [2]), .init(name: "b\"q", dtype: .bf16, shape: [1, 3]),
        ])
        try [Float(1.5), -2].withUnsafeBufferPointer { try writer.append($0) }
        try [Float(1), 2, 3].withUnsafeBufferPointer { try writer.append($0) }
        try writer.finish()
        let bytes = try FileContents.read(path)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(headerLength % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.contains(#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#))
        #expect(header.contains(#""b\"q":{"dtype":"BF16","shape":[1, 3],"data_offsets":[8,14]}"#))
        #expect(bytes.count == 8 + headerLength + 14)
        #expect(Array(bytes[(8 + headerLength + 8)...]) == [0x80, 0x3F, 0x00, 0x40, 0x40, 0x40])
    }

    @Test func overrunAndShortWritesAreReported() throws {
        let writer = try SafetensorsWriter(path: directory.file("short.safetensors"), tensors: [
            .init(name: "a", dtype: .f32, shape: [2]),
        ])
        #expect(throws: ImportError.self) { try [Float](repeating: 0, count: 3).withUnsafeBufferPointer { try writer.append($0) } }
        try [Float(1)].withUnsafeBufferPointer { try writer.append($0) }
        #expect(throws: ImportError.self) { try writer.finish() }
    }
}
