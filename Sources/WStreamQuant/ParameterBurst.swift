import Synchronization

/// Reads the scales and biases of the rows a kernel is about to stream, 16 rows at a time.
///
/// In a stored block the codes of all rows come first, then all scales, then all biases, so streaming a row
/// reads three places about a megabyte apart: 1 KB of codes and 128 bytes each of scales and biases for a
/// 2048-column row. Read that way, a single input reached 14 GB/s on one thread; reading the next 16 rows'
/// scales and biases in one burst first (2 KB each, all loads independent) leaves the prefetchers a
/// single stream of codes and reached 18 GB/s (150 MB q4 matrix in 1 MiB blocks, same run). Swift has no
/// prefetch instruction, so the bursts are plain loads whose combined value is stored once per call,
/// which keeps them from being optimised away.
enum ParameterBurst {
    static let rows = 16
    private static let sink = Atomic<UInt32>(0)

    /// The OR of the scales and biases of `row` and the `count − 1` rows after it (all in one block).
    @inline(__always)
    static func read(_ row: QuantizedRow, rows count: Int, _ addressing: QuantizedAddressing) -> SIMD16<UInt32> {
        let bytes = count &* addressing.parameterBytesPerRow
        var value = SIMD16<UInt32>()
        var offset = 0
        while offset + 64 <= bytes {
            value |= row.scales.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt32>.self)
            value |= row.biases.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt32>.self)
            offset += 64
        }
        return value
    }

    /// Keeps the loads that produced `value` alive.
    static func keep(_ value: SIMD16<UInt32>) {
        sink.store(value.wrappedSum(), ordering: .relaxed)
    }
}
