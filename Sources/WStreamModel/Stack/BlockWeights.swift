import WStreamFormat
import WStreamQuant
import WStreamRuntime

/// Typed access to the tensors of one decoded unit: a block's (by part), or the head's (by name).
struct BlockWeights {
    let unit: DecodedRegion
    /// The block the unit holds (`TensorName.block(layer, part)`).
    let layer: Int
    let file: String
    /// Whether the unit's matrices that `RowInterleaving` applies to have been interleaved (resident units only).
    let interleaved: Bool

    /// The weight matrix `part` of this block, ready for the kernels.
    func matrix(_ part: BlockTensor) throws -> WeightMatrix {
        try unit.matrix(TensorName.block(layer, part), file: file, interleaved: interleaved)
    }

    /// The float32 vector `part` of this block (norm weights, convolution taps).
    func vector(_ part: BlockTensor) throws -> UnsafePointer<Float> {
        try unit.vector(TensorName.block(layer, part), file: file)
    }
}

extension DecodedRegion {
    /// The matrix `name` (or the rows of it this unit holds: see `rows(of:)`), ready for the kernels.
    /// - Parameter interleaved: whether the unit's matrices that `RowInterleaving` applies to were interleaved.
    func matrix(_ name: String, file: String, interleaved: Bool) throws -> WeightMatrix {
        guard let (placement, bytes) = tensor(name) else { throw ModelError.missingTensor(file: file, tensor: name) }
        let matrix = WeightMatrix(entry: placement.tensor, base: bytes, rows: placement.rows.count)
        return interleaved && RowInterleaving.applies(to: matrix, kernels: .native) ? matrix.with(interleaved: true) : matrix
    }

    /// The matrix rows of tensor `name` this unit holds; nil when it holds none.
    func rows(of name: String) -> Range<Int>? {
        tensor(name)?.placement.rows
    }

    /// The float32 vector `name` (vectors are always float32: checked when the model is opened).
    func vector(_ name: String, file: String) throws -> UnsafePointer<Float> {
        guard let (_, bytes) = tensor(name) else { throw ModelError.missingTensor(file: file, tensor: name) }
        return bytes.assumingMemoryBound(to: Float.self)
    }
}

extension WeightMatrix {
    /// A view of a decoded tensor in the form its entry records.
    init(entry: TensorEntry, base: UnsafeRawPointer) {
        let storage: Storage = switch entry.storage {
        case .f32: .f32
        case .f16: .f16
        case .q8, .q8r: .q8
        case .q6, .q6r: .q6
        case .q4, .q4r: .q4
        }
        self.init(storage: storage, rows: entry.rows, cols: entry.cols, groupSize: entry.groupSize, rowsPerBlock: entry.rowsPerBlock,
                  parameters: entry.storage.isRowScaled ? .rowScaled : .float16, base: base)
    }
}
