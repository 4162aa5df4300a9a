/// The byte shuffle applied to a frame's decoded bytes before compression.
///
/// With element size `k` and `n` bytes, the first `m = n / k · k` bytes are `n / k` elements; the
/// shuffled form holds byte 0 of every element, then byte 1 of every element, …, then byte `k-1`;
/// the `n mod k` tail bytes that make no whole element follow unchanged. Grouping the high bytes of
/// fp16/fp32 values together is what lets zstd find their redundancy.
enum ByteShuffle {
    /// Writes the shuffled form of `source` into `destination` (same length, no overlap).
    @_optimize(speed)
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
    @_optimize(speed)
    static func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize k: Int) {
        precondition(destination.count >= source.count && k >= 1)
        let elements = source.count / k
        for byte in 0..<k {
            let plane = byte * elements
            for element in 0..<elements {
                destination[element * k + byte] = source[plane + element]
            }
        }
        copyTail(source, into: destination, from: elements * k)
    }

    private static func copyTail(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, from start: Int) {
        for index in start..<source.count { destination[index] = source[index] }
    }
}
