import Synchronization

/// Products of q4/q8 rows with int8 activations (`QuantizedActivations`) in integer arithmetic:
/// `y = Σ_g s_g · Σ_chunks d · (q_w · q_x) + Σ_g b_g · Σ x̂_g`.
///
/// Each family keeps the integer products of a vector load lane by lane, converts them to float once per
/// load, multiplies by the lanes' `s · d` and accumulates in float; the lanes are summed once per row.
/// `ReferenceKernels.integerMatmul` is the scalar definition they are tested against.
protocol IntegerKernel {
    /// Chunks of 32 columns one vector load of `bits`-bit codes covers (the span of the 4-bit
    /// activation order).
    static func chunksPerLoad(bits: Int) -> Int
    /// Whether the kernel handles the layout's group size; the portable kernel handles every one.
    static func supports(_ layout: QuantizedLayout) -> Bool
    /// Rows `rows` times every input into `y[t · yStride + r]`.
    static func rows(_ rows: Range<Int>, _ addressing: QuantizedAddressing, _ inputs: QuantizedActivations,
                     _ y: UnsafeMutablePointer<Float>, yStride: Int)
}

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
    static func read(_ row: QuantizedRow, rows count: Int, _ layout: QuantizedLayout) -> SIMD16<UInt32> {
        let bytes = count * 2 * layout.groupsPerRow
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

extension QuantizedAddressing {
    /// Calls `body(first, count, row)` for each run of consecutive rows of `rows` inside one stored block,
    /// with `row` the addresses of the run's first row (the others follow by `advanced(by:)`).
    @inline(__always)
    func blockRuns(_ rows: Range<Int>, _ body: (Int, Int, QuantizedRow) -> Void) {
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, nextBlockStart(after: start))
            body(start, end - start, row(start))
            start = end
        }
    }
}

/// Rows × inputs of a kernel's register tile, as types so that each shape compiles to its own loop with
/// its accumulators in registers.
protocol TileShape {
    static var rows: Int { get }
    static var inputs: Int { get }
}

enum TwoRowsFourInputs: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 4 }
}

enum OneRowFourInputs: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 4 }
}

enum TwoRowsOneInput: TileShape {
    static var rows: Int { 2 }
    static var inputs: Int { 1 }
}

enum OneRowOneInput: TileShape {
    static var rows: Int { 1 }
    static var inputs: Int { 1 }
}
