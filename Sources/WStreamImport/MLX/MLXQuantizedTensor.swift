/// A linear or embedding weight that MLX stores quantized: `P.weight` (uint32 words of packed codes),
/// `P.scales` and `P.biases` (one per group, usually bfloat16).
///
/// Each row of `P.weight` is a little-endian bit stream: column `c` is bits `c·bits … c·bits + bits − 1`, so codes of
/// 3, 5 or 6 bits may straddle two words. Element `(r, c)` is `scales[r, c/g] · q + biases[r, c/g]`, the product
/// rounded and then the sum (MLX uses no fused multiply-add), which `readRows` reproduces in float32.
/// Group size and bits are inferred from the shapes, as mlx_lm's loader does: `g = in / scales.cols`,
/// `bits = 32 · weight.cols / in`.
struct MLXQuantizedTensor: AffineGroupSource {
    let name: String
    /// `[out, in]`: the logical shape, not the packed one.
    let shape: [Int]
    let codes: MappedTensor
    let scales: MappedTensor
    let biases: MappedTensor
    let bits: Int
    let groupSize: Int

    var sourceType: String { "MLX q\(bits) g\(groupSize)" }
    var affineGroups: AffineGroupScheme? { AffineGroupScheme(codeBits: bits, groupSize: groupSize, label: sourceType, isNative: true) }

    /// - Parameters:
    ///   - name: the canonical name.
    ///   - shape: `[out, in]` as the model's configuration implies it.
    ///   - codes: `P.weight`, uint32 `[out, in · bits / 32]`.
    ///   - scales: `P.scales`, `[out, in / g]`.
    ///   - biases: `P.biases`, the same shape.
    ///   - declared: what config.json says about this module, if anything.
    ///   - sourceName: `P.weight`'s name in the file, for messages.
    /// - Throws: `ImportError.malformed` naming the file and tensor when the shapes do not describe whole groups of
    ///   2, 3, 4, 5, 6 or 8 bits, or disagree with config.json.
    init(
        name: String, shape: [Int], codes: MappedTensor, scales: MappedTensor, biases: MappedTensor,
        declared: MLXQuantizationConfig.Entry?, sourceName: String
    ) throws {
        let file = codes.file.path
        func fail(_ detail: String) -> ImportError { .malformed(file: file, detail: "tensor '\(sourceName)': \(detail)") }
        guard shape.count == 2, codes.shape.count == 2, codes.storage == .u32 else {
            throw fail("quantized weights are uint32 matrices, found \(codes.storage.rawValue) \(codes.shape)")
        }
        let (rows, columns) = (shape[0], shape[1])
        guard codes.shape[0] == rows else { throw fail("\(codes.shape[0]) rows of codes, the model has \(rows)") }
        guard scales.shape == biases.shape else {
            throw fail("scales \(scales.shape) and biases \(biases.shape) differ in shape")
        }
        guard [StorageType.bf16, .f16, .f32].contains(scales.storage), [StorageType.bf16, .f16, .f32].contains(biases.storage) else {
            throw fail("scales and biases are \(scales.storage.rawValue) and \(biases.storage.rawValue), not float")
        }
        guard scales.shape.count == 2, scales.shape[0] == rows, scales.shape[1] > 0, columns % scales.shape[1] == 0 else {
            throw fail("scales of shape \(scales.shape) do not split \(rows) rows of \(columns) columns into whole groups")
        }
        let groupSize = columns / scales.shape[1]
        guard (codes.shape[1] * 32) % columns == 0, [2, 3, 4, 5, 6, 8].contains(codes.shape[1] * 32 / columns) else {
            throw fail("\(codes.shape[1]) words of codes per row do not hold \(columns) codes of 2, 3, 4, 5, 6 or 8 bits")
        }
        let bits = codes.shape[1] * 32 / columns
        switch declared {
        case .quantized(let parameters) where parameters.bits != bits || parameters.groupSize != groupSize:
            throw fail("config.json declares \(parameters.bits) bits in groups of \(parameters.groupSize), the tensors hold \(bits) bits in groups of \(groupSize)")
        case .unquantized:
            throw fail("config.json marks the module unquantized (false), but it has scales")
        default: break
        }
        self.name = name
        self.shape = shape
        self.codes = codes
        self.scales = scales
        self.biases = biases
        self.bits = bits
        self.groupSize = groupSize
    }

    func readRows(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let cols = shape[1]
        guard destination.count >= rows.count * cols else {
            throw ImportError.invalidRowRange(tensor: name, rows: rows, rowCount: shape[0], destinationCount: destination.count)
        }
        let groups = rows.count * (cols / groupSize)
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rows.count * cols) { codeBuffer in
            try withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * groups) { parameters in
                let scaleBuffer = UnsafeMutableBufferPointer(rebasing: parameters[0..<groups])
                let biasBuffer = UnsafeMutableBufferPointer(rebasing: parameters[groups...])
                try readAffineRows(rows, codes: codeBuffer, scales: scaleBuffer, biases: biasBuffer)
                for index in 0..<(rows.count * cols) {
                    let group = index / groupSize
                    destination[index] = scaleBuffer[group] * Float(codeBuffer[index]) + biasBuffer[group]
                }
            }
        }
    }

    func readAffineRows(
        _ rows: Range<Int>, codes destination: UnsafeMutableBufferPointer<UInt8>, scales scaleDestination: UnsafeMutableBufferPointer<Float>,
        biases biasDestination: UnsafeMutableBufferPointer<Float>
    ) throws {
        guard !rows.isEmpty else { return }
        let cols = shape[1]
        let groupsPerRow = cols / groupSize
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0], destination.count >= rows.count * cols,
            scaleDestination.count >= rows.count * groupsPerRow, biasDestination.count >= rows.count * groupsPerRow
        else {
            throw ImportError.invalidRowRange(tensor: name, rows: rows, rowCount: shape[0], destinationCount: destination.count)
        }
        try scales.readRows(rows, into: scaleDestination)
        try biases.readRows(rows, into: biasDestination)
        let words = codes.shape[1]
        let mask = UInt64(1) << bits - 1
        for (index, row) in rows.enumerated() {
            let rowStart = codes.file.base + codes.offset + row * words * 4
            let output = destination.baseAddress! + index * cols
            for column in 0..<cols {
                let position = column * bits
                let word = position / 32
                let shift = position % 32
                var value = UInt64(UInt32(littleEndian: rowStart.loadUnaligned(fromByteOffset: 4 * word, as: UInt32.self))) >> shift
                if shift + bits > 32 {
                    value |= UInt64(UInt32(littleEndian: rowStart.loadUnaligned(fromByteOffset: 4 * word + 4, as: UInt32.self))) << (32 - shift)
                }
                output[column] = UInt8(value & mask)
            }
        }
        codes.file.releasePages(offset: codes.offset + rows.lowerBound * words * 4, count: rows.count * words * 4)
    }
}
