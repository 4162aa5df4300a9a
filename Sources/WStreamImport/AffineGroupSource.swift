/// How a quantized source stores a tensor, read as affine groups: each run of `groupSize` elements along a row is
/// `scale · code + bias` with `code` in `0 ..< 2^codeBits`.
///
/// MLX's groups are this scheme outright; GGUF's block types map onto it exactly (Q4_0: `scale d, bias −8d`;
/// Q8_0 and IQ4_NL: 8-bit codes `q + 128`, `scale d, bias −128d`; K-quants: one group per sub-block).
public struct AffineGroupScheme: Sendable, Equatable, CustomStringConvertible {
    /// Bits of one code, 2…8.
    public let codeBits: Int
    /// Elements per group along a row.
    public let groupSize: Int
    /// The source's own name for its scheme, for provenance: `MLX q4 g64`, `Q4_0`, `Q4_K`.
    public let label: String
    /// True when the source stores affine groups as its own format (MLX, whose scheme `.wst` files share); false when
    /// another format's blocks are mapped onto them (GGUF).
    public let isNative: Bool

    public init(codeBits: Int, groupSize: Int, label: String, isNative: Bool) {
        self.codeBits = codeBits
        self.groupSize = groupSize
        self.label = label
        self.isNative = isNative
    }

    public var description: String { label }
}

/// A tensor source that can hand out its stored codes and group parameters instead of float values, so a packer
/// can carry them over without rounding a second time.
///
/// Contract: for every element, float32 `scale · code + bias` (the product rounded, then the sum) equals what
/// `readRows` gives (as a value: +0 and −0 may differ).
public protocol AffineGroupSource: TensorSource {
    /// The source's affine groups, or nil when it stores plain floats.
    var affineGroups: AffineGroupScheme? { get }

    /// Reads the codes and group parameters of rows `rows`.
    /// - Parameters:
    ///   - rows: the rows, as `readRows` numbers them.
    ///   - codes: `rows.count · cols` codes, one per byte, row-major.
    ///   - scales: `rows.count · cols / groupSize` float32 scales, row-major.
    ///   - biases: as many float32 biases.
    /// - Throws: `ImportError.invalidRowRange` for rows the tensor does not have or destinations too small,
    ///   `.unsupported` when the tensor has no affine groups.
    func readAffineRows(
        _ rows: Range<Int>, codes: UnsafeMutableBufferPointer<UInt8>, scales: UnsafeMutableBufferPointer<Float>,
        biases: UnsafeMutableBufferPointer<Float>) throws
}
