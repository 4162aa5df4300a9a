/// Element encodings wstream converts to float32 on read: the float types of safetensors and GGUF,
/// and GGUF's block quantizations (the K-quants and the rest are read through `GGMLAffineBlocks`).
enum StorageType: String, Sendable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    /// Unsigned 32-bit integers: in safetensors, MLX's packed codes (read through `MLXQuantizedTensor`).
    case u32 = "U32"
    /// Blocks of 32: fp16 scale `d`, then 32 int8 values; value = q·d.
    case q8_0 = "Q8_0"
    /// Blocks of 32: fp16 scale `d`, then 16 bytes; value = (nibble − 8)·d, low nibbles are elements 0…15.
    case q4_0 = "Q4_0"
    case q4_1 = "Q4_1"
    case iq4_nl = "IQ4_NL"
    case q2_K = "Q2_K"
    case q3_K = "Q3_K"
    case q4_K = "Q4_K"
    case q5_K = "Q5_K"
    case q6_K = "Q6_K"

    /// Elements per storage block (1 for plain float types).
    var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16, .u32: return 1
        case .q8_0, .q4_0, .q4_1, .iq4_nl: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per storage block.
    var blockBytes: Int {
        switch self {
        case .f32, .u32: return 4
        case .f16, .bf16: return 2
        case .q8_0: return 34
        case .q4_0, .iq4_nl: return 18
        case .q4_1: return 20
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    /// Bytes one row of `cols` elements occupies, or nil when `cols` is not a whole number of blocks or overflows.
    func rowBytes(cols: Int) -> Int? {
        guard cols >= 0, cols % blockElements == 0 else { return nil }
        let (bytes, overflow) = (cols / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// Converts one row of `cols` elements starting at `source` (any alignment) to float32.
    func decodeRow(_ source: UnsafeRawPointer, cols: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: cols * 4)
        case .f16:
            for index in 0..<cols {
                let bits = source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)
                destination[index] = Float(Float16(bitPattern: UInt16(littleEndian: bits)))
            }
        case .bf16:
            for index in 0..<cols {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
                destination[index] = Float(bitPattern: UInt32(bits) << 16)
            }
        case .u32:
            for index in 0..<cols {
                destination[index] = Float(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
            }
        case .q8_0:
            for block in 0..<(cols / 32) {
                let start = source + block * 34
                let scale = Self.halfToFloat(start.loadUnaligned(as: UInt16.self))
                let output = destination + block * 32
                for index in 0..<32 {
                    output[index] = Float(Int8(bitPattern: start.load(fromByteOffset: 2 + index, as: UInt8.self))) * scale
                }
            }
        case .q4_0:
            for block in 0..<(cols / 32) {
                let start = source + block * 18
                let scale = Self.halfToFloat(start.loadUnaligned(as: UInt16.self))
                let output = destination + block * 32
                for index in 0..<16 {
                    let byte = start.load(fromByteOffset: 2 + index, as: UInt8.self)
                    output[index] = Float(Int(byte & 0x0F) - 8) * scale
                    output[index + 16] = Float(Int(byte >> 4) - 8) * scale
                }
            }
        case .q4_1, .iq4_nl, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K:
            decodeAffineRow(source, cols: cols, into: destination)
        }
    }

    /// `scale · code + bias` of each element, block by block, through the block's affine groups.
    private func decodeAffineRow(_ source: UnsafeRawPointer, cols: Int, into destination: UnsafeMutablePointer<Float>) {
        let elements = blockElements
        let groupSize = GGMLAffineBlocks.scheme(of: self)!.groupSize
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: elements) { codes in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * (elements / groupSize)) { parameters in
                let scales = parameters.baseAddress!
                let biases = scales + elements / groupSize
                for block in 0..<(cols / elements) {
                    GGMLAffineBlocks.decode(
                        self, block: source + block * blockBytes, codes: codes.baseAddress!, scales: scales, biases: biases)
                    let output = destination + block * elements
                    for index in 0..<elements {
                        let group = index / groupSize
                        output[index] = scales[group] * Float(codes[index]) + biases[group]
                    }
                }
            }
        }
    }

    private static func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: UInt16(littleEndian: bits))) }
}
