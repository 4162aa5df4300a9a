/// A read-only view of a decoded weight matrix in memory the caller owns (a pool slot).
///
/// q4/q8 matrices are blocks of `rowsPerBlock` rows in `QuantizedLayout`'s byte layout (the last block may
/// be shorter); f16/f32 are plain row-major little-endian values. The memory must stay valid and unchanged
/// while kernels read it, which is why the type is `@unchecked Sendable`: it is a pointer plus a shape.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Sendable { case f32, f16, q8, q4 }
    public let storage: Storage
    public let rows: Int
    public let cols: Int
    /// Affine group size (q4/q8).
    public let groupSize: Int
    /// Rows per stored block (see `QuantizedLayout`); f32/f16 are plain row-major and ignore it.
    public let rowsPerBlock: Int
    public let base: UnsafeRawPointer

    public init(storage: Storage, rows: Int, cols: Int, groupSize: Int, rowsPerBlock: Int, base: UnsafeRawPointer) {
        self.storage = storage
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.rowsPerBlock = rowsPerBlock
        self.base = base
    }

    /// The quantised layout of a q4/q8 matrix (nil for f16/f32).
    public var quantizedLayout: QuantizedLayout? {
        switch storage {
        case .q4: return QuantizedLayout(bits: 4, groupSize: groupSize, rows: rows, cols: cols)
        case .q8: return QuantizedLayout(bits: 8, groupSize: groupSize, rows: rows, cols: cols)
        case .f16, .f32: return nil
        }
    }

    /// Bytes the matrix occupies at `base`.
    public var byteCount: Int {
        switch storage {
        case .f32: return rows * cols * 4
        case .f16: return rows * cols * 2
        case .q4, .q8: return quantizedLayout!.byteCount
        }
    }
}

/// Where one row's codes, scales and biases lie in a q4/q8 matrix.
struct QuantizedRow {
    let codes: UnsafeRawPointer
    /// fp16 per group.
    let scales: UnsafeRawPointer
    /// fp16 per group.
    let biases: UnsafeRawPointer

    /// The row `n` rows further on in the same block.
    @inline(__always)
    func advanced(by n: Int, _ addressing: QuantizedAddressing) -> QuantizedRow {
        QuantizedRow(codes: codes + n &* addressing.codeBytesPerRow, scales: scales + n &* addressing.parameterBytesPerRow,
                     biases: biases + n &* addressing.parameterBytesPerRow)
    }

    /// `Σ_g bias_g · sums_g` over `groups` groups.
    @inline(__always)
    func biasTerm(_ sums: UnsafePointer<Float>, groups: Int) -> Float {
        var acc = SIMD16<Float>()
        var g = 0
        while g + 16 <= groups {
            acc = acc.addingProduct(floats(biases.loadUnaligned(fromByteOffset: 2 * g, as: SIMD16<Float16>.self)), load16(sums + g))
            g += 16
        }
        var total = horizontalSum(acc)
        while g < groups {
            total = total.addingProduct(loadFloat16(biases, g), sums[g])
            g += 1
        }
        return total
    }
}

/// Row addressing for a q4/q8 matrix, computed once per kernel call.
///
/// The layout's derived sizes are kept as stored values and the address arithmetic wraps (`&*`): every
/// offset lies inside the matrix the caller vouched for, and recomputing divisions or checking overflow
/// for each row cost a tenth of decode speed under `-O`, which checks overflow (the build does not use `-Ounchecked`).
struct QuantizedAddressing {
    let layout: QuantizedLayout
    let rowsPerBlock: Int
    let blockBytes: Int
    let base: UnsafeRawPointer
    let codeBytesPerRow: Int
    /// Bytes of one row's scales (or biases): 2 per group.
    let parameterBytesPerRow: Int

    init(_ w: WeightMatrix) {
        guard let layout = w.quantizedLayout else { preconditionFailure("QuantizedAddressing needs a q4/q8 matrix") }
        precondition(w.groupSize > 0 && w.groupSize % 32 == 0, "group size \(w.groupSize) is not a positive multiple of 32")
        precondition(w.rowsPerBlock > 0, "rowsPerBlock must be positive")
        self.layout = layout
        self.rowsPerBlock = w.rowsPerBlock
        self.blockBytes = layout.blockByteCount(rows: w.rowsPerBlock)
        self.base = w.base
        codeBytesPerRow = layout.codeBytesPerRow
        parameterBytesPerRow = 2 * layout.groupsPerRow
    }

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

    /// The first row of the block after the one holding `row`.
    @inline(__always)
    func nextBlockStart(after row: Int) -> Int { (row / rowsPerBlock &+ 1) &* rowsPerBlock }

    /// The addresses of row `row`: its block is full-sized unless it is the last one.
    @inline(__always)
    func row(_ row: Int) -> QuantizedRow {
        let block = row / rowsPerBlock
        let firstRow = block &* rowsPerBlock
        let inBlock = row &- firstRow
        let blockRows = min(rowsPerBlock, layout.rows &- firstRow)
        let blockBase = base + block &* blockBytes
        let scales = blockBase + blockRows &* codeBytesPerRow
        return QuantizedRow(
            codes: blockBase + inBlock &* codeBytesPerRow,
            scales: scales + inBlock &* parameterBytesPerRow,
            biases: scales + (blockRows &+ inBlock) &* parameterBytesPerRow)
    }
}
