import Testing
import WStreamFormat
import WStreamImport
import WStreamPack
import WStreamQuant

/// A packed `.wst` file opened for checking: its tensors decoded as bytes or quantised rows.
struct PackedFile {
    let reader: ContainerReader
    private let decoder = FrameDecoder()

    init(_ path: String) throws { reader = try ContainerReader(path: path) }

    var tensors: [TensorEntry] { reader.metadata.tensors }
    var regionNames: [String] { reader.metadata.regions.map(\.name) }

    /// The entry called `name`; a test failure when it is missing.
    func tensor(_ name: String) throws -> TensorEntry {
        try #require(reader.tensor(named: name), "\(name) is not in \(reader.path)")
    }

    /// The name of the region `tensor` is stored in.
    func regionName(of tensor: TensorEntry) -> String { reader.metadata.regions[tensor.region].name }

    /// All decoded bytes of `tensor`.
    func bytes(of tensor: TensorEntry) throws -> [UInt8] {
        try reader.decodedBytes(of: tensor, using: decoder)
    }

    /// Decoded bytes of row block `block` alone.
    func bytes(of tensor: TensorEntry, block: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: tensor.decodedByteCount(ofBlock: block))
        try bytes.withUnsafeMutableBytes { _ = try reader.readBlock(tensor, block: block, into: $0, using: decoder) }
        return bytes
    }

    /// A q4/q8 tensor decoded whole, for reading back rows and group parameters.
    func quantised(_ tensor: TensorEntry) throws -> QuantisedTensor {
        QuantisedTensor(entry: tensor, bytes: try bytes(of: tensor))
    }
}

/// The decoded bytes of one quantised tensor: per row block, codes, then its group parameters (docs/FORMAT.md §5).
struct QuantisedTensor {
    let entry: TensorEntry
    let bytes: [UInt8]

    var layout: QuantizedLayout {
        QuantizedLayout(bits: entry.storage.codeBits!, groupSize: entry.groupSize, rows: entry.rows, cols: entry.cols,
                        parameters: entry.storage.isRowScaled ? .rowScaled : .float16)
    }

    /// Row `row` dequantised through the kernels' own addressing (`MatrixKernels.dequantizeRow`).
    func row(_ row: Int) -> [Float] {
        var values = [Float](repeating: .nan, count: entry.cols)
        bytes.withUnsafeBytes { raw in
            let matrix = WeightMatrix(
                storage: WeightMatrix.Storage(codeBits: entry.storage.codeBits!)!, rows: entry.rows, cols: entry.cols, groupSize: entry.groupSize,
                rowsPerBlock: entry.rowsPerBlock, parameters: layout.parameters, base: raw.baseAddress!)
            values.withUnsafeMutableBufferPointer { MatrixKernels.dequantizeRow(matrix, row: row, into: $0.baseAddress!) }
        }
        return values
    }

    /// The scale and bias of group `group` of row `row`, read from where the format puts them.
    func parameters(row: Int, group: Int) -> (scale: Float, bias: Float) {
        let block = row / entry.rowsPerBlock
        let rowInBlock = row % entry.rowsPerBlock
        let blockRows = entry.rowCount(ofBlock: block)
        let groups = layout.groupsPerRow
        let scales = entry.decodedOffset(ofBlock: block) + blockRows * layout.codeBytesPerRow
        if entry.storage.isRowScaled {
            // units [r][groups] u8, offsets [r][groups] i8, rowScales [r] f32; bias = scale · z · 2^(bits − 7).
            return bytes.withUnsafeBytes { raw in
                let rowScale = raw.loadUnaligned(fromByteOffset: scales + 2 * blockRows * groups + 4 * rowInBlock, as: Float.self)
                let scale = rowScale * Float(raw[scales + rowInBlock * groups + group])
                let offset = Float(Int8(bitPattern: raw[scales + (blockRows + rowInBlock) * groups + group]))
                return (scale, scale * offset * Float(sign: .plus, exponent: layout.bits - 7, significand: 1))
            }
        }
        let scaleOffset = scales + 2 * (rowInBlock * groups + group)
        let biasOffset = scales + 2 * ((blockRows + rowInBlock) * groups + group)
        return bytes.withUnsafeBytes { raw in
            (Float(raw.loadUnaligned(fromByteOffset: scaleOffset, as: Float16.self)),
             Float(raw.loadUnaligned(fromByteOffset: biasOffset, as: Float16.self)))
        }
    }
}

/// Packs `source` (a Hugging Face directory or a GGUF file) into `destination`.
@discardableResult
func pack(_ source: String, to destination: String, bits: Int, groupSize: Int = 32, threads: Int = 2,
          method: QuantizationMethod = .leastSquares, headBits: Int? = nil, parameters: GroupParameters = .rowScaled) throws -> PackSummary {
    var options = packOptions(bits: bits, groupSize: groupSize, threads: threads, method: method, headBits: headBits)
    options.groupParameters = parameters
    return try Packer.pack(try ModelImporter.importModel(at: source), to: destination, options: options)
}

func packOptions(bits: Int, groupSize: Int = 32, threads: Int = 2, method: QuantizationMethod = .leastSquares, headBits: Int? = nil) -> PackOptions {
    var options = PackOptions()
    options.bits = bits
    options.groupSize = groupSize
    options.threads = threads
    options.method = method
    options.headBits = headBits
    return options
}

/// Rows `rows` of `tensor` (all of them when nil) as float32, row-major.
func sourceValues(_ tensor: any TensorSource, rows: Range<Int>? = nil) throws -> [Float] {
    let rows = rows ?? 0..<(tensor.shape.count == 2 ? tensor.shape[0] : 1)
    var values = [Float](repeating: .nan, count: rows.count * tensor.shape.last!)
    try values.withUnsafeMutableBufferPointer { try tensor.readRows(rows, into: $0) }
    return values
}

/// The little-endian bytes of `values`: what an f32 tensor decodes to.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}
