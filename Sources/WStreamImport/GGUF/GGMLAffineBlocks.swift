/// GGUF's quantized block types read as affine groups (see `AffineGroupScheme`): per block, one code per element and
/// a float32 scale and bias per group, such that float32 `scale · code + bias` is the value gguf-py's reference
/// dequantizer (which ggml matches bit for bit) computes.
///
/// Why that holds exactly: every scale is an fp16 `d` (11 significant bits) times a small integer, and a scale times
/// a code needs at most 24 significant bits (Q6_K: 11 + 7 + 6), so `scale · code` and every bias are exact in
/// float32. The one rounding left is the final sum, which the reference makes too (K-quants: `d·sc·q − dmin·m`),
/// or there is none (`d·q` for Q4_0, Q8_0, Q3_K, Q6_K, IQ4_NL, shifted by an exact bias). Only the sign of a zero
/// may differ.
///
/// Byte layouts (ggml's `block_*` structs; `QK_K` = 256):
/// - Q4_0 (18 B / 32): fp16 `d`, 16 bytes of nibbles, low nibbles elements 0–15; value `d·(q − 8)`.
/// - Q4_1 (20 B / 32): fp16 `d`, fp16 `m`, nibbles as Q4_0; value `d·q + m`.
/// - Q8_0 (34 B / 32): fp16 `d`, 32 int8; value `d·q`.
/// - IQ4_NL (18 B / 32): fp16 `d`, nibbles as Q4_0 indexing `kvalues`; value `d·kvalues[q]`.
/// - Q2_K (84 B / 256): 16 bytes scale (low nibble) and min (high nibble) per 16, 64 bytes of 2-bit codes, fp16 `d`,
///   fp16 `dmin`; value `d·sc·q − dmin·m`.
/// - Q3_K (110 B / 256): 32 bytes high-bit mask, 64 bytes of 2-bit codes, 12 bytes of 6-bit scales (offset 32),
///   fp16 `d`; value `d·(sc − 32)·(q − 4·(1 − hbit))`.
/// - Q4_K (144 B / 256): fp16 `d`, fp16 `dmin`, 12 bytes of 6-bit scales and mins per 32, 128 bytes of nibbles
///   (32 bytes per pair of sub-blocks: low nibbles the first, high nibbles the second); value `d·sc·q − dmin·m`.
/// - Q5_K (176 B / 256): as Q4_K with 32 bytes of fifth bits (bit `j` of byte `e` for element `e` of sub-block `j`)
///   before the nibbles.
/// - Q6_K (210 B / 256): 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8 scales per 16, fp16 `d`;
///   value `d·sc·(q − 32)`.
enum GGMLAffineBlocks {
    /// IQ4_NL's non-linear code book.
    static let iq4Values: [Int8] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]

    /// The code width and group size `storage` maps onto, or nil for float types.
    static func scheme(of storage: StorageType) -> (codeBits: Int, groupSize: Int)? {
        switch storage {
        case .f32, .f16, .bf16, .u32: return nil
        case .q4_0, .q4_1, .q4_K: return (4, 32)
        case .q8_0, .iq4_nl: return (8, 32)
        case .q5_K: return (5, 32)
        case .q2_K: return (2, 16)
        case .q3_K: return (3, 16)
        case .q6_K: return (6, 16)
        }
    }

    /// Decodes the block at `block` into `storage.blockElements` codes and one scale and bias per group.
    /// - Precondition: `storage` is a quantized type (`scheme(of:)` is not nil).
    static func decode(
        _ storage: StorageType, block: UnsafeRawPointer, codes: UnsafeMutablePointer<UInt8>,
        scales: UnsafeMutablePointer<Float>, biases: UnsafeMutablePointer<Float>
    ) {
        switch storage {
        case .q4_0:
            let d = half(block, 0)
            nibbles(block + 2, into: codes) { $0 }
            (scales[0], biases[0]) = (d, -8 * d)
        case .q4_1:
            nibbles(block + 4, into: codes) { $0 }
            (scales[0], biases[0]) = (half(block, 0), half(block, 2))
        case .q8_0:
            let d = half(block, 0)
            for e in 0..<32 { codes[e] = UInt8(Int(block.load(fromByteOffset: 2 + e, as: Int8.self)) + 128) }
            (scales[0], biases[0]) = (d, -128 * d)
        case .iq4_nl:
            let d = half(block, 0)
            nibbles(block + 2, into: codes) { UInt8(Int(iq4Values[Int($0)]) + 128) }
            (scales[0], biases[0]) = (d, -128 * d)
        case .q2_K: decodeQ2K(block, codes: codes, scales: scales, biases: biases)
        case .q3_K: decodeQ3K(block, codes: codes, scales: scales, biases: biases)
        case .q4_K, .q5_K: decodeQ45K(block, fifthBits: storage == .q5_K, codes: codes, scales: scales, biases: biases)
        case .q6_K: decodeQ6K(block, codes: codes, scales: scales, biases: biases)
        case .f32, .f16, .bf16, .u32: preconditionFailure("\(storage.rawValue) has no affine groups")
        }
    }

    /// 32 codes from 16 bytes: low nibbles are elements 0–15, high nibbles 16–31.
    @inline(__always)
    private static func nibbles(_ bytes: UnsafeRawPointer, into codes: UnsafeMutablePointer<UInt8>, _ map: (UInt8) -> UInt8) {
        for j in 0..<16 {
            let byte = bytes.load(fromByteOffset: j, as: UInt8.self)
            codes[j] = map(byte & 0x0F)
            codes[j + 16] = map(byte >> 4)
        }
    }

    private static func decodeQ2K(
        _ block: UnsafeRawPointer, codes: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
        biases: UnsafeMutablePointer<Float>
    ) {
        let (d, dmin) = (half(block, 80), half(block, 82))
        for j in 0..<16 {
            let packed = block.load(fromByteOffset: j, as: UInt8.self)
            scales[j] = d * Float(packed & 0x0F)
            biases[j] = -(dmin * Float(packed >> 4))
        }
        // Element h·128 + k·32 + i is bits 2k…2k+1 of byte h·32 + i.
        for p in 0..<256 {
            let (h, k, i) = (p / 128, p % 128 / 32, p % 32)
            codes[p] = block.load(fromByteOffset: 16 + h * 32 + i, as: UInt8.self) >> (2 * k) & 3
        }
    }

    private static func decodeQ3K(
        _ block: UnsafeRawPointer, codes: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
        biases: UnsafeMutablePointer<Float>
    ) {
        let d = half(block, 108)
        let scaleBytes = block + 96
        for j in 0..<16 {
            let low = j < 8 ? scaleBytes.load(fromByteOffset: j, as: UInt8.self) & 0x0F
                : scaleBytes.load(fromByteOffset: j - 8, as: UInt8.self) >> 4
            let high = scaleBytes.load(fromByteOffset: 8 + j % 4, as: UInt8.self) >> (2 * (j / 4)) & 3
            let scale = d * Float(Int(low | high << 4) - 32)
            scales[j] = scale
            biases[j] = -4 * scale
        }
        // q − 4·(1 − hbit) shifted by 4: the code is the 2-bit value plus 4 when the mask bit is set.
        for p in 0..<256 {
            let (h, k, i) = (p / 128, p % 128 / 32, p % 32)
            let low = block.load(fromByteOffset: 32 + h * 32 + i, as: UInt8.self) >> (2 * k) & 3
            let mask = block.load(fromByteOffset: i, as: UInt8.self) >> (p / 32) & 1
            codes[p] = low | mask << 2
        }
    }

    private static func decodeQ45K(
        _ block: UnsafeRawPointer, fifthBits: Bool, codes: UnsafeMutablePointer<UInt8>,
        scales: UnsafeMutablePointer<Float>, biases: UnsafeMutablePointer<Float>
    ) {
        let (d, dmin) = (half(block, 0), half(block, 2))
        let packed = block + 4
        func byte(_ index: Int) -> UInt8 { packed.load(fromByteOffset: index, as: UInt8.self) }
        for j in 0..<8 {
            let scale = j < 4 ? byte(j) & 0x3F : (byte(j + 4) & 0x0F) | (byte(j - 4) >> 2 & 0x30)
            let minimum = j < 4 ? byte(j + 4) & 0x3F : (byte(j + 4) >> 4) | (byte(j) >> 2 & 0x30)
            scales[j] = d * Float(scale)
            biases[j] = -(dmin * Float(minimum))
        }
        let high = block + 16
        let low = block + (fifthBits ? 48 : 16)
        for j in 0..<8 {
            for e in 0..<32 {
                var code = low.load(fromByteOffset: j / 2 * 32 + e, as: UInt8.self) >> (4 * (j % 2)) & 0x0F
                if fifthBits { code |= (high.load(fromByteOffset: e, as: UInt8.self) >> j & 1) << 4 }
                codes[j * 32 + e] = code
            }
        }
    }

    private static func decodeQ6K(
        _ block: UnsafeRawPointer, codes: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>,
        biases: UnsafeMutablePointer<Float>
    ) {
        let d = half(block, 208)
        for j in 0..<16 {
            let scale = d * Float(block.load(fromByteOffset: 192 + j, as: Int8.self))
            scales[j] = scale
            biases[j] = -32 * scale
        }
        // Element h·128 + k·32 + i: low nibble from byte h·64 + (k mod 2)·32 + i (high half when k ≥ 2),
        // two high bits from bits 2k…2k+1 of byte 128 + h·32 + i.
        for p in 0..<256 {
            let (h, k, i) = (p / 128, p % 128 / 32, p % 32)
            let low = block.load(fromByteOffset: h * 64 + (k % 2) * 32 + i, as: UInt8.self) >> (4 * (k / 2)) & 0x0F
            let high = block.load(fromByteOffset: 128 + h * 32 + i, as: UInt8.self) >> (2 * k) & 3
            codes[p] = low | high << 4
        }
    }

    @inline(__always)
    private static func half(_ block: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}
