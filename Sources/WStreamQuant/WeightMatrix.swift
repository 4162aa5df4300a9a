/// A read-only view of a decoded weight matrix in memory the caller owns (a pool slot).
///
/// q4/q6/q8 matrices are blocks of `rowsPerBlock` rows in `QuantizedLayout`'s byte layout (the last block may
/// be shorter); f16/f32 are plain row-major little-endian values. The memory must stay valid and unchanged
/// while kernels read it, which is why the type is `@unchecked Sendable`: it is a pointer plus a shape.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Sendable { case f32, f16, q8, q6, q4 }
    public let storage: Storage
    public let rows: Int
    public let cols: Int
    /// Affine group size (q4/q6/q8).
    public let groupSize: Int
    /// Rows per stored block (see `QuantizedLayout`); f32/f16 are plain row-major and ignore it.
    public let rowsPerBlock: Int
    /// How q4/q6/q8 groups store their scale and bias.
    public let parameters: GroupParameters
    public let base: UnsafeRawPointer
    /// Whether the rows lie in tiles of 16 (`RowInterleaving`), which only the AVX-512 VNNI kernels read.
    public let interleaved: Bool

    public init(storage: Storage, rows: Int, cols: Int, groupSize: Int, rowsPerBlock: Int, parameters: GroupParameters = .float16,
                base: UnsafeRawPointer, interleaved: Bool = false) {
        self.storage = storage
        self.interleaved = interleaved
        self.parameters = parameters
        self.rows = rows
        self.cols = cols
        self.groupSize = groupSize
        self.rowsPerBlock = rowsPerBlock
        self.base = base
    }

    /// The same matrix, said to be interleaved or not (the bytes are not touched: see `RowInterleaving.interleave`).
    public func with(interleaved: Bool) -> WeightMatrix {
        WeightMatrix(storage: storage, rows: rows, cols: cols, groupSize: groupSize, rowsPerBlock: rowsPerBlock, parameters: parameters,
                     base: base, interleaved: interleaved)
    }

    /// The quantised layout of a q4/q6/q8 matrix (nil for f16/f32).
    public var quantizedLayout: QuantizedLayout? {
        storage.codeBits.map { QuantizedLayout(bits: $0, groupSize: groupSize, rows: rows, cols: cols, parameters: parameters) }
    }

    /// Bytes the matrix occupies at `base`.
    public var byteCount: Int {
        switch storage {
        case .f32: return rows * cols * 4
        case .f16: return rows * cols * 2
        case .q4, .q6, .q8: return quantizedLayout!.byteCount
        }
    }
}

extension WeightMatrix.Storage {
    /// Bits per code of a quantised storage (nil for f16/f32).
    public var codeBits: Int? {
        switch self {
        case .q4: 4
        case .q6: 6
        case .q8: 8
        case .f16, .f32: nil
        }
    }

    /// The quantised storage of `bits`-bit codes (4, 6 or 8).
    public init?(codeBits bits: Int) {
        switch bits {
        case 4: self = .q4
        case 6: self = .q6
        case 8: self = .q8
        default: return nil
        }
    }
}

/// Where one row's codes and group parameters lie in a q4/q6/q8 matrix, and how to read the parameters.
struct QuantizedRow {
    let codes: UnsafeRawPointer
    /// Per group: fp16 (`.float16`) or UInt8 multiples of `rowScale` (`.rowScaled`).
    let scales: UnsafeRawPointer
    /// Per group: fp16 biases (`.float16`) or Int8 offsets (`.rowScaled`).
    let biases: UnsafeRawPointer
    /// `.rowScaled` only: where the row's float32 scale `D` lies (`scales` otherwise, never read).
    let rowScaleAddress: UnsafeRawPointer
    let rowScaled: Bool
    /// `.rowScaled`: `D`, and `D · 2^(bits − 7)`, the bias of one offset step per unit of scale; 0 otherwise.
    let rowScale: Float
    let offsetScale: Float

    @inline(__always)
    init(codes: UnsafeRawPointer, scales: UnsafeRawPointer, biases: UnsafeRawPointer, rowScaleAddress: UnsafeRawPointer,
         rowScaled: Bool, offsetUnit: Float) {
        self.codes = codes
        self.scales = scales
        self.biases = biases
        self.rowScaleAddress = rowScaleAddress
        self.rowScaled = rowScaled
        rowScale = rowScaled ? rowScaleAddress.loadUnaligned(as: Float.self) : 0
        offsetScale = rowScale * offsetUnit
    }

    /// The row `n` rows further on in the same block.
    @inline(__always)
    func advanced(by n: Int, _ addressing: QuantizedAddressing) -> QuantizedRow {
        QuantizedRow(codes: codes + n &* addressing.codeBytesPerRow, scales: scales + n &* addressing.parameterBytesPerRow,
                     biases: biases + n &* addressing.parameterBytesPerRow,
                     rowScaleAddress: rowScaled ? rowScaleAddress + 4 &* n : rowScaleAddress,
                     rowScaled: rowScaled, offsetUnit: addressing.offsetUnit)
    }

    /// The scale of group `g`.
    @inline(__always)
    func scale(_ g: Int) -> Float {
        rowScaled ? rowScale * Float(scales.load(fromByteOffset: g, as: UInt8.self)) : loadFloat16(scales, g)
    }

    /// The bias of group `g`.
    @inline(__always)
    func bias(_ g: Int) -> Float {
        guard rowScaled else { return loadFloat16(biases, g) }
        return offsetScale * Float(scales.load(fromByteOffset: g, as: UInt8.self)) * Float(biases.load(fromByteOffset: g, as: Int8.self))
    }

    /// The scales of groups `g ..< g + 16` (all in the row).
    @inline(__always)
    func scales16(_ g: Int) -> SIMD16<Float> {
        guard rowScaled else { return floats(scales.loadUnaligned(fromByteOffset: 2 * g, as: SIMD16<Float16>.self)) }
        return rowScale * floats(scales.loadUnaligned(fromByteOffset: g, as: SIMD16<UInt8>.self))
    }

    /// The biases of groups `g ..< g + 16` (all in the row).
    @inline(__always)
    func biases16(_ g: Int) -> SIMD16<Float> {
        guard rowScaled else { return floats(biases.loadUnaligned(fromByteOffset: 2 * g, as: SIMD16<Float16>.self)) }
        let units = floats(scales.loadUnaligned(fromByteOffset: g, as: SIMD16<UInt8>.self))
        return offsetScale * units * floats(int32s(int16s(biases.loadUnaligned(fromByteOffset: g, as: SIMD16<Int8>.self))))
    }

    /// `Σ_g bias_g · sums_g` over `groups` groups.
    @inline(__always)
    func biasTerm(_ sums: UnsafePointer<Float>, groups: Int) -> Float {
        var acc = SIMD16<Float>()
        var g = 0
        while g + 16 <= groups {
            acc = acc.addingProduct(biases16(g), load16(sums + g))
            g += 16
        }
        var total = horizontalSum(acc)
        while g < groups {
            total = total.addingProduct(bias(g), sums[g])
            g += 1
        }
        return total
    }
}

/// Row addressing for a q4/q6/q8 matrix, computed once per kernel call.
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
    /// Bytes of one row's scales (or biases, or offsets).
    let parameterBytesPerRow: Int
    let rowScaled: Bool
    /// `GroupParameters.offsetUnit(bits:)`.
    let offsetUnit: Float
    /// Rows `0 ..< tiledRows` lie in tiles of 16 (`RowInterleaving`); the addresses `row(_:)` gives for them are
    /// their tile's when the row is a tile's first, and mean nothing otherwise.
    let tiledRows: Int

    init(_ w: WeightMatrix) {
        guard let layout = w.quantizedLayout else { preconditionFailure("QuantizedAddressing needs a q4/q6/q8 matrix") }
        precondition(w.groupSize > 0 && w.groupSize % 32 == 0, "group size \(w.groupSize) is not a positive multiple of 32")
        precondition(w.rowsPerBlock > 0, "rowsPerBlock must be positive")
        self.layout = layout
        self.rowsPerBlock = w.rowsPerBlock
        self.blockBytes = layout.blockByteCount(rows: w.rowsPerBlock)
        self.base = w.base
        codeBytesPerRow = layout.codeBytesPerRow
        parameterBytesPerRow = layout.parameterBytesPerRow
        rowScaled = layout.parameters == .rowScaled
        offsetUnit = GroupParameters.offsetUnit(bits: layout.bits)
        tiledRows = RowInterleaving.tiledRows(w)
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
        let scalesOfRow: UnsafeRawPointer = scales + inBlock &* parameterBytesPerRow
        let biasesOfRow: UnsafeRawPointer = scales + (blockRows &+ inBlock) &* parameterBytesPerRow
        // Row scales follow the block's scales and biases (`.rowScaled` only).
        let rowScaleOffset: Int = 2 &* blockRows &* parameterBytesPerRow &+ 4 &* inBlock
        let rowScaleAddress: UnsafeRawPointer = rowScaled ? scales + rowScaleOffset : scalesOfRow
        return QuantizedRow(codes: blockBase + inBlock &* codeBytesPerRow, scales: scalesOfRow, biases: biasesOfRow,
                            rowScaleAddress: rowScaleAddress, rowScaled: rowScaled, offsetUnit: offsetUnit)
    }
}
