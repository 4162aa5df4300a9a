import WStreamImport
import WStreamQuant

/// Encodes row blocks of a tensor from the source's own affine groups (MLX groups, GGUF blocks), so that
/// an already-quantized source is not rounded a second time.
///
/// Each group's float32 scale and bias are converted to fp16. When both convert exactly (MLX's bfloat16 inside
/// fp16's normal range, Q4_0's `d` and `−8d`, …) the group is stored as it is and decodes to the source's values
/// exactly. When they do not (Q4_K's products `d·sc` need up to 17 bits; a bfloat16 beyond fp16's range or among
/// its subnormals), the group is stored with the rounded values only if that is at least as close to the source's
/// values as re-quantizing the group from them; otherwise (or when a rounded value is not finite) the group is
/// re-quantized. Nothing is rounded silently: the counts go into the tensor's provenance and the pack summary.
enum CarriedGroups {
    /// The `.wst` code width that holds `scheme`'s codes for a tensor whose target is `bits`, or nil when the scheme
    /// cannot be carried: codes wider than the target, or a group size the file's kernels do not take.
    static func width(for scheme: AffineGroupScheme, targetBits bits: Int) -> Int? {
        guard bits == 4 || bits == 8, scheme.codeBits <= bits, PackOptions.supportedGroupSizes.contains(scheme.groupSize) else {
            return nil
        }
        // A narrower source stays narrow: widening its codes would add bytes and no accuracy.
        return scheme.codeBits <= 4 ? 4 : 8
    }

    /// One encoded block: the file's codes, then scales followed by biases (fp16 bytes), and how its groups went.
    struct Block {
        var codes: [UInt8]
        var scalesAndBiases: [UInt8]
        var counts: CarriedGroupCounts
    }

    /// Encodes rows `rows` of `source` as one block of `layout`.
    /// - Parameters:
    ///   - values: the same rows dequantized (`source.readRows`), the values every group must reproduce.
    ///   - layout: the file's layout: the carried width and the source's group size.
    ///   - method: how re-quantized groups are chosen.
    /// - Throws: the source's read errors; `QuantError` (rows and columns of the matrix) when a group that must be
    ///   re-quantized holds values fp16 cannot store.
    static func encode(
        rows: Range<Int>, of source: any AffineGroupSource, values: UnsafeBufferPointer<Float>, layout: QuantizedLayout,
        method: QuantizationMethod
    ) throws -> Block {
        let cols = layout.cols
        let groupSize = layout.groupSize
        let groupsPerRow = layout.groupsPerRow
        let groupCount = rows.count * groupsPerRow
        var sourceCodes = [UInt8](repeating: 0, count: rows.count * cols)
        var sourceScales = [Float](repeating: 0, count: groupCount)
        var sourceBiases = [Float](repeating: 0, count: groupCount)
        try sourceCodes.withUnsafeMutableBufferPointer { codes in
            try sourceScales.withUnsafeMutableBufferPointer { scales in
                try sourceBiases.withUnsafeMutableBufferPointer { try source.readAffineRows(rows, codes: codes, scales: scales, biases: $0) }
            }
        }
        var parameters = [Float16](repeating: 0, count: 2 * groupCount)
        var counts = CarriedGroupCounts()
        counts.groups = groupCount
        for group in 0..<groupCount {
            let row = group / groupsPerRow
            let columns = (row * cols + group % groupsPerRow * groupSize)..<(row * cols + (group % groupsPerRow + 1) * groupSize)
            let (scale, bias) = (sourceScales[group], sourceBiases[group])
            var (scale16, bias16) = (Float16(scale), Float16(bias))
            if Float(scale16) != scale || Float(bias16) != bias {
                let first = columns.lowerBound
                let rounded = scale16.isFinite && bias16.isFinite
                    ? squaredError(values, columns: columns, scale: Float(scale16), bias: Float(bias16)) { sourceCodes[first + $0] }
                    : .infinity
                let requantized = try requantize(values, columns: columns, layout: layout, method: method, row: rows.lowerBound + row)
                if rounded <= requantized.error {
                    counts.rounded += 1
                } else {
                    counts.requantized += 1
                    for (offset, code) in requantized.codes.enumerated() { sourceCodes[columns.lowerBound + offset] = code }
                    (scale16, bias16) = (requantized.scale, requantized.bias)
                }
            }
            parameters[group] = scale16
            parameters[groupCount + group] = bias16
        }
        return Block(codes: pack(sourceCodes, bits: layout.bits), scalesAndBiases: parameters.withUnsafeBytes { Array($0) }, counts: counts)
    }

    /// Σ (scale·code + bias − value)² over `columns`, in float32 as the kernels compute it; `code(i)` is the code of
    /// the group's `i`-th element.
    private static func squaredError(
        _ values: UnsafeBufferPointer<Float>, columns: Range<Int>, scale: Float, bias: Float, code: (Int) -> UInt8
    ) -> Float {
        var sum: Float = 0
        for (offset, index) in columns.enumerated() {
            let difference = scale * Float(code(offset)) + bias - values[index]
            sum += difference * difference
        }
        return sum
    }

    /// The group at `columns` (of a block whose rows are `layout.cols` wide) quantized afresh from its values,
    /// with its squared error.
    private static func requantize(
        _ values: UnsafeBufferPointer<Float>, columns: Range<Int>, layout: QuantizedLayout, method: QuantizationMethod,
        row: Int
    ) throws -> (codes: [UInt8], scale: Float16, bias: Float16, error: Float) {
        let parts: (codes: [UInt8], scalesAndBiases: [UInt8])
        let firstColumn = columns.lowerBound % layout.cols
        do {
            parts = try Quantizer.quantizeBlock(
                UnsafeBufferPointer(rebasing: values[columns]), rowCount: 1,
                layout: QuantizedLayout(bits: layout.bits, groupSize: layout.groupSize, rows: 1, cols: layout.groupSize),
                firstRow: row, method: method)
        } catch let QuantError.nonFinite(_, column, value) {
            throw QuantError.nonFinite(row: row, column: firstColumn + column, value: value)
        } catch let QuantError.outOfFloat16Range(_, column, value) {
            throw QuantError.outOfFloat16Range(row: row, column: firstColumn + column, value: value)
        }
        let codes = unpack(parts.codes, bits: layout.bits, count: layout.groupSize)
        let (scale, bias) = parts.scalesAndBiases.withUnsafeBytes {
            ($0.loadUnaligned(fromByteOffset: 0, as: Float16.self), $0.loadUnaligned(fromByteOffset: 2, as: Float16.self))
        }
        let error = squaredError(values, columns: columns, scale: Float(scale), bias: Float(bias)) { codes[$0] }
        return (codes, scale, bias, error)
    }

    /// One code per byte → the file's code bytes (4 bits: the low nibble holds the even column).
    private static func pack(_ codes: [UInt8], bits: Int) -> [UInt8] {
        guard bits == 4 else { return codes }
        return (0..<(codes.count / 2)).map { codes[2 * $0] | codes[2 * $0 + 1] << 4 }
    }

    /// The file's code bytes → one code per byte.
    private static func unpack(_ bytes: [UInt8], bits: Int, count: Int) -> [UInt8] {
        guard bits == 4 else { return bytes }
        return (0..<count).map { $0 & 1 == 0 ? bytes[$0 / 2] & 0x0F : bytes[$0 / 2] >> 4 }
    }
}
