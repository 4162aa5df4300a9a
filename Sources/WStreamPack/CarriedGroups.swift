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
    /// cannot be carried: codes wider than the target, or a group size the file's kernels do not take. Carried
    /// codes are stored 4 or 8 bits wide; a 6-bit target carries only 4-bit sources.
    static func width(for scheme: AffineGroupScheme, targetBits bits: Int) -> Int? {
        guard [4, 6, 8].contains(bits), scheme.codeBits <= bits, PackOptions.supportedGroupSizes.contains(scheme.groupSize) else {
            return nil
        }
        // A narrower source stays narrow: widening its codes would add bytes and no accuracy.
        if scheme.codeBits <= 4 { return 4 }
        return bits == 8 ? 8 : nil
    }

    /// One encoded block: the file's codes, then scales followed by biases (fp16 bytes), and how its groups went.
    struct Block {
        var codes: [UInt8]
        var scalesAndBiases: [UInt8]
        var counts: CarriedGroupCounts
    }

    /// Rows of a source as it stores them: codes, group parameters, and the values they decode to.
    struct SourceRows {
        /// The first row's index in the matrix.
        let firstRow: Int
        let cols: Int
        let groupSize: Int
        let codes: [UInt8]
        let scales: [Float]
        let biases: [Float]
        /// `scale · code + bias` in float32: by `AffineGroupSource`'s contract, the source's own values.
        let values: [Float]

        /// Reads rows `rows` of `source` in one piece (one release of the source pages they map).
        /// - Throws: the source's read errors.
        init(_ rows: Range<Int>, of source: any AffineGroupSource, groupSize: Int) throws {
            let cols = source.shape[1]
            let groupCount = rows.count * cols / groupSize
            var codes = [UInt8](repeating: 0, count: rows.count * cols)
            var scales = [Float](repeating: 0, count: groupCount)
            var biases = [Float](repeating: 0, count: groupCount)
            try codes.withUnsafeMutableBufferPointer { codes in
                try scales.withUnsafeMutableBufferPointer { scales in
                    try biases.withUnsafeMutableBufferPointer { try source.readAffineRows(rows, codes: codes, scales: scales, biases: $0) }
                }
            }
            values = codes.indices.map { scales[$0 / groupSize] * Float(codes[$0]) + biases[$0 / groupSize] }
            (firstRow, self.cols, self.groupSize, self.codes, self.scales, self.biases) = (rows.lowerBound, cols, groupSize, codes, scales, biases)
        }
    }

    /// Encodes matrix rows `rows` (which `source` holds) as one block of `layout`.
    /// - Parameters:
    ///   - layout: the file's layout: the carried width and the source's group size.
    ///   - method: how re-quantized groups are chosen.
    /// - Throws: `QuantError` (rows and columns of the matrix) when a group that must be re-quantized holds values
    ///   fp16 cannot store.
    static func encode(_ rows: Range<Int>, of source: SourceRows, layout: QuantizedLayout, method: QuantizationMethod) throws -> Block {
        let cols = layout.cols
        let groupSize = layout.groupSize
        let groupsPerRow = layout.groupsPerRow
        let groupCount = rows.count * groupsPerRow
        let start = (rows.lowerBound - source.firstRow) * cols
        var sourceCodes = Array(source.codes[start..<(start + rows.count * cols)])
        let sourceScales = Array(source.scales[(start / groupSize)..<(start / groupSize + groupCount)])
        let sourceBiases = Array(source.biases[(start / groupSize)..<(start / groupSize + groupCount)])
        return try source.values[start..<(start + rows.count * cols)].withUnsafeBufferPointer { values in
            try encode(rows, values: values, codes: &sourceCodes, scales: sourceScales, biases: sourceBiases, layout: layout, method: method)
        }
    }

    private static func encode(
        _ rows: Range<Int>, values: UnsafeBufferPointer<Float>, codes sourceCodes: inout [UInt8], scales sourceScales: [Float],
        biases sourceBiases: [Float], layout: QuantizedLayout, method: QuantizationMethod
    ) throws -> Block {
        let cols = layout.cols
        let groupSize = layout.groupSize
        let groupsPerRow = layout.groupsPerRow
        let groupCount = rows.count * groupsPerRow
        var parameters = [Float16](repeating: 0, count: 2 * groupCount)
        var counts = CarriedGroupCounts()
        counts.groups = groupCount
        for row in 0..<rows.count {
            // The row quantized afresh, computed once the first group of the row needs it.
            var fresh: FreshRow??
            for groupInRow in 0..<groupsPerRow {
                let group = row * groupsPerRow + groupInRow
                let columns = (row * cols + groupInRow * groupSize)..<(row * cols + (groupInRow + 1) * groupSize)
                let (scale, bias) = (sourceScales[group], sourceBiases[group])
                var (scale16, bias16) = (Float16(scale), Float16(bias))
                if Float(scale16) != scale || Float(bias16) != bias {
                    let first = columns.lowerBound
                    let rounded = scale16.isFinite && bias16.isFinite
                        ? squaredError(values, columns: columns, scale: Float(scale16), bias: Float(bias16)) { sourceCodes[first + $0] }
                        : .infinity
                    if fresh == nil { fresh = FreshRow(values, row: row, layout: layout, method: method, firstRow: rows.lowerBound) }
                    let requantized = try fresh!.map { $0.group(groupInRow, values: values, columns: columns) }
                        ?? requantize(values, columns: columns, layout: layout, method: method, row: rows.lowerBound + row)
                    if rounded <= requantized.error {
                        counts.rounded += 1
                    } else {
                        counts.requantized += 1
                        sourceCodes.replaceSubrange(columns, with: requantized.codes)
                        (scale16, bias16) = (requantized.scale, requantized.bias)
                    }
                }
                parameters[group] = scale16
                parameters[groupCount + group] = bias16
            }
        }
        return Block(codes: pack(sourceCodes, bits: layout.bits), scalesAndBiases: parameters.withUnsafeBytes { Array($0) }, counts: counts)
    }

    /// One row of a block quantized afresh from its values, as the alternative to carrying its groups.
    private struct FreshRow {
        let codes: [UInt8]
        let scales: [Float16]
        let biases: [Float16]

        /// Quantizes row `row` of the block whole (one call, not one per group); nil when some group of it cannot be
        /// stored (a carried group may hold values beyond fp16 that need no re-quantizing), so groups go one by one.
        init?(_ values: UnsafeBufferPointer<Float>, row: Int, layout: QuantizedLayout, method: QuantizationMethod, firstRow: Int) {
            let cols = layout.cols
            let rowLayout = QuantizedLayout(bits: layout.bits, groupSize: layout.groupSize, rows: 1, cols: cols)
            guard let parts = try? Quantizer.quantizeBlock(
                UnsafeBufferPointer(rebasing: values[(row * cols)..<((row + 1) * cols)]), rowCount: 1, layout: rowLayout,
                firstRow: firstRow + row, method: method)
            else { return nil }
            codes = unpack(parts.codes, bits: layout.bits, count: cols)
            let parameters = parts.scalesAndBiases.withUnsafeBytes { bytes in
                (0..<(bytes.count / 2)).map { bytes.loadUnaligned(fromByteOffset: 2 * $0, as: Float16.self) }
            }
            scales = Array(parameters[..<layout.groupsPerRow])
            biases = Array(parameters[layout.groupsPerRow...])
        }

        /// Group `group`'s codes and parameters with its squared error against `values[columns]`.
        func group(_ group: Int, values: UnsafeBufferPointer<Float>, columns: Range<Int>) -> (codes: ArraySlice<UInt8>, scale: Float16, bias: Float16, error: Float) {
            let groupCodes = codes[(group * columns.count)..<((group + 1) * columns.count)]
            let first = groupCodes.startIndex
            let error = squaredError(values, columns: columns, scale: Float(scales[group]), bias: Float(biases[group])) { groupCodes[first + $0] }
            return (groupCodes, scales[group], biases[group], error)
        }
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
    ) throws -> (codes: ArraySlice<UInt8>, scale: Float16, bias: Float16, error: Float) {
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
        return (codes[...], scale, bias, error)
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
