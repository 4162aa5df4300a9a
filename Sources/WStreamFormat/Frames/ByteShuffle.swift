/// The byte shuffle applied to a frame's decoded bytes before compression.
///
/// With element size `k` and `n` bytes, the first `m = n / k · k` bytes are `n / k` elements; the
/// shuffled form holds byte 0 of every element, then byte 1 of every element, …, then byte `k-1`;
/// the `n mod k` tail bytes that make no whole element follow unchanged. Grouping the high bytes of
/// fp16/fp32 values together is what lets zstd find their redundancy.
enum ByteShuffle {
    /// Writes the shuffled form of `source` into `destination` (same length, no overlap).
    static func shuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize k: Int) {
        precondition(destination.count >= source.count && k >= 1)
        let elements = source.count / k
        for byte in 0..<k {
            let plane = byte * elements
            for element in 0..<elements {
                destination[plane + element] = source[element * k + byte]
            }
        }
        copyTail(source, into: destination, from: elements * k)
    }

    /// Inverse of `shuffle`: writes the original bytes of `source` into `destination`.
    ///
    /// Element sizes 2 and 4 (fp16 and fp32) are on the decode path of every frame: they gather
    /// their planes into one whole-element store each instead of `k` strided byte stores.
    static func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize k: Int) {
        precondition(destination.count >= source.count && k >= 1)
        let elements = source.count / k
        if elements > 0, let from = source.baseAddress, let to = destination.baseAddress {
            let planes = from.assumingMemoryBound(to: UInt8.self)
            switch k {
            case 2:
                // 16 elements per step with wrapping arithmetic: overflow checks would stop LLVM from vectorising
                // (this runs on every streamed fp16 frame, every token).
                var element = 0
                while element &+ 16 <= elements {
                    let low = SIMD16<UInt16>(truncatingIfNeeded: UnsafeRawPointer(planes + element).loadUnaligned(as: SIMD16<UInt8>.self))
                    let high = SIMD16<UInt16>(truncatingIfNeeded: UnsafeRawPointer(planes + (elements &+ element)).loadUnaligned(as: SIMD16<UInt8>.self))
                    to.storeBytes(of: low | high &<< 8, toByteOffset: element &* 2, as: SIMD16<UInt16>.self)
                    element &+= 16
                }
                while element < elements {
                    let value = UInt16(planes[element]) | UInt16(planes[elements &+ element]) << 8
                    to.storeBytes(of: value.littleEndian, toByteOffset: element &* 2, as: UInt16.self)
                    element &+= 1
                }
            case 4:
                for element in 0..<elements {
                    let value = UInt32(planes[element]) | UInt32(planes[elements + element]) << 8
                        | UInt32(planes[2 * elements + element]) << 16 | UInt32(planes[3 * elements + element]) << 24
                    to.storeBytes(of: value.littleEndian, toByteOffset: element * 4, as: UInt32.self)
                }
            default:
                let bytes = to.assumingMemoryBound(to: UInt8.self)
                for byte in 0..<k {
                    let plane = byte * elements
                    for element in 0..<elements { bytes[element * k + byte] = planes[plane + element] }
                }
            }
        }
        copyTail(source, into: destination, from: elements * k)
    }

    private static func copyTail(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, from start: Int) {
        for index in start..<source.count { destination[index] = source[index] }
    }
}
