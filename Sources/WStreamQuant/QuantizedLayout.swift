/// Byte layout of one row block of a quantised matrix.
///
/// A row of `cols` values is padded with zeros to `paddedCols` (a multiple of `groupSize`) and split into
/// `groupsPerRow` groups; each group stores `w ≈ scale · q + bias` with `q` in `0 ..< 2^bits`.
/// A block of `r` rows is laid out as `codes [r][codeBytesPerRow]` (4-bit: two codes per byte, low nibble
/// first; 6-bit: see `SixBitCodes`), then the group parameters, by `parameters`:
/// - `.float16`: `scales [r][groupsPerRow]` fp16, then `biases [r][groupsPerRow]` fp16;
/// - `.rowScaled`: `scales [r][groupsPerRow]` UInt8, then `offsets [r][groupsPerRow]` Int8, then
///   `rowScales [r]` float32 (see `GroupParameters`).
///
/// A whole matrix is its blocks of `rowsPerBlock` rows one after another; only the last may be shorter.
public struct QuantizedLayout: Sendable, Equatable {
    public let bits: Int
    public let groupSize: Int
    public let rows: Int
    public let cols: Int
    public let parameters: GroupParameters

    public init(bits: Int, groupSize: Int, rows: Int, cols: Int, parameters: GroupParameters = .float16) {
        self.bits = bits
        self.groupSize = groupSize
        self.rows = rows
        self.cols = cols
        self.parameters = parameters
    }

    /// The same layout for `rows` rows.
    func withRows(_ rows: Int) -> QuantizedLayout {
        QuantizedLayout(bits: bits, groupSize: groupSize, rows: rows, cols: cols, parameters: parameters)
    }

    public var paddedCols: Int { (cols + groupSize - 1) / groupSize * groupSize }
    public var groupsPerRow: Int { paddedCols / groupSize }
    public var codeBytesPerRow: Int { bits == 6 ? SixBitCodes.bytesPerRow(chunks: paddedCols / 32) : paddedCols * bits / 8 }
    /// The largest code, `2^bits − 1`.
    public var maxCode: Int { (1 << bits) - 1 }
    /// Bytes of one row's scales (or of its biases or offsets).
    public var parameterBytesPerRow: Int { groupsPerRow * parameters.bytesPerGroupParameter }
    /// Bytes of one row's group parameters: scales, biases or offsets, and a row scale where there is one.
    public var allParameterBytesPerRow: Int { 2 * parameterBytesPerRow + parameters.bytesPerRow }
    /// Bytes of a block of `rowCount` rows.
    public func blockByteCount(rows rowCount: Int) -> Int { rowCount * (codeBytesPerRow + allParameterBytesPerRow) }
    /// Bytes of the whole matrix, whatever its `rowsPerBlock` (a block's size is linear in its rows).
    public var byteCount: Int { blockByteCount(rows: rows) }

    /// The code of `column` in the row whose codes start at `codes`.
    @inline(__always)
    func code(_ codes: UnsafeRawPointer, column: Int) -> UInt8 {
        switch bits {
        case 8: return codes.load(fromByteOffset: column, as: UInt8.self)
        case 6: return SixBitCodes.code(codes, column: column, chunks: paddedCols / 32)
        default: return (codes.load(fromByteOffset: column / 2, as: UInt8.self) >> (4 * UInt8(column & 1))) & 0x0F
        }
    }
}
